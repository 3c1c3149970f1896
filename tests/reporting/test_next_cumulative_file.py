"""Issue 11, item 7: the next cumulative file starts from the last accepted report. The
people who send files download its originals (as sent, full SSNs, audited) and a
"start from last quarter's accepted file" workbook: the template holding its rows, SSNs
masked, which the checks take back unchanged with every SSN kept in full."""

import io

import polars as pl
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from bpij.models import AuditAction, AuditEvent
from reporting import contract, pii, services, spreadsheets
from reporting.models import Finding, ParticipantRecord, Submission, Upload
from tests import builders


@pytest.fixture(autouse=True)
def in_october_2025(time_machine):
    time_machine.move_to("2025-10-20 10:00 -0400")


@pytest.fixture
def accepted_2025q2(cast):
    """Coalition A's 2025Q2 report, accepted: 40 synthetic participants and placements."""
    version = builders.submitted_version(
        builders.period_of(cast.coalition_a, "2025Q2"), cast.admin_a, participants=40, seed=7
    )
    services.submission_accept(submission=version, actor=cast.officer)
    version.refresh_from_db()
    return version


def page(client, quarter="2025Q3") -> str:
    response = client.get(reverse("reporting:period-detail", args=[_code(client), quarter]))
    assert response.status_code == 200
    return response.content.decode()


def _code(client) -> str:
    return str(client.coalition.code)


def sign_in(client_for, cast, who):
    client = client_for(cast[who])
    client.coalition = cast.coalition_a
    return client


def start_from_url(cast, kind: str, quarter: str = "2025Q3") -> str:
    return reverse("reporting:template-from-accepted", args=[cast.coalition_a.code, quarter, kind])


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def sheet_rows(workbook: bytes, index: int = 0) -> list[list]:
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(workbook)).get_sheet_by_index(index)
    return [list(row) for row in sheet.iter_rows()]


def stored_ssns(submission) -> dict[str, str]:
    return {
        r.participant_id: pii.decrypt_ssn(r.ssn_encrypted) if r.ssn_encrypted else ""
        for r in ParticipantRecord.objects.filter(submission=submission)
    }


# The originals -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin_a", "reporter_a"])
@pytest.mark.parametrize("started", [False, True])
def test_the_new_quarter_links_the_originals_of_the_last_accepted_report(
    accepted_2025q2, cast, client_for, who, started
):
    client = sign_in(client_for, cast, who)
    if started:
        client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
    html = page(client)

    assert "Start from the 2025Q2 accepted report" in html
    for upload in Upload.objects.filter(submission=accepted_2025q2, is_current=True):
        url = reverse("reporting:upload-original", args=[upload.code])
        assert f'href="{url}"' in html
        response = client.get(url)
        assert response.status_code == 200
        with upload.file.open("rb") as handle:
            assert body(response) == handle.read()
        audited = AuditEvent.objects.filter(
            action=AuditAction.PII_DOWNLOADED, actor=cast[who], detail__upload=str(upload.code)
        )
        assert [e.detail["what"] for e in audited] == ["original"]


def test_the_accepted_reports_own_page_links_its_originals(accepted_2025q2, cast, client_for):
    client = sign_in(client_for, cast, "admin_a")
    html = page(client, "2025Q2")
    for upload in Upload.objects.filter(submission=accepted_2025q2, is_current=True):
        assert f'href="{reverse("reporting:upload-original", args=[upload.code])}"' in html
        assert f"Download {upload.original_name} as sent" in html
    # A locked version is not where the next file is built.
    assert "Start from the" not in html


def test_a_purged_original_says_so_plainly(accepted_2025q2, cast, client_for):
    upload = Upload.objects.get(submission=accepted_2025q2, kind="participants", is_current=True)
    default_storage.delete(upload.file.name)
    Upload.objects.filter(pk=upload.pk).update(purged_at=timezone.now())
    client = sign_in(client_for, cast, "admin_a")

    html = page(client)
    assert (
        f"{upload.original_name} was removed on {timezone.localdate():%b %-d, %Y} under the "
        "retention rule; start from the workbook above instead." in html
    )
    assert reverse("reporting:upload-original", args=[upload.code]) not in html
    response = client.get(reverse("reporting:upload-original", args=[upload.code]))
    assert response.status_code == 410
    assert "This file was removed under the retention rule" in response.content.decode()
    # The workbook is built from the stored rows, which retention does not touch.
    assert client.get(start_from_url(cast, "participants")).status_code == 200


