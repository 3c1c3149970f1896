"""E-mail JFF's staff when a report moves (docs/review.md, "Who is told"): when a version is
certified, the coalition's coaches and the program officers; when a coach (or anyone)
returns one, the program officers, who did not make the decision themselves.

One e-mail per person and event. No participant data goes into them: the coalition, the
quarter, the version, who certified or returned it, the return reasons (their labels) and
a link to the review page, built from SITE_URL.
"""

import datetime
from collections import defaultdict

from django.conf import settings
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from bpij.models import JFF_STAFF_ROLES, StaffRole, User
from grantees.models import CoachAssignment
from reporting.models import (
    NotificationKind,
    NotificationMode,
    NotificationSetting,
    ReturnReason,
    ReviewReminder,
    ReviewReminderStage,
    StaffNotice,
    Submission,
    SubmissionState,
)
from reporting.services import mail

CERTIFIED = NotificationKind.CERTIFIED.value
RETURNED = NotificationKind.RETURNED.value
REVIEW_WAITING = NotificationKind.REVIEW_WAITING.value
EVENTS = (CERTIFIED, RETURNED)
# A person who never chose gets each e-mail as it happens: these e-mails are what a
# reviewer acts on, and a new coach should not miss the first report sent to them.
DEFAULT_MODE = NotificationMode.EACH.value


def may_choose(user: User) -> bool:
    """JFF's staff (coaches, program officers, JFF administrators) receive these e-mails
    and so have a settings page; grantees and the FPO receive none of them."""
    return user.staff_role in JFF_STAFF_ROLES


def modes_of(user: User) -> dict[str, str]:
    """{kind: mode} for every kind, defaults filled in."""
    chosen = dict(NotificationSetting.objects.filter(user=user).values_list("kind", "mode"))
    return {kind: chosen.get(kind, DEFAULT_MODE) for kind in NotificationKind.values}


def settings_save(*, user: User, modes: dict[str, str]) -> None:
    for kind, mode in modes.items():
        NotificationSetting.objects.update_or_create(
            user=user, kind=NotificationKind(kind), defaults={"mode": NotificationMode(mode)}
        )


def _reachable(users) -> list[User]:
    return [u for u in users if u.is_active and u.email]


def program_officers() -> list[User]:
    return _reachable(User.objects.filter(staff_role=StaffRole.PROGRAM_OFFICER).order_by("email"))


def coaches_of(coalition_id: int) -> list[User]:
    return _reachable(
        a.coach
        for a in CoachAssignment.objects.filter(coalition_id=coalition_id)
        .select_related("coach")
        .order_by("coach__email")
    )


def recipients(submission: Submission, event: str) -> list[User]:
    """Who is told of ``event`` on ``submission``, each once: on certification the
    coalition's coaches and the program officers; on a return the program officers but
    the one who returned it."""
    if event == CERTIFIED:
        people = coaches_of(submission.coalition_id) + program_officers()
    else:
        people = [p for p in program_officers() if p.pk != submission.reviewed_by_id]
    seen: set[int] = set()
    unique = []
    for person in people:
        if person.pk not in seen:
            seen.add(person.pk)
            unique.append(person)
    return unique


def _submission(submission_id: int, event: str) -> Submission | None:
    state = {
        CERTIFIED: (SubmissionState.SUBMITTED, SubmissionState.IN_REVIEW,
                    SubmissionState.ACCEPTED, SubmissionState.RETURNED),
        RETURNED: (SubmissionState.RETURNED,),
    }[event]  # fmt: skip
    return (
        Submission.objects.select_related("coalition", "period", "reviewed_by", "certified_by")
        .filter(pk=submission_id, state__in=state)
        .first()
    )


def event_context(submission: Submission, event: str) -> dict:
    period = submission.period
    return {
        "event": event,
        "submission": submission,
        "period": period,
        "coalition": submission.coalition,
        "reasons": [ReturnReason(r).label for r in submission.return_reasons or []],
        "days": waiting_days(submission),
        "link": settings.SITE_URL + reverse("reporting:submission-review", args=[submission.code]),
    }


def subject_of(submission: Submission, event: str) -> str:
    quarter = submission.period.quarter
    name = submission.coalition.name
    if event == CERTIFIED:
        return f"{name} certified its {quarter} report (version {submission.version})"
    if event == REVIEW_WAITING:
        days = waiting_days(submission)
        return (
            f"{name}'s {quarter} report (version {submission.version}) has waited "
            f"{days} day{'' if days == 1 else 's'} for review"
        )
    return f"{name}'s {quarter} report (version {submission.version}) was returned"


def submission_notify_staff(*, submission_id: int, event: str) -> int:
    """E-mail the staff concerned that ``submission`` was certified or returned. Returns
    how many e-mails were sent (none for a version not in a state the event left)."""
    if event not in EVENTS:
        raise ValueError(f"Unknown event {event!r}; expected one of {EVENTS}.")
    submission = _submission(submission_id, event)
    if submission is None:
        return 0
    return deliver(submission, event, recipients(submission, event))


