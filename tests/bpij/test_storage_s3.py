"""Stored files in an S3-compatible bucket (STORAGE_BACKEND=s3), against a real S3 server
(moto's, tests/s3.py): sealed in the bucket, private, read back by ranged requests as they
are streamed, and rotated, purged and listed through the storage like files on disk."""

import os
import socket
import time

import pytest
from botocore.exceptions import ReadTimeoutError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from bpij import keys, storage
from bpij.storage import CHUNK, EncryptedFileError, default_storage_from_env
from bpij.storage_s3 import EncryptedS3Storage, ObjectReader

CSV = b"participant_id,ssn,state_code\nP-1,123-45-6789,OR\n"


def read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


@pytest.mark.parametrize("size", [0, 1, CHUNK, 3 * CHUNK + 5])
def test_a_file_in_the_bucket_is_ciphertext_and_opens_as_plaintext(s3_bucket, size):
    content = (CSV * (size // len(CSV) + 1))[:size]
    name = default_storage.save("uploads/a/people.csv", ContentFile(content))

    assert isinstance(default_storage._wrapped, EncryptedS3Storage)
    (key, stored), *others = s3_bucket.objects().items()
    assert (key, others) == (name, [])
    assert stored.startswith(storage.MAGIC)
    assert b"123-45-6789" not in stored
    assert b"participant_id" not in stored
    assert read(name) == content
    assert default_storage.size(name) == size
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=name)
    # The bytes are ciphertext whatever the name says.
    assert head["ContentType"] == "application/octet-stream"
    grants = s3_bucket.client.get_object_acl(Bucket=s3_bucket.name, Key=name)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    assert all(g["Grantee"]["Type"] == "CanonicalUser" for g in grants)


def test_a_stored_file_has_no_url(s3_bucket):
    name = default_storage.save("exports/x/report.pdf", ContentFile(b"%PDF-1.7"))

    with pytest.raises(NotImplementedError, match="no URL"):
        default_storage.url(name)


def test_a_large_file_is_read_as_it_is_streamed_never_fetched_whole(s3_bucket):
    content = os.urandom(3 * ObjectReader.MAX_WINDOW + 12_345)
    name = default_storage.save("uploads/a/big.csv", ContentFile(content))
    stored_size = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=name)["ContentLength"]
    s3_bucket.fetched.clear()

    with default_storage.open(name, "rb") as handle:
        first = handle.read(4096)
        # Opening reads the header and checks the last chunk; the first block sent
        # needs the first chunk: a few small requests, not the object.
        assert sum(s3_bucket.fetched) <= 3 * (ObjectReader.MIN_WINDOW + 1024)
        rest = b"".join(iter(lambda: handle.read(64 * 1024), b""))

    assert first + rest == content
    assert max(s3_bucket.fetched) <= ObjectReader.MAX_WINDOW
    # Read through once, in windows that grow: a handful of requests.
    assert sum(s3_bucket.fetched) < stored_size + 3 * ObjectReader.MIN_WINDOW
    assert len(s3_bucket.fetched) <= 12


def test_a_file_replaced_while_it_is_read_is_refused_not_mixed(s3_bucket):
    content = os.urandom(ObjectReader.MAX_WINDOW + 3 * CHUNK)
    name = default_storage.save("uploads/a/people.csv", ContentFile(content))
    handle = default_storage.open(name, "rb")
    handle.read(100)
    default_storage.delete(name)
    default_storage.save(name, ContentFile(b"another file"))

    with pytest.raises(OSError, match="replaced while it was read"):
        handle.read()
    handle.close()
    assert read(name) == b"another file"


def test_a_missing_file_is_file_not_found_as_on_disk(s3_bucket):
    with pytest.raises(FileNotFoundError):
        default_storage.open("uploads/a/gone.csv", "rb")


def test_a_tampered_object_is_refused(s3_bucket):
    name = default_storage.save("uploads/a/people.csv", ContentFile(CSV * 100))
    stored = s3_bucket.objects()[name]
    flipped = stored[:-40] + bytes([stored[-40] ^ 1]) + stored[-39:]
    s3_bucket.client.put_object(Bucket=s3_bucket.name, Key=name, Body=flipped)

    with pytest.raises(EncryptedFileError):
        read(name)


def test_key_rotation_rewraps_and_seals_objects_in_the_bucket(s3_bucket, settings):
    content = os.urandom(2 * CHUNK + 3)
    name = default_storage.save("uploads/a/people.csv", ContentFile(content))
    s3_bucket.client.put_object(Bucket=s3_bucket.name, Key="uploads/a/old.csv", Body=CSV)
    settings.ENCRYPTION_KEYS = [("k2", os.urandom(32)), *settings.ENCRYPTION_KEYS]

    assert default_storage.rewrap(name) is True
    assert default_storage.rewrap(name) is False
    assert default_storage.encrypt_in_place("uploads/a/old.csv") is True

    objects = s3_bucket.objects()
    assert objects["uploads/a/old.csv"].startswith(storage.MAGIC)
    assert b"123-45-6789" not in objects["uploads/a/old.csv"]
    assert default_storage.key_id(name) == default_storage.key_id("uploads/a/old.csv") == "k2"
    settings.ENCRYPTION_KEYS = settings.ENCRYPTION_KEYS[:1]  # the old key gone
    assert keys.current_kid() == "k2"
    assert read(name) == content
    assert read("uploads/a/old.csv") == CSV


def test_a_rewrap_does_not_bring_back_a_file_deleted_meanwhile(s3_bucket, settings):
    name = default_storage.save("uploads/a/people.csv", ContentFile(CSV))
    settings.ENCRYPTION_KEYS = [("k2", os.urandom(32)), *settings.ENCRYPTION_KEYS]
    default_storage.delete(name)

    with pytest.raises(FileNotFoundError):
        default_storage.rewrap(name)
    assert s3_bucket.objects() == {}


def test_listing_exists_and_delete_work_as_on_disk(s3_bucket):
    # What the backups list stored files with.
    first = default_storage.save("uploads/a/x/participants", ContentFile(CSV))
    again = default_storage.save("uploads/a/x/participants", ContentFile(CSV))
    default_storage.save("exports/e1/report.pdf", ContentFile(b"%PDF"))

    assert again != first  # a second save under the same name never overwrites
    assert default_storage.listdir("") == (["exports", "uploads"], [])
    assert sorted(default_storage.listdir("uploads/a/x")[1]) == sorted(
        n.rsplit("/", 1)[1] for n in (first, again)
    )
    assert default_storage.exists(first)
    default_storage.delete(first)
    default_storage.delete(first)  # already gone: not an error
    assert not default_storage.exists(first)


def test_a_store_that_does_not_answer_fails_fast_instead_of_hanging(s3_bucket, monkeypatch):
    # A listening socket that accepts connections and never answers: a stalled store.
    with socket.socket() as stalled:
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(16)
        monkeypatch.setattr(EncryptedS3Storage, "READ_TIMEOUT", 0.3)
        options = default_storage_from_env(
            {**s3_bucket.env, "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{stalled.getsockname()[1]}"}
        )["OPTIONS"]
        hung = EncryptedS3Storage(**options)
        started = time.monotonic()
        with pytest.raises(ReadTimeoutError):
            hung.open("uploads/a/people.csv", "rb")
        # Three attempts of 0.3 s (and standard retries' short back-off), not minutes.
        assert time.monotonic() - started < 5
