"""Writing the demo's versions as they would have happened: the submission rows, their
uploads (stored files, findings and records from the real check), review fields,
comments and the timeline (``SubmissionEvent``), on dates that read true."""

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from bpij.models import User
from grantees.calendar import Quarter
from grantees.models import Coalition
from reporting import contract, findings, records, services
from reporting.checks.types import CheckResult
from reporting.models import (
    ParticipantRecord,
    PlacementRecord,
    ReportingPeriod,
    ReturnReason,
    Submission,
    SubmissionComment,
    SubmissionEvent,
    SubmissionState,
    Upload,
    UploadKind,
    UploadStatus,
)

S = SubmissionState

# Why a demo coalition's late report was late, in an administrator's words.
LATE_REASONS = (
    "Our data manager left in the fall and the new one needed time to learn the files.",
    "Two training partners sent their records weeks after the quarter closed.",
    "We found duplicate participant rows and fixed them before certifying.",
    "The county's wage records for our placements arrived late.",
)


@dataclass
class SeedReport:
    periods: int = 0
    versions: int = 0
    participant_records: int = 0
    placement_records: int = 0
    rollups: int = 0
    program_quarters: int = 0
    by_state: dict[str, int] = field(default_factory=dict)


@dataclass
class Cast:
    admin: User
    reporter: User
    coach: User
    officer: User


class Clock:
    """Times of day on given dates, in the site's time zone, never after now."""

    def __init__(self, rng: random.Random, now: datetime):
        self.rng, self.now = rng, now

    def at(self, day: date, earliest: datetime | None = None) -> datetime:
        moment = timezone.make_aware(
            datetime.combine(day, time(self.rng.randint(8, 17), self.rng.randint(0, 59)))
        )
        ceiling = self.now - timedelta(minutes=self.rng.randint(5, 600))
        if earliest is not None:
            if moment <= earliest:
                moment = earliest + timedelta(minutes=self.rng.randint(3, 90))
            # Steps that would fall after now happen just now, still in order.
            ceiling = max(ceiling, min(earliest + timedelta(minutes=2), self.now))
        return min(moment, ceiling)


@dataclass
class Files:
    participants: bytes
    placements: bytes | None
    result: CheckResult


