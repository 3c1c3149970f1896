"""Work that cannot be lost or stuck (docs/operations.md, "Lost and stuck work").

What a committed action owes the workers is written in the same transaction as the
action itself, on the rows it is about: a version in `checking` (``check_queued_at``), a
period whose roll-up is owed (``rollup_due_at``), an export waiting or rendering
(``queued_at``, ``started_at``). The task is sent once the transaction commits; if the
broker is down or stalled the error is logged, never raised, so the person is told what
did happen (their file is stored, their certification recorded). The sweeper
(``sweep``, beat every minute) reads those rows and sends again what is unsent or past
its deadline, each row claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` so two sweepers
never send the same one twice; after ``CHECK_MAX_ATTEMPTS`` / ``EXPORT_MAX_ATTEMPTS``
starts by a worker the work stops in a failed state that says so.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from bpij import tenancy
from bpij.celery import app
from bpij.models import User
from reporting import permissions
from reporting.models import (
    OPEN_STATES,
    Export,
    ExportStatus,
    Reminder,
    ReminderStatus,
    ReportingPeriod,
    Submission,
    SubmissionEvent,
    SubmissionState,
)
from reporting.services import transitions

logger = logging.getLogger(__name__)

# What the grantee reads when the checks gave up (the version is back in draft).
CHECK_GAVE_UP_NOTE = (
    "We could not check this file. It is kept; try again, or contact JFF if it happens again."
)
# Rows one sweep handles of each kind; the rest wait for the next minute.
SWEEP_BATCH = 200


# -- Sending ----------------------------------------------------------------------------


def task(name: str) -> Any:
    """The Celery task ``reporting.tasks.<name>``, found in Celery's registry.

    Services name the tasks they send rather than import their module: a task's body
    imports the services it runs (HackSoft), so an import back would close a loop
    (docs/decisions.md, "Structure"). A process that has not loaded the tasks yet (a
    web process; the worker loads them at start) has Celery find them, as its
    autodiscovery does, on the first send.
    """
    qualified = f"reporting.tasks.{name}"
    if qualified not in app.tasks:
        app.autodiscover_tasks(force=True)
    return app.tasks[qualified]


# Tasks held instead of sent, while ``held`` is in force (None: send as usual).
_held: ContextVar[list[tuple[str, tuple[Any, ...]]] | None] = ContextVar("held", default=None)


@contextmanager
def held() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Hold, rather than send, every task the block's services would send; yields what
    was held. For the demo, which writes a past that is over: no e-mail about it, no
    check of files it checks itself, and roll-ups it computes once at the end
    (reporting.demo). What the rows owe the workers stays on them, as always."""
    holding: list[tuple[str, tuple[Any, ...]]] = []
    token = _held.set(holding)
    try:
        yield holding
    finally:
        _held.reset(token)


def send(name: str, *args: Any) -> bool:
    """Send the task ``name`` (of reporting.tasks) now. A broker that is down or does
    not answer within its timeouts (settings.CELERY_BROKER_TRANSPORT_OPTIONS) is logged
    and answered False: the work is in the database and the sweeper sends it later. Run
    in-process (no broker), a task's own error is raised as before."""
    holding = _held.get()
    if holding is not None:
        holding.append((name, args))
        return True
    sent = task(name)
    if sent.app.conf.task_always_eager:
        sent.delay(*args)
        return True
    try:
        sent.delay(*args)
    except Exception as error:
        logger.warning(
            "Could not send %s%r to the broker (%s: %s); the sweeper will send it",
            sent.name,
            args,
            type(error).__name__,
            error,
        )
        return False
    return True


def send_on_commit(name: str, *args: Any, unsent: Callable[[], None] | None = None) -> None:
    """``send`` once the current transaction commits; ``unsent`` runs (in the system
    scope) when the broker did not take it, to mark the row for the next sweep."""

    holding = _held.get()
    if holding is not None:
        holding.append((name, args))
        return

    def go() -> None:
        if send(name, *args) or unsent is None:
            return
        try:
            with tenancy.system_scope():
                unsent()
        except Exception:
            logger.exception("Could not mark %s%r as unsent", name, args)

    transaction.on_commit(go)


# -- Checks -----------------------------------------------------------------------------


