"""The demo coaching record: every demo coalition coached, the troubled ones flagged with
history, items in every state, and running it twice changes nothing."""

from collections import Counter
from datetime import date

import pytest

from bpij.models import User
from coaching import demo, selectors
from coaching.models import ActionItem, ActionStatus, CoachingSession, RiskFlag, SessionKind
from grantees import demo as grantees_demo
from grantees.models import Coalition
from reporting import demo as reporting_demo

TODAY = date(2026, 11, 25)


@pytest.fixture
def seeded(db):
    grantees_demo.seed(password="demo-test-password")
    return demo.seed(today=TODAY)


def test_every_demo_coalition_gets_sessions_of_every_kind_across_the_grant(seeded):
    assert seeded.sessions == CoachingSession.objects.count()
    per_coalition = Counter(CoachingSession.objects.values_list("coalition_id", flat=True))
    assert len(per_coalition) == len(grantees_demo.DEMO_COALITIONS)
    assert min(per_coalition.values()) >= 3
    assert set(CoachingSession.objects.values_list("kind", flat=True)) == set(SessionKind.values)
    days = CoachingSession.objects.values_list("held_on", flat=True)
    assert min(days).year == 2024
    assert max(days) <= TODAY
    assert CoachingSession.objects.filter(shared=True).exists()
    assert CoachingSession.objects.filter(shared=False).exists()


def test_demo_sessions_are_logged_by_the_coalitions_own_coach(seeded):
    for session in CoachingSession.objects.select_related("coalition", "created_by"):
        assert session.coalition.pk in session.created_by.assigned_coalition_ids


def test_demo_items_are_open_done_dropped_and_overdue(seeded):
    statuses = Counter(ActionItem.objects.values_list("status", flat=True))
    assert set(statuses) == set(ActionStatus.values)
    open_items = ActionItem.objects.filter(status=ActionStatus.OPEN)
    assert open_items.filter(due_on__lt=TODAY).exists()
    assert open_items.filter(due_on__gte=TODAY).exists()
    closed = ActionItem.objects.exclude(status=ActionStatus.OPEN)
    assert not closed.filter(closed_at__isnull=True).exists()
    assert not open_items.filter(closed_at__isnull=False).exists()
    assert ActionItem.objects.filter(target__isnull=False).exists()
    assert ActionItem.objects.filter(owner__isnull=False).exists()
    assert ActionItem.objects.filter(owner__isnull=True).exclude(owner_name="").exists()


def test_the_coalitions_reporting_falls_behind_on_are_the_ones_at_risk(seeded):
    current = {}
    for flag in RiskFlag.objects.select_related("coalition").order_by("set_at", "id"):
        current[flag.coalition.slug] = flag.level
    at_risk = {slug for slug, level in current.items() if level == "high"}
    watch = {slug for slug, level in current.items() if level == "medium"}
    assert at_risk == set(reporting_demo.AT_RISK)
    assert 5 <= len(at_risk) <= 7
    assert watch == set(demo.WATCH)
    assert demo.NOT_ASSESSED.isdisjoint(current)
    # At-risk coalitions slid there: their history shows the earlier levels.
    for slug in at_risk:
        levels = list(
            RiskFlag.objects.filter(coalition__slug=slug)
            .order_by("set_at", "id")
            .values_list("level", flat=True)
        )
        assert levels == ["low", "medium", "high"]
    assert not RiskFlag.objects.filter(set_at__date__gt=TODAY).exists()


def test_seeding_again_changes_nothing(seeded):
    counts = (CoachingSession.objects.count(), ActionItem.objects.count(), RiskFlag.objects.count())
    again = demo.seed(today=TODAY)
    assert (again.sessions, again.items, again.flags) == (0, 0, 0)
    assert again.skipped == len(grantees_demo.DEMO_COALITIONS)
    assert counts == (
        CoachingSession.objects.count(),
        ActionItem.objects.count(),
        RiskFlag.objects.count(),
    )


def test_coach1_sees_at_risk_coalitions_first_on_the_overview(seeded):
    coach = User.objects.get(email="coach1@jff.example")
    rows = selectors.coaching_rows(coach, today=TODAY)
    assert len(rows) == Coalition.objects.filter(coach_assignments__coach=coach).count()
    ranks = [r.risk_rank for r in rows]
    assert ranks == sorted(ranks)
    assert any(r.at_risk for r in rows)
