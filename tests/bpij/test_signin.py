"""Signing in: e-mail as the sign-in name, no open sign-up, rate limits, password reset."""

import re

from django.core import mail
from django.urls import reverse

from tests import factories


def test_people_sign_in_with_their_email_in_any_case(client, cast):
    response = client.post(
        reverse("account_login"), {"login": "Viewer@ALPHA.example", "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.viewer_a.pk)


def test_a_wrong_password_is_refused_with_a_message(client, cast):
    response = client.post(
        reverse("account_login"), {"login": cast.viewer_a.email, "password": "not-it"}
    )
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_there_is_no_open_sign_up(client, db):
    page = client.get(reverse("account_signup"))
    assert "Accounts are by invitation" in page.content.decode()
    client.post(
        reverse("account_signup"),
        {"email": "walk.in@example.org", "password1": "x" * 20, "password2": "x" * 20},
    )
    from bpij.models import User

    assert not User.objects.filter(email="walk.in@example.org").exists()


def test_repeated_failures_for_one_account_are_rate_limited(client, cast):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": cast.viewer_a.email, "password": "nope"})
    blocked = client.post(
        reverse("account_login"), {"login": cast.viewer_a.email, "password": factories.PASSWORD}
    )
    assert "_auth_user_id" not in client.session
    assert blocked.status_code in (200, 429)
    assert "Too many failed login attempts" in blocked.content.decode()


def test_a_forgotten_password_is_reset_through_an_emailed_link(client, cast):
    client.post(reverse("account_reset_password"), {"email": cast.viewer_a.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    form_page = client.get(link.group(1), follow=True)
    new = "Broadband-Splicer-Level-3"
    response = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1),
        {"password1": new, "password2": new},
    )
    assert response.status_code == 302
    cast.viewer_a.refresh_from_db()
    assert cast.viewer_a.check_password(new)


def test_the_health_check_answers_without_a_sign_in(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
