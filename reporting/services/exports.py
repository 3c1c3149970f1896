"""Exports: a coalition's quarterly performance report and the program-wide summary
(PDF), and the data packs (XLSX, zipped CSV), rendered by a Celery job on its own queue
and kept unchanged with their SHA-256 (docs/exports.md, "Export jobs").

A request names what to export; its ``request_key`` digests everything the file is made
from (kind, scope, quarter, the versions and roll-ups it reads, the targets it measures
against), so asking again for the same thing reuses the stored file, and asking after
the data changed makes a new one. Rendering is at most once per export: the job claims
the row (queued → rendering) with a conditional UPDATE before it renders.
"""

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Max
from django.utils import timezone

from bpij import services as platform
from bpij import tenancy
from bpij.models import AuditAction, StaffRole, User
from grantees.calendar import Quarter
from grantees.models import Coalition, Target
from reporting import figures, permissions
from reporting.models import (
    Export,
    ExportKind,
    ExportStatus,
    ProgramRollup,
    Reminder,
    ReportingPeriod,
    Rollup,
    Submission,
)
from reporting.selectors.exports import DATA_PACKS
from reporting.services import recovery

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    ExportKind.COALITION_REPORT: "application/pdf",
    ExportKind.PROGRAM_SUMMARY: "application/pdf",
    ExportKind.DATA_PACK_XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportKind.DATA_PACK_CSV: "application/zip",
}
# A queued export whose job has not started after this long is sent to the worker again
# when someone asks for it (the claim makes a duplicate job harmless).
REQUEUE_AFTER = timedelta(minutes=5)


# -- Who may export what --------------------------------------------------------------


# -- What an export is made from ------------------------------------------------------


@dataclass
class Sources:
    """The roll-ups (and so the submission versions) an export reads, and the digest of
    everything it is made from."""

    rollups: list[Rollup]
    key: str


def _quarter(text: str) -> str:
    try:
        return str(Quarter.parse(str(text)))
    except ValueError:
        raise ValidationError(f"{text!r} is not a quarter: write it like 2025Q3.") from None


def _period(coalition: Coalition, quarter: str) -> ReportingPeriod:
    period = (
        ReportingPeriod.objects.filter(coalition=coalition, quarter=quarter)
        .select_related("grant")
        .first()
    )
    if period is None:
        first_last = ReportingPeriod.objects.filter(coalition=coalition).order_by("start_date")
        first, last = first_last.first(), first_last.last()
        span = f" Its reports run from {first.quarter} to {last.quarter}." if first and last else ""
        raise ValidationError(f"{coalition.name} has no {quarter} report.{span}")
    return period


def _rollups(kind: str, quarter: str, coalition: Coalition | None) -> list[Rollup]:
    rollups = Rollup.objects.select_related("submission", "coalition").order_by(
        "coalition__name", "quarter"
    )
    if kind in DATA_PACKS:
        # A data pack carries the figures of every quarter up to the one asked for.
        rollups = rollups.filter(quarter__lte=quarter)
    else:
        rollups = rollups.filter(quarter=quarter)
    if coalition is not None:
        rollups = rollups.filter(coalition=coalition)
    return list(rollups)


