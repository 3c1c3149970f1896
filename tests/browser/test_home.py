"""A coalition administrator lands on the coalition page in December 2026 and reads what
to do (issue 11): JFF's return of 2026Q2 with its reasons, 2026Q3 late and not started,
2026Q4 next; the targets beside the actuals of the accepted 2026Q1 report. Checked with
axe-core at desktop width and at 390 px (a phone), where nothing may scroll sideways;
saved as test-results/screens/home-*.png."""

import re
from datetime import date

import pytest
import time_machine
from playwright.sync_api import Page, expect

from reporting import services
from reporting.models import ReturnReason, Rollup
from tests import builders

pytestmark = pytest.mark.browser


@pytest.fixture
def reports(cast):
    grant = cast.coalition_a.grants.get()
    grant.start_date = date(2026, 1, 1)
    grant.save(update_fields=["start_date"])
    with time_machine.travel("2026-04-20 10:00 -0400", tick=False):
        q1 = builders.submitted_version(
            builders.period_of(cast.coalition_a, "2026Q1"), cast.admin_a, participants=60
        )
    with time_machine.travel("2026-05-08 10:00 -0400", tick=False):
        services.submission_accept(submission=q1, actor=cast.officer)
        services.rollup_period(period_id=q1.period_id, program=False)
    with time_machine.travel("2026-08-10 10:00 -0400", tick=False):
        q2 = builders.submitted_version(
            builders.period_of(cast.coalition_a, "2026Q2"), cast.admin_a, participants=70
        )
    with time_machine.travel("2026-08-20 10:00 -0400", tick=False):
        services.submission_return(
            submission=q2,
            actor=cast.coach_a,
            reasons=[ReturnReason.FIGURES],
            note="Exits fell by half since 2026Q1: explain it in the narrative.",
        )
    return Rollup.objects.get(period=q1.period).figures["windows"]["grant_to_date"]


@pytest.fixture
def december_2026():
    with time_machine.travel("2026-12-07 10:00 -0500", tick=True):
        yield


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_an_administrator_sees_what_is_late_and_how_far_the_coalition_has_come(
    cast, reports, december_2026, page: Page, sign_in, axe
):
    sign_in(page.context, cast.admin_a)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(cast.coalition_a.name)

    returned = page.get_by_role("region", name="JFF returned the 2026Q2 report (version 1)")
    expect(returned).to_contain_text(str(ReturnReason.FIGURES.label))
    expect(returned).to_contain_text("Exits fell by half")
    expect(returned.get_by_role("link", name="Answer the return")).to_be_visible()

    todo = page.locator(".hub-todo").first.locator("> li")
    expect(todo).to_have_count(2)
    expect(todo.nth(0)).to_contain_text("2026Q2 report")
    expect(todo.nth(1)).to_contain_text("2026Q3 report")
    expect(todo.nth(1)).to_contain_text("Not started")
    expect(todo.nth(1)).to_contain_text("24 days late")
    expect(page.get_by_role("list", name="Next report due")).to_contain_text("2026Q4 report")

    targets = page.get_by_role("region", name="Grant-to-date targets")
    expect(targets).to_contain_text("from the 2026Q1 report, accepted May 8, 2026")
    expect(targets).to_contain_text(f"{reports['A-2']} of 640")
    expect(targets.get_by_role("progressbar")).to_have_count(1)
    page.screenshot(path="/tmp/home-desktop.png", full_page=True)
    axe.check(page, "home-admin")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert no_sideways_scroll(page)
    page.screenshot(path="/tmp/home-390.png", full_page=True)
    axe.check(page, "home-admin-390")

    # The one next step works from the home: starting 2026Q3 opens its report.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Start the 2026Q3 report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2026Q3 quarterly report")
    expect(page.locator(".hub-page-head .hub-status")).to_have_text("Draft")
    axe.assert_no_violations()


def test_a_viewer_reads_the_same_list_without_buttons(
    cast, reports, december_2026, page: Page, sign_in, axe
):
    sign_in(page.context, cast.viewer_a)
    page.goto(f"/coalitions/{cast.coalition_a.code}/")
    expect(page.locator(".hub-todo").first).to_contain_text("2026Q3 report")
    expect(page.locator(".hub-todo .usa-button")).to_have_count(0)
    expect(page.get_by_role("button", name="Start the 2026Q3 report")).to_have_count(0)
    page.screenshot(path="/tmp/home-viewer.png", full_page=True)
    axe.check(page, "home-viewer")
    axe.assert_no_violations()


