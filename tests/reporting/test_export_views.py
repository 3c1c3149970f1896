"""Every export route, for every member of the cast: program staff everything, the coach
coalition A only, A's members A's report only (for versions that count), the outsider
nothing of A's. Changes are POST only; the list pages keep a fixed query count."""

import hashlib
from unittest.mock import ANY

import pytest
from django.urls import reverse

from bpij.models import AuditAction, AuditEvent, StaffRole
from reporting import services
from reporting.models import Export, ExportKind, ExportStatus, Submission, SubmissionState
from tests import factories
from tests.reporting import test_exports

# The services' fixtures: two coalitions' reports rolled up, a renderer standing in.
reported = test_exports.reported
renderer = test_exports.renderer

REPORT, SUMMARY = ExportKind.COALITION_REPORT, ExportKind.PROGRAM_SUMMARY
XLSX = ExportKind.DATA_PACK_XLSX
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def made(cast, reported, renderer):
    """A's report and data pack, and the program summary, rendered and stored."""
    out = {
        "report": services.export_request(
            actor=cast.officer, kind=REPORT, quarter="2025Q3", coalition=cast.coalition_a
        ),
        "pack": services.export_request(
            actor=cast.officer, kind=XLSX, quarter="2025Q3", coalition=cast.coalition_a
        ),
        "summary": services.export_request(actor=cast.officer, kind=SUMMARY, quarter="2025Q3"),
        "b_report": services.export_request(
            actor=cast.officer, kind=REPORT, quarter="2025Q3", coalition=cast.coalition_b
        ),
    }
    for export in out.values():
        services.export_render(export_id=export.pk)
        export.refresh_from_db()
    return out


# -- The coalition's exports page -----------------------------------------------------

LIST = {
    "officer": 200,
    "jff_admin": 200,
    "coach_a": 200,
    "admin_a": 200,
    "reporter_a": 200,
    "viewer_a": 200,
    "outsider_b": 404,
}


@pytest.mark.parametrize(("who", "status"), LIST.items())
def test_the_coalition_exports_page(cast, client_for, made, who, status):
    response = client_for(cast[who]).get(
        reverse("reporting:export-list", args=[cast.coalition_a.code])
    )
    assert response.status_code == status
    if status != 200:
        return
    page = response.content.decode()
    assert str(made["report"].code) in page
    assert made["report"].sha256 in page
    assert str(made["b_report"].code) not in page
    assert str(made["summary"].code) not in page
    # Grantees see their reports, not JFF's data packs, and may ask only for the report.
    grantee = who in ("admin_a", "reporter_a", "viewer_a")
    assert (str(made["pack"].code) in page) is not grantee
    assert ('value="data_pack_xlsx"' in page) is not grantee
    assert 'value="coalition_report"' in page
    assert '<option value="2025Q3">' in page
    assert "Version 1 (submitted)" in page


@pytest.mark.parametrize("who", ["coach_a", "admin_a", "viewer_a"])
def test_another_coalitions_exports_page_does_not_exist_for_them(cast, client_for, who):
    response = client_for(cast[who]).get(
        reverse("reporting:export-list", args=[cast.coalition_b.code])
    )
    assert response.status_code == 404


# -- Asking for a coalition's export --------------------------------------------------

ASK = {
    ("officer", REPORT): 302,
    ("jff_admin", XLSX): 302,
    ("coach_a", REPORT): 302,
    ("coach_a", XLSX): 302,
    ("admin_a", REPORT): 302,
    ("reporter_a", REPORT): 302,
    ("viewer_a", REPORT): 302,
    ("admin_a", XLSX): 403,
    ("viewer_a", XLSX): 403,
    ("outsider_b", REPORT): 404,
}


