"""Uploaded originals are encrypted on disk and streamed back decrypted; rotate_keys moves
files, SSNs and second-factor secrets to a new key, after which the old one can go."""

import base64
import hashlib
import io
import os
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from bpij import keys
from reporting import pii
from reporting.models import ParticipantRecord, Upload
from tests.reporting.checks.cases import csv_bytes, person


@pytest.fixture(autouse=True)
def in_october_2025(time_machine):
    time_machine.move_to("2025-10-20 10:00 -0400")


def key(kid: str) -> tuple[str, bytes]:
    return kid, os.urandom(32)


def send(client, submission, content: bytes, name="people.csv"):
    payload = io.BytesIO(content)
    payload.name = name
    return client.post(
        reverse("reporting:upload", args=[submission.code]),
        {"kind": "participants", "file": payload},
    )


PEOPLE = csv_bytes([person(1, ssn="234-56-7890"), person(2, ssn="345-67-8901")])


def on_disk(upload: Upload) -> bytes:
    return Path(default_storage.path(upload.file.name)).read_bytes()


def test_an_uploaded_original_holds_no_ssn_or_header_text_on_disk(
    report, django_capture_on_commit_callbacks
):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        assert send(client, submission, PEOPLE).status_code == 302
    upload = Upload.objects.get(submission=submission)
    raw = on_disk(upload)
    for text in (b"234-56-7890", b"234567890", b"participant_id", b"ssn"):
        assert text not in raw
    # The checks read the file through the storage, decrypted.
    assert (upload.status, upload.data_rows, upload.kept_rows) == ("checked", 2, 2)


def test_the_original_downloads_streamed_and_byte_for_byte(
    report, django_capture_on_commit_callbacks
):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, PEOPLE)
    upload = Upload.objects.get(submission=submission)
    response = client.get(reverse("reporting:upload-original", args=[upload.code]))
    assert response.status_code == 200
    assert response.streaming
    assert int(response["Content-Length"]) == len(PEOPLE)
    assert b"".join(response.streaming_content) == PEOPLE


def test_a_tampered_original_is_refused_rather_than_served(
    report, django_capture_on_commit_callbacks
):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, PEOPLE)
    upload = Upload.objects.get(submission=submission)
    path = Path(default_storage.path(upload.file.name))
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    path.write_bytes(bytes(raw))
    client.raise_request_exception = True
    with pytest.raises(Exception, match="does not authenticate"):
        client.get(reverse("reporting:upload-original", args=[upload.code]))


def legacy_token(ssn: str, passphrase: str) -> str:
    """An SSN as reporting.pii encrypted it before key ids."""
    nonce = os.urandom(12)
    cipher = AESGCM(hashlib.sha256(passphrase.encode()).digest())
    return base64.b64encode(nonce + cipher.encrypt(nonce, ssn.encode(), None)).decode()


def test_ssns_carry_a_key_id_and_those_sealed_before_key_ids_still_decrypt(settings):
    token = pii.encrypt_ssn("234-56-7890")
    assert token.startswith(f"{keys.current_kid()}:")
    assert pii.decrypt_ssn(token) == "234567890"
    assert pii.decrypt_ssn(legacy_token("234567890", settings.PII_ENCRYPTION_KEY)) == "234567890"


def test_after_rotate_keys_the_old_keys_can_be_removed(
    report, django_capture_on_commit_callbacks, settings, cast
):
    # Everything so far (the cast's authenticators too) is under the key in use.
    old, new = settings.ENCRYPTION_KEYS[0], key("k2")
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, PEOPLE)
    upload = Upload.objects.get(submission=submission)
    record = ParticipantRecord.objects.get(submission=submission, participant_id="P001")
    # One SSN from before key ids, under the old passphrase.
    ParticipantRecord.objects.filter(pk=record.pk).update(
        ssn_encrypted=legacy_token("234567890", settings.PII_ENCRYPTION_KEY)
    )
    Authenticator.objects.filter(user=cast.officer).delete()
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(cast.officer, "JBSWY3DPEHPK3PXP")

    settings.ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    # The original and the annotated workbook the checks stored beside it.
    assert "Files: 2 re-wrapped" in out.getvalue()
    assert "SSNs re-encrypted: 2" in out.getvalue()
    assert "Second-factor secrets re-sealed: 3" in out.getvalue()  # the cast's staff

    again = io.StringIO()
    call_command("rotate_keys", stdout=again)
    assert "Files: 0 re-wrapped, 2 already under k2" in again.getvalue()
    assert "SSNs re-encrypted: 0" in again.getvalue()

    settings.ENCRYPTION_KEYS = [new]
    settings.PII_ENCRYPTION_KEY = ""
    with upload.file.open("rb") as handle:
        assert handle.read() == PEOPLE
    ssns = {
        r.participant_id: pii.decrypt_ssn(r.ssn_encrypted)
        for r in ParticipantRecord.objects.filter(submission=submission)
    }
    assert ssns == {"P001": "234567890", "P002": "345678901"}
    secret = Authenticator.objects.get(user=cast.officer, type="totp").data["secret"]
    assert decrypt(secret) == "JBSWY3DPEHPK3PXP"


def test_rotate_keys_encrypts_files_stored_before_encryption_in_place(
    report, django_capture_on_commit_callbacks
):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, PEOPLE)
    upload = Upload.objects.get(submission=submission)
    path = Path(default_storage.path(upload.file.name))
    path.write_bytes(PEOPLE)  # as stored before encryption at rest
    with upload.file.open("rb") as handle:
        assert handle.read() == PEOPLE

    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert "1 still plaintext" in out.getvalue()
    call_command("rotate_keys", "--encrypt-plaintext", stdout=out)
    assert "1 encrypted from plaintext" in out.getvalue()
    assert b"234-56-7890" not in path.read_bytes()
    with upload.file.open("rb") as handle:
        assert handle.read() == PEOPLE


def test_rotate_keys_rewraps_and_seals_the_objects_of_an_s3_bucket(
    s3_bucket, report, django_capture_on_commit_callbacks, settings
):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, PEOPLE)
    upload = Upload.objects.get(submission=submission)
    # The original as stored before encryption at rest; the annotated workbook sealed.
    s3_bucket.client.put_object(Bucket=s3_bucket.name, Key=upload.file.name, Body=PEOPLE)
    settings.ENCRYPTION_KEYS = [key("k2"), *settings.ENCRYPTION_KEYS]

    out = io.StringIO()
    call_command("rotate_keys", "--encrypt-plaintext", stdout=out)

    assert "Files: 1 re-wrapped, 0 already under k2, 1 encrypted from plaintext" in (out.getvalue())
    objects = s3_bucket.objects()
    assert sorted(objects) == sorted([upload.file.name, upload.annotated_file.name])
    for stored in objects.values():
        assert stored.startswith(b"BPIJENC1")
        assert b"234-56-7890" not in stored
    settings.ENCRYPTION_KEYS = settings.ENCRYPTION_KEYS[:1]
    response = client.get(reverse("reporting:upload-original", args=[upload.code]))
    assert b"".join(response.streaming_content) == PEOPLE
