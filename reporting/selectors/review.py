"""Read models for the review pages: the queue, comment threads, pins."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.utils import timezone

from bpij.models import User
from reporting import catalogue
from reporting.checks import rules
from reporting.models import (
    SENT_STATES,
    Finding,
    ParticipantRecord,
    PlacementRecord,
    ReturnReason,
    Submission,
    SubmissionComment,
    SubmissionState,
    Upload,
)
from reporting.selectors.reports import format_value

FIGURE_LABELS = catalogue.LABELS
WINDOW_LABELS = catalogue.WINDOW_LABELS
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
    # Across versions: the version the thread was started on, and whether the viewer
    # may still reply to it (the version is sent and they take part in the conversation).
    version: Submission | None = None
    can_reply: bool = True

    @property
    def pin(self) -> str:
        return comment_pin_label(self.first)

    @property
    def anchor(self) -> str:
        return f"thread-{self.first.code}"


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


# -- The period's history across versions (docs/review.md, "The history of the period") --


def period_versions(submission: Submission, user: User) -> list[Submission]:
    """Every version of the submission's period the user may see, oldest first: one query."""
    return list(
        Submission.objects.visible_to(user)
        .filter(period_id=submission.period_id)
        .select_related("reviewed_by", "accepted_by", "certified_by")
        .order_by("version")
    )


@dataclass
class Entry:
    """One step of the period's conversation: a version sent, returned or accepted, or a
    comment thread (with its replies), labelled with the version it belongs to."""

    kind: str  # "submitted", "returned", "accepted" or "thread"
    at: datetime
    version: Submission
    thread: Thread | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        if self.thread is not None:
            return self.thread.anchor
        return f"v{self.version.version}-{self.kind}"


def period_conversation(
    versions: list[Submission], *, can_reply: bool, can_review: bool
) -> list[Entry]:
    """The whole review conversation of the period, in time order: each version's
    sending, its comment threads (replies inside, oldest first), its return (reasons and
    note) or acceptance. One query for the comments of every version; the decisions come
    from the versions themselves. A thread takes a reply while its version is sent."""
    by_id = {v.pk: v for v in versions}
    comments = (
        SubmissionComment.objects.filter(submission_id__in=list(by_id))
        .select_related("author", "finding")
        .order_by("created_at", "id")
    )
    threads: dict[int, Thread] = {}
    for comment in comments:
        if comment.parent_id is None:
            version = by_id[comment.submission_id]
            threads[comment.pk] = Thread(
                first=comment,
                version=version,
                can_reply=version.state in SENT_STATES and (can_reply or can_review),
            )
        elif comment.parent_id in threads:
            threads[comment.parent_id].replies.append(comment)
    entries = [Entry("thread", t.first.created_at, t.version or versions[0], thread=t)
               for t in threads.values()]  # fmt: skip
    for version in versions:
        if version.submitted_at:
            entries.append(Entry("submitted", version.submitted_at, version))
        if version.returned_at and version.state == SubmissionState.RETURNED:
            reasons = [ReturnReason(r).label for r in version.return_reasons]
            entries.append(Entry("returned", version.returned_at, version, reasons=reasons))
        if version.accepted_at and version.state == SubmissionState.ACCEPTED:
            entries.append(Entry("accepted", version.accepted_at, version))
    order = {"submitted": 0, "thread": 1, "returned": 2, "accepted": 2}
    entries.sort(key=lambda e: (e.at, order[e.kind]))
    return entries


def previous_version(submission: Submission, versions: list[Submission]) -> Submission | None:
    """The version this one was started from (else the one numbered just before it)."""
    earlier = [v for v in versions if v.version < submission.version]
    for version in earlier:
        if version.pk == submission.previous_id:
            return version
    return earlier[-1] if earlier else None


@dataclass
class FileChange:
    kind: str
    before: Upload | None
    after: Upload | None

    @property
    def replaced(self) -> bool:
        before = self.before.sha256 if self.before else ""
        after = self.after.sha256 if self.after else ""
        return before != after

    @property
    def pair(self) -> tuple[Upload | None, Upload | None]:
        return self.before, self.after


@dataclass
class RowChange:
    """How a file's kept rows moved between versions, counted by participant ID (never
    by SSN): IDs present only before or only after, and the row totals."""

    kind: str
    rows_before: int
    rows_after: int
    ids_added: int
    ids_removed: int


@dataclass
class FigureCell:
    key: str
    before: Any
    after: Any

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def before_text(self) -> str:
        return format_value(self.key, self.before)

    @property
    def after_text(self) -> str:
        return format_value(self.key, self.after)


@dataclass
class FigureChange:
    """A figure with a value that moved in at least one window: before and after in each."""

    key: str
    label: str
    section: str
    cells: list[FigureCell]

    @property
    def headline(self) -> bool:
        # Participants' characteristics (section B) are detail; the rest is the headline.
        return not self.key.startswith("B-")


@dataclass
class RuleChange:
    code: str
    title: str
    severity: str
    before: int
    after: int

    @property
    def fixed(self) -> int:
        return max(self.before - self.after, 0)

    @property
    def new(self) -> int:
        return max(self.after - self.before, 0)


@dataclass
class Changes:
    previous: Submission
    files: list[FileChange]
    rows: list[RowChange]
    figures: list[FigureChange]
    unchanged_figures: int

    @property
    def headline_figures(self) -> list[FigureChange]:
        return [f for f in self.figures if f.headline]

    @property
    def detail_figures(self) -> list[FigureChange]:
        return [f for f in self.figures if not f.headline]

    findings: list[RuleChange]


