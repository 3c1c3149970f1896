"""docs/api.md's walk-through with a real Redis and a real Celery worker: a coalition's
system, with a personal token only, starts the report, uploads both files, polls until
the worker has checked them, reads the findings, fixes the file, and certifies."""

import io

import pytest
import time_machine
from rest_framework.test import APIClient

from reporting.services import periods_ensure
from tests.api.conftest import token_client
from tests.e2e.conftest import wait_for
from tests.reporting.checks.cases import csv_bytes, job, person

pytestmark = pytest.mark.e2e

V1 = "/api/v1"


def send(client: APIClient, submission: str, kind: str, content: bytes, name: str) -> str:
    payload = io.BytesIO(content)
    payload.name = name
    response = client.post(
        f"{V1}/submissions/{submission}/uploads/", {"kind": kind, "file": payload},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 202, response.json()
    assert response.json()["upload"]["checking"] is True
    return response.json()["upload"]["code"]


def checked(client: APIClient, upload: str) -> bool:
    return client.get(f"{V1}/uploads/{upload}/").json()["checking"] is False


@time_machine.travel("2025-10-20 09:00 -0400", tick=True)
def test_a_report_filed_through_the_api_with_a_real_worker(cast, celery_worker_process):
    worker, log = celery_worker_process
    periods_ensure(grant=cast.coalition_a.grants.get())
    client = token_client(cast.admin_a)
    coalition = client.get(f"{V1}/coalitions/").json()["results"][0]["code"]
    started = client.post(f"{V1}/coalitions/{coalition}/periods/2025Q3/submissions/")
    assert started.status_code == 201
    submission = started.json()["code"]

    bad = [person(1), person(2, exit_date="20240101"), person(3)]
    people = send(client, submission, "participants", csv_bytes(bad), "people.csv")
    send(client, submission, "placements", csv_bytes([job(1), job(3)]), "jobs.csv")
    wait_for(lambda: checked(client, people), log=log)
    detail = client.get(f"{V1}/submissions/{submission}/").json()
    assert detail["state"] == "needs_fixes"
    assert detail["finding_totals"]["errors"] == 1
    errors = client.get(f"{V1}/submissions/{submission}/findings/", {"severity": "error"}).json()
    assert [(f["rule"], f["row"], f["column"]) for f in errors["results"]] == [
        ("L01", 3, "exit_date")
    ]

    fixed = send(client, submission, "participants",
                 csv_bytes([person(1), person(2), person(3)]), "people-fixed.csv")  # fmt: skip
    wait_for(lambda: checked(client, fixed), log=log)
    assert client.get(f"{V1}/submissions/{submission}/").json()["state"] == "ready"

    certified = client.post(
        f"{V1}/submissions/{submission}/certify/",
        # person()'s rows hold nothing dated in 2025Q3: the administrator confirms them.
        {"name": "Avery Admin", "title": "Director", "agreed": True, "confirmed": True},
        format="json",
    )
    assert certified.status_code == 200, certified.json()
    assert certified.json()["state"] == "submitted"
    assert "Task reporting.tasks.check_submission" in log.read_text()
    assert worker.poll() is None
