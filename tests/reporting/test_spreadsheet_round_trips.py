"""Issue 11, items 4 and 5 through the upload: a workbook saved by a spreadsheet program
keeps its SSNs' and ZIPs' leading zeros, and the hub's own marked-up workbook, its SSNs
masked, can be fixed and uploaded back without losing an SSN."""

import io

import pytest
import xlsxwriter
from django.urls import reverse
from python_calamine import CalamineWorkbook

from reporting import pii, services
from reporting.models import Finding, ParticipantRecord, Upload
from tests import builders
from tests.reporting.checks.cases import csv_bytes, job, person


@pytest.fixture(autouse=True)
def in_october_2025(time_machine):
    time_machine.move_to("2025-10-20 10:00 -0400")


@pytest.fixture
def send(report, django_capture_on_commit_callbacks):
    client, submission = report

    def send(content: bytes, name: str) -> Upload:
        payload = io.BytesIO(content)
        payload.name = name
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("reporting:upload", args=[submission.code]),
                {"kind": "participants", "file": payload},
            )
        assert response.status_code == 302
        return Upload.objects.get(submission=submission, is_current=True)

    return send


def stored_ssns(submission) -> dict[str, str]:
    records = ParticipantRecord.objects.filter(submission=submission)
    return {
        r.participant_id: pii.decrypt_ssn(r.ssn_encrypted) if r.ssn_encrypted else ""
        for r in records
    }


def findings_of(upload) -> list[tuple[str, int | None, str | None]]:
    return [(f.code, f.row, f.column) for f in Finding.objects.filter(upload=upload)]


def test_a_workbook_saved_by_libreoffice_is_stored_with_its_leading_zeros(
    report, send, saved_by_libreoffice
):
    _, submission = report
    upload = send(saved_by_libreoffice["leading_zeros"], "people.xlsx")

    assert findings_of(upload) == []
    assert stored_ssns(submission) == {
        "P001": "012345678",
        "P002": "001234567",
        "P003": "023456789",
        "P004": "123456004",
    }
    zips = ParticipantRecord.objects.filter(submission=submission).order_by("participant_id")
    assert list(zips.values_list("zip_code", flat=True)) == [
        "02134",
        "00501",
        "02134-1234",
        "94110",
    ]


# The hub's own marked-up workbook ---------------------------------------------------------

PEOPLE = [
    person(1, ssn="234-56-7001"),
    person(2, ssn="234-56-7002"),
    # Held back by a date error: its SSN is in the file only, not in the records.
    person(3, ssn="234-56-7003", entry_date="20241345"),
    person(4, ssn=""),
]


def annotated(client, upload) -> bytes:
    response = client.get(reverse("reporting:upload-annotated", args=[upload.code]))
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_marked_up_workbook_uploaded_back_keeps_every_stored_ssn(report, send):
    client, submission = report
    first = send(csv_bytes(PEOPLE), "people.csv")
    assert findings_of(first) == [("V02", 4, "entry_date")]
    workbook = annotated(client, first)
    rows = first_sheet(workbook)
    ssn = rows[0].index("ssn")
    assert [row[ssn] for row in rows[1:]] == ["***-**-7001", "***-**-7002", "***-**-7003", ""]

    # The grantee fixes the date in the marked-up workbook's first sheet and sends it back.
    fixed = _fixed(workbook)
    again = send(fixed, "people-marked.xlsx")

    # Nothing at all: not the SSNs, not the hub's own "errors" column (F03).
    assert findings_of(again) == []
    assert stored_ssns(submission) == {
        "P001": "234567001",
        "P002": "234567002",
        "P003": "234567003",
        "P004": "",
    }


def test_a_masked_ssn_for_a_participant_the_hub_does_not_have_says_to_type_the_full_ssn(
    report, send
):
    _, submission = report
    send(csv_bytes(PEOPLE[:2]), "people.csv")
    people = [
        person(1, ssn="***-**-7001"),
        person(2, ssn="***-**-9999"),  # the stored one ends 7002
        person(5, ssn="***-**-7001"),  # a new participant
    ]

    upload = send(csv_bytes(people), "people.csv")

    found = Finding.objects.filter(upload=upload).order_by("row")
    assert [(f.code, f.row, f.column, f.value) for f in found] == [
        ("V11", 3, "ssn", "***-**-9999"),
        ("V11", 4, "ssn", "***-**-7001"),
    ]
    assert found[1].message == (
        "ssn ***-**-7001 is the masked SSN from the hub's marked-up workbook: it can only "
        "be kept for a participant the hub already has with an SSN ending 7001 — type the "
        "full SSN"
    )
    assert stored_ssns(submission) == {"P001": "234567001"}


@pytest.fixture
def accepted_2025q2(cast):
    files = (csv_bytes([person(1)]), csv_bytes([job(1)]))
    version = builders.submitted_version(
        # person(1) and job(1) hold nothing dated in 2025Q2: confirmed as they are.
        builders.period_of(cast.coalition_a, "2025Q2"),
        cast.admin_a,
        files=files,
        confirmed=True,
    )
    services.submission_accept(submission=version, actor=cast.officer)
    return version


def test_a_masked_ssn_can_stand_for_the_one_in_the_last_accepted_report(
    accepted_2025q2, report, send
):
    _, submission = report
    upload = send(csv_bytes([person(1, ssn="***-**-6001")]), "people.csv")

    assert findings_of(upload) == []
    assert stored_ssns(submission) == {"P001": "123456001"}


def first_sheet(workbook: bytes) -> list[list]:
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(workbook)).get_sheet_by_index(0)
    return [list(row) for row in sheet.iter_rows()]


def _fixed(workbook: bytes) -> bytes:
    """The marked-up workbook's first sheet with row 4's entry date corrected, saved
    again as a spreadsheet program would (every cell as it reads, its type kept)."""
    rows = first_sheet(workbook)
    rows[3][rows[0].index("entry_date")] = "20240115"
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Your file")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value != "":
                sheet.write(r, c, value)
    book.close()
    return out.getvalue()
