"""JFF's review of a submitted version: start the review, comment, return for revision,
accept. Every step is one conditional state change (``transitions.transition``), a timeline event
and an audit entry; returning e-mails the coalition and acceptance and return refresh
the period's roll-up, both queued on commit."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bpij import services as platform
from bpij.models import AuditAction, User
from grantees.models import Membership
from reporting import catalogue, permissions
from reporting.models import (
    SENT_STATES,
    Finding,
    ReturnReason,
    Submission,
    SubmissionComment,
    SubmissionState,
)
from reporting.selectors import review as review_selectors
from reporting.services import recovery, transitions

# Versions a reviewer can still act on.
REVIEWABLE_STATES = (SubmissionState.SUBMITTED, SubmissionState.IN_REVIEW)
MAX_COMMENT = 5000
MAX_NOTE = 5000


def _start_review(submission: Submission, *, actor: User) -> bool:
    """Move a submitted version into review; False if it was not (or no longer) submitted."""
    won = transitions.transition(
        submission,
        from_states=(SubmissionState.SUBMITTED,),
        to_state=SubmissionState.IN_REVIEW,
        actor=actor,
        kind="review_started",
        review_started_at=timezone.now(),
        reviewed_by=actor,
    )
    if won:
        platform.audit_record(
            action=AuditAction.REVIEW_STARTED,
            actor=actor,
            coalition=submission.coalition,
            target=submission.report_label,
        )
    return won


@transaction.atomic
def submission_review_start(*, submission: Submission, actor: User) -> Submission:
    if not permissions.can_review(actor, submission):
        raise PermissionDenied
    if submission.state != SubmissionState.SUBMITTED:
        raise ValidationError(
            f"Version {submission.version} is {submission.get_state_display().lower()}; "
            "only a submitted version can be taken into review."
        )
    if not _start_review(submission, actor=actor):
        raise transitions.lost_race(submission)
    return submission


def _pinned_finding(submission: Submission, key: str) -> Finding:
    finding = review_selectors.finding_by_key(submission, key)
    if finding is None:
        raise ValidationError(
            "The finding to comment on is not one of this version's findings; choose one "
            "from the list, or leave the finding empty."
        )
    return finding


@transaction.atomic
def submission_comment(
    *,
    submission: Submission,
    actor: User,
    body: str,
    parent: SubmissionComment | None = None,
    figure_key: str = "",
    figure_window: str = "",
    finding_key: str = "",
) -> SubmissionComment:
    """Post a comment (reviewers) or a reply (reviewers and the coalition's
    administrators and reporters). A reviewer's comment on a submitted version starts
    the review. A new thread may be pinned to one figure (and window) or one finding;
    replies belong to the thread's first comment, one level deep."""
    if not permissions.can_comment(actor, submission):
        if submission.state not in SENT_STATES:
            raise ValidationError(
                f"Version {submission.version} has not been submitted; comments open once it is."
            )
        raise PermissionDenied
    body = body.strip()
    if not body:
        raise ValidationError("Write the comment first: it cannot be empty.")
    if len(body) > MAX_COMMENT:
        raise ValidationError(
            f"The comment has {len(body):,} characters; at most {MAX_COMMENT:,} are allowed."
        )
    reviewer = permissions.can_review(actor, submission)
    if parent is not None:
        if parent.submission_id != submission.pk:
            raise ValidationError("That comment belongs to another version; reply on its page.")
        if parent.parent_id is not None:
            parent = parent.parent  # Replies stay one level deep, under the thread's start.
        if figure_key or figure_window or finding_key:
            raise ValidationError("A reply belongs to its thread; it cannot be pinned itself.")
    elif not reviewer:
        raise ValidationError(
            "Coalition members reply to JFF's comments; choose the comment to reply to."
        )
    finding = None
    figure_keys = set(catalogue.FIGURE_KEYS)
    windows = set(catalogue.WINDOW_NAMES)
    if figure_key and finding_key:
        raise ValidationError("Pin the comment to a figure or to a finding, not both.")
    if figure_key and figure_key not in figure_keys:
        raise ValidationError(
            f"{figure_key!r} is not a figure of the report; use a key such as A-2 or E-1."
        )
    if figure_window and figure_window not in windows:
        raise ValidationError(
            f"{figure_window!r} is not a window; use one of {', '.join(sorted(windows))}."
        )
    if figure_window and not figure_key:
        raise ValidationError("Choose the figure the window belongs to.")
    if finding_key:
        finding = _pinned_finding(submission, finding_key)
    if reviewer:
        _start_review(submission, actor=actor)
    comment = SubmissionComment.objects.create(
        coalition_id=submission.coalition_id,
        submission=submission,
        parent=parent,
        author=actor,
        body=body,
        figure_key=figure_key,
        figure_window=figure_window,
        finding=finding,
    )
    pin = review_selectors.comment_pin_label(comment)
    excerpt = body if len(body) <= 200 else body[:199] + "…"
    transitions.event(
        submission,
        "commented",
        actor=actor,
        note=(f"Reply: {excerpt}" if parent else f"{pin}: {excerpt}" if pin else excerpt),
    )
    platform.audit_record(
        action=AuditAction.SUBMISSION_COMMENTED,
        actor=actor,
        coalition=submission.coalition,
        target=submission.report_label,
        detail={
            "comment": str(comment.code),
            "reply_to": str(parent.code) if parent else None,
            "figure": figure_key or None,
            "window": figure_window or None,
            "finding": finding_key or None,
        },
    )
    return comment


