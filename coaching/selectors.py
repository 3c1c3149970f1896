"""Read models for coaching's screens, and the coalition summary the dashboard includes."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from bpij.models import User
from coaching.models import ActionItem, ActionStatus, CoachingSession, RiskFlag, RiskLevel
from grantees.models import CoachAssignment, Coalition
from reporting import pagecache
from reporting import selectors as reporting_selectors
from reporting.selectors import PeriodRow
from reporting.selectors import dashboards as reporting_dashboards

RECENT_SESSIONS = 5
RISK_HISTORY = 10


@dataclass
class CoalitionCoaching:
    """What the coalition dashboard shows of coaching, already cut to what the reader may
    see: staff see every note, coalition members only what a coach marked shared."""

    coalition: Coalition
    risk: RiskFlag | None
    risk_history: list[RiskFlag]
    sessions: list[CoachingSession]
    open_items: list[ActionItem]
    is_staff: bool
    today: date = field(default_factory=date.today)

    @property
    def overdue_items(self) -> list[ActionItem]:
        return [item for item in self.open_items if item.due_on < self.today]


def visible_items(user: User):
    """Action items the user may read: staff all of their coalitions', members the shared."""
    return ActionItem.objects.visible_to(user).shared_or_staff(user).select_related("coalition")


def _items(user: User):
    return (
        ActionItem.objects.visible_to(user)
        .shared_or_staff(user)
        .select_related("owner", "target", "session", "finding")
        .order_by("due_on", "id")
    )


def risk_flags(*, coalition: Coalition, user: User, limit: int | None = None) -> list[RiskFlag]:
    """The coalition's risk flags, newest (the current one) first; none for non-staff."""
    if not user.is_jff_staff:
        return []
    flags = (
        RiskFlag.objects.visible_to(user)
        .filter(coalition=coalition)
        .select_related("set_by")
        .order_by("-set_at", "-id")
    )
    return list(flags[:limit] if limit else flags)


def coalition_coaching(*, coalition: Coalition, user: User) -> CoalitionCoaching:
    """Current risk flag and its history, recent sessions and open action items for one
    coalition the caller has already fetched through ``visible_to``, in three queries.

    Risk flags are a staff judgement: coalition members see none of them (the dashboard
    helper shows the flag only to staff), so for them no risk query runs.
    """
    is_staff = user.is_jff_staff
    flags = risk_flags(coalition=coalition, user=user, limit=RISK_HISTORY)
    sessions = list(
        CoachingSession.objects.visible_to(user)
        .filter(coalition=coalition)
        .shared_or_staff(user)
        .select_related("created_by")
        .order_by("-held_on", "-id")[:RECENT_SESSIONS]
    )
    open_items = list(
        _items(user).filter(coalition=coalition, status=ActionStatus.OPEN),
    )
    return CoalitionCoaching(
        coalition=coalition,
        risk=flags[0] if flags else None,
        risk_history=flags,
        sessions=sessions,
        open_items=open_items,
        is_staff=is_staff,
        today=timezone.localdate(),
    )


HOME_ITEMS = 10


def coalition_page(*, user: User, coalition: Coalition, today: date, **_: Any) -> dict[str, Any]:
    """The coalition's open action items for the home page of one of its members (a hook
    of grantees.selectors, registered in coaching.apps): theirs first, then the others
    they may read, each by due date; at most ``HOME_ITEMS``. Staff read coaching on the
    coalition's dashboard and coaching pages instead, so the page gets nothing for them."""
    if coalition.role_of(user) is None:
        return {}
    items = list(
        _items(user)
        .filter(coalition=coalition, status=ActionStatus.OPEN)
        .annotate(theirs=Case(When(owner_id=user.pk, then=Value(0)), default=Value(1)))
        .order_by("theirs", "due_on", "id")[: HOME_ITEMS + 1]
    )
    return {
        "coaching_items": items[:HOME_ITEMS],
        "coaching_items_more": len(items) > HOME_ITEMS,
        "today": today,  # the rows mark what is overdue
    }


def items_without_session(*, coalition: Coalition, user: User) -> list[ActionItem]:
    """Action items the reader cannot see under a session: those agreed outside one, and
    for coalition members, shared items of a session that stays with JFF."""
    rows = _items(user).filter(coalition=coalition)
    if user.is_jff_staff:
        return list(rows.filter(session__isnull=True))
    return list(rows.filter(Q(session__isnull=True) | Q(session__shared=False)))


def sessions_with_items(*, coalition: Coalition, user: User) -> list[CoachingSession]:
    """Every session of the coalition the user may read, each with its visible items."""
    return list(
        CoachingSession.objects.visible_to(user)
        .filter(coalition=coalition)
        .shared_or_staff(user)
        .select_related("created_by")
        .prefetch_related(Prefetch("action_items", queryset=_items(user)))
        .order_by("-held_on", "-id")
    )


# --- The staff overview and the coach's home -------------------------------------------

RISK_ORDER = {RiskLevel.HIGH: 0, RiskLevel.MEDIUM: 1, RiskLevel.LOW: 2}


@dataclass
class CoachingRow:
    """One coalition on the coaching overview or a coach's home."""

    coalition: Coalition
    coaches: list[User]
    risk: RiskFlag | None
    open_items: int
    overdue_items: int
    last_session: date | None
    report: PeriodRow | None

    @property
    def risk_rank(self) -> int:
        return RISK_ORDER.get(RiskLevel(self.risk.level), 3) if self.risk else 3

    @property
    def at_risk(self) -> bool:
        return self.risk is not None and self.risk.level in (RiskLevel.HIGH, RiskLevel.MEDIUM)


