"""Export jobs: who may export what, identical requests reuse the stored file, a change
in the data makes a new one, rendering is claimed at most once, failures are recorded
with a message fit for people, and the stored bytes match their SHA-256."""

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from bpij import tenancy
from bpij.models import AuditAction, AuditEvent, StaffRole
from reporting import permissions, services, tasks
from reporting.models import (
    Export,
    ExportKind,
    ExportStatus,
    Reminder,
    ReminderKind,
    Rollup,
    SubmissionState,
)
from reporting.selectors import exports as export_selectors
from reporting.services import exports, recovery
from tests import builders, factories


class FakeRenderer:
    """Stands in for the PDF and data-pack renderers where the test is about the job,
    not the file: the bytes echo what it was asked, so the stored file can be checked."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.error: Exception | None = None

    def __call__(self, kind: str):
        def render(**kwargs) -> bytes:
            self.calls.append((kind, kwargs))
            if self.error is not None:
                raise self.error
            return b"%PDF-1.7 fake\n" + json.dumps([kind, kwargs], sort_keys=True).encode()

        return render


@pytest.fixture
def renderer(monkeypatch) -> FakeRenderer:
    fake = FakeRenderer()
    monkeypatch.setattr(exports, "_renderer", fake)
    return fake


@pytest.fixture
def reported(cast):
    """Alpha's and Bravo's 2025Q3 reports submitted and rolled up, and the program's."""
    versions = []
    for coalition, admin, seed in (
        (cast.coalition_a, cast.admin_a, 11),
        (cast.coalition_b, cast.outsider_b, 12),
    ):
        period = builders.period_of(coalition, "2025Q3")
        version = builders.submitted_version(period, admin, participants=25, seed=seed)
        services.rollup_period(period_id=period.pk, program=False)
        versions.append(version)
    services.rollup_program(quarter="2025Q3")
    return versions


def request(actor, kind=ExportKind.COALITION_REPORT, coalition=None, quarter="2025Q3", **kw):
    return services.export_request(
        actor=actor, kind=kind, quarter=quarter, coalition=coalition, **kw
    )


def requested_and_rendered(capture, actor, **kwargs) -> Export:
    with capture(execute=True):
        export = request(actor, **kwargs)
    export.refresh_from_db()
    return export


# -- Who may export what --------------------------------------------------------------

REPORT, SUMMARY = ExportKind.COALITION_REPORT, ExportKind.PROGRAM_SUMMARY
XLSX, CSV = ExportKind.DATA_PACK_XLSX, ExportKind.DATA_PACK_CSV


@pytest.mark.parametrize(
    ("who", "kind", "scope", "allowed"),
    [
        ("officer", REPORT, "a", True),
        ("officer", SUMMARY, None, True),
        ("officer", XLSX, None, True),
        ("jff_admin", CSV, "b", True),
        ("coach_a", REPORT, "a", True),
        ("coach_a", XLSX, "a", True),
        ("coach_a", REPORT, "b", False),
        ("coach_a", SUMMARY, None, False),
        ("coach_a", XLSX, None, False),
        ("admin_a", REPORT, "a", True),
        ("reporter_a", REPORT, "a", True),
        ("viewer_a", REPORT, "a", True),
        ("admin_a", XLSX, "a", False),
        ("admin_a", REPORT, "b", False),
        ("admin_a", SUMMARY, None, False),
        ("outsider_b", REPORT, "a", False),
    ],
)
def test_who_may_export_what(cast, who, kind, scope, allowed):
    coalition = {"a": cast.coalition_a, "b": cast.coalition_b, None: None}[scope]
    assert permissions.can_export(cast[who], kind=kind, coalition=coalition) is allowed


def test_grantees_export_only_quarters_whose_version_counts(cast, reported, renderer):
    period = reported[0].period
    assert permissions.can_export(
        cast.viewer_a, kind=REPORT, coalition=cast.coalition_a, period=period
    )
    services.submission_return(
        submission=reported[0], actor=cast.officer, reasons=["figures"], note="Check A-2."
    )
    services.rollup_period(period_id=period.pk, program=False)
    assert not permissions.can_export(
        cast.viewer_a, kind=REPORT, coalition=cast.coalition_a, period=period
    )
    with pytest.raises(ValidationError, match="no version that counts"):
        request(cast.admin_a, coalition=cast.coalition_a)