def sources_for(
    *, kind: str, quarter: str, coalition: Coalition | None, accepted_only: bool = False
) -> Sources:
    """What the export reads now, and its request key: kind, scope and quarter, each
    roll-up's version, state and time of computation, the program roll-ups' time, the
    targets (pace is measured against them) and, for data packs, the state and check
    time of every version of the quarter and its reminders (the status board and
    findings summaries)."""
    rollups = _rollups(kind, quarter, coalition)
    if accepted_only:
        # The summary made for DOL reads the accepted reports only.
        rollups = [r for r in rollups if r.accepted]
    material: dict = {
        "kind": kind,
        "scope": str(coalition.code) if coalition is not None else "program",
        "quarter": quarter,
        # A file made under earlier figures definitions is never handed out as current.
        "definitions": figures.DEFINITIONS,
        "rollups": [
            [
                str(r.coalition.code),
                r.quarter,
                str(r.submission.code),
                r.submission.version,
                r.submission.state,
                r.computed_at.isoformat(),
            ]
            for r in rollups
        ],
    }
    targets = Target.objects.order_by("coalition_id", "measure")
    versions = Submission.objects.filter(period__quarter=quarter).order_by("pk")
    if coalition is not None:
        targets = targets.filter(coalition=coalition)
        versions = versions.filter(coalition=coalition)
    else:
        material["program"] = (
            ProgramRollup.objects.filter(quarter=quarter)
            .aggregate(at=Max("computed_at"))["at"]
            .isoformat()
            if ProgramRollup.objects.filter(quarter=quarter).exists()
            else None
        )
    if accepted_only:
        material["accepted_only"] = True
    material["targets"] = [
        [t.coalition_id, t.measure, t.value, t.milestones]
        for t in targets.only("coalition_id", "measure", "value", "milestones")
    ]
    if kind in DATA_PACKS or kind == ExportKind.PROGRAM_SUMMARY:
        # Both print where every coalition's report stands (the board, the summary's
        # status and timeliness columns), and "overdue" changes with the date alone.
        material["today"] = timezone.localdate().isoformat()
        material["versions"] = [
            [str(code), state, checked.isoformat() if checked else None]
            for code, state, checked in versions.values_list("code", "state", "checked_at")
        ]
        # The status board's "last reminder" column.
        reminders = Reminder.objects.filter(period__quarter=quarter)
        if coalition is not None:
            reminders = reminders.filter(coalition=coalition)
        material["reminders"] = list(reminders.order_by("pk").values_list("pk", "status"))
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode())
    return Sources(rollups=rollups, key=digest.hexdigest())


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def provenance_for(
    *, export: Export, rollups: list[Rollup], generated_at: datetime, accepted_only: bool = False
) -> dict:
    """The stamp printed in every page footer (and the data packs' About sheet): which
    submission versions the file was made from, when, by whom, the export's id and the
    figures definitions (DATA-CONTRACT.md §4 E) it was computed under."""
    person = export.requested_by
    return {
        # A program summary made for DOL: accepted reports only (docs/exports.md).
        **({"accepted_only": True} if accepted_only else {}),
        "generated_at": timezone.localtime(generated_at).isoformat(timespec="seconds"),
        "generated_by": f"{person.full_name} <{person.email}>"
        if person.full_name
        else person.email,
        "export": str(export.code),
        "figures_definitions": figures.DEFINITIONS,
        "submissions": [
            {
                "coalition": r.coalition.name,
                "slug": r.coalition.slug,
                "quarter": r.quarter,
                "version": r.submission.version,
                "state": r.submission.state,
                "certified_at": _when(r.submission.certified_at),
                "accepted_at": _when(r.submission.accepted_at),
            }
            for r in rollups
        ],
    }


# -- Asking for an export -------------------------------------------------------------


def _check_scope(
    *, actor: User, kind: str, quarter: str, coalition: Coalition | None
) -> ReportingPeriod | None:
    """Validate the request and the person's right to it; the period for a coalition."""
    if kind not in ExportKind.values:
        raise ValidationError(
            f"{kind!r} is not a kind of export; use one of {', '.join(ExportKind.values)}."
        )
    if kind == ExportKind.COALITION_REPORT and coalition is None:
        raise ValidationError("Choose the coalition whose quarterly report to export.")
    if kind == ExportKind.PROGRAM_SUMMARY and coalition is not None:
        raise ValidationError("The program-wide summary covers every coalition; choose none.")
    if not permissions.can_export(actor, kind=kind, coalition=coalition):
        raise PermissionDenied
    if coalition is None:
        if not ProgramRollup.objects.filter(
            quarter=quarter, segment="program", coalitions_reported__gt=0
        ).exists():
            raise ValidationError(
                f"No coalition's {quarter} report counts yet, so there is nothing program-wide "
                "to export: a quarter can be exported once a coalition has submitted it."
            )
        return None
    period = _period(coalition, quarter)
    rollup = Rollup.objects.filter(period=period).first()
    if rollup is None:
        raise ValidationError(
            f"{coalition.name}'s {quarter} report has no version that counts yet: it can be "
            "exported once a version is submitted (and until it is returned)."
        )
    if not permissions.can_export(
        actor, kind=kind, coalition=coalition, period=period, rollup=rollup
    ):
        raise PermissionDenied
    return period


