"""Coaching's access matrix and query budgets: a coach sees only assigned coalitions, a
coalition member reads only what was shared and writes nothing, another coalition's
records are 404."""

import re
from datetime import date, timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bpij.models import AuditAction, AuditEvent, StaffRole
from coaching import selectors, services
from coaching.models import ActionItem, ActionStatus, CoachingSession, RiskFlag
from reporting import services as reporting_services
from reporting.models import Submission, SubmissionComment, SubmissionState
from tests import factories

CAST = ["admin_a", "reporter_a", "viewer_a", "coach_a", "officer", "jff_admin", "outsider_b"]


def expect(**codes):
    return [pytest.param(who, codes[who], id=who) for who in CAST]


READERS = expect(
    admin_a=200, reporter_a=200, viewer_a=200, coach_a=200, officer=200, jff_admin=200,
    outsider_b=404,
)  # fmt: skip
STAFF_READERS = expect(
    admin_a=404, reporter_a=404, viewer_a=404, coach_a=200, officer=200, jff_admin=200,
    outsider_b=404,
)  # fmt: skip
WRITERS_FORM = expect(
    admin_a=403, reporter_a=403, viewer_a=403, coach_a=200, officer=200, jff_admin=200,
    outsider_b=404,
)  # fmt: skip


def _session(cast, *, shared: bool, **kwargs) -> CoachingSession:
    return services.session_log(
        coalition=cast.coalition_a,
        actor=cast.coach_a,
        held_on=date(2025, 9, 3),
        kind="call",
        attendees="Dana Lee, Alpha College",
        topics="Placement follow-up" if shared else "Confidential: leadership turnover",
        notes="Staff-only note",
        shared=shared,
        items=[
            services.ItemInput(
                title="Send wage records" if shared else "Call the board chair",
                due_on=date(2025, 10, 1),
                owner=cast.admin_a if shared else None,
                owner_name="" if shared else "Board chair",
                shared=shared,
            )
        ],
        **kwargs,
    )


@pytest.fixture
def shared_session(cast):
    return _session(cast, shared=True)


@pytest.fixture
def private_session(cast):
    return _session(cast, shared=False)


def test_the_coalition_coaching_page_shows_members_only_what_was_shared(
    cast, client_for, shared_session, private_session
):
    services.risk_flag_set(
        coalition=cast.coalition_a, level="high", reason="Two quarters behind on placements",
        actor=cast.coach_a,
    )  # fmt: skip
    url = reverse("coaching:coalition", args=[cast.coalition_a.code])
    member_page = client_for(cast.viewer_a).get(url).content.decode()
    assert "Placement follow-up" in member_page
    assert "Send wage records" in member_page
    assert "leadership turnover" not in member_page
    assert "Call the board chair" not in member_page
    assert "Two quarters behind" not in member_page
    staff_page = client_for(cast.coach_a).get(url).content.decode()
    assert "leadership turnover" in staff_page
    assert "Call the board chair" in staff_page
    assert "Two quarters behind" in staff_page


@pytest.mark.parametrize(("who", "status"), READERS)
def test_the_coalition_coaching_page_is_for_the_coalitions_people(cast, client_for, who, status):
    url = reverse("coaching:coalition", args=[cast.coalition_a.code])
    assert client_for(cast[who]).get(url).status_code == status


def test_a_coach_does_not_see_an_unassigned_coalitions_coaching(cast, client_for):
    url = reverse("coaching:coalition", args=[cast.coalition_b.code])
    assert client_for(cast.coach_a).get(url).status_code == 404


@pytest.mark.parametrize(("who", "status"), READERS)
def test_a_shared_session_is_readable_by_the_coalitions_people(
    cast, client_for, shared_session, who, status
):
    url = reverse("coaching:session-detail", args=[shared_session.code])
    assert client_for(cast[who]).get(url).status_code == status


@pytest.mark.parametrize(("who", "status"), STAFF_READERS)
def test_a_staff_only_session_does_not_exist_for_coalition_members(
    cast, client_for, private_session, who, status
):
    url = reverse("coaching:session-detail", args=[private_session.code])
    assert client_for(cast[who]).get(url).status_code == status


