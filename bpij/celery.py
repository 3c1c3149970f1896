import logging
import os
from typing import Any

from celery import Celery, bootsteps, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bpij.settings")

app = Celery("bpij")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


@signals.setup_logging.connect
def _keep_the_hubs_logging(**kwargs) -> None:
    # A receiver here tells Celery not to replace the root logger's handlers with its
    # own: the worker and beat keep LOGGING (JSON or text, SSNs masked, request ids), set
    # up by django.setup(). Their level is LOG_LEVEL, not --loglevel.
    return None


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _mask_ssns_in_worker_logs(logger, **kwargs) -> None:
    # Should a worker still set up its own handlers (LOGGING's filter is then gone): a
    # task's failure quoting a cell must not put a full SSN in the logs either.
    from reporting.pii import MaskSSNs

    for handler in logger.handlers:
        handler.addFilter(MaskSSNs())


# -- The request id, carried from the request that queued a task into the task ------------

# Each running task's request-id token, to restore the id before it when it ends (a task
# run in-process, eagerly, runs inside the request that queued it).
_request_tokens: dict[str, Any] = {}


@signals.before_task_publish.connect
def _carry_the_request_id(headers: dict[str, Any] | None = None, sender=None, **kwargs) -> None:
    from bpij import observability

    request_id = observability.current_request_id()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id
    if _in_beat and sender:
        _record_safely(observability.beat_sent_record, str(sender))


@signals.task_prerun.connect
def _take_the_request_id(task_id: str | None = None, task=None, **kwargs) -> None:
    from bpij import observability

    request_id = getattr(task.request, "request_id", None) if task else None
    if not request_id or not task_id:
        return
    _request_tokens[task_id] = observability._request_id.set(str(request_id))
    observability.sentry_tag_request_id(str(request_id))


@signals.task_postrun.connect
def _drop_the_request_id(task_id: str | None = None, task=None, state=None, **kwargs) -> None:
    from bpij import observability

    token = _request_tokens.pop(task_id or "", None)
    if token is not None:
        observability._request_id.reset(token)
    if task is not None and task.name in observability.scheduled_tasks():
        _record_safely(observability.beat_ran_record, task.name, str(state or ""))


@signals.task_failure.connect
def _record_the_failure(
    sender=None, task_id: str | None = None, exception=None, args=None, **kwargs
) -> None:
    from bpij import observability

    if sender is None or exception is None:
        return
    _record_safely(
        lambda: observability.failure_record(
            task_name=sender.name, task_id=task_id or "", args=args, exception=exception
        )
    )


def _record_safely(write, *args: Any) -> None:
    # The record is for people looking in; a Redis that does not answer must not turn a
    # task's success into a failure, nor a failure into a different one.
    import redis

    try:
        write(*args)
    except (redis.RedisError, OSError):
        logger.warning("Could not write the operations record (Redis did not answer)")


# -- Beat and worker heartbeats -----------------------------------------------------------

_in_beat = False


@signals.beat_init.connect
def _mark_beat(**kwargs) -> None:
    # The tasks this process publishes from now on are beat's: each is recorded as sent.
    global _in_beat
    _in_beat = True


class Heartbeat(bootsteps.StartStopStep):
    """Every WORKER_HEARTBEAT_INTERVAL seconds a consuming worker writes its host name,
    the time and its queues to Redis (bpij.observability.heartbeat_write). It runs on the
    consumer's own timer, whatever --without-heartbeat says, and only while the worker
    consumes: /readyz and the operations page read it."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.entry = None

    def start(self, parent) -> None:
        from django.conf import settings

        self.beat(parent)
        self.entry = parent.timer.call_repeatedly(
            settings.WORKER_HEARTBEAT_INTERVAL, self.beat, (parent,), priority=10
        )

    def stop(self, parent) -> None:
        if self.entry is not None:
            self.entry.cancel()
            self.entry = None

    def shutdown(self, parent) -> None:
        # A clean shutdown (a deploy, scaling down) is not a worker that died: it leaves
        # the list; one killed stays there, shown as not answering.
        self.stop(parent)
        from bpij import observability

        _record_safely(lambda: observability.heartbeat_remove(hostname=parent.hostname))

    def beat(self, parent) -> None:
        from bpij import observability

        queues = [q.name for q in getattr(parent.task_consumer, "queues", None) or []]
        _record_safely(
            lambda: observability.heartbeat_write(hostname=parent.hostname, queues=queues)
        )


app.steps["consumer"].add(Heartbeat)


# -- CPU priority ------------------------------------------------------------------------


def lower_cpu_priority(niceness: int) -> int:
    """Raise this process's niceness to ``niceness`` (never lower it: only root may),
    so that checks and exports yield the CPU to web requests on a shared host. Returns
    the niceness now in force."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness > current:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    return os.getpriority(os.PRIO_PROCESS, 0)


@signals.worker_init.connect
@signals.worker_process_init.connect
def _nice_worker(**kwargs) -> None:
    # worker_init: the worker's main process (the only one with --pool=solo; pool
    # children inherit its niceness); worker_process_init: each prefork child, in case
    # the main process was started at another. WORKER_NICE (settings): 0 leaves it be.
    from django.conf import settings

    niceness = getattr(settings, "WORKER_NICE", 0)
    if niceness:
        lower_cpu_priority(niceness)