@pytest.mark.parametrize(("who_kind", "status"), ASK.items())
def test_asking_for_a_coalition_export(
    cast,
    client_for,
    reported,
    renderer,
    who_kind,
    status,
):
    who, kind = who_kind
    url = reverse("reporting:export-request", args=[cast.coalition_a.code])
    response = client_for(cast[who]).post(url, {"kind": kind, "quarter": "2025Q3"})
    assert response.status_code == status
    exports = Export.objects.filter(coalition=cast.coalition_a, kind=kind)
    if status == 302:
        export = exports.get()
        assert export.requested_by == cast[who]
        assert export.status == ExportStatus.QUEUED
        assert response["Location"] == (
            reverse("reporting:export-list", args=[cast.coalition_a.code])
            + f"#export-{export.code}"
        )
    else:
        assert not exports.exists()


def test_asking_for_another_coalitions_export_is_a_404(cast, client_for, reported):
    url = reverse("reporting:export-request", args=[cast.coalition_b.code])
    response = client_for(cast.coach_a).post(url, {"kind": REPORT, "quarter": "2025Q3"})
    assert response.status_code == 404


def test_a_bad_request_comes_back_with_the_reason(cast, client_for, reported):
    client = client_for(cast.officer)
    url = reverse("reporting:export-request", args=[cast.coalition_a.code])
    response = client.post(url, {"kind": REPORT, "quarter": "2025Q2"}, follow=True)
    assert response.status_code == 200
    assert "report has no version that counts yet" in response.content.decode()
    assert not Export.objects.exists()


def test_the_page_after_asking_polls_the_new_row(cast, client_for, reported, renderer):
    client = client_for(cast.officer)
    url = reverse("reporting:export-request", args=[cast.coalition_a.code])
    page = client.post(url, {"kind": REPORT, "quarter": "2025Q3"}, follow=True)
    export = Export.objects.get()
    html = page.content.decode()
    assert "being prepared; its row below says when it is ready" in html
    status_url = reverse("reporting:export-status", args=[export.code])
    assert f'hx-get="{status_url}" hx-trigger="every 2s"' in html
    assert 'id="export-announcer" class="usa-sr-only" aria-live="polite"' in html


# -- The program-wide exports ---------------------------------------------------------

PROGRAM = {
    "officer": 200,
    "jff_admin": 200,
    "coach_a": 403,
    "admin_a": 403,
    "reporter_a": 403,
    "viewer_a": 403,
    "outsider_b": 403,
}


@pytest.mark.parametrize(("who", "status"), PROGRAM.items())
def test_the_program_exports_page(cast, client_for, made, who, status):
    response = client_for(cast[who]).get(reverse("reporting:program-exports"))
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert str(made["summary"].code) in page
        assert str(made["report"].code) not in page
        assert 'value="program_summary"' in page
        assert "2 coalitions&#x27; reports (0 accepted)" in page


@pytest.mark.parametrize(("who", "status"), PROGRAM.items())
def test_asking_for_the_program_summary(cast, client_for, reported, renderer, who, status):
    response = client_for(cast[who]).post(
        reverse("reporting:program-export-request"), {"kind": SUMMARY, "quarter": "2025Q3"}
    )
    assert response.status_code == (302 if status == 200 else 403)
    assert Export.objects.filter(kind=SUMMARY).exists() is (status == 200)


def test_a_federal_project_officer_gets_the_summary_but_not_the_program_data_packs(
    cast, client_for, made
):
    funder = factories.StaffFactory(staff_role=StaffRole.FUNDER_VIEWER)
    client = client_for(funder)
    # Their summaries count accepted reports: the form is offered once one is accepted.
    bravo = Submission.objects.get(coalition=cast.coalition_b, period__quarter="2025Q3")
    Submission.objects.filter(pk=bravo.pk).update(state=SubmissionState.ACCEPTED)
    services.rollup_period(period_id=bravo.period_id, program=False)
    page = client.get(reverse("reporting:program-exports")).content.decode()
    assert 'value="program_summary"' in page
    assert 'value="data_pack_xlsx"' not in page
    response = client.post(
        reverse("reporting:program-export-request"), {"kind": XLSX, "quarter": "2025Q3"}
    )
    assert response.status_code == 403
    download = client.get(reverse("reporting:export-download", args=[made["summary"].code]))
    assert download.status_code == 200
    # A's report was made from a version JFF has not accepted.
    report = client.get(reverse("reporting:export-download", args=[made["report"].code]))
    assert report.status_code == 403