def _clean_reasons(reasons: list[str]) -> list[str]:
    if not reasons:
        raise ValidationError(
            "Choose at least one reason for returning the report, so the coalition knows "
            "what to fix."
        )
    unknown = [r for r in reasons if r not in ReturnReason.values]
    if unknown:
        raise ValidationError(
            f"{', '.join(map(repr, unknown))} is not a return reason; use "
            f"{', '.join(ReturnReason.values)}."
        )
    return [r for r in ReturnReason.values if r in reasons]  # Form order, no repeats.


@transaction.atomic
def submission_return(
    *,
    submission: Submission,
    actor: User,
    reasons: list[str],
    note: str,
) -> Submission:
    """Send a submitted or in-review version back to the coalition for revision, with
    reasons and a note. The coalition's administrators and reporters are e-mailed; they
    then start a new version, which begins from this one's files and narrative."""
    if not permissions.can_review(actor, submission):
        raise PermissionDenied
    reasons = _clean_reasons(list(reasons))
    note = note.strip()
    if not note:
        raise ValidationError(
            "Write a note saying what to change: the coalition sees it with the reasons."
        )
    if len(note) > MAX_NOTE:
        raise ValidationError(f"The note has {len(note):,} characters; at most {MAX_NOTE:,}.")
    if submission.state not in REVIEWABLE_STATES:
        raise ValidationError(
            f"Version {submission.version} is {submission.get_state_display().lower()}; "
            "only a submitted or in-review version can be returned."
        )
    if submission.state == SubmissionState.SUBMITTED:
        _start_review(submission, actor=actor)
    labels = [str(ReturnReason(r).label) for r in reasons]
    won = transitions.transition(
        submission,
        from_states=REVIEWABLE_STATES,
        to_state=SubmissionState.RETURNED,
        actor=actor,
        kind="returned",
        note="; ".join(labels) + f". {note}",
        return_reasons=reasons,
        return_note=note,
        returned_at=timezone.now(),
        reviewed_by=actor,
    )
    if not won:
        raise transitions.lost_race(submission)
    platform.audit_record(
        action=AuditAction.SUBMISSION_RETURNED,
        actor=actor,
        coalition=submission.coalition,
        target=submission.report_label,
        detail={"reasons": reasons},
    )
    recovery.send_on_commit("send_return_notice", submission.pk)
    recovery.send_on_commit("notify_staff", submission.pk, "returned")
    recovery.rollup_owed(submission.period_id)
    return submission


@transaction.atomic
def submission_accept(*, submission: Submission, actor: User) -> Submission:
    """Accept a submitted or in-review version: it becomes the coalition's report of
    record for the quarter."""
    if not permissions.can_accept(actor, submission):
        raise PermissionDenied
    if submission.state not in REVIEWABLE_STATES:
        raise ValidationError(
            f"Version {submission.version} is {submission.get_state_display().lower()}; "
            "only a submitted or in-review version can be accepted."
        )
    won = transitions.transition(
        submission,
        from_states=REVIEWABLE_STATES,
        to_state=SubmissionState.ACCEPTED,
        actor=actor,
        kind="accepted",
        accepted_by=actor,
        accepted_at=timezone.now(),
    )
    if not won:
        raise transitions.lost_race(submission)
    platform.audit_record(
        action=AuditAction.SUBMISSION_ACCEPTED,
        actor=actor,
        coalition=submission.coalition,
        target=submission.report_label,
    )
    recovery.rollup_owed(submission.period_id)
    return submission


def return_notice_recipients(submission: Submission) -> list[User]:
    """The people who can act on a returned report: its administrators and reporters."""
    return [
        m.user
        for m in Membership.objects.filers(submission.coalition_id)
        .select_related("user")
        .order_by("user__email")
    ]


def submission_send_return_notice(*, submission_id: int) -> int:
    """E-mail the coalition that a version was returned, with the reasons and the note.
    Returns how many e-mails were sent (none if the version is not returned)."""
    submission = (
        Submission.objects.select_related("coalition", "period", "reviewed_by")
        .filter(pk=submission_id, state=SubmissionState.RETURNED)
        .first()
    )
    if submission is None:
        return 0
    period = submission.period
    link = settings.SITE_URL + reverse(
        "reporting:period-detail", args=[submission.coalition.code, period.quarter]
    )
    subject = (
        f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Your {period.quarter} report was returned "
        "for revision"
    )
    messages = []
    for person in return_notice_recipients(submission):
        context = {
            "person": person,
            "submission": submission,
            "period": period,
            "coalition": submission.coalition,
            "reasons": [ReturnReason(r).label for r in submission.return_reasons],
            "link": link,
        }
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("email/submission_returned.txt", context),
            to=[person.email],
        )
        message.attach_alternative(
            render_to_string("email/submission_returned.html", context), "text/html"
        )
        messages.append(message)
    if messages:
        get_connection().send_messages(messages)
    return len(messages)
