"""Issue 13, item 1, with real workers and a Redis of the test's own: each fault mode
found (kill -9 of a pool child or of the whole worker mid-check, the database connection
cut mid-check, Redis down or stalled during the actions that commit, the exports worker
killed mid-render) ends with every version checked exactly once, nothing left polling,
and no 500 for an action that committed (docs/operations.md, "Lost and stuck work").

A check is held mid-way by a lock the test takes as the database superuser on the
findings table: the worker has counted its attempt and run the checks, and waits to
store the result. An export is held the same way on the targets table, once claimed."""

import contextlib
import io
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import dj_database_url
import psycopg
import pytest
import redis
from django.core import mail
from django.db import connection
from django.urls import reverse

from bpij import tenancy
from grantees.models import Invitation, hash_token
from reporting import services
from reporting.models import (
    Export,
    ExportKind,
    ExportStatus,
    Finding,
    ParticipantRecord,
    ReportingPeriod,
    Rollup,
    Submission,
    SubmissionEvent,
    SubmissionState,
    Upload,
)
from tests import builders
from tests.e2e.conftest import (
    start_worker,
    stop_worker,
    use_broker,
    wait_for,
    worker_environment,
)
from tests.factories import PASSWORD
from tests.reporting.checks.cases import csv_bytes, person

pytestmark = pytest.mark.e2e

# Three participants, one with an error: findings to count, records kept.
ONE_ERROR = csv_bytes([person(1), person(2, exit_date="20240101"), person(3)])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A Redis of the test's own, on a free port, with no persistence: stopped and
    started (or paused and resumed) by the test."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


class Lab:
    def __init__(self, settings, folder: Path, own_redis: OwnRedis) -> None:
        self.settings = settings
        self.folder = folder
        self.redis = own_redis
        self.workers: list[subprocess.Popen] = []

    def worker(self, *, pool: str = "solo", **env: str) -> tuple[subprocess.Popen, Path]:
        log = self.folder / f"worker-{len(self.workers)}.log"
        worker = start_worker(
            worker_environment(self.settings, self.redis.url, **env), log, pool=pool
        )
        self.workers.append(worker)
        use_broker(self.redis.url, eager=False)
        return worker, log


@pytest.fixture
def lab(transactional_db, tmp_path, settings):
    # The workers get this run's own current key (tests/e2e/conftest.py says why).
    settings.ENCRYPTION_KEYS = [("e2e", os.urandom(32)), *settings.ENCRYPTION_KEYS]
    own_redis = OwnRedis(tmp_path)
    own_redis.start()
    eager, broker = settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL
    lab = Lab(settings, tmp_path, own_redis)
    try:
        yield lab
    finally:
        use_broker(broker, eager=eager)
        for worker in lab.workers:
            stop_worker(worker)
        own_redis.stop()


# -- The database as its superuser: locks, and the worker's connection -----------------


def superuser() -> psycopg.Connection:
    admin = dj_database_url.parse(os.environ["DATABASE_URL"])
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        dbname=db["NAME"],
        user=admin["USER"],
        password=admin["PASSWORD"],
    )


@contextlib.contextmanager
def table_held(table: str, mode: str = "EXCLUSIVE"):
    """Hold a lock on ``table``: a worker that writes it waits. Yields a way to wait for
    the worker's backend to be waiting, and its pid."""
    holder = superuser()
    watcher = superuser()
    watcher.autocommit = True
    holder.execute(f"LOCK TABLE {table} IN {mode} MODE")

    def waiting(timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND usename = %s",
                [connection.settings_dict["USER"]],
            ).fetchone()
            if row:
                return row[0]
            time.sleep(0.05)
        pytest.fail(f"no worker came to wait on {table}")

    try:
        yield waiting, watcher
    finally:
        holder.rollback()
        holder.close()
        watcher.close()


def pool_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


# -- What every fault mode must end with ---------------------------------------------------


