"""E-mail JFF's staff when a report moves (docs/review.md, "Who is told"): when a version is
certified, the coalition's coaches and the program officers; when a coach (or anyone)
returns one, the program officers, who did not make the decision themselves.

One e-mail per person and event. No participant data goes into them: the coalition, the
quarter, the version, who certified or returned it, the return reasons (their labels) and
a link to the review page, built from SITE_URL.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse

from bpij.models import StaffRole, User
from grantees.models import CoachAssignment
from reporting.models import ReturnReason, Submission, SubmissionState

CERTIFIED = "certified"
RETURNED = "returned"
EVENTS = (CERTIFIED, RETURNED)


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
        "link": settings.SITE_URL + reverse("reporting:submission-review", args=[submission.code]),
    }


def subject_of(submission: Submission, event: str) -> str:
    quarter = submission.period.quarter
    name = submission.coalition.name
    if event == CERTIFIED:
        return f"{name} certified its {quarter} report (version {submission.version})"
    return f"{name}'s {quarter} report (version {submission.version}) was returned"


def submission_notify_staff(*, submission_id: int, event: str) -> int:
    """E-mail the staff concerned that ``submission`` was certified or returned. Returns
    how many e-mails were sent (none for a version not in a state the event left)."""
    if event not in EVENTS:
        raise ValueError(f"Unknown event {event!r}; expected one of {EVENTS}.")
    submission = _submission(submission_id, event)
    if submission is None:
        return 0
    context = event_context(submission, event)
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject_of(submission, event)
    messages = []
    for person in recipients(submission, event):
        personal = {"person": person, **context}
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"email/staff_{event}.txt", personal),
            to=[person.email],
        )
        message.attach_alternative(
            render_to_string(f"email/staff_{event}.html", personal), "text/html"
        )
        messages.append(message)
    if messages:
        get_connection().send_messages(messages)
    return len(messages)
