"""axe-core on every page built so far: WCAG 2.1 A and AA, zero violations.

Each checked page is also saved as test-results/screens/<name>.png for people to look at.
"""

import re
import uuid

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from bpij.models import StaffRole
from grantees import services
from grantees.models import MemberRole
from tests import factories

pytestmark = pytest.mark.browser

LINK = re.compile(r"/invitations/[A-Za-z0-9_\-]+/")


@pytest.mark.parametrize(
    ("name", "path", "heading"),
    [
        ("sign-in", "/accounts/login/", "Sign in to the Reporting Hub"),
        ("password-reset", "/accounts/password/reset/", "Password Reset"),
        ("signup-closed", "/accounts/signup/", "Accounts are by invitation"),
        ("invitation-problem", "/invitations/not-a-real-token/", None),
        ("404-signed-out", "/no-such-page/", None),
    ],
)
def test_signed_out_pages(live_server, page: Page, axe_check, name, path, heading):
    page.goto(path)
    if heading:
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    axe_check(page, name)


def _coalition_a(cast):
    return f"/coalitions/{cast.coalition_a.code}/"


@pytest.mark.parametrize(
    ("name", "who", "path", "status", "heading"),
    [
        ("coalition-detail", "admin_a", _coalition_a, 200, "Alpha Wind Coalition (test)"),
        (
            "members",
            "admin_a",
            lambda cast: _coalition_a(cast) + "members/",
            200,
            "Members",
        ),
        ("members-read-only", "viewer_a", lambda cast: _coalition_a(cast) + "members/", 200, None),
        ("coalition-detail-staff", "officer", _coalition_a, 200, "Alpha Wind Coalition (test)"),
        ("coalition-list", "officer", lambda cast: "/coalitions/", 200, "Coalitions"),
        ("coach-home", "coach_a", lambda cast: "/coaching/", 200, "My coalitions"),
        ("staff-users", "jff_admin", lambda cast: "/staff/users/", 200, None),
        ("mfa-index", "officer", lambda cast: "/accounts/2fa/", 200, "Two-Factor Authentication"),
        ("404", "admin_a", lambda cast: f"/coalitions/{uuid.uuid4()}/", 404, None),
        ("403", "viewer_a", lambda cast: "/staff/users/", 403, None),
    ],
)
def test_signed_in_pages(cast, page: Page, sign_in, axe_check, name, who, path, status, heading):
    sign_in(page.context, cast[who])
    response = page.goto(path(cast))
    assert response.status == status, f"{name}: {response.status} at {page.url}"
    if heading:
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    axe_check(page, name)


def test_audit_log(cast, page: Page, sign_in, axe_check):
    # A few events, so the table (not only its empty state) is checked.
    services.invitation_create(
        invited_by=cast.admin_a,
        coalition=cast.coalition_a,
        email="audit.me@alpha.example",
        role=MemberRole.REPORTER,
    )
    sign_in(page.context, cast.jff_admin)
    assert page.goto("/audit/").status == 200
    expect(page.locator("main table")).to_contain_text("audit.me@alpha.example")
    axe_check(page, "audit-log")


def test_members_page_after_a_failed_invitation(cast, page: Page, sign_in, axe_check):
    sign_in(page.context, cast.admin_a)
    page.goto(_coalition_a(cast) + "members/")
    # The browser accepts this address (type=email); the server does not (no dot in the
    # domain), so the page comes back with the form's error state.
    page.get_by_label("E-mail address").fill("someone@nowhere")
    with page.expect_response(re.compile(r"/members/invite/$")) as posted:
        page.get_by_role("button", name="Send invitation").click()
    assert posted.value.status == 400
    expect(page.locator(".usa-error-message")).to_be_visible()
    axe_check(page, "members-invite-error")


def test_coalition_list_filtered_with_htmx(cast, page: Page, sign_in, axe_check):
    sign_in(page.context, cast.officer)
    page.goto("/coalitions/")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    axe_check(page, "coalition-list-unfiltered")

    with page.expect_response(lambda response: "q=Bravo" in response.url):
        page.get_by_label("Search").press_sequentially("Bravo")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Bravo Broadband Coalition (test)")
    expect(page).to_have_url(re.compile(r"\?.*q=Bravo"))
    axe_check(page, "coalition-list-filtered")

    page.get_by_label("Search").fill("no such coalition anywhere")
    expect(page.get_by_role("heading", name="No coalition matches these filters")).to_be_visible()
    axe_check(page, "coalition-list-no-match")


def test_invitation_accept_page_for_a_new_person(cast, page: Page, axe_check):
    mail.outbox.clear()
    services.invitation_create(
        invited_by=cast.admin_a,
        coalition=cast.coalition_a,
        email="new.person@alpha.example",
        full_name="Nia Reporter",
        role=MemberRole.REPORTER,
    )
    path = LINK.search(mail.outbox[-1].body).group(0)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Alpha Wind Coalition (test)")
    axe_check(page, "invitation-accept")

    # The form's error state: two different passwords.
    page.get_by_label("Choose a password").fill("Solar-Panel-Installer-2026")
    page.get_by_label("Type the password again").fill("Solar-Panel-Installer-2027")
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator(".usa-error-message")).to_be_visible()
    axe_check(page, "invitation-accept-error")


def test_totp_activation_page(transactional_db, page: Page, axe_check):
    # Reached through the real sign-in form: allauth asks a force-logged-in session to
    # re-enter its password before setting up an authenticator.
    officer = factories.StaffFactory(
        email="new.officer@jff.example", staff_role=StaffRole.PROGRAM_OFFICER, mfa=False
    )
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(officer.email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    axe_check(page, "totp-activate")