def test_the_coalition_list_shows_the_late_reports_before_the_next_one_due(
    cast, reports, december_2026, page: Page, sign_in, axe
):
    """Issue 12, item 8: a program officer's coalition list said "Next report due Feb 12,
    2027" for a coalition whose 2026Q3 report is late and whose 2026Q2 was returned."""
    sign_in(page.context, cast.officer)
    page.goto("/coalitions/")
    row = page.get_by_role("row").filter(has_text=cast.coalition_a.name)
    cell = row.locator("td").nth(4)
    expect(cell).to_contain_text("2026Q2 report")
    expect(cell).to_contain_text("Returned for revision")
    expect(cell).to_contain_text("2026Q3 report")
    expect(cell).to_contain_text("24 days late")
    expect(cell).to_contain_text("Next: 2026Q4 report, due Feb 12, 2027")
    text = cell.inner_text()
    assert text.index("2026Q2") < text.index("2026Q3") < text.index("2026Q4")
    cell.get_by_role("link", name="2026Q3 report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2026Q3 quarterly report")
    page.go_back()
    page.screenshot(path="/tmp/smaller-coalition-list.png", full_page=True)
    axe.check(page, "coalition-list-officer")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    axe.check(page, "coalition-list-officer-390")
    axe.assert_no_violations()


def test_a_reporter_finds_the_coaching_items_given_to_them_and_marks_one_done(
    cast, december_2026, page: Page, sign_in, axe
):
    """Issue 11: an item a coach gave the reporter, though not shared with the coalition,
    is on the reporter's home with "Mark done"; a shared item of someone else's is listed
    read-only."""
    from datetime import timedelta

    from django.utils import timezone

    from coaching import services as coaching

    def give(title, **owner):
        return coaching.action_item_create(
            coalition=cast.coalition_a,
            item=coaching.ItemInput(
                title=title, due_on=timezone.localdate() + timedelta(3), **owner
            ),
            actor=cast.coach_a,
        )

    give("Send the employer letters", owner=cast.reporter_a)
    give("Book the job fair", owner_name="Sam Ortiz (Alpha College)", shared=True)
    sign_in(page.context, cast.reporter_a)
    page.goto(f"/coalitions/{cast.coalition_a.code}/")
    page.wait_for_function("() => window.htmx !== undefined")
    card = page.get_by_role("region", name="Coaching action items")
    rows = card.locator("li")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Send the employer letters")
    expect(rows.nth(1)).to_contain_text("Book the job fair")
    expect(card.get_by_role("button")).to_have_count(1)
    axe.check(page, "home-coaching-items")

    card.get_by_role("button", name=re.compile(r"^Mark done\W+Send the employer letters$")).click()
    expect(rows.nth(0)).to_contain_text("Done")
    expect(
        card.get_by_role("button", name=re.compile(r"^Reopen\W+Send the employer letters$"))
    ).to_be_visible()
    page.screenshot(path="/tmp/home-coaching.png", full_page=True)
    axe.check(page, "home-coaching-item-done")
    axe.assert_no_violations()


def test_the_coalition_page_does_not_scroll_sideways_at_390_px_with_every_target(
    cast, reports, december_2026, page: Page, sign_in, axe
):
    """Issue 11: at 390 px (a phone) the targets table was 524 px wide and the whole page
    scrolled sideways. Every measure has a target here, with the long labels and the pace
    text of an accepted report."""
    from grantees.models import Measure
    from tests import factories

    grant = cast.coalition_a.grants.get()
    for measure in Measure.values:
        if measure != "A-2":
            factories.TargetFactory(grant=grant, measure=measure, value=12_345)
    sign_in(page.context, cast.admin_a)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/coalitions/{cast.coalition_a.code}/")
    targets = page.get_by_role("region", name="Grant-to-date targets")
    expect(targets.get_by_role("row")).to_have_count(1 + len(Measure.values))
    widths = page.evaluate(
        """() => ({page: document.documentElement.scrollWidth, viewport: window.innerWidth,
                   table: document.querySelector(".hub-actuals").getBoundingClientRect().width})"""
    )
    page.screenshot(path="/tmp/home-390-targets.png", full_page=True)
    assert widths["page"] <= widths["viewport"], widths
    assert widths["table"] <= widths["viewport"], widths
    axe.check(page, "home-390-every-target")
    axe.assert_no_violations()
