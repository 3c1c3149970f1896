"""The API's reports: start, upload both files, poll, findings, figures, certify, review
and exports — through the same services as the pages — and its errors: one JSON shape,
400 saying what is wrong and what would be right, 413, 429 with Retry-After."""

import io

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from bpij.api.throttles import TokenRateThrottle
from reporting.checks import synthetic
from reporting.models import Finding, ReturnReason, Submission, Upload
from tests import builders
from tests.api.conftest import token_client
from tests.reporting.test_ssn_masking_and_limits import leaks, shifted_ssns

V1 = "/api/v1"


@pytest.fixture(autouse=True)
def in_october_2025(time_machine):
    """2025Q3 has ended and its report is being prepared (not yet due)."""
    time_machine.move_to("2025-10-20 10:00 -0400")


@pytest.fixture
def period_a(cast):
    return builders.period_of(cast.coalition_a, "2025Q3")


def start(client: APIClient, cast) -> dict:
    response = client.post(f"{V1}/coalitions/{cast.coalition_a.code}/periods/2025Q3/submissions/")
    assert response.status_code in (200, 201), response.json()
    return response.json()


def upload(client: APIClient, code: str, content: bytes, *, kind: str, name: str = "f.csv"):
    payload = io.BytesIO(content)
    payload.name = name
    # The check is queued on commit; run it now, as the worker would after the commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            f"{V1}/submissions/{code}/uploads/", {"kind": kind, "file": payload}, format="multipart"
        )


def test_a_coalition_files_a_complete_report_through_the_api(cast, period_a):
    client = token_client(cast.admin_a)
    draft = start(client, cast)
    assert draft["state"] == "draft"
    people, placements = synthetic.generate_files(12, seed=5, period="2025Q3")
    sent = upload(client, draft["code"], people, kind="participants", name="people.csv")
    assert sent.status_code == 202
    assert sent.json()["new"] is True
    upload(client, draft["code"], placements, kind="placements", name="jobs.csv")
    status = client.get(f"{V1}/uploads/{sent.json()['upload']['code']}/").json()
    assert status["checking"] is False
    assert status["status"] == "checked"
    detail = client.get(f"{V1}/submissions/{draft['code']}/").json()
    assert detail["state"] == "ready"
    assert {u["kind"] for u in detail["uploads"]} == {"participants", "placements"}
    assert detail["finding_totals"]["errors"] == 0
    assert [e["kind"] for e in detail["history"]][-1] == "started"
    figures = client.get(f"{V1}/submissions/{draft['code']}/figures/").json()
    assert figures["period"] == "2025Q3"
    assert figures["windows"]["current_quarter"]["A-2"] >= 1
    certified = client.post(
        f"{V1}/submissions/{draft['code']}/certify/",
        {"name": "Ada Admin", "title": "Director", "agreed": True, "confirmed": True},
        format="json",
    )
    assert certified.status_code == 200, certified.json()
    assert certified.json()["state"] == "submitted"
    assert certified.json()["receipt_number"]


def test_the_same_file_sent_again_is_not_stored_twice(cast, period_a):
    client = token_client(cast.reporter_a)
    draft = start(client, cast)
    people, _ = synthetic.generate_files(5, seed=6, period="2025Q3")
    upload(client, draft["code"], people, kind="participants")
    again = upload(client, draft["code"], people, kind="participants", name="again.csv")
    assert again.status_code == 200
    assert again.json()["new"] is False
    assert Upload.objects.count() == 1


def test_a_hostile_file_is_refused_by_the_checks_as_on_the_page(cast, period_a):
    client = token_client(cast.admin_a)
    draft = start(client, cast)
    sent = upload(client, draft["code"], b"PK\x03\x04 not really a workbook", kind="participants",
                  name="people.xlsx")  # fmt: skip
    assert sent.status_code == 202
    assert client.get(f"{V1}/uploads/{sent.json()['upload']['code']}/").json()["status"] == (
        "refused"
    )
    codes = [f["rule"] for f in client.get(f"{V1}/submissions/{draft['code']}/findings/").json()[
        "results"
    ]]  # fmt: skip
    assert codes == ["F01"]


