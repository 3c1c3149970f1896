"""Staff roles and the Federal Project Officer reach no coalition data until this session
has passed the second factor; owning an authenticator is not enough."""

import re
import subprocess
import sys

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings as django_settings
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from grantees.models import Invitation
from tests import factories, sessions

STAFF_ROLES = ["coach", "program_officer", "jff_admin", "funder_viewer"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and used codes live in the cache; each test starts without
    the previous tests' attempts."""
    cache.clear()
    yield
    cache.clear()


def sign_in(client, email, password=factories.PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def data_urls(cast) -> list[str]:
    return [
        "/",
        reverse("grantees:coalition-list"),
        reverse("grantees:coalition-detail", args=[cast.coalition_a.code]),
        reverse("audit-log"),
        reverse("grantees:user-list"),
    ]


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_without_a_second_factor_are_sent_to_set_one_up(client, db, role):
    person = factories.StaffFactory(staff_role=role, mfa=False)
    if role == "coach":
        factories.CoachAssignmentFactory(coach=person)
    # A real sign-in (not force_login), so that allauth counts it as recent.
    sign_in(client, person.email)
    for url in ["/", "/coalitions/", "/coaching/", "/audit/", "/staff/users/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == reverse("mfa_activate_totp"), url
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


def test_grantees_are_not_asked_for_a_second_factor(cast, client_for):
    assert not Authenticator.objects.filter(user=cast.admin_a).exists()
    client = client_for(cast.admin_a)
    url = reverse("grantees:coalition-detail", args=[cast.coalition_a.code])
    assert client.get(url).status_code == 200


def test_staff_with_totp_must_give_a_code_at_sign_in(client, db):
    officer = factories.StaffFactory(staff_role="program_officer")
    response = sign_in(client, officer.email)
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("mfa_authenticate")
    # Not signed in yet: the coalition list sends them back to sign in.
    assert client.get("/coalitions/").status_code == 302

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    right = client.post(reverse("mfa_authenticate"), {"code": sessions.totp_code_of(officer)})
    assert right.status_code == 302
    assert client.get("/coalitions/").status_code == 200


@pytest.mark.parametrize("who", ["coach_a", "officer", "jff_admin", "fpo"])
def test_a_password_alone_reaches_no_coalition_data_even_with_an_authenticator(client, cast, who):
    person = factories.StaffFactory(staff_role="funder_viewer") if who == "fpo" else cast[who]
    assert Authenticator.objects.filter(user=person, type="totp").exists()
    sessions.sign_in_with_password_only(client, person)
    for url in data_urls(cast):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith(reverse("mfa_reauthenticate")), url


def test_a_password_alone_cannot_invite_a_jff_administrator(client, cast):
    sessions.sign_in_with_password_only(client, cast.jff_admin)
    response = client.post(
        reverse("grantees:staff-invite"), {"email": "mallory@jff.example", "role": "jff_admin"}
    )
    assert response.status_code == 302
    assert not Invitation.objects.filter(email="mallory@jff.example").exists()
    assert mail.outbox == []


def test_entering_a_code_lets_that_same_session_through(client, cast):
    sessions.sign_in_with_password_only(client, cast.jff_admin)
    asked = client.get(reverse("audit-log"))
    assert asked.headers["Location"] == f"{reverse('mfa_reauthenticate')}?next=/audit/"
    page = client.get(asked.headers["Location"]).content.decode()
    assert "Enter a code from your authenticator app to see coalition data" in page

    answered = client.post(
        asked.headers["Location"], {"code": sessions.totp_code_of(cast.jff_admin)}
    )
    assert answered.status_code == 302
    assert answered.headers["Location"] == "/audit/"
    for url in data_urls(cast):
        assert client.get(url, follow=True).status_code == 200, url


def test_an_authenticator_added_outside_this_session_does_not_count(client, db):
    coach = factories.StaffFactory(staff_role="coach", mfa=False)
    factories.CoachAssignmentFactory(coach=coach)
    sessions.sign_in_with_password_only(client, coach)
    assert client.get("/coaching/").headers["Location"] == reverse("mfa_activate_totp")
    TOTP.activate(coach, "JBSWY3DPEHPK3PXP")
    response = client.get("/coaching/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("mfa_reauthenticate"))


def test_setting_up_an_authenticator_in_this_session_lets_staff_through(client, transactional_db):
    # transactional_db: allauth announces the new authenticator once it is committed.
    coach = factories.StaffFactory(staff_role="coach", mfa=False)
    factories.CoachAssignmentFactory(coach=coach)
    sign_in(client, coach.email)
    assert client.get("/coaching/").headers["Location"] == reverse("mfa_activate_totp")

    secret = client.get(reverse("mfa_activate_totp")).context["form"].secret
    activated = client.post(reverse("mfa_activate_totp"), {"code": sessions.totp_code(secret)})
    assert activated.status_code == 302
    assert Authenticator.objects.filter(user=coach, type="totp").exists()
    assert client.get("/coaching/").status_code == 200


def test_removing_the_authenticator_locks_staff_out_again(client, db):
    officer = factories.StaffFactory(staff_role="program_officer")
    sessions.sign_in(client, officer)
    assert client.get("/coalitions/").status_code == 200
    # Removing a second factor asks for it once more first.
    client.post(reverse("mfa_reauthenticate"), {"code": sessions.totp_code_of(officer)})
    removed = client.post(reverse("mfa_deactivate_totp"))
    assert removed.status_code == 302
    assert not Authenticator.objects.filter(user=officer, type="totp").exists()
    assert client.get("/coalitions/").headers["Location"] == reverse("mfa_activate_totp")


def test_repeated_wrong_codes_at_sign_in_are_rate_limited(client, db):
    officer = factories.StaffFactory(staff_role="program_officer")
    sign_in(client, officer.email)
    for _ in range(5):
        client.post(reverse("mfa_authenticate"), {"code": "000000"})
    blocked = client.post(reverse("mfa_authenticate"), {"code": sessions.totp_code_of(officer)})
    assert blocked.status_code == 200
    assert "Too many failed login attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_wrong_codes_at_reauthentication_are_rate_limited(client, cast):
    sessions.sign_in_with_password_only(client, cast.jff_admin)
    url = reverse("mfa_reauthenticate")
    for _ in range(5):
        client.post(url, {"code": "000000"})
    blocked = client.post(url, {"code": sessions.totp_code_of(cast.jff_admin)})
    assert "Too many failed login attempts" in blocked.content.decode()
    assert client.get(reverse("audit-log")).status_code == 302


def test_answering_at_the_reauthentication_page_is_rate_limited_per_person(client, cast):
    sessions.sign_in_with_password_only(client, cast.jff_admin)
    url = reverse("mfa_reauthenticate")
    statuses = [client.post(url, {"code": "000000"}).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]


def test_a_password_reset_does_not_pass_the_second_factor(client, db, settings):
    # Even were a reset to sign people in, it ends in allauth's flow, which asks for a code.
    settings.ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
    officer = factories.StaffFactory(staff_role="program_officer")
    client.post(reverse("account_reset_password"), {"email": officer.email})
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    form = client.get(link.group(1), follow=True).redirect_chain[-1][0]
    new = "Broadband-Splicer-Level-3"
    client.post(form, {"password1": new, "password2": new})
    for url in ["/coalitions/", "/audit/"]:
        assert client.get(url).status_code == 302, url
    response = client.get("/audit/", follow=True)
    assert response.redirect_chain[-1][0].startswith(
        (reverse("mfa_authenticate"), reverse("account_login"), reverse("mfa_reauthenticate"))
    )


def test_demo_staff_accounts_are_exempt_only_when_the_setting_says_so(client, db, settings):
    settings.MFA_EXEMPT_DEMO_ACCOUNTS = True
    demo_officer = factories.StaffFactory(staff_role="program_officer", mfa=False, is_demo=True)
    real_officer = factories.StaffFactory(staff_role="program_officer", mfa=False)
    sessions.sign_in_with_password_only(client, demo_officer)
    assert client.get("/coalitions/").status_code == 200
    sessions.sign_in_with_password_only(client, real_officer)
    assert client.get("/coalitions/").status_code == 302


def test_demo_staff_accounts_need_mfa_when_the_setting_is_off(client, db, settings):
    assert settings.MFA_EXEMPT_DEMO_ACCOUNTS is False
    demo_officer = factories.StaffFactory(staff_role="program_officer", mfa=False, is_demo=True)
    sessions.sign_in_with_password_only(client, demo_officer)
    assert client.get("/coalitions/").status_code == 302


def exempt_setting_with(**env) -> str:
    """MFA_EXEMPT_DEMO_ACCOUNTS as bpij.settings reads it from ``env``."""
    code = "from django.conf import settings; print(settings.MFA_EXEMPT_DEMO_ACCOUNTS)"
    environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "bpij.settings",
        "DEBUG": "true",
        "MFA_EXEMPT_DEMO_ACCOUNTS": "true",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_demo_exemption_holds_only_on_the_embedded_default(tmp_path):
    assert exempt_setting_with(BPIJ_VAR_DIR=str(tmp_path)) == "True"
    assert exempt_setting_with(DATABASE_URL="postgres://u:p@127.0.0.1:5432/bpij") == "False"
