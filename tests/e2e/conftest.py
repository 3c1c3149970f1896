"""A real Celery worker on a real Redis, against the test database.

The worker is a separate process: it sees only committed data, so these tests use
``transactional_db``; the test process sends tasks to Redis instead of running them
in-process.
"""

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connection

from bpij.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def worker_environment(settings, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker process pointed at the test database (as the runtime
    login, held to RLS), the test's files and keys, and ``redis_url``."""
    db = connection.settings_dict
    # The worker logs in as production's does: the runtime login, held to RLS.
    assert db["USER"] == settings.DB_APP_ROLE, db["USER"]
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bpij.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PII_ENCRYPTION_KEY": settings.PII_ENCRYPTION_KEY,
        "PII_HASH_KEY": settings.PII_HASH_KEY,
        "ENCRYPTION_KEYS": ",".join(
            f"{kid}:{base64.b64encode(key).decode()}" for kid, key in settings.ENCRYPTION_KEYS
        ),
        "DB_CONN_MAX_AGE": "0",
        **extra,
    }


def start_worker(
    env: dict[str, str], log: Path, *, pool: str = "solo", queues: str = "celery,exports"
) -> subprocess.Popen:
    """A Celery worker (one process, or a prefork parent with one child), started and
    ready: its log says so."""
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "bpij", "worker", "-Q", queues,
                f"--pool={pool}", "--concurrency=1", "--loglevel=INFO", "--without-heartbeat",
                "--without-gossip", "--without-mingle",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while "ready." not in log.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"the Celery worker did not start:\n{log.read_text()}")
        time.sleep(0.1)
    return worker


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(10)


def use_broker(redis_url: str | None, *, eager: bool) -> None:
    """Send this process's tasks to ``redis_url`` (fresh connections), or run them here."""
    import kombu.pools

    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()
    celery_app.conf.task_always_eager = eager
    if redis_url is not None:
        celery_app.conf.broker_url = redis_url


@pytest.fixture
def worker_env() -> dict[str, str]:
    """More environment for the worker process: a module overrides this fixture to give
    its worker what its test set up (tests/e2e/test_storage_s3.py: the S3 bucket)."""
    return {}


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path, settings, worker_env):
    # A current key of this run's own, not the development default, so a worker that
    # did not get the test process's keys could not read the files it checks (what was
    # sealed before, such as the cast's TOTP secrets, still opens under the older keys).
    settings.ENCRYPTION_KEYS = [("e2e", os.urandom(32)), *settings.ENCRYPTION_KEYS]
    redis_url = os.environ["REDIS_URL"]
    redis.Redis.from_url(redis_url).flushdb()
    log = tmp_path / "worker.log"
    eager = celery_app.conf.task_always_eager
    broker = celery_app.conf.broker_url
    worker = start_worker(worker_environment(settings, redis_url, **worker_env), log)
    use_broker(redis_url, eager=False)
    try:
        yield worker, log
    finally:
        use_broker(broker, eager=eager)
        stop_worker(worker)


def wait_for(predicate, *, timeout=30.0, log=None, what="the worker"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(
        f"{what} did not finish in {timeout:.0f} s" + (f":\n{log.read_text()}" if log else "")
    )
