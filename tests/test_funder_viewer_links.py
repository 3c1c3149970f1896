"""Issue 12, item 6: the Federal Project Officer's view. Their coalition dashboard holds
aggregates only, and no page they reach shows a link they cannot use: a walk from their
home page follows every link and meets no 403 or 404."""

import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urldefrag, urljoin, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from bpij.models import StaffRole
from coaching.models import CoachingSession, RiskFlag
from reporting import services
from reporting.models import Submission, SubmissionState
from tests import builders, factories

SKIPPED_PREFIXES = ("/static/", "/accounts/", "/media/")


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links_of(html: str, base: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    out = []
    for href in parser.hrefs:
        url, _ = urldefrag(urljoin(f"http://testserver{base}", href))
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc != "testserver":
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path and not path.startswith(SKIPPED_PREFIXES):
            out.append(path)
    return out


@pytest.fixture
def fpo(db):
    return factories.StaffFactory(email="fpo@dol.example", staff_role=StaffRole.FUNDER_VIEWER)


@pytest.fixture
def program(cast):
    """Alpha's 2025Q2 report is accepted, its 2025Q3 submitted (awaiting acceptance) and
    its 2025Q4 a draft; Bravo's 2025Q2 and 2025Q3 are submitted. Alpha has a coaching
    session and a risk flag."""
    for quarter, seed in (("2025Q2", 1), ("2025Q3", 2)):
        for coalition, admin in (
            (cast.coalition_a, cast.admin_a),
            (cast.coalition_b, cast.outsider_b),
        ):
            version = builders.submitted_version(
                builders.period_of(coalition, quarter), admin, participants=30, seed=seed
            )
            services.rollup_period(period_id=version.period_id, program=False)
        services.rollup_program(quarter=quarter)
    accepted = Submission.objects.get(period__coalition=cast.coalition_a, period__quarter="2025Q2")
    Submission.objects.filter(pk=accepted.pk).update(
        state=SubmissionState.ACCEPTED, accepted_at=timezone.now() - timedelta(days=1)
    )
    services.rollup_period(period_id=accepted.period_id)
    builders.checked_version(builders.period_of(cast.coalition_a, "2025Q4"), cast.admin_a, seed=9)
    # Only Bravo's 2025Q4 counts: the program dashboard lists Alpha as not reported.
    bravo = builders.submitted_version(
        builders.period_of(cast.coalition_b, "2025Q4"), cast.outsider_b, participants=30, seed=3
    )
    services.rollup_period(period_id=bravo.period_id, program=False)
    services.rollup_program(quarter="2025Q4")
    CoachingSession.objects.create(
        coalition=cast.coalition_a,
        held_on=timezone.localdate() - timedelta(days=20),
        kind="call",
        attendees="Ada Admin",
        topics="Shared outreach plan for the spring cohort",
        shared=True,
        created_by=cast.coach_a,
    )
    RiskFlag.objects.create(
        coalition=cast.coalition_a, level="high", reason="Placements lag badly", set_by=cast.coach_a
    )


def walk(client, start: str, *, limit: int = 400) -> tuple[dict[str, int], list[tuple]]:
    """Every page reachable from ``start`` by GET through links; (statuses, broken)."""
    seen: dict[str, int] = {}
    broken = []
    queue = [(start, "(start)")]
    while queue and len(seen) < limit:
        url, source = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code in (403, 404):
            broken.append((source, url, response.status_code))
            continue
        asked = parse_qs(urlsplit(url).query).get("quarter")
        # A link naming a quarter to export leads to a form that offers it.
        offered = asked and f'<option value="{asked[0]}" selected>' in response.content.decode()
        if asked and "/exports/" in url and response.status_code == 200 and not offered:
            broken.append((source, url, "quarter not offered"))
        if response.status_code in (301, 302):
            queue.append((response["Location"], url))
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        for link in links_of(response.content.decode(), url):
            if link not in seen:
                queue.append((link, url))
    return seen, broken


def test_every_link_the_federal_project_officer_is_shown_works(cast, fpo, client_for, program):
    client = client_for(fpo)
    seen, broken = walk(client, reverse("home"))
    assert broken == []
    # The walk reached the pages that matter to them.
    dashboard = reverse("coaching:coalition-dashboard", args=[cast.coalition_a.code])
    assert seen.get(reverse("reporting:program-dashboard")) == 200
    assert seen.get(dashboard) == 200
    assert seen.get(reverse("reporting:program-exports")) == 200
    assert seen.get(reverse("reporting:export-list", args=[cast.coalition_a.code])) == 200


def test_the_dashboard_offers_an_export_only_for_a_quarter_the_exports_page_offers(
    cast, fpo, client_for, program
):
    url = reverse("coaching:coalition-dashboard", args=[cast.coalition_a.code])
    export = reverse("reporting:export-list", args=[cast.coalition_a.code])
    client = client_for(fpo)
    # 2025Q3 awaits acceptance: a Federal Project Officer exports accepted reports only.
    page = client.get(url, {"quarter": "2025Q3"}).content.decode()
    assert f"{export}?quarter=2025Q3" not in page
    assert "awaits JFF&#x27;s acceptance" in page or "awaits JFF's acceptance" in page
    page = client.get(url, {"quarter": "2025Q2"}).content.decode()
    assert f"{export}?quarter=2025Q2" in page
    # Asked for a quarter it does not offer, the exports page says so; one it offers is
    # chosen in the form.
    assert (
        "2025Q3 cannot be exported here"
        in client.get(export, {"quarter": "2025Q3"}).content.decode()
    )
    assert (
        '<option value="2025Q2" selected>'
        in client.get(export, {"quarter": "2025Q2"}).content.decode()
    )
    # A coach exports any quarter whose report counts.
    page = client_for(cast.coach_a).get(url, {"quarter": "2025Q3"}).content.decode()
    assert f"{export}?quarter=2025Q3" in page


def test_the_federal_project_officer_reads_an_aggregates_only_coalition_dashboard(
    cast, fpo, client_for, program
):
    response = client_for(fpo).get(
        reverse("coaching:coalition-dashboard", args=[cast.coalition_a.code])
    )
    assert response.status_code == 200
    page = re.sub(r"\s+", " ", response.content.decode())
    # The figures: progress to targets, trends, indicators, data quality.
    assert "Progress to targets, with pace" in page
    assert "Quarter-over-quarter trends" in page
    assert "WIOA-aligned indicators" in page
    assert "Data quality" in page
    # Nothing about people, coaching or risk, and no report pages.
    assert "Shared outreach plan" not in page
    assert "Placements lag" not in page
    assert "Risk:" not in page
    assert "Latest report" not in page
    assert "Ada Admin" not in page
    assert cast.admin_a.email not in page
    assert cast.coach_a.email not in page
    assert reverse("reporting:period-list", args=[cast.coalition_a.code]) not in page
    assert "/findings/" not in page


def test_the_coalition_page_links_the_federal_project_officer_to_its_dashboard(
    cast, fpo, client_for, program
):
    page = client_for(fpo).get(reverse("grantees:coalition-detail", args=[cast.coalition_a.code]))
    dashboard = reverse("coaching:coalition-dashboard", args=[cast.coalition_a.code])
    assert dashboard in page.content.decode()