def _filename(
    kind: str,
    quarter: str,
    coalition: Coalition | None,
    rollups: list[Rollup],
    accepted_only: bool = False,
) -> str:
    scope = coalition.slug if coalition is not None else "program"
    stem = f"bpij-{quarter.lower()}-{scope}"
    if kind == ExportKind.COALITION_REPORT:
        versions = {r.submission.version for r in rollups if r.quarter == quarter}
        version = f"-v{versions.pop()}" if len(versions) == 1 else ""
        return f"{stem}{version}-report.pdf"
    if kind == ExportKind.PROGRAM_SUMMARY:
        return f"{stem}-summary{'-accepted' if accepted_only else ''}.pdf"
    return f"{stem}-data-pack.{'xlsx' if kind == ExportKind.DATA_PACK_XLSX else 'zip'}"


def _enqueue(export: Export) -> None:
    recovery.export_send(export)


@transaction.atomic
def export_request(
    *,
    actor: User,
    kind: str,
    quarter: str,
    coalition: Coalition | None = None,
    enqueue: bool = True,
    accepted_only: bool = False,
) -> Export:
    """Ask for an export. An identical request (same kind, scope, quarter and the same
    data) gets the stored file, or the one being rendered; otherwise a new export is
    queued for the exports worker once this transaction commits (``enqueue=False``
    leaves the rendering to the caller, as the command does). Audited either way.

    ``accepted_only`` makes the program summary for DOL: it counts accepted reports
    only. A Federal Project Officer's program summary is always made so."""
    quarter = _quarter(quarter)
    _check_scope(actor=actor, kind=kind, quarter=quarter, coalition=coalition)
    if kind != ExportKind.PROGRAM_SUMMARY:
        accepted_only = False
    elif actor.staff_role == StaffRole.FUNDER_VIEWER:
        accepted_only = True
    sources = sources_for(
        kind=kind, quarter=quarter, coalition=coalition, accepted_only=accepted_only
    )
    if accepted_only and not sources.rollups:
        raise ValidationError(
            f"No coalition's {quarter} report has been accepted yet, so a summary for DOL "
            "(accepted reports only) would have no figures: it can be made once JFF has "
            "accepted a report for the quarter."
        )
    now = timezone.now()
    export = _reusable(sources.key, now)
    reused = export is not None
    if export is None:
        try:
            with transaction.atomic():
                export = Export(
                    coalition=coalition,
                    kind=kind,
                    quarter=quarter,
                    request_key=sources.key,
                    requested_by=actor,
                    requested_at=now,
                    filename=_filename(kind, quarter, coalition, sources.rollups, accepted_only),
                )
                # The versions used show on the exports page while it renders; the
                # render stamps its own time over ``generated_at``.
                export.provenance = provenance_for(
                    export=export,
                    rollups=sources.rollups,
                    generated_at=now,
                    accepted_only=accepted_only,
                )
                export.save(force_insert=True)
        except IntegrityError:
            # Someone asked for the same export a moment ago: theirs is the one.
            export = Export.objects.exclude(status=ExportStatus.FAILED).get(request_key=sources.key)
            reused = True
        else:
            if enqueue:
                _enqueue(export)
    elif (
        enqueue
        and export.status == ExportStatus.QUEUED
        and (export.queued_at or export.requested_at) < now - REQUEUE_AFTER
    ):
        _enqueue(export)
    platform.audit_record(
        action=AuditAction.EXPORT_REQUESTED,
        actor=actor,
        coalition=coalition,
        target=f"{ExportKind(kind).label}, {quarter}",
        detail={
            "export": str(export.code),
            "kind": kind,
            "quarter": quarter,
            "reused": reused,
            **({"accepted_only": True} if accepted_only else {}),
        },
    )
    return export


