"""Idle and absolute session timeouts, enforced by the server (bpij.security)."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.utils import timezone

from reporting import services
from tests import builders

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def coalition_page(cast) -> str:
    return f"/coalitions/{cast.coalition_a.code}/"


def test_a_grantee_idle_for_30_minutes_is_signed_out_with_a_message(clock, cast, client_for):
    client = client_for(cast.viewer_a)
    assert client.get(coalition_page(cast)).status_code == 200

    clock.shift(30 * MINUTE + timedelta(seconds=1))
    response = client.get(coalition_page(cast))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "_auth_user_id" not in client.session
    assert "after 30 minutes without activity" in str(list(get_messages(response.wsgi_request)))


def test_a_grantee_active_within_30_minutes_stays_signed_in(clock, cast, client_for):
    client = client_for(cast.viewer_a)
    for _ in range(3):
        clock.shift(25 * MINUTE)
        assert client.get(coalition_page(cast)).status_code == 200


def test_jff_staff_are_signed_out_after_15_idle_minutes(clock, cast, client_for):
    client = client_for(cast.officer)
    assert client.get(coalition_page(cast)).status_code == 200

    clock.shift(14 * MINUTE)
    assert client.get(coalition_page(cast)).status_code == 200
    clock.shift(15 * MINUTE + timedelta(seconds=1))

    assert client.get(coalition_page(cast)).status_code == 302


def test_the_idle_timeouts_come_from_settings(clock, cast, client_for, settings):
    settings.SESSION_IDLE_TIMEOUT_GRANTEE = 120
    client = client_for(cast.viewer_a)

    clock.shift(timedelta(seconds=121))

    assert client.get(coalition_page(cast)).status_code == 302


def test_however_active_a_session_ends_12_hours_after_sign_in(clock, cast, client_for):
    client = client_for(cast.viewer_a)
    for _ in range(12 * 60 // 20):
        clock.shift(20 * MINUTE)
        client.get(coalition_page(cast))

    clock.shift(20 * MINUTE)
    response = client.get(coalition_page(cast))

    assert response.status_code == 302
    assert "signed in more than 12 hours ago" in str(list(get_messages(response.wsgi_request)))


def test_htmx_polls_do_not_keep_a_session_alive(clock, cast, client_for):
    period = builders.period_of(cast.coalition_a, "2025Q3")
    submission = services.submission_start(period=period, actor=cast.admin_a, today=period.end_date)
    client = client_for(cast.coach_a)
    poll = f"/submissions/{submission.code}/status/"
    for _ in range(14):
        clock.shift(MINUTE)
        assert client.get(poll, headers={"HX-Request": "true"}).status_code == 200

    clock.shift(MINUTE + timedelta(seconds=1))
    page = "http://testserver/coalitions/x/reports/2025Q3/"
    response = client.get(poll, headers={"HX-Request": "true", "HX-Current-URL": page})

    assert (
        response["HX-Redirect"] == "/accounts/login/?next=%2Fcoalitions%2Fx%2Freports%2F2025Q3%2F"
    )
    assert "_auth_user_id" not in client.session


def test_every_signed_in_answer_says_how_long_the_session_has_left(clock, cast, client_for):
    client = client_for(cast.viewer_a)
    clock.shift(10 * MINUTE)

    response = client.get(coalition_page(cast), headers={"HX-Request": "true"})

    assert response["X-Session-Expires-In"] == str(30 * 60)
    assert 'data-session-expires-in="1800"' in client.get(coalition_page(cast)).content.decode()


def test_asking_how_long_is_left_is_not_activity(clock, cast, client_for):
    client = client_for(cast.viewer_a)
    clock.shift(29 * MINUTE)

    assert client.get("/session/").json() == {"expires_in": 60}

    clock.shift(MINUTE + timedelta(seconds=1))
    response = client.get("/session/")
    assert response.status_code == 401
    assert response.json()["expires_in"] == 0


def test_staying_signed_in_from_the_warning_restarts_the_idle_time(clock, cast, client_for):
    client = client_for(cast.viewer_a)
    clock.shift(29 * MINUTE)

    assert client.post("/session/").json() == {"expires_in": 30 * 60}

    clock.shift(29 * MINUTE)
    assert client.get(coalition_page(cast)).status_code == 200


def test_staying_signed_in_needs_the_csrf_token(cast, client_for):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.viewer_a)

    assert client.post("/session/").status_code == 403


def test_the_warning_is_on_every_signed_in_page_but_not_the_sign_in_page(cast, client, client_for):
    assert 'id="session-warning"' not in client.get("/accounts/login/").content.decode()

    page = client_for(cast.viewer_a).get(coalition_page(cast)).content.decode()

    assert 'id="session-warning"' in page
    assert "Stay signed in" in page