def deliver(submission: Submission, kind: str, people: list[User]) -> int:
    """Tell ``people`` of ``kind`` on ``submission`` as each has chosen: an e-mail now,
    a row kept for their digest, or nothing. Returns how many e-mails were sent."""
    context = event_context(submission, kind)
    subject = subject_of(submission, kind)
    chosen = dict(
        NotificationSetting.objects.filter(user__in=people, kind=kind).values_list(
            "user_id", "mode"
        )
    )
    messages = []
    for person in people:
        mode = chosen.get(person.pk, DEFAULT_MODE)
        if mode == NotificationMode.OFF:
            continue
        if mode == NotificationMode.DIGEST:
            # Kept for the day's digest; a redelivered task finds the row already there.
            StaffNotice.objects.get_or_create(
                user=person,
                kind=kind,
                submission=submission,
                defaults={"coalition_id": submission.coalition_id},
            )
            continue
        messages.append(
            mail.templated(f"staff_{kind}", subject, person.email, {"person": person, **context})
        )
    if messages:
        get_connection().send_messages(messages)
    return len(messages)


def waiting_days(submission: Submission, now: datetime.datetime | None = None) -> int:
    if submission.submitted_at is None:
        return 0
    return ((now or timezone.now()) - submission.submitted_at).days


def review_reminders_send(*, now: datetime.datetime | None = None) -> list[ReviewReminder]:
    """Beat, daily: remind the coaches of every version waiting in review (submitted or
    in review) for more than REVIEW_REMINDER_DAYS, and the program officers of one
    waiting more than REVIEW_ESCALATION_DAYS. At most once per version and stage: each
    reminder is claimed by inserting its row (one per version and stage) before it is
    sent, and committed first, so a second run or one running at once cannot send it
    again; a failure after the claim is not retried."""
    now = now or timezone.now()
    first = now - datetime.timedelta(days=settings.REVIEW_REMINDER_DAYS)
    second = now - datetime.timedelta(days=settings.REVIEW_ESCALATION_DAYS)
    waiting = list(
        Submission.objects.filter(
            state__in=(SubmissionState.SUBMITTED, SubmissionState.IN_REVIEW),
            submitted_at__lt=first,
        )
        .select_related("coalition", "period", "reviewed_by")
        .order_by("submitted_at", "pk")
    )
    claimed = set(
        ReviewReminder.objects.filter(submission__in=waiting).values_list("submission_id", "stage")
    )
    done = []
    for submission in waiting:
        assert submission.submitted_at is not None  # a sent version always has one
        stages = [ReviewReminderStage.COACH]
        if submission.submitted_at < second:
            stages.append(ReviewReminderStage.OFFICERS)
        for stage in stages:
            if (submission.pk, stage) in claimed:
                continue
            try:
                with transaction.atomic():
                    reminder = ReviewReminder.objects.create(
                        coalition_id=submission.coalition_id, submission=submission, stage=stage
                    )
            except IntegrityError:
                continue  # Another run claimed it between our read and our insert.
            if stage == ReviewReminderStage.COACH:
                people = coaches_of(submission.coalition_id)
            else:
                people = program_officers()
            reminder.recipients = [p.email for p in people]
            reminder.save(update_fields=["recipients"])
            deliver(submission, REVIEW_WAITING, people)
            done.append(reminder)
    return done


def _claim(user_id: int, now: datetime.datetime) -> list[StaffNotice]:
    """Take a person's waiting events for one digest: marked before the e-mail is sent,
    under a row lock that a concurrent run skips, so each event is in at most one."""
    with transaction.atomic():
        ids = list(
            StaffNotice.objects.filter(user_id=user_id, digested_at=None)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        StaffNotice.objects.filter(pk__in=ids).update(digested_at=now)
    return list(
        StaffNotice.objects.filter(pk__in=ids)
        .select_related("submission__period", "submission__reviewed_by", "coalition")
        .order_by("created_at", "pk")
    )


def digests_send(*, now: datetime.datetime | None = None) -> int:
    """Beat, daily: one e-mail per person with the events kept for their digest since
    the last one. Returns how many digests were sent. At-most-once per event."""
    now = now or timezone.now()
    waiting = (
        StaffNotice.objects.filter(digested_at=None).values_list("user_id", flat=True).distinct()
    )
    sent = 0
    for user_id in sorted(set(waiting)):
        notices = _claim(user_id, now)
        person = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
        if not notices or person is None:
            continue
        groups: dict[str, list[dict]] = defaultdict(list)
        for notice in notices:
            submission = notice.submission
            groups[notice.kind].append(
                {
                    "summary": subject_of(submission, notice.kind),
                    "at": notice.created_at,
                    **event_context(submission, notice.kind),
                }
            )
        context = {
            "person": person,
            "sections": [
                {"label": NotificationKind(kind).label, "events": groups[kind]}
                for kind in NotificationKind.values
                if groups[kind]
            ],
            "count": len(notices),
            "settings_link": settings.SITE_URL + reverse("reporting:notification-settings"),
        }
        count = len(notices)
        mail.templated(
            "staff_digest",
            f"Daily digest: {count} report event{'' if count == 1 else 's'}",
            person.email,
            context,
        ).send()
        sent += 1
    return sent