def test_the_program_summary_is_offered_to_the_fpo_only_for_quarters_with_an_accepted_report(
    cast, client_for, reported
):
    """Their summaries count accepted reports only: a quarter whose reports are all still
    awaiting JFF's review was offered, and asking for it was then refused."""
    funder = factories.StaffFactory(staff_role=StaffRole.FUNDER_VIEWER)
    client = client_for(funder)
    url = reverse("reporting:program-exports")
    page = client.get(url).content.decode()
    assert 'value="2025Q3"' not in page
    assert "JFF has not accepted a coalition's report yet" in page
    assert 'value="2025Q3"' in client_for(cast.officer).get(url).content.decode()

    accepted = reported[0]
    Submission.objects.filter(pk=accepted.pk).update(state=SubmissionState.ACCEPTED)
    services.rollup_period(period_id=accepted.period_id, program=False)
    assert 'value="2025Q3"' in client.get(url).content.decode()


# -- Status and download --------------------------------------------------------------

STORED = {
    # (who, which export): status code for both the status row and the download
    ("officer", "report"): 200,
    ("officer", "summary"): 200,
    ("jff_admin", "pack"): 200,
    ("coach_a", "report"): 200,
    ("coach_a", "pack"): 200,
    ("coach_a", "b_report"): 404,
    ("coach_a", "summary"): 404,
    ("admin_a", "report"): 200,
    ("reporter_a", "report"): 200,
    ("viewer_a", "report"): 200,
    ("admin_a", "pack"): 403,
    ("viewer_a", "pack"): 403,
    ("admin_a", "b_report"): 404,
    ("admin_a", "summary"): 404,
    ("outsider_b", "report"): 404,
    ("outsider_b", "b_report"): 200,
}


