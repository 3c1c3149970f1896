import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bpij.settings")

app = Celery("bpij")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _mask_ssns_in_worker_logs(logger, **kwargs) -> None:
    # A worker replaces the root logger's handlers with its own (LOGGING's filter is then
    # gone): a task's failure quoting a cell must not put a full SSN in the logs either.
    from reporting.pii import MaskSSNs

    for handler in logger.handlers:
        handler.addFilter(MaskSSNs())


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