@pytest.mark.parametrize(("who", "status"), WRITERS_FORM)
def test_only_coaches_and_program_officers_open_the_session_form(cast, client_for, who, status):
    url = reverse("coaching:session-log", args=[cast.coalition_a.code])
    assert client_for(cast[who]).get(url).status_code == status


@pytest.mark.parametrize(("who", "status"), WRITERS_FORM)
def test_only_coaches_and_program_officers_edit_a_shared_session(
    cast, client_for, shared_session, who, status
):
    for name in ("coaching:session-edit", "coaching:item-add"):
        url = reverse(name, args=[shared_session.code])
        assert client_for(cast[who]).get(url).status_code == status


@pytest.mark.parametrize(("who", "status"), WRITERS_FORM)
def test_only_coaches_and_program_officers_edit_a_shared_item(
    cast, client_for, shared_session, who, status
):
    item = shared_session.action_items.get()
    url = reverse("coaching:item-edit", args=[item.code])
    assert client_for(cast[who]).get(url).status_code == status


def _session_post(cast, **extra):
    data = {
        "held_on": "2025-09-10",
        "kind": "site_visit",
        "attendees": "Dana Lee, Alpha College\nSam Ortiz, IBEW Local 48",
        "topics": "Employer partnerships; follow-up on wage records",
        "notes": "Good energy at the site.",
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "10",
        "items-0-title": "Send the employer list",
        "items-0-owner": str(cast.admin_a.uuid),
        "items-0-due_on": "2025-10-15",
        "items-0-shared": "on",
        "items-1-title": "Draft the MOU with the union",
        "items-1-owner_name": "Sam Ortiz",
        "items-1-due_on": "2025-11-01",
        "items-1-target": str(cast.coalition_a.targets.get().pk),
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=302, officer=302, jff_admin=302,
        outsider_b=404,
    ),
)  # fmt: skip
def test_logging_a_session_with_two_action_items(cast, client_for, who, status):
    url = reverse("coaching:session-log", args=[cast.coalition_a.code])
    response = client_for(cast[who]).post(url, _session_post(cast))
    assert response.status_code == status
    if status != 302:
        assert not CoachingSession.objects.exists()
        return
    session = CoachingSession.objects.get()
    assert response["Location"] == reverse("coaching:session-detail", args=[session.code])
    items = {i.title: i for i in session.action_items.all()}
    assert set(items) == {"Send the employer list", "Draft the MOU with the union"}
    assert items["Send the employer list"].owner == cast.admin_a
    assert items["Send the employer list"].shared
    assert items["Draft the MOU with the union"].owner_name == "Sam Ortiz"
    assert items["Draft the MOU with the union"].target.measure == "A-2"
    assert AuditEvent.objects.filter(action=AuditAction.ACTION_ITEM_CREATED).count() == 2


def test_an_action_item_row_without_a_due_date_is_sent_back_with_a_reason(cast, client_for):
    url = reverse("coaching:session-log", args=[cast.coalition_a.code])
    response = client_for(cast.coach_a).post(url, _session_post(cast, **{"items-1-due_on": ""}))
    assert response.status_code == 400
    assert "Give a due date" in response.content.decode()
    assert not CoachingSession.objects.exists()


def test_a_session_in_the_future_is_refused_with_a_reason(cast, client_for):
    url = reverse("coaching:session-log", args=[cast.coalition_a.code])
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = client_for(cast.coach_a).post(url, _session_post(cast, held_on=tomorrow))
    assert response.status_code == 400
    assert "once it has happened" in response.content.decode()


