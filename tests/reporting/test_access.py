"""Reporting's access matrix: another coalition's reports, findings and downloads are
404; a viewer cannot upload or certify (403)."""

import io
from datetime import date
from unittest.mock import ANY

import pytest
from django.urls import reverse

from reporting import services
from reporting.models import Submission, SubmissionState, Upload

CAST = ["admin_a", "reporter_a", "viewer_a", "coach_a", "officer", "jff_admin", "outsider_b"]


def expect(**codes):
    return [pytest.param(who, codes[who], id=who) for who in CAST]


@pytest.fixture
def submission_a(cast, period_a) -> Submission:
    submission = services.submission_start(
        period=period_a, actor=cast.admin_a, today=date(2025, 10, 1)
    )
    upload = Upload.objects.create(
        coalition=cast.coalition_a,
        submission=submission,
        kind="participants",
        original_name="people.csv",
        size=10,
        sha256="0" * 64,
        uploaded_by=cast.admin_a,
    )
    upload.file.save("people.csv", io.BytesIO(b"participant_id\nA1\n"))
    Submission.objects.filter(pk=submission.pk).update(
        state=SubmissionState.NEEDS_FIXES, checked_at="2025-10-01T12:00:00Z"
    )
    return submission


READ_PAGES = {
    "period-list": lambda s: reverse("reporting:period-list", args=[s.coalition.code]),
    "period-detail": lambda s: reverse(
        "reporting:period-detail", args=[s.coalition.code, s.period.quarter]
    ),
    "findings": lambda s: reverse("reporting:findings", args=[s.code]),
    "status": lambda s: reverse("reporting:submission-status", args=[s.code]),
    "annotated": lambda s: reverse("reporting:upload-annotated", args=[s.uploads.get().code]),
}


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=200, reporter_a=200, viewer_a=403, coach_a=403, officer=403, jff_admin=403,
        outsider_b=404,
    ),
)  # fmt: skip
def test_the_original_file_with_full_ssns_goes_only_to_those_who_send_files(
    cast, client_for, submission_a, who, status
):
    url = reverse("reporting:upload-original", args=[submission_a.uploads.get().code])
    assert client_for(cast[who]).get(url).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=200, reporter_a=200, viewer_a=200, coach_a=200, officer=200, jff_admin=200,
        outsider_b=404,
    ),
)  # fmt: skip
@pytest.mark.parametrize("page", READ_PAGES)
def test_a_coalitions_reports_are_visible_to_its_people_only(
    cast, client_for, submission_a, who, status, page
):
    # The status endpoint is what htmx polls while checks run.
    headers = {"HTTP_HX_REQUEST": "true"} if page == "status" else {}
    response = client_for(cast[who]).get(READ_PAGES[page](submission_a), **headers)
    assert response.status_code == status
    if status == 200 and page != "period-list":
        assert "no-store" in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=302, reporter_a=302, viewer_a=403, coach_a=403, officer=403, jff_admin=403,
        outsider_b=404,
    ),
)  # fmt: skip
def test_only_administrators_and_reporters_upload(cast, client_for, submission_a, who, status):
    Submission.objects.filter(pk=submission_a.pk).update(state=SubmissionState.DRAFT)
    payload = io.BytesIO(b"participant_id\nA1\n")
    payload.name = "people.csv"
    response = client_for(cast[who]).post(
        reverse("reporting:upload", args=[submission_a.code]),
        {"kind": "participants", "file": payload},
    )
    assert response.status_code == status
    stored = Upload.objects.filter(submission=submission_a).count()
    assert stored == (2 if status == 302 else 1)


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=302, reporter_a=403, viewer_a=403, coach_a=403, officer=403, jff_admin=403,
        outsider_b=404,
    ),
)  # fmt: skip
def test_only_the_coalition_administrator_certifies(cast, client_for, submission_a, who, status):
    Submission.objects.filter(pk=submission_a.pk).update(state=SubmissionState.READY, error_count=0)
    response = client_for(cast[who]).post(
        reverse("reporting:certify", args=[submission_a.code]),
        # 2025Q3 is long past due: the administrator says why; the hand-made file has no
        # rows kept, so no activity in the quarter: confirmed.
        {
            "name": "Someone",
            "title": "",
            "agreed": "on",
            "late_reason": "Staff were away.",
            "confirmed": "on",
        },
    )
    assert response.status_code == status
    submission_a.refresh_from_db()
    expected = SubmissionState.SUBMITTED if status == 302 else SubmissionState.READY
    assert submission_a.state == expected


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=302, reporter_a=302, viewer_a=403, coach_a=403, officer=403, jff_admin=403,
        outsider_b=404,
    ),
)  # fmt: skip
def test_only_administrators_and_reporters_write_the_narrative(
    cast, client_for, submission_a, who, status
):
    response = client_for(cast[who]).post(
        reverse("reporting:narrative-save", args=[submission_a.code]),
        {"progress": "Enrolled 40 people.", "challenges": "", "ta_needs": ""},
    )
    assert response.status_code == status
    submission_a.refresh_from_db()
    assert (submission_a.narrative_progress == "Enrolled 40 people.") == (status == 302)


