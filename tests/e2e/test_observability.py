"""A real worker on a real Redis (issue 13, item 5): it writes a heartbeat that /readyz
and the operations page read, its log lines carry the id of the request that queued the
task, and a task that fails is kept for the operations page with that id."""

import re

import pytest
from django.urls import reverse

from bpij import observability
from reporting import tasks
from reporting.models import ReportingPeriod, Submission
from reporting.services import periods_ensure
from tests.e2e.conftest import wait_for
from tests.e2e.test_check_notices import upload, watch_until_checked
from tests.reporting.checks.cases import csv_bytes, person

pytestmark = pytest.mark.e2e


def test_a_real_worker_is_seen_and_its_task_logs_carry_the_request_that_queued_them(
    cast, client, client_for, celery_worker_process, settings
):
    worker, log = celery_worker_process
    settings.CELERY_TASK_ALWAYS_EAGER = False

    # The worker's heartbeat, written as it starts consuming: /readyz is ready.
    wait_for(lambda: observability.workers_seen(), log=log, what="the worker's heartbeat")
    (seen,) = observability.workers_seen()
    assert seen.fresh
    assert set(seen.queues) == {"celery", "exports"}
    ready = client.get(reverse("readyz"))
    assert ready.status_code == 200, ready.content
    assert ready.json()["checks"]["worker"] == {"ok": True}

    # An upload queues the check; the worker's lines for it carry the upload's request id.
    periods_ensure(grant=cast.coalition_a.grants.get())
    period = ReportingPeriod.objects.get(coalition=cast.coalition_a, quarter="2025Q3")
    reporter = client_for(cast.reporter_a)
    reporter.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
    submission = Submission.objects.get(period=period)
    reporter.defaults["HTTP_X_REQUEST_ID"] = "req-e2e-upload-0001"
    upload(reporter, submission, csv_bytes([person(1), person(2)]), "a.csv")
    del reporter.defaults["HTTP_X_REQUEST_ID"]
    watch_until_checked(reporter, submission, log)

    # The worker writes its lines for the task as it ends it, which can be just after the
    # page shows the result: wait for them.
    def tagged_lines() -> list[str]:
        lines = log.read_text().splitlines()
        return [line for line in lines if "[req-e2e-upload-0001]" in line]

    wait_for(
        lambda: any("check_submission" in line for line in tagged_lines()),
        log=log,
        what="the check's lines with the upload's request id",
    )

    # A task that fails is kept, with the id of what queued it.
    with observability.request_id_bound("req-e2e-fail-0001"):
        tasks.rollup_program.delay("not-a-quarter")

    wait_for(lambda: observability.record_read().failures, log=log, what="the failing task")
    (failure,) = observability.record_read().failures
    assert failure.task == "reporting.tasks.rollup_program"
    assert failure.ids == ["not-a-quarter"]
    assert failure.request_id == "req-e2e-fail-0001"
    assert re.search(r"ERROR celery\.app\.trace \[req-e2e-fail-0001\] Task", log.read_text())
    assert worker.poll() is None