def test_editing_a_session_changes_it_and_is_audited(cast, client_for, private_session):
    url = reverse("coaching:session-edit", args=[private_session.code])
    data = {
        "held_on": "2025-09-04",
        "kind": "office_hours",
        "attendees": "Dana Lee, Alpha College",
        "topics": "Revised topics",
        "notes": "",
        "shared": "on",
    }
    assert client_for(cast.officer).post(url, data).status_code == 302
    private_session.refresh_from_db()
    assert (private_session.kind, private_session.topics, private_session.shared) == (
        "office_hours",
        "Revised topics",
        True,
    )
    assert AuditEvent.objects.filter(action=AuditAction.COACHING_SESSION_CHANGED).exists()


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=200, reporter_a=403, viewer_a=403, coach_a=200, officer=200, jff_admin=200,
        outsider_b=404,
    ),
)  # fmt: skip
def test_the_owner_of_a_shared_item_and_staff_may_mark_it_done(
    cast, client_for, shared_session, who, status
):
    item = shared_session.action_items.get()
    url = reverse("coaching:item-status", args=[item.code])
    response = client_for(cast[who]).post(url, {"status": "done"}, HTTP_HX_REQUEST="true")
    assert response.status_code == status
    item.refresh_from_db()
    assert item.status == (ActionStatus.DONE if status == 200 else ActionStatus.OPEN)
    if status == 200:
        assert item.closed_at is not None
        assert "Reopen" in response.content.decode()


def test_a_staff_only_item_does_not_exist_for_its_coalition_members(
    cast, client_for, private_session
):
    item = private_session.action_items.get()
    url = reverse("coaching:item-status", args=[item.code])
    assert client_for(cast.admin_a).post(url, {"status": "done"}).status_code == 404


def test_the_item_status_change_wants_a_known_status(cast, client_for, shared_session):
    item = shared_session.action_items.get()
    url = reverse("coaching:item-status", args=[item.code])
    response = client_for(cast.coach_a).post(url, {"status": "finished"})
    assert response.status_code == 400
    assert "open, done or dropped" in response.content.decode()


def test_the_item_status_change_is_post_only(cast, client_for, shared_session):
    item = shared_session.action_items.get()
    url = reverse("coaching:item-status", args=[item.code])
    assert client_for(cast.coach_a).get(url).status_code == 405


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=302, officer=302, jff_admin=302,
        outsider_b=404,
    ),
)  # fmt: skip
def test_setting_a_risk_flag(cast, client_for, who, status):
    url = reverse("coaching:risk-set", args=[cast.coalition_a.code])
    data = {"level": "high", "reason": "Placements stalled for two quarters."}
    assert client_for(cast[who]).post(url, data).status_code == status
    assert RiskFlag.objects.filter(coalition=cast.coalition_a).count() == (status == 302)


def test_a_risk_flag_without_a_reason_is_refused_with_a_reason(cast, client_for):
    url = reverse("coaching:risk-set", args=[cast.coalition_a.code])
    response = client_for(cast.coach_a).post(url, {"level": "high", "reason": "bad"})
    assert response.status_code == 400
    assert "at least 10 characters" in response.content.decode()
    assert not RiskFlag.objects.exists()


# --- Staff pages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=200, officer=200, jff_admin=200,
        outsider_b=403,
    ),
)  # fmt: skip
def test_the_coaching_overview_is_for_jff_staff(cast, client_for, who, status):
    assert client_for(cast[who]).get(reverse("coaching:overview")).status_code == status


def test_the_overview_puts_coalitions_at_risk_first_and_filters_by_risk_and_coach(cast, client_for):
    services.risk_flag_set(
        coalition=cast.coalition_b, level="low", reason="Was behind, now on track",
        actor=cast.officer,
    )  # fmt: skip
    services.risk_flag_set(
        coalition=cast.coalition_b, level="high", reason="Lost its lead employer partner",
        actor=cast.officer,
    )  # fmt: skip
    client = client_for(cast.officer)
    page = client.get(reverse("coaching:overview")).content.decode()
    assert page.index("Bravo Broadband") < page.index("Alpha Wind")
    assert "Lost its lead employer partner" in page
    assert "Was behind, now on track" not in page
    high = client.get(reverse("coaching:overview"), {"risk": "high"}).content.decode()
    assert "Bravo Broadband" in high
    assert "Alpha Wind" not in high
    by_coach = client.get(
        reverse("coaching:overview"), {"coach": str(cast.coach_a.uuid)}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Alpha Wind" in by_coach
    assert "Bravo Broadband" not in by_coach
    assert "<html" not in by_coach


def test_a_coachs_overview_lists_only_assigned_coalitions(cast, client_for):
    page = client_for(cast.coach_a).get(reverse("coaching:overview")).content.decode()
    assert "Alpha Wind" in page
    assert "Bravo Broadband" not in page


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=200, officer=403, jff_admin=403,
        outsider_b=403,
    ),
)  # fmt: skip
def test_the_coach_home_is_for_coaches(cast, client_for, who, status):
    assert client_for(cast[who]).get(reverse("coaching:home")).status_code == status


