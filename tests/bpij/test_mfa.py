"""Staff roles reach no coalition data before they have a second factor."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import override_settings
from django.urls import reverse

from tests import factories

STAFF_ROLES = ["coach", "program_officer", "jff_admin"]


def sign_in(client, email, password=factories.PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_without_a_second_factor_are_sent_to_set_one_up(client, db, role):
    person = factories.StaffFactory(staff_role=role, mfa=False)
    if role == "coach":
        factories.CoachAssignmentFactory(coach=person)
    # A real sign-in (not force_login), so that allauth counts it as recent.
    client.post(reverse("account_login"), {"login": person.email, "password": factories.PASSWORD})
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

    secret = TOTP(Authenticator.objects.get(user=officer, type="totp")).instance.data["secret"]
    from allauth.mfa.adapter import get_adapter

    plain = get_adapter().decrypt(secret)
    counter = next(iter(yield_hotp_counters_from_time()))
    code = format_hotp_value(hotp_value(plain, counter))
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    right = client.post(reverse("mfa_authenticate"), {"code": code})
    assert right.status_code == 302
    assert client.get("/coalitions/").status_code == 200


def test_activating_totp_lets_staff_through(client, db):
    coach = factories.StaffFactory(staff_role="coach", mfa=False)
    client.force_login(coach)
    assert client.get("/coaching/").status_code == 302
    TOTP.activate(coach, "JBSWY3DPEHPK3PXP")
    assert client.get("/coaching/").status_code == 200


def test_removing_the_authenticator_locks_staff_out_again(client, db):
    """The session remembers that a second factor exists; removing it forgets that."""
    officer = factories.StaffFactory(staff_role="program_officer")
    client.force_login(officer)
    assert client.get("/coalitions/").status_code == 200
    Authenticator.objects.filter(user=officer).delete()
    session = client.session
    session.pop("bpij_mfa_ok", None)
    session.save()
    assert client.get("/coalitions/").status_code == 302


@override_settings(MFA_EXEMPT_DEMO_ACCOUNTS=True)
def test_demo_staff_accounts_are_exempt_only_when_the_setting_says_so(client, db):
    demo_officer = factories.StaffFactory(staff_role="program_officer", mfa=False, is_demo=True)
    real_officer = factories.StaffFactory(staff_role="program_officer", mfa=False)
    client.force_login(demo_officer)
    assert client.get("/coalitions/").status_code == 200
    client.force_login(real_officer)
    assert client.get("/coalitions/").status_code == 302


def test_demo_staff_accounts_need_mfa_when_the_setting_is_off(client, db, settings):
    assert settings.MFA_EXEMPT_DEMO_ACCOUNTS is False
    demo_officer = factories.StaffFactory(staff_role="program_officer", mfa=False, is_demo=True)
    client.force_login(demo_officer)
    assert client.get("/coalitions/").status_code == 302
