"""Uploading through the browser: stored unchanged, recognised when sent again, checked,
refused clearly when hostile — and the pages keep a fixed number of queries."""

import hashlib
import io
import re

import pytest
from django.urls import reverse

from reporting import contract
from reporting.models import Finding, ParticipantRecord, Submission, Upload
from tests.reporting.checks.cases import csv_bytes, job, person


@pytest.fixture(autouse=True)
def in_october_2025(time_machine):
    """2025Q3 has ended and its report is being prepared."""
    time_machine.move_to("2025-10-20 10:00 -0400")


def send(client, submission, content: bytes, name="people.csv", kind="participants", **extra):
    payload = io.BytesIO(content)
    payload.name = name
    return client.post(
        reverse("reporting:upload", args=[submission.code]),
        {"kind": kind, "file": payload},
        **extra,
    )


def test_a_file_is_stored_unchanged_with_its_sha256_and_checked(
    report, django_capture_on_commit_callbacks
):
    client, submission = report
    content = csv_bytes([person(1), person(2, exit_date="20240101")])
    with django_capture_on_commit_callbacks(execute=True):
        assert send(client, submission, content).status_code == 302
    upload = Upload.objects.get(submission=submission)
    assert upload.sha256 == hashlib.sha256(content).hexdigest()
    with upload.file.open("rb") as stored:
        assert stored.read() == content
    submission.refresh_from_db()
    assert (submission.state, submission.error_count) == ("needs_fixes", 1)
    assert list(Finding.objects.values_list("code", "row")) == [("L01", 3)]
    assert ParticipantRecord.objects.filter(submission=submission).count() == 1


def test_the_same_file_sent_again_is_recognised_not_duplicated(
    report, django_capture_on_commit_callbacks
):
    client, submission = report
    content = csv_bytes([person(1)])
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, content)
        response = send(client, submission, content, name="people-again.csv", follow=True)
    assert Upload.objects.filter(submission=submission).count() == 1
    assert "same file" in response.content.decode()


def test_a_new_file_replaces_the_current_one_and_keeps_the_old(
    report, django_capture_on_commit_callbacks
):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, csv_bytes([person(1), person(2, exit_date="20240101")]))
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, csv_bytes([person(1), person(2)]), name="fixed.csv")
    uploads = Upload.objects.filter(submission=submission).order_by("uploaded_at")
    assert [(u.original_name, u.is_current) for u in uploads] == [
        ("people.csv", False), ("fixed.csv", True),
    ]  # fmt: skip
    submission.refresh_from_db()
    assert (submission.state, submission.error_count) == ("ready", 0)
    assert not Finding.objects.filter(upload__is_current=True).exists()
    assert Finding.objects.filter(upload__is_current=False).count() == 1, "history is kept"


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"\x00\x01\x02binary\xff\xfe garbage" * 100, "people.csv"),
        (b"PK\x03\x04 not really a workbook", "people.xlsx"),
    ],
)
def test_a_hostile_or_broken_file_is_refused_with_f01_and_kept(
    report, django_capture_on_commit_callbacks, content, name
):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, content, name=name)
    finding = Finding.objects.get()
    assert finding.code == "F01"
    assert Upload.objects.get().status == "refused"
    submission.refresh_from_db()
    assert submission.state == "needs_fixes"


def test_an_oversized_file_is_refused_before_it_is_stored(report, monkeypatch):
    client, submission = report
    monkeypatch.setattr(contract, "MAX_FILE_BYTES", 1000)
    response = send(client, submission, b"participant_id\n" + b"A1\n" * 600, follow=True)
    assert "files may be at most" in response.content.decode()
    assert not Upload.objects.exists()


def test_an_htmx_upload_asks_the_page_to_reload(report, django_capture_on_commit_callbacks):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, submission, csv_bytes([person(1)]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.headers["HX-Refresh"] == "true"


def test_the_report_and_findings_pages_keep_a_fixed_number_of_queries(
    report, django_capture_on_commit_callbacks, django_assert_max_num_queries, cast
):
    client, submission = report
    detail = reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"])
    findings = reverse("reporting:findings", args=[submission.code])

    def measure(url):
        client.get(url)
        with django_assert_max_num_queries(12) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, csv_bytes([person(1, sex="7")]))
        send(client, submission, csv_bytes([job(1)]), name="jobs.csv", kind="placements")
    few = (measure(detail), measure(findings))
    bad = [person(n, sex="7", exit_date="20200101") for n in range(1, 80)]
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, csv_bytes(bad), name="many.csv")
    assert Finding.objects.filter(upload__is_current=True).count() > 100
    assert (measure(detail), measure(findings)) == few


@pytest.mark.django_db(transaction=True)
def test_the_check_can_run_inside_the_upload_request(cast, client_for, period_a):
    """Without Redis the check runs in-process when the upload commits, while the request
    is still held to the person's row-level-security scope; it steps out of it, as the
    worker would run it, because PostgreSQL refuses COPY under row-level security."""
    client = client_for(cast.admin_a)
    client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
    submission = Submission.objects.get(period=period_a)
    response = send(client, submission, csv_bytes([person(1), person(2, exit_date="20240101")]))
    assert response.status_code == 302
    submission.refresh_from_db()
    assert (submission.state, submission.error_count) == ("needs_fixes", 1)
    assert ParticipantRecord.objects.filter(submission=submission).count() == 1


def step_numbers(client, cast) -> list[str]:
    page = client.get(reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"]))
    return re.findall(r'<span class="hub-step">(\d+)</span>\s*([^<]+)</h2>', page.content.decode())


def test_the_report_page_numbers_the_steps_it_shows_without_a_gap(
    report, cast, django_capture_on_commit_callbacks
):
    client, submission = report
    before = step_numbers(client, cast)
    assert before == [("1", "Files"), ("2", "Narrative"), ("3", "Certify and submit")]
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, csv_bytes([person(1)]))
    assert [number for number, _ in step_numbers(client, cast)] == ["1", "2", "3", "4", "5"]


def test_an_empty_file_is_named_and_nothing_is_lost(report, django_capture_on_commit_callbacks):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        send(client, submission, csv_bytes([person(1)]), name="people.csv")
    kept = Upload.objects.get(submission=submission)
    response = send(client, submission, b"", name="people-march.csv", follow=True)
    page = response.content.decode()
    assert "people-march.csv is empty (0 bytes)" in page
    assert "save it again and choose it again" in page
    assert "Choose a CSV or XLSX file" not in page
    assert list(Upload.objects.filter(submission=submission)) == [kept]
    kept.refresh_from_db()
    assert kept.is_current


def test_an_upload_without_a_file_asks_for_one(report):
    client, submission = report
    response = client.post(
        reverse("reporting:upload", args=[submission.code]), {"kind": "participants"}, follow=True
    )
    assert "Choose a CSV or XLSX file to upload." in response.content.decode()