def test_the_coach_home_shows_risk_items_and_the_report_being_worked_on(
    cast, client_for, private_session
):
    reporting_services.periods_ensure(grant=cast.coalition_a.grants.get())
    services.risk_flag_set(
        coalition=cast.coalition_a, level="medium", reason="Data quality slipping",
        actor=cast.coach_a,
    )  # fmt: skip
    page = client_for(cast.coach_a).get(reverse("coaching:home")).content.decode()
    assert "Data quality slipping" in page
    assert "Call the board chair" in page
    # Nothing has been submitted, so the oldest closed quarter is the one being chased.
    assert "2023Q4" in page
    assert "Overdue" in page


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=403, officer=200, jff_admin=200,
        outsider_b=403,
    ),
)  # fmt: skip
def test_the_assignments_page_is_for_program_officers(cast, client_for, who, status):
    assert client_for(cast[who]).get(reverse("coaching:assignments")).status_code == status


def test_a_program_officer_assigns_and_unassigns_a_coach(cast, client_for):
    client = client_for(cast.officer)
    url = reverse("coaching:assign", args=[cast.coalition_b.code])
    assert client.post(url, {"coach": str(cast.coach_a.uuid)}).status_code == 302
    assert cast.coalition_b.coach_assignments.filter(coach=cast.coach_a).exists()
    url = reverse("coaching:unassign", args=[cast.coalition_b.code, cast.coach_a.uuid])
    assert client.post(url).status_code == 302
    assert not cast.coalition_b.coach_assignments.filter(coach=cast.coach_a).exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {AuditAction.COACH_ASSIGNED, AuditAction.COACH_UNASSIGNED} <= actions


def test_assigning_someone_who_is_not_a_coach_is_refused(cast, client_for):
    url = reverse("coaching:assign", args=[cast.coalition_b.code])
    response = client_for(cast.officer).post(url, {"coach": str(cast.officer.uuid)}, follow=True)
    assert "Choose one of the listed coaches" in response.content.decode()
    assert not cast.coalition_b.coach_assignments.exists()


@pytest.mark.parametrize("who", ["coach_a", "admin_a"])
def test_only_program_officers_assign_coaches(cast, client_for, who):
    # Their own coalition is a 403; another coalition does not exist for them (404).
    client = client_for(cast[who])
    for coalition, status in ((cast.coalition_a, 403), (cast.coalition_b, 404)):
        url = reverse("coaching:assign", args=[coalition.code])
        assert client.post(url, {"coach": str(cast.coach_a.uuid)}).status_code == status
    assert not cast.coalition_b.coach_assignments.exists()


# --- Query budgets ----------------------------------------------------------------------


def _grow(cast, n: int) -> None:
    """More coalitions, coaches, sessions, items and flags: the query count must not move."""
    reporting_services.periods_ensure(grant=cast.coalition_a.grants.get())
    for i in range(n):
        grant = factories.GrantFactory()
        coalition = grant.coalition
        factories.TargetFactory(grant=grant, coalition=coalition, measure="C-1")
        reporting_services.periods_ensure(grant=grant)
        coach = factories.StaffFactory(staff_role=StaffRole.COACH)
        factories.CoachAssignmentFactory(coalition=coalition, coach=coach)
        factories.CoachAssignmentFactory(coalition=coalition, coach=cast.coach_a)
        for c in (coalition, cast.coalition_a):
            services.risk_flag_set(
                coalition=c, level=["low", "medium", "high"][i % 3],
                reason=f"Reason number {i} for the flag", actor=cast.officer,
            )  # fmt: skip
            services.session_log(
                coalition=c, actor=cast.officer, held_on=date(2025, 1, 1 + i), kind="call",
                attendees="Someone", topics=f"Topic {i}", shared=bool(i % 2),
                items=[
                    services.ItemInput(title=f"Item {i}-{j}", due_on=date(2025, 2, 1 + j),
                                       owner=cast.admin_a if c == cast.coalition_a else None,
                                       shared=bool(j % 2))
                    for j in range(3)
                ],
            )  # fmt: skip


