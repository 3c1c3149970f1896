"""Every list and home page reads a fixed number of queries, however many coalitions,
members or grants there are."""

import pytest
from django.urls import reverse

from grantees.models import MemberRole
from tests import factories


def add_coalitions(count, coach):
    for _ in range(count):
        grant = factories.GrantFactory()
        factories.TargetFactory(grant=grant)
        factories.CoachAssignmentFactory(coalition=grant.coalition, coach=coach)
        factories.MembershipFactory(coalition=grant.coalition, role=MemberRole.ADMIN)


def count_queries(client, url, django_assert_max_num_queries, budget):
    client.get(url)  # warm the session and MFA flag
    with django_assert_max_num_queries(budget) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("who", "url_name", "budget"),
    [
        ("officer", "grantees:coalition-list", 8),
        ("coach_a", "grantees:coalition-list", 8),
        ("coach_a", "coaching:home", 8),
        ("jff_admin", "grantees:user-list", 10),
    ],
)
def test_list_pages_do_not_grow_with_the_number_of_coalitions(
    cast, client_for, django_assert_max_num_queries, who, url_name, budget
):
    client = client_for(cast[who])
    url = reverse(url_name)
    before = count_queries(client, url, django_assert_max_num_queries, budget)
    add_coalitions(25, cast.coach_a)
    after = count_queries(client, url, django_assert_max_num_queries, budget)
    assert after == before


@pytest.mark.parametrize("url_name", ["grantees:coalition-detail", "grantees:member-list"])
def test_coalition_pages_do_not_grow_with_members_or_targets(
    cast, client_for, django_assert_max_num_queries, url_name
):
    client = client_for(cast.admin_a)
    url = reverse(url_name, args=[cast.coalition_a.code])
    before = count_queries(client, url, django_assert_max_num_queries, 12)
    for _ in range(15):
        factories.MembershipFactory(coalition=cast.coalition_a, role=MemberRole.VIEWER)
    for measure in ["C-1", "C-3", "C-4", "D-1", "D-2", "D-5"]:
        factories.TargetFactory(grant=cast.coalition_a.grants.get(), measure=measure, value=100)
    after = count_queries(client, url, django_assert_max_num_queries, 12)
    assert after == before


def test_the_filtered_list_shows_only_matching_coalitions(cast, client_for):
    client = client_for(cast.officer)
    url = reverse("grantees:coalition-list")
    by_state = client.get(url, {"state": "TX"}).content.decode()
    assert cast.coalition_b.name in by_state
    assert cast.coalition_a.name not in by_state
    by_sector = client.get(url, {"sector": "broadband"}).content.decode()
    assert cast.coalition_b.name in by_sector
    assert cast.coalition_a.name not in by_sector
    by_text = client.get(url, {"q": "alpha"}).content.decode()
    assert cast.coalition_a.name in by_text
    assert cast.coalition_b.name not in by_text
    none = client.get(url, {"q": "zzz-no-such"}).content.decode()
    assert "No coalition matches these filters" in none


def test_htmx_filtering_returns_only_the_results(cast, client_for):
    response = client_for(cast.officer).get(
        reverse("grantees:coalition-list"), {"state": "TX"}, HTTP_HX_REQUEST="true"
    )
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="results"')
    assert cast.coalition_b.name in text
