"""The program and coalition dashboards: who sees them, what they show (read from the
roll-ups only), and a fixed number of queries whatever the data."""

from datetime import date

import pytest
from django.urls import reverse

from bpij.models import StaffRole
from coaching.models import CoachingSession
from grantees.calendar import Quarter
from reporting import services
from reporting.models import ProgramRollup, Rollup, Submission, SubmissionState
from reporting.selectors import dashboards
from tests import builders, factories

CAST = ["admin_a", "reporter_a", "viewer_a", "coach_a", "officer", "jff_admin", "outsider_b"]


def expect(**codes):
    return [pytest.param(who, codes[who], id=who) for who in CAST]


def report(coalition, admin, quarter: str, *, participants: int = 30, seed: int = 1):
    """A submitted version for the quarter, rolled up like the worker would."""
    version = builders.submitted_version(
        builders.period_of(coalition, quarter), admin, participants=participants, seed=seed
    )
    services.rollup_period(period_id=version.period_id, program=False)
    return version


@pytest.fixture
def reports(cast):
    """Alpha and Bravo report 2025Q2 and 2025Q3; the program is rolled up for both."""
    versions = []
    for number, quarter in enumerate(("2025Q2", "2025Q3")):
        versions.append(report(cast.coalition_a, cast.admin_a, quarter, seed=10 + number))
        versions.append(report(cast.coalition_b, cast.outsider_b, quarter, seed=20 + number))
        services.rollup_program(quarter=quarter)
    return versions


@pytest.fixture
def funder(db):
    return factories.StaffFactory(email="fpo@dol.example", staff_role=StaffRole.FUNDER_VIEWER)


def program_url() -> str:
    return reverse("reporting:program-dashboard")


def coalition_url(coalition) -> str:
    return reverse("coaching:coalition-dashboard", args=[coalition.code])


# -- Access ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=200, officer=200, jff_admin=200,
        outsider_b=403,
    ),
)  # fmt: skip
def test_the_program_dashboard_is_for_staff(cast, client_for, reports, who, status):
    assert client_for(cast[who]).get(program_url()).status_code == status


def test_the_federal_project_officer_sees_the_program_dashboard(client_for, reports, funder):
    assert client_for(funder).get(program_url()).status_code == 200


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=200, reporter_a=200, viewer_a=200, coach_a=200, officer=200, jff_admin=200,
        outsider_b=404,
    ),
)  # fmt: skip
def test_a_coalition_dashboard_is_for_its_people_its_coaches_and_jff(
    cast, client_for, reports, who, status
):
    assert client_for(cast[who]).get(coalition_url(cast.coalition_a)).status_code == status


def test_a_coach_sees_only_the_dashboards_of_assigned_coalitions(cast, client_for, reports):
    client = client_for(cast.coach_a)
    assert client.get(coalition_url(cast.coalition_a)).status_code == 200
    assert client.get(coalition_url(cast.coalition_b)).status_code == 404


def test_the_federal_project_officer_sees_a_coalition_dashboard_of_aggregates_only(
    cast, client_for, reports, funder
):
    response = client_for(funder).get(coalition_url(cast.coalition_a))
    assert response.status_code == 200
    assert response.context["aggregates_only"]
    assert response.context["coaching"] is None
    assert response.context["dashboard"].latest is None


def test_coaching_notes_on_the_dashboard_are_staff_only_unless_shared(cast, client_for, reports):
    for topics, shared in (("Private staffing worry", False), ("Shared outreach plan", True)):
        CoachingSession.objects.create(
            coalition=cast.coalition_a,
            held_on=date(2025, 10, 2),
            kind="call",
            attendees="Ada Admin",
            topics=topics,
            shared=shared,
            created_by=cast.coach_a,
        )
    staff_page = client_for(cast.coach_a).get(coalition_url(cast.coalition_a)).content.decode()
    assert "Private staffing worry" in staff_page
    assert "Shared outreach plan" in staff_page
    member_page = client_for(cast.viewer_a).get(coalition_url(cast.coalition_a)).content.decode()
    assert "Private staffing worry" not in member_page
    assert "Shared outreach plan" in member_page


# -- Content --------------------------------------------------------------------------


def test_the_program_dashboard_shows_the_latest_quarter_from_the_program_roll_up(
    cast, client_for, reports
):
    response = client_for(cast.officer).get(program_url())
    dashboard = response.context["dashboard"]
    program = ProgramRollup.objects.get(quarter="2025Q3", segment="program")
    assert str(dashboard.quarter) == "2025Q3"
    assert dashboard.quarters == ["2025Q2", "2025Q3"]
    served = next(row for row in dashboard.progress if row.measure == "A-2")
    assert served.actual == program.figures["windows"]["grant_to_date"]["A-2"]
    page = response.content.decode()
    assert "2 of 2" in page
    assert f"{served.actual:,}" in page
    # Every chart is an image with a title and description, beside its table.
    assert page.count('role="img"') >= 6
    assert '<title id="program-progress-title">' in page
    assert [b.kind for b in dashboard.breakdowns] == ["sector", "track", "state"]
    assert [r.label for r in dashboard.breakdowns[2].rows] == ["Oregon", "Texas"]