def test_a_federal_project_officer_exports_accepted_reports_and_the_program_summary(
    cast, reported, renderer
):
    funder = factories.StaffFactory(staff_role=StaffRole.FUNDER_VIEWER)
    period = reported[0].period
    assert permissions.can_export(funder, kind=SUMMARY, coalition=None)
    assert not permissions.can_export(funder, kind=XLSX, coalition=None)
    assert not permissions.can_export(
        funder, kind=REPORT, coalition=cast.coalition_a, period=period
    )
    with pytest.raises(PermissionDenied):
        request(funder, coalition=cast.coalition_a)
    services.submission_accept(submission=reported[0], actor=cast.officer)
    services.rollup_period(period_id=period.pk, program=False)
    assert permissions.can_export(funder, kind=REPORT, coalition=cast.coalition_a, period=period)
    assert request(funder, coalition=cast.coalition_a).kind == REPORT


def test_an_inactive_account_exports_nothing(cast):
    cast.officer.is_active = False
    assert not permissions.can_export(cast.officer, kind=SUMMARY, coalition=None)


# -- Asking, rendering, storing ---------------------------------------------------------


def test_a_request_is_rendered_on_commit_and_stored_with_its_sha256_and_provenance(
    cast, reported, renderer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        export = request(cast.coach_a, coalition=cast.coalition_a)
    assert export.status == ExportStatus.QUEUED
    assert len(queued) == 1  # the render waits for the commit
    assert renderer.calls == []
    for callback in queued:
        callback()
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    assert export.filename == "bpij-2025q3-alpha-v1-report.pdf"
    assert export.file.name == f"exports/{export.code}/bpij-2025q3-alpha-v1-report.pdf"
    with export.file.open("rb") as handle:
        stored = handle.read()
    assert export.sha256 == hashlib.sha256(stored).hexdigest()
    assert export.size == len(stored)
    assert export.started_at <= export.finished_at
    ((kind, kwargs),) = renderer.calls
    assert kind == REPORT
    assert kwargs["period_id"] == reported[0].period_id
    # What the renderer was given to print is what the export keeps.
    assert kwargs["provenance"] == export.provenance
    provenance = export.provenance
    assert provenance["export"] == str(export.code)
    assert provenance["generated_by"] == f"{cast.coach_a.full_name} <{cast.coach_a.email}>"
    assert provenance["generated_at"].startswith(str(timezone.localdate()))
    assert provenance["submissions"] == [
        {
            "coalition": cast.coalition_a.name,
            "slug": "alpha",
            "quarter": "2025Q3",
            "version": 1,
            "state": "submitted",
            "certified_at": reported[0].certified_at.isoformat(),
            "accepted_at": None,
        }
    ]
    event = AuditEvent.objects.get(action=AuditAction.EXPORT_REQUESTED)
    assert event.actor == cast.coach_a
    assert event.coalition_name == cast.coalition_a.name
    assert event.detail == {
        "export": str(export.code),
        "kind": REPORT,
        "quarter": "2025Q3",
        "reused": False,
    }


def test_an_identical_request_reuses_the_stored_file(
    cast, reported, renderer, django_capture_on_commit_callbacks
):
    first = requested_and_rendered(
        django_capture_on_commit_callbacks, cast.officer, coalition=cast.coalition_a
    )
    with django_capture_on_commit_callbacks() as queued:
        again = request(cast.admin_a, coalition=cast.coalition_a)
    assert again.pk == first.pk
    assert queued == []  # nothing is rendered again
    assert len(renderer.calls) == 1
    assert Export.objects.count() == 1
    reuse = AuditEvent.objects.filter(action=AuditAction.EXPORT_REQUESTED).order_by("pk").last()
    assert reuse.actor == cast.admin_a
    assert reuse.detail["reused"] is True


def test_a_request_while_the_first_is_still_queued_shares_it(
    cast, reported, renderer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        first = request(cast.officer, kind=SUMMARY)
        second = request(cast.jff_admin, kind=SUMMARY)
    assert first.pk == second.pk
    assert len(queued) == 1


@pytest.mark.parametrize("scope", ["coalition", "program"])
def test_a_changed_version_gives_a_new_export(
    cast, reported, renderer, django_capture_on_commit_callbacks, scope
):
    options = {"coalition": cast.coalition_a} if scope == "coalition" else {"kind": SUMMARY}
    first = requested_and_rendered(django_capture_on_commit_callbacks, cast.officer, **options)
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_accept(submission=reported[0], actor=cast.officer)
    assert Rollup.objects.get(submission=reported[0]).accepted
    second = requested_and_rendered(django_capture_on_commit_callbacks, cast.officer, **options)
    assert second.pk != first.pk
    assert second.request_key != first.request_key
    assert second.status == ExportStatus.READY
    states = {s["slug"]: s["state"] for s in second.provenance["submissions"]}
    assert states["alpha"] == SubmissionState.ACCEPTED
    first.refresh_from_db()
    assert first.status == ExportStatus.READY  # the earlier file is kept unchanged


def test_a_changed_target_gives_a_new_export(cast, reported, renderer):
    first = request(cast.officer, coalition=cast.coalition_a)
    cast.coalition_a.targets.update(value=700)
    assert request(cast.officer, coalition=cast.coalition_a).pk != first.pk


def test_each_kind_is_its_own_export_with_its_own_file_name(cast, reported, renderer):
    names = {
        (kind, scope): request(cast.officer, kind=kind, coalition=coalition).filename
        for kind, scope, coalition in (
            (XLSX, "a", cast.coalition_a),
            (CSV, "a", cast.coalition_a),
            (SUMMARY, None, None),
            (XLSX, None, None),
            (CSV, None, None),
        )
    }
    assert names == {
        (XLSX, "a"): "bpij-2025q3-alpha-data-pack.xlsx",
        (CSV, "a"): "bpij-2025q3-alpha-data-pack.zip",
        (SUMMARY, None): "bpij-2025q3-program-summary.pdf",
        (XLSX, None): "bpij-2025q3-program-data-pack.xlsx",
        (CSV, None): "bpij-2025q3-program-data-pack.zip",
    }


def test_data_packs_are_rendered_with_their_scope(
    cast, reported, renderer, django_capture_on_commit_callbacks
):
    requested_and_rendered(
        django_capture_on_commit_callbacks, cast.coach_a, kind=XLSX, coalition=cast.coalition_a
    )
    requested_and_rendered(django_capture_on_commit_callbacks, cast.officer, kind=CSV)
    assert [(kind, kw["quarter"], kw["coalition_id"]) for kind, kw in renderer.calls] == [
        (XLSX, "2025Q3", cast.coalition_a.pk),
        (CSV, "2025Q3", None),
    ]
    program = Export.objects.get(kind=CSV)
    assert {s["slug"] for s in program.provenance["submissions"]} == {"alpha", "bravo"}


def test_rendering_is_claimed_at_most_once(cast, reported, renderer):
    export = request(cast.officer, coalition=cast.coalition_a)
    assert services.export_render(export_id=export.pk).status == ExportStatus.READY
    # A redelivered or duplicate job finds it taken and does nothing.
    assert services.export_render(export_id=export.pk) is None
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RENDERING)
    assert services.export_render(export_id=export.pk) is None
    assert len(renderer.calls) == 1


def test_a_failure_is_recorded_without_the_details_and_a_new_request_starts_again(
    cast, reported, renderer, caplog
):
    renderer.error = RuntimeError("connection to 10.0.0.7 refused; traceback follows")
    export = request(cast.officer, coalition=cast.coalition_a)
    assert services.export_render(export_id=export.pk) is None
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert "could not be rendered" in export.error
    assert str(export.code) in export.error
    assert "10.0.0.7" not in export.error
    assert not export.file
    assert not export.sha256
    assert "10.0.0.7" in caplog.text  # the operators' log has the cause
    renderer.error = None
    again = request(cast.officer, coalition=cast.coalition_a)
    assert again.pk != export.pk
    assert services.export_render(export_id=again.pk).status == ExportStatus.READY


def test_a_render_that_finds_the_figures_changed_fails_and_says_why(cast, reported, renderer):
    export = request(cast.officer, coalition=cast.coalition_a)
    services.submission_accept(submission=reported[0], actor=cast.officer)
    services.rollup_period(period_id=reported[0].period_id, program=False)
    assert services.export_render(export_id=export.pk) is None
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert "figures changed after this export was requested" in export.error
    assert renderer.calls == []


def test_a_render_whose_worker_died_is_never_handed_out_as_on_its_way(
    cast, reported, renderer, settings, django_capture_on_commit_callbacks
):
    export = request(cast.officer, coalition=cast.coalition_a)
    long_ago = timezone.now() - timedelta(seconds=settings.EXPORT_REQUEUE_AFTER + 1)
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.RENDERING, started_at=long_ago, attempts=1
    )
    # Attempts left: it is sent to the worker again, and rendered.
    with django_capture_on_commit_callbacks(execute=True) as queued:
        again = request(cast.officer, coalition=cast.coalition_a)
    assert again.pk == export.pk
    assert len(queued) == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    assert export.attempts == 2
    # Its attempts used: failed, saying its worker stopped (not a time limit), and the
    # next request makes a new export.
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.RENDERING, started_at=long_ago, attempts=settings.EXPORT_MAX_ATTEMPTS
    )
    new = request(cast.officer, coalition=cast.coalition_a)
    assert new.pk != export.pk
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert "The worker rendering this export stopped before it finished" in export.error
    assert "within" not in export.error
    # One still within its time is waited for, not replaced.
    Export.objects.filter(pk=new.pk).update(
        status=ExportStatus.RENDERING, started_at=timezone.now()
    )
    assert request(cast.officer, coalition=cast.coalition_a).pk == new.pk


