"""What the certification step must know before a version is sent (issue 11): when the
quarter's report may be certified, whether it is late, which of its files look like
they were not brought up to date, and the receipt of what was sent."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Max, OuterRef, Subquery

from reporting import pii, selectors
from reporting.models import (
    ParticipantRecord,
    PlacementRecord,
    ReportingPeriod,
    Submission,
    Upload,
    UploadKind,
)

# The dates that show a participant file holds activity: enrollment, training, exit,
# and the outcomes dated in the file (credential, measurable skill gains). The placement
# file's is the placement's start. Date of birth is not activity.
PARTICIPANT_ACTIVITY_DATES = (
    "entry_date",
    "training_start_date",
    "training_end_date",
    "exit_date",
    "credential_date",
    "msg_training_milestone_date",
    "msg_skills_progression_date",
)
PLACEMENT_ACTIVITY_DATES = ("start_date",)


def certify_opens(period: ReportingPeriod) -> date:
    """The first day a report may be certified: the day after its quarter ends."""
    return period.end_date + timedelta(days=1)


def days_late(period: ReportingPeriod, today: date) -> int:
    """Days after the due date (0 on or before it)."""
    return max((today - period.due_date).days, 0)


def _newest_activity(submission: Submission) -> dict[str, date | None]:
    """The newest activity date of the version's participant and placement records, by
    file kind, in one query (a subquery per date column)."""

    def newest(model, name: str) -> Subquery:
        return Subquery(
            model.objects.filter(submission_id=OuterRef("pk"))
            .order_by()
            .values("submission_id")
            .annotate(newest=Max(name))
            .values("newest")[:1]
        )

    kinds: dict[str, str] = {}  # column alias -> file kind
    columns: dict[str, Subquery] = {}
    for kind, model, fields in (
        (UploadKind.PARTICIPANTS.value, ParticipantRecord, PARTICIPANT_ACTIVITY_DATES),
        (UploadKind.PLACEMENTS.value, PlacementRecord, PLACEMENT_ACTIVITY_DATES),
    ):
        for name in fields:
            alias = f"newest_{len(columns)}"
            kinds[alias], columns[alias] = kind, newest(model, name)
    found = Submission.objects.filter(pk=submission.pk).values(**columns).first() or {}
    by_kind: dict[str, date | None] = dict.fromkeys(set(kinds.values()))
    for alias, value in found.items():
        current = by_kind[kinds[alias]]
        if isinstance(value, date) and (current is None or value > current):
            by_kind[kinds[alias]] = value
    return by_kind


def certify_warnings(
    submission: Submission,
    *,
    uploads: dict[str, Upload] | None = None,
    previous: tuple[Submission | None, dict[str, Upload]] | None = None,
) -> list[str]:
    """What the certifier must confirm before sending: a current file byte-identical
    (same SHA-256) to the file of its kind in the coalition's last accepted quarter,
    and a file whose newest activity date is before the quarter starts. Plain-text
    messages, in file order; empty when there is nothing to confirm.

    A caller that has already read them passes the version's current ``uploads`` (by
    kind) and ``previous``: the last accepted version of an earlier quarter and its
    current uploads (the report page reads both for its own use)."""
    if uploads is None:
        uploads = {u.kind: u for u in Upload.objects.filter(submission=submission, is_current=True)}
    if previous is None:
        last = selectors.previous_accepted(submission)
        before = (
            {u.kind: u for u in Upload.objects.filter(submission=last, is_current=True)}
            if last
            else {}
        )
    else:
        last, before = previous
    previous_version = last
    period = submission.period
    warnings = []
    newest_dates = _newest_activity(submission) if uploads else {}
    for kind in (UploadKind.PARTICIPANTS, UploadKind.PLACEMENTS):
        upload = uploads.get(kind)
        if upload is None:
            continue
        label = UploadKind(kind).label.lower()
        old = before.get(kind)
        if previous_version is not None and old is not None and old.sha256 == upload.sha256:
            warnings.append(
                f"The {label} {upload.original_name} is the same file, byte for byte "
                f"(same SHA-256), as the one in the accepted {previous_version.period.quarter} "
                f"report: nothing in it changed since then."
            )
        newest = newest_dates[kind]
        if newest is None or newest < period.start_date:
            since = f"its newest date is {newest:%B %-d, %Y}" if newest else "it has no dates"
            warnings.append(
                f"The {label} {upload.original_name} holds no activity in {period.quarter}: "
                f"{since}, before the quarter began on {period.start_date:%B %-d, %Y}."
            )
    return warnings


@dataclass(frozen=True)
class ReceiptFile:
    kind: str
    name: str
    rows: int
    size: int
    sha256: str


@dataclass(frozen=True)
class Receipt:
    """What a certified version sent, as the certifier's receipt says it."""

    submission: Submission
    number: str
    files: list[ReceiptFile]
    narrative_included: bool
    certifier: str
    certified_at: datetime | None
    late_reason: str
    confirmed_warnings: list[str]


def receipt_for(submission: Submission) -> Receipt:
    """The receipt of a certified version (its files as they were when it was sent:
    a sent version's files never change)."""
    uploads = Upload.objects.filter(submission=submission, is_current=True).order_by("kind")
    name = submission.certifier_name or (
        submission.certified_by.display_name if submission.certified_by else ""
    )
    return Receipt(
        submission=submission,
        number=submission.receipt_number,
        files=[
            ReceiptFile(
                kind=str(UploadKind(u.kind).label),
                # A file name is the grantee's to choose: an SSN-shaped one is masked.
                name=pii.mask_ssns_in(u.original_name),
                rows=u.data_rows,
                size=u.size,
                sha256=u.sha256,
            )
            for u in uploads
        ],
        narrative_included=any(
            (
                submission.narrative_progress,
                submission.narrative_challenges,
                submission.narrative_ta_needs,
            )
        ),
        certifier=f"{name}, {submission.certifier_title}" if submission.certifier_title else name,
        certified_at=submission.certified_at,
        late_reason=submission.late_reason,
        confirmed_warnings=list(submission.confirmed_warnings),
    )
