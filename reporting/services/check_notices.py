"""E-mail the person who set off a check when it finishes (docs/reporting.md, "E-mail when
the checks finish"): if they have left the report page, always for a file over
``ALWAYS_ROWS`` rows, and always when the checks failed.

Whether they are still on the page is read from the cache (Redis in production, shared by
the web processes and the workers): the page records the moment it was last seen — when
it is shown while the checks run, each time its status line polls, and at the upload
itself — per version and person. The page polls every ``POLL_SECONDS``; one not seen for
``LEFT_AFTER_SECONDS`` (two polls and a margin for a slow reload) has been left.

No SSN and no value of any row goes into these e-mails: counts, the file's kind, its
name (SSN-shaped runs masked), the quarter and links.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from bpij.models import User
from reporting import pii
from reporting.models import Submission, SubmissionEvent, SubmissionState, Upload, UploadKind
from reporting.services import mail

logger = logging.getLogger(__name__)

# The report page's status line polls this often (hx-trigger="every 1s" in
# templates/reporting/period_detail.html, check_status).
POLL_SECONDS = 1
# Not seen for two polls and a margin (a reload after the upload, a slow connection): left.
LEFT_AFTER_SECONDS = 2 * POLL_SECONDS + 8
# A file this long takes long enough to check that its sender is always told.
ALWAYS_ROWS = 10_000
# How long a "last seen" is kept: far longer than any check takes.
_SEEN_TTL_SECONDS = 6 * 60 * 60


def _seen_key(submission_id: int, user_id: int) -> str:
    return f"bpij:report-page-seen:{submission_id}:{user_id}"


def page_seen(submission: Submission, user: User) -> None:
    """Record that ``user`` has the report page of ``submission`` open now."""
    cache.set(_seen_key(submission.pk, user.pk), time.time(), _SEEN_TTL_SECONDS)


def has_left(submission: Submission, user: User) -> bool:
    seen = cache.get(_seen_key(submission.pk, user.pk))
    return seen is None or time.time() - float(seen) > LEFT_AFTER_SECONDS


def checked_by(submission: Submission) -> User | None:
    """Who set off the checks: the person of the latest "checks started" event (an
    upload, or starting a version from a returned one), else whoever sent the latest
    current file."""
    event = (
        SubmissionEvent.objects.filter(submission=submission, kind="checking")
        .exclude(actor=None)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    if event is not None:
        return event.actor
    upload = (
        Upload.objects.filter(submission=submission, is_current=True)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
        .first()
    )
    return upload.uploaded_by if upload else None


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _links(submission: Submission) -> dict[str, str]:
    period = submission.period
    return {
        "report_link": settings.SITE_URL
        + reverse("reporting:period-detail", args=[submission.coalition.code, period.quarter]),
        "findings_link": settings.SITE_URL + reverse("reporting:findings", args=[submission.code]),
    }


def _send(template: str, subject: str, person: User, context: dict) -> None:
    mail.templated(template, subject, person.email, {"person": person, **context}).send()


def submission_send_check_notice(*, submission_id: int) -> bool:
    """E-mail the result of a finished check to the person who set it off, if they have
    left the page or a file has more than ``ALWAYS_ROWS`` rows. Returns whether one was
    sent. A version no longer holding the result (a newer file is being checked) sends
    nothing."""
    submission = (
        Submission.objects.select_related("period", "coalition")
        .filter(pk=submission_id, state__in=(SubmissionState.NEEDS_FIXES, SubmissionState.READY))
        .first()
    )
    if submission is None:
        return False
    person = checked_by(submission)
    if person is None or not person.is_active or not person.email:
        return False
    uploads = sorted(
        Upload.objects.filter(submission=submission, is_current=True),
        key=lambda upload: upload.kind,
    )
    if not uploads:
        return False
    large = any(upload.data_rows > ALWAYS_ROWS for upload in uploads)
    if not large and not has_left(submission, person):
        return False
    latest = max(uploads, key=lambda upload: (upload.uploaded_at, upload.pk))
    what = UploadKind(latest.kind).label.lower()
    subject = (
        f"Your {submission.period.quarter} {what} was checked: "
        f"{_plural(latest.error_count, 'error')}, {_plural(latest.warning_count, 'warning')}"
    )
    files = [
        {
            "label": UploadKind(upload.kind).label,
            "name": pii.mask_ssns_in(upload.original_name),
            "rows": upload.data_rows,
            "error_count": upload.error_count,
            "errors": _plural(upload.error_count, "error"),
            "warnings": _plural(upload.warning_count, "warning"),
        }
        for upload in uploads
    ]
    _send(
        "checks_finished",
        subject,
        person,
        {
            "submission": submission,
            "period": submission.period,
            "coalition": submission.coalition,
            "files": files,
            "errors": submission.error_count,
            "warnings": submission.warning_count,
            "large": large,
            "always_rows": ALWAYS_ROWS,
            **_links(submission),
        },
    )
    return True


def submission_send_check_failed(*, submission_id: int) -> bool:
    """E-mail the person who set off a check that it failed (a fault in the hub, not in
    the file) and what to do: always, as the page would otherwise wait for ever."""
    submission = (
        Submission.objects.select_related("period", "coalition").filter(pk=submission_id).first()
    )
    if submission is None:
        return False
    person = checked_by(submission)
    if person is None or not person.is_active or not person.email:
        return False
    uploads = sorted(
        Upload.objects.filter(submission=submission, is_current=True),
        key=lambda upload: upload.kind,
    )
    _send(
        "checks_failed",
        f"The checks of your {submission.period.quarter} files could not finish",
        person,
        {
            "submission": submission,
            "period": submission.period,
            "coalition": submission.coalition,
            "files": [
                {
                    "label": UploadKind(upload.kind).label,
                    "name": pii.mask_ssns_in(upload.original_name),
                }
                for upload in uploads
            ],
            **_links(submission),
        },
    )
    return True
