"""Seeing what the hub is doing: request ids, structured logs, Sentry, readiness, and the
small operational record (worker heartbeats, beat runs, failed tasks) that the
operations page and ``/readyz`` read (docs/operations.md, "Monitoring").

The operational record lives in Redis (``REDIS_URL``) under ``OPS_KEY_PREFIX``: list and
hash operations there are atomic across processes, and a record of the workers had best
not depend on the cache backend chosen for pages. Without ``REDIS_URL`` (the embedded
default, tasks in-process) it lives in the Django cache of the one process.

Nothing here imports models: settings import this module.
"""

import contextvars
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import redis
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

from reporting.checks import values

logger = logging.getLogger(__name__)

# -- Request ids --------------------------------------------------------------------------

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's id may look like to be kept (nginx's $request_id, a UUID, a ULID, an AWS
# trace id): letters, digits and a few separators, not too long. Anything else is
# replaced, so a client cannot write arbitrary text into every log line.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:=+/-]{7,127}$")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "bpij_request_id", default=None
)


def new_request_id() -> str:
    """A fresh id (32 hex digits) with no SSN-shaped run of digits in it, so the log
    masking never changes it and ids stay searchable."""
    while True:
        candidate = uuid.uuid4().hex
        if not values.has_ssn(candidate):
            return candidate


def request_id_from(header: str | None) -> str:
    """The proxy's id when it is a sane token that carries no SSN-shaped value; a new
    one otherwise."""
    if header and _SANE_REQUEST_ID.match(header) and not values.has_ssn(header):
        return header
    return new_request_id()


def current_request_id() -> str | None:
    return _request_id.get()


def request_id_begin(request_id: str) -> None:
    """The request being handled in this thread (or task) is ``request_id`` until
    ``request_id_end``."""
    _request_id.set(request_id)
    sentry_tag_request_id(request_id)


def request_id_end() -> None:
    _request_id.set(None)


@contextmanager
def request_id_bound(request_id: str | None) -> Iterator[None]:
    """Every log line, audit entry and task queued inside the block carries
    ``request_id``; the id before it is restored after."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def audit_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """An audit entry's detail with the request id that wrote it, when there is one."""
    out = dict(detail or {})
    request_id = current_request_id()
    if request_id and "request_id" not in out:
        out["request_id"] = request_id
    return out


# -- Logging ------------------------------------------------------------------------------


class RequestContext(logging.Filter):
    """Puts ``request_id`` (or "-") and, inside a Celery task, ``task_id`` and
    ``task_name`` on every record, for both formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        task = _current_task()
        record.task_id = getattr(task.request, "id", None) if task else None
        record.task_name = getattr(task, "name", None) if task else None
        return True


def _current_task() -> Any:
    try:
        from celery._state import get_current_task
    except ImportError:  # pragma: no cover - celery is a dependency
        return None
    return get_current_task()


# Fields of the JSON line besides the message; the rest of a record's attributes (an
# ``extra=``) follow them.
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s %(task_name)s"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Record attributes that hold ids, never SSNs, and are kept exactly as they are.
_ID_FIELDS = frozenset({"request_id", "task_id", "task_name", "timestamp", "level", "logger"})


class MaskedJsonFormatter(JsonFormatter):
    """One JSON object per line. python-json-logger formats a traceback itself from
    ``exc_info`` (not from the ``exc_text`` that ``reporting.pii.MaskSSNs`` masked), and
    writes every ``extra=`` attribute: both are masked here again, so no field of the
    line carries a full SSN whatever the handler's filters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__(*args, **kwargs)

    def formatException(self, ei: Any) -> str:
        return values.mask_ssns_in(str(super().formatException(ei)))

    def formatStack(self, stack_info: str) -> str:
        return values.mask_ssns_in(str(super().formatStack(stack_info)))

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        if log_data.get("request_id") == "-":
            log_data["request_id"] = None
        # A Django request object (django.request, django.server) is not data: its text.
        for key in ("request", "server_time"):
            if key in log_data and not isinstance(log_data[key], str | int | float):
                log_data[key] = str(log_data[key])
        return {
            key: value if key in _ID_FIELDS else _masked(value) for key, value in log_data.items()
        }


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return values.mask_ssns_in(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """``LOGGING``: one console handler, JSON or text, with the SSN mask and the request
    context on it (and on any handler added to this dict later: keep both filters)."""
    formatters: dict[str, dict[str, Any]] = {
        "json": {"()": "bpij.observability.MaskedJsonFormatter", "fmt": JSON_FIELDS},
        "text": {"format": TEXT_FORMAT},
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            # No full SSN reaches a log line, whatever quoted it (reporting/pii.py).
            "mask_ssns": {"()": "reporting.pii.MaskSSNs"},
            "request_context": {"()": "bpij.observability.RequestContext"},
        },
        "formatters": formatters,
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["mask_ssns", "request_context"],
                "formatter": log_format,
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # WeasyPrint logs every step of every PDF at INFO; the export worker and the
        # export_report command keep their output for what went wrong.
        "loggers": {"weasyprint.progress": {"level": "WARNING"}},
    }