def _reusable(key: str, now: datetime) -> Export | None:
    """The live export made from the same data, if any. One still `rendering` past its
    deadline lost its worker: it is queued again (or, its attempts used, failed with
    the reason), never handed out as if it were on its way (recovery.export_recover)."""
    export = Export.objects.exclude(status=ExportStatus.FAILED).filter(request_key=key).first()
    if export is not None and recovery.export_dead(export, now):
        return recovery.export_recover(export.pk, started_at=export.started_at)
    return export


# -- Rendering (the exports worker) ---------------------------------------------------


class ExportOutdated(Exception):
    """The data changed between the request and the render."""


def _renderer(kind: str) -> Callable[..., bytes]:
    # Imported here: WeasyPrint and xlsxwriter load only in the process that renders.
    if kind in (ExportKind.COALITION_REPORT, ExportKind.PROGRAM_SUMMARY):
        from reporting import pdf

        return (
            pdf.coalition_report_pdf
            if kind == ExportKind.COALITION_REPORT
            else pdf.program_summary_pdf
        )
    from reporting import datapacks

    return (
        datapacks.data_pack_xlsx if kind == ExportKind.DATA_PACK_XLSX else datapacks.data_pack_csv
    )


def _render(export: Export, rollups: list[Rollup], provenance: dict) -> bytes:
    render = _renderer(export.kind)
    if export.kind == ExportKind.COALITION_REPORT:
        (rollup,) = [r for r in rollups if r.quarter == export.quarter]
        return render(period_id=rollup.period_id, provenance=provenance)
    if export.kind == ExportKind.PROGRAM_SUMMARY:
        return render(
            quarter=export.quarter,
            provenance=provenance,
            accepted_only=bool(export.provenance.get("accepted_only")),
        )
    return render(quarter=export.quarter, coalition_id=export.coalition_id, provenance=provenance)


def _failed(export_id: int, error: str) -> None:
    Export.objects.filter(pk=export_id, status=ExportStatus.RENDERING).update(
        status=ExportStatus.FAILED, error=error, finished_at=timezone.now()
    )


class _Heartbeat(threading.Thread):
    """Writes ``heartbeat_at`` on the export every EXPORT_HEARTBEAT_INTERVAL seconds
    while this attempt renders it, from a thread of the rendering process (its own
    database connection): when the process dies (kill -9, out of memory) the heartbeat
    stops, and the export is seen dead within EXPORT_HEARTBEAT_STALE seconds
    (recovery.export_dead). Stops by itself once the export is no longer this
    attempt's (finished, failed, or taken over)."""

    def __init__(self, export_id: int, started: datetime):
        super().__init__(daemon=True, name=f"export-heartbeat-{export_id}")
        self.export_id, self.started = export_id, started
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stopping.wait(settings.EXPORT_HEARTBEAT_INTERVAL):
                try:
                    with tenancy.system_scope():
                        mine = Export.objects.filter(
                            pk=self.export_id,
                            status=ExportStatus.RENDERING,
                            started_at=self.started,
                        ).update(heartbeat_at=timezone.now())
                except Exception as error:  # the database away a moment: beat again
                    logger.warning("export %s: heartbeat not written (%s)", self.export_id, error)
                    connection.close()
                    continue
                if not mine:
                    return
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


def _claim(export_id: int, *, redelivered: bool, started: datetime) -> bool:
    """Take the export for this render, counting the attempt. A message delivered again
    because its worker died (``redelivered``) takes over the export that worker left
    `rendering`; after EXPORT_MAX_ATTEMPTS the export fails, saying so."""
    claimed = Export.objects.filter(pk=export_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RENDERING,
        started_at=started,
        heartbeat_at=started,
        attempts=F("attempts") + 1,
    )
    if claimed or not redelivered:
        return bool(claimed)
    with transaction.atomic():
        export = (
            Export.objects.select_for_update(skip_locked=True)
            .filter(pk=export_id, status=ExportStatus.RENDERING)
            .first()
        )
        if export is None:
            return False
        if export.attempts >= settings.EXPORT_MAX_ATTEMPTS:
            Export.objects.filter(pk=export_id).update(
                status=ExportStatus.FAILED,
                finished_at=started,
                error=recovery.export_worker_lost_message(export, export.attempts),
            )
            return False
        Export.objects.filter(pk=export_id).update(
            started_at=started, heartbeat_at=started, attempts=F("attempts") + 1
        )
    logger.warning("export %s: its worker died mid-render; rendering it again", export.code)
    return True


