"""Query budgets of the API's lists (issue 14): each answers in at most its budget of
queries, and in the same number with more rows (more coalitions, versions, findings,
roll-ups, events). Counted with a token, after its first use (which writes the audit
entry of first use once)."""

import io
from collections.abc import Callable, Iterator

import pytest
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from bpij import tenancy
from bpij.api import tokens
from reporting import services
from reporting.checks import synthetic
from tests import builders, factories
from tests.test_security_matrix import Graph, build_graph

# Authentication (token, person's coalitions, scope), the view's reads, the audit entry
# where the view writes one (findings).
BUDGET = 12


@pytest.fixture(scope="module")
def graph(django_db_setup, django_db_blocker) -> Iterator[tuple[Graph, dict[str, APIClient]]]:
    with django_db_blocker.unblock(), transaction.atomic():
        with tenancy.system_scope():
            built = build_graph()
            clients = {}
            for who in ("admin_a", "officer"):
                client = APIClient()
                secret = tokens.token_create(user=built.people[who], name="budget")[1]
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
                client.get("/api/v1/coalitions/")  # its first use, audited once
                clients[who] = client
        yield built, clients
        transaction.set_rollback(True)


def queries(client: APIClient, url: str, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


def _more_coalitions(g: Graph) -> None:
    for _ in range(3):
        factories.TargetFactory(grant=factories.GrantFactory(), measure="A-2", value=10)


def _more_versions(g: Graph) -> None:
    builders.checked_version(builders.period_of(g.coalition, "2025Q4"), g.people["admin_a"],
                             participants=4, seed=41)  # fmt: skip


def _more_findings(g: Graph) -> None:
    people, _ = synthetic.generate_files(30, seed=42, error_rate=0.4, period="2025Q3")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.upload_receive(
            submission=g.draft, kind="participants", stream=io.BytesIO(people), name="bad.csv",
            actor=g.people["reporter_a"],
        )  # fmt: skip


CASES: list[tuple[str, str, Callable[[Graph], str], Callable[[Graph], None]]] = [
    ("coalitions", "officer", lambda g: "/api/v1/coalitions/", _more_coalitions),
    (
        "periods",
        "admin_a",
        lambda g: f"/api/v1/coalitions/{g.coalition.code}/periods/",
        _more_versions,
    ),
    (
        "findings",
        "admin_a",
        lambda g: f"/api/v1/submissions/{g.draft.code}/findings/",
        _more_findings,
    ),
    (
        "submission",
        "admin_a",
        lambda g: f"/api/v1/submissions/{g.draft.code}/",
        _more_findings,
    ),
]


@pytest.mark.parametrize(("name", "who", "url", "grow"), CASES, ids=[c[0] for c in CASES])
def test_a_list_reads_a_fixed_number_of_queries(graph, db, name, who, url, grow):
    g, clients = graph
    before = queries(clients[who], url(g))
    with tenancy.system_scope():
        grow(g)
    after = queries(clients[who], url(g))
    assert before <= BUDGET
    assert after == before


def test_the_versions_of_a_quarter_cost_the_same_for_one_or_two(graph, db):
    g, clients = graph
    one = f"/api/v1/coalitions/{g.coalition.code}/periods/2025Q2/submissions/"
    two = f"/api/v1/coalitions/{g.coalition.code}/periods/2025Q3/submissions/"
    assert queries(clients["admin_a"], one) == queries(clients["admin_a"], two) <= BUDGET


def test_roll_ups_cost_the_same_for_none_or_several(graph, db):
    g, clients = graph
    b = g.people["outsider_b"].memberships.get().coalition  # type: ignore[union-attr]
    none = queries(clients["officer"], f"/api/v1/coalitions/{b.code}/rollups/")
    several = queries(clients["officer"], f"/api/v1/coalitions/{g.coalition.code}/rollups/")
    assert none == several <= BUDGET
    program_one = queries(clients["officer"], "/api/v1/program/rollups/", quarter="2025Q1")
    program_all = queries(clients["officer"], "/api/v1/program/rollups/")
    assert program_one == program_all <= BUDGET
