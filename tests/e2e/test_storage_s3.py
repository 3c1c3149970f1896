"""Stored files in an S3-compatible bucket, end to end: the web side and a real worker in
another process share nothing but the bucket (moto's S3 server, tests/s3.py) and the
database. A participant file uploaded through the page is checked by the worker, its
annotated workbook and an export the worker renders (a data pack) are downloaded through the
permission-checked views, streamed; the bucket holds only ciphertext and the local disk
nothing."""

import hashlib
import io
import zipfile

import pytest
from django.http import FileResponse
from django.urls import reverse

from bpij import storage
from reporting import services
from reporting.models import Export, ExportStatus, Submission, Upload
from tests import builders
from tests.e2e.conftest import wait_for
from tests.reporting.checks.cases import csv_bytes, person

pytestmark = pytest.mark.e2e

SSNS = ("234-56-7001", "234-56-7002")
PEOPLE = csv_bytes(
    [
        person(1, ssn=SSNS[0]),
        # An exit before entry: a finding, so the annotated workbook marks a cell.
        person(2, ssn=SSNS[1], exit_date="20240101"),
    ]
)


@pytest.fixture
def bucket(s3_bucket, settings, tmp_path):
    """The S3 bucket as the default storage, and an empty MEDIA_ROOT (for the worker
    too) that must stay empty."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return s3_bucket


@pytest.fixture
def worker_env(bucket):
    return bucket.env


@pytest.fixture
def reported(cast, bucket):
    """Alpha's 2025Q2 report, submitted and rolled up in-process (its files in the bucket
    too), for the export."""
    period = builders.period_of(cast.coalition_a, "2025Q2")
    version = builders.submitted_version(period, cast.admin_a, participants=12, seed=5)
    services.rollup_period(period_id=period.pk)
    return version


def streamed(response) -> bytes:
    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    return body


def test_upload_check_annotate_export_and_download_through_the_bucket(
    cast, bucket, reported, client_for, celery_worker_process, settings
):
    _worker, log = celery_worker_process

    # Upload through the page; the worker reads the file from the bucket and checks it.
    client = client_for(cast.reporter_a)
    client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
    submission = Submission.objects.get(period__quarter="2025Q3", coalition=cast.coalition_a)
    payload = io.BytesIO(PEOPLE)
    payload.name = "people.csv"
    response = client.post(
        reverse("reporting:upload", args=[submission.code]),
        {"kind": "participants", "file": payload},
    )
    assert response.status_code == 302
    # The worker stores the annotated workbook right after the check's commit.
    wait_for(
        lambda: Upload.objects.filter(submission=submission).exclude(annotated_file="").exists(),
        log=log,
        what="the check",
    )
    upload = Upload.objects.get(submission=submission)
    assert (upload.status, upload.data_rows, upload.error_count) == ("checked", 2, 1)

    # The original and the annotated workbook, streamed from the bucket.
    original = client.get(reverse("reporting:upload-original", args=[upload.code]))
    assert streamed(original) == PEOPLE
    annotated = streamed(client.get(reverse("reporting:upload-annotated", args=[upload.code])))
    with zipfile.ZipFile(io.BytesIO(annotated)) as workbook:
        sheets = b"".join(workbook.read(n) for n in workbook.namelist())
    assert b"7001" in sheets  # the last four, masked
    assert SSNS[0].encode() not in sheets

    # An export the worker renders into the bucket, downloaded through the page (the
    # data pack: the PDF goes through the same storage calls, and WeasyPrint's first
    # render in a fresh worker takes seconds).
    client = client_for(cast.officer)
    response = client.post(
        reverse("reporting:export-request", args=[cast.coalition_a.code]),
        {"kind": "data_pack_csv", "quarter": "2025Q2"},
    )
    assert response.status_code == 302
    export = Export.objects.get()
    wait_for(
        lambda: Export.objects.filter(
            pk=export.pk, status__in=(ExportStatus.READY, ExportStatus.FAILED)
        ).exists(),
        timeout=60,
        log=log,
        what="the export",
    )
    export.refresh_from_db()
    assert export.status == ExportStatus.READY, export.error
    pack = streamed(client.get(reverse("reporting:export-download", args=[export.code])))
    assert hashlib.sha256(pack).hexdigest() == export.sha256
    with zipfile.ZipFile(io.BytesIO(pack)) as tables:
        assert "README.csv" in tables.namelist()

    # In the bucket: every stored file, sealed; nothing in plaintext; nothing on disk.
    objects = bucket.objects()
    for name in (upload.file.name, upload.annotated_file.name, export.file.name):
        assert name in objects
    for name, stored in objects.items():
        assert stored.startswith(storage.MAGIC), name
        for plain in (*(s.encode() for s in SSNS), b"234567001", b"participant_id", b"README"):
            assert plain not in stored, (name, plain)
    assert list(settings.MEDIA_ROOT.rglob("*")) == []
