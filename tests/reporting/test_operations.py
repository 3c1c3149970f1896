"""The operations page (issue 13, item 5): queue depths, checks and exports in progress
with their age and whether they are stuck, workers seen, beat runs and failed tasks, for
program officers and JFF administrators only."""

import io
import json
import time
import uuid
from datetime import date, timedelta
from unittest import mock

import pytest
from celery import signals
from django.urls import reverse
from django.utils import timezone

import bpij.celery
from bpij import observability
from bpij.models import StaffRole
from reporting import services, tasks
from reporting.checks import synthetic
from reporting.models import Export, ExportKind, ExportStatus, SubmissionEvent, SubmissionState
from reporting.selectors import operations as selectors
from tests import builders, factories
from tests.reporting.test_ssn_masking_and_limits import leaks

URL = reverse("reporting:operations")


@pytest.fixture
def ops_prefix(settings, monkeypatch):
    """This test's own operational record and queue names, removed afterwards."""
    settings.OPS_KEY_PREFIX = f"test:{uuid.uuid4().hex}:"
    queues = tuple(f"{settings.OPS_KEY_PREFIX}{q}" for q in ("celery", "exports"))
    monkeypatch.setattr(observability, "QUEUES", queues)
    yield settings.OPS_KEY_PREFIX
    client = observability.ops_redis()
    for key in client.scan_iter(match=f"{settings.OPS_KEY_PREFIX}*"):
        client.delete(key)


def checking_version(cast, quarter: str, *, minutes_ago: int):
    """A version of coalition A whose files were sent for checking ``minutes_ago``, with
    no worker to check them (the check is not queued)."""
    submission = services.submission_start(
        period=builders.period_of(cast.coalition_a, quarter), actor=cast.admin_a,
        today=date(2026, 1, 1),
    )  # fmt: skip
    files = synthetic.generate_files(5, seed=1, period=quarter)
    for kind, data in zip(("participants", "placements"), files, strict=True):
        with mock.patch.object(tasks.check_submission, "delay"):
            services.upload_receive(
                submission=submission, kind=kind, stream=io.BytesIO(data),
                name=f"{kind}.csv", actor=cast.admin_a,
            )  # fmt: skip
    submission.refresh_from_db()
    assert submission.state == SubmissionState.CHECKING
    SubmissionEvent.objects.filter(submission=submission, kind="checking").update(
        at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return submission


def export_of(cast, status: str, *, minutes_ago: int, quarter: str = "2025Q1") -> Export:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return Export.objects.create(
        coalition=cast.coalition_a, kind=ExportKind.COALITION_REPORT, quarter=quarter,
        request_key=uuid.uuid4().hex, status=status, requested_by=cast.officer,
        requested_at=at, started_at=at if status == ExportStatus.RENDERING else None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("officer", 200),
        ("jff_admin", 200),
        ("coach_a", 403),
        ("admin_a", 403),
        ("viewer_a", 403),
        ("outsider_b", 403),
        ("fpo", 403),
    ],
)
def test_only_program_officers_and_jff_admins_see_the_operations_page(
    cast, client_for, ops_prefix, who, status
):
    user = factories.StaffFactory(staff_role=StaffRole.FUNDER_VIEWER) if who == "fpo" else cast[who]
    assert client_for(user).get(URL).status_code == status


def test_the_nav_links_the_page_for_those_who_may_open_it(cast, client_for, ops_prefix):
    assert URL in client_for(cast.officer).get(reverse("audit-log")).content.decode()
    board = client_for(cast.coach_a).get(reverse("reporting:board")).content.decode()
    assert URL not in board


def test_checks_in_progress_are_listed_oldest_first_with_their_age_and_the_stuck_ones_marked(
    cast, client_for, settings, ops_prefix
):
    settings.OPS_STUCK_CHECK_SECONDS = 15 * 60
    recent = checking_version(cast, "2025Q1", minutes_ago=3)
    stuck = checking_version(cast, "2025Q2", minutes_ago=125)

    ops = selectors.operations(cast.officer)
    assert [c.submission.pk for c in ops.checks] == [stuck.pk, recent.pk]
    assert [c.stuck for c in ops.checks] == [True, False]
    assert [c.age_text for c in ops.checks] == ["2 h 05 min", "3 min"]

    page = client_for(cast.officer).get(URL).content.decode()
    assert page.count("Alpha Wind Coalition (test)") == 2
    assert "2025Q2 report, version 1" in page
    assert "2 h 05 min" in page
    assert "3 min" in page
    assert "checks in progress, 1 stuck" in page
    assert reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q2"]) in page


def test_exports_waiting_or_rendering_are_listed_with_their_age_and_dead_renders_are_stuck(
    cast, client_for, settings, ops_prefix
):
    settings.EXPORT_TIME_LIMIT = 150
    settings.OPS_STUCK_EXPORT_SECONDS = 600
    waiting = export_of(cast, ExportStatus.QUEUED, minutes_ago=2, quarter="2025Q1")
    dead = export_of(cast, ExportStatus.RENDERING, minutes_ago=30, quarter="2025Q2")
    export_of(cast, ExportStatus.READY, minutes_ago=60, quarter="2025Q3")

    ops = selectors.operations(cast.officer)
    assert [(e.export.pk, e.stuck) for e in ops.exports] == [(dead.pk, True), (waiting.pk, False)]
    page = client_for(cast.officer).get(URL).content.decode()
    assert "10 min waiting, or 150 s rendering" in page
    assert "Stuck (rendering)" in page
    assert "exports waiting or rendering, 1 stuck" in page