def check_queue(submission: Submission, *, actor: User | None) -> None:
    """Move the version to `checking` with fresh attempts and send the checks once this
    commits; with the broker down the version stays `checking`, unsent, and the sweeper
    sends it (``sweep``)."""
    transitions.transition(
        submission,
        from_states=OPEN_STATES,
        to_state=SubmissionState.CHECKING,
        actor=actor,
        kind="checking",
        check_queued_at=timezone.now(),
        check_attempts=0,
        check_failed_at=None,
    )
    check_send(submission)


def check_send(submission: Submission) -> None:
    """Send the checks of a version just moved to `checking` (its ``check_queued_at``
    set in the same transaction) once that commits."""
    queued_at = submission.check_queued_at

    def unsent() -> None:
        Submission.objects.filter(
            pk=submission.pk, state=SubmissionState.CHECKING, check_queued_at=queued_at
        ).update(check_queued_at=None)

    send_on_commit("check_submission", submission.pk, unsent=unsent)


def check_begin(submission_id: int) -> bool:
    """A worker starts the checks: count the attempt (committed before any work, so a
    file that kills its worker every time is stopped) and push the sweeper's deadline.
    False when there is nothing to check, or when the attempts are used up (the checks
    are then given up, and the person told)."""
    with transaction.atomic():
        submission = (
            Submission.objects.select_for_update()
            .filter(pk=submission_id, state=SubmissionState.CHECKING)
            .first()
        )
        if submission is None:
            return False
        gave_up = submission.check_attempts >= settings.CHECK_MAX_ATTEMPTS
        if gave_up:
            check_give_up(submission_id=submission_id)
        else:
            Submission.objects.filter(pk=submission_id).update(
                check_attempts=F("check_attempts") + 1, check_queued_at=timezone.now()
            )
    if gave_up:
        check_failed_tell(submission_id)
    return not gave_up


@transaction.atomic
def check_give_up(*, submission_id: int) -> bool:
    """The checks could not finish: the version goes back to draft with the note the
    grantee reads and ``check_failed_at`` says when. Its files are kept; "Check again"
    (``check_again``) or the same file sent again runs them again. Returns whether the
    version was moved; the caller then tells the person (``check_failed_tell``), once
    this has committed."""
    submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
    if submission is None or submission.state != SubmissionState.CHECKING:
        return False
    transitions.transition(
        submission,
        from_states=(SubmissionState.CHECKING,),
        to_state=SubmissionState.DRAFT,
        actor=None,
        kind="check_failed",
        note=f"{CHECK_GAVE_UP_NOTE} ({submission.check_attempts} attempt"
        f"{'s' if submission.check_attempts != 1 else ''}.)",
        check_failed_at=timezone.now(),
        check_queued_at=None,
    )
    logger.error(
        "Gave up checking submission %s after %s attempt(s)",
        submission_id,
        submission.check_attempts,
    )
    return True


def check_failed_tell(submission_id: int) -> None:
    """E-mail the person who sent the files that their checks gave up (logged, never
    raised: the failed state is on the page whatever the mail server does)."""
    from reporting.services import check_notices

    try:
        with tenancy.for_coalition(tenancy.coalition_of(Submission, submission_id)):
            check_notices.submission_send_check_failed(submission_id=submission_id)
    except Exception:
        logger.exception("Could not tell that the check of %s failed", submission_id)


@transaction.atomic
def check_again(*, submission: Submission, actor: User) -> Submission:
    """Run the checks of the version's current files again, with fresh attempts: the
    way out of a failed check without sending the same file again. Recorded in the
    version's history with who asked."""
    if not permissions.can_edit_submission(actor, submission):
        raise PermissionDenied
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if not permissions.can_check_again(actor, submission):
        raise ValidationError(
            f"Version {submission.version} is {submission.get_state_display().lower()}"
            + (
                "; its files are being checked now."
                if submission.state == SubmissionState.CHECKING
                else "; there are no unchecked files to check again. Upload the participant "
                "file to check it."
            )
        )
    transitions.event(
        submission, "check_again", actor=actor, note="Asked to check the files again."
    )
    check_queue(submission, actor=actor)
    return submission


# -- Roll-ups -----------------------------------------------------------------------------


