"""Encryption at rest: stored files sealed by the default storage, the keyring from the
environment, and second-factor secrets sealed in the database (docs/security.md)."""

import base64
import os
import secrets
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from allauth.mfa.utils import decrypt
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import FileField

from bpij import keys, storage
from bpij.storage import CHUNK, SEALED_CHUNK, EncryptedFileError, EncryptedStorageMixin
from reporting.models import Export, Upload
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
CSV = b"participant_id,ssn,state_code\nP-1,123-45-6789,OR\n"


def a_key(kid: str) -> tuple[str, bytes]:
    return kid, os.urandom(32)


def stored(content: bytes) -> tuple[str, Path]:
    name = default_storage.save("tests/file.csv", ContentFile(content))
    return name, Path(default_storage.path(name))


def read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 1_000_003])
def test_a_stored_file_is_ciphertext_on_disk_and_plaintext_when_opened(size):
    content = (CSV * (size // len(CSV) + 1))[:size]
    name, path = stored(content)
    on_disk = path.read_bytes()
    assert on_disk.startswith(storage.MAGIC)
    assert b"123-45-6789" not in on_disk
    assert b"participant_id" not in on_disk
    assert read(name) == content
    assert default_storage.size(name) == size


def test_an_opened_file_seeks_and_reports_its_plaintext_size_for_streaming():
    content = os.urandom(5 * CHUNK + 17)
    name, _ = stored(content)
    with default_storage.open(name) as handle:
        assert handle.size == len(content)
        handle.seek(2 * CHUNK + 5)
        assert handle.read(CHUNK) == content[2 * CHUNK + 5 : 3 * CHUNK + 5]
        assert handle.seek(0, os.SEEK_END) == len(content)
        handle.seek(0)
        assert b"".join(handle.chunks()) == content


def test_a_flipped_bit_in_the_body_fails_loudly():
    name, path = stored(os.urandom(3 * CHUNK))
    data = bytearray(path.read_bytes())
    data[-(2 * SEALED_CHUNK)] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(EncryptedFileError, match="does not authenticate"):
        read(name)


def test_a_file_cut_short_fails_when_it_is_opened():
    name, path = stored(os.urandom(3 * CHUNK + 100))
    data = path.read_bytes()
    for cut in (data[:-1], data[: -(100 + 16)], data[: -(100 + 16 + SEALED_CHUNK)]):
        path.write_bytes(cut)
        with pytest.raises(EncryptedFileError):
            default_storage.open(name)


def test_chunks_swapped_or_data_appended_fail():
    name, path = stored(os.urandom(3 * CHUNK + 100))
    data = path.read_bytes()
    header = len(data) - (3 * SEALED_CHUNK + 100 + 16)
    first = data[header : header + SEALED_CHUNK]
    second = data[header + SEALED_CHUNK : header + 2 * SEALED_CHUNK]
    path.write_bytes(data[:header] + second + first + data[header + 2 * SEALED_CHUNK :])
    with pytest.raises(EncryptedFileError):
        read(name)
    path.write_bytes(data + b"more")
    with pytest.raises(EncryptedFileError):
        read(name)


def test_a_header_naming_another_key_fails(settings):
    name, _ = stored(CSV)
    settings.ENCRYPTION_KEYS = [a_key("other")]
    with pytest.raises(keys.UnknownKey, match="not in ENCRYPTION_KEYS"):
        read(name)


def test_the_storage_opens_files_for_reading_only():
    name, _ = stored(CSV)
    with pytest.raises(ValueError, match="reading only"):
        default_storage.open(name, "wb")


def test_a_file_stored_before_encryption_reads_as_it_is_until_sealed_in_place():
    path = Path(default_storage.path("tests/legacy.csv"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(CSV)
    assert read("tests/legacy.csv") == CSV
    assert default_storage.key_id("tests/legacy.csv") is None

    assert default_storage.encrypt_in_place("tests/legacy.csv")
    assert CSV not in path.read_bytes()
    assert read("tests/legacy.csv") == CSV
    assert not default_storage.encrypt_in_place("tests/legacy.csv")


def test_rewrapping_changes_the_header_only_and_the_old_key_can_go(settings):
    old, new = a_key("k1"), a_key("k2")
    settings.ENCRYPTION_KEYS = [old]
    content = os.urandom(2 * CHUNK + 3)
    name, path = stored(content)
    body = path.read_bytes()[-(2 * SEALED_CHUNK + 3 + 16) :]

    settings.ENCRYPTION_KEYS = [new, old]
    assert default_storage.rewrap(name)
    assert not default_storage.rewrap(name)
    assert path.read_bytes().endswith(body)
    assert default_storage.key_id(name) == "k2"

    settings.ENCRYPTION_KEYS = [new]
    assert read(name) == content


def test_a_download_under_way_while_the_key_rotates_reads_to_the_end(settings):
    old, new = a_key("k1"), a_key("k2")
    settings.ENCRYPTION_KEYS = [old]
    content = os.urandom(4 * CHUNK)
    name, _ = stored(content)
    with default_storage.open(name) as handle:
        first = handle.read(CHUNK)
        settings.ENCRYPTION_KEYS = [new, old]
        assert default_storage.rewrap(name)
        assert first + handle.read() == content
    assert read(name) == content


# --- the keyring ---------------------------------------------------------------------


def test_the_keyring_lists_keys_with_the_current_one_first():
    one, two = os.urandom(32), os.urandom(32)
    value = f"k2:{base64.b64encode(two).decode()}, k1:{base64.b64encode(one).decode()}"
    assert keys.keyring_from_env(value, debug=False) == [("k2", two), ("k1", one)]


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("", "must be set when DEBUG is off"),
        ("k1:" + base64.b64encode(b"short").decode(), "exactly 32"),
        ("k1:not base64!", "exactly 32"),
        ("k 1:" + base64.b64encode(bytes(32)).decode(), "not a key id"),
        ("k1:{0},k1:{0}".format(base64.b64encode(bytes(32)).decode()), "appears twice"),
    ],
)
def test_a_missing_short_or_malformed_key_is_refused(value, complaint):
    with pytest.raises(ImproperlyConfigured, match=complaint):
        keys.keyring_from_env(value, debug=False)


def test_development_without_keys_uses_a_fixed_development_key():
    assert keys.keyring_from_env("", debug=True) == [(keys.DEV_KEY_ID, keys.DEV_KEY)]


def test_production_settings_refuse_to_start_without_encryption_keys():
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"ENCRYPTION_KEYS", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DEBUG="false", SECRET_KEY=secrets.token_urlsafe(64), PII_HASH_KEY=secrets.token_urlsafe(40)
    )
    result = subprocess.run(
        [sys.executable, "-c", "import bpij.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "ENCRYPTION_KEYS must be set when DEBUG is off" in result.stderr


# --- second-factor secrets -------------------------------------------------------------


def test_a_totp_secret_is_stored_sealed_not_as_the_base32_secret(db):
    officer = factories.StaffFactory(mfa=False)
    TOTP.activate(officer, "JBSWY3DPEHPK3PXP")
    stored_secret = Authenticator.objects.get(user=officer, type="totp").data["secret"]
    assert "JBSWY3DPEHPK3PXP" not in stored_secret
    assert stored_secret.startswith(f"{keys.current_kid()}:")
    assert decrypt(stored_secret) == "JBSWY3DPEHPK3PXP"


def test_the_data_migration_seals_secrets_stored_in_the_clear(db):
    officer = factories.StaffFactory(mfa=False)
    totp = Authenticator.objects.create(
        user=officer, type="totp", data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    codes = Authenticator.objects.create(
        user=officer, type="recovery_codes", data={"seed": "ab" * 40, "used_mask": 0}
    )
    migration = import_module("bpij.migrations.0007_crypto_files_purged_and_sealed_mfa")

    migration.seal_secrets(apps, None)
    migration.seal_secrets(apps, None)

    totp.refresh_from_db()
    codes.refresh_from_db()
    assert totp.data["secret"] != "JBSWY3DPEHPK3PXP"
    assert decrypt(totp.data["secret"]) == "JBSWY3DPEHPK3PXP"
    assert decrypt(codes.data["seed"]) == "ab" * 40
    assert codes.data["used_mask"] == 0


def test_every_file_field_stores_through_the_encrypting_storage():
    """Originals, annotated workbooks and exports alike: a FileField with a storage of
    its own would keep plaintext."""
    file_fields = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, FileField) and not isinstance(field.storage, EncryptedStorageMixin)
    ]
    assert file_fields == []
    assert isinstance(Upload._meta.get_field("file").storage, EncryptedStorageMixin)
    assert isinstance(Export._meta.get_field("file").storage, EncryptedStorageMixin)
