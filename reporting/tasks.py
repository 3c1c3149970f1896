"""Tasks hold themselves to the database scope their arguments name: the coalition of
the submission, period, reminder or export they are given (tenancy.coalition_of), or,
for work that spans coalitions (the program's roll-up, the day's reminders, a program
export), the trusted system scope."""

import logging
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError

from bpij import tenancy
from bpij.celery import app

logger = logging.getLogger(__name__)


# A database that went away mid-task (a failover, a cut connection, a restart): the
# task is sent again with a growing delay. The next run starts on a fresh connection
# (Celery's Django fix-up closes an unusable one before each task).
DB_ERRORS = (OperationalError, InterfaceError)
DB_RETRY: dict[str, Any] = {
    "autoretry_for": DB_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
}


@app.task(bind=True, acks_late=True, max_retries=settings.CHECK_MAX_ATTEMPTS, **DB_RETRY)
def check_submission(self, submission_id: int) -> None:
    """Check a submission's current files and store what they give.

    At-least-once and idempotent: the work is done only while the submission is in
    `checking` with the same files it had when the check began, and a re-run replaces
    findings and records rather than adding to them. Each start is counted
    (``check_attempts``) before any work: after CHECK_MAX_ATTEMPTS the checks are given
    up (reporting.services.recovery), so a file that kills its worker stops.
    """
    from reporting import services
    from reporting.models import Submission
    from reporting.services import recovery

    with tenancy.for_coalition(tenancy.coalition_of(Submission, submission_id)):
        if not recovery.check_begin(submission_id):
            return
        try:
            stored = services.submission_check(submission_id=submission_id)
        except DB_ERRORS:
            raise  # sent again (DB_RETRY); the sweeper gives up after the attempts
        except Exception:
            # Not the database's fault: running it again would fail the same way. The
            # version goes back to draft with a note, the person who sent the files is
            # told what to do, and the error is raised as before (logged, SSNs masked).
            try:
                if recovery.check_give_up(submission_id=submission_id):
                    recovery.check_failed_tell(submission_id)
            except Exception:
                logger.exception(
                    "Could not record or tell that the check of %s failed", submission_id
                )
            raise
    if stored:
        recovery.send("send_check_notice", submission_id)
        recovery.send("annotate_submission", submission_id)


@app.task(acks_late=True, max_retries=3, **DB_RETRY)
def annotate_submission(submission_id: int) -> None:
    """Build and store the annotated workbooks of a checked submission's files
    (reporting.services.submission_annotate), after the check's commit. At-least-once
    and idempotent: a file that has its workbook is skipped, and two builds at once keep
    one. A lost task costs nothing but time: the first download builds the workbook."""
    from reporting import services
    from reporting.models import Submission

    with tenancy.for_coalition(tenancy.coalition_of(Submission, submission_id)):
        services.submission_annotate(submission_id=submission_id)


@app.task(acks_late=True)
def send_check_notice(submission_id: int) -> None:
    """E-mail a finished check's result to the person who set it off, if they have left
    the report page or a file is long (reporting.services.check_notices). At-least-once:
    a redelivered task may send the e-mail twice, which is harmless."""
    from reporting.models import Submission
    from reporting.services import check_notices

    with tenancy.for_coalition(tenancy.coalition_of(Submission, submission_id)):
        check_notices.submission_send_check_notice(submission_id=submission_id)


@app.task(acks_late=True, max_retries=5, **DB_RETRY)
def rollup_period(period_id: int) -> None:
    """Recompute the period's roll-up from the version that counts, then the program's
    for that quarter. At-least-once and idempotent: a re-run replaces the rows."""
    from reporting import services
    from reporting.models import ReportingPeriod

    with tenancy.for_coalition(tenancy.coalition_of(ReportingPeriod, period_id)):
        services.rollup_period(period_id=period_id)


@app.task(acks_late=True, max_retries=5, **DB_RETRY)
def rollup_program(quarter: str) -> None:
    """Recompute the program-wide roll-up of a quarter (every segment) from the
    coalitions' period roll-ups. At-least-once and idempotent: the quarter's rows are
    replaced in one transaction, under a lock per quarter."""
    from reporting import services

    with tenancy.system_scope():
        services.rollup_program(quarter=quarter)


@app.task(acks_late=True)
def send_return_notice(submission_id: int) -> None:
    """E-mail a returned version's reasons to the coalition's administrators and
    reporters. At-least-once: a redelivered task sends the e-mail again, which is
    harmless; a version that is not returned sends nothing."""
    from reporting import services
    from reporting.models import Submission

    with tenancy.for_coalition(tenancy.coalition_of(Submission, submission_id)):
        services.submission_send_return_notice(submission_id=submission_id)


