"""Reminder e-mails about quarterly reports: the schedule around each due date (run
daily by Celery beat) and the ones JFF staff send from the status board.

At most once: a reminder is *claimed* by inserting its row before anything is sent. A
scheduled kind has one row per period (a partial unique constraint), so a second beat
run on the same day, or two running at once, cannot claim it again; every reminder,
scheduled or manual, is then *taken* for sending by one conditional UPDATE, so a
redelivered task cannot send it twice. A failure after the claim leaves the row
``failed`` with the error and is not retried (docs/reminders.md).
"""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bpij import services as platform
from bpij.models import AuditAction, User
from grantees.models import CoachAssignment, Membership
from reporting import permissions
from reporting.models import (
    OPEN_STATES,
    SENT_STATES,
    SETTLED_STATES,
    Reminder,
    ReminderKind,
    ReminderStatus,
    ReportingPeriod,
    Submission,
    SubmissionState,
)

# Each scheduled kind and its day relative to the due date.
SCHEDULE: tuple[tuple[ReminderKind, int], ...] = (
    (ReminderKind.BEFORE_14, -14),
    (ReminderKind.BEFORE_3, -3),
    (ReminderKind.DUE, 0),
    (ReminderKind.LATE_1, 1),
    (ReminderKind.LATE_7, 7),
)
# A point missed by beat (the worker was down) is still sent until the next point is
# due; the last one, until a week after it. Only the latest point is ever sent, so a
# grantee never gets "14 days to go" after the due date, nor two e-mails on one day.
LAST_WINDOW_DAYS = 7
LATE_KINDS = frozenset({ReminderKind.LATE_1, ReminderKind.LATE_7})


def scheduled_kind(due: date, today: date) -> ReminderKind | None:
    """The scheduled reminder whose window contains ``today``, if any."""
    offset = (today - due).days
    for index, (kind, day) in enumerate(SCHEDULE):
        ends = SCHEDULE[index + 1][1] if index + 1 < len(SCHEDULE) else day + LAST_WINDOW_DAYS
        if day <= offset < ends:
            return kind
    return None


def reminders_send_due(*, today: date) -> list[Reminder]:
    """Claim and send today's scheduled reminders for every period not yet sent.

    Not one transaction, on purpose: each claim must be committed before its e-mail
    goes, so that another run sees it; each reminder is then sent and marked on its own.
    """
    first_day, last_day = SCHEDULE[0][1], SCHEDULE[-1][1] + LAST_WINDOW_DAYS - 1
    periods = list(
        ReportingPeriod.objects.filter(
            due_date__gte=today - timedelta(days=last_day),
            due_date__lte=today - timedelta(days=first_day),
        )
        .exclude(submissions__state__in=SENT_STATES)
        .order_by("due_date", "pk")
    )
    claimed = set(
        Reminder.objects.filter(period__in=periods)
        .exclude(kind=ReminderKind.MANUAL)
        .values_list("period_id", "kind")
    )
    done = []
    for period in periods:
        kind = scheduled_kind(period.due_date, today)
        if kind is None or (period.pk, kind) in claimed:
            continue
        reminder = _claim(period, kind)
        if reminder is None:
            continue  # Another run claimed it between our read and our insert.
        done.append(reminder_deliver(reminder_id=reminder.pk, today=today) or reminder)
    return done


def _claim(period: ReportingPeriod, kind: str, actor: User | None = None) -> Reminder | None:
    try:
        with transaction.atomic():
            return Reminder.objects.create(
                coalition_id=period.coalition_id, period=period, kind=kind, sent_by=actor
            )
    except IntegrityError:
        return None


@transaction.atomic
def reminder_send_manual(*, period: ReportingPeriod, actor: User) -> Reminder:
    """A reminder sent by JFF staff from the status board: claimed now, e-mailed by a
    task once the claim is committed. Refused when the report needs nothing more from
    the grantee (sent and not returned)."""
    if not permissions.can_remind(actor):
        raise PermissionDenied
    if not ReportingPeriod.objects.visible_to(actor).filter(pk=period.pk).exists():
        raise PermissionDenied
    latest = Submission.objects.filter(period=period).order_by("-version").first()
    coalition = period.coalition
    if latest is not None and latest.state in SETTLED_STATES:
        raise ValidationError(
            f"{coalition.name} has already sent its {period.quarter} report (version "
            f"{latest.version} is {latest.get_state_display().lower()}); no reminder was sent."
        )
    if period.start_date > timezone.localdate():
        raise ValidationError(
            f"{period.quarter} has not begun; {coalition.name} cannot report on it yet."
        )
    reminder = Reminder.objects.create(
        coalition_id=period.coalition_id, period=period, kind=ReminderKind.MANUAL, sent_by=actor
    )
    # Claimed whatever the broker does; one not sent (Redis down) is sent by the sweeper
    # (reporting.services.recovery), at most once (reminder_deliver claims it).
    from reporting.services import recovery

    recovery.send_on_commit("send_reminder", reminder.pk)
    return reminder