def test_a_render_whose_heartbeat_stopped_is_dead_long_before_its_time_limit(
    cast, reported, renderer, settings, client_for, django_capture_on_commit_callbacks
):
    # The rendering worker writes a heartbeat every EXPORT_HEARTBEAT_INTERVAL seconds
    # (issue 13: a worker killed mid-render was seen dead only after 180 s).
    export = request(cast.officer, coalition=cast.coalition_a)
    now = timezone.now()
    stopped = now - timedelta(seconds=settings.EXPORT_HEARTBEAT_STALE + 1)
    assert stopped > now - timedelta(seconds=settings.EXPORT_REQUEUE_AFTER)
    # Started a while ago, its heartbeat fresh: alive, waited for.
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.RENDERING, started_at=stopped, heartbeat_at=now, attempts=1
    )
    assert request(cast.officer, coalition=cast.coalition_a).pk == export.pk
    with tenancy.system_scope():
        assert recovery.sweep().exports_sent == []
    export.refresh_from_db()
    assert (export.status, export.attempts) == (ExportStatus.RENDERING, 1)
    # Its heartbeat stopped: the sweeper sends it to a worker again.
    Export.objects.filter(pk=export.pk).update(heartbeat_at=stopped)
    with django_capture_on_commit_callbacks(execute=True), tenancy.system_scope():
        assert recovery.sweep().exports_sent == [export.pk]
    export.refresh_from_db()
    assert (export.status, export.attempts) == (ExportStatus.READY, 2)
    assert export.heartbeat_at is not None  # the render that finished wrote its own

    # The exports page's poll finds one whose heartbeat stopped, as the person waits.
    other = request(cast.officer, coalition=cast.coalition_b)
    Export.objects.filter(pk=other.pk).update(
        status=ExportStatus.RENDERING, started_at=stopped, heartbeat_at=stopped, attempts=1
    )
    poll = client_for(cast.officer)
    with django_capture_on_commit_callbacks(execute=True):
        row = poll.get(
            reverse("reporting:export-status", args=[other.code]), HTTP_HX_REQUEST="true"
        )
    assert row.status_code == 200
    other.refresh_from_db()
    assert (other.status, other.attempts) == (ExportStatus.READY, 2)
    # Its attempts used: the poll shows it failed, saying its worker stopped.
    Export.objects.filter(pk=other.pk).update(
        status=ExportStatus.RENDERING,
        started_at=stopped,
        heartbeat_at=stopped,
        attempts=settings.EXPORT_MAX_ATTEMPTS,
    )
    row = poll.get(reverse("reporting:export-status", args=[other.code]), HTTP_HX_REQUEST="true")
    other.refresh_from_db()
    assert other.status == ExportStatus.FAILED
    assert "The worker rendering this export stopped before it finished" in row.content.decode()


