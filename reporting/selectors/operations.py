"""The operations page: what the workers are doing and what is stuck, for program
officers and JFF administrators (docs/operations.md, "Monitoring").

Work in progress is read from the database's own states and their ages (a version in
`checking` since its last "checking" event, an export `queued` or `rendering` since it
was asked for or started), so the page tells the truth whatever the queue says; the
queue depths, worker heartbeats, beat runs and failed tasks come from Redis
(bpij.observability) in one round trip. Two queries for the database's part, whatever
the number of rows.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from bpij import observability
from bpij.models import User
from reporting.models import (
    Export,
    ExportStatus,
    Submission,
    SubmissionEvent,
    SubmissionState,
)

# Rows shown per list: the oldest, which are the ones that matter.
LIMIT = 50


def age_text(seconds: float) -> str:
    """An age as a person reads it: "45 s", "12 min", "3 h 05 min", "2 d 4 h"."""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def limit_text(seconds: int) -> str:
    """A setting in seconds, exactly: "15 min", "150 s"."""
    return age_text(seconds) if seconds % 60 == 0 else f"{seconds} s"


@dataclass(frozen=True)
class RunningCheck:
    submission: Submission
    since: datetime
    age: float  # seconds
    stuck: bool

    @property
    def age_text(self) -> str:
        return age_text(self.age)


@dataclass(frozen=True)
class RunningExport:
    export: Export
    since: datetime
    age: float
    stuck: bool

    @property
    def age_text(self) -> str:
        return age_text(self.age)


@dataclass(frozen=True)
class Operations:
    checks: list[RunningCheck]
    checks_total: int
    exports: list[RunningExport]
    exports_total: int
    record: observability.Record
    stuck_check_after: int
    stuck_export_after: int
    rendering_limit: int

    @property
    def stuck_check_after_text(self) -> str:
        return limit_text(self.stuck_check_after)

    @property
    def stuck_export_after_text(self) -> str:
        return limit_text(self.stuck_export_after)

    @property
    def rendering_limit_text(self) -> str:
        return limit_text(self.rendering_limit)

    @property
    def stuck_checks(self) -> int:
        return sum(c.stuck for c in self.checks)

    @property
    def stuck_exports(self) -> int:
        return sum(e.stuck for e in self.exports)


def _checks(user: User, now: datetime) -> tuple[list[RunningCheck], int]:
    # When the version last entered `checking` (each upload queues a new check).
    since = (
        SubmissionEvent.objects.filter(submission=OuterRef("pk"), kind="checking")
        .order_by("-at")
        .values("at")[:1]
    )
    rows = list(
        Submission.objects.visible_to(user)
        .filter(state=SubmissionState.CHECKING)
        .annotate(
            since=Coalesce(Subquery(since), "created_at"),
        )
        .select_related("coalition", "period")
        .order_by("since", "pk")[: LIMIT + 1]
    )
    limit = settings.OPS_STUCK_CHECK_SECONDS
    checks = []
    for submission in rows[:LIMIT]:
        age = (now - submission.since).total_seconds()  # type: ignore[attr-defined]
        checks.append(RunningCheck(submission, submission.since, age, age > limit))  # type: ignore[attr-defined]
    return checks, len(rows)


def _exports(user: User, now: datetime) -> tuple[list[RunningExport], int]:
    rows = list(
        Export.objects.visible_to(user)
        .filter(status__in=(ExportStatus.QUEUED, ExportStatus.RENDERING))
        .annotate(since=Coalesce("started_at", "requested_at"))
        .select_related("coalition", "requested_by")
        .order_by("since", "pk")[: LIMIT + 1]
    )
    exports = []
    for export in rows[:LIMIT]:
        since: datetime = export.since  # type: ignore[attr-defined]
        age = (now - since).total_seconds()
        limit = (
            settings.EXPORT_TIME_LIMIT
            if export.status == ExportStatus.RENDERING
            else settings.OPS_STUCK_EXPORT_SECONDS
        )
        exports.append(RunningExport(export, since, age, age > limit))
    return exports, len(rows)


def operations(user: User) -> Operations:
    now = timezone.now()
    checks, checks_total = _checks(user, now)
    exports, exports_total = _exports(user, now)
    return Operations(
        checks=checks,
        checks_total=checks_total,
        exports=exports,
        exports_total=exports_total,
        record=observability.record_read(),
        stuck_check_after=settings.OPS_STUCK_CHECK_SECONDS,
        stuck_export_after=settings.OPS_STUCK_EXPORT_SECONDS,
        rendering_limit=settings.EXPORT_TIME_LIMIT,
    )