def start_report(client, period: ReportingPeriod) -> Submission:
    response = client.post(
        reverse("reporting:submission-start", args=[period.coalition.code, period.quarter])
    )
    assert response.status_code == 302
    return Submission.objects.get(period=period, state__in=("draft", "checking"))


def send_file(client, submission, content: bytes = ONE_ERROR, kind: str = "participants"):
    payload = io.BytesIO(content)
    payload.name = f"{kind}.csv"
    return client.post(
        reverse("reporting:upload", args=[submission.code]), {"kind": kind, "file": payload}
    )


def checked(submission: Submission) -> bool:
    return Submission.objects.get(pk=submission.pk).state != SubmissionState.CHECKING


def checked_exactly_once(client, submission: Submission, *, rows: int, errors: int) -> None:
    """Checked, its results stored once, and its page no longer polling."""
    submission.refresh_from_db()
    assert submission.state in (SubmissionState.READY, SubmissionState.NEEDS_FIXES)
    assert submission.error_count == errors
    upload = Upload.objects.get(submission=submission, kind="participants", is_current=True)
    assert upload.status == "checked"
    assert upload.data_rows == rows
    assert ParticipantRecord.objects.filter(submission=submission).count() == upload.kept_rows
    findings = Finding.objects.filter(upload=upload)
    assert findings.count() == findings.values("code", "row", "column").distinct().count()
    assert findings.filter(severity="error").count() == errors
    assert SubmissionEvent.objects.filter(submission=submission, kind="checked").count() == 1
    page = client.get(
        reverse(
            "reporting:period-detail", args=[submission.coalition.code, submission.period.quarter]
        )
    )
    assert page.status_code == 200
    assert 'hx-trigger="every 1s"' not in page.content.decode()


# -- Workers that die mid-check -------------------------------------------------------------


def test_a_pool_child_killed_mid_check_is_checked_again(cast, client_for, lab):
    period = builders.period_of(cast.coalition_a, "2025Q3")
    client = client_for(cast.reporter_a)
    submission = start_report(client, period)
    worker, log = lab.worker(pool="prefork")
    with table_held("reporting_finding") as (waiting, _):
        assert send_file(client, submission).status_code == 302
        waiting()
        # What the OOM killer or the hard time limit does to the pool's child.
        [child] = pool_children(worker.pid)
        os.kill(child, signal.SIGKILL)
    wait_for(lambda: checked(submission), timeout=20, log=log, what="the check")
    checked_exactly_once(client, submission, rows=3, errors=1)
    assert Submission.objects.get(pk=submission.pk).check_attempts == 2
    assert "WorkerLostError" in log.read_text()


def test_a_database_connection_cut_mid_check_is_retried(cast, client_for, lab):
    period = builders.period_of(cast.coalition_a, "2025Q3")
    client = client_for(cast.reporter_a)
    submission = start_report(client, period)
    _worker, log = lab.worker()
    with table_held("reporting_finding") as (waiting, watcher):
        assert send_file(client, submission).status_code == 302
        backend = waiting()
        watcher.execute("SELECT pg_terminate_backend(%s)", [backend])
    wait_for(lambda: checked(submission), timeout=20, log=log, what="the check")
    checked_exactly_once(client, submission, rows=3, errors=1)
    assert Submission.objects.get(pk=submission.pk).check_attempts == 2


def test_a_whole_worker_killed_mid_check_is_checked_by_the_next_worker(cast, client_for, lab):
    period = builders.period_of(cast.coalition_a, "2025Q3")
    client = client_for(cast.reporter_a)
    submission = start_report(client, period)
    # A short visibility timeout, as the setting allows, so the test need not wait the
    # production one (the longest task's time limit and a minute).
    quick = {"CELERY_BROKER_VISIBILITY_TIMEOUT": "2"}
    worker, _ = lab.worker(**quick)
    with table_held("reporting_finding") as (waiting, _):
        assert send_file(client, submission).status_code == 302
        waiting()
        worker.kill()
        worker.wait(10)
    _, log = lab.worker(**quick)
    wait_for(lambda: checked(submission), timeout=20, log=log, what="the next worker")
    checked_exactly_once(client, submission, rows=3, errors=1)


