"""Django admin is no second door: off by default, and when on it signs in through the
hub's form (password, then second factor) and needs is_staff and that second factor."""

import importlib

import pytest
from django.core.cache import cache
from django.urls import clear_url_caches, reverse

import bpij.urls
from tests import factories, sessions


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def route_admin() -> None:
    importlib.reload(bpij.urls)
    clear_url_caches()


@pytest.fixture
def admin_enabled(settings):
    settings.ADMIN_ENABLED = True
    route_admin()
    yield
    settings.ADMIN_ENABLED = False
    route_admin()


@pytest.fixture
def jff_admin(cast):
    cast.jff_admin.is_staff = True
    cast.jff_admin.save(update_fields=["is_staff"])
    return cast.jff_admin


def test_admin_is_not_there_unless_enabled(client, jff_admin, settings):
    assert settings.ADMIN_ENABLED is False
    for url in ["/admin/", "/admin/login/", "/admin/bpij/user/"]:
        assert client.get(url).status_code == 404, url
    sessions.sign_in(client, jff_admin)
    for url in ["/admin/", "/admin/login/", "/admin/bpij/user/"]:
        assert client.get(url).status_code == 404, url


def test_admin_login_sends_people_to_the_hubs_sign_in(client, db, admin_enabled):
    response = client.get("/admin/login/?next=/admin/bpij/user/")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{reverse('account_login')}?next=/admin/bpij/user/"
    elsewhere = client.get("/admin/login/?next=https://evil.example/")
    assert elsewhere.headers["Location"] == f"{reverse('account_login')}?next=/admin/"


@pytest.mark.parametrize("admin_on", [True, False], ids=["admin-enabled", "admin-disabled"])
def test_a_password_posted_to_admin_login_opens_nothing(
    client, cast, jff_admin, settings, admin_on
):
    if admin_on:
        settings.ADMIN_ENABLED = True
        route_admin()
    try:
        client.post(
            "/admin/login/?next=/admin/",
            {"username": jff_admin.email, "password": factories.PASSWORD, "next": "/admin/"},
        )
        assert "_auth_user_id" not in client.session
        for url in [
            reverse("audit-log"),
            reverse("grantees:user-list"),
            reverse("grantees:coalition-detail", args=[cast.coalition_a.code]),
            "/admin/",
        ]:
            assert client.get(url).status_code in (302, 404), url
        invite = client.post(
            reverse("grantees:staff-invite"), {"email": "mallory@jff.example", "role": "jff_admin"}
        )
        assert invite.status_code == 302
        assert invite.headers["Location"].startswith(reverse("account_login"))
    finally:
        settings.ADMIN_ENABLED = False
        route_admin()


def test_admin_signs_in_with_a_password_and_a_code(client, jff_admin, admin_enabled):
    to_sign_in = client.get("/admin/", follow=True).redirect_chain[-1][0]
    assert to_sign_in == f"{reverse('account_login')}?next=/admin/"
    password = client.post(to_sign_in, {"login": jff_admin.email, "password": factories.PASSWORD})
    assert password.headers["Location"] == reverse("mfa_authenticate")
    assert client.get("/admin/").status_code == 302
    code = client.post(reverse("mfa_authenticate"), {"code": sessions.totp_code_of(jff_admin)})
    assert code.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_password_alone_does_not_open_admin(client, jff_admin, admin_enabled):
    sessions.sign_in_with_password_only(client, jff_admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("mfa_reauthenticate"))


def test_admin_needs_a_second_factor_even_for_an_exempt_demo_account(
    client, db, admin_enabled, settings
):
    settings.MFA_EXEMPT_DEMO_ACCOUNTS = True
    demo_admin = factories.StaffFactory(staff_role="jff_admin", is_staff=True, is_demo=True)
    sessions.sign_in_with_password_only(client, demo_admin)
    assert client.get(reverse("grantees:coalition-list")).status_code == 200
    assert client.get("/admin/", follow=True).status_code == 403


def test_admin_needs_is_staff(client, cast, admin_enabled):
    sessions.sign_in(client, cast.officer)
    assert not cast.officer.is_staff
    assert client.get("/admin/", follow=True).status_code == 403


def test_the_admin_door_is_rate_limited(client, jff_admin, admin_enabled):
    # Whatever form the admin door leads to counts failed sign-ins.
    door = client.get("/admin/login/?next=/admin/", follow=True).redirect_chain
    form = door[-1][0] if door else "/admin/login/?next=/admin/"
    fields = {"login": jff_admin.email, "username": jff_admin.email}
    for _ in range(5):
        client.post(form, {**fields, "password": "not-the-password"})
    blocked = client.post(form, {**fields, "password": factories.PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in blocked.content.decode()
