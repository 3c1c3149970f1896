"""The page cache of the dashboards and the status board (reporting.pagecache, issue 13
item 6): a warm page reads fewer queries, a roll-up shows right after it is computed,
a state change shows on the board at once, and two roles never get each other's
cached pieces."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bpij.models import StaffRole, User
from coaching import services as coaching_services
from grantees.calendar import Quarter
from grantees.models import CoachAssignment, MemberRole, Membership, Target
from reporting import pagecache, services
from reporting.models import ReturnReason, Submission, SubmissionState
from reporting.selectors.board import board_stamp
from tests import builders, factories

BOARD = reverse("reporting:board") + "?quarter=2025Q3"
PROGRAM = reverse("reporting:program-dashboard")


def dashboard_url(coalition) -> str:
    return reverse("coaching:coalition-dashboard", args=[coalition.code])


def rolled_up(coalition, admin, quarter: str, *, seed: int) -> Submission:
    """A version sent for the quarter and rolled up, as the worker does."""
    version = builders.submitted_version(
        builders.period_of(coalition, quarter), admin, participants=30, seed=seed
    )
    services.rollup_period(period_id=version.period_id, program=False)
    return version


@pytest.fixture
def reports(cast) -> dict[str, Submission]:
    """Alpha and Bravo report 2025Q2 and 2025Q3; the program is rolled up for both."""
    made = {}
    for number, quarter in enumerate(("2025Q2", "2025Q3")):
        made[f"a{quarter}"] = rolled_up(cast.coalition_a, cast.admin_a, quarter, seed=10 + number)
        made[f"b{quarter}"] = rolled_up(
            cast.coalition_b, cast.outsider_b, quarter, seed=20 + number
        )
        services.rollup_program(quarter=quarter)
    return made


def returned_and_rolled_up(version: Submission, actor) -> None:
    """JFF returns the version; the worker recomputes the period's and the program's
    roll-ups (the version no longer counts)."""
    services.submission_return(
        submission=version, actor=actor, reasons=[ReturnReason.FIGURES], note="Check exits."
    )
    services.rollup_period(period_id=version.period_id, program=False)
    services.rollup_program(quarter=version.period.quarter)


def call_logged(cast, topics: str, *, shared: bool) -> None:
    """Coach A logs a call with Alpha, shared with the coalition or kept to staff."""
    coaching_services.session_log(
        coalition=cast.coalition_a,
        actor=cast.coach_a,
        held_on=date(2025, 9, 3),
        kind="call",
        attendees="Dana Lee, Alpha College",
        topics=topics,
        shared=shared,
    )


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


# -- A warm cache reads less ------------------------------------------------------------


def test_a_warm_page_reads_fewer_queries(cast, client_for, reports):
    other = factories.StaffFactory(staff_role=StaffRole.PROGRAM_OFFICER)
    pages = {BOARD: 4, PROGRAM: 4, dashboard_url(cast.coalition_a): 2}
    for url, fewer in pages.items():
        client = client_for(cast.officer)
        cold = queries(client, url)
        warm = queries(client, url)
        assert warm <= cold - fewer, (url, cold, warm)
        # And another person of the same role is served from the same pieces.
        assert queries(client_for(other), url) == warm, url


# -- Roll-ups invalidate ----------------------------------------------------------------


def test_a_roll_up_shows_on_the_program_dashboard_right_after(cast, client_for, reports):
    client = client_for(cast.officer)
    assert '2 of 2</span><span class="hub-stat__label">coalitions reported 2025Q3' in (
        client.get(PROGRAM).content.decode()
    )

    returned_and_rolled_up(reports["b2025Q3"], cast.officer)

    page = client.get(PROGRAM)
    assert page.context["dashboard"].program.coalitions_reported == 1
    assert '1 of 2</span><span class="hub-stat__label">coalitions reported 2025Q3' in (
        page.content.decode()
    )


def test_a_roll_up_shows_on_the_coalition_dashboard_right_after(cast, client_for, reports):
    client = client_for(cast.officer)
    before = client.get(dashboard_url(cast.coalition_a))
    assert str(before.context["dashboard"].quarter) == "2025Q3"

    returned_and_rolled_up(reports["a2025Q3"], cast.officer)

    after = client.get(dashboard_url(cast.coalition_a))
    # Its 2025Q3 report no longer counts: the figures go back to 2025Q2's.
    assert str(after.context["dashboard"].quarter) == "2025Q2"
    assert after.context["dashboard"].quarters == ["2025Q2"]
    assert '<option value="2025Q3"' not in after.content.decode()


def test_a_target_changed_shows_on_the_coalition_dashboard(cast, client_for, reports):
    client = client_for(cast.officer)
    [served] = [
        r
        for r in client.get(dashboard_url(cast.coalition_a)).context["dashboard"].progress
        if r.measure == "A-2"
    ]
    assert served.target == 640
    target = Target.objects.get(coalition=cast.coalition_a, measure="A-2")
    target.value = 700
    target.save()

    page = client.get(dashboard_url(cast.coalition_a))
    [served] = [r for r in page.context["dashboard"].progress if r.measure == "A-2"]
    assert served.target == 700
    assert ">700<" in page.content.decode()


# -- The coalition dashboard's kept page ------------------------------------------------------
#
# Its whole content is kept (coaching/views/dashboard.py) as of the figures' generation and
# one stamp of the coalition's versions, files and coaching: what changes shows at once,
# and a kept page never goes to another coalition or to a role that sees less.


def test_a_new_roll_up_shows_new_figures_on_the_kept_coalition_page_at_once(
    cast, client_for, reports
):
    client = client_for(cast.officer)
    url = dashboard_url(cast.coalition_a)
    assert str(client.get(url).context["dashboard"].quarter) == "2025Q3"

    rolled_up(cast.coalition_a, cast.admin_a, "2025Q4", seed=12)

    page = client.get(url)
    html = page.content.decode()
    assert str(page.context["dashboard"].quarter) == "2025Q4"
    assert '<option value="2025Q4" selected>' in html
    assert "participant records in the 2025Q4 report" in html
    assert "2025Q4 v1</span>" in html  # the latest report, live


def test_a_new_version_and_its_state_show_on_the_kept_coalition_page_at_once(
    cast, client_for, reports
):
    client = client_for(cast.officer)
    url = dashboard_url(cast.coalition_a)
    assert client.get(url).context["dashboard"].latest.quarter == "2025Q3"

    # A version of the next quarter, checked with errors: no roll-up, no generation raised.
    version = builders.checked_version(
        builders.period_of(cast.coalition_a, "2025Q4"), cast.admin_a, seed=31, error_rate=0.3
    )
    assert version.state == SubmissionState.NEEDS_FIXES
    page = client.get(url)
    latest = page.context["dashboard"].latest
    assert (latest.quarter, latest.state, latest.errors) == (
        "2025Q4",
        "needs_fixes",
        version.error_count,
    )
    assert "Most frequent findings" in page.content.decode()

    # However the state is written (a queryset update sends no signal), it shows.
    Submission.objects.filter(pk=version.pk).update(state=SubmissionState.DRAFT)
    assert client.get(url).context["dashboard"].latest.state == "draft"


def test_a_coaching_note_shows_on_the_kept_coalition_page_at_once(cast, client_for, reports):
    url = dashboard_url(cast.coalition_a)
    member = client_for(cast.admin_a)
    assert "Shared call about wage records" not in member.get(url).content.decode()

    call_logged(cast, "Shared call about wage records", shared=True)
    assert "Shared call about wage records" in member.get(url).content.decode()


def test_a_kept_coalition_page_never_goes_to_another_coalition(cast, client_for, reports):
    officer = client_for(cast.officer)
    alpha_page = officer.get(dashboard_url(cast.coalition_a)).content.decode()
    assert cast.coalition_a.name in alpha_page
    bravo = officer.get(dashboard_url(cast.coalition_b))
    assert bravo.context["dashboard"].coalition == cast.coalition_b
    assert cast.coalition_b.name in bravo.content.decode()
    assert cast.coalition_a.name not in bravo.content.decode()
    # Bravo's own administrator, after the officer, gets Bravo's page; Alpha's stays
    # out of their reach, however warm the cache.
    bravo_admin = client_for(cast.outsider_b)
    own = bravo_admin.get(dashboard_url(cast.coalition_b)).content.decode()
    assert cast.coalition_b.name in own
    assert cast.coalition_a.name not in own
    assert bravo_admin.get(dashboard_url(cast.coalition_a)).status_code == 404
    assert client_for(cast.coach_a).get(dashboard_url(cast.coalition_b)).status_code == 404


def test_a_kept_coalition_page_never_gives_a_member_the_coachs_notes(cast, client_for, reports):
    url = dashboard_url(cast.coalition_a)
    call_logged(cast, "Staff only: the director may leave", shared=False)
    coaching_services.risk_flag_set(
        coalition=cast.coalition_a, level="high", reason="Placements stalled all quarter",
        actor=cast.coach_a,
    )  # fmt: skip
    for staff in (cast.coach_a, cast.officer):
        page = client_for(staff).get(url).content.decode()
        assert "Staff only: the director may leave" in page
        assert "Risk:" in page
    # The same coalition, quarter and day, asked by people who see less, warm cache.
    for member in (cast.admin_a, cast.reporter_a, cast.viewer_a):
        page = client_for(member).get(url)
        html = page.content.decode()
        assert page.status_code == 200
        assert "Staff only: the director may leave" not in html
        assert "Risk:" not in html
        assert page.context["coaching"].is_staff is False
    funder = client_for(factories.StaffFactory(staff_role=StaffRole.FUNDER_VIEWER)).get(url)
    assert "Staff only: the director may leave" not in funder.content.decode()
    assert "Latest report" not in funder.content.decode()


# -- The board shows live states ----------------------------------------------------------


def board_states(response) -> dict[str, str]:
    return {row.coalition.name: row.state for row in response.context["board"].rows}


def test_a_state_change_shows_on_the_board_at_once(cast, client_for, reports):
    client = client_for(cast.officer)
    alpha = cast.coalition_a.name
    assert board_states(client.get(BOARD))[alpha] == "submitted"

    services.submission_accept(submission=reports["a2025Q3"], actor=cast.officer)
    page = client.get(BOARD)
    assert board_states(page)[alpha] == "accepted"
    assert 'data-state="accepted"' in page.content.decode()

    # However the state is written (a queryset update sends no signal), the board sees it.
    Submission.objects.filter(pk=reports["a2025Q3"].pk).update(state=SubmissionState.IN_REVIEW)
    assert board_states(client.get(BOARD))[alpha] == "in_review"


def test_the_board_stamp_changes_with_every_write_and_only_then(cast, reports):
    first = board_stamp(Quarter(2025, 3))
    assert board_stamp(Quarter(2025, 3)) == first
    Submission.objects.filter(pk=reports["a2025Q3"].pk).update(warning_count=1)
    second = board_stamp(Quarter(2025, 3))
    assert second != first
    CoachAssignment.objects.filter(coach=cast.coach_a).delete()
    assert board_stamp(Quarter(2025, 3)) not in (first, second)
    # Another quarter's versions are not on this quarter's board.
    third = board_stamp(Quarter(2025, 3))
    Submission.objects.filter(pk=reports["a2025Q2"].pk).update(warning_count=1)
    assert board_stamp(Quarter(2025, 3)) == third


# -- Roles never share pieces -------------------------------------------------------------


def test_a_coach_never_gets_the_officers_board(cast, client_for, reports):
    officer_page = client_for(cast.officer).get(BOARD)
    assert set(board_states(officer_page)) == {cast.coalition_a.name, cast.coalition_b.name}

    coach_page = client_for(cast.coach_a).get(BOARD)
    assert set(board_states(coach_page)) == {cast.coalition_a.name}
    assert cast.coalition_b.name not in coach_page.content.decode()


def test_a_coach_never_gets_the_officers_links_on_the_program_dashboard(cast, client_for, reports):
    returned_and_rolled_up(reports["b2025Q3"], cast.officer)
    link_to_b = f'href="{dashboard_url(cast.coalition_b)}"'
    officer_page = client_for(cast.officer).get(PROGRAM).content.decode()
    assert link_to_b in officer_page

    coach_page = client_for(cast.coach_a).get(PROGRAM).content.decode()
    # Bravo is listed as not reported (program-wide), but the coach may not open it.
    assert cast.coalition_b.name in coach_page
    assert link_to_b not in coach_page


def test_the_federal_project_officer_never_gets_the_officers_coalition_dashboard(
    cast, client_for, reports
):
    url = dashboard_url(cast.coalition_a)
    period_link = reverse("reporting:period-list", args=[cast.coalition_a.code])
    officer_page = client_for(cast.officer).get(url).content.decode()
    assert "Latest report" in officer_page
    assert period_link in officer_page

    funder = factories.StaffFactory(staff_role=StaffRole.FUNDER_VIEWER)
    funder_page = client_for(funder).get(url)
    assert funder_page.context["dashboard"].latest is None
    assert "Latest report" not in funder_page.content.decode()
    assert period_link not in funder_page.content.decode()


def test_viewers_are_told_apart_by_role_and_scope(cast):
    officer, other_officer = (
        cast.officer,
        factories.StaffFactory(staff_role=StaffRole.PROGRAM_OFFICER),
    )
    funder = factories.StaffFactory(staff_role=StaffRole.FUNDER_VIEWER)
    keys = {
        who: pagecache.viewer(user)
        for who, user in (
            ("officer", officer),
            ("admin", cast.jff_admin),
            ("funder", funder),
            ("coach", cast.coach_a),
            ("grantee", cast.admin_a),
            ("outsider", cast.outsider_b),
        )
    }
    assert len(set(keys.values())) == len(keys)
    # People who see every coalition share by role; a coach or member is on their own.
    assert pagecache.viewer(other_officer) == keys["officer"]
    other_coach = factories.StaffFactory(staff_role=StaffRole.COACH)
    factories.CoachAssignmentFactory(coalition=cast.coalition_a, coach=other_coach)
    assert pagecache.viewer(other_coach) != keys["coach"]
    # A member whose role changes (what they may export does) is another viewer.
    Membership.objects.filter(user=cast.admin_a).update(role=MemberRole.VIEWER)
    assert pagecache.viewer(User.objects.get(pk=cast.admin_a.pk)) != keys["grantee"]


def test_a_piece_is_one_entry_replaced_when_fresher_data_come():
    built = []

    def build(value):
        return lambda: built.append(value) or value

    assert pagecache.cached("t", ("same",), build("first"), fresh=1) == "first"
    assert pagecache.cached("t", ("same",), build("again"), fresh=1) == "first"
    assert pagecache.cached("t", ("same",), build("second"), fresh=2) == "second"
    # The first entry was replaced, not kept beside the second: no pile-up of stamps.
    pagecache.clear_local()
    assert pagecache.cached("t", ("same",), build("third"), fresh=1) == "third"
    assert built == ["first", "second", "third"]
