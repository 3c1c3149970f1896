"""Issue 13, item 1: work that cannot be lost or stuck (docs/operations.md, "Lost and
stuck work"). In-process: Celery's configuration, a broker that refuses connections
(Redis down) for the actions that commit, the sweeper, the attempts and "Check again",
the database errors retried, and eight "Start report" at once. The real worker and
Redis fault modes are in tests/e2e/test_lost_and_stuck_work.py."""

import contextlib
import io
import socket
import threading
from datetime import timedelta

import kombu.pools
import pytest
import time_machine
from django.core import mail
from django.db import OperationalError, connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bpij import tenancy
from bpij.cache import ResilientRedisCache
from bpij.celery import app as celery_app
from reporting import services, tasks
from reporting.models import (
    ExportStatus,
    ParticipantRecord,
    Rollup,
    Submission,
    SubmissionEvent,
    SubmissionState,
    Upload,
)
from reporting.services import recovery
from tests.builders import period_of
from tests.reporting.checks.cases import csv_bytes
from tests.reporting.test_certify import CURRENT, ready

PEOPLE = csv_bytes(CURRENT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _new_pool() -> None:
    """Connections to the broker now configured, not the one before."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()


@contextlib.contextmanager
def redis_down():
    """Tasks go to a Redis that is not there (connection refused), as when Redis is
    down in production: nothing runs in-process."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    _new_pool()
    conf.task_always_eager = False
    conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    try:
        yield
    finally:
        _new_pool()
        conf.task_always_eager, conf.broker_url = saved


@pytest.fixture
def broker_down():
    with redis_down():
        yield


@pytest.fixture
def q3(cast):
    return period_of(cast.coalition_a, "2025Q3")


def upload(client, submission, content: bytes = PEOPLE, kind="participants", name="people.csv"):
    payload = io.BytesIO(content)
    payload.name = name
    return client.post(
        reverse("reporting:upload", args=[submission.code]), {"kind": kind, "file": payload}
    )


def sweep(captured) -> recovery.Swept:
    with captured(execute=True), tenancy.system_scope():
        return recovery.sweep()


# -- Celery as its own guidance says for at-least-once ---------------------------------


def test_celery_is_configured_for_at_least_once_delivery_and_short_broker_timeouts(settings):
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    options = conf.broker_transport_options
    # Sized to the longest task, not Redis' default hour.
    assert settings.CELERY_TASK_TIME_LIMIT < options["visibility_timeout"] < 3600
    assert options["visibility_timeout"] > settings.EXPORT_TIME_LIMIT
    # A stalled or down Redis answers within seconds.
    assert options["socket_timeout"] <= 5
    assert options["socket_connect_timeout"] <= 5
    assert conf.broker_connection_timeout <= 5
    assert conf.task_publish_retry_policy["max_retries"] <= 2
    for task in (
        tasks.check_submission,
        tasks.rollup_period,
        tasks.rollup_program,
        tasks.render_export,
    ):
        names = {error.__name__ for error in task.autoretry_for}
        assert names >= {"OperationalError", "InterfaceError"}, task.name
        assert task.retry_backoff
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["reporting.tasks.sweep_stuck_work"] == 60.0
    assert "reporting.tasks.rebuild_rollups" in schedule


# -- Redis down: what committed answers success, and is picked up later ------------------


def test_with_redis_down_an_upload_is_stored_and_checked_once_redis_is_back(
    cast, client_for, period_a, broker_down, django_capture_on_commit_callbacks
):
    client = client_for(cast.reporter_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
        response = upload(client, Submission.objects.get(period=period_a))
    assert response.status_code == 302
    submission = Submission.objects.get(period=period_a)
    assert submission.state == SubmissionState.CHECKING
    assert submission.check_queued_at is None  # not sent: the sweeper's to-do
    assert Upload.objects.filter(submission=submission, is_current=True).count() == 1

    # Redis is back: the next sweep sends it (run in-process here).
    celery_app.conf.task_always_eager = True
    swept = sweep(django_capture_on_commit_callbacks)
    assert swept.checks_sent == [submission.pk]
    submission.refresh_from_db()
    assert submission.state == SubmissionState.READY
    assert submission.check_attempts == 1
    assert ParticipantRecord.objects.filter(submission=submission).count() == len(CURRENT)


def test_with_redis_down_a_certification_is_reported_as_done_and_rolled_up_later(
    cast, client_for, q3, settings, django_capture_on_commit_callbacks
):
    with time_machine.travel("2025-10-20 10:00 -0400", tick=True):
        client = client_for(cast.admin_a)
        submission = ready(q3, cast.admin_a)
        with redis_down(), django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("reporting:certify", args=[submission.code]),
                {"name": "Ada Admin", "title": "Director", "agreed": "on"},
                follow=True,
            )
        assert response.status_code == 200
        assert "could not" not in response.content.decode().lower()
        submission.refresh_from_db()
        assert submission.state == SubmissionState.SUBMITTED
        q3.refresh_from_db()
        assert q3.rollup_due_at is not None
        assert not Rollup.objects.filter(period=q3).exists()

        settings.ROLLUP_REQUEUE_AFTER = 0
        swept = sweep(django_capture_on_commit_callbacks)
        assert swept.rollups_sent == [q3.pk]
        q3.refresh_from_db()
        assert q3.rollup_due_at is None
        assert Rollup.objects.get(period=q3).submission_id == submission.pk
        # Paid: the next sweep sends nothing.
        assert not sweep(django_capture_on_commit_callbacks)


def test_with_redis_down_sign_in_and_the_cache_keep_answering(client, cast, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "bpij.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    page = client.get(reverse("account_login"))
    assert page.status_code == 200
    response = client.post(
        reverse("account_login"), {"login": cast.reporter_a.email, "password": "wrong"}
    )
    assert response.status_code in (200, 400)


def test_the_resilient_cache_falls_back_to_the_process_and_back_to_redis():
    down = ResilientRedisCache(
        f"redis://127.0.0.1:{free_port()}/0",
        {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}},
    )
    assert down.get("missing") is None
    down.set("k", 1)
    assert down.get("k") == 1  # from the process's own cache
    assert down.add("a", 1) is True
    assert down.incr("a") == 2


# -- The sweeper: deadlines, attempts, the failed state and "Check again" -------------------


def test_a_check_past_its_deadline_is_sent_again_and_given_up_after_its_attempts(
    cast, client_for, period_a, settings, django_capture_on_commit_callbacks
):
    client = client_for(cast.reporter_a)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
        upload(client, Submission.objects.get(period=period_a))
    submission = Submission.objects.get(period=period_a)
    assert submission.state == SubmissionState.CHECKING
    # Within its deadline: left alone (a worker may be on it).
    assert not sweep(django_capture_on_commit_callbacks)

    # A worker took it twice and died each time; past the deadline, attempts left: sent.
    late = timezone.now() - timedelta(seconds=settings.CHECK_REQUEUE_AFTER + 1)
    Submission.objects.filter(pk=submission.pk).update(check_queued_at=late, check_attempts=2)
    with django_capture_on_commit_callbacks(execute=False) as sent, tenancy.system_scope():
        swept = recovery.sweep()
    assert swept.checks_sent == [submission.pk]
    assert len(sent) == 1
    # At most once: the deadline moved with the claim, a second sweep sends nothing.
    assert not sweep(django_capture_on_commit_callbacks)

    # That third attempt died too: the next sweep past the deadline gives up.
    Submission.objects.filter(pk=submission.pk).update(
        check_queued_at=late, check_attempts=settings.CHECK_MAX_ATTEMPTS
    )
    mail.outbox.clear()
    swept = sweep(django_capture_on_commit_callbacks)
    assert swept.checks_failed == [submission.pk]
    submission.refresh_from_db()
    assert submission.state == SubmissionState.DRAFT
    assert submission.check_failed_at is not None
    event = SubmissionEvent.objects.filter(submission=submission).latest("at", "id")
    assert event.kind == "check_failed"
    assert event.note.startswith(
        "We could not check this file. It is kept; try again, or contact JFF if it happens again."
    )
    [message] = mail.outbox
    assert message.to == [cast.reporter_a.email]

    # The page says so and offers "Check again", which checks the same stored file.
    detail = reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"])
    page = client.get(detail).content.decode()
    assert "We could not check this file. It is kept; try again, or contact JFF" in page
    assert reverse("reporting:check-again", args=[submission.code]) in page
    assert 'hx-trigger="every 1s"' not in page  # nothing left polling
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reporting:check-again", args=[submission.code]))
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.state == SubmissionState.READY
    assert submission.check_failed_at is None
    assert submission.check_attempts == 1
    asked = SubmissionEvent.objects.get(submission=submission, kind="check_again")
    assert asked.actor == cast.reporter_a
    assert Upload.objects.filter(submission=submission).count() == 1  # not stored again


def test_check_again_is_for_those_who_may_edit_and_only_for_unchecked_files(
    cast, client_for, period_a, django_capture_on_commit_callbacks
):
    client = client_for(cast.reporter_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
        upload(client, Submission.objects.get(period=period_a))
    submission = Submission.objects.get(period=period_a)
    assert submission.state == SubmissionState.READY
    response = client.post(reverse("reporting:check-again", args=[submission.code]), follow=True)
    assert "there are no unchecked files to check again" in response.content.decode()
    viewer = client_for(cast.viewer_a)
    assert viewer.post(reverse("reporting:check-again", args=[submission.code])).status_code == 403


def test_a_database_error_during_the_check_is_retried_not_given_up(
    cast, client_for, period_a, monkeypatch, django_capture_on_commit_callbacks
):
    real = services.submission_check
    calls = []

    def cut_once(*, submission_id):
        calls.append(submission_id)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return real(submission_id=submission_id)

    monkeypatch.setattr(services, "submission_check", cut_once)
    client = client_for(cast.reporter_a)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("reporting:submission-start", args=[cast.coalition_a.code, "2025Q3"]))
        upload(client, Submission.objects.get(period=period_a))
    # What the worker does: a retry (autoretry_for) runs the task again.
    pk = Submission.objects.get(period=period_a).pk
    tasks.check_submission.apply(args=[pk], throw=False)
    submission = Submission.objects.get(period=period_a)
    assert len(calls) == 2
    assert submission.state == SubmissionState.READY
    assert submission.check_attempts == 2
    assert submission.check_failed_at is None
    assert ParticipantRecord.objects.filter(submission=submission).count() == len(CURRENT)


def test_an_export_request_with_redis_down_stays_queued_and_the_sweeper_sends_it(
    cast, q3, settings, django_capture_on_commit_callbacks, broker_down
):
    with time_machine.travel("2025-10-20 10:00 -0400", tick=True):
        celery_app.conf.task_always_eager = True
        submission = ready(q3, cast.admin_a)
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.submission_certify(
                submission=submission, actor=cast.admin_a, name="Ada Admin", title="", agreed=True
            )
        celery_app.conf.task_always_eager = False
        with django_capture_on_commit_callbacks(execute=True):
            export = services.export_request(
                actor=cast.officer, kind="coalition_report", quarter="2025Q3",
                coalition=cast.coalition_a,
            )  # fmt: skip
        export.refresh_from_db()
        assert export.status == ExportStatus.QUEUED
        assert export.queued_at is None
        celery_app.conf.task_always_eager = True
        with django_capture_on_commit_callbacks(execute=False) as sent, tenancy.system_scope():
            swept = recovery.sweep()
        assert swept.exports_sent == [export.pk]
        assert len(sent) == 1
        export.refresh_from_db()
        assert export.queued_at is not None


def test_the_nightly_rebuild_repairs_a_roll_up_that_was_missed(cast, q3):
    with time_machine.travel("2025-10-20 10:00 -0400", tick=True):
        submission = ready(q3, cast.admin_a)
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.submission_certify(
                submission=submission, actor=cast.admin_a, name="Ada Admin", title="", agreed=True
            )
    Rollup.objects.filter(period=q3).delete()  # lost, whatever the reason
    tasks.rebuild_rollups.apply()
    assert Rollup.objects.get(period=q3).submission_id == submission.pk


def test_a_reminder_sent_with_redis_down_is_e_mailed_by_the_sweeper_once(
    cast, q3, django_capture_on_commit_callbacks
):
    from reporting.services import reminders

    with time_machine.travel("2025-10-20 10:00 -0400", tick=True):
        with redis_down(), django_capture_on_commit_callbacks(execute=True):
            reminder = reminders.reminder_send_manual(period=q3, actor=cast.officer)
        assert mail.outbox == []
    with time_machine.travel("2025-10-20 10:06 -0400", tick=True), tenancy.system_scope():
        swept = recovery.sweep()
        assert swept.reminders_sent == [reminder.pk]
        assert not recovery.sweep()  # sent: nothing left to send
    assert len(mail.outbox) == 1


# -- Eight "Start report" at once ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_eight_start_report_at_once_return_the_one_draft(cast, q3):
    barrier = threading.Barrier(8)
    results: list = []
    errors: list = []

    def start() -> None:
        try:
            barrier.wait(5)
            with tenancy.for_coalition(cast.coalition_a.pk):
                results.append(
                    services.submission_start(period=q3, actor=cast.admin_a, today=q3.end_date).pk
                )
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(set(results)) == 1
    assert len(results) == 8
    with tenancy.system_scope():
        assert Submission.objects.filter(period=q3).count() == 1


def test_one_sweep_sends_a_batch_of_stuck_checks_in_a_fixed_number_of_queries(
    cast, settings, django_capture_on_commit_callbacks
):
    # Versions in `checking` whose message was lost, in several quarters.
    stuck = []
    for quarter in ("2025Q1", "2025Q2", "2025Q3"):
        period = period_of(cast.coalition_a, quarter)
        with django_capture_on_commit_callbacks(execute=False):
            submission = services.submission_start(period=period, actor=cast.reporter_a)
            services.upload_receive(
                submission=submission,
                kind="participants",
                stream=io.BytesIO(PEOPLE),
                name="people.csv",
                actor=cast.reporter_a,
            )
        stuck.append(submission.pk)
    late = timezone.now() - timedelta(seconds=settings.CHECK_REQUEUE_AFTER + 1)

    def queries_to_sweep(count: int) -> int:
        Submission.objects.filter(pk__in=stuck).update(check_queued_at=None)
        Submission.objects.filter(pk__in=stuck[:count]).update(check_queued_at=late)
        Submission.objects.filter(pk__in=stuck[count:]).update(check_queued_at=timezone.now())
        with (
            django_capture_on_commit_callbacks(execute=False) as sent,
            tenancy.system_scope(),
            CaptureQueriesContext(connection) as queries,
        ):
            swept = recovery.sweep()
        assert sorted(swept.checks_sent) == sorted(stuck[:count])
        assert len(sent) == count
        return len(queries)

    assert queries_to_sweep(1) == queries_to_sweep(3)
    assert (
        SubmissionEvent.objects.filter(
            submission_id__in=stuck, note__startswith="The checks had not finished"
        ).count()
        == 4
    )
