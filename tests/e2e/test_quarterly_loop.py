"""The grantee's quarterly loop end to end, with a real Redis and a real Celery worker:
upload → the worker checks → findings → fix → the worker checks again → certify."""

import io

import pytest
import time_machine
from django.urls import reverse

from reporting.models import Finding, ParticipantRecord, ReportingPeriod, Submission
from reporting.services import periods_ensure
from tests.e2e.conftest import wait_for
from tests.reporting.checks.cases import csv_bytes, job, person

pytestmark = pytest.mark.e2e


def upload(client, submission, kind, content: bytes, name: str):
    payload = io.BytesIO(content)
    payload.name = name
    response = client.post(
        reverse("reporting:upload", args=[submission.code]), {"kind": kind, "file": payload}
    )
    assert response.status_code == 302


def state_of(submission) -> str:
    return Submission.objects.values_list("state", flat=True).get(pk=submission.pk)


@time_machine.travel("2025-10-20 09:00 -0400", tick=True)
def test_upload_findings_fix_certify_through_a_real_worker(cast, client_for, celery_worker_process):
    worker, log = celery_worker_process
    periods_ensure(grant=cast.coalition_a.grants.get())
    period = ReportingPeriod.objects.get(coalition=cast.coalition_a, quarter="2025Q3")
    client = client_for(cast.admin_a)
    detail = reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"])
    client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
    submission = Submission.objects.get(period=period)

    bad = [person(1), person(2, exit_date="20240101"), person(3)]
    upload(client, submission, "participants", csv_bytes(bad), "people.csv")
    upload(client, submission, "placements", csv_bytes([job(1), job(3)]), "jobs.csv")
    wait_for(lambda: state_of(submission) == "needs_fixes", log=log)

    findings = list(
        Finding.objects.filter(upload__submission=submission).values_list("code", "row")
    )
    assert ("L01", 3) in findings
    assert ParticipantRecord.objects.filter(submission=submission).count() == 2
    page = client.get(detail).content.decode()
    assert "1 error" in page

    upload(
        client,
        submission,
        "participants",
        csv_bytes([person(1), person(2), person(3)]),
        "people-fixed.csv",
    )
    wait_for(lambda: state_of(submission) == "ready", log=log)
    assert not Finding.objects.filter(
        upload__submission=submission, upload__is_current=True, severity="error"
    ).exists()
    assert ParticipantRecord.objects.filter(submission=submission).count() == 3

    response = client.post(
        reverse("reporting:certify", args=[submission.code]),
        # person()'s rows hold nothing dated in 2025Q3: the administrator confirms them.
        {"name": "Avery Admin", "title": "Director", "agreed": "on", "confirmed": "on"},
    )
    assert response.status_code == 302
    assert state_of(submission) == "submitted"
    assert "Certified by" in client.get(detail).content.decode()
    assert "Task reporting.tasks.check_submission" in log.read_text()
    assert worker.poll() is None