# -- Sentry -------------------------------------------------------------------------------


def sentry_init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> bool:
    """Start Sentry's client when a DSN is given (Django and Celery integrations, no
    personal data sent, SSNs masked); with none, nothing is started and nothing is sent."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=sentry_before_send,  # type: ignore[arg-type]
        before_breadcrumb=sentry_before_breadcrumb,
    )
    return True


def sentry_before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Every string of the event (message, exception values, stack frames' variables,
    breadcrumbs, request data) with its SSN-shaped values masked, and the request id."""
    masked = _masked(event)
    request_id = current_request_id()
    if request_id:
        masked.setdefault("tags", {})["request_id"] = request_id
    return masked


def sentry_before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    return _masked(crumb)


def sentry_tag_request_id(request_id: str | None) -> None:
    import sentry_sdk

    if request_id and sentry_sdk.get_client().is_active():
        sentry_sdk.set_tag("request_id", request_id)


# -- The operational record ---------------------------------------------------------------

# Keys under OPS_KEY_PREFIX.
WORKERS = "workers"  # hash: worker hostname -> JSON {"at": epoch seconds, "queues": [...]}
BEAT_SENT = "beat:sent"  # hash: task name -> epoch seconds beat last sent it
BEAT_RAN = "beat:ran"  # hash: task name -> JSON {"at": ..., "state": "SUCCESS" | "FAILURE"}
FAILURES = "failures"  # list, newest first: JSON of one failed task each
FAILURES_KEPT = 50
# The Celery queues the hub uses (CELERY_TASK_ROUTES sends exports to their own).
QUEUES = ("celery", "exports")
_TIMEOUT = 1.0  # seconds: a stalled Redis must not hold a page, a probe or a worker


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=_TIMEOUT,
        socket_timeout=_TIMEOUT,
        retry_on_timeout=False,
        health_check_interval=30,
    )


def ops_redis() -> redis.Redis | None:
    """The Redis of the queue and the record; None in the embedded default."""
    url = settings.REDIS_URL
    return _client(url) if url else None


def _key(name: str) -> str:
    return f"{settings.OPS_KEY_PREFIX}{name}"


def _now() -> float:
    return time.time()


def _cache_hash(name: str) -> dict[str, Any]:
    from django.core.cache import cache as django_cache

    return dict(django_cache.get(_key(name)) or {})


def _hash_set(name: str, field_name: str, value: str) -> None:
    client = ops_redis()
    if client is not None:
        client.hset(_key(name), field_name, value)
        return
    from django.core.cache import cache as django_cache

    data = _cache_hash(name)
    data[field_name] = value
    django_cache.set(_key(name), data, timeout=None)


def _hash_get(name: str) -> dict[str, str]:
    client = ops_redis()
    if client is None:
        return _cache_hash(name)
    return {_text(k): _text(v) for k, v in client.hgetall(_key(name)).items()}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# A worker silent this long is forgotten (a container killed and replaced under another
# host name); until then the page lists it as not answering.
WORKER_FORGOTTEN_AFTER = 24 * 60 * 60


def heartbeat_write(*, hostname: str, queues: list[str]) -> None:
    now = _now()
    _hash_set(WORKERS, hostname, json.dumps({"at": now, "queues": sorted(queues)}))
    client = ops_redis()
    if client is not None:
        forgotten = [w.hostname for w in _workers_from(_hash_get(WORKERS), now)
                     if w.age > WORKER_FORGOTTEN_AFTER]  # fmt: skip
        if forgotten:
            client.hdel(_key(WORKERS), *forgotten)


def heartbeat_remove(*, hostname: str) -> None:
    """A worker shutting down cleanly is no longer expected to answer."""
    client = ops_redis()
    if client is not None:
        client.hdel(_key(WORKERS), hostname)
        return
    from django.core.cache import cache as django_cache

    data = _cache_hash(WORKERS)
    data.pop(hostname, None)
    django_cache.set(_key(WORKERS), data, timeout=None)


