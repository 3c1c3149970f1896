"""A program officer finds the notification settings in the account menu, chooses a
daily digest for certified reports and no e-mail for returns, and sees the choice kept;
a bad choice posted without the page is refused with what would be right. axe-core runs
on each state; screenshots in test-results/screens/notifications-*.png."""

import pytest
from playwright.sync_api import Page, expect

from reporting.services import staff_notices

pytestmark = pytest.mark.browser


def test_a_program_officer_chooses_how_to_be_told(cast, page: Page, sign_in, axe):
    cast.officer.full_name = "Omar Officer"
    cast.officer.save(update_fields=["full_name"])
    sign_in(page.context, cast.officer)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/reviews/")
    page.get_by_role("navigation", name="Primary navigation").get_by_role(
        "link", name="Notifications"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notification settings")
    certified = page.get_by_role("group", name="A report is certified")
    returned = page.get_by_role("group", name="A report is returned")
    # Never chosen: each e-mail.
    expect(certified.get_by_role("radio", name="Each e-mail")).to_be_checked()
    expect(returned.get_by_role("radio", name="Each e-mail")).to_be_checked()
    # The name and the links stay on one line at 1366 px.
    name = page.locator(".hub-nav-user__name").bounding_box()
    signout = page.get_by_role("button", name="Sign out").bounding_box()
    links = [page.locator(".hub-nav-user__link").nth(i).bounding_box() for i in range(2)]
    assert name is not None
    assert signout is not None
    assert abs(name["y"] - signout["y"]) < 8
    # Notifications and API tokens.
    for link in links:
        assert link is not None
        assert abs(link["y"] - signout["y"]) < 8
    axe.check(page, "notifications-settings")

    # USWDS draws the radios on their labels: a person clicks the label.
    certified.locator("label", has_text="Daily digest").click()
    returned.locator("label", has_text="Off").click()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Your notification settings are saved.")
    expect(certified.get_by_role("radio", name="Daily digest")).to_be_checked()
    expect(returned.get_by_role("radio", name="Off")).to_be_checked()
    axe.check(page, "notifications-saved")
    assert staff_notices.modes_of(cast.officer) == {
        "certified": "digest",
        "returned": "off",
        "review_waiting": "each",
    }

    # A choice the page does not offer (a hand-made request) is refused, saying why.
    page.evaluate(
        """() => {
            document.querySelectorAll('input[type=radio]').forEach(r => { r.checked = false; });
            const bad = document.querySelector('input[value=each]');
            bad.value = 'weekly'; bad.checked = true;
        }"""
    )
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    expect(page.locator("main")).to_contain_text("is not a choice for “A report is certified”")
    axe.check(page, "notifications-refused")
    axe.assert_no_violations()
    assert staff_notices.modes_of(cast.officer) == {
        "certified": "digest",
        "returned": "off",
        "review_waiting": "each",
    }
