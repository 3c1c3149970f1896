"""/healthz (liveness: the process answers) and /readyz (readiness: the database, Redis,
storage and a worker's heartbeat), both JSON and open without a sign-in."""

import json
import socket
import time
import uuid
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.urls import reverse


@pytest.fixture
def ops_prefix(settings):
    """The operational record of this test alone, removed afterwards."""
    from bpij import observability

    settings.OPS_KEY_PREFIX = f"test:{uuid.uuid4().hex}:"
    yield settings.OPS_KEY_PREFIX
    client = observability.ops_redis()
    if client is not None:
        for key in client.scan_iter(match=f"{settings.OPS_KEY_PREFIX}*"):
            client.delete(key)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz_is_liveness_only_it_asks_nothing_of_the_database(client):
    # No database access is allowed in this test: a query would raise.
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_while_the_database_does_not(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("down")):
        response = client.get(reverse("healthz"))
    assert response.status_code == 200


def test_readyz_is_ok_when_everything_answers(client, db, ops_prefix):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["redis"] == {"ok": True}
    assert body["checks"]["storage"] == {"ok": True}
    # The test settings run tasks in-process: there is no worker to ask for.
    assert body["checks"]["worker"]["skipped"] is True


def test_readyz_with_redis_down_is_503_naming_redis_and_no_secret(client, db, settings):
    port = closed_port()
    settings.REDIS_URL = f"redis://:s3cret-redis-password@127.0.0.1:{port}/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    started = time.monotonic()
    response = client.get(reverse("readyz"))
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert "redis" in body["failed"]
    assert body["checks"]["redis"]["ok"] is False
    assert "Redis did not answer" in body["checks"]["redis"]["detail"]
    # Heartbeats live in that Redis too: no worker can be shown to be alive.
    assert "worker" in body["failed"]
    assert body["checks"]["database"]["ok"] is True
    text = response.content.decode()
    assert "s3cret" not in text
    assert str(port) not in text


def test_readyz_with_the_database_down_is_503_naming_the_database(client, db, ops_prefix):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("gone")):
        response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]


def test_readyz_writes_reads_and_deletes_a_probe_through_the_storage(client, db, ops_prefix):
    from django.core.files.storage import default_storage

    saved = []
    original = default_storage.save

    def save(name, content, **kwargs):
        saved.append(original(name, content, **kwargs))
        return saved[-1]

    with mock.patch.object(default_storage, "save", side_effect=save):
        assert client.get(reverse("readyz")).status_code == 200
    assert len(saved) == 1
    assert not default_storage.exists(saved[0])


def test_readyz_with_storage_failing_is_503_naming_storage(client, db, ops_prefix):
    from django.core.files.storage import default_storage

    with mock.patch.object(default_storage, "save", side_effect=PermissionError("read-only")):
        response = client.get(reverse("readyz"))
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["storage"]
    assert "PermissionError" in body["checks"]["storage"]["detail"]


def test_readyz_needs_a_worker_heartbeat_fresher_than_the_limit(client, db, settings, ops_prefix):
    from bpij import observability

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.WORKER_HEARTBEAT_MAX_AGE = 60

    none = client.get(reverse("readyz"))
    assert none.status_code == 503
    assert none.json()["failed"] == ["worker"]
    assert none.json()["checks"]["worker"]["detail"] == "no worker heartbeat in the last 60 s"

    redis = observability.ops_redis()
    stale = json.dumps({"at": time.time() - 300, "queues": ["celery"]})
    redis.hset(f"{ops_prefix}workers", "celery@old", stale)
    old = client.get(reverse("readyz"))
    assert old.status_code == 503
    assert "the newest is 300 s old" in old.json()["checks"]["worker"]["detail"]

    observability.heartbeat_write(hostname="celery@web-1", queues=["celery"])
    assert client.get(reverse("readyz")).status_code == 200


def test_the_probes_are_not_redirected_to_https(client, db, settings, ops_prefix):
    # Production redirects plain HTTP to HTTPS; a container's probe asks over HTTP.
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("readyz")).status_code == 200
    assert client.get("/accounts/login/").status_code == 301


def test_the_probes_answer_only_get_and_head(client, db, ops_prefix):
    assert client.head(reverse("healthz")).status_code == 200
    assert client.post(reverse("healthz")).status_code == 405
    assert client.post(reverse("readyz")).status_code == 405


def test_a_failed_readiness_is_logged_once_naming_what_failed(client, db, settings, caplog):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    with caplog.at_level("WARNING"):
        assert client.get(reverse("readyz")).status_code == 503
    lines = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert [line for line in lines if line[0] == "django.request"] == []
    ((_, level, message),) = [line for line in lines if line[0] == "bpij.views"]
    assert level == "WARNING"
    assert message.startswith("Not ready: redis: Redis did not answer (ConnectionError)")
