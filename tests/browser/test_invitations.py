"""A coalition administrator invites a colleague from the Members page; the colleague
opens the e-mailed link, chooses a password and lands in the coalition, signed in.

The accept page is checked with axe-core here (new-person form, and its error state).
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from bpij.models import User

pytestmark = pytest.mark.browser

LINK = re.compile(r"/invitations/[A-Za-z0-9_\-]+/")
EMAIL = "nia.reporter@alpha.example"
PASSWORD = "Solar-Panel-Installer-2026"


def test_an_invited_colleague_joins_the_coalition(cast, page: Page, new_context, sign_in, axe):
    coalition = f"/coalitions/{cast.coalition_a.code}/"
    mail.outbox.clear()

    # The administrator sends the invitation.
    sign_in(page.context, cast.admin_a)
    page.goto(coalition + "members/")
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Full name").fill("Nia Reporter")
    page.get_by_label("Role", exact=True).select_option(label="Reporter")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {EMAIL}")
    pending = page.get_by_role("region", name="Invitations waiting for an answer")
    expect(pending).to_contain_text(f"{EMAIL} as reporter")

    assert [message.to for message in mail.outbox] == [[EMAIL]]
    link = LINK.search(mail.outbox[0].body).group(0)

    # The colleague opens the link in their own browser.
    newcomer = new_context().new_page()
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", level=1)).to_have_text(
        "Join Alpha Wind Coalition (test)"
    )
    expect(newcomer.get_by_label("Your full name")).to_have_value("Nia Reporter")
    axe.check(newcomer, "invitation-accept")

    newcomer.get_by_label("Choose a password").fill(PASSWORD)
    newcomer.get_by_label("Type the password again").fill(PASSWORD + "!")
    newcomer.get_by_role("button", name="Create my account").click()
    expect(newcomer.locator("#id_password2-error")).to_contain_text("not the same")
    axe.check(newcomer, "invitation-accept-error")

    newcomer.get_by_label("Choose a password").fill(PASSWORD)
    newcomer.get_by_label("Type the password again").fill(PASSWORD)
    newcomer.get_by_role("button", name="Create my account").click()
    expect(newcomer).to_have_url(re.compile(re.escape(coalition) + "$"))
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Alpha Wind Coalition (test)")
    expect(newcomer.get_by_role("status")).to_contain_text("Welcome to Alpha Wind Coalition")
    expect(newcomer.get_by_role("navigation", name="Primary navigation")).to_contain_text(
        "Nia Reporter"
    )

    # The administrator now sees them among the members, no longer as pending.
    page.reload()
    expect(page.get_by_role("row", name=re.compile(re.escape(EMAIL)))).to_contain_text(
        "Nia Reporter"
    )
    expect(page.get_by_role("combobox", name=f"Role of {EMAIL}")).to_have_value("grantee_reporter")
    expect(pending).not_to_contain_text(EMAIL)
    assert User.objects.get(email=EMAIL).check_password(PASSWORD)

    axe.assert_no_violations()