@app.task(acks_late=True)
def send_receipt(submission_id: int) -> None:
    """E-mail the certifier the receipt of the version they certified. At-least-once: a
    redelivered task sends the same receipt again, which is harmless."""
    from reporting.models import Submission
    from reporting.services import receipts

    with tenancy.for_coalition(tenancy.coalition_of(Submission, submission_id)):
        receipts.submission_send_receipt(submission_id=submission_id)


@app.task(acks_late=True)
def notify_staff(submission_id: int, event: str) -> None:
    """E-mail the staff concerned that a version was certified or returned
    (reporting.services.staff_notices). At-least-once: a redelivered task may send the
    e-mails again, which is harmless; a version no longer in that state sends nothing."""
    from reporting.models import Submission
    from reporting.services import staff_notices

    with tenancy.for_coalition(tenancy.coalition_of(Submission, submission_id)):
        staff_notices.submission_notify_staff(submission_id=submission_id, event=event)


@app.task
def send_staff_digests() -> int:
    """Beat, daily: each person's digest of the day's report events
    (reporting.services.staff_notices). At-most-once per event: events are claimed
    before the e-mail is sent."""
    from reporting.services import staff_notices

    with tenancy.system_scope():
        return staff_notices.digests_send()


@app.task
def send_review_reminders() -> int:
    """Beat, daily: remind reviewers of reports waiting in review too long
    (docs/reminders.md, "Reviewer reminders"). At-most-once per version and stage: each
    is claimed by inserting its row before it is sent."""
    from reporting.services import staff_notices

    with tenancy.system_scope():
        return len(staff_notices.review_reminders_send())


@app.task
def send_due_reminders() -> int:
    """Beat, daily: today's scheduled reminders (docs/reminders.md). At-most-once per
    reminder: each is claimed by inserting its row (one per period and kind) before it
    is e-mailed, so a second run, or a run that died half-way, never sends one twice."""
    from django.utils import timezone

    from reporting.services import reminders

    with tenancy.system_scope():
        return len(reminders.reminders_send_due(today=timezone.localdate()))


@app.task
def send_reminder(reminder_id: int) -> None:
    """E-mail one reminder claimed by a member of staff. At-most-once: acknowledged on
    receipt, and only a reminder nobody has taken yet is sent."""
    from reporting.models import Reminder
    from reporting.services import reminders

    with tenancy.for_coalition(tenancy.coalition_of(Reminder, reminder_id)):
        reminders.reminder_deliver(reminder_id=reminder_id)


@app.task(
    bind=True,
    acks_late=True,
    soft_time_limit=settings.EXPORT_TIME_LIMIT - 30,
    time_limit=settings.EXPORT_TIME_LIMIT,
    max_retries=settings.EXPORT_MAX_ATTEMPTS,
    **DB_RETRY,
)
def render_export(self, export_id: int) -> None:
    """Render an export (PDF or data pack) and store it; routed to the `exports` queue,
    whose worker takes one at a time. At-most-once per attempt: the export is claimed
    (queued → rendering) before anything is rendered, so a duplicate message does
    nothing. A message delivered again because its worker died (reject_on_worker_lost,
    or the visibility timeout) takes the export over and counts an attempt; after
    EXPORT_MAX_ATTEMPTS it fails, saying its worker stopped."""
    from reporting.models import Export
    from reporting.services import exports

    # Delivered again after its worker died, or retried after a database error: the
    # export this message left `rendering` is taken over rather than left stuck.
    redelivered = bool((self.request.delivery_info or {}).get("redelivered")) or bool(
        self.request.retries
    )
    # A coalition's export reads that coalition's rows; a program export, every one.
    coalition_id = tenancy.coalition_of(Export, export_id)
    with tenancy.system_scope() if coalition_id is None else tenancy.for_coalition(coalition_id):
        exports.export_render(export_id=export_id, redelivered=redelivered)


@app.task
def purge_uploads() -> int:
    """Beat, daily: delete stored upload files past the retention rule
    (docs/security.md, Retention). Idempotent: what is purged is marked, and a file
    already gone is not an error."""
    from reporting.services import retention

    with tenancy.as_owner():
        return len(retention.uploads_purge().uploads)


@app.task
def sweep_stuck_work() -> dict[str, list[int]]:
    """Beat, every minute: send again the checks, roll-ups and exports that were lost
    or are stuck past their deadline; give up those that used their attempts
    (reporting.services.recovery). At most once per item: each row is claimed FOR
    UPDATE SKIP LOCKED, so two beats (or two sweeps) never send one twice."""
    from reporting.services import recovery

    with tenancy.system_scope():
        return vars(recovery.sweep())


@app.task(acks_late=True, **DB_RETRY)
def rebuild_rollups() -> None:
    """Beat, nightly: every roll-up recomputed from the versions that count, repairing
    anything a lost message or a bug left behind. Idempotent."""
    from reporting.services import rollups

    with tenancy.system_scope():
        rollups.rollup_rebuild()
