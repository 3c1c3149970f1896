"""The 403 page says what happened (a page not opened, or a change not made), what to do
and whom to ask — and never that the person can see what they were refused."""

from django.urls import reverse

from reporting import services


def test_a_page_the_role_may_not_open_is_not_said_to_be_visible(cast, client_for):
    response = client_for(cast.coach_a).get(reverse("coaching:assignments"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "can see this page" not in page
    assert "The hub did not open this page" in page
    assert "coach@jff.example" in page
    assert "JFF's program staff change staff roles" in page


def test_a_refused_change_says_nothing_was_changed_and_whom_to_ask(cast, client_for):
    services.periods_ensure(grant=cast.coalition_a.grants.get())
    response = client_for(cast.viewer_a).post(
        reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"])
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "The hub did not make this change, and nothing was changed" in page
    assert "a coalition's administrator changes the roles of its members" in page
