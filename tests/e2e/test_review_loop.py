"""JFF's side of the loop end to end, with a real Redis and a real Celery worker:
certify → the worker rolls up → a coach returns it → the worker e-mails the coalition
and drops the roll-up → the grantee's fix comes back → the officer accepts → the worker
rolls up the accepted version and the program."""

import io

import pytest
import time_machine
from django.urls import reverse

from reporting.checks import synthetic
from reporting.models import ProgramRollup, ReportingPeriod, Rollup, Submission
from reporting.services import periods_ensure
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e


def state_of(submission) -> str:
    return Submission.objects.values_list("state", flat=True).get(pk=submission.pk)


def send_files(client, submission, seed: int) -> None:
    people, jobs = synthetic.generate_files(30, seed=seed, period="2025Q3")
    for kind, data in (("participants", people), ("placements", jobs)):
        payload = io.BytesIO(data)
        payload.name = f"{kind}.csv"
        response = client.post(
            reverse("reporting:upload", args=[submission.code]), {"kind": kind, "file": payload}
        )
        assert response.status_code == 302


def certify(client, submission) -> None:
    response = client.post(
        reverse("reporting:certify", args=[submission.code]),
        {"name": "Avery Admin", "title": "Director", "agreed": "on"},
    )
    assert response.status_code == 302


@time_machine.travel("2025-11-10 09:00 -0500", tick=True)
def test_return_fix_and_accept_through_a_real_worker(cast, client_for, celery_worker_process):
    worker, log = celery_worker_process
    periods_ensure(grant=cast.coalition_a.grants.get())
    period = ReportingPeriod.objects.get(coalition=cast.coalition_a, quarter="2025Q3")
    grantee = client_for(cast.admin_a)
    grantee.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
    first = Submission.objects.get(period=period)
    send_files(grantee, first, seed=3)
    wait_for(lambda: state_of(first) == "ready", log=log)
    certify(grantee, first)
    wait_for(lambda: Rollup.objects.filter(period=period, submission=first).exists(), log=log)
    assert not Rollup.objects.get(period=period).accepted

    # client_for signs the one test client in as each person in turn.
    coach = client_for(cast.coach_a)
    response = coach.post(
        reverse("reporting:submission-return", args=[first.code]),
        {
            "reasons": ["figures"],
            "note": "Completions dropped from last quarter; explain.",
            "confirmed": "yes",  # the review page's modal posts it
        },
    )
    assert response.status_code == 302
    assert state_of(first) == "returned"
    wait_for(lambda: not Rollup.objects.filter(period=period).exists(), log=log)
    wait_for(lambda: "Completions dropped from last quarter" in log.read_text(), log=log)
    grantee = client_for(cast.admin_a)
    page = grantee.get(reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"]))
    assert "Completions dropped from last quarter" in page.content.decode()

    # The fix comes back: version 2 starts from version 1's files, is checked again by
    # the worker, and is certified.
    started = grantee.post(
        reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]),
        follow=True,
    )
    assert not list(started.context["messages"])
    second = Submission.objects.get(period=period, version=2)
    assert second.previous_id == first.pk
    wait_for(lambda: state_of(second) == "ready", log=log)
    certify(grantee, second)
    wait_for(lambda: Rollup.objects.filter(period=period, submission=second).exists(), log=log)

    officer = client_for(cast.officer)
    response = officer.post(
        reverse("reporting:submission-accept", args=[second.code]), {"confirmed": "yes"}
    )
    assert response.status_code == 302
    assert state_of(second) == "accepted"
    wait_for(lambda: Rollup.objects.filter(period=period, accepted=True).exists(), log=log)
    wait_for(
        lambda: ProgramRollup.objects.filter(
            quarter="2025Q3", segment="program", coalitions_reported=1
        ).exists(),
        log=log,
    )
    rollup = Rollup.objects.get(period=period)
    assert rollup.figures["windows"]["current_quarter"]["A-2"] == (
        second.participants.filter(entry_date__lte=period.end_date)
        .exclude(exit_date__lt=period.start_date)
        .count()
    )
    text = log.read_text()
    assert "reporting.tasks.rollup_period" in text
    assert "reporting.tasks.rollup_program" in text
    assert worker.poll() is None