@dataclass(frozen=True)
class Worker:
    hostname: str
    seen_at: datetime
    age: float  # seconds since its last heartbeat
    queues: list[str]
    fresh: bool

    @property
    def age_seconds(self) -> int:
        return int(self.age)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _workers_from(raw: Mapping[str, str], now: float) -> list[Worker]:
    workers = []
    for hostname, text in raw.items():
        try:
            data = json.loads(text)
            at = float(data["at"])
        except (ValueError, KeyError, TypeError):
            continue
        age = max(now - at, 0.0)
        workers.append(
            Worker(
                hostname=hostname,
                seen_at=_at(at),
                age=age,
                queues=list(data.get("queues") or []),
                fresh=age <= settings.WORKER_HEARTBEAT_MAX_AGE,
            )
        )
    return sorted(workers, key=lambda w: w.age)


def workers_seen() -> list[Worker]:
    """Every worker that has written a heartbeat, freshest first (stale ones stay listed
    until their host name is reused or the key is removed: a dead worker is news)."""
    return _workers_from(_hash_get(WORKERS), _now())


def beat_sent_record(task_name: str) -> None:
    _hash_set(BEAT_SENT, task_name, str(_now()))


def beat_ran_record(task_name: str, state: str) -> None:
    _hash_set(BEAT_RAN, task_name, json.dumps({"at": _now(), "state": state}))