def _count(rows) -> Subquery:
    return Subquery(
        rows.order_by().values("coalition").annotate(n=Count("id")).values("n")[:1],
        output_field=IntegerField(),
    )


def coaching_rows(user: User, *, today: date, with_coaches: bool = True) -> list[CoachingRow]:
    """Every coalition the user sees with its risk, action items, last session, coaches and
    current report, at-risk first, in three queries (two without the coaches) whatever
    the data."""
    # Counts, the last session date and the current risk flag ride on the coalition query
    # as subqueries, so the page costs the same few queries for 2 coalitions or 200.
    items = ActionItem.objects.shared_or_staff(user).filter(
        coalition=OuterRef("pk"), status=ActionStatus.OPEN
    )
    sessions = CoachingSession.objects.shared_or_staff(user).filter(coalition=OuterRef("pk"))
    flag = RiskFlag.objects.filter(coalition=OuterRef("pk")).order_by("-set_at", "-id")
    coalitions_qs = Coalition.objects.visible_to(user).annotate(
        open_items=_count(items),
        overdue_items=_count(items.filter(due_on__lt=today)),
        last_session=Subquery(sessions.order_by("-held_on").values("held_on")[:1]),
    )
    if user.is_jff_staff:
        # Risk is a staff judgement; coalition members never get it.
        coalitions_qs = coalitions_qs.annotate(
            risk_level=Subquery(flag.values("level")[:1]),
            risk_reason=Subquery(flag.values("reason")[:1]),
            risk_set_at=Subquery(flag.values("set_at")[:1]),
        )
    if with_coaches:
        coalitions_qs = coalitions_qs.prefetch_related(
            Prefetch(
                "coach_assignments",
                queryset=CoachAssignment.objects.select_related("coach").order_by("coach__email"),
            )
        )
    coalitions: list[Any] = list(coalitions_qs)
    reports = reporting_selectors.reports_needing_attention(coalitions, user=user, today=today)
    rows = [
        CoachingRow(
            coalition=c,
            coaches=[a.coach for a in c.coach_assignments.all()] if with_coaches else [],
            # An unsaved flag carries the annotated fields, so templates use one shape.
            risk=RiskFlag(
                coalition=c, level=c.risk_level, reason=c.risk_reason, set_at=c.risk_set_at
            )
            if getattr(c, "risk_level", None)
            else None,
            open_items=c.open_items or 0,
            overdue_items=c.overdue_items or 0,
            last_session=c.last_session,
            report=reports.get(c.pk),
        )
        for c in coalitions
    ]
    rows.sort(key=lambda r: (r.risk_rank, -r.overdue_items, r.coalition.name))
    return rows


def filter_rows(rows: list[CoachingRow], filters: dict[str, str]) -> list[CoachingRow]:
    """Narrow by risk level ("none" for not assessed) and coach uuid ("none" for none)."""
    if filters.get("risk") == "none":
        rows = [r for r in rows if r.risk is None]
    elif filters.get("risk"):
        rows = [r for r in rows if r.risk is not None and r.risk.level == filters["risk"]]
    if filters.get("coach") == "none":
        rows = [r for r in rows if not r.coaches]
    elif filters.get("coach"):
        rows = [r for r in rows if any(str(c.uuid) == filters["coach"] for c in r.coaches)]
    return rows


def open_items_for(user: User, *, limit: int = 50) -> list[ActionItem]:
    """Open action items across the coalitions the user sees, overdue (oldest due) first."""
    return list(
        _items(user)
        .filter(status=ActionStatus.OPEN)
        .select_related("coalition")
        .order_by("due_on", "id")[:limit]
    )


def coaching_stamp(coalition: Coalition) -> str | None:
    """What the coaching part of the coalition's dashboard is built from, in one query
    (reporting.pagecache.stamp): its risk flags, sessions and action items and the
    people named on them. Another flag, session or item, or one edited, gives another
    stamp, so the cached part is dropped by the change itself."""
    return pagecache.stamp(*coaching_sources(coalition))


def coaching_sources(coalition: Coalition) -> list[tuple[type, str, list]]:
    """``coaching_stamp``'s sources, for a caller that stamps them together with its
    own in the same query (the coalition dashboard)."""
    own = ("coalition_id = %s", [coalition.pk])
    names = " UNION ".join(
        f"SELECT {column} FROM {model._meta.db_table} WHERE coalition_id = %s"
        for model, column in (
            (RiskFlag, "set_by_id"),
            (CoachingSession, "created_by_id"),
            (ActionItem, "owner_id"),
        )
    )
    return [
        (RiskFlag, *own),
        (CoachingSession, *own),
        (ActionItem, *own),
        (User, f"id IN ({names})", [coalition.pk] * 3),
    ]


def dashboard_stamp(coalition: Coalition, *, aggregates_only: bool) -> str | None:
    """One query for what the dashboard shows live beside the roll-ups: the coalition's
    versions and their files (the latest report, its state and counts; its findings
    are replaced in the same transaction that moves the version on), and, for those
    who read it, coaching (``coaching_sources``). Another version, a state change, a
    check stored, a flag, session or item gives another stamp. None where stamps are
    not kept (reporting.pagecache.stamp)."""
    sources: list[Any] = reporting_dashboards.report_sources(coalition)
    if not aggregates_only:
        sources += coaching_sources(coalition)
    return pagecache.stamp(*sources)