# -- Redis down, Redis stalled ----------------------------------------------------------------


def test_with_redis_down_committed_actions_answer_success_and_are_picked_up_after(
    cast, client_for, lab, settings
):
    # Before: 2025Q2 sent and rolled up (to export), 2025Q3 checked and ready (to
    # certify), both in-process.
    q2 = builders.period_of(cast.coalition_a, "2025Q2")
    builders.submitted_version(q2, cast.admin_a, participants=20, seed=3, confirmed=True)
    services.rollup_period(period_id=q2.pk)
    q3 = builders.period_of(cast.coalition_a, "2025Q3")
    ready = builders.checked_version(q3, cast.admin_a, participants=20, seed=4)
    assert ready.state == SubmissionState.READY
    q4 = builders.period_of(cast.coalition_a, "2025Q4")
    # The hub's cache is Redis, as in production.
    settings.CACHES = {
        "default": {
            "BACKEND": "bpij.cache.ResilientRedisCache",
            "LOCATION": lab.redis.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    _worker, log = lab.worker()

    lab.redis.stop()
    # Sign-in answers (a wrong password, then the right one), never a 500.
    anonymous = client_for(None)
    assert anonymous.get(reverse("account_login")).status_code == 200
    wrong = anonymous.post(
        reverse("account_login"), {"login": cast.reporter_a.email, "password": "wrong"}
    )
    assert wrong.status_code in (200, 400)
    signed_in = anonymous.post(
        reverse("account_login"), {"login": cast.reporter_a.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    assert "_auth_user_id" in anonymous.session
    # A file is stored, and its page says it is being checked.
    reporter = client_for(cast.reporter_a)
    submission = start_report(reporter, q4)
    assert send_file(reporter, submission).status_code == 302
    assert Submission.objects.get(pk=submission.pk).state == SubmissionState.CHECKING
    # A certification is reported as done: it is.
    admin = client_for(cast.admin_a)
    certified = admin.post(
        reverse("reporting:certify", args=[ready.code]),
        {
            "name": "Ada Admin",
            "title": "Director",
            "agreed": "on",
            "late_reason": builders.LATE_REASON,
            "confirmed": "on",
        },
        follow=True,
    )
    assert certified.status_code == 200
    ready.refresh_from_db()
    assert ready.state == SubmissionState.SUBMITTED, certified.content.decode()[:2000]
    # An export request is queued.
    officer = client_for(cast.officer)
    asked = officer.post(
        reverse("reporting:export-request", args=[cast.coalition_a.code]),
        {"kind": ExportKind.COALITION_REPORT, "quarter": "2025Q2"},
    )
    assert asked.status_code in (200, 302)
    export = Export.objects.get()
    assert export.status == ExportStatus.QUEUED

    # Redis is back: the sweeper (beat, every minute; run here) sends what was owed.
    lab.redis.start()
    settings.ROLLUP_REQUEUE_AFTER = 0
    from reporting.services import recovery

    with tenancy.system_scope():
        swept = recovery.sweep()
    assert swept.checks_sent == [submission.pk]
    assert swept.rollups_sent == [q3.pk]
    assert swept.exports_sent == [export.pk]
    wait_for(lambda: checked(submission), timeout=30, log=log, what="the check")
    checked_exactly_once(reporter, submission, rows=3, errors=1)
    wait_for(
        lambda: Rollup.objects.filter(period=q3, submission=ready).exists(),
        timeout=20,
        log=log,
        what="the roll-up",
    )
    wait_for(
        lambda: Export.objects.get(pk=export.pk).status == ExportStatus.READY,
        timeout=30,
        log=log,
        what="the export",
    )
    assert ReportingPeriod.objects.get(pk=q3.pk).rollup_due_at is None


def test_with_redis_stalled_an_upload_returns_within_seconds(cast, client_for, lab):
    period = builders.period_of(cast.coalition_a, "2025Q3")
    client = client_for(cast.reporter_a)
    submission = start_report(client, period)
    _worker, log = lab.worker()
    lab.redis.pause()
    try:
        began = time.monotonic()
        response = send_file(client, submission)
        took = time.monotonic() - began
    finally:
        lab.redis.resume()
    assert response.status_code == 302
    assert took < 8, f"the upload took {took:.1f} s with Redis stalled"
    from reporting.services import recovery

    with tenancy.system_scope():
        recovery.sweep()
    wait_for(lambda: checked(submission), timeout=30, log=log, what="the check")
    checked_exactly_once(client, submission, rows=3, errors=1)


def redis_cache(settings, url: str) -> None:
    """The hub's cache in Redis, as in production."""
    settings.CACHES = {
        "default": {
            "BACKEND": "bpij.cache.ResilientRedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_with_redis_down_an_invitation_is_saved_and_its_email_sent(cast, client_for, lab, settings):
    redis_cache(settings, lab.redis.url)
    use_broker(lab.redis.url, eager=False)
    lab.redis.stop()
    admin = client_for(cast.admin_a)
    invite = reverse("grantees:member-invite", args=[cast.coalition_a.code])
    answer = admin.post(
        invite,
        {"email": "nia@alpha.example", "full_name": "Nia Reporter", "role": "grantee_reporter"},
    )
    assert answer.status_code == 302
    invitation = Invitation.objects.get(email="nia@alpha.example")
    page = admin.get(answer.headers["Location"]).content.decode()
    assert "Invitation sent to nia@alpha.example" in page
    # Sent from the web process, since the worker could not be told: the link works.
    [message] = mail.outbox
    assert message.to == ["nia@alpha.example"]
    token = re.search(r"/invitations/([A-Za-z0-9_\-]+)/", message.body).group(1)
    assert hash_token(token) == invitation.token_hash
    # Sending it again (a new link) works the same way.
    resend = reverse("grantees:invitation-resend", args=[cast.coalition_a.code, invitation.code])
    assert admin.post(resend).status_code == 302
    assert len(mail.outbox) == 2
    # A JFF administrator inviting staff, likewise.
    staff = client_for(cast.jff_admin).post(
        reverse("grantees:staff-invite"), {"email": "sam@jff.example", "role": "coach"}
    )
    assert staff.status_code == 302
    assert mail.outbox[-1].to == ["sam@jff.example"]


def test_with_redis_and_the_mail_server_down_an_invitation_says_its_email_did_not_go(
    cast, client_for, lab, settings, monkeypatch
):
    redis_cache(settings, lab.redis.url)
    use_broker(lab.redis.url, eager=False)
    lab.redis.stop()

    def refused(self, *args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refused)
    admin = client_for(cast.admin_a)
    answer = admin.post(
        reverse("grantees:member-invite", args=[cast.coalition_a.code]),
        {"email": "nia@alpha.example", "full_name": "", "role": "grantee_reporter"},
        follow=True,
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "The invitation for nia@alpha.example is saved, but its e-mail could not be sent" in page
    assert "Invitation sent" not in page
    assert Invitation.objects.filter(email="nia@alpha.example").pending().count() == 1
    assert not mail.outbox


# -- The exports worker killed mid-render ---------------------------------------------------
#
# The rendering worker writes a heartbeat on its export every EXPORT_HEARTBEAT_INTERVAL
# seconds; once it is older than EXPORT_HEARTBEAT_STALE the render is dead. Here a
# second and four seconds instead of production's 5 and 25, so the test need not wait;
# without a heartbeat a killed render stays "rendering" for EXPORT_REQUEUE_AFTER (180 s).
HEARTBEAT = {"EXPORT_HEARTBEAT_INTERVAL": "1"}
STALE = 4


def rolled_up_export_asker(cast):
    period = builders.period_of(cast.coalition_a, "2025Q3")
    builders.submitted_version(period, cast.admin_a, participants=20, seed=21)
    services.rollup_period(period_id=period.pk)

    def ask() -> Export:
        return services.export_request(
            actor=cast.officer,
            kind=ExportKind.COALITION_REPORT,
            quarter="2025Q3",
            coalition=cast.coalition_a,
        )

    return ask


def test_an_export_whose_worker_died_is_seen_dead_within_seconds_and_rendered_again(
    cast, client_for, lab, settings
):
    settings.EXPORT_HEARTBEAT_STALE = STALE
    ask = rolled_up_export_asker(cast)
    use_broker(lab.redis.url, eager=False)
    export = ask()  # waits in Redis for the worker
    officer = client_for(cast.officer)
    status = reverse("reporting:export-status", args=[export.code])

    def poll() -> Export:
        """The person waiting on the exports page: its row's poll."""
        assert officer.get(status, HTTP_HX_REQUEST="true").status_code == 200
        return Export.objects.get(pk=export.pk)

    from reporting.services import recovery

    with table_held("grantees_target", "ACCESS EXCLUSIVE") as (waiting, _):
        worker, _ = lab.worker(**HEARTBEAT)
        waiting()  # claimed, rendering, reading the targets
        # Slow but alive (held on the lock) for longer than a heartbeat may be stale:
        # never taken for dead, by the page's poll or by the sweeper.
        time.sleep(STALE + 2)
        assert poll().status == ExportStatus.RENDERING
        with tenancy.system_scope():
            assert recovery.sweep().exports_sent == []
        export.refresh_from_db()
        assert (export.status, export.attempts) == (ExportStatus.RENDERING, 1)
        worker.kill()  # the whole worker, as kill -9 does
        worker.wait(10)
    _, log = lab.worker(**HEARTBEAT)
    # The poll finds the render dead once its heartbeat is stale, and it is sent to a
    # worker again and rendered.

    def rendered_again() -> bool:
        return poll().status == ExportStatus.READY

    wait_for(rendered_again, timeout=60, log=log, what="the export rendered again")
    export.refresh_from_db()
    assert export.attempts == 2
    assert export.error == ""


def test_an_export_whose_worker_died_says_so_and_asking_again_renders_a_new_one(
    cast, lab, settings
):
    settings.EXPORT_HEARTBEAT_STALE = STALE
    settings.EXPORT_MAX_ATTEMPTS = 1  # its attempts used by the render that died
    ask = rolled_up_export_asker(cast)
    use_broker(lab.redis.url, eager=False)
    dead = ask()  # waits in Redis for the worker
    with table_held("grantees_target", "ACCESS EXCLUSIVE") as (waiting, _):
        worker, _ = lab.worker(**HEARTBEAT)
        waiting()  # claimed, rendering, reading the targets
        worker.kill()
        worker.wait(10)
    dead.refresh_from_db()
    assert dead.status == ExportStatus.RENDERING
    _, log = lab.worker(**HEARTBEAT)
    # Asking again hands back the dead export only until its heartbeat is stale (not
    # for EXPORT_REQUEUE_AFTER); then the dead one says what happened, and a new one
    # is rendered.
    asked: list[Export] = []

    def another() -> bool:
        asked.append(ask())
        return asked[-1].pk != dead.pk

    wait_for(another, timeout=60, log=log, what="a new export")
    new = asked[-1]
    dead.refresh_from_db()
    assert dead.status == ExportStatus.FAILED
    assert dead.error.startswith("The worker rendering this export stopped before it finished")
    assert "within" not in dead.error
    wait_for(
        lambda: Export.objects.get(pk=new.pk).status == ExportStatus.READY,
        timeout=30,
        log=log,
        what="the new export",
    )