PAGES = [
    pytest.param("coach_a", lambda cast: reverse("coaching:home"), id="coach-home"),
    pytest.param("coach_a", lambda cast: reverse("coaching:overview"), id="coach-overview"),
    pytest.param("officer", lambda cast: reverse("coaching:overview"), id="officer-overview"),
    pytest.param("officer", lambda cast: reverse("coaching:assignments"), id="assignments"),
    pytest.param(
        "coach_a",
        lambda cast: reverse("coaching:coalition", args=[cast.coalition_a.code]),
        id="coalition-page-coach",
    ),
    pytest.param(
        "viewer_a",
        lambda cast: reverse("coaching:coalition", args=[cast.coalition_a.code]),
        id="coalition-page-member",
    ),
    pytest.param(
        "coach_a",
        lambda cast: reverse("coaching:session-log", args=[cast.coalition_a.code]),
        id="session-form",
    ),
]


@pytest.mark.parametrize(("who", "url"), PAGES)
def test_coaching_pages_stay_within_twelve_queries_whatever_the_data(
    cast, client_for, django_assert_max_num_queries, who, url
):
    # Two rounds, so each kind of row (shared and staff-only) is there from the start.
    _grow(cast, 2)
    client = client_for(cast[who])
    client.get(url(cast))  # warm the session and the MFA flag, as a second page view would
    with django_assert_max_num_queries(12) as small:
        assert client.get(url(cast)).status_code == 200
    _grow(cast, 6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url(cast)).status_code == 200


def test_the_session_page_stays_within_twelve_queries(
    cast, client_for, django_assert_max_num_queries, shared_session
):
    _grow(cast, 3)
    client = client_for(cast.viewer_a)
    client.get(reverse("coaching:home"))  # warm the session
    with django_assert_max_num_queries(12):
        page = client.get(reverse("coaching:session-detail", args=[shared_session.code]))
    assert page.status_code == 200
    assert ActionItem.objects.count() > 10


def test_the_dashboard_partial_renders_what_the_reader_may_see(
    cast, shared_session, private_session
):
    services.risk_flag_set(
        coalition=cast.coalition_a, level="medium", reason="Watch the next report closely",
        actor=cast.coach_a,
    )  # fmt: skip
    for who, sees_private in (("coach_a", True), ("viewer_a", False)):
        coaching = selectors.coalition_coaching(coalition=cast.coalition_a, user=cast[who])
        html = render_to_string("coaching/_coalition_coaching.html", {"coaching": coaching})
        assert '<h2 id="coaching-heading"' in html
        assert "Send wage records" in html
        assert ("Call the board chair" in html) is sees_private
        assert ("Watch the next report closely" in html) is sees_private
        assert reverse("coaching:coalition", args=[cast.coalition_a.code]) in html


# -- Items given to a coalition member (issue 11) -------------------------------------------


def _give(cast, title: str, *, owner=None, owner_name: str = "", shared: bool, due=None):
    return services.action_item_create(
        coalition=cast.coalition_a,
        item=services.ItemInput(
            title=title,
            due_on=due or timezone.localdate() + timedelta(days=10),
            owner=owner,
            owner_name=owner_name,
            shared=shared,
        ),
        actor=cast.coach_a,
    )


def test_a_member_reads_and_closes_an_item_given_to_them_though_it_is_not_shared(
    cast, client_for, private_session
):
    """A coach gave the reporter a task and left it staff-only (the session is): the
    reporter must still see it to do it, and may mark it done; the other members still
    see nothing of it, nor of the session."""
    item = private_session.action_items.create(
        coalition=cast.coalition_a,
        title="Collect the employer letters",
        owner=cast.reporter_a,
        due_on=date(2025, 10, 1),
        created_by=cast.coach_a,
    )
    page = reverse("coaching:coalition", args=[cast.coalition_a.code])
    theirs = client_for(cast.reporter_a).get(page).content.decode()
    assert "Collect the employer letters" in theirs
    assert "leadership turnover" not in theirs, "the staff-only session stays hidden"
    assert 'Mark done<span class="usa-sr-only">: Collect the employer letters' in theirs
    others = client_for(cast.viewer_a).get(page).content.decode()
    assert "Collect the employer letters" not in others
    status = reverse("coaching:item-status", args=[item.code])
    assert client_for(cast.viewer_a).post(status, {"status": "done"}).status_code == 404
    assert client_for(cast.reporter_a).post(status, {"status": "dropped"}).status_code == 403
    assert client_for(cast.reporter_a).post(status, {"status": "done"}).status_code == 302
    item.refresh_from_db()
    assert item.status == ActionStatus.DONE


