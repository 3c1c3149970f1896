"""Content-Security-Policy, Permissions-Policy and no-store on every signed-in page."""

import re
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import Resolver404, resolve, reverse

from coaching import services as coaching
from reporting.models import ExportKind
from reporting.services import exports
from tests import builders, factories, sessions

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


def test_every_page_carries_a_csp_that_allows_only_the_hubs_own_scripts_and_styles(client):
    csp = directives(client.get("/accounts/login/")["Content-Security-Policy"])

    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]


def test_every_page_turns_off_the_browser_features_the_hub_does_not_use(client):
    policy = client.get("/accounts/login/")["Permissions-Policy"]

    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "a" and names.get("href"):
            self.hrefs.append(names["href"])
        if tag == "script" and not names.get("src") and names.get("type") != "application/json":
            self.inline.append(f"<script> without src at {self.getpos()}")
        for name, _ in attrs:
            if name == "style" or re.fullmatch(r"on[a-z]+|hx-on.*", name):
                self.inline.append(f"{name}= on <{tag}> at {self.getpos()}")


@pytest.fixture
def full_coalition(cast, django_capture_on_commit_callbacks):
    """Coalition A with something on every page: a submitted 2025Q3 report, a 2025Q4
    draft with findings, a coaching session with an action item, an export."""
    with django_capture_on_commit_callbacks(execute=True):  # the roll-up of the submission
        builders.submitted_version(builders.period_of(cast.coalition_a, "2025Q3"), cast.admin_a)
    builders.checked_version(
        builders.period_of(cast.coalition_a, "2025Q4"), cast.reporter_a, error_rate=0.1
    )
    coaching.session_log(
        coalition=cast.coalition_a,
        actor=cast.coach_a,
        held_on=date(2025, 11, 3),
        kind="call",
        attendees="Ada Admin",
        topics="Placements",
        shared=True,
        items=[coaching.ItemInput(title="Send the MOU", due_on=date(2025, 12, 1))],
    )
    exports.export_request(
        actor=cast.officer,
        kind=ExportKind.COALITION_REPORT,
        quarter="2025Q3",
        coalition=cast.coalition_a,
        enqueue=False,
    )
    return cast


# Enough of each kind of page to meet every template, not every row of every list.
PAGES_PER_ROUTE = 3
# Pages whose GET would end the session or leave the hub.
NOT_WALKED = ("/accounts/logout/",)


# allauth's own pages that no link in the hub's navigation may lead to.
ACCOUNT_PAGES = ["/accounts/email/", "/accounts/password/change/", "/accounts/2fa/"]


def walk(client):
    """Every page reachable by following links from the home page (and allauth's account
    pages), as this person."""
    seen: set[str] = set()
    per_route: dict[str, int] = {}
    queue = ["/", *ACCOUNT_PAGES]
    while queue:
        url = queue.pop(0)
        if url in seen or url.startswith(NOT_WALKED):
            continue
        seen.add(url)
        try:
            route = resolve(urlsplit(url).path).route
        except Resolver404:
            continue
        per_route[route] = per_route.get(route, 0) + 1
        if per_route[route] > PAGES_PER_ROUTE:
            continue
        response = client.get(url)
        yield url, route, response
        if response.status_code in (301, 302):
            queue.append(urljoin(url, response["Location"]))
        elif response.get("Content-Type", "").startswith("text/html"):
            parser = _Links()
            parser.feed(response.content.decode())
            for href in parser.hrefs:
                target = urljoin(url, href.split("#")[0])
                if target.startswith("/") and not target.startswith("/static/"):
                    queue.append(target)


@pytest.mark.parametrize(
    "person", ["admin_a", "reporter_a", "viewer_a", "coach_a", "officer", "jff_admin"]
)
def test_every_page_a_signed_in_person_can_open_is_no_store_and_has_no_inline_script_or_style(
    full_coalition, client_for, person
):
    client = client_for(full_coalition[person])

    opened, cached, inline = [], [], []
    for url, route, response in walk(client):
        opened.append(route)
        if response.status_code == 200:
            cache_control = response.get("Cache-Control", "")
            if "no-store" not in cache_control or "private" not in cache_control:
                cached.append(f"{url}: {cache_control!r}")
            if response.get("Content-Type", "").startswith("text/html"):
                parser = _Links()
                parser.feed(response.content.decode())
                inline += [f"{url}: {what}" for what in parser.inline]

    assert len(opened) > 10, opened
    assert cached == []
    assert inline == []


def test_the_walk_reaches_the_pages_the_review_found_cached(full_coalition, client_for):
    routes = {route for _, route, _ in walk(client_for(full_coalition.officer))}
    routes |= {route for _, route, _ in walk(client_for(full_coalition.coach_a))}

    for page in (
        "audit/",
        "<uuid:coalition_code>/members/",
        "board/",
        "board/export.<str:fmt>",
        "reminders/",
        "sessions/<uuid:session_code>/",
        "submissions/<uuid:submission_code>/findings/",
    ):
        assert any(route.endswith(page) for route in routes), (page, sorted(routes))


def test_a_signed_in_page_is_never_stored_and_varies_with_the_cookie(client_for, cast):
    response = client_for(cast.viewer_a).get(f"/coalitions/{cast.coalition_a.code}/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_the_two_step_set_up_page_has_no_inline_script_or_style(client, db):
    newcomer = factories.StaffFactory(email="new.officer@jff.example", mfa=False)

    response = sessions.sign_in_with_password_only(client, newcomer).get("/", follow=True)

    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    page = response.content.decode()
    assert 'src="data:image/svg+xml' in page  # the QR code: img-src allows data:
    parser = _Links()
    parser.feed(page)
    assert parser.inline == []
    assert "no-store" in response["Cache-Control"]
