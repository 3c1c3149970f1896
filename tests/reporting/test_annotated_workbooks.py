"""The annotated workbooks are built by a task of their own after the check's commit
(reporting.tasks.annotate_submission): the check's result, its e-mail and the figures
wait for no workbook, a workbook that fails to build costs the grantee nothing but a
slower first download, two builds at once leave one stored file, and a file checked
again never shows the marks of its old findings."""

import io
import zipfile
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from reporting import services, spreadsheets, tasks
from reporting.models import Submission, SubmissionState, Upload
from tests.reporting.checks.cases import csv_bytes, person


@pytest.fixture(autouse=True)
def in_october_2025(time_machine):
    time_machine.move_to("2025-10-20 10:00 -0400")


@pytest.fixture
def sent(report):
    """A participant file with one error, sent, its check not yet run (the task is
    queued on the commit, which this test does not run)."""
    client, submission = report
    payload = io.BytesIO(csv_bytes([person(1), person(2, exit_date="20240101")]))
    payload.name = "people.csv"
    response = client.post(
        reverse("reporting:upload", args=[submission.code]),
        {"kind": "participants", "file": payload},
    )
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.state == SubmissionState.CHECKING
    return client, submission


def annotated_files(upload: Upload) -> list[str]:
    folder = upload.file.name.rsplit("/", 1)[0]
    return sorted(name for name in default_storage.listdir(folder)[1] if "annotated" in name)


def row_three(workbook: bytes) -> str:
    """The sheet XML of spreadsheet row 3 (person 2, whose exit date is wrong)."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    return sheet.split('<row r="3"', 1)[1].split("</row>", 1)[0]


def test_the_check_stores_its_result_without_building_a_workbook(sent):
    _, submission = sent
    with mock.patch.object(spreadsheets, "annotated_workbook", side_effect=AssertionError):
        assert services.submission_check(submission_id=submission.pk) is True
    submission.refresh_from_db()
    assert submission.state == SubmissionState.NEEDS_FIXES
    assert submission.error_count == 1
    upload = Upload.objects.get(submission=submission)
    assert not upload.annotated_file


def test_the_check_task_sends_the_e_mail_and_then_the_workbooks_task(sent):
    _, submission = sent
    with mock.patch("reporting.services.recovery.send", return_value=True) as send:
        tasks.check_submission.apply(args=[submission.pk]).get()
    assert [c.args for c in send.call_args_list] == [
        ("send_check_notice", submission.pk),
        ("annotate_submission", submission.pk),
    ]


def test_the_workbooks_task_builds_each_checked_file_once(sent):
    _, submission = sent
    services.submission_check(submission_id=submission.pk)
    tasks.annotate_submission.apply(args=[submission.pk]).get()
    upload = Upload.objects.get(submission=submission)
    assert upload.annotated_file
    with upload.annotated_file.open("rb") as handle:
        assert "exit_date" in row_three(handle.read())  # the row with the error, marked
    # Run again (a redelivered task): nothing is rebuilt.
    with mock.patch.object(spreadsheets, "annotated_workbook", side_effect=AssertionError):
        tasks.annotate_submission.apply(args=[submission.pk]).get()
    assert Upload.objects.get(pk=upload.pk).annotated_file.name == upload.annotated_file.name
    assert annotated_files(upload) == [upload.annotated_file.name.rsplit("/", 1)[1]]


def test_a_workbook_that_failed_to_build_is_built_by_the_first_download(sent):
    client, submission = sent
    services.submission_check(submission_id=submission.pk)
    with (
        mock.patch.object(spreadsheets, "annotated_workbook", side_effect=RuntimeError("x")),
        pytest.raises(RuntimeError),
    ):
        tasks.annotate_submission.apply(args=[submission.pk])
    submission.refresh_from_db()
    assert submission.state == SubmissionState.NEEDS_FIXES  # the check's result stands
    upload = Upload.objects.get(submission=submission)
    assert not upload.annotated_file

    response = client.get(reverse("reporting:upload-annotated", args=[upload.code]))
    assert response.status_code == 200
    served = b"".join(response.streaming_content)
    upload.refresh_from_db()
    with upload.annotated_file.open("rb") as handle:
        assert handle.read() == served
    assert "exit_date" in row_three(served)


def test_two_builds_at_once_keep_one_stored_file(sent):
    """The task and a download that came before it both build: the first stored is
    kept, the other dropped, and no unnamed file is left in the storage."""
    _, submission = sent
    services.submission_check(submission_id=submission.pk)
    by_task = Upload.objects.get(submission=submission)
    by_download = Upload.objects.get(submission=submission)  # read before either stored

    first = services.upload_annotate(upload=by_task)
    second = services.upload_annotate(upload=by_download)

    kept = first.annotated_file.name
    assert second.annotated_file.name == kept
    assert Upload.objects.get(pk=by_task.pk).annotated_file.name == kept
    assert annotated_files(by_task) == [kept.rsplit("/", 1)[1]]


def test_a_file_checked_again_loses_the_workbook_of_its_old_findings(
    sent, django_capture_on_commit_callbacks
):
    _, submission = sent
    services.submission_check(submission_id=submission.pk)
    services.submission_annotate(submission_id=submission.pk)
    old = Upload.objects.get(submission=submission).annotated_file.name
    assert default_storage.exists(old)

    # Checked again (as "Check again" does after the checks gave up).
    Submission.objects.filter(pk=submission.pk).update(state=SubmissionState.CHECKING)
    with (
        mock.patch.object(spreadsheets, "annotated_workbook", side_effect=AssertionError),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.submission_check(submission_id=submission.pk) is True
    upload = Upload.objects.get(submission=submission)
    assert not upload.annotated_file
    assert not default_storage.exists(old)

    assert services.submission_annotate(submission_id=submission.pk) == 1
    upload.refresh_from_db()
    assert default_storage.exists(upload.annotated_file.name)