def test_program_targets_add_up_every_coalition_even_for_a_coach(cast, client_for, reports):
    # Alpha's target is 640 participants served and Bravo's 500; coach_a coaches only
    # Alpha, yet the program's target is the whole program's.
    dashboard = client_for(cast.coach_a).get(program_url()).context["dashboard"]
    served = next(row for row in dashboard.progress if row.measure == "A-2")
    assert served.target == 1140


def test_program_targets_are_those_of_the_coalitions_that_reported_the_quarter(
    cast, client_for, reports
):
    # Only Alpha reports 2025Q4: its actuals are set against its own target (640), not
    # the program's 1,140, which would make the program look behind until Bravo reports.
    report(cast.coalition_a, cast.admin_a, "2025Q4", seed=12)
    services.rollup_program(quarter="2025Q4")
    dashboard = client_for(cast.officer).get(program_url()).context["dashboard"]
    assert str(dashboard.quarter) == "2025Q4"
    served = next(row for row in dashboard.progress if row.measure == "A-2")
    assert served.target == 640
    earlier = client_for(cast.officer).get(program_url(), {"quarter": "2025Q3"})
    served = next(row for row in earlier.context["dashboard"].progress if row.measure == "A-2")
    assert served.target == 1140


def test_the_program_dashboard_shows_a_chosen_quarter(cast, client_for, reports):
    response = client_for(cast.officer).get(program_url(), {"quarter": "2025q2"})
    dashboard = response.context["dashboard"]
    assert str(dashboard.quarter) == "2025Q2"
    assert [row.quarter for row in dashboard.quality] == ["2025Q2"]


def test_an_unknown_quarter_says_so_and_shows_the_latest(cast, client_for, reports):
    response = client_for(cast.officer).get(program_url(), {"quarter": "2031Q9"})
    assert str(response.context["dashboard"].quarter) == "2025Q3"
    assert "2031Q9 has no figures" in response.content.decode()


def test_without_any_roll_up_the_program_dashboard_says_there_are_no_figures_yet(cast, client_for):
    response = client_for(cast.officer).get(program_url())
    assert response.status_code == 200
    assert "No figures yet" in response.content.decode()


def test_the_coalition_dashboard_reads_its_roll_ups_and_the_latest_report(
    cast, client_for, reports
):
    response = client_for(cast.viewer_a).get(coalition_url(cast.coalition_a))
    dashboard = response.context["dashboard"]
    rollup = Rollup.objects.get(coalition=cast.coalition_a, quarter="2025Q3")
    assert dashboard.rollup == rollup
    served = dashboard.progress[0]
    assert (served.measure, served.target) == ("A-2", 640)
    assert served.actual == rollup.figures["windows"]["grant_to_date"]["A-2"]
    assert dashboard.trend.quarters == ["2025Q2", "2025Q3"]
    assert dashboard.latest.quarter == "2025Q3"
    assert dashboard.latest.state == SubmissionState.SUBMITTED
    page = response.content.decode()
    assert "Submitted" in page
    assert "Bravo" not in page


def test_a_returned_report_leaves_the_coalition_dashboard_with_the_last_one_that_counts(
    cast, client_for, reports
):
    latest = Submission.objects.get(period__coalition=cast.coalition_a, period__quarter="2025Q3")
    Submission.objects.filter(pk=latest.pk).update(state=SubmissionState.RETURNED)
    services.rollup_period(period_id=latest.period_id, program=False)
    dashboard = client_for(cast.coach_a).get(coalition_url(cast.coalition_a)).context["dashboard"]
    assert str(dashboard.quarter) == "2025Q2"
    assert dashboard.latest.state == SubmissionState.RETURNED


def test_a_coalition_dashboard_without_reports_shows_targets_and_says_no_figures_yet(
    cast, client_for
):
    response = client_for(cast.admin_a).get(coalition_url(cast.coalition_a))
    assert response.status_code == 200
    page = response.content.decode()
    assert "No figures yet" in page
    assert "has not started a quarterly report yet" in page
    assert response.context["dashboard"].progress[0].status == "Not reported"


def test_the_coalition_page_links_to_its_dashboard(cast, client_for):
    page = client_for(cast.viewer_a).get(
        reverse("grantees:coalition-detail", args=[cast.coalition_a.code])
    )
    assert coalition_url(cast.coalition_a) in page.content.decode()