@pytest.mark.parametrize(
    ("who", "status"), [("viewer_a", 403), ("coach_a", 403), ("officer", 403), ("outsider_b", 404)]
)
def test_only_the_people_who_send_files_get_the_start_from_workbook(
    accepted_2025q2, cast, client_for, who, status
):
    client = client_for(cast[who])
    assert client.get(start_from_url(cast, "participants")).status_code == status
    if status == 403:
        detail = client.get(
            reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"])
        ).content.decode()
        assert "Start from the 2025Q2 accepted report" not in detail
        assert "start-from" not in detail


# The start-from workbook ---------------------------------------------------------------


def test_the_start_from_workbook_holds_the_accepted_rows_with_ssns_masked(
    accepted_2025q2, cast, client_for
):
    client = sign_in(client_for, cast, "admin_a")
    response = client.get(start_from_url(cast, "participants"))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(
        'filename="bpij-participants-2025Q3-from-2025Q2.xlsx"'
    )
    rows = sheet_rows(response.content)
    header = rows[0]
    assert header == [c.name for c in contract.PARTICIPANT_COLUMNS]
    stored = ParticipantRecord.objects.filter(submission=accepted_2025q2).order_by("row")
    assert [r[0] for r in rows[1:]] == [r.participant_id for r in stored]
    ssn = header.index("ssn")
    full = stored_ssns(accepted_2025q2)
    for row in rows[1:]:
        if full[row[0]]:
            assert row[ssn] == f"***-**-{full[row[0]][-4:]}"
        else:
            assert row[ssn] == ""
    assert not any(s and s in response.content.decode("latin-1") for s in full.values())
    # The template's other sheets come along (data dictionary, instructions).
    assert sheet_rows(response.content, 1)[0][0] == "column"
    audited = AuditEvent.objects.get(
        action=AuditAction.PII_DOWNLOADED, detail__what="start-from participants"
    )
    assert audited.target == (
        "Participant file of the accepted 2025Q2 report, version 1 (start-from workbook for 2025Q3)"
    )


def test_the_start_from_workbooks_uploaded_back_unchanged_keep_every_ssn_in_full(
    accepted_2025q2, cast, client_for, django_capture_on_commit_callbacks
):
    client = sign_in(client_for, cast, "admin_a")
    client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
    submission = Submission.objects.get(period__quarter="2025Q3", coalition=cast.coalition_a)
    for kind in ("participants", "placements"):
        workbook = client.get(start_from_url(cast, kind)).content
        payload = io.BytesIO(workbook)
        payload.name = f"{kind}.xlsx"
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("reporting:upload", args=[submission.code]),
                {"kind": kind, "file": payload},
            )
        assert response.status_code == 302

    submission.refresh_from_db()
    found = Finding.objects.filter(upload__submission=submission, upload__is_current=True)
    assert list(found.filter(column="ssn").values_list("code", "row")) == []
    assert list(found.filter(severity="error").values_list("code", "column", "row")) == []
    assert submission.state == "ready"
    accepted = stored_ssns(accepted_2025q2)
    assert any(accepted.values())
    assert stored_ssns(submission) == accepted


def test_without_an_accepted_report_only_the_blank_template_is_offered(cast, client_for, period_a):
    client = sign_in(client_for, cast, "admin_a")
    html = page(client)
    assert (
        "No report of this coalition has been accepted yet, so there is no earlier file to "
        "start from: start from the blank templates." in html
    )
    assert "/start-from/" not in html
    response = client.get(start_from_url(cast, "participants"), follow=True)
    assert response.redirect_chain[-1][0].endswith("/reports/2025Q3/")
    assert (
        "There is no accepted report before this quarter yet, so there is no file to start "
        "from: use the blank template." in response.content.decode()
    )


def test_the_start_from_workbook_types_amounts_and_neutralises_only_free_text():
    rows = pl.DataFrame(
        {
            "participant_id": ["-A1", "B&2"],
            "employer_name": ['=HYPERLINK("http://x")', "Smith & Sons <Wind>"],
            "start_date": ["20250815", None],
            "hourly_wage": ["25.5", "30"],
            "hours_per_week": ["40", ""],
            "naics_code": ["023456", "237130"],
        }
    )
    workbook = spreadsheets.prefilled_template("placements", rows)
    sheet = sheet_rows(workbook)
    header = sheet[0]
    got = [dict(zip(header, row, strict=False)) for row in sheet[1:]]
    assert [r["participant_id"] for r in got] == ["-A1", "B&2"]
    assert [r["employer_name"] for r in got] == [
        '\'=HYPERLINK("http://x")',
        "Smith & Sons <Wind>",
    ]
    assert [r["start_date"] for r in got] == ["20250815", ""]
    assert [r["hourly_wage"] for r in got] == [25.5, 30.0]
    assert [r["hours_per_week"] for r in got] == [40.0, ""]
    assert [r["naics_code"] for r in got] == ["023456", "237130"]