def test_findings_are_filtered_paged_by_cursor_and_masked(cast, period_a):
    client = token_client(cast.admin_a)
    draft = start(client, cast)
    upload(client, draft["code"], shifted_ssns(), kind="participants")
    url = f"{V1}/submissions/{draft['code']}/findings/"
    everything = client.get(url).json()
    assert everything["results"]
    assert leaks(str(everything)) == []
    assert "***-**-6789" in str(everything)
    zip_only = client.get(url, {"column": "zip_code"}).json()["results"]
    assert zip_only
    assert {f["column"] for f in zip_only} == {"zip_code"}
    first = client.get(url, {"page_size": 1}).json()
    assert len(first["results"]) == 1
    second = client.get(first["next"]).json()
    assert second["results"] != first["results"]
    viewer = token_client(cast.viewer_a).get(url).json()
    assert leaks(str(viewer)) == []


def test_bad_input_says_what_is_wrong_and_what_would_be_right(cast, period_a):
    client = token_client(cast.admin_a)
    draft = start(client, cast)
    wrong_kind = client.post(
        f"{V1}/submissions/{draft['code']}/uploads/",
        {"kind": "people", "file": io.BytesIO(b"x")},
        format="multipart",
    )
    assert wrong_kind.status_code == 400
    body = wrong_kind.json()
    assert body["code"] == "invalid"
    assert "use participants or placements" in body["fields"]["kind"][0]
    no_file = client.post(f"{V1}/submissions/{draft['code']}/uploads/", {"kind": "participants"})
    assert no_file.status_code == 400
    assert "file" in no_file.json()["fields"]
    severity = client.get(f"{V1}/submissions/{draft['code']}/findings/", {"severity": "fatal"})
    assert severity.status_code == 400
    assert "severity" in severity.json()["fields"]


def test_a_service_refusal_is_a_400_in_the_pages_words(cast, period_a):
    client = token_client(cast.admin_a)
    draft = start(client, cast)
    refused = client.post(
        f"{V1}/submissions/{draft['code']}/certify/", {"name": "Ada", "agreed": False}
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "code": "invalid",
        "detail": "Tick the certification box to attest the report.",
        "fields": {},
    }
    not_ready = client.post(
        f"{V1}/submissions/{draft['code']}/certify/", {"name": "Ada", "agreed": True}
    )
    assert not_ready.json()["detail"] == "Upload the participant and placement files first."
    assert client.get(f"{V1}/submissions/{draft['code']}/figures/").status_code == 409


