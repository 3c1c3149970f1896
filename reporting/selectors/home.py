"""The reporting side of the coalition page, the page a grantee lands on (issue 11).

Two read models, handed to ``grantees`` through its coalition-page hook (grantees may not
import reporting): the **to-do list** (every report that is overdue, returned, needs fixes
or is in progress, oldest due date first, each with the one thing to do next; then the
next report due) and the **actuals** (each target beside the grant-to-date figure of the
latest report that counts, with its pace, read from the same roll-up and the same
``Pace`` rows as the coalition dashboard).

A fixed handful of queries whatever the number of quarters, versions or records: the
periods, their versions (one prefetch, with the reviewer of a returned one), and the
latest roll-up.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import OuterRef, Prefetch, Subquery
from django.urls import reverse

from bpij.models import User
from grantees.calendar import Quarter
from grantees.models import Coalition, MemberRole, Target
from reporting.models import (
    ReportingPeriod,
    ReturnReason,
    Rollup,
    Submission,
    SubmissionState,
)
from reporting.pace import Pace
from reporting.selectors.dashboards import target_progress

# Sent and not returned: nothing for the coalition to do until JFF answers.
_DONE = (SubmissionState.SUBMITTED, SubmissionState.IN_REVIEW, SubmissionState.ACCEPTED)
_UPLOADERS = (MemberRole.ADMIN, MemberRole.REPORTER)


@dataclass
class Action:
    """The one next step on a report, for someone allowed to take it."""

    label: str  # a short verb ("Start"), read with the quarter by screen readers
    url: str
    post: bool = False  # starting a report writes: a form button, not a link


@dataclass
class TodoRow:
    period: ReportingPeriod
    latest: Submission | None
    today: date
    action: Action | None
    # What happens next, in words: beside the button, or instead of it for those who
    # cannot take the step (a reporter is told who certifies rather than shown a button
    # that would refuse them).
    next_step: str

    @property
    def url(self) -> str:
        return reverse(
            "reporting:period-detail", args=[self.period.coalition.code, self.period.quarter]
        )

    @property
    def days_late(self) -> int:
        """Days past the due date with no version sent yet. Once a version has been sent
        the report was not late for want of it: a return, or the revision that answers
        one, counts no days late (the report page's history says when each was sent)."""
        if self.latest is not None and (self.returned or self.latest.previous_id):
            return 0
        return max((self.today - self.period.due_date).days, 0)

    @property
    def urgent(self) -> bool:
        return bool(self.days_late) or self.returned

    @property
    def days_to_due(self) -> int:
        return (self.period.due_date - self.today).days

    @property
    def state_key(self) -> str:
        return self.latest.state if self.latest else "not_started"

    @property
    def state_label(self) -> str:
        return self.latest.get_state_display() if self.latest else "Not started"

    @property
    def returned(self) -> bool:
        return self.latest is not None and self.latest.state == SubmissionState.RETURNED

    @property
    def return_reasons(self) -> list[str]:
        if self.latest is None or not self.returned:
            return []
        return [ReturnReason(r).label for r in self.latest.return_reasons]


@dataclass
class Todo:
    rows: list[TodoRow]  # what needs doing now, oldest due date first
    next_due: TodoRow | None  # the next report not started yet whose due date is ahead

    @property
    def returned(self) -> list[TodoRow]:
        return [row for row in self.rows if row.returned]


def _next_step(
    period: ReportingPeriod, latest: Submission | None, role: str | None
) -> tuple[Action | None, str]:
    coalition, quarter = period.coalition, period.quarter
    detail = reverse("reporting:period-detail", args=[coalition.code, quarter])
    uploads = role in _UPLOADERS
    if latest is None:
        if uploads:
            start = reverse("reporting:submission-start", args=[coalition.code, quarter])
            return Action("Start", start, post=True), (
                "Upload the cumulative participant and placement files; the checks run by "
                "themselves."
            )
        return None, "Not started: a coalition administrator or reporter starts it."
    state = latest.state
    if state == SubmissionState.RETURNED:
        if uploads:
            return Action("Answer the return", f"{detail}#returned"), (
                f"Start version {latest.version + 1} from it, fix what JFF asks and certify again."
            )
        return None, "A coalition administrator or reporter starts the revised version."
    if state == SubmissionState.NEEDS_FIXES:
        errors = f"{latest.error_count:,} error{'s' if latest.error_count != 1 else ''}"
        if uploads:
            findings = reverse("reporting:findings", args=[latest.code])
            return Action("Fix", findings), f"{errors} to fix before it can be certified."
        return None, f"{errors} to fix; a coalition administrator or reporter fixes them."
    if state == SubmissionState.READY:
        if role == MemberRole.ADMIN:
            return Action("Certify", f"{detail}#certify"), (
                "Every error is fixed: preview the figures, write the narrative and certify."
            )
        return None, "Ready to certify: a coalition administrator certifies and submits it."
    if state == SubmissionState.CHECKING:
        return (Action("See the checks", f"{detail}#work") if uploads else None), (
            "The files are being checked; this takes a few seconds."
        )
    return (Action("Continue", f"{detail}#work") if uploads else None), (
        "Upload both files; the checks run by themselves."
    )


def _versions() -> Prefetch:
    return Prefetch(
        "submissions",
        queryset=Submission.objects.select_related("reviewed_by").order_by("-version"),
    )


def _todo(periods: Iterable[ReportingPeriod], role: str | None, today: date) -> Todo:
    """The to-do list of one coalition's periods (started by ``today``, oldest due date
    first, each with its versions prefetched newest first)."""
    rows: list[TodoRow] = []
    next_due: TodoRow | None = None
    for period in periods:
        latest = next(iter(period.submissions.all()), None)
        if latest is not None and latest.state in _DONE:
            continue
        not_yet_due = latest is None and period.due_date >= today
        if not_yet_due and next_due is not None:
            continue
        action, step = _next_step(period, latest, role)
        row = TodoRow(period, latest, today, action, step)
        if not_yet_due:
            next_due = row
        else:
            rows.append(row)
    return Todo(rows=rows, next_due=next_due)


def coalition_todo(*, user: User, coalition: Coalition, today: date) -> Todo:
    """The coalition's reports that need something done, then the next one due. Staff
    see the same list without the buttons (the steps are the coalition's)."""
    periods = (
        ReportingPeriod.objects.filter(coalition=coalition, start_date__lte=today)
        .select_related("coalition")
        .prefetch_related(_versions())
        .order_by("due_date")
    )
    return _todo(periods, coalition.role_of(user), today)


def coalition_list_todos(
    *, user: User, coalitions: list[Coalition], today: date
) -> dict[int, Todo]:
    """The to-do list of each of ``coalitions`` (by primary key), as the coalition page
    shows it, for the coalition list (grantees' hook, reporting.apps): two queries
    whatever the number of coalitions, quarters or versions. Nothing for those who read
    no report version (the Federal Project Officer): the list then shows the calendar's
    next due date, as before."""
    if not coalitions or not Submission.objects.table_visible_to(user):
        return {}
    by_id = {c.pk: c for c in coalitions}
    periods = (
        ReportingPeriod.objects.filter(coalition_id__in=by_id, start_date__lte=today)
        .prefetch_related(_versions())
        .order_by("coalition_id", "due_date")
    )
    grouped: dict[int, list[ReportingPeriod]] = {pk: [] for pk in by_id}
    for period in periods:
        period.coalition = by_id[period.coalition_id]
        grouped[period.coalition_id].append(period)
    # The list is read by JFF staff, who take none of the coalition's steps: no buttons.
    return {pk: _todo(grouped[pk], None, today) for pk in by_id}


@dataclass
class Actuals:
    """Targets with the grant-to-date actuals of the latest report that counts."""

    rows: list[Pace]
    source: Rollup | None  # None: no report counts yet

    @property
    def accepted_at(self) -> datetime | None:
        return getattr(self.source, "accepted_on", None)


def coalition_actuals(
    *, user: User, coalition: Coalition, today: date, targets: list[Target]
) -> Actuals:
    """``targets`` as the page fetched them (with their grant). The figures are the
    latest roll-up's, the numbers the dashboard shows; the Federal Project Officer, who
    reads accepted reports only, gets the latest accepted one."""
    rollups = Rollup.objects.visible_to(user).filter(coalition=coalition)
    reads_reports = Submission.objects.table_visible_to(user)
    if reads_reports:
        rollups = rollups.annotate(
            accepted_on=Subquery(
                Submission.objects.filter(pk=OuterRef("submission_id")).values("accepted_at")[:1]
            )
        )
    else:
        rollups = rollups.filter(accepted=True)
    source = rollups.order_by("-quarter").first()
    at = Quarter.parse(source.quarter) if source else Quarter.containing(today)
    return Actuals(rows=target_progress(targets, source, at), source=source)


def coalition_page(
    *, user: User, coalition: Coalition, today: date, targets: list[Target]
) -> dict[str, Any]:
    """What the coalition page shows of reporting (grantees' hook, reporting.apps). No
    to-do list for the Federal Project Officer, who reads no report version."""
    todo = (
        coalition_todo(user=user, coalition=coalition, today=today)
        if Submission.objects.table_visible_to(user)
        else None
    )
    return {
        "todo": todo,
        "actuals": coalition_actuals(user=user, coalition=coalition, today=today, targets=targets),
    }