_ROWS_SQL = """
    SELECT coalesce(sum(n_before), 0), coalesce(sum(n_after), 0),
           count(*) FILTER (WHERE n_before = 0), count(*) FILTER (WHERE n_after = 0)
    FROM (
        SELECT participant_id,
               count(*) FILTER (WHERE submission_id = %(before)s) AS n_before,
               count(*) FILTER (WHERE submission_id = %(after)s) AS n_after
        FROM {table}
        WHERE submission_id IN (%(before)s, %(after)s)
        GROUP BY participant_id
    ) AS per_id
"""


def _row_changes(before: Submission, after: Submission) -> list[RowChange]:
    """One statement per file: rows of each version and the participant IDs found in only
    one of them (in the database, so 100,000 rows never travel to Python)."""
    changes = []
    for kind, model in (("participants", ParticipantRecord), ("placements", PlacementRecord)):
        with connection.cursor() as cursor:
            cursor.execute(
                _ROWS_SQL.format(table=connection.ops.quote_name(model._meta.db_table)),
                {"before": before.pk, "after": after.pk},
            )
            rows_before, rows_after, added, removed = cursor.fetchone()
        changes.append(RowChange(kind, int(rows_before), int(rows_after), added, removed))
    return changes


def _finding_changes(before: Submission, after: Submission) -> list[RuleChange]:
    counts: dict[tuple[str, str], list[int]] = {}
    rows = (
        Finding.objects.filter(upload__submission__in=(before, after), upload__is_current=True)
        .values("upload__submission_id", "code", "severity")
        .annotate(count=Count("id"))
    )
    for row in rows:
        pair = counts.setdefault((row["code"], row["severity"]), [0, 0])
        pair[row["upload__submission_id"] == after.pk] += row["count"]
    changes = [
        RuleChange(code, rules.title(code), severity, n_before, n_after)
        for (code, severity), (n_before, n_after) in counts.items()
        if n_before != n_after
    ]
    return sorted(changes, key=lambda c: (c.severity, c.code))


def _figure_changes(before: dict, after: dict) -> tuple[list[FigureChange], int]:
    """Each figure whose value moved in a window, in report order, and how many stayed
    the same in every window."""
    changes, unchanged = [], 0
    for figure in catalogue.FIGURES:
        key, label, section = figure.key, figure.label, figure.section
        cells = [
            FigureCell(
                key,
                before["windows"].get(window, {}).get(key),
                after["windows"].get(window, {}).get(key),
            )
            for window in catalogue.WINDOW_NAMES
        ]
        if any(cell.changed for cell in cells):
            changes.append(FigureChange(key, label, section, cells))
        else:
            unchanged += 1
    return changes, unchanged


def version_changes(
    previous: Submission, current: Submission, *, figures_before: dict, figures_after: dict
) -> Changes:
    """What changed from ``previous`` to ``current``: files replaced, rows added or
    removed, each figure before and after, findings fixed and new by rule. Four queries
    (files, two row counts, findings) whatever the sizes."""
    uploads: dict[tuple[int, str], Upload] = {
        (u.submission_id, u.kind): u
        for u in Upload.objects.filter(submission__in=(previous, current), is_current=True)
    }
    files = [
        FileChange(kind, uploads.get((previous.pk, kind)), uploads.get((current.pk, kind)))
        for kind in ("participants", "placements")
    ]
    moved, unchanged = _figure_changes(figures_before, figures_after)
    return Changes(
        previous=previous,
        files=files,
        rows=_row_changes(previous, current),
        figures=moved,
        unchanged_figures=unchanged,
        findings=_finding_changes(previous, current),
    )


# --- What waits for a reviewer (the coach home) ----------------------------------------


@dataclass
class WaitingRow:
    """A version that waits for JFF: sent for review, or returned and answered by the
    coalition (a reply after the return that no one at JFF has answered yet)."""

    submission: Submission
    since: datetime
    today: date
    replied: bool = False

    @property
    def days_waiting(self) -> int:
        return (self.today - timezone.localdate(self.since)).days

    @property
    def resubmitted(self) -> bool:
        return self.submission.previous_id is not None


def waiting_for(user: User, *, today: date) -> list[WaitingRow]:
    """What waits for the reviewer across the coalitions they see, oldest first, in two
    queries whatever the data: every version submitted or in review, and every returned
    version whose latest comment, made after the return, is the coalition's (its people
    have no staff role) while no later version has been sent."""
    sent = (
        Submission.objects.visible_to(user)
        .filter(state__in=(SubmissionState.SUBMITTED, SubmissionState.IN_REVIEW))
        .select_related("coalition", "period", "reviewed_by")
    )
    last_comment = SubmissionComment.objects.filter(submission=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )
    sent_again = Submission.objects.filter(
        period=OuterRef("period"), version__gt=OuterRef("version"), state__in=SENT_STATES
    )
    replied = (
        Submission.objects.visible_to(user)
        .filter(state=SubmissionState.RETURNED)
        .annotate(
            last_comment_at=Subquery(last_comment.values("created_at")[:1]),
            last_comment_role=Subquery(last_comment.values("author__staff_role")[:1]),
        )
        .filter(last_comment_at__gt=F("returned_at"), last_comment_role="")
        .exclude(Exists(sent_again))
        .select_related("coalition", "period", "reviewed_by")
    )
    rows = [
        WaitingRow(submission=s, since=s.submitted_at or s.created_at, today=today) for s in sent
    ]
    rows += [
        WaitingRow(
            submission=s,
            since=s.last_comment_at,  # type: ignore[attr-defined]
            today=today,
            replied=True,
        )
        for s in replied
    ]
    rows.sort(key=lambda r: (r.since, r.submission.pk))
    return rows