def scheduled_tasks() -> set[str]:
    return {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


@dataclass(frozen=True)
class BeatEntry:
    name: str
    task: str
    schedule: str
    sent_at: datetime | None
    ran_at: datetime | None
    ran_state: str


def _beat_from(sent: Mapping[str, str], ran: Mapping[str, str]) -> list[BeatEntry]:
    entries = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        task = entry["task"]
        sent_at = _epoch_or_none(sent.get(task))
        try:
            last = json.loads(ran[task]) if task in ran else {}
        except ValueError:
            last = {}
        entries.append(
            BeatEntry(
                name=name,
                task=task,
                schedule=_schedule_text(entry["schedule"]),
                sent_at=_at(sent_at) if sent_at is not None else None,
                ran_at=_at(float(last["at"])) if "at" in last else None,
                ran_state=str(last.get("state", "")),
            )
        )
    return entries


def _epoch_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _schedule_text(schedule: Any) -> str:
    from celery.schedules import crontab

    if isinstance(schedule, crontab):
        fields: Any = schedule
        hours, minutes = sorted(fields.hour), sorted(fields.minute)
        every_day = (
            len(fields.day_of_week) == 7
            and len(fields.day_of_month) == 31
            and len(fields.month_of_year) == 12
        )
        if not every_day:
            return str(schedule)
        if len(hours) == 24 and len(minutes) == 60:
            return "every minute"
        if len(hours) == 24:
            return "hourly at minute " + ", ".join(str(m) for m in minutes)
        times = [f"{h:02d}:{m:02d}" for h in hours for m in minutes]
        return "daily at " + ", ".join(times) + " (Eastern)"
    if isinstance(schedule, int | float):
        return f"every {schedule:g} s"
    seconds = getattr(getattr(schedule, "run_every", None), "total_seconds", None)
    return f"every {seconds():g} s" if seconds else str(schedule)


def failure_record(
    *, task_name: str, task_id: str, args: Any, exception: BaseException
) -> dict[str, Any]:
    """Keep one failed task (the last FAILURES_KEPT): its name, the ids it was given, the
    error's class and a short message with SSNs masked, when, and the request id."""
    entry = {
        "task": task_name,
        "task_id": task_id,
        "ids": [_masked(a) for a in (args or ()) if isinstance(a, int | str) and len(str(a)) < 64],
        "error": type(exception).__name__,
        "message": values.mask_ssns_in(str(exception))[:300],
        "at": _now(),
        "request_id": current_request_id() or "",
    }
    text = json.dumps(entry)
    client = ops_redis()
    if client is not None:
        pipe = client.pipeline()
        pipe.lpush(_key(FAILURES), text)
        pipe.ltrim(_key(FAILURES), 0, FAILURES_KEPT - 1)
        pipe.execute()
    else:
        from django.core.cache import cache as django_cache

        kept = [text, *(django_cache.get(_key(FAILURES)) or [])][:FAILURES_KEPT]
        django_cache.set(_key(FAILURES), kept, timeout=None)
    return entry


@dataclass(frozen=True)
class Failure:
    task: str
    task_id: str
    ids: list[Any]
    error: str
    message: str
    at: datetime
    request_id: str


def _failures_from(raw: list[Any]) -> list[Failure]:
    failures = []
    for text in raw:
        try:
            data = json.loads(_text(text))
            failures.append(
                Failure(
                    task=str(data["task"]),
                    task_id=str(data.get("task_id", "")),
                    ids=list(data.get("ids") or []),
                    error=str(data.get("error", "")),
                    message=str(data.get("message", "")),
                    at=_at(float(data["at"])),
                    request_id=str(data.get("request_id", "")),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue
    return failures


@dataclass(frozen=True)
class Record:
    """What the operations page shows from Redis: the broker's queues, then the record,
    each read in one round trip."""

    broker: bool  # tasks go through Redis (False: in-process, the embedded default)
    error: str = ""  # why Redis could not be read, if it could not
    queues: dict[str, int] = field(default_factory=dict)
    unacked: int | None = None  # delivered to a worker, not yet acknowledged
    workers: list[Worker] = field(default_factory=list)
    beat: list[BeatEntry] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def record_read() -> Record:
    client = ops_redis()
    if client is None:
        from django.core.cache import cache as django_cache

        return Record(
            broker=False,
            workers=workers_seen(),
            beat=_beat_from(_cache_hash(BEAT_SENT), _cache_hash(BEAT_RAN)),
            failures=_failures_from(django_cache.get(_key(FAILURES)) or []),
        )
    # The queues are in the broker's Redis: REDIS_URL unless CELERY_BROKER_URL names
    # another one.
    broker_url = str(getattr(settings, "CELERY_BROKER_URL", "") or settings.REDIS_URL)
    broker = _client(broker_url) if broker_url.startswith(("redis://", "rediss://")) else None
    try:
        depths: list[Any] = []
        unacked: Any = None
        if broker is not None:
            queue_pipe = broker.pipeline(transaction=False)
            for queue in QUEUES:
                queue_pipe.llen(queue)
            # kombu's Redis transport keeps messages delivered but not acknowledged here.
            queue_pipe.hlen("unacked")
            *depths, unacked = queue_pipe.execute()
        pipe = client.pipeline(transaction=False)
        pipe.hgetall(_key(WORKERS))
        pipe.hgetall(_key(BEAT_SENT))
        pipe.hgetall(_key(BEAT_RAN))
        pipe.lrange(_key(FAILURES), 0, FAILURES_KEPT - 1)
        workers, sent, ran, failures = pipe.execute()
    except redis.RedisError as error:
        return Record(broker=True, error=type(error).__name__)

    def decoded(raw: Mapping[Any, Any]) -> dict[str, str]:
        return {_text(k): _text(v) for k, v in raw.items()}

    return Record(
        broker=True,
        queues=dict(zip(QUEUES, (int(d) for d in depths), strict=False)),
        unacked=int(unacked) if unacked is not None else None,
        workers=_workers_from(decoded(workers), _now()),
        beat=_beat_from(decoded(sent), decoded(ran)),
        failures=_failures_from(failures),
    )


# -- Readiness ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str = ""  # what failed, in words that carry no secret
    skipped: bool = False

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok}
        if self.skipped:
            data["skipped"] = True
        if self.detail:
            data["detail"] = self.detail
        return data


def check_database() -> Check:
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return Check(False, f"the database did not answer ({type(error).__name__})")
    return Check(True)


def check_redis() -> Check:
    client = ops_redis()
    if client is None:
        return Check(True, "no REDIS_URL: tasks run in-process", skipped=True)
    try:
        client.ping()
    except redis.RedisError as error:
        return Check(False, f"Redis did not answer ({type(error).__name__})")
    return Check(True)


def check_storage() -> Check:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    payload = secrets.token_bytes(16)
    name = ""
    try:
        name = default_storage.save(f"readyz/probe-{uuid.uuid4().hex}", ContentFile(payload))
        with default_storage.open(name, "rb") as stored:
            read = stored.read()
        if read != payload:
            return Check(False, "storage returned other bytes than were written")
    except Exception as error:
        return Check(False, f"storage could not write and read a file ({type(error).__name__})")
    finally:
        if name:
            try:
                default_storage.delete(name)
            except Exception:
                logger.warning("readyz could not delete its storage probe %s", name)
    return Check(True)


def check_worker() -> Check:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return Check(True, "tasks run in-process: no worker needed", skipped=True)
    try:
        workers = workers_seen()
    except redis.RedisError as error:
        return Check(False, f"worker heartbeats could not be read ({type(error).__name__})")
    limit = settings.WORKER_HEARTBEAT_MAX_AGE
    if not any(w.fresh for w in workers):
        newest = f"; the newest is {workers[0].age:.0f} s old" if workers else ""
        return Check(False, f"no worker heartbeat in the last {limit} s{newest}")
    return Check(True)


CHECKS = {
    "database": check_database,
    "redis": check_redis,
    "storage": check_storage,
    "worker": check_worker,
}


def readiness() -> tuple[bool, dict[str, Check]]:
    results = {name: check() for name, check in CHECKS.items()}
    return all(c.ok for c in results.values()), results
