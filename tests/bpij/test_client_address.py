"""Behind the proxy (BEHIND_PROXY=true), sign-in rate limits count each client, not the proxy."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests import factories

PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, email: str, password: str, client_address: str):
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        REMOTE_ADDR=PROXY,
        headers={"X-Forwarded-For": client_address},
    )


def test_one_client_failing_behind_the_proxy_does_not_lock_out_the_others(client, cast, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1  # what BEHIND_PROXY=true sets (test_settings.py)
    for attempt in range(12):
        sign_in(client, f"nobody{attempt}@example.org", "wrong", "198.51.100.7")

    response = sign_in(client, cast.viewer_a.email, factories.PASSWORD, "203.0.113.9")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.viewer_a.pk)


def test_the_failing_client_itself_is_held_back(client, cast, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for attempt in range(12):
        sign_in(client, f"nobody{attempt}@example.org", "wrong", "198.51.100.7")

    response = sign_in(client, cast.viewer_a.email, factories.PASSWORD, "198.51.100.7")

    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()
