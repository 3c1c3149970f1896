"""The Federal Project Officer reads aggregates only: of JFF's pages, the program
dashboard; never review conversations, coaching notes, the board or reminders."""

import pytest
from django.urls import reverse

from bpij.models import StaffRole
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
    assert client.get(reverse("coaching:coalition-dashboard", args=[code])).status_code == 403
