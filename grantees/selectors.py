"""Read models shaped for one screen each."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch

from bpij.models import User
from grantees.calendar import Quarter
from grantees.models import CoachAssignment, Coalition, CoalitionQuerySet, Grant, Target

# What apps above grantees add to the coalition page. grantees imports none of them
# (ARCHITECTURE.md "Which way the imports run"), yet the page a grantee lands on must say
# which reports are late and how far the coalition has come: reporting registers a
# function here when Django starts (reporting.apps), and the page merges what it returns
# into its context (docs/decisions.md, issue 11).
CoalitionPageHook = Callable[..., dict[str, Any]]
_coalition_page_hooks: list[CoalitionPageHook] = []


def register_coalition_page_hook(hook: CoalitionPageHook) -> None:
    if hook not in _coalition_page_hooks:
        _coalition_page_hooks.append(hook)


def coalition_page_extras(
    *, user: User, coalition: Coalition, today: date, targets: list[Target]
) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for hook in _coalition_page_hooks:
        extras.update(hook(user=user, coalition=coalition, today=today, targets=targets))
    return extras


# The same for the coalition list: a hook takes the coalitions shown and returns, by
# coalition primary key, what their row says of reporting (reporting's to-do list: what
# is overdue or returned comes before the next report due).
CoalitionListHook = Callable[..., dict[int, Any]]
_coalition_list_hooks: list[CoalitionListHook] = []


def register_coalition_list_hook(hook: CoalitionListHook) -> None:
    if hook not in _coalition_list_hooks:
        _coalition_list_hooks.append(hook)


@dataclass
class CoalitionRow:
    coalition: Coalition
    grant: Grant | None
    next_report: Quarter | None
    coaches: list[User] = field(default_factory=list)
    # What a list hook said of the coalition's reports (reporting's to-do list), or None
    # when no hook answered for it: the row then shows the calendar's next due date.
    reports: Any = None

    @property
    def days_to_due(self) -> int | None:
        return (self.next_report.due - self.today).days if self.next_report else None

    today: date = field(default_factory=date.today)


def coalition_rows(
    user: User, *, today: date, filters: dict[str, str] | None = None
) -> list[CoalitionRow]:
    """The coalitions ``user`` may see with their first grant, next report and coaches,
    in three queries whatever their number (and what the list hooks add: two more for
    reporting's to-do lists)."""
    grants = Prefetch("grants", queryset=Grant.objects.order_by("start_date"))
    coaches = Prefetch(
        "coach_assignments",
        queryset=CoachAssignment.objects.select_related("coach").order_by("coach__email"),
    )
    coalitions: CoalitionQuerySet = (
        Coalition.objects.visible_to(user).prefetch_related(grants).prefetch_related(coaches)
    )
    if filters:
        coalitions = (
            coalitions.search(filters.get("q", ""))
            .in_state(filters.get("state", ""))
            .in_sector(filters.get("sector", ""))
        )
        if filters.get("track"):
            coalitions = coalitions.filter(track=filters["track"])
    rows = []
    for coalition in coalitions:
        first_grant = next(iter(coalition.grants.all()), None)
        rows.append(
            CoalitionRow(
                coalition=coalition,
                grant=first_grant,
                next_report=first_grant.next_report(today) if first_grant else None,
                coaches=[a.coach for a in coalition.coach_assignments.all()],
                today=today,
            )
        )
    shown = [row.coalition for row in rows]
    for hook in _coalition_list_hooks:
        reports = hook(user=user, coalitions=shown, today=today)
        for row in rows:
            row.reports = reports.get(row.coalition.pk, row.reports)
    return rows


def total_amount(rows: list[CoalitionRow]) -> Decimal:
    return sum((row.grant.amount for row in rows if row.grant), Decimal(0))
