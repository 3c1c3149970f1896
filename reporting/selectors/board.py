"""The staff status board: every coalition the person may see × one quarter, with the
state of its report, in a fixed number of queries whatever the number of coalitions.

Filtering and sorting happen in Python on the quarter's rows (at most one per
coalition): the state is derived from the versions, so it cannot be a SQL filter, and
filtering after the fetch lets the coach list come from the same rows.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from bpij.models import User
from grantees.calendar import Quarter
from grantees.models import CoachAssignment, Coalition
from reporting import pagecache, timeliness
from reporting.models import SENT_STATES, SETTLED_STATES, Reminder, ReportingPeriod, Submission

# The board's states, in the order a coach works through them (most urgent first).
STATES: tuple[tuple[str, str], ...] = (
    ("overdue", "Overdue"),
    ("needs_fixes", "Needs fixes"),
    ("returned", "Returned for revision"),
    ("not_started", "Not started"),
    ("draft", "Draft"),
    ("checking", "Checking"),
    ("ready", "Ready to certify"),
    ("submitted", "Submitted"),
    ("in_review", "In review"),
    ("accepted", "Accepted"),
)
STATE_LABELS = dict(STATES)
_URGENCY = {key: index for index, (key, _) in enumerate(STATES)}
NO_COACH = "none"


def current_quarter(today: date) -> Quarter:
    """The quarter the board opens on: the latest that has ended. Until its due date it
    is the report being prepared; after it, the one most recently due (and overdue ones
    are what staff chase) until the next quarter ends."""
    return Quarter.containing(today) - 1


@dataclass
class BoardRow:
    """One coalition's report for the quarter; each value is worked out once, as the
    template reads several of them more than once per row."""

    period: ReportingPeriod
    versions: list[Submission]
    coaches: list[User]
    reminders: list[Reminder]
    today: date

    @cached_property
    def coalition(self) -> Coalition:
        return self.period.coalition

    @cached_property
    def latest(self) -> Submission | None:
        return self.versions[0] if self.versions else None

    @cached_property
    def first_sent(self) -> Submission | None:
        sent = [v for v in self.versions if v.state in SENT_STATES and v.submitted_at]
        return min(sent, key=lambda v: v.version) if sent else None

    @cached_property
    def ever_sent(self) -> bool:
        return any(v.state in SENT_STATES for v in self.versions)

    @cached_property
    def state(self) -> str:
        if not self.ever_sent and self.period.due_date < self.today:
            return "overdue"
        return self.latest.state if self.latest else "not_started"

    @cached_property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @cached_property
    def underlying_label(self) -> str:
        """What an overdue report is otherwise: not started, a draft, needs fixes…"""
        return STATE_LABELS[self.latest.state if self.latest else "not_started"]

    @cached_property
    def days(self) -> int:
        """Days before (positive) or after (negative) the due date: today's for a report
        not yet sent, the first submission's otherwise."""
        sent = self.first_sent
        on = timezone.localdate(sent.submitted_at) if sent and sent.submitted_at else self.today
        return (self.period.due_date - on).days

    @cached_property
    def errors(self) -> int | None:
        latest = self.latest
        return latest.error_count if latest and latest.checked_at else None

    @cached_property
    def warnings(self) -> int | None:
        latest = self.latest
        return latest.warning_count if latest and latest.checked_at else None

    @cached_property
    def version(self) -> int | None:
        return self.latest.version if self.latest else None

    @cached_property
    def last_reminder(self) -> Reminder | None:
        return self.reminders[0] if self.reminders else None

    @cached_property
    def can_remind(self) -> bool:
        latest = self.latest
        return latest is None or latest.state not in SETTLED_STATES

    @cached_property
    def coach_names(self) -> str:
        return ", ".join(c.display_name for c in self.coaches)


@dataclass
class Board:
    quarter: Quarter
    today: date
    rows: list[BoardRow]
    total: int
    coaches: list[User] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # Of every report due that quarter among the person's coalitions, filters aside.
    on_time: timeliness.Timeliness = field(default_factory=lambda: timeliness.count([]))


# Sort keys; None sorts last whichever the direction.
SORTS: dict[str, Callable[[BoardRow], Any]] = {
    "coalition": lambda r: r.coalition.name.lower(),
    "state": lambda r: (_URGENCY[r.state], r.days),
    "due": lambda r: r.days,
    "version": lambda r: r.version,
    "errors": lambda r: r.errors,
    "warnings": lambda r: r.warnings,
    "coach": lambda r: r.coach_names.lower() or None,
    "reminder": lambda r: r.last_reminder.claimed_at if r.last_reminder else None,
}
DEFAULT_SORT = "state"


