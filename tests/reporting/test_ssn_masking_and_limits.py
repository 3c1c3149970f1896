"""Issue 9: an SSN never leaves in full, whatever column it was typed in, and a hostile
file makes bounded work (findings capped per rule and column, the annotated workbook
built once and served as a stored file)."""

import io
import json
import logging
import re
import zipfile
from unittest import mock

import pytest
from django.urls import reverse

from grantees.calendar import Quarter
from reporting import pii, spreadsheets
from reporting.checks import cli, engine, values
from reporting.models import Finding, Upload
from tests.reporting.checks.cases import PARTICIPANT_HEADER, Files, csv_bytes, job, person

# Every spelling of the three SSNs the file below hides outside the ssn column.
FULL_SSNS = ["123-45-6789", "123456789", "234-56-7890", "234567890", "345-67-8901", "345678901"]
SSN_SHAPED = re.compile(r"(?<![0-9])(?:[0-9]{9}|[0-9]{3}-[0-9]{2}-[0-9]{4})(?![0-9])")


@pytest.fixture(autouse=True)
def in_october_2025(time_machine):
    time_machine.move_to("2025-10-20 10:00 -0400")


def send(client, submission, content: bytes, name="people.csv"):
    payload = io.BytesIO(content)
    payload.name = name
    return client.post(
        reverse("reporting:upload", args=[submission.code]),
        {"kind": "participants", "file": payload},
    )


def shifted_ssns() -> bytes:
    """An SSN shifted into state_code, one in zip_code (nine digits: a ZIP+4 without its
    dash reads the same), and one in an extra column."""
    header = [*PARTICIPANT_HEADER, "social_security_number"]
    rows = [
        person(1, state_code="123-45-6789"),
        person(2, zip_code="234567890"),
        person(3, social_security_number="345-67-8901"),
    ]
    return csv_bytes(rows, header=header)


def leaks(text: str) -> list[str]:
    return [ssn for ssn in FULL_SSNS if ssn in text]


@pytest.fixture
def checked(report, django_capture_on_commit_callbacks):
    client, submission = report
    with django_capture_on_commit_callbacks(execute=True):
        assert send(client, submission, shifted_ssns()).status_code == 302
    return client, Upload.objects.get(submission=submission)


class TestNoFullSsnLeavesWhateverTheColumn:
    def test_stored_findings_show_only_the_last_four_digits(self, checked):
        stored = list(Finding.objects.values_list("column", "value", "message"))
        assert {column for column, _, _ in stored} >= {"state_code", "zip_code"}
        text = " ".join(f"{value} {message}" for _, value, message in stored)
        assert leaks(text) == []
        assert "***-**-6789" in text
        assert "***-**-7890" in text

    @pytest.mark.parametrize("who", ["viewer_a", "coach_a", "officer"])
    def test_no_one_sees_a_full_ssn_on_the_findings_page(self, cast, client_for, checked, who):
        _, upload = checked
        page = client_for(cast[who]).get(
            reverse("reporting:findings", args=[upload.submission.code])
        )
        assert page.status_code == 200
        html = page.content.decode()
        assert leaks(html) == []
        assert "***-**-6789" in html

    def test_the_annotated_workbook_masks_every_column_and_drops_the_extra_one(self, checked):
        client, upload = checked
        response = client.get(reverse("reporting:upload-annotated", args=[upload.code]))
        assert response.status_code == 200
        content = b"".join(response.streaming_content)
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            xml = " ".join(
                book.read(name).decode() for name in book.namelist() if name.endswith(".xml")
            )
        assert leaks(xml) == []
        assert SSN_SHAPED.search(xml) is None
        assert "***-**-6789" in xml  # state_code, masked where it stood
        assert "8901" not in xml  # the extra column's cells are not written back
        assert "social_security_number" in xml  # its header still is, with its F03

    def test_check_files_shows_no_full_ssn(self, tmp_path, capsys):
        path = tmp_path / "people.csv"
        path.write_bytes(shifted_ssns())
        cli.main(["--participants", str(path), "--period", "2025Q3"])
        assert leaks(capsys.readouterr().out) == []

    def test_a_log_line_shows_only_the_last_four_digits(self, caplog):
        handler = logging.StreamHandler(stream := io.StringIO())
        handler.addFilter(pii.MaskSSNs())
        logger = logging.getLogger("tests.pii")
        logger.addHandler(handler)
        try:
            logger.warning("cell %s failed", "123-45-6789")
            try:
                raise ValueError("could not parse 234567890")
            except ValueError:
                logger.exception("check failed")
        finally:
            logger.removeHandler(handler)
        assert leaks(stream.getvalue()) == []
        assert "***-**-6789" in stream.getvalue()


