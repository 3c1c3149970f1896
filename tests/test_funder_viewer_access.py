"""The Federal Project Officer reads aggregates only: of JFF's pages, the program
dashboard; never review conversations, coaching notes, the board or reminders."""

import pytest
from django.urls import reverse

from bpij.models import StaffRole
from reporting.models import Submission
from tests import builders, factories


@pytest.fixture
def fpo(db):
    return factories.StaffFactory(email="fpo@dol.example", staff_role=StaffRole.FUNDER_VIEWER)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("reporting:program-dashboard", 200),
        ("reporting:board", 403),
        ("reporting:reminder-list", 403),
        ("reporting:review-queue", 403),
        ("coaching:overview", 403),
        ("coaching:assignments", 403),
        ("coaching:home", 403),
    ],
)
def test_the_funder_viewer_sees_only_aggregate_pages(cast, fpo, client_for, name, expected):
    assert client_for(fpo).get(reverse(name)).status_code == expected


def test_the_funder_viewer_reads_no_review_page_or_coaching_record(cast, fpo, client_for):
    period = builders.period_of(cast.coalition_a, "2025Q3")
    submission = builders.submitted_version(period, cast.admin_a)
    client = client_for(fpo)
    code = cast.coalition_a.code
    # Submissions are not among the rows a Federal Project Officer may read at all.
    review = reverse("reporting:submission-review", args=[submission.code])
    assert client.get(review).status_code == 404
    assert client.get(reverse("coaching:coalition", args=[code])).status_code == 403
    # Their coalition dashboard holds aggregates only (tests/test_funder_viewer_links.py).
    assert client.get(reverse("coaching:coalition-dashboard", args=[code])).status_code == 200


def test_the_funder_viewer_reads_no_report_page_drafts_included(cast, fpo, client_for):
    """A draft's page showed its narrative, file names and uploaders to the Federal
    Project Officer; report pages are made of submissions, which are not theirs."""
    period = builders.period_of(cast.coalition_b, "2025Q3")
    draft = builders.checked_version(period, cast.outsider_b)
    Submission.objects.filter(pk=draft.pk).update(narrative_progress="Jo Smith restarted.")
    client = client_for(fpo)
    code = cast.coalition_b.code
    detail = client.get(reverse("reporting:period-detail", args=[code, "2025Q3"]))
    assert detail.status_code == 404
    assert b"Jo Smith" not in detail.content
    assert client.get(reverse("reporting:period-list", args=[code])).status_code == 404
    # The coalition's own page leaves out what would read as "none" to them.
    page = client.get(reverse("grantees:coalition-detail", args=[code]))
    assert page.status_code == 200
    assert reverse("reporting:period-list", args=[code]).encode() not in page.content
    assert b"Not assigned yet" not in page.content


def test_the_report_pages_stay_open_to_the_coalition_and_jff(cast, client_for):
    period = builders.period_of(cast.coalition_a, "2025Q3")
    builders.checked_version(period, cast.admin_a)
    url = reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"])
    for who in ("viewer_a", "coach_a", "officer"):
        assert client_for(cast[who]).get(url).status_code == 200, who
