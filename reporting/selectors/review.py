"""Read models for the review pages: the queue, comment threads, pins."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from bpij.models import User
from reporting.checks import rules
from reporting.models import Finding, Submission, SubmissionComment, SubmissionState
from reporting.selectors import FIGURES, WINDOWS

FIGURE_LABELS = {key: label for key, label, _ in FIGURES}
WINDOW_LABELS = dict(WINDOWS)
QUEUE_STATES = (SubmissionState.SUBMITTED, SubmissionState.IN_REVIEW)


# Findings have no public identifier of their own, and integer keys never leave the
# database, so a pin names a finding by what the grantee sees: file, row, rule, column.
def finding_key(finding: Finding) -> str:
    return f"{finding.file}:{finding.row or ''}:{finding.code}:{finding.column}"


def finding_by_key(submission: Submission, key: str) -> Finding | None:
    parts = key.split(":")
    if len(parts) != 4:
        return None
    file, row, code, column = parts
    if row and not row.isdigit():
        return None
    return (
        Finding.objects.filter(
            upload__submission=submission,
            upload__is_current=True,
            file=file,
            row=int(row) if row else None,
            code=code,
            column=column,
        )
        .order_by("id")
        .first()
    )


def finding_label(finding: Finding) -> str:
    where = f"{finding.file} row {finding.row}" if finding.row else finding.file
    column = f", column {finding.column}" if finding.column else ""
    return f"{rules.label(finding.code)} in {where}{column}"


def comment_pin_label(comment: SubmissionComment) -> str:
    """What a thread is about, in words: a figure (and window), a finding, or nothing."""
    if comment.figure_key:
        label = f"{comment.figure_key} {FIGURE_LABELS.get(comment.figure_key, '')}".strip()
        if comment.figure_window:
            label += f" ({WINDOW_LABELS.get(comment.figure_window, comment.figure_window)})"
        return label
    if comment.finding is not None:
        return finding_label(comment.finding)
    return ""


@dataclass
class Thread:
    first: SubmissionComment
    replies: list[SubmissionComment] = field(default_factory=list)

    @property
    def pin(self) -> str:
        return comment_pin_label(self.first)

    @property
    def anchor(self) -> str:
        return f"thread-{self.first.code}"


def comment_threads(submission: Submission) -> list[Thread]:
    """The version's review conversation, oldest thread first, in one query."""
    comments = SubmissionComment.objects.filter(submission=submission).select_related(
        "author", "finding"
    )
    threads: dict[int, Thread] = {}
    for comment in comments.order_by("created_at", "id"):
        if comment.parent_id is None:
            threads[comment.pk] = Thread(first=comment)
        elif comment.parent_id in threads:
            threads[comment.parent_id].replies.append(comment)
    return list(threads.values())


def pins_by_figure(threads: list[Thread]) -> Counter:
    return Counter(t.first.figure_key for t in threads if t.first.figure_key)


def review_warnings(submission: Submission, *, limit: int = 50) -> list[dict]:
    """The first warnings of the version's files (a sent version has no errors), each
    with the key a comment pins it by."""
    rows = Finding.objects.filter(
        upload__submission=submission, upload__is_current=True, severity="warning"
    ).order_by("file", "row", "id")[:limit]
    return [{"finding": f, "key": finding_key(f), "label": finding_label(f)} for f in rows]


def days_after_due(submission: Submission) -> int | None:
    """Days the version was sent after the due date (negative: before it)."""
    if submission.submitted_at is None:
        return None
    return (timezone.localdate(submission.submitted_at) - submission.period.due_date).days


@dataclass
class QueueRow:
    submission: Submission
    today: date

    @property
    def days_waiting(self) -> int:
        assert self.submission.submitted_at is not None
        return (self.today - timezone.localdate(self.submission.submitted_at)).days

    @property
    def days_after_due(self) -> int | None:
        return days_after_due(self.submission)


def review_queue(user: User, *, today: date, state: str = "") -> list[QueueRow]:
    """Submitted and in-review versions the user may see, oldest submission first."""
    states = [state] if state in QUEUE_STATES else list(QUEUE_STATES)
    rows = (
        Submission.objects.visible_to(user)
        .filter(state__in=states)
        .select_related("coalition", "period", "reviewed_by")
        .order_by("submitted_at", "id")
    )
    return [QueueRow(submission=s, today=today) for s in rows]
