"""axe-core on every page built so far: WCAG 2.1 A and AA, zero violations.

Pages are grouped (signed out, grantees, staff) so that each group costs one browser
context and one database set-up; every page is still checked and reported, and saved as
test-results/screens/<name>.png for people to look at. Two pages are checked where a
person meets them in a flow: the TOTP activation page in test_sign_in.py, and the
invitation accept page (with its error state) in test_invitations.py.
"""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from grantees import services

pytestmark = pytest.mark.browser


def h1(page: Page):
    return page.get_by_role("heading", level=1)


def test_signed_out_pages(live_server, page: Page, axe):
    page.goto("/accounts/login/")
    expect(h1(page)).to_have_text("Sign in to the Reporting Hub")
    axe.check(page, "sign-in")

    page.get_by_label("Email").fill("nobody@alpha.example")
    page.get_by_label("Password", exact=True).fill("not-the-password-at-all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    axe.check(page, "sign-in-error")

    page.goto("/accounts/password/reset/")
    expect(h1(page)).to_have_text("Password Reset")
    axe.check(page, "password-reset")

    page.goto("/accounts/signup/")
    expect(h1(page)).to_have_text("Accounts are by invitation")
    axe.check(page, "signup-closed")

    assert page.goto("/invitations/not-a-real-token/").status == 410
    expect(page.get_by_text("This invitation link is not valid")).to_be_visible()
    axe.check(page, "invitation-problem")

    assert page.goto("/no-such-page/").status == 404
    axe.check(page, "404-signed-out")

    axe.assert_no_violations()


def test_grantee_pages(cast, page: Page, sign_in, axe):
    coalition = f"/coalitions/{cast.coalition_a.code}/"

    # The coalition's administrator.
    sign_in(page.context, cast.admin_a)

    page.goto(coalition)
    expect(h1(page)).to_have_text("Alpha Wind Coalition (test)")
    axe.check(page, "coalition-detail")

    page.get_by_role("link", name="Members").click()
    expect(h1(page)).to_have_text("Members")
    expect(page.get_by_role("heading", name="Invite a colleague")).to_be_visible()
    axe.check(page, "members")

    # The browser accepts this address (type=email); the server does not (the domain has
    # no dot), so the page comes back in the form's error state.
    page.get_by_label("E-mail address").fill("someone@nowhere")
    with page.expect_response(re.compile(r"/members/invite/$")) as posted:
        page.get_by_role("button", name="Send invitation").click()
    assert posted.value.status == 400
    expect(page.locator(".usa-error-message")).to_be_visible()
    axe.check(page, "members-invite-error")

    assert page.goto(f"/coalitions/{uuid.uuid4()}/").status == 404
    axe.check(page, "404")

    # A viewer: the Members page without the forms, and a page they may not open.
    sign_in(page.context, cast.viewer_a)
    page.goto(coalition + "members/")
    expect(h1(page)).to_have_text("Members")
    axe.check(page, "members-read-only")

    assert page.goto("/staff/users/").status == 403
    axe.check(page, "403")

    axe.assert_no_violations()


def test_staff_pages(cast, page: Page, sign_in, axe):
    # A program officer.
    sign_in(page.context, cast.officer)

    page.goto("/coalitions/")
    expect(h1(page)).to_have_text("Coalitions")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    axe.check(page, "coalition-list")

    # Typing filters through htmx: only #results is replaced, and the URL follows.
    with page.expect_response(lambda response: "q=Bravo" in response.url) as filtered:
        page.get_by_label("Search").press_sequentially("Bravo")
    assert filtered.value.request.headers.get("hx-request") == "true"
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Bravo Broadband Coalition (test)")
    expect(page).to_have_url(re.compile(r"[?&]q=Bravo"))
    axe.check(page, "coalition-list-filtered")

    page.get_by_label("Search").fill("no such coalition anywhere")
    expect(page.get_by_role("heading", name="No coalition matches these filters")).to_be_visible()
    axe.check(page, "coalition-list-no-match")

    page.goto(f"/coalitions/{cast.coalition_a.code}/")
    expect(page.get_by_role("navigation", name="Breadcrumbs")).to_be_visible()
    axe.check(page, "coalition-detail-staff")

    page.goto("/accounts/2fa/")
    expect(h1(page)).to_have_text("Two-Factor Authentication")
    axe.check(page, "mfa-index")

    # A coach.
    sign_in(page.context, cast.coach_a)
    page.goto("/coaching/")
    expect(h1(page)).to_have_text("My coalitions")
    expect(page.get_by_role("link", name="Alpha Wind Coalition (test)")).to_be_visible()
    axe.check(page, "coach-home")

    # A JFF administrator, with an audit event and a pending staff invitation so that
    # both pages show rows, not only their empty states.
    services.invitation_create(
        invited_by=cast.jff_admin, email="new.coach@jff.example", role="coach"
    )
    sign_in(page.context, cast.jff_admin)

    page.goto("/staff/users/")
    expect(page.get_by_text("new.coach@jff.example", exact=True)).to_be_visible()
    axe.check(page, "staff-users")

    page.goto("/audit/")
    expect(page.locator("main table")).to_contain_text("new.coach@jff.example")
    axe.check(page, "audit-log")

    axe.assert_no_violations()


def test_the_axe_check_does_find_violations(browser, axe):
    """Guards against a vacuous pass (axe not loaded, or no rules run). Needs neither
    the live server nor the database."""
    page = browser.new_page()
    page.set_content('<html><body><img src="x.png"><a href="/"></a></body></html>')
    axe.check(page, "deliberately-broken", screenshot=False)
    _, violations = axe.found["deliberately-broken"]
    assert {"html-has-lang", "image-alt", "link-name"} <= {v["id"] for v in violations}
    with pytest.raises(AssertionError, match=r"image-alt \(critical\)"):
        axe.assert_no_violations()
    page.close()