def test_downloads_of_participant_data_are_audited(cast, client_for, submission_a):
    from bpij.models import AuditEvent

    client = client_for(cast.admin_a)
    client.get(reverse("reporting:upload-original", args=[submission_a.uploads.get().code]))
    client.get(READ_PAGES["findings"](submission_a))
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"pii_downloaded", "pii_viewed"} <= actions


@pytest.mark.parametrize("kind", ["participants", "placements"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_templates_are_available_to_anyone_signed_in(cast, client_for, kind, fmt):
    response = client_for(cast.viewer_a).get(
        reverse("reporting:template-download", args=[kind, fmt])
    )
    assert response.status_code == 200
    assert f"bpij-{kind}-template.{fmt}" in response["Content-Disposition"]


def test_another_coalitions_report_page_is_a_404_written_to_the_audit_log(
    cast, client_for, submission_a
):
    from bpij.models import AuditAction, AuditEvent

    url = READ_PAGES["period-detail"](submission_a)
    assert client_for(cast.outsider_b).get(url).status_code == 404
    event = AuditEvent.objects.get(action=AuditAction.ACCESS_DENIED)
    assert event.actor == cast.outsider_b
    assert event.target == f"GET {url}"
    assert event.detail == {
        "status": 404,
        "method": "GET",
        "path": url,
        "view": "reporting:period-detail",
        "htmx": False,
        "request_id": ANY,
    }


def test_a_refused_change_is_a_403_written_to_the_audit_log(cast, client_for, submission_a):
    from bpij.models import AuditAction, AuditEvent

    response = client_for(cast.viewer_a).post(
        reverse("reporting:narrative-save", args=[submission_a.code]), {"progress": "x"}
    )
    assert response.status_code == 403
    event = AuditEvent.objects.get(action=AuditAction.ACCESS_DENIED)
    assert (event.actor, event.detail["status"], event.detail["method"]) == (
        cast.viewer_a,
        403,
        "POST",
    )


def test_every_page_of_findings_is_audited_htmx_fragments_included(cast, client_for, submission_a):
    from bpij.models import AuditAction, AuditEvent

    client = client_for(cast.viewer_a)
    client.get(READ_PAGES["findings"](submission_a))
    fragment = client.get(
        READ_PAGES["findings"](submission_a), {"severity": "error"}, HTTP_HX_REQUEST="true"
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    views = AuditEvent.objects.filter(action=AuditAction.PII_VIEWED, actor=cast.viewer_a)
    assert [(e.detail["htmx"], e.detail["query"]) for e in views.order_by("seq")] == [
        (False, ""),
        (True, "severity=error"),
    ]
