"""The staff header (issue 12, item 8): a JFF administrator, who has the most navigation
links, reads their name and "Sign out" on one line at 1366 px (the commonest laptop
width), with nothing scrolling sideways at 1024 px (where the desktop navigation begins)
and at 390 px (a phone, where the navigation is behind "Menu"). Saved as
test-results/screens/header-*.png."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

# The name of someone with a long but ordinary name.
NAME = "Margaret Delacroix-Whitfield"

MEASURE = """() => {
    const name = document.querySelector('.hub-nav-user__name');
    const out = document.querySelector('.hub-signout');
    const a = name.getBoundingClientRect(), b = out.getBoundingClientRect();
    const links = [...document.querySelectorAll('.usa-nav__primary .usa-nav-link')];
    return {
        nameLines: name.getClientRects().length,
        nameHeight: a.height,
        outHeight: b.height,
        lineHeight: parseFloat(getComputedStyle(name).lineHeight),
        middleGap: Math.abs((a.top + a.bottom) / 2 - (b.top + b.bottom) / 2),
        outAfterName: b.left >= a.right,
        outInside: b.right <= document.querySelector('.usa-nav').getBoundingClientRect().right,
        linkTops: [...new Set(links.map(l => Math.round(l.getBoundingClientRect().top)))],
        sideways: document.documentElement.scrollWidth > window.innerWidth,
    };
}"""


@pytest.fixture
def admin(cast):
    cast.jff_admin.full_name = NAME
    cast.jff_admin.save(update_fields=["full_name"])
    return cast.jff_admin


def _one_line(m: dict) -> None:
    assert m["nameLines"] == 1, m
    assert m["nameHeight"] <= m["lineHeight"] * 1.5, m
    assert m["outHeight"] <= m["lineHeight"] * 1.5 + 8, m
    assert m["middleGap"] <= 4, m
    assert m["outAfterName"], m
    assert m["outInside"], m
    assert not m["sideways"], m


@pytest.mark.parametrize("width", [1366, 1024])
def test_the_name_and_sign_out_share_one_line_on_a_laptop(admin, page: Page, sign_in, axe, width):
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page.context, admin)
    page.goto("/audit/")
    expect(page.locator(".hub-nav-user__name")).to_have_text(NAME)
    measured = page.evaluate(MEASURE)
    page.locator(".hub-header").screenshot(path=f"/tmp/smaller-header-{width}.png")
    axe.check(page, f"header-{width}")
    _one_line(measured)
    # The navigation links stay on one row beside the logo.
    assert len(measured["linkTops"]) == 1, measured
    axe.assert_no_violations()


def test_the_menu_holds_the_name_and_sign_out_on_a_phone(admin, page: Page, sign_in, axe):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page.context, admin)
    page.goto("/audit/")
    assert not page.evaluate(MEASURE)["sideways"]
    axe.check(page, "header-390")
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator(".hub-nav-user__name")).to_have_text(NAME)
    page.wait_for_timeout(400)  # the menu slides in
    page.screenshot(path="/tmp/smaller-header-390.png")
    # The panel is 15rem wide: the name may take its own line, but "Sign out" is whole.
    measured = page.evaluate(MEASURE)
    assert measured["outInside"], measured
    assert not measured["sideways"], measured
    axe.assert_no_violations()