def test_read_only_roles_writes_are_403_in_the_error_shape(cast, period_a):
    start(token_client(cast.admin_a), cast)
    draft = Submission.objects.get(period=period_a)
    viewer = token_client(cast.viewer_a)
    response = viewer.post(
        f"{V1}/submissions/{draft.code}/uploads/",
        {"kind": "participants", "file": io.BytesIO(b"x")},
        format="multipart",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "does not have a role that allows it" in response.json()["detail"]
    reporter = token_client(cast.reporter_a)
    assert reporter.post(f"{V1}/submissions/{draft.code}/certify/", {}).status_code == 403


def test_a_body_over_the_limit_is_a_413_in_the_error_shape(cast, period_a, settings):
    settings.REQUEST_BODY_MAX_BYTES = 1000
    client = token_client(cast.admin_a)
    draft = start(client, cast)
    response = client.post(
        f"{V1}/submissions/{draft['code']}/uploads/",
        {"kind": "participants", "file": io.BytesIO(b"x" * 5000)},
        format="multipart",
    )
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"


def test_an_unknown_api_address_is_a_json_404(cast):
    response = token_client(cast.admin_a).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_too_many_requests_from_one_token_get_429_with_retry_after(cast, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"api": "3/minute"})
    client = token_client(cast.viewer_a)
    answers = [client.get(f"{V1}/coalitions/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = client.get(f"{V1}/coalitions/")
    assert refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "Retry-After" in refused.json()["detail"]
    # Per token: the same person's other token has its own count.
    assert token_client(cast.viewer_a).get(f"{V1}/coalitions/").status_code == 200


def test_review_through_the_api_comment_return_accept(cast):
    sent = builders.submitted_version(
        builders.period_of(cast.coalition_a, "2025Q2"), cast.admin_a, participants=6, seed=3
    )
    coach = token_client(cast.coach_a)
    comment = coach.post(f"{V1}/submissions/{sent.code}/comments/", {"body": "Why?"}, format="json")
    assert comment.status_code == 201
    reply = token_client(cast.admin_a).post(
        f"{V1}/submissions/{sent.code}/comments/",
        {"body": "Because.", "parent": comment.json()["code"]},
        format="json",
    )
    assert reply.json()["parent"] == comment.json()["code"]
    listed = token_client(cast.viewer_a).get(f"{V1}/submissions/{sent.code}/comments/").json()
    assert [(c["body"], c["parent"]) for c in listed] == [
        ("Why?", None),
        ("Because.", comment.json()["code"]),
    ]
    assert coach.post(f"{V1}/submissions/{sent.code}/accept/").status_code == 403
    no_reason = coach.post(f"{V1}/submissions/{sent.code}/return/", {"reasons": [], "note": "x"},
                           format="json")  # fmt: skip
    assert no_reason.status_code == 400
    assert "at least one reason" in no_reason.json()["detail"]
    officer = token_client(cast.officer)
    accepted = officer.post(f"{V1}/submissions/{sent.code}/accept/")
    assert accepted.json()["state"] == "accepted"
    returned = coach.post(
        f"{V1}/submissions/{sent.code}/return/",
        {"reasons": [ReturnReason.NARRATIVE], "note": "Explain."},
        format="json",
    )
    assert returned.status_code == 400
    assert "only a submitted or in-review version can be returned" in returned.json()["detail"]


def test_exports_request_status_and_download(cast, monkeypatch):
    from reporting.services import exports
    from tests.reporting.test_exports import FakeRenderer

    monkeypatch.setattr(exports, "_renderer", FakeRenderer())
    with TestCase.captureOnCommitCallbacks(execute=True):
        builders.submitted_version(
            builders.period_of(cast.coalition_a, "2025Q2"), cast.admin_a, participants=6, seed=3
        )
    client = token_client(cast.viewer_a)
    with TestCase.captureOnCommitCallbacks(execute=True):
        asked = client.post(
            f"{V1}/exports/",
            {
                "kind": "coalition_report",
                "quarter": "2025Q2",
                "coalition": str(cast.coalition_a.code),
            },
            format="json",
        )
    assert asked.status_code == 202, asked.json()
    code = asked.json()["code"]
    status = client.get(f"{V1}/exports/{code}/").json()
    assert status["status"] == "ready"
    download = client.get(f"{V1}/exports/{code}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content)
    outsider = token_client(cast.outsider_b)
    assert outsider.get(f"{V1}/exports/{code}/").status_code == 404
    program = client.post(f"{V1}/exports/", {"kind": "program_summary", "quarter": "2025Q2"})
    assert program.status_code == 403


def test_roll_ups_per_coalition_and_program(cast):
    with TestCase.captureOnCommitCallbacks(execute=True):
        sent = builders.submitted_version(
            builders.period_of(cast.coalition_a, "2025Q2"), cast.admin_a, participants=6, seed=3
        )
    rows = token_client(cast.viewer_a).get(f"{V1}/coalitions/{cast.coalition_a.code}/rollups/")
    assert [r["quarter"] for r in rows.json()] == ["2025Q2"]
    assert rows.json()[0]["figures"]["windows"]["current_quarter"]["A-2"] >= 1
    program = token_client(cast.officer).get(f"{V1}/program/rollups/", {"quarter": "2025q2"})
    assert "program" in [r["segment"] for r in program.json()]
    assert token_client(cast.viewer_a).get(f"{V1}/program/rollups/").status_code == 403
    assert not Finding.objects.filter(upload__submission=sent, severity="error").exists()