def test_queue_depths_and_workers_come_from_redis(cast, client_for, settings, ops_prefix):
    settings.WORKER_HEARTBEAT_MAX_AGE = 60
    redis = observability.ops_redis()
    celery_queue, exports_queue = observability.QUEUES
    redis.rpush(celery_queue, *["{}"] * 7)
    redis.rpush(exports_queue, "{}")
    observability.heartbeat_write(hostname="celery@worker-1", queues=["celery"])
    gone = json.dumps({"at": time.time() - 900, "queues": ["exports"]})
    redis.hset(f"{ops_prefix}workers", "exports@gone", gone)

    record = observability.record_read()
    assert record.queues == {celery_queue: 7, exports_queue: 1}
    assert [(w.hostname, w.fresh) for w in record.workers] == [
        ("celery@worker-1", True),
        ("exports@gone", False),
    ]
    page = client_for(cast.officer).get(URL).content.decode()
    assert '<span class="hub-stat__value">7</span>' in page
    assert "celery@worker-1" in page
    assert "Taking tasks" in page
    assert "exports@gone" in page
    assert "Not answering" in page


def test_a_failed_task_is_kept_with_its_ids_and_error_and_no_ssn(cast, client_for, ops_prefix):
    with (
        mock.patch(
            "reporting.services.rollup_program",
            side_effect=ValueError("figure for 123-45-6789 is not a number"),
        ),
        observability.request_id_bound("req-fail-0001"),
    ):
        # As a worker runs it: the error is the task's result, not raised to the caller
        # (task_always_eager's "propagate" skips Celery's failure handling altogether).
        result = tasks.rollup_program.apply(("2025Q3",), throw=False)
    assert isinstance(result.result, ValueError)

    (failure,) = observability.record_read().failures
    assert failure.task == "reporting.tasks.rollup_program"
    assert failure.ids == ["2025Q3"]
    assert failure.error == "ValueError"
    assert failure.message == "figure for ***-**-6789 is not a number"
    assert failure.request_id == "req-fail-0001"
    page = client_for(cast.officer).get(URL).content.decode()
    assert "reporting.tasks.rollup_program" in page
    assert "figure for ***-**-6789 is not a number" in page
    assert leaks(page) == []


def test_only_the_last_50_failures_are_kept(ops_prefix):
    for i in range(55):
        observability.failure_record(
            task_name="reporting.tasks.check_submission", task_id=str(i), args=(i,),
            exception=RuntimeError(f"failure {i}"),
        )  # fmt: skip
    failures = observability.record_read().failures
    assert len(failures) == 50
    assert failures[0].message == "failure 54"


def test_beat_runs_are_recorded_when_beat_sends_and_when_a_worker_finishes(
    cast, client_for, monkeypatch, ops_prefix
):
    monkeypatch.setattr(bpij.celery, "_in_beat", True)
    signals.before_task_publish.send(sender="reporting.tasks.send_staff_digests", headers={})
    tasks.send_staff_digests.delay()

    beat = {b.task: b for b in observability.record_read().beat}
    digests = beat["reporting.tasks.send_staff_digests"]
    assert digests.sent_at is not None
    assert digests.ran_at is not None
    assert digests.ran_state == "SUCCESS"
    assert beat["reporting.tasks.purge_uploads"].sent_at is None
    page = client_for(cast.officer).get(URL).content.decode()
    assert "send-staff-digests" in page
    assert "success" in page


def test_with_redis_down_the_page_still_shows_the_database_and_says_what_is_missing(
    cast, client_for, settings
):
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    checking_version(cast, "2025Q1", minutes_ago=1)
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    response = client_for(cast.officer).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Redis did not answer (ConnectionError)" in page
    assert "2025Q1 report, version 1" in page


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (59, "59 s"), (60, "1 min"), (3599, "59 min"), (3660, "1 h 01 min"),
     (90000, "1 d 1 h")],
)  # fmt: skip
def test_ages_read_as_a_person_reads_them(seconds, text):
    assert selectors.age_text(seconds) == text


def test_limits_are_shown_exactly():
    assert selectors.limit_text(900) == "15 min"
    assert selectors.limit_text(150) == "150 s"


def test_a_worker_leaving_cleanly_leaves_the_list_and_one_silent_for_a_day_is_forgotten(
    ops_prefix,
):
    redis = observability.ops_redis()
    day_old = json.dumps({"at": time.time() - 25 * 3600, "queues": ["celery"]})
    redis.hset(f"{ops_prefix}workers", "celery@replaced-container", day_old)
    observability.heartbeat_write(hostname="celery@a", queues=["celery"])
    observability.heartbeat_write(hostname="exports@b", queues=["exports"])
    assert [w.hostname for w in observability.workers_seen()] == ["exports@b", "celery@a"]

    # The worker's shutdown step.
    step = bpij.celery.Heartbeat(mock.Mock())
    step.shutdown(mock.Mock(hostname="celery@a"))
    assert [w.hostname for w in observability.workers_seen()] == ["exports@b"]