def reminder_deliver(*, reminder_id: int, today: date | None = None) -> Reminder | None:
    """Send a claimed reminder and mark it sent or failed. Returns None when another
    run already took it."""
    taken = Reminder.objects.filter(
        pk=reminder_id, status=ReminderStatus.CLAIMED, sent_at__isnull=True
    ).update(sent_at=timezone.now())
    if not taken:
        return None
    reminder = Reminder.objects.select_related("period__coalition", "sent_by").get(pk=reminder_id)
    period = reminder.period
    today = today or timezone.localdate()
    versions = list(Submission.objects.filter(period=period).order_by("-version"))
    latest = versions[0] if versions else None
    if reminder.kind == ReminderKind.MANUAL:
        settled = latest is not None and latest.state in SETTLED_STATES
    else:
        settled = any(v.state in SENT_STATES for v in versions)
    if settled:
        return _mark_failed(
            reminder, "The report was sent before this reminder went out, so it was not sent."
        )
    to = _grantee_addresses(period.coalition_id)
    cc = _cc_addresses(reminder)
    if not to:
        return _mark_failed(
            reminder,
            f"{period.coalition.name} has no active administrator or reporter to write to; "
            "invite one from the coalition's members page.",
        )
    context = _context(reminder, latest, today=today)
    subject = _subject(context)
    Reminder.objects.filter(pk=reminder.pk).update(recipients=to, cc=cc, subject=subject)
    reminder.recipients, reminder.cc, reminder.subject = to, cc, subject
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"email/reminder_{reminder.kind}.txt", context),
        to=to,
        cc=cc,
        reply_to=[reminder.sent_by.email] if reminder.sent_by else None,
    )
    message.attach_alternative(
        render_to_string(f"email/reminder_{reminder.kind}.html", context), "text/html"
    )
    try:
        message.send()
    except OSError as error:  # smtplib's errors are OSErrors, like a refused connection.
        return _mark_failed(reminder, f"The mail server refused it: {error}")
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.SENT)
    reminder.status = ReminderStatus.SENT
    platform.audit_record(
        action=AuditAction.REMINDER_SENT,
        actor=reminder.sent_by,
        coalition=period.coalition,
        target=f"{reminder.get_kind_display()} reminder, {period.quarter} report",
        detail={"reminder": str(reminder.code), "kind": reminder.kind, "to": to, "cc": cc},
    )
    return reminder


def _mark_failed(reminder: Reminder, error: str) -> Reminder:
    Reminder.objects.filter(pk=reminder.pk).update(status=ReminderStatus.FAILED, error=error)
    reminder.status, reminder.error = ReminderStatus.FAILED, error
    return reminder


def _grantee_addresses(coalition_id: int) -> list[str]:
    return sorted(Membership.objects.filers(coalition_id).values_list("user__email", flat=True))


def _cc_addresses(reminder: Reminder) -> list[str]:
    """Late reminders copy the coalition's coaches; a manual one copies its sender."""
    if reminder.kind in LATE_KINDS:
        return sorted(
            CoachAssignment.objects.filter(
                coalition_id=reminder.coalition_id, coach__is_active=True
            ).values_list("coach__email", flat=True)
        )
    if reminder.kind == ReminderKind.MANUAL and reminder.sent_by:
        return [reminder.sent_by.email]
    return []


def what_is_missing(latest: Submission | None) -> str:
    """One sentence on what the report still needs, for the e-mail and the board."""
    if latest is None:
        return "Nobody has started the report yet."
    version = f"Version {latest.version}"
    if latest.state == SubmissionState.DRAFT:
        return f"{version} is a draft: the participant file has not been uploaded yet."
    if latest.state == SubmissionState.CHECKING:
        return f"{version}'s files are being checked right now."
    if latest.state == SubmissionState.NEEDS_FIXES:
        errors = latest.error_count
        return (
            f"{version} has {errors} error{'s' if errors != 1 else ''} to fix; correct the "
            "files and upload them again."
        )
    if latest.state == SubmissionState.READY:
        return (
            f"{version} passed the checks with zero errors but has not been certified: a "
            "coalition administrator must certify and submit it."
        )
    if latest.state == SubmissionState.RETURNED:
        return (
            f"JFF returned {version.lower()} for revision: read the reviewer's reasons, "
            "then fix and send a new version."
        )
    return f"{version} is {latest.get_state_display().lower()}."


def _context(reminder: Reminder, latest: Submission | None, *, today: date) -> dict:
    period = reminder.period
    days = (period.due_date - today).days
    if days > 1:
        when = f"due in {days} days"
    elif days == 1:
        when = "due tomorrow"
    elif days == 0:
        when = "due today"
    else:
        when = f"{-days} day{'s' if days != -1 else ''} late"
    link = settings.SITE_URL + reverse(
        "reporting:period-detail",
        kwargs={"coalition_code": period.coalition.code, "quarter": period.quarter},
    )
    return {
        "reminder": reminder,
        "coalition": period.coalition,
        "period": period,
        "quarter_label": period.as_quarter.label,
        "due_date": period.due_date,
        "days": days,
        "days_late": -days,
        "when": when,
        "missing": what_is_missing(latest),
        "latest": latest,
        "is_open": latest is None or latest.state in OPEN_STATES,
        "link": link,
        "sender": reminder.sent_by,
    }


def _subject(context: dict) -> str:
    return (
        f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{context['coalition'].name}: the "
        f"{context['period'].quarter} report is {context['when']}"
    )