def test_the_coalition_home_lists_the_members_action_items_their_own_first(cast, client_for):
    soon = timezone.localdate() + timedelta(days=2)
    _give(cast, "Update the partner list", owner=cast.admin_a, shared=True, due=soon)
    _give(cast, "Send the wage records", owner=cast.reporter_a, shared=False)
    _give(cast, "Book the job fair", owner_name="Sam Ortiz (Alpha College)", shared=True)
    _give(cast, "Call the board chair", owner_name="Board chair", shared=False)
    closed = _give(cast, "Old task", owner=cast.reporter_a, shared=True)
    services.action_item_set_status(item=closed, status="done", actor=cast.coach_a)
    home = reverse("grantees:coalition-detail", args=[cast.coalition_a.code])

    page = client_for(cast.reporter_a).get(home).content.decode()
    section = page.split('id="coaching-items"')[1].split("</section>")[0]
    assert section.index("Send the wage records") < section.index("Update the partner list")
    assert section.index("Update the partner list") < section.index("Book the job fair")
    assert "Call the board chair" not in section, "staff-only and not theirs"
    assert "Old task" not in section, "open items only"
    assert section.count("Mark done") == 1, "only their own item can be closed"
    assert "Drop" not in section
    assert "Edit" not in section

    viewer = client_for(cast.viewer_a).get(home).content.decode()
    assert "Update the partner list" in viewer
    assert "Send the wage records" not in viewer
    assert "Mark done" not in viewer

    assert 'id="coaching-items"' not in client_for(cast.coach_a).get(home).content.decode()