def rollup_owed(period_id: int) -> None:
    """A version of the period was certified, returned or accepted in this transaction:
    its roll-up is owed from now (``rollup_due_at``), and sent once this commits."""
    ReportingPeriod.objects.filter(pk=period_id).update(rollup_due_at=timezone.now())
    send_on_commit("rollup_period", period_id)


def rollup_paid(period_id: int, *, since: datetime) -> None:
    """The roll-up computed from what was committed at ``since``: what was owed before
    then is paid (a later certification keeps it owed)."""
    ReportingPeriod.objects.filter(pk=period_id, rollup_due_at__lte=since).update(
        rollup_due_at=None
    )


# -- Exports -----------------------------------------------------------------------------


def export_send(export: Export) -> None:
    """Send a queued export to the exports worker once the transaction commits
    (``queued_at`` marks when; None when the broker did not take it)."""
    now = timezone.now()
    Export.objects.filter(pk=export.pk).update(queued_at=now)
    export.queued_at = now

    def unsent() -> None:
        Export.objects.filter(pk=export.pk, status=ExportStatus.QUEUED, queued_at=now).update(
            queued_at=None
        )

    send_on_commit("render_export", export.pk, unsent=unsent)


def export_worker_lost_message(export: Export, attempts: int) -> str:
    return (
        f"The worker rendering this export stopped before it finished ({attempts} "
        f"attempt{'s' if attempts != 1 else ''}: it was restarted, or ran out of memory). "
        "Request it again; if it fails again, tell the hub's operators and give them the "
        f"export's id, {export.code}."
    )


def export_dead(export: Export, now: datetime) -> bool:
    """Rendering, and its worker has stopped: its heartbeat (written every
    EXPORT_HEARTBEAT_INTERVAL seconds while it renders) is older than
    EXPORT_HEARTBEAT_STALE, or it started longer ago than any render may run."""
    if export.status != ExportStatus.RENDERING or export.started_at is None:
        return False
    stale = timedelta(seconds=settings.EXPORT_HEARTBEAT_STALE)
    deadline = timedelta(seconds=settings.EXPORT_REQUEUE_AFTER)
    return (export.heartbeat_at is not None and export.heartbeat_at < now - stale) or (
        export.started_at < now - deadline
    )


@transaction.atomic
def export_recover(export_id: int, *, started_at: datetime | None) -> Export | None:
    """An export whose render died with its worker (still `rendering` since
    ``started_at``): queued and sent again while attempts remain, else failed with a
    message that says what happened. Returns the export if it is live again, None if it
    failed (or someone else recovered it first)."""
    export = (
        Export.objects.select_for_update(skip_locked=True)
        .filter(pk=export_id, status=ExportStatus.RENDERING, started_at=started_at)
        .first()
    )
    if export is None:
        return None
    now = timezone.now()
    if not export_dead(export, now):
        return export  # its worker wrote a heartbeat meanwhile: alive, left alone
    if export.attempts >= settings.EXPORT_MAX_ATTEMPTS:
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED,
            finished_at=now,
            error=export_worker_lost_message(export, export.attempts),
        )
        logger.error("Export %s failed: its worker died %s time(s)", export.code, export.attempts)
        return None
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.QUEUED, started_at=None, heartbeat_at=None
    )
    export.status, export.started_at, export.heartbeat_at = ExportStatus.QUEUED, None, None
    logger.warning(
        "Export %s: its worker died mid-render (attempt %s); sent again",
        export.code,
        export.attempts,
    )
    export_send(export)
    return export


# -- The sweeper -------------------------------------------------------------------------


@dataclass
class Swept:
    checks_sent: list[int] = field(default_factory=list)
    checks_failed: list[int] = field(default_factory=list)
    rollups_sent: list[int] = field(default_factory=list)
    exports_sent: list[int] = field(default_factory=list)
    exports_failed: list[int] = field(default_factory=list)
    reminders_sent: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(vars(self).values())


def sweep(*, now: datetime | None = None) -> Swept:
    """Send again the work that was lost or is stuck; give up what used its attempts.
    At most once per row and sweep: each is claimed FOR UPDATE SKIP LOCKED and its
    deadline moved in the same transaction. Call in the system scope."""
    now = now or timezone.now()
    swept = Swept()
    _sweep_checks(now, swept)
    for submission_id in swept.checks_failed:
        check_failed_tell(submission_id)
    _sweep_rollups(now, swept)
    _sweep_exports(now, swept)
    _sweep_reminders(now, swept)
    if swept:
        logger.warning("Sweeper: %s", swept)
    return swept


