"""A program officer works the status board in Chromium a week after the 2025Q3 due
date: filters it to the overdue reports (htmx, with the filters in the URL), sorts a
column (aria-sort follows), ticks "select all" and reminds them; a report already sent
is refused with a message. The board and the reminders page pass axe-core (WCAG 2.1 AA).
"""

import re

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from reporting import services
from reporting.models import Reminder, ReminderKind, ReportingPeriod, Submission
from tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture
def november_2025():
    with time_machine.travel("2025-11-20 10:00 -0500", tick=True):
        yield


@pytest.fixture
def board_data(cast, november_2025):
    """A and a third coalition are overdue; B has sent its report."""
    third = factories.GrantFactory(
        coalition__name="Charlie Transit Coalition (test)", coalition__slug="charlie"
    ).coalition
    factories.MembershipFactory(coalition=third, role="grantee_admin", user__email="c@c.example")
    factories.CoachAssignmentFactory(coalition=third, coach=cast.coach_a)
    services.periods_ensure_all()
    period_b = ReportingPeriod.objects.get(coalition=cast.coalition_b, quarter="2025Q3")
    Submission.objects.create(
        coalition=cast.coalition_b,
        period=period_b,
        version=1,
        state="submitted",
        created_by=cast.outsider_b,
        checked_at=timezone.now(),
        submitted_at=timezone.now(),
    )
    return third


def rows(page: Page):
    return page.locator("#results tbody tr")


def test_an_officer_filters_sorts_and_reminds_the_overdue_coalitions(
    page: Page, sign_in, cast, board_data, axe
):
    sign_in(page.context, cast.officer)
    page.goto("/board/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Status board")
    expect(rows(page)).to_have_count(3)
    axe.check(page, "board")

    # Filtering swaps the results in place and puts the filter in the address.
    page.get_by_label("Status", exact=True).select_option("overdue")
    expect(page).to_have_url(re.compile(r"status=overdue"))
    expect(rows(page)).to_have_count(2)
    expect(rows(page).locator(".hub-status")).to_have_text(["Overdue", "Overdue"])

    # Sorting by a column: its header says so.
    page.locator("#results thead").get_by_role("link", name=re.compile(r"^Coalition")).click()
    expect(page).to_have_url(re.compile(r"sort=coalition"))
    header = page.locator("#results th[aria-sort='ascending']")
    expect(header).to_contain_text("Coalition")
    expect(rows(page).locator("th")).to_contain_text(["Alpha", "Charlie"])
    page.locator("#results thead").get_by_role("link", name=re.compile(r"^Coalition")).click()
    expect(page.locator("#results th[aria-sort='descending']")).to_contain_text("Coalition")
    expect(rows(page).locator("th")).to_contain_text(["Charlie", "Alpha"])
    # The filter survived the sort.
    expect(page).to_have_url(re.compile(r"status=overdue"))

    # Select all, then remind: one manual reminder per overdue coalition.
    # USWDS draws the box on the label (the input itself is visually hidden).
    page.locator("label[for='board-select-all']").click()
    for box in page.locator('#results input[name="period"]').all():
        expect(box).to_be_checked()
    page.get_by_role("button", name="Remind selected").click()
    expect(page.locator(".usa-alert--success")).to_contain_text("Reminder sent to 2 coalitions")
    expect(page).to_have_url(re.compile(r"status=overdue"))
    expect(rows(page).first).to_contain_text("Sent by JFF staff")
    sent = Reminder.objects.filter(kind=ReminderKind.MANUAL, status="sent")
    assert sorted(r.coalition.slug for r in sent) == ["alpha", "charlie"]
    axe.check(page, "board-reminded")

    # A report already sent is refused, saying why.
    page.goto("/board/")
    page.locator("label").filter(has_text=f"Select {cast.coalition_b.name}").click()
    expect(page.get_by_label(f"Select {cast.coalition_b.name}")).to_be_checked()
    page.get_by_role("button", name="Remind selected").click()
    expect(page.locator(".usa-alert--error")).to_contain_text("has already sent its 2025Q3 report")

    page.get_by_role("link", name="Reminders sent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reminders sent")
    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_label("Coalition").select_option(label="Charlie Transit Coalition (test)")
    expect(page.locator("tbody tr")).to_have_count(1)
    axe.check(page, "reminders")
    axe.assert_no_violations()


def test_a_coach_sees_only_their_coalitions_on_the_board(
    page: Page, sign_in, cast, board_data, axe
):
    sign_in(page.context, cast.coach_a)
    page.goto("/board/")
    expect(rows(page).locator("th")).to_contain_text(["Alpha", "Charlie"])
    expect(rows(page)).to_have_count(2)
    axe.check(page, "board-coach")
    axe.assert_no_violations()