def test_a_render_delivered_again_after_its_worker_died_takes_the_export_over(
    cast, reported, renderer, settings
):
    # The pool process rendering it was killed: reject_on_worker_lost puts the message
    # back, marked redelivered, and the next worker process takes the export over.
    export = request(cast.officer, coalition=cast.coalition_a)
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.RENDERING, started_at=timezone.now(), attempts=1
    )
    assert services.export_render(export_id=export.pk) is None  # a duplicate: left alone
    rendered = services.export_render(export_id=export.pk, redelivered=True)
    assert rendered is not None
    assert rendered.status == ExportStatus.READY
    assert rendered.attempts == 2
    # One that killed its worker every time stops, and says so.
    again = request(cast.officer, coalition=cast.coalition_b)
    Export.objects.filter(pk=again.pk).update(
        status=ExportStatus.RENDERING,
        started_at=timezone.now(),
        attempts=settings.EXPORT_MAX_ATTEMPTS,
    )
    assert services.export_render(export_id=again.pk, redelivered=True) is None
    again.refresh_from_db()
    assert again.status == ExportStatus.FAILED
    assert again.error.startswith("The worker rendering this export stopped before it finished")


def test_a_render_that_meets_a_database_error_is_retried_and_finishes(
    cast, reported, renderer, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        export = request(cast.officer, coalition=cast.coalition_a)
    cut: list[str] = []

    def flaky_renderer(kind):
        render = renderer(kind)

        def flaky(**kwargs):
            if not cut:
                cut.append(kind)
                raise OperationalError("server closed the connection unexpectedly")
            return render(**kwargs)

        return flaky

    monkeypatch.setattr(exports, "_renderer", flaky_renderer)
    # What the worker does: the retry (autoretry_for) runs the task again.
    tasks.render_export.apply(args=[export.pk], throw=False)
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    assert export.attempts == 2


def test_an_export_left_waiting_is_sent_to_the_worker_again_when_asked_for(
    cast, reported, renderer, django_capture_on_commit_callbacks
):
    export = request(cast.officer, coalition=cast.coalition_a)
    with django_capture_on_commit_callbacks() as queued:
        assert request(cast.officer, coalition=cast.coalition_a).pk == export.pk
    assert queued == []  # still fresh: the first job will take it
    Export.objects.filter(pk=export.pk).update(
        requested_at=timezone.now() - exports.REQUEUE_AFTER - timedelta(seconds=1),
        queued_at=timezone.now() - exports.REQUEUE_AFTER - timedelta(seconds=1),
    )
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert request(cast.officer, coalition=cast.coalition_a).pk == export.pk
    assert len(queued) == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.READY


def test_two_requests_racing_end_with_one_export(cast, reported, renderer, monkeypatch):
    winner = request(cast.officer, coalition=cast.coalition_a)
    # The second request looked before the first had inserted its row.
    monkeypatch.setattr(exports, "_reusable", lambda key, now: None)
    loser = request(cast.jff_admin, coalition=cast.coalition_a)
    assert loser.pk == winner.pk
    assert Export.objects.count() == 1
    with pytest.raises(IntegrityError):
        Export.objects.create(
            kind=REPORT, quarter="2025Q3", request_key=winner.request_key, requested_by=cast.officer
        )


@pytest.mark.parametrize(
    ("kind", "scope", "quarter", "message"),
    [
        (REPORT, "a", "2025-3", "'2025-3' is not a quarter: write it like 2025Q3"),
        ("pdf", "a", "2025Q3", "'pdf' is not a kind of export"),
        (REPORT, None, "2025Q3", "Choose the coalition"),
        (SUMMARY, "a", "2025Q3", "covers every coalition"),
        (REPORT, "a", "2019Q1", "has no 2019Q1 report. Its reports run from 2023Q4 to"),
        (REPORT, "a", "2025Q2", "report has no version that counts yet"),
        (SUMMARY, None, "2025Q2", "No coalition's 2025Q2 report counts yet"),
    ],
)
def test_bad_requests_say_what_is_wrong(cast, reported, kind, scope, quarter, message):
    coalition = cast.coalition_a if scope else None
    with pytest.raises(ValidationError, match=message.replace(".", r"\.")):
        request(cast.officer, kind=kind, coalition=coalition, quarter=quarter)
    assert not Export.objects.exists()


def test_exportable_quarters_are_those_with_a_roll_up(cast, reported):
    assert export_selectors.exportable_quarters(cast.officer, coalition=cast.coalition_a) == [
        "2025Q3"
    ]
    assert export_selectors.exportable_quarters(cast.officer, coalition=None) == ["2025Q3"]
    funder = factories.StaffFactory(staff_role=StaffRole.FUNDER_VIEWER)
    assert export_selectors.exportable_quarters(funder, coalition=cast.coalition_a) == []


# -- Through the real renderers -------------------------------------------------------


def pdf_text(export: Export) -> str:
    with export.file.open("rb") as handle:
        content = handle.read()
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == export.sha256
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.pdf
@pytest.mark.parametrize("kind", [REPORT, SUMMARY])
def test_the_pdfs_are_stamped_with_the_export_they_belong_to(
    cast, reported, django_capture_on_commit_callbacks, kind
):
    coalition = cast.coalition_a if kind == REPORT else None
    export = requested_and_rendered(
        django_capture_on_commit_callbacks, cast.officer, kind=kind, coalition=coalition
    )
    assert export.status == ExportStatus.READY, export.error
    text = " ".join(pdf_text(export).split())
    assert str(export.code) in text
    assert cast.officer.email in text


def test_the_data_packs_carry_the_export_they_belong_to(
    cast, reported, django_capture_on_commit_callbacks
):
    xlsx = requested_and_rendered(
        django_capture_on_commit_callbacks, cast.coach_a, kind=XLSX, coalition=cast.coalition_a
    )
    zipped = requested_and_rendered(django_capture_on_commit_callbacks, cast.officer, kind=CSV)
    for export in (xlsx, zipped):
        assert export.status == ExportStatus.READY, export.error
        with export.file.open("rb") as handle:
            content = handle.read()
        assert hashlib.sha256(content).hexdigest() == export.sha256
    with xlsx.file.open("rb") as handle:
        about = openpyxl.load_workbook(handle, read_only=True)["About"]
        values = [str(cell) for row in about.iter_rows(values_only=True) for cell in row]
    assert str(xlsx.code) in values
    with zipped.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        readme = archive.read("README.csv").decode("utf-8-sig")
    assert str(zipped.code) in readme
    assert "Bravo Broadband Coalition (test) 2025Q3 v1 (submitted)" in readme


def test_a_reminder_changes_a_data_pack_but_not_the_report(cast, reported, renderer):
    pack = request(cast.officer, kind=XLSX, coalition=cast.coalition_a)
    report = request(cast.officer, coalition=cast.coalition_a)
    Reminder.objects.create(
        coalition=cast.coalition_a, period=reported[0].period, kind=ReminderKind.MANUAL
    )
    assert request(cast.officer, kind=XLSX, coalition=cast.coalition_a).pk != pack.pk
    assert request(cast.officer, coalition=cast.coalition_a).pk == report.pk


def test_the_program_summary_is_made_again_when_a_report_moves_or_a_day_passes(
    cast, reported, renderer
):
    # The summary prints where each coalition's report stands: a version that moves
    # (here a returned one) or a due date that passes changes it without any roll-up.
    summary = request(cast.officer, kind=ExportKind.PROGRAM_SUMMARY)
    assert request(cast.officer, kind=ExportKind.PROGRAM_SUMMARY).pk == summary.pk
    services.submission_review_start(submission=reported[1], actor=cast.officer)
    moved = request(cast.officer, kind=ExportKind.PROGRAM_SUMMARY)
    assert moved.pk != summary.pk
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert request(cast.officer, kind=ExportKind.PROGRAM_SUMMARY).pk != moved.pk


def test_a_federal_project_officers_program_summary_counts_accepted_reports_only(
    cast, reported, renderer, django_capture_on_commit_callbacks
):
    alpha, _ = reported
    funder = factories.StaffFactory(staff_role=StaffRole.FUNDER_VIEWER)
    # Nothing accepted yet: a summary for DOL would have no figures.
    with pytest.raises(ValidationError, match="No coalition's 2025Q3 report has been accepted"):
        request(funder, kind=SUMMARY)
    services.submission_accept(submission=alpha, actor=cast.officer)
    services.rollup_period(period_id=alpha.period_id, program=False)
    services.rollup_program(quarter="2025Q3")
    with django_capture_on_commit_callbacks(execute=True):
        export = request(funder, kind=SUMMARY)
    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    assert export.filename == "bpij-2025q3-program-summary-accepted.pdf"
    assert export.provenance["accepted_only"] is True
    assert [s["slug"] for s in export.provenance["submissions"]] == ["alpha"]
    ((kind, kwargs),) = renderer.calls
    assert kind == SUMMARY
    assert kwargs["accepted_only"] is True
    # A program officer's summary counts submitted reports too, unless asked for DOL's;
    # each is its own file.
    with django_capture_on_commit_callbacks(execute=True):
        everything = request(cast.officer, kind=SUMMARY)
        for_dol = request(cast.officer, kind=SUMMARY, accepted_only=True)
    everything.refresh_from_db()
    assert everything.filename == "bpij-2025q3-program-summary.pdf"
    assert "accepted_only" not in everything.provenance
    assert sorted(s["slug"] for s in everything.provenance["submissions"]) == ["alpha", "bravo"]
    assert for_dol.pk != everything.pk
    assert for_dol.provenance["accepted_only"] is True
    assert renderer.calls[1][1]["accepted_only"] is False
