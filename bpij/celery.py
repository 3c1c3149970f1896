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
