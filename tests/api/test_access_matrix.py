"""The API access matrix (issue 14), generated from the OpenAPI schema: every operation ×
every role of the fixed cast (+ the Federal Project Officer and B's coach), each with a
personal token, answers as docs/api.md says — another coalition's objects are a 404,
a read-only role's write a 403 — and every operation that names an object answers 404
to coalition A's people when the object is coalition B's.

Built once per module in a transaction rolled back at the end; each case runs in a
savepoint (an accepted version is undone before the next case)."""

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from bpij import tenancy
from bpij.api import tokens
from reporting import services
from reporting.checks import synthetic
from reporting.models import Export, ExportKind, Submission, Upload
from reporting.services import exports
from tests import builders
from tests.test_security_matrix import (
    ALLOWED,
    ANONYMOUS,
    API_FILERS_WRITE,
    API_READ_A,
    API_READ_A_PEOPLE,
    API_SIGNED_IN,
    ROLES,
    Graph,
    _committed,
    build_graph,
    row,
)

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = [
    (path, method.upper(), spec["operationId"])
    for path, methods in SCHEMA["paths"].items()
    for method, spec in methods.items()
]

# What each operation answers each role, with coalition A's objects and an empty body.
EXPECTED: dict[str, dict] = {
    "attestation_retrieve": API_SIGNED_IN,
    "coalitions_list": API_SIGNED_IN,
    "coalitions_retrieve": API_READ_A,
    "coalition_rollups_list": API_READ_A,
    "periods_list": API_READ_A_PEOPLE,
    "submissions_list": API_READ_A_PEOPLE,
    "submissions_create": API_FILERS_WRITE,
    "submissions_retrieve": API_READ_A_PEOPLE,
    "findings_list": API_READ_A_PEOPLE,
    "figures_retrieve": API_READ_A_PEOPLE,
    "uploads_retrieve": API_READ_A_PEOPLE,
    "uploads_create": API_FILERS_WRITE,
    "program_rollups_list": row(
        a=403, coach_a=200, coach_b=200, staff=200, fpo=200, outsider_b=403, anonymous=401
    ),
    "submissions_certify": row(
        admin_a=400,
        reporter_a=403,
        viewer_a=403,
        coach_a=403,
        staff=403,
        fpo=404,
        out=404,
        anonymous=401,
    ),
    "submissions_comment": row(
        admin_a=400,
        reporter_a=400,
        viewer_a=403,
        coach_a=400,
        staff=400,
        fpo=404,
        out=404,
        anonymous=401,
    ),
    "submissions_comments_list": API_READ_A_PEOPLE,
    "submissions_return": row(a=403, coach_a=400, staff=400, fpo=404, out=404, anonymous=401),
    "submissions_accept": row(a=403, coach_a=403, staff=200, fpo=404, out=404, anonymous=401),
    "exports_create": row(a=400, coach_a=400, staff=400, fpo=400, out=400, anonymous=401),
    "exports_retrieve": API_READ_A,
    "exports_download": API_READ_A,
}
# Which of A's (and B's) versions an operation's {submission_code} names.
OBJECT = {
    "/api/v1/submissions/{submission_code}/figures/": "accepted",
    "/api/v1/submissions/{submission_code}/comments/": "sent",
    "/api/v1/submissions/{submission_code}/return/": "sent",
    "/api/v1/submissions/{submission_code}/accept/": "sent",
}
# The path parameters that name an object.
CODES = ("{coalition_code}", "{submission_code}", "{upload_code}", "{export_code}")
A_PEOPLE = ("admin_a", "reporter_a", "viewer_a", "coach_a")


@dataclass
class World:
    graph: Graph
    secrets: dict[str, str]
    b: dict[str, Any]