def board(
    user: User | None,
    *,
    quarter: Quarter,
    today: date,
    filters: dict[str, str] | None = None,
    sort: str = DEFAULT_SORT,
    coalition_id: int | None = None,
) -> Board:
    """The quarter's rows for ``user``'s coalitions, filtered and sorted, in four queries.

    ``user`` None is for a data pack rendered by the exports worker, which has no request:
    every coalition, or the one ``coalition_id`` names; who may ask for that scope was
    checked when the export was requested (reporting.services.exports)."""
    scoped = (
        ReportingPeriod.objects.all() if user is None else ReportingPeriod.objects.visible_to(user)
    )
    if coalition_id is not None:
        scoped = scoped.filter(coalition_id=coalition_id)
    periods = (
        scoped.filter(quarter=str(quarter))
        .select_related("coalition")
        .prefetch_related(Prefetch("submissions", queryset=Submission.objects.order_by("-version")))
        .prefetch_related(
            Prefetch(
                "coalition__coach_assignments",
                queryset=CoachAssignment.objects.select_related("coach").order_by(
                    "coach__full_name", "coach__email"
                ),
            )
        )
        .prefetch_related(
            Prefetch("reminders", queryset=Reminder.objects.order_by("-claimed_at", "-pk"))
        )
    )
    all_rows = [
        BoardRow(
            period=p,
            versions=list(p.submissions.all()),
            coaches=[a.coach for a in p.coalition.coach_assignments.all()],
            reminders=list(p.reminders.all()),
            today=today,
        )
        for p in periods
    ]
    coaches = {c.pk: c for row in all_rows for c in row.coaches}
    rows = [row for row in all_rows if _matches(row, filters or {})]
    descending = sort.startswith("-")
    key = SORTS.get(sort.lstrip("-"), SORTS[DEFAULT_SORT])
    rows.sort(key=lambda r: r.coalition.name.lower())
    present = sorted((r for r in rows if key(r) is not None), key=key, reverse=descending)
    rows = present + [r for r in rows if key(r) is None]
    counts: dict[str, int] = {}
    for row in all_rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    return Board(
        quarter=quarter,
        today=today,
        rows=rows,
        total=len(all_rows),
        coaches=sorted(coaches.values(), key=lambda c: c.display_name.lower()),
        counts=counts,
        on_time=timeliness.count(
            (
                row.first_sent.submitted_at if row.first_sent else None,
                row.period.due_date,
            )
            for row in all_rows
        ),
    )


def _matches(row: BoardRow, filters: dict[str, str]) -> bool:
    coalition = row.coalition
    coach = filters.get("coach")
    if coach == NO_COACH and row.coaches:
        return False
    if coach and coach != NO_COACH and coach not in {str(c.uuid) for c in row.coaches}:
        return False
    if filters.get("status") and row.state != filters["status"]:
        return False
    if filters.get("state") and filters["state"] not in coalition.states_served:
        return False
    if filters.get("sector") and filters["sector"] not in coalition.sectors:
        return False
    return not (filters.get("track") and coalition.track != filters["track"])


def quarters_with_periods(user: User, *, today: date) -> list[Quarter]:
    """The quarters the board can show: those of the person's coalitions that have
    begun, newest first."""
    codes = (
        ReportingPeriod.objects.visible_to(user)
        .filter(start_date__lte=today)
        .order_by()
        .values_list("quarter", flat=True)
        .distinct()
    )
    return sorted((Quarter.parse(code) for code in codes), reverse=True)


def board_stamp(quarter: Quarter) -> str | None:
    """What the board of ``quarter`` is built from, in one query (reporting.pagecache.
    stamp): the reporting periods (every quarter: the quarter list comes from them), the
    quarter's versions and reminders, the coalitions, coach assignments and coaches. A
    version that changes state, a reminder sent, a coach assigned or renamed each change
    the stamp, so the cached board is dropped by the change itself. Rows the person may
    not see count too where row-level security is off (a change there costs a rebuild,
    never a stale board); the person's own pieces are told apart by the cache key."""
    periods = ReportingPeriod._meta.db_table
    in_quarter = (f"period_id IN (SELECT id FROM {periods} WHERE quarter = %s)", [str(quarter)])
    coaches = f"id IN (SELECT coach_id FROM {CoachAssignment._meta.db_table})"
    return pagecache.stamp(
        (ReportingPeriod, "", []),
        (Submission, *in_quarter),
        (Reminder, *in_quarter),
        (Coalition, "", []),
        (CoachAssignment, "", []),
        (User, coaches, []),
    )