@dataclass
class Writer:
    """Writes one coalition's versions; events and comments go in at the end."""

    coalition: Coalition
    cast: Cast
    clock: Clock
    rng: random.Random
    report: SeedReport
    events: list[SubmissionEvent] = field(default_factory=list)
    comments: list[tuple[SubmissionComment, SubmissionComment | None]] = field(default_factory=list)

    def event(
        self,
        submission: Submission,
        kind: str,
        at: datetime,
        actor: User | None,
        from_state: str = "",
        to_state: str = "",
        note: str = "",
    ) -> datetime:
        self.events.append(
            SubmissionEvent(
                coalition_id=self.coalition.pk,
                submission=submission,
                at=at,
                actor=actor,
                kind=kind,
                from_state=from_state,
                to_state=to_state,
                note=note,
            )
        )
        return at

    def version(
        self,
        period: ReportingPeriod,
        *,
        final: str,
        files: Files | None,
        started: datetime,
        previous: Submission | None = None,
        submit_on: date | None = None,
        reasons: list[str] | None = None,
        narrative: tuple[str, str, str] = ("", "", ""),
        first_try: Files | None = None,
    ) -> tuple[Submission, datetime]:
        """One version from its start to ``final``; returns it and when it got there."""
        cast, clock, number = self.cast, self.clock, (previous.version + 1 if previous else 1)
        submission = Submission.objects.create(
            coalition=self.coalition,
            period=period,
            version=number,
            state=final,
            previous=previous,
            created_by=cast.reporter,
            created_at=started,
        )
        self.report.versions += 1
        now = self.event(submission, "started", started, cast.reporter, to_state=S.DRAFT)
        state = str(S.DRAFT)
        fields: dict[str, Any] = {}
        if files is not None:
            if first_try is not None:
                now = self._first_try(submission, first_try, now)
            now = self._upload(submission, files, now, copied_from=previous)
            result = files.result
            state = str(S.NEEDS_FIXES if result.errors else S.READY)
            fields |= {
                "error_count": result.errors,
                "warning_count": result.warnings,
                "checked_at": now,
            }
        if final != S.DRAFT:
            progress, challenges, ta_needs = narrative
            fields |= {
                "narrative_progress": progress,
                "narrative_challenges": challenges,
                "narrative_ta_needs": ta_needs,
            }
        if final in (S.SUBMITTED, S.IN_REVIEW, S.RETURNED, S.ACCEPTED):
            assert state == S.READY, f"{period} v{number} has errors and cannot be sent"
            certified = clock.at(submit_on or now.date(), earliest=now)
            name = cast.admin.full_name or cast.admin.email
            # Certified after the due date: the administrator says why, as the hub asks.
            late = (timezone.localdate(certified) - period.due_date).days
            # (Picked without the shared random stream, so the rest of the demo is as before.)
            pick = sum(map(ord, f"{self.coalition.slug}{period.quarter}")) % len(LATE_REASONS)
            late_reason = LATE_REASONS[pick] if late > 0 else ""
            now = self.event(
                submission,
                "certified",
                certified,
                cast.admin,
                S.READY,
                S.SUBMITTED,
                f"Certified by {name}, Executive Director"
                + (
                    f". {late} day{'s' if late != 1 else ''} late: {late_reason}"
                    if late > 0
                    else ""
                ),
            )
            state = str(S.SUBMITTED)
            fields |= {
                "certified_by": cast.admin,
                "certifier_name": name,
                "certifier_title": "Executive Director",
                "attestation": services.ATTESTATION,
                "certified_at": certified,
                "submitted_at": certified,
                "late_reason": late_reason,
            }
        if final in (S.IN_REVIEW, S.RETURNED, S.ACCEPTED):
            began = clock.at(now.date() + timedelta(days=self.rng.randint(1, 6)), earliest=now)
            now = self.event(
                submission, "review_started", began, cast.coach, S.SUBMITTED, S.IN_REVIEW
            )
            fields |= {"review_started_at": began, "reviewed_by": cast.coach}
        if final == S.RETURNED:
            reasons = reasons or [ReturnReason.NARRATIVE]
            note = return_note(reasons)
            now = self._comment(submission, now, reasons)
            returned = clock.at(now.date(), earliest=now)
            labels = "; ".join(str(ReturnReason(r).label) for r in reasons)
            now = self.event(
                submission,
                "returned",
                returned,
                cast.coach,
                S.IN_REVIEW,
                S.RETURNED,
                f"{labels}. {note}",
            )
            fields |= {
                "return_reasons": list(reasons),
                "return_note": note,
                "returned_at": returned,
            }
        if final == S.ACCEPTED:
            if self.rng.random() < 0.2:
                now = self._comment(submission, now, [])
            accepted = clock.at(now.date() + timedelta(days=self.rng.randint(2, 12)), earliest=now)
            now = self.event(
                submission, "accepted", accepted, cast.officer, S.IN_REVIEW, S.ACCEPTED
            )
            fields |= {"accepted_by": cast.officer, "accepted_at": accepted}
        if fields:
            Submission.objects.filter(pk=submission.pk).update(**fields)
            for name, value in fields.items():
                setattr(submission, name, value)
        self.report.by_state[final] = self.report.by_state.get(final, 0) + 1
        return submission, now

    def _first_try(self, submission: Submission, files: Files, now: datetime) -> datetime:
        """A participant file sent with mistakes, checked, and replaced by the fixed one
        (kept as history, like any replaced upload): how most quarters go, and what the
        dashboards' data-quality figures count."""
        result = files.result.participants
        name = f"{self.coalition.slug}-{submission.period.quarter}-participants-draft.csv"
        upload = self._new_upload(
            submission, UploadKind.PARTICIPANTS, name, files.participants, result
        )
        upload.is_current = False
        now = self._send(submission, upload, files.participants, now)
        upload.save()
        findings.replace(upload, result.findings)
        checked = self._checked(submission, now, upload.error_count, upload.warning_count)
        # The fix comes a day or two later, back to a draft.
        return self.clock.at(
            checked.date() + timedelta(days=self.rng.randint(1, 2)), earliest=checked
        )

    def _new_upload(
        self, submission: Submission, kind: str, name: str, data: bytes, file_result
    ) -> Upload:
        """The upload row of a checked file, as submission_check leaves it (unsaved)."""
        return Upload(
            coalition=self.coalition,
            submission=submission,
            kind=kind,
            original_name=name,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=self.cast.reporter,
            status=UploadStatus.CHECKED,
            data_rows=file_result.data_rows,
            kept_rows=file_result.kept.height if file_result.kept is not None else 0,
            error_count=sum(1 for f in file_result.findings if f.severity == "error"),
            warning_count=sum(1 for f in file_result.findings if f.severity == "warning"),
        )

    def _send(self, submission: Submission, upload: Upload, data: bytes, now: datetime):
        """Store the file's bytes and write the "uploaded" event; returns when."""
        now = self.clock.at(now.date(), earliest=now)
        upload.uploaded_at = now
        upload.file.save(upload.original_name, ContentFile(data), save=False)
        self.event(
            submission,
            "uploaded",
            now,
            self.cast.reporter,
            note=(
                f"{UploadKind(upload.kind).label}: {upload.original_name} ({len(data):,} "
                f"bytes, SHA-256 {upload.sha256[:12]}…)"
            ),
        )
        return now

    def _checked(self, submission: Submission, now: datetime, errors: int, warnings: int):
        """The "checks started" and "checks finished" events; returns when they finished."""
        checking = self.clock.at(now.date(), earliest=now)
        self.event(submission, "checking", checking, self.cast.reporter, S.DRAFT, S.CHECKING)
        checked = checking + timedelta(seconds=self.rng.randint(4, 40))
        self.event(
            submission,
            "checked",
            checked,
            None,
            S.CHECKING,
            S.NEEDS_FIXES if errors else S.READY,
            f"{errors} error(s), {warnings} warning(s).",
        )
        return checked

    def _upload(
        self, submission: Submission, files: Files, now: datetime, copied_from: Submission | None
    ) -> datetime:
        result = files.result
        pairs = [
            (UploadKind.PARTICIPANTS, files.participants, result.participants),
            (UploadKind.PLACEMENTS, files.placements, result.placements),
        ]
        previous = (
            {u.kind: u for u in Upload.objects.filter(submission=copied_from, is_current=True)}
            if copied_from
            else {}
        )
        for kind, data, file_result in pairs:
            if data is None or file_result is None:
                continue
            name = f"{self.coalition.slug}-{submission.period.quarter}-{kind}.csv"
            upload = self._new_upload(submission, kind, name, data, file_result)
            earlier = previous.get(kind)
            if earlier is not None and earlier.sha256 == upload.sha256:
                # A new version starts from the returned one's files (submission_start).
                upload.file.name = earlier.file.name
                upload.original_name = earlier.original_name
                upload.uploaded_at = earlier.uploaded_at
            else:
                now = self._send(submission, upload, data, now)
            upload.save()
            findings.replace(upload, file_result.findings)
        checked = self._checked(submission, now, result.errors, result.warnings)
        kept_people = result.participants.kept
        kept_jobs = result.placements.kept if result.placements else None
        people, jobs = store(
            submission,
            kept_people if kept_people is not None else records.empty(contract.PARTICIPANTS),
            kept_jobs if kept_jobs is not None else records.empty(contract.PLACEMENTS),
        )
        self.report.participant_records += people
        self.report.placement_records += jobs
        return checked

    def _comment(self, submission: Submission, now: datetime, reasons: list[str]) -> datetime:
        at = self.clock.at(now.date() + timedelta(days=self.rng.randint(0, 3)), earliest=now)
        if ReturnReason.DATA_QUALITY in reasons:
            body = (
                "Placements look low against last quarter's completions: several people "
                "who finished training in the quarter have no placement row. Please check "
                "the placement file is complete."
            )
            key = "D-1"
        elif ReturnReason.TARGETS in reasons:
            body = (
                "Enrolment is behind the milestone for this quarter. Please add a paragraph "
                "on the recruitment plan and when you expect to catch up."
            )
            key = "A-2"
        elif reasons:
            body = (
                "The challenges section is empty. Tell us what slowed placements this "
                "quarter and what help you need from JFF."
            )
            key = ""
        else:
            body = "Strong quarter; thanks for the detail on the employer partnerships."
            key = "C-3"
        comment = SubmissionComment(
            coalition=self.coalition,
            submission=submission,
            author=self.cast.coach,
            created_at=at,
            body=body,
            figure_key=key,
            figure_window="grant_to_date" if key else "",
        )
        reply = None
        if reasons:
            reply = SubmissionComment(
                coalition=self.coalition,
                submission=submission,
                author=self.cast.admin,
                created_at=at + timedelta(hours=self.rng.randint(2, 20)),
                body="Thanks, we will fix this and send a new version this week.",
            )
        self.comments.append((comment, reply))
        self.event(submission, "commented", at, self.cast.coach, note=body[:200])
        if reply is not None:
            self.event(submission, "commented", reply.created_at, self.cast.admin, note=reply.body)
            at = reply.created_at
        return at

    def flush(self) -> None:
        SubmissionEvent.objects.bulk_create(self.events, batch_size=2000)
        firsts = [first for first, _ in self.comments]
        SubmissionComment.objects.bulk_create(firsts)
        replies = []
        for first, reply in self.comments:
            if reply is not None:
                reply.parent = first
                replies.append(reply)
        SubmissionComment.objects.bulk_create(replies)
        self.events, self.comments = [], []