@pytest.mark.parametrize(("who_which", "status"), STORED.items())
def test_downloading_a_stored_export(cast, client_for, made, who_which, status):
    who, which = who_which
    export = made[which]
    response = client_for(cast[who]).get(reverse("reporting:export-download", args=[export.code]))
    assert response.status_code == status
    downloads = AuditEvent.objects.filter(action=AuditAction.EXPORT_DOWNLOADED)
    if status != 200:
        assert not downloads.exists()
        return
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == export.sha256
    assert response["Content-Disposition"] == f'attachment; filename="{export.filename}"'
    expected = (
        "application/pdf"
        if export.kind in (REPORT, SUMMARY)
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Type"] == expected
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    event = downloads.get()
    assert event.actor == cast[who]
    assert event.detail == {
        "export": str(export.code),
        "sha256": export.sha256,
        "request_id": ANY,
    }


@pytest.mark.parametrize(("who_which", "status"), STORED.items())
def test_the_status_row_of_an_export(cast, client_for, made, who_which, status):
    who, which = who_which
    export = made[which]
    url = reverse("reporting:export-status", args=[export.code])
    response = client_for(cast[who]).get(url, **HTMX)
    assert response.status_code == status


def test_the_status_row_polls_until_ready_then_announces_it(
    cast,
    client_for,
    reported,
    renderer,
):
    export = services.export_request(
        actor=cast.officer, kind=REPORT, quarter="2025Q3", coalition=cast.coalition_a
    )
    client = client_for(cast.admin_a)
    url = reverse("reporting:export-status", args=[export.code])
    waiting = client.get(url, **HTMX).content.decode()
    assert 'hx-trigger="every 2s"' in waiting
    assert "export-announcer" not in waiting
    services.export_render(export_id=export.pk)
    done = client.get(url, **HTMX).content.decode()
    assert "hx-trigger" not in done  # polling stops
    assert reverse("reporting:export-download", args=[export.code]) in done
    assert 'id="export-announcer" hx-swap-oob="innerHTML"' in done
    assert "Quarterly performance report (PDF) for 2025Q3: ready to download." in done
    # Without htmx the row's page is where to look.
    plain = client.get(url)
    assert plain.status_code == 302
    assert plain["Location"].endswith(f"#export-{export.code}")


def test_a_failed_export_says_so_in_its_row(cast, client_for, reported, renderer):
    renderer.error = ValueError("boom")
    export = services.export_request(
        actor=cast.officer, kind=REPORT, quarter="2025Q3", coalition=cast.coalition_a
    )
    services.export_render(export_id=export.pk)
    row = (
        client_for(cast.officer)
        .get(reverse("reporting:export-status", args=[export.code]), **HTMX)
        .content.decode()
    )
    assert "Failed" in row
    assert "could not be rendered" in row
    assert "boom" not in row
    assert "hx-trigger" not in row


def test_an_export_not_ready_yet_has_nothing_to_download(cast, client_for, reported, renderer):
    export = services.export_request(
        actor=cast.officer, kind=REPORT, quarter="2025Q3", coalition=cast.coalition_a
    )
    response = client_for(cast.officer).get(
        reverse("reporting:export-download", args=[export.code])
    )
    assert response.status_code == 404


# -- Methods and query budgets --------------------------------------------------------


def test_changes_are_post_only_and_reads_get_only(cast, client_for, made):
    client = client_for(cast.officer)
    code = made["report"].code
    a = cast.coalition_a.code
    assert client.get(reverse("reporting:export-request", args=[a])).status_code == 405
    assert client.get(reverse("reporting:program-export-request")).status_code == 405
    for url in (
        reverse("reporting:export-list", args=[a]),
        reverse("reporting:program-exports"),
        reverse("reporting:export-status", args=[code]),
        reverse("reporting:export-download", args=[code]),
    ):
        assert client.post(url).status_code == 405, url


@pytest.mark.parametrize("who", ["officer", "coach_a", "viewer_a"])
def test_the_coalition_exports_page_keeps_its_query_count(
    cast, client_for, made, django_assert_max_num_queries, who
):
    client = client_for(cast[who])
    url = reverse("reporting:export-list", args=[cast.coalition_a.code])
    client.get(url)
    for n in range(12):
        Export.objects.create(
            coalition=cast.coalition_a,
            kind=REPORT,
            quarter="2025Q3",
            request_key=f"{n:064x}",
            status=ExportStatus.FAILED,
            requested_by=cast.officer,
            error="An old failure.",
        )
    # Session and user, scope in and out, coalition, membership or assignment, quarters,
    # the page and its count: the same with 1 export or 13.
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


def test_the_program_exports_page_keeps_its_query_count(
    cast, client_for, made, django_assert_max_num_queries
):
    client = client_for(cast.officer)
    for n in range(12):
        Export.objects.create(
            kind=SUMMARY,
            quarter="2025Q3",
            request_key=f"{n:064x}",
            status=ExportStatus.FAILED,
            requested_by=cast.officer,
        )
    with django_assert_max_num_queries(11):
        assert client.get(reverse("reporting:program-exports")).status_code == 200


def test_a_sent_reports_page_links_to_its_exports(cast, client_for, reported):
    client = client_for(cast.viewer_a)
    page = client.get(reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"]))
    exports_url = reverse("reporting:export-list", args=[cast.coalition_a.code])
    assert (
        f'<a class="usa-link" href="{exports_url}">Export version 1 as the quarterly '
        "performance report for DOL (PDF)</a>"
    ) in page.content.decode()
    # A quarter still being worked on has nothing to export yet.
    draft = client.get(reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q4"]))
    assert draft.status_code == 200
    assert "as the quarterly performance report for DOL" not in draft.content.decode()
