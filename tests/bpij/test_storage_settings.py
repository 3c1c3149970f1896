"""Where stored files go comes from the environment: STORAGE_BACKEND=filesystem (the
default) or s3 with django-storages' variable names; anything else stops the process at
start with what is wrong and what would be right."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from bpij.storage import default_storage_from_env
from tests.bpij.test_settings import production_env, read_settings

S3 = {
    "STORAGE_BACKEND": "s3",
    "AWS_STORAGE_BUCKET_NAME": "bpij-files",
    "AWS_S3_ENDPOINT_URL": "https://objects.example.net",
    "AWS_S3_REGION_NAME": "us-east-2",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "a-secret",
}


@pytest.mark.parametrize("env", [{}, {"STORAGE_BACKEND": ""}, {"STORAGE_BACKEND": " FileSystem "}])
def test_the_local_disk_is_the_default(env):
    assert default_storage_from_env(env) == {"BACKEND": "bpij.storage.EncryptedFileSystemStorage"}


def test_s3_takes_django_storages_names_and_keeps_objects_private():
    assert default_storage_from_env({**S3, "STORAGE_BACKEND": "S3"}) == {
        "BACKEND": "bpij.storage_s3.EncryptedS3Storage",
        "OPTIONS": {
            "bucket_name": "bpij-files",
            "endpoint_url": "https://objects.example.net",
            "region_name": "us-east-2",
            "access_key": "AKIAEXAMPLE",
            "secret_key": "a-secret",
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }


def test_s3_without_keys_leaves_credentials_to_boto3_and_an_acl_free_bucket_gets_none():
    env = {
        "STORAGE_BACKEND": "s3",
        "AWS_STORAGE_BUCKET_NAME": "bpij-files",
        "AWS_DEFAULT_ACL": "none",
        "AWS_LOCATION": "hub",
        "AWS_S3_ADDRESSING_STYLE": "path",
    }
    options = default_storage_from_env(env)["OPTIONS"]

    assert "access_key" not in options
    assert "endpoint_url" not in options
    assert options["default_acl"] is None
    assert (options["location"], options["addressing_style"]) == ("hub", "path")


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"STORAGE_BACKEND": "gcs"},
            "STORAGE_BACKEND='gcs' is not a storage backend: use 'filesystem'",
        ),
        (
            {**S3, "AWS_STORAGE_BUCKET_NAME": ""},
            "STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME",
        ),
        ({**S3, "AWS_SECRET_ACCESS_KEY": ""}, "Set both AWS_ACCESS_KEY_ID and AWS_SECRET"),
        ({**S3, "AWS_DEFAULT_ACL": "public-read"}, "AWS_DEFAULT_ACL='public-read' would let"),
    ],
)
def test_an_unknown_backend_or_an_incomplete_s3_set_up_is_refused(env, says):
    with pytest.raises(ImproperlyConfigured, match=says):
        default_storage_from_env(env)


def test_the_hub_refuses_to_start_on_an_unknown_storage_backend():
    # (The worker of tests/e2e/test_storage_s3.py reads an S3 set-up from its environment.)
    refused = read_settings(production_env(STORAGE_BACKEND="gcs"), "STORAGES")

    assert refused.returncode != 0
    assert "ImproperlyConfigured: STORAGE_BACKEND='gcs' is not a storage backend" in (
        refused.stderr
    )
