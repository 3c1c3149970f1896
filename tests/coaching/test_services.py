"""Coaching's services: who may write, what is checked, what is audited, and that risk
history is kept."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bpij.models import AuditAction, AuditEvent
from coaching import selectors, services
from coaching.models import ActionItem, ActionStatus, CoachingSession, RiskFlag
from tests import factories
from tests.builders import checked_version, period_of

SESSION = {
    "held_on": date(2025, 9, 3),
    "kind": "call",
    "attendees": "Dana Lee, Alpha College",
    "topics": "Placement follow-up",
}


def _item(**kwargs) -> services.ItemInput:
    return services.ItemInput(
        **{"title": "Send wage records", "due_on": date(2025, 10, 1)} | kwargs
    )


@pytest.mark.parametrize("who", ["coach_a", "officer", "jff_admin"])
def test_coaches_and_program_officers_log_sessions_with_items(cast, who):
    session = services.session_log(
        coalition=cast.coalition_a,
        actor=cast[who],
        items=[_item(owner=cast.admin_a), _item(title="Call the union", owner_name="Sam Ortiz")],
        **SESSION,
    )
    assert session.action_items.count() == 2
    assert session.created_by == cast[who]
    logged = AuditEvent.objects.get(action=AuditAction.COACHING_SESSION_LOGGED)
    assert logged.actor == cast[who]
    assert logged.coalition_uuid == cast.coalition_a.code
    assert AuditEvent.objects.filter(action=AuditAction.ACTION_ITEM_CREATED).count() == 2


@pytest.mark.parametrize("who", ["admin_a", "reporter_a", "viewer_a", "outsider_b"])
def test_coalition_members_cannot_log_sessions(cast, who):
    with pytest.raises(PermissionDenied):
        services.session_log(coalition=cast.coalition_a, actor=cast[who], **SESSION)
    assert not CoachingSession.objects.exists()


def test_a_coach_cannot_write_for_a_coalition_not_assigned_to_them(cast):
    with pytest.raises(PermissionDenied):
        services.session_log(coalition=cast.coalition_b, actor=cast.coach_a, **SESSION)
    with pytest.raises(PermissionDenied):
        services.risk_flag_set(
            coalition=cast.coalition_b, level="high", reason="Not my coalition at all",
            actor=cast.coach_a,
        )  # fmt: skip


def test_a_bad_item_undoes_the_whole_session(cast):
    with pytest.raises(ValidationError, match="neither a member"):
        services.session_log(
            coalition=cast.coalition_a,
            actor=cast.coach_a,
            items=[_item(), _item(owner=cast.outsider_b)],
            **SESSION,
        )
    assert not CoachingSession.objects.exists()
    assert not ActionItem.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "lunch"}, "not a kind of session; use one of: Call, Site visit"),
        ({"attendees": "  "}, "List who attended"),
        ({"topics": ""}, "Say what the session covered"),
        ({"held_on": timezone.localdate() + timedelta(days=2)}, "once it has happened"),
    ],
)
def test_a_session_says_what_is_wrong_with_it(cast, change, message):
    with pytest.raises(ValidationError, match=message):
        services.session_log(coalition=cast.coalition_a, actor=cast.coach_a, **(SESSION | change))


def test_an_item_links_only_to_its_own_coalitions_targets_and_findings(cast):
    other_target = cast.coalition_b.targets.get()
    with pytest.raises(ValidationError, match="not one of"):
        services.action_item_create(
            coalition=cast.coalition_a, item=_item(target=other_target), actor=cast.officer
        )
    report = checked_version(period_of(cast.coalition_b, "2025Q3"), cast.outsider_b, error_rate=0.2)
    finding = report.uploads.first().findings.first()
    assert finding is not None
    with pytest.raises(ValidationError, match="not from one of"):
        services.action_item_create(
            coalition=cast.coalition_a, item=_item(finding=finding), actor=cast.officer
        )


def test_an_item_may_point_at_a_finding_of_the_coalitions_report(cast):
    report = checked_version(period_of(cast.coalition_a, "2025Q3"), cast.admin_a, error_rate=0.2)
    finding = report.uploads.first().findings.first()
    item = services.action_item_create(
        coalition=cast.coalition_a,
        item=_item(finding=finding, target=cast.coalition_a.targets.get()),
        actor=cast.coach_a,
    )
    assert (item.finding, item.target.measure) == (finding, "A-2")


def test_an_item_has_one_owner_a_user_or_a_name(cast):
    with pytest.raises(ValidationError, match="not both"):
        services.action_item_create(
            coalition=cast.coalition_a,
            item=_item(owner=cast.admin_a, owner_name="Sam"),
            actor=cast.coach_a,
        )


def test_jff_staff_may_own_items_of_any_coalition(cast):
    item = services.action_item_create(
        coalition=cast.coalition_a, item=_item(owner=cast.officer), actor=cast.coach_a
    )
    assert item.owner == cast.officer


def _shared_item(cast, **kwargs) -> ActionItem:
    return services.action_item_create(
        coalition=cast.coalition_a,
        item=_item(owner=cast.admin_a, shared=True, **kwargs),
        actor=cast.coach_a,
    )


def test_closing_an_item_stamps_when_and_reopening_clears_it(cast):
    item = _shared_item(cast)
    services.action_item_set_status(item=item, status="done", actor=cast.coach_a)
    item.refresh_from_db()
    assert item.status == ActionStatus.DONE
    assert item.closed_at is not None
    assert timezone.is_aware(item.closed_at)
    services.action_item_set_status(item=item, status="open", actor=cast.coach_a)
    item.refresh_from_db()
    assert (item.status, item.closed_at) == (ActionStatus.OPEN, None)
    changes = AuditEvent.objects.filter(action=AuditAction.ACTION_ITEM_CHANGED)
    assert [e.detail["status"] for e in changes.order_by("at", "id")] == [
        ["open", "done"],
        ["done", "open"],
    ]


def test_setting_the_same_status_again_changes_and_audits_nothing(cast):
    item = _shared_item(cast)
    services.action_item_set_status(item=item, status="open", actor=cast.coach_a)
    assert not AuditEvent.objects.filter(action=AuditAction.ACTION_ITEM_CHANGED).exists()


def test_the_owner_may_mark_their_shared_item_done_but_not_drop_it(cast):
    item = _shared_item(cast)
    with pytest.raises(PermissionDenied):
        services.action_item_set_status(item=item, status="dropped", actor=cast.admin_a)
    services.action_item_set_status(item=item, status="done", actor=cast.admin_a)
    item.refresh_from_db()
    assert item.status == ActionStatus.DONE


@pytest.mark.parametrize("who", ["reporter_a", "viewer_a", "outsider_b"])
def test_other_members_cannot_close_someone_elses_item(cast, who):
    item = _shared_item(cast)
    with pytest.raises(PermissionDenied):
        services.action_item_set_status(item=item, status="done", actor=cast[who])


def test_only_the_owner_closes_an_item_given_to_them_that_was_not_shared(cast):
    """Issue 11 reversed the earlier rule (owners closed only shared items): an owner
    reads every item they own, so they may close it; other members still may not."""
    item = services.action_item_create(
        coalition=cast.coalition_a, item=_item(owner=cast.admin_a), actor=cast.coach_a
    )
    with pytest.raises(PermissionDenied):
        services.action_item_set_status(item=item, status="done", actor=cast.reporter_a)
    with pytest.raises(PermissionDenied):
        services.action_item_set_status(item=item, status="dropped", actor=cast.admin_a)
    services.action_item_set_status(item=item, status="done", actor=cast.admin_a)
    item.refresh_from_db()
    assert item.status == ActionStatus.DONE


def test_an_unknown_status_is_refused_with_the_known_ones(cast):
    with pytest.raises(ValidationError, match="open, done or dropped"):
        services.action_item_set_status(item=_shared_item(cast), status="gone", actor=cast.officer)


def test_updating_an_item_checks_and_audits_the_change(cast):
    item = _shared_item(cast)
    services.action_item_update(
        item=item, actor=cast.officer, title="Send Q3 wage records", due_on=date(2025, 11, 1)
    )
    item.refresh_from_db()
    assert (item.title, item.due_on) == ("Send Q3 wage records", date(2025, 11, 1))
    event = AuditEvent.objects.get(action=AuditAction.ACTION_ITEM_CHANGED)
    assert event.detail["fields"] == ["due_on", "title"]
    with pytest.raises(ValidationError, match="needs a title"):
        services.action_item_update(item=item, actor=cast.officer, title="  ")
    with pytest.raises(PermissionDenied):
        services.action_item_update(item=item, actor=cast.admin_a, title="Mine now")


def test_updating_a_session_audits_which_fields_changed(cast):
    session = services.session_log(coalition=cast.coalition_a, actor=cast.coach_a, **SESSION)
    services.session_update(session=session, actor=cast.coach_a, notes="Follow up", shared=True)
    session.refresh_from_db()
    assert (session.notes, session.shared) == ("Follow up", True)
    event = AuditEvent.objects.get(action=AuditAction.COACHING_SESSION_CHANGED)
    assert event.detail["fields"] == ["notes", "shared"]
    with pytest.raises(PermissionDenied):
        services.session_update(session=session, actor=cast.viewer_a, notes="x")


def test_each_risk_flag_is_a_new_row_so_the_history_is_kept(cast):
    for level, reason in [
        ("low", "On pace with its targets."),
        ("high", "Placements stalled for two quarters."),
        ("medium", "Recovering after a recruitment push."),
    ]:
        services.risk_flag_set(
            coalition=cast.coalition_a, level=level, reason=reason, actor=cast.coach_a
        )
    assert RiskFlag.objects.filter(coalition=cast.coalition_a).count() == 3
    coaching = selectors.coalition_coaching(coalition=cast.coalition_a, user=cast.officer)
    assert coaching.risk.level == "medium"
    assert [f.level for f in coaching.risk_history] == ["medium", "high", "low"]
    assert AuditEvent.objects.filter(action=AuditAction.RISK_FLAG_SET).count() == 3


@pytest.mark.parametrize(
    ("level", "reason", "message"),
    [
        ("severe", "Placements stalled.", "not a risk level; use one of: low"),
        ("high", "  short  ", "at least 10 characters"),
    ],
)
def test_a_risk_flag_needs_a_known_level_and_a_reason(cast, level, reason, message):
    with pytest.raises(ValidationError, match=message):
        services.risk_flag_set(
            coalition=cast.coalition_a, level=level, reason=reason, actor=cast.coach_a
        )


def test_the_dashboard_summary_shows_members_only_shared_records_and_no_risk(cast):
    for shared in (True, False):
        services.session_log(
            coalition=cast.coalition_a,
            actor=cast.coach_a,
            items=[_item(title=f"shared={shared}", shared=shared)],
            shared=shared,
            **SESSION,
        )
    services.risk_flag_set(
        coalition=cast.coalition_a, level="high", reason="Placements stalled.", actor=cast.coach_a
    )
    member = selectors.coalition_coaching(coalition=cast.coalition_a, user=cast.viewer_a)
    assert [s.shared for s in member.sessions] == [True]
    assert [i.title for i in member.open_items] == ["shared=True"]
    assert (member.risk, member.risk_history) == (None, [])
    staff = selectors.coalition_coaching(coalition=cast.coalition_a, user=cast.coach_a)
    assert len(staff.sessions) == 2
    assert {i.title for i in staff.open_items} == {"shared=True", "shared=False"}
    assert staff.risk.level == "high"


def test_the_dashboard_summary_costs_three_queries_whatever_the_data(
    cast, django_assert_max_num_queries
):
    for n in range(8):
        services.session_log(
            coalition=cast.coalition_a,
            actor=cast.coach_a,
            items=[_item(title=f"Item {n}", owner=cast.admin_a, shared=True)],
            shared=True,
            **SESSION,
        )
        services.risk_flag_set(
            coalition=cast.coalition_a, level="low", reason=f"Reason {n} is fine",
            actor=cast.coach_a,
        )  # fmt: skip
    coach = type(cast.coach_a).objects.get(pk=cast.coach_a.pk)
    with django_assert_max_num_queries(4):  # 3, plus the coach's assignments read once
        coaching = selectors.coalition_coaching(coalition=cast.coalition_a, user=coach)
        _ = [(i.owner.display_name, i.target) for i in coaching.open_items]
        _ = [f.set_by.display_name for f in coaching.risk_history]
    assert len(coaching.open_items) == 8


def test_a_coach_assigned_later_can_write(cast):
    coach = factories.StaffFactory(staff_role="coach")
    factories.CoachAssignmentFactory(coalition=cast.coalition_b, coach=coach)
    session = services.session_log(coalition=cast.coalition_b, actor=coach, **SESSION)
    assert session.coalition == cast.coalition_b