def _b_objects(graph: Graph) -> dict[str, Any]:
    """Coalition B's own report, file and export: what A's people must never reach."""
    b = graph.people["outsider_b"].memberships.get().coalition  # type: ignore[union-attr]
    sent = _committed(
        lambda: builders.submitted_version(
            builders.period_of(b, "2025Q2"), graph.people["outsider_b"], participants=6, seed=31
        )
    )
    people, _ = synthetic.generate_files(6, seed=32, period="2025Q3")
    draft = services.submission_start(
        period=builders.period_of(b, "2025Q3"), actor=graph.people["outsider_b"]
    )
    upload, _ = _committed(
        lambda: services.upload_receive(
            submission=draft,
            kind="participants",
            stream=io.BytesIO(people),
            name="b.csv",
            actor=graph.people["outsider_b"],
        )
    )
    export = exports.export_request(
        actor=graph.people["officer"],
        kind=ExportKind.COALITION_REPORT,
        quarter="2025Q2",
        coalition=b,
        enqueue=False,
    )
    return {"coalition": b, "sent": sent, "draft": draft, "upload": upload, "export": export}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    with django_db_blocker.unblock(), transaction.atomic():
        with tenancy.system_scope():
            graph = build_graph()
            b = _b_objects(graph)
            secrets = {
                who: tokens.token_create(user=person, name="matrix")[1]
                for who, person in graph.people.items()
                if person is not None
            }
        yield World(graph, secrets, b)
        transaction.set_rollback(True)


def _objects(world: World, which: str) -> dict[str, Any]:
    if which == "a":
        g = world.graph
        return {
            "coalition": g.coalition, "sent": g.sent, "draft": g.draft, "accepted": g.accepted,
            "upload": g.upload, "export": g.export,
        }  # fmt: skip
    return {**world.b, "accepted": world.b["sent"]}


def url_of(path: str, objects: dict[str, Any]) -> str:
    codes = {
        "{coalition_code}": objects["coalition"].code,
        "{submission_code}": objects[OBJECT.get(path, "draft")].code,
        "{upload_code}": objects["upload"].code,
        "{export_code}": objects["export"].code,
        "{quarter}": objects["draft"].period.quarter,
    }
    for parameter, value in codes.items():
        path = path.replace(parameter, str(value))
    return path


def client_of(world: World, who: str) -> APIClient:
    client = APIClient()
    if who != ANONYMOUS:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.secrets[who]}")
    return client


def send(client: APIClient, method: str, url: str):
    return client.generic(method, url, data=b"", content_type="application/json")


def test_every_operation_of_the_schema_has_its_row():
    assert {op for _, _, op in OPERATIONS} == set(EXPECTED)


@pytest.mark.parametrize(
    ("path", "method", "operation", "who"),
    [pytest.param(*op, who, id=f"{op[2]}-{who}") for op in OPERATIONS for who in ROLES],
)
def test_each_operation_answers_each_role(world, db, path, method, operation, who):
    expected = EXPECTED[operation][who]
    allowed = expected if isinstance(expected, frozenset) else {expected}
    response = send(client_of(world, who), method, url_of(path, _objects(world, "a")))
    assert response.status_code in allowed, (response.status_code, _body(response))
    if response.status_code >= 400:
        assert set(response.json()) == {"code", "detail", "fields"}


@pytest.mark.parametrize(
    ("path", "method", "operation", "who"),
    [
        pytest.param(*op, who, id=f"{op[2]}-{who}")
        for op in OPERATIONS
        if any(code in op[0] for code in CODES)
        for who in A_PEOPLE
    ],
)
def test_another_coalitions_objects_do_not_exist_for_a(world, db, path, method, operation, who):
    response = send(client_of(world, who), method, url_of(path, _objects(world, "b")))
    assert response.status_code == 404, (response.status_code, _body(response))
    assert response.json()["code"] == "not_found"


def test_the_write_roles_really_change_things(world, db):
    """ALLOWED in the table is not a refusal in disguise: the officer's accept went
    through, and the administrator's start handed back the open draft."""
    assert {200} <= ALLOWED
    graph = world.graph
    response = send(
        client_of(world, "officer"), "POST", f"/api/v1/submissions/{graph.sent.code}/accept/"
    )
    assert response.json()["state"] == "accepted"
    assert Submission.objects.get(pk=graph.sent.pk).state == "accepted"
    assert Upload.objects.filter(pk=graph.upload.pk).exists()
    assert Export.objects.filter(pk=graph.export.pk).exists()


def _body(response) -> str:
    return response.content[:300].decode(errors="replace")