def test_a_celery_worker_masks_ssns_in_its_own_log_handlers():
    from celery import signals

    import bpij.celery  # noqa: F401  (connects the signal handlers)

    logger = logging.getLogger("tests.pii.worker")
    handler = logging.StreamHandler(stream := io.StringIO())
    logger.addHandler(handler)
    try:
        signals.after_setup_logger.send(
            sender=None,
            logger=logger,
            loglevel=logging.INFO,
            logfile=None,
            format="",
            colorize=False,
        )
        logger.warning("task failed on %s", "123-45-6789")
    finally:
        logger.removeHandler(handler)
    assert leaks(stream.getvalue()) == []


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("123456789", "***-**-6789"),
        ("123-45-6789", "***-**-6789"),
        ("123 45 6789", "***-**-6789"),
        ("ssn 123-45-6789, again 123456789.", "ssn ***-**-6789, again ***-**-6789."),
        ("X123456789", "X***-**-6789"),
        ("12345-6789", "12345-6789"),  # ZIP+4 as the contract writes it
        ("1234567890", "1234567890"),  # ten digits: not SSN-shaped
        ("20240115", "20240115"),
    ],
)
def test_ssn_shaped_values_are_masked_and_nothing_else(text, shown):
    assert values.mask_ssns_in(text) == shown


def hostile(rows: int) -> bytes:
    header = ",".join(PARTICIPANT_HEADER)
    line = ",".join(["=1+1"] * len(PARTICIPANT_HEADER))
    return (header + "\n" + (line + "\n") * rows).encode()


class TestAHostileFileMakesBoundedWork:
    def test_check_files_lists_a_thousand_per_rule_and_column_and_counts_them_all(
        self, tmp_path, capsys
    ):
        path = tmp_path / "hostile.csv"
        path.write_bytes(hostile(5_000))
        cli.main(["--participants", str(path), "--period", "2025Q3"])
        output = json.loads(capsys.readouterr().out)

        columns = len(PARTICIPANT_HEADER)
        assert output["summary"]["errors"] == 5_000 * columns
        assert output["summary"]["rows_with_errors"] == 5_000
        listed = [
            f for f in output["findings"] if (f["code"], f["column"]) == ("V05", "participant_id")
        ]
        assert len(listed) == 1_000
        assert {
            "file": "participants", "code": "V05", "column": "participant_id",
            "severity": "error", "listed": 1_000, "total": 5_000,
        } in output["capped"]  # fmt: skip
        assert set(output["findings"][0]) == {
            "code", "severity", "file", "row", "column", "value", "message",
        }  # fmt: skip

    def test_a_hopeless_file_stops_after_the_value_checks_and_says_so(self):
        result = engine.check_submission(("p.csv", hostile(1_000)), period=Quarter.parse("2025Q3"))
        stop = [f for f in result.findings if f.code == "F06"]
        assert len(stop) == 1
        assert "the checks stopped after the value checks" in stop[0].message
        assert result.participants.kept is not None
        assert result.participants.kept.is_empty()

    def test_an_upload_stores_a_thousand_per_rule_and_column_and_shows_the_total(
        self, report, django_capture_on_commit_callbacks
    ):
        client, submission = report
        with django_capture_on_commit_callbacks(execute=True):
            send(client, submission, hostile(5_000), name="hostile.csv")
        upload = Upload.objects.get(submission=submission)
        stored = Finding.objects.filter(upload=upload, code="V05", column="participant_id")
        assert stored.count() == 1_000
        assert sum(1 + f.omitted for f in stored) == 5_000
        assert upload.error_count == 5_000 * len(PARTICIPANT_HEADER)
        assert upload.kept_rows == 0

        url = reverse("reporting:findings", args=[submission.code])
        # The grouped view (the page's first view) gives the whole count and says how many
        # are listed; the row-by-row list ends on the line that stands for the rest.
        grouped = client.get(url, {"code": "V05"}).content.decode()
        assert "All 5,000, row by row" in grouped
        assert "the first 1,000 are listed" in grouped
        page = client.get(url, {"code": "V05", "page": 10, "view": "rows"}).content.decode()
        assert "5,000" in page  # the rule's count in the summary
        assert "and 4,000 more like this" in page

    def test_the_annotated_workbook_is_built_once_and_served_as_the_stored_file(
        self, report, django_capture_on_commit_callbacks
    ):
        client, submission = report
        with django_capture_on_commit_callbacks(execute=True):
            send(client, submission, csv_bytes([person(1), person(2, exit_date="20240101")]))
        upload = Upload.objects.get(submission=submission)
        assert upload.annotated_file
        with upload.annotated_file.open("rb") as handle:
            stored = handle.read()

        url = reverse("reporting:upload-annotated", args=[upload.code])
        with mock.patch.object(spreadsheets, "annotated_workbook", side_effect=AssertionError):
            first = client.get(url)
            second = client.get(url)
        assert b"".join(first.streaming_content) == stored
        assert b"".join(second.streaming_content) == stored
        assert first["Content-Disposition"] == 'attachment; filename="people-with-errors.xlsx"'


def test_an_ssn_typed_into_free_text_is_kept_with_only_its_last_four_digits():
    """Free text (employer, job title) is kept as typed and stored with the placement,
    so an SSN typed there would sit in full in the database: it is kept masked."""
    result = Files(
        participants=[person(1)],
        placements=[job(1, job_title="Welder 123-45-6789", employer_name="Acme 234567890")],
    ).check()
    assert result.placements is not None
    kept = result.placements.kept
    assert kept is not None
    assert kept.height == 1
    assert kept.row(0, named=True)["job_title"] == "Welder ***-**-6789"
    assert kept.row(0, named=True)["employer_name"] == "Acme ***-**-7890"
