"""A coach logs a session with two action items and sets a risk flag through the real
pages; the program officer then finds the coalition at the top of the coaching overview;
the coalition's administrator marks their shared action item done. The coaching page,
the session form, the overview, the coach's home and the assignments page are checked
with axe-core (WCAG 2.1 A and AA) and saved as test-results/screens/coaching-*.png.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from coaching.models import ActionItem, ActionStatus, CoachingSession, RiskFlag
from reporting import services as reporting_services

pytestmark = pytest.mark.browser


def test_a_coach_logs_a_session_and_flags_risk_and_the_officer_finds_it(
    cast, page: Page, sign_in, axe
):
    reporting_services.periods_ensure(grant=cast.coalition_a.grants.get())
    reporting_services.periods_ensure(grant=cast.coalition_b.grants.get())
    sign_in(page.context, cast.coach_a)

    page.goto("/coaching/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My coalitions")
    axe.check(page, "coaching-home")

    page.locator("tr", has_text=cast.coalition_a.name).get_by_role(
        "link", name="Coaching record"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Coaching")
    axe.check(page, "coaching-coalition-empty")

    page.get_by_role("link", name="Log a session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a coaching session")
    axe.check(page, "coaching-session-form")
    page.get_by_label("Kind").select_option("site_visit")
    page.get_by_label("Attendees").fill("Dana Lee, Alpha College\nSam Ortiz, IBEW Local 48")
    page.get_by_label("Topics").fill("Employer partnerships and the Q3 placements")
    page.get_by_role("textbox", name="Notes").fill("Lead employer may pull out; keep an eye on it.")
    first = page.locator("fieldset", has_text="Action item 1")
    first.get_by_label("Action", exact=True).fill("Send the employer partner list")
    first.get_by_label("Owner in the hub").select_option(
        label=f"{cast.admin_a.display_name} (coalition)"
    )
    first.get_by_label("Due", exact=True).fill("2030-01-15")
    first.locator("label", has_text="Shared with the coalition").click()
    second = page.locator("fieldset", has_text="Action item 2")
    second.get_by_label("Action", exact=True).fill("Draft the apprenticeship MOU")
    second.get_by_label("Or owner's name").fill("Sam Ortiz")
    second.get_by_label("Due", exact=True).fill("2030-02-01")
    second.get_by_label("Linked target").select_option(label="Participants served: 640")
    page.get_by_role("button", name="Log session").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Site visit")
    expect(page.get_by_text("Send the employer partner list", exact=True)).to_be_visible()
    expect(page.get_by_text("Draft the apprenticeship MOU", exact=True)).to_be_visible()
    session = CoachingSession.objects.get()
    assert session.action_items.count() == 2
    axe.check(page, "coaching-session")

    # Back to the coalition's coaching page by the breadcrumb (the navigation's
    # "Coaching" is the overview).
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role(
        "link", name="Coaching", exact=True
    ).click()
    page.get_by_label("Risk level").select_option("high")
    page.get_by_label("Reason").fill("Lead employer may withdraw; placements at risk.")
    page.get_by_role("button", name="Set flag").click()
    expect(page.locator(".usa-alert, .hub-messages").first).to_contain_text("At risk")
    assert RiskFlag.objects.get().level == "high"
    axe.check(page, "coaching-coalition")

    # The program officer finds the coalition at risk first on the overview.
    sign_in(page.context, cast.officer)
    page.goto("/coaching/overview/")
    first_row = page.locator("tbody tr").first
    expect(first_row).to_contain_text(cast.coalition_a.name)
    expect(first_row).to_contain_text("At risk")
    axe.check(page, "coaching-overview")
    page.get_by_label("Risk level").select_option("high")
    expect(page.locator("tbody tr")).to_have_count(1)

    page.goto("/coaching/assignments/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Coach assignments")
    axe.check(page, "coaching-assignments")

    # The coalition's administrator sees only the shared item, and marks it done in place.
    sign_in(page.context, cast.admin_a)
    page.goto(f"/coaching/coalitions/{cast.coalition_a.code}/")
    expect(page.get_by_text("Send the employer partner list", exact=True)).to_be_visible()
    expect(page.get_by_text("Lead employer may withdraw")).to_have_count(0)
    page.get_by_role(
        "button", name=re.compile(r"^Mark done\W+Send the employer partner list")
    ).click()
    expect(
        page.get_by_role("button", name=re.compile(r"^Reopen\W+Send the employer partner list"))
    ).to_be_visible()
    item = ActionItem.objects.get(title="Send the employer partner list")
    assert item.status == ActionStatus.DONE
    axe.check(page, "coaching-coalition-member")

    axe.assert_no_violations()


def test_the_risk_form_opens_on_the_current_flag(cast, page: Page, sign_in, axe):
    """Issue 12, item 8: the select opened on "On track" for a coalition at risk."""
    from coaching import services as coaching_services

    sign_in(page.context, cast.coach_a)
    page.goto(f"/coaching/coalitions/{cast.coalition_a.code}/")
    # Never assessed: no level is chosen for the coach.
    expect(page.get_by_label("Risk level")).to_have_value("")
    coaching_services.risk_flag_set(
        coalition=cast.coalition_a, level="high", reason="Two quarters behind on placements",
        actor=cast.coach_a,
    )  # fmt: skip
    page.reload()
    select = page.get_by_label("Risk level")
    expect(select).to_have_value("high")
    assert select.evaluate("s => s.options[s.selectedIndex].text") == "At risk"
    page.locator("#risk-heading").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/smaller-risk.png")
    axe.check(page, "coaching-risk-current")
    axe.assert_no_violations()


def test_the_coach_home_shows_what_waits_and_the_report_still_open(cast, page: Page, sign_in, axe):
    """Issue 12: a returned quarter the coalition replied to, and a version submitted to
    the coach, wait for them on their home; the coalition's row shows the open quarter."""
    from datetime import timedelta

    from django.utils import timezone

    from reporting.models import Submission, SubmissionComment, SubmissionState

    reporting_services.periods_ensure(grant=cast.coalition_a.grants.get())
    reporting_services.periods_ensure(grant=cast.coalition_b.grants.get())
    today = timezone.localdate()
    periods = list(cast.coalition_a.periods.filter(start_date__lte=today).order_by("start_date"))
    *earlier, last_closed, under_way = periods
    now = timezone.now()
    for i, period in enumerate(earlier[:-1]):
        Submission.objects.create(
            coalition=cast.coalition_a, period=period, version=1, created_by=cast.admin_a,
            state=SubmissionState.ACCEPTED, submitted_at=now - timedelta(days=400 - i),
        )  # fmt: skip
    Submission.objects.create(
        coalition=cast.coalition_a, period=earlier[-1], version=1, created_by=cast.admin_a,
        state=SubmissionState.SUBMITTED, submitted_at=now - timedelta(days=6),
    )  # fmt: skip
    returned = Submission.objects.create(
        coalition=cast.coalition_a, period=last_closed, version=1, created_by=cast.admin_a,
        state=SubmissionState.RETURNED, submitted_at=now - timedelta(days=9),
        returned_at=now - timedelta(days=3), reviewed_by=cast.coach_a,
    )  # fmt: skip
    SubmissionComment.objects.create(
        coalition=cast.coalition_a, submission=returned, author=cast.admin_a,
        body="We re-counted the exits; see the note.", created_at=now - timedelta(days=1),
    )  # fmt: skip
    sign_in(page.context, cast.coach_a)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/coaching/")
    waiting = page.locator("#waiting")
    expect(waiting.get_by_role("heading", level=2)).to_have_text("Waiting for you (2)")
    rows = waiting.locator("tbody tr")
    expect(rows.nth(0)).to_contain_text(f"{earlier[-1].quarter} · version 1")
    expect(rows.nth(0)).to_contain_text("6 days")
    expect(rows.nth(1)).to_contain_text(f"{last_closed.quarter} · version 1")
    expect(rows.nth(1)).to_contain_text("replied to the return")
    # The coalition's report is the oldest one not accepted, not the quarter under way.
    report = page.locator(
        "section[aria-labelledby='reports-heading'] tr", has_text=cast.coalition_a.name
    )
    expect(report).to_contain_text(f"{earlier[-1].quarter} · Submitted")
    expect(report).not_to_contain_text(under_way.quarter)
    nav = page.get_by_role("navigation", name="Primary navigation")
    expect(nav.get_by_role("link", name="Coaching", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Assignments")).to_have_count(0)
    axe.check(page, "coaching-home-waiting")
    rows.nth(1).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 1")

    sign_in(page.context, cast.officer)
    page.goto("/coaching/overview/")
    nav = page.get_by_role("navigation", name="Primary navigation")
    nav.get_by_role("link", name="Assignments").click()
    expect(page).to_have_url(re.compile(r"/coaching/assignments/$"))
    axe.check(page, "coaching-assignments-nav")
    axe.assert_no_violations()