def _sweep_checks(now: datetime, swept: Swept) -> None:
    deadline = now - timedelta(seconds=settings.CHECK_REQUEUE_AFTER)
    with transaction.atomic():
        stuck = list(
            Submission.objects.select_for_update(skip_locked=True)
            .filter(state=SubmissionState.CHECKING)
            .filter(Q(check_queued_at__isnull=True) | Q(check_queued_at__lt=deadline))
            .order_by("pk")[:SWEEP_BATCH]
        )
        resend = []
        for submission in stuck:
            if submission.check_attempts >= settings.CHECK_MAX_ATTEMPTS:
                check_give_up(submission_id=submission.pk)
                swept.checks_failed.append(submission.pk)
            else:
                resend.append(submission)
        # One UPDATE and one INSERT for the batch, however many are sent again.
        Submission.objects.filter(pk__in=[s.pk for s in resend]).update(check_queued_at=now)
        SubmissionEvent.objects.bulk_create(
            SubmissionEvent(
                coalition_id=submission.coalition_id,
                submission=submission,
                kind="checking",
                note="The checks had not finished; sent to a worker again.",
            )
            for submission in resend
        )
        for submission in resend:
            submission.check_queued_at = now
            check_send(submission)
            swept.checks_sent.append(submission.pk)


def _sweep_rollups(now: datetime, swept: Swept) -> None:
    deadline = now - timedelta(seconds=settings.ROLLUP_REQUEUE_AFTER)
    with transaction.atomic():
        owed = list(
            ReportingPeriod.objects.select_for_update(skip_locked=True)
            .filter(rollup_due_at__lte=deadline)
            .order_by("pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        ReportingPeriod.objects.filter(pk__in=owed).update(rollup_due_at=now)
        for period_id in owed:
            send_on_commit("rollup_period", period_id)
            swept.rollups_sent.append(period_id)


def _sweep_exports(now: datetime, swept: Swept) -> None:
    deadline = now - timedelta(seconds=settings.EXPORT_REQUEUE_AFTER)
    with transaction.atomic():
        waiting = list(
            Export.objects.select_for_update(skip_locked=True)
            .filter(status=ExportStatus.QUEUED)
            .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=deadline))
            .order_by("pk")[:SWEEP_BATCH]
        )
        for export in waiting:
            export_send(export)
            swept.exports_sent.append(export.pk)
    # Rendering with a stale heartbeat (its worker died), or for longer than any render
    # may run.
    stale = now - timedelta(seconds=settings.EXPORT_HEARTBEAT_STALE)
    dead = list(
        Export.objects.filter(status=ExportStatus.RENDERING)
        .filter(Q(started_at__lt=deadline) | Q(heartbeat_at__lt=stale))
        .order_by("pk")
        .values_list("pk", "started_at")[:SWEEP_BATCH]
    )
    for export_id, started_at in dead:
        recovered = export_recover(export_id, started_at=started_at)
        if recovered is not None and recovered.status == ExportStatus.QUEUED:
            swept.exports_sent.append(export_id)
        elif Export.objects.filter(pk=export_id, status=ExportStatus.FAILED).exists():
            swept.exports_failed.append(export_id)


# A reminder claimed but not e-mailed this long after (its message lost) is sent again;
# one claimed more than a day ago is left alone: it would no longer be timely.
REMINDER_RESEND_AFTER = timedelta(minutes=5)
REMINDER_RESEND_WITHIN = timedelta(days=1)


def _sweep_reminders(now: datetime, swept: Swept) -> None:
    unsent = list(
        Reminder.objects.filter(
            status=ReminderStatus.CLAIMED,
            sent_at__isnull=True,
            claimed_at__lt=now - REMINDER_RESEND_AFTER,
            claimed_at__gte=now - REMINDER_RESEND_WITHIN,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for reminder_id in unsent:
        # At most once all the same: reminder_deliver claims it before it is e-mailed.
        if send("send_reminder", reminder_id):
            swept.reminders_sent.append(reminder_id)