# -- Pace -----------------------------------------------------------------------------


def pace(actual, *, quarter="2025Q3", target=1000):
    # A grant of 2023-10-01 .. 2028-06-30: 19 quarters, 1,735 days.
    return dashboards.Pace(
        measure="A-2",
        label="Participants served",
        target=target,
        actual=actual,
        grant_start=date(2023, 10, 1),
        grant_end=date(2028, 6, 30),
        quarter=Quarter.parse(quarter),
    )


def test_pace_expects_the_target_times_the_share_of_the_grant_passed():
    row = pace(400)
    # 2023-10-01 .. 2025-09-30 is 731 days of 1,735.
    assert row.expected == round(1000 * 731 / 1735) == 421
    assert row.quarters_elapsed == 8
    assert row.quarters_left == 11
    assert row.per_quarter_so_far == 50
    assert row.per_quarter_needed == 55  # 600 left over 11 quarters, rounded up
    assert row.status == "Slightly behind"  # 400 is within 90% of 421


@pytest.mark.parametrize(
    ("actual", "status"),
    [(1000, "Target met"), (421, "On pace"), (379, "Slightly behind"), (378, "Behind"),
     (None, "Not reported")],
)  # fmt: skip
def test_pace_status_is_said_in_words(actual, status):
    assert pace(actual).status == status


def test_in_the_last_quarter_nothing_is_left_to_spread():
    row = pace(900, quarter="2028Q2")
    assert row.quarters_left == 0
    assert row.per_quarter_needed is None
    assert row.expected == 1000


# -- Query budgets --------------------------------------------------------------------


def count_queries(client, url, django_assert_max_num_queries, budget=12) -> int:
    client.get(url)  # warm the session and the MFA flag
    with django_assert_max_num_queries(budget) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def more_data(cast):
    """Three more coalitions, each reporting two quarters, coached by coach_a, with
    targets; and a third quarter for Alpha."""
    for number in range(3):
        grant = factories.GrantFactory(coalition__states_served=["WA", "ID"])
        coalition = grant.coalition
        admin = factories.MembershipFactory(coalition=coalition).user
        factories.CoachAssignmentFactory(coalition=coalition, coach=cast.coach_a)
        for measure in ("A-2", "C-1", "D-1"):
            factories.TargetFactory(grant=grant, measure=measure, value=300)
        for quarter in ("2025Q2", "2025Q3"):
            report(coalition, admin, quarter, seed=40 + number)
    report(cast.coalition_a, cast.admin_a, "2025Q1", seed=50)
    for quarter in ("2025Q1", "2025Q2", "2025Q3"):
        services.rollup_program(quarter=quarter)


@pytest.mark.parametrize("who", ["officer", "coach_a"])
def test_the_program_dashboard_reads_a_fixed_number_of_queries(
    cast, client_for, reports, django_assert_max_num_queries, who
):
    client = client_for(cast[who])
    before = count_queries(client, program_url(), django_assert_max_num_queries)
    more_data(cast)
    after = count_queries(client, program_url(), django_assert_max_num_queries)
    assert after == before


@pytest.mark.parametrize("who", ["viewer_a", "coach_a", "officer"])
def test_the_coalition_dashboard_reads_a_fixed_number_of_queries(
    cast, client_for, reports, django_assert_max_num_queries, who
):
    # The latest version has findings, so their summary is read too.
    latest = builders.checked_version(
        builders.period_of(cast.coalition_a, "2025Q4"), cast.admin_a, error_rate=0.2, seed=60
    )
    assert latest.error_count > 0
    client = client_for(cast[who])
    url = coalition_url(cast.coalition_a)
    before = count_queries(client, url, django_assert_max_num_queries)
    more_data(cast)
    for measure in ("C-1", "C-3", "D-1", "D-2"):
        factories.TargetFactory(
            grant=cast.coalition_a.grants.get(),
            measure=measure,
            value=100,
            milestones={"2025Q3": 40},
        )
    for number in range(4):
        CoachingSession.objects.create(
            coalition=cast.coalition_a,
            held_on=date(2025, 9, 1 + number),
            kind="call",
            attendees="Ada",
            topics=f"Topic {number}",
            shared=True,
            created_by=cast.coach_a,
        )
    after = count_queries(client, url, django_assert_max_num_queries)
    assert after == before


def test_the_federal_project_officers_coalition_dashboard_reads_a_fixed_number_of_queries(
    cast, client_for, reports, funder, django_assert_max_num_queries
):
    client = client_for(funder)
    url = coalition_url(cast.coalition_a)
    before = count_queries(client, url, django_assert_max_num_queries)
    more_data(cast)
    after = count_queries(client, url, django_assert_max_num_queries)
    assert after == before
