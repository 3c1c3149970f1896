"""The program and coalition dashboards in a real browser: a program officer and a coach
read the program's figures, a coach and a coalition member read the coalition's, each
page checked with axe-core (WCAG 2.1 A and AA) and saved as
test-results/screens/dashboard-*.png."""

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from coaching.models import CoachingSession, RiskFlag
from reporting import services
from tests import builders, factories

pytestmark = pytest.mark.browser


@pytest.fixture
def reports(cast):
    """Alpha and Bravo report 2025Q2 and 2025Q3, Alpha's 2025Q4 still has errors; the
    roll-ups are computed; Alpha has a coaching session and a risk flag."""
    for number, quarter in enumerate(("2025Q2", "2025Q3")):
        for coalition, admin in (
            (cast.coalition_a, cast.admin_a),
            (cast.coalition_b, cast.outsider_b),
        ):
            version = builders.submitted_version(
                builders.period_of(coalition, quarter), admin, participants=80, seed=number + 1
            )
            services.rollup_period(period_id=version.period_id, program=False)
        services.rollup_program(quarter=quarter)
    builders.checked_version(
        builders.period_of(cast.coalition_a, "2025Q4"), cast.admin_a, error_rate=0.1, seed=9
    )
    grant = cast.coalition_a.grants.get()
    factories.TargetFactory(grant=grant, measure="D-1", value=200, milestones={"2025Q3": 60})
    CoachingSession.objects.create(
        coalition=cast.coalition_a,
        held_on=date(2025, 10, 7),
        kind="site_visit",
        attendees="Ada Admin, Alpha Wind",
        topics="Employer partnerships for the spring cohort",
        shared=True,
        created_by=cast.coach_a,
    )
    RiskFlag.objects.create(
        coalition=cast.coalition_a, level="medium", reason="Placements lag", set_by=cast.coach_a
    )


def test_staff_read_the_program_dashboard(cast, reports, page: Page, sign_in, axe):
    sign_in(page.context, cast.officer)
    page.goto("/program/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Program dashboard")
    expect(
        page.get_by_role("img", name="Progress to grant-to-date targets, all coalitions")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="By sector, grant to date")).to_be_visible()
    axe.check(page, "dashboard-program")

    page.get_by_label("Figures through").select_option("2025Q2")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(r"/program/?quarter=2025Q2")
    expect(page.get_by_role("heading", name="WIOA-aligned indicators, 2025Q2")).to_be_visible()
    axe.check(page, "dashboard-program-2025q2")

    sign_in(page.context, cast.coach_a)
    page.goto("/program/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Program dashboard")
    axe.check(page, "dashboard-program-coach", screenshot=False)
    axe.assert_no_violations()


def test_a_coach_and_a_member_read_the_coalition_dashboard(cast, reports, page: Page, sign_in, axe):
    sign_in(page.context, cast.coach_a)
    page.goto(f"/coalitions/{cast.coalition_a.code}/")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_text("Watch").first).to_be_visible()
    expect(page.get_by_role("heading", name="Latest report")).to_be_visible()
    expect(page.get_by_text("Most frequent findings")).to_be_visible()
    axe.check(page, "dashboard-coalition-coach")

    sign_in(page.context, cast.viewer_a)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_text("Employer partnerships for the spring cohort")).to_be_visible()
    expect(page.get_by_text("Placements lag")).to_have_count(0)
    axe.check(page, "dashboard-coalition-member")
    axe.assert_no_violations()


def test_a_partial_quarter_is_marked_and_names_who_has_not_reported(
    cast, reports, page: Page, sign_in, axe
):
    """Only Bravo's 2025Q4 report counts: the quarter is said to be partial, Alpha is
    listed, Oregon says "not reported" rather than 0, the trend marks the point."""
    version = builders.submitted_version(
        builders.period_of(cast.coalition_b, "2025Q4"), cast.outsider_b, participants=80, seed=3
    )
    services.rollup_period(period_id=version.period_id, program=False)
    services.rollup_program(quarter="2025Q4")
    sign_in(page.context, cast.officer)
    page.goto("/program/")
    alert = page.locator("#partial")
    expect(alert.get_by_role("heading")).to_have_text(
        "2025Q4 is partial: 1 of 2 coalitions reported"
    )
    expect(alert.get_by_role("link", name=cast.coalition_a.name)).to_be_visible()
    states = page.get_by_role("region", name="State table")
    expect(states.get_by_role("row", name="Oregon")).to_contain_text("not reported")
    trend = page.get_by_role("img", name="Quarter-over-quarter trends, all coalitions")
    expect(trend).to_be_visible()
    expect(page.get_by_role("region", name="Trends table")).to_contain_text(
        "partial: 1 of 2 coalitions"
    )
    axe.check(page, "dashboard-program-partial")
    page.locator("#partial").screenshot(path="/tmp/honest/partial-alert.png")
    page.locator("section[aria-labelledby='trend-heading']").screenshot(
        path="/tmp/honest/partial-trend.png"
    )
    page.locator("section[aria-labelledby='breakdown-state-heading']").screenshot(
        path="/tmp/honest/partial-states.png"
    )
    axe.assert_no_violations()


def test_the_federal_project_officer_reads_a_coalition_dashboard_of_figures_only(
    cast, reports, page: Page, sign_in, axe
):
    """From the coalition page to the aggregates-only dashboard: figures, no latest
    report, findings, coaching or risk, and no link to the report pages."""
    fpo = factories.StaffFactory(email="fpo@dol.example", staff_role="funder_viewer")
    sign_in(page.context, fpo)
    page.goto(f"/coalitions/{cast.coalition_a.code}/")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("heading", name="Progress to targets, with pace")).to_be_visible()
    expect(page.get_by_role("heading", name="Quarter-over-quarter trends")).to_be_visible()
    expect(page.get_by_role("heading", name="Data quality")).to_be_visible()
    expect(page.get_by_text("awaiting JFF's acceptance").first).to_be_visible()
    expect(page.get_by_role("heading", name="Latest report")).to_have_count(0)
    expect(page.get_by_role("heading", name="Coaching")).to_have_count(0)
    expect(page.get_by_text("Placements lag")).to_have_count(0)
    expect(page.get_by_text("Employer partnerships for the spring cohort")).to_have_count(0)
    expect(page.get_by_role("link", name="Quarterly reports")).to_have_count(0)
    axe.check(page, "dashboard-coalition-fpo")
    page.screenshot(path="/tmp/honest/fpo-dashboard.png", full_page=True)
    axe.assert_no_violations()
