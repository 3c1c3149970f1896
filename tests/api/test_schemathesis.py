"""Schemathesis against the live schema (issue 14): for every operation, generated
requests (a small example budget) as coalition A's administrator, on A's real objects,
never get a server error nor an answer that does not match the schema.

The schema is the one /api/schema/ serves (checked below), generated at import:
schemathesis's lazy fixture loader does not run under pytest 9, and serving it needs the
database, which collection may not use. Requests go to the WSGI application in-process."""

import io
import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from bpij.api import tokens
from reporting import services
from tests import builders

EXAMPLES = 4


SCHEMA = json.loads(
    OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True))
)
schema = schemathesis.openapi.from_dict(SCHEMA)
schema.app = get_wsgi_application()
# The example budget only: the coverage phase would send every boundary case the schema
# defines (hundreds), which is the nightly fuzzing's job, not the suite's.
schema.config.phases.coverage.enabled = False


def test_the_schema_tested_is_the_one_served(db, client):
    assert client.get("/api/schema/?format=json").json() == SCHEMA


@pytest.fixture
def in_process(db):
    # The WSGI handler closes the database connection after each request; inside the
    # test's transaction it must not (Django's test client keeps it open the same way).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def filer(cast):
    """A's administrator's token, and A's 2025Q3 draft with a file (its checks queued,
    not run: the request's transaction is never committed)."""
    period = builders.period_of(cast.coalition_a, "2025Q3")
    draft = services.submission_start(period=period, actor=cast.admin_a)
    upload, _ = services.upload_receive(
        submission=draft,
        kind="participants",
        stream=io.BytesIO(b"participant_id\nP1\n"),
        name="p.csv",
        actor=cast.admin_a,
    )
    secret = tokens.token_create(user=cast.admin_a, name="schemathesis")[1]
    return {
        "headers": {"Authorization": f"Bearer {secret}"},
        "coalition": str(cast.coalition_a.code),
        "submission": str(draft.code),
        "upload": str(upload.code),
    }


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_answers_generated_requests_as_its_schema_says(case, filer, in_process):
    path = case.operation.path
    if case.path_parameters is not None and "code" in case.path_parameters:
        if path.startswith("/api/v1/coalitions/"):
            case.path_parameters["code"] = filer["coalition"]
        elif path.startswith("/api/v1/uploads/"):
            case.path_parameters["code"] = filer["upload"]
        elif path.startswith("/api/v1/submissions/"):
            case.path_parameters["code"] = filer["submission"]
    if case.path_parameters is not None and "quarter" in case.path_parameters:
        case.path_parameters["quarter"] = "2025Q3"
    case.call_and_validate(
        headers=filer["headers"],
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance],
    )