def _selected_levels(page: str) -> list[str]:
    """The values the level select opens on (a browser shows the first option when none
    is marked selected)."""
    select = re.search(r'<select[^>]*name="level".*?</select>', page, re.S)
    assert select, "the risk form has a level select"
    chosen = re.findall(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen or re.findall(r'<option value="([^"]*)"', select.group(0))[:1]


def test_the_risk_form_opens_on_the_coalitions_current_flag(cast, client_for):
    url = reverse("coaching:coalition", args=[cast.coalition_a.code])
    client = client_for(cast.coach_a)
    # Never assessed: no level is chosen for the coach ("On track" would be a judgement).
    assert _selected_levels(client.get(url).content.decode()) == [""]
    services.risk_flag_set(
        coalition=cast.coalition_a, level="low", reason="Started the year on plan.",
        actor=cast.coach_a,
    )  # fmt: skip
    services.risk_flag_set(
        coalition=cast.coalition_a, level="high", reason="Two quarters behind on placements",
        actor=cast.coach_a,
    )  # fmt: skip
    assert _selected_levels(client.get(url).content.decode()) == ["high"]


# --- The report that needs attention now, and what waits for the coach (issue 12) ---------


def _quarters(coalition) -> list:
    """The coalition's begun periods, oldest first: the last is the quarter under way."""
    reporting_services.periods_ensure(grant=coalition.grants.get())
    today = timezone.localdate()
    return list(coalition.periods.filter(start_date__lte=today).order_by("start_date"))


def _version(period, actor, state, *, version=1, days_ago=3, previous=None, **extra):
    """A version in the given state, as the review workflow would have left it."""
    at = timezone.now() - timedelta(days=days_ago)
    return Submission.objects.create(
        coalition=period.coalition, period=period, version=version, state=state,
        created_by=actor, certified_at=at, submitted_at=at, previous=previous, **extra,
    )  # fmt: skip


def _all_accepted_before(coalition, actor, period) -> None:
    for earlier in _quarters(coalition):
        if earlier.start_date < period.start_date:
            _version(earlier, actor, SubmissionState.ACCEPTED, days_ago=400)


def _report_cell(page: str, name: str) -> str:
    """The row of the coalition's name, up to the end of its table row."""
    start = page.index(name, page.index("reports-heading") if "reports-heading" in page else 0)
    return page[start : page.index("</tr>", start)]


@pytest.mark.parametrize(
    ("state", "label", "reviewer"),
    [
        (SubmissionState.RETURNED, "Returned for revision", None),
        (SubmissionState.IN_REVIEW, "In review", "coach_a"),
        (SubmissionState.SUBMITTED, "Submitted", None),
    ],
)
def test_the_coach_home_and_overview_show_the_quarter_still_open_not_the_next(
    cast, client_for, state, label, reviewer
):
    # Every quarter before the last closed one is accepted; the last closed one is
    # returned, or in review by this very coach, or waiting: that is the report to show,
    # not the quarter under way, which nobody has started.
    *_, last_closed, under_way = _quarters(cast.coalition_a)
    _all_accepted_before(cast.coalition_a, cast.admin_a, last_closed)
    extra = {"reviewed_by": cast[reviewer]} if reviewer else {}
    if state == SubmissionState.RETURNED:
        extra.update(returned_at=timezone.now(), reviewed_by=cast.coach_a)
    _version(last_closed, cast.admin_a, state, **extra)
    for who, url in (("coach_a", "coaching:home"), ("officer", "coaching:overview")):
        row = _report_cell(client_for(cast[who]).get(reverse(url)).content.decode(), "Alpha Wind")
        assert f"{last_closed.quarter} · " in row, who
        assert label in row, who
        assert under_way.quarter not in row, who
        assert "Not started" not in row, who


def test_the_quarter_under_way_shows_once_every_earlier_one_is_accepted(cast, client_for):
    *_, under_way = _quarters(cast.coalition_a)
    _all_accepted_before(cast.coalition_a, cast.admin_a, under_way)
    row = _report_cell(
        client_for(cast.coach_a).get(reverse("coaching:home")).content.decode(), "Alpha Wind"
    )
    assert f"{under_way.quarter} · " in row
    assert "Not started" in row


def test_a_draft_of_a_returned_quarter_shows_as_in_progress(cast, client_for):
    *_, last_closed, _under_way = _quarters(cast.coalition_a)
    _all_accepted_before(cast.coalition_a, cast.admin_a, last_closed)
    v1 = _version(last_closed, cast.admin_a, SubmissionState.RETURNED, returned_at=timezone.now())
    _version(last_closed, cast.admin_a, SubmissionState.DRAFT, version=2, previous=v1)
    row = _report_cell(
        client_for(cast.coach_a).get(reverse("coaching:home")).content.decode(), "Alpha Wind"
    )
    assert f"{last_closed.quarter} · " in row
    assert "Draft" in row


def _reply(submission, author, body, *, minutes_ago=0):
    return SubmissionComment.objects.create(
        coalition=submission.coalition, submission=submission, author=author, body=body,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )  # fmt: skip


def _waiting(page: str) -> str:
    start = page.index('id="waiting"')
    return page[start : page.index("</section>", start)]


def test_the_coach_home_lists_what_waits_for_the_coach_oldest_first(cast, client_for):
    quarters = _quarters(cast.coalition_a)
    q_old, q_mid, q_ret, q_quiet, q_answered = quarters[:5]
    _version(q_old, cast.admin_a, SubmissionState.SUBMITTED, days_ago=9)
    _version(q_mid, cast.admin_a, SubmissionState.IN_REVIEW, days_ago=5, reviewed_by=cast.coach_a)
    # Returned, and the coalition replied after the return: waits for the coach.
    returned = _version(
        q_ret, cast.admin_a, SubmissionState.RETURNED, days_ago=20,
        returned_at=timezone.now() - timedelta(days=2), reviewed_by=cast.coach_a,
    )  # fmt: skip
    first = _reply(returned, cast.coach_a, "Please explain the drop.", minutes_ago=60 * 24 * 2)
    SubmissionComment.objects.create(
        coalition=returned.coalition, submission=returned, author=cast.admin_a, parent=first,
        body="The employer closed its plant.", created_at=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    # Returned with no reply, and returned with a reply the coach has answered: not waiting.
    _version(
        q_quiet, cast.admin_a, SubmissionState.RETURNED, days_ago=30,
        returned_at=timezone.now() - timedelta(days=3),
    )  # fmt: skip
    answered = _version(
        q_answered, cast.admin_a, SubmissionState.RETURNED, days_ago=30,
        returned_at=timezone.now() - timedelta(days=3),
    )  # fmt: skip
    _reply(answered, cast.admin_a, "Which rows?", minutes_ago=60)
    _reply(answered, cast.coach_a, "Rows 4 to 9.", minutes_ago=30)

    page = client_for(cast.coach_a).get(reverse("coaching:home")).content.decode()
    waiting = _waiting(page)
    assert "Waiting for you (3)" in waiting
    positions = [waiting.index(f"{q.quarter} · version 1") for q in (q_old, q_mid, q_ret)]
    assert positions == sorted(positions)  # oldest first
    assert "9 days" in waiting
    assert "5 days" in waiting
    assert "1 day<" in waiting
    assert "by you" in waiting
    assert "replied to the return" in waiting
    assert q_quiet.quarter + " · version" not in waiting
    assert q_answered.quarter + " · version" not in waiting
    assert reverse("reporting:submission-review", args=[returned.code]) + "#comments" in waiting


def test_a_resubmitted_version_waits_and_its_returned_predecessor_does_not(cast, client_for):
    period = _quarters(cast.coalition_a)[0]
    v1 = _version(
        period, cast.admin_a, SubmissionState.RETURNED, days_ago=10,
        returned_at=timezone.now() - timedelta(days=8),
    )  # fmt: skip
    _reply(v1, cast.admin_a, "Fixed, sending again.", minutes_ago=60 * 24 * 4)
    _version(period, cast.admin_a, SubmissionState.SUBMITTED, version=2, days_ago=4, previous=v1)
    waiting = _waiting(client_for(cast.coach_a).get(reverse("coaching:home")).content.decode())
    assert "Waiting for you (1)" in waiting
    assert "version 2" in waiting
    assert "resubmitted after a return" in waiting


def test_the_waiting_list_is_only_the_coachs_coalitions(cast, client_for):
    _version(_quarters(cast.coalition_b)[0], cast.admin_a, SubmissionState.SUBMITTED)
    waiting = _waiting(client_for(cast.coach_a).get(reverse("coaching:home")).content.decode())
    assert "Waiting for you (0)" in waiting
    assert "Bravo Broadband" not in waiting


def test_the_coach_home_stays_within_its_query_budget_as_versions_wait(
    cast, client_for, django_assert_max_num_queries
):
    quarters = _quarters(cast.coalition_a)
    client = client_for(cast.coach_a)
    url = reverse("coaching:home")
    client.get(url)

    def wait_in(period, i):
        v = _version(period, cast.admin_a, SubmissionState.RETURNED, days_ago=20 + i,
                     returned_at=timezone.now() - timedelta(days=10))  # fmt: skip
        _reply(v, cast.admin_a, f"Reply {i}")
        _version(period, cast.admin_a, SubmissionState.SUBMITTED, version=2, days_ago=i,
                 previous=v, reviewed_by=cast.coach_a)  # fmt: skip

    wait_in(quarters[0], 1)
    with django_assert_max_num_queries(12) as small:
        page = client.get(url).content.decode()
    assert "Waiting for you (1)" in page
    for i, period in enumerate(quarters[1:8], start=2):
        wait_in(period, i)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(url).content.decode()
    assert "Waiting for you (8)" in page


@pytest.mark.parametrize(
    ("who", "overview", "assignments"),
    [
        ("coach_a", True, False),
        ("officer", True, True),
        ("jff_admin", True, True),
        ("admin_a", False, False),
    ],
)
def test_the_navigation_links_the_coaching_pages_for_those_who_may_use_them(
    cast, client_for, who, overview, assignments
):
    page = client_for(cast[who]).get("/", follow=True).content.decode()
    nav = page[page.index('aria-label="Primary navigation"') : page.index("</nav>")]
    assert (f'href="{reverse("coaching:overview")}"' in nav) is overview
    assert (f'href="{reverse("coaching:assignments")}"' in nav) is assignments