def export_render(*, export_id: int, redelivered: bool = False) -> Export | None:
    """Render a queued export and store the file unchanged with its SHA-256.

    At most once per attempt: the export is claimed (queued → rendering) with a
    conditional UPDATE that commits before anything is rendered, so a duplicate job
    finds it taken (or ready) and does nothing. Returns None then. A message delivered
    again after its worker died takes it over (``_claim``). A failure is recorded on
    the export with a message fit for the people who asked; the details go to the log.
    While it renders, a thread writes the export's heartbeat (``_Heartbeat``), so a
    worker that dies is seen dead within seconds (recovery.export_dead).
    """
    started = timezone.now()
    if not _claim(export_id, redelivered=redelivered, started=started):
        return None
    heartbeat = _Heartbeat(export_id, started)
    heartbeat.start()
    try:
        return _render_claimed(export_id, started)
    finally:
        heartbeat.stop()


def _render_claimed(export_id: int, started: datetime) -> Export | None:
    export = Export.objects.select_related("coalition", "requested_by").get(pk=export_id)
    try:
        accepted_only = bool(export.provenance.get("accepted_only"))
        sources = sources_for(
            kind=export.kind,
            quarter=export.quarter,
            coalition=export.coalition,
            accepted_only=accepted_only,
        )
        if sources.key != export.request_key:
            raise ExportOutdated
        provenance = provenance_for(
            export=export,
            rollups=sources.rollups,
            generated_at=started,
            accepted_only=accepted_only,
        )
        content = _render(export, sources.rollups, provenance)
    except ExportOutdated:
        _failed(
            export_id,
            "The figures changed after this export was requested (a version was sent, "
            "returned or accepted, or a target changed). Request it again for the current ones.",
        )
        return None
    except (OperationalError, InterfaceError):
        raise  # the database went away: the task is retried and takes the export over
    except SoftTimeLimitExceeded:
        _failed(
            export_id,
            f"Rendering took longer than {settings.EXPORT_TIME_LIMIT - 30} seconds and was "
            "stopped. Request it again; if it fails again, tell the hub's operators.",
        )
        return None
    except Exception:
        logger.exception(
            "export %s (%s %s) failed to render", export.code, export.kind, export.quarter
        )
        _failed(
            export_id,
            "The export could not be rendered. Request it again; if it fails again, tell "
            f"the hub's operators and give them the export's id, {export.code}.",
        )
        return None
    name = export.file.field.generate_filename(export, export.filename)
    stored = export.file.storage.save(name, ContentFile(content), max_length=300)
    # Only this attempt's render: one taken over after it was thought dead stands.
    finished = Export.objects.filter(
        pk=export_id, status=ExportStatus.RENDERING, started_at=started
    ).update(
        status=ExportStatus.READY,
        file=stored,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        provenance=provenance,
        finished_at=timezone.now(),
    )
    if not finished:
        # Declared dead by a later request while it ran: the new export stands.
        export.file.storage.delete(stored)
        return None
    export.refresh_from_db()
    return export


def export_downloaded(*, export: Export, actor: User) -> None:
    """Record that ``actor`` took the stored file of ``export`` (the page's download and
    the API's alike), with the SHA-256 it was stored under."""
    platform.audit_record(
        action=AuditAction.EXPORT_DOWNLOADED,
        actor=actor,
        coalition=export.coalition,
        target=f"{export.get_kind_display()}, {export.quarter}",
        detail={"export": str(export.code), "sha256": export.sha256},
    )


def board_exported(
    *, actor: User, quarter: str, fmt: str, rows: int, filters: dict[str, str]
) -> None:
    """Record that ``actor`` took the status board, as filtered and sorted, as a file."""
    platform.audit_record(
        action=AuditAction.BOARD_EXPORTED,
        actor=actor,
        target=f"status board {quarter} ({rows} rows, {fmt.upper()})",
        detail={"filters": filters, "rows": rows, "format": fmt},
    )