def store(
    submission: Submission, participants: pl.DataFrame, placements: pl.DataFrame
) -> tuple[int, int]:
    """``records.store`` for a brand-new version. On SQLite (``make run``) the rows go in
    with one executemany per table instead of bulk_create, which spends most of its time
    building model instances: it is most of the seeding time otherwise. The rows stored
    are the same ones (``tests/reporting/test_demo.py`` reads them back)."""
    if connection.vendor == "postgresql":
        return records.store(submission, participants, placements)
    people = records._fill_text(records._participant_frame(participants))
    jobs = records._fill_text(placements.select(["row", *records.PLACEMENT_FIELDS]))
    for model, frame in ((ParticipantRecord, people), (PlacementRecord, jobs)):
        if frame.is_empty():
            continue
        frame = frame.with_columns(
            pl.col(pl.Date).dt.to_string("%Y-%m-%d"),
            pl.lit(submission.coalition_id).alias("coalition_id"),
            pl.lit(submission.pk).alias("submission_id"),
        )
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in frame.columns)
        marks = ", ".join("%s" for _ in frame.columns)
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", frame.rows())
    return people.height, jobs.height


def return_note(reasons: list[str]) -> str:
    if ReturnReason.DATA_QUALITY in reasons:
        return "Please re-check the placement file; see the comment on D-1."
    if ReturnReason.TARGETS in reasons:
        return "Please explain the gap to the enrolment milestone in the narrative."
    return "Please complete the challenges section of the narrative."


def narrative(
    rows: list[dict], jobs: list[dict], quarter: Quarter, behind: bool
) -> tuple[str, str, str]:
    start, end = f"{quarter.start:%Y%m%d}", f"{quarter.end:%Y%m%d}"
    new = sum(1 for r in rows if start <= r["entry_date"] <= end)
    placed = sum(1 for j in jobs if start <= j["start_date"] <= end)
    progress = (
        f"We enrolled {new} new participants in {quarter} ({len(rows)} since the grant "
        f"began) and {placed} started jobs with employer partners."
    )
    challenges = (
        "Recruitment in rural counties remains slow and two training cohorts were postponed "
        "while we replaced an instructor."
        if behind
        else "Employer demand is strong; scheduling site visits around the construction "
        "season is our main constraint."
    )
    ta_needs = (
        "Coaching on outreach through workforce boards; a peer exchange with a coalition "
        "that has filled its apprenticeship slots."
        if behind
        else "Examples of employer agreements for registered apprenticeship."
    )
    return progress, challenges, ta_needs
