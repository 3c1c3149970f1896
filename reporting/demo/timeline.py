"""Writing the demo's versions as they would have happened, through the services a
grantee and JFF use (start, upload, the checks, narrative, certify, review, comment,
return, accept), each on a date that reads true."""

import io
import random
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import time_machine
from django.utils import timezone

from bpij.models import User
from grantees.calendar import Quarter
from grantees.models import Coalition
from reporting import services
from reporting.models import (
    ReportingPeriod,
    ReturnReason,
    Submission,
    SubmissionState,
    Upload,
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
    """A version's files as a grantee would send them (CSV bytes)."""

    participants: bytes
    placements: bytes | None


@dataclass
class Writer:
    """Writes one coalition's versions through the services, each step at its own moment
    of the past (``Clock``): the same rows, events, audit entries and checks as the hub
    writes when people use it. Nothing is sent while the demo writes
    (``recovery.held``): its history is over, so there is no e-mail to send, and the
    roll-ups are run once at the end (``reporting.demo._rollups``)."""

    coalition: Coalition
    cast: Cast
    clock: Clock
    rng: random.Random
    report: SeedReport
    # Records counted so far per version: [participants, placements].
    _records: dict[int, list[int]] = field(default_factory=dict)

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
        cast, clock = self.cast, self.clock
        with at(started):
            submission = services.submission_start(period=period, actor=cast.reporter)
        self.report.versions += 1
        now = started
        if submission.state == S.CHECKING:
            # Started from a returned version: its files come along and are checked.
            now = self._check(submission, now)
        if files is not None:
            if first_try is not None:
                now = self._send(submission, first_try, now, placements=False)
                # The fix comes a day or two later.
                now = clock.at(now.date() + timedelta(days=self.rng.randint(1, 2)), earliest=now)
            now = self._send(submission, files, now)
        if final != S.DRAFT:
            progress, challenges, ta_needs = narrative
            now = clock.at(now.date(), earliest=now)
            with at(now):
                services.submission_save_narrative(
                    submission=submission,
                    actor=cast.reporter,
                    progress=progress,
                    challenges=challenges,
                    ta_needs=ta_needs,
                )
        if final in (S.SUBMITTED, S.IN_REVIEW, S.RETURNED, S.ACCEPTED):
            submission.refresh_from_db()
            assert submission.state == S.READY, (
                f"{period} v{submission.version} is {submission.state} and cannot be sent"
            )
            certified = clock.at(submit_on or now.date(), earliest=now)
            late = (timezone.localdate(certified) - period.due_date).days
            # Certified after the due date: the administrator says why, as the hub asks.
            # (Picked without the shared random stream, so the rest of the demo is as before.)
            pick = sum(map(ord, f"{self.coalition.slug}{period.quarter}")) % len(LATE_REASONS)
            with at(certified):
                services.submission_certify(
                    submission=submission,
                    actor=cast.admin,
                    name=cast.admin.full_name or cast.admin.email,
                    title="Executive Director",
                    agreed=True,
                    late_reason=LATE_REASONS[pick] if late > 0 else "",
                    confirmed=True,
                )
            now = certified
        if final in (S.IN_REVIEW, S.RETURNED, S.ACCEPTED):
            began = clock.at(now.date() + timedelta(days=self.rng.randint(1, 6)), earliest=now)
            with at(began):
                services.submission_review_start(submission=submission, actor=cast.coach)
            now = began
        if final == S.RETURNED:
            reasons = reasons or [ReturnReason.NARRATIVE]
            now = self._comment(submission, now, reasons)
            returned = clock.at(now.date(), earliest=now)
            with at(returned):
                services.submission_return(
                    submission=submission,
                    actor=cast.coach,
                    reasons=list(reasons),
                    note=return_note(reasons),
                )
            now = returned
        if final == S.ACCEPTED:
            if self.rng.random() < 0.2:
                now = self._comment(submission, now, [])
            accepted = clock.at(now.date() + timedelta(days=self.rng.randint(2, 12)), earliest=now)
            with at(accepted):
                services.submission_accept(submission=submission, actor=cast.officer)
            now = accepted
        submission.refresh_from_db()
        assert submission.state == final, f"{period} v{submission.version}: {submission.state}"
        self.report.by_state[final] = self.report.by_state.get(final, 0) + 1
        return submission, now

    def _send(
        self, submission: Submission, files: Files, now: datetime, *, placements: bool = True
    ) -> datetime:
        """Upload the files (``upload_receive``: a file the version already has is not
        sent again), then check them; returns when the checks finished."""
        slug, quarter = self.coalition.slug, submission.period.quarter
        sent = [("participants", files.participants)]
        if placements and files.placements is not None:
            sent.append(("placements", files.placements))
        draft = "-draft" if not placements else ""
        for kind, data in sent:
            now = self.clock.at(now.date(), earliest=now)
            with at(now):
                services.upload_receive(
                    submission=submission,
                    kind=kind,
                    stream=io.BytesIO(data),
                    name=f"{slug}-{quarter}-{kind}{draft}.csv",
                    actor=self.cast.reporter,
                )
        submission.refresh_from_db()
        if submission.state == S.CHECKING:
            now = self._check(submission, now)
        return now

    def _check(self, submission: Submission, now: datetime) -> datetime:
        """The checks, as the worker runs them, seconds after the files arrived."""
        checked = now + timedelta(seconds=self.rng.randint(4, 40))
        with at(checked):
            services.submission_check(submission_id=submission.pk)
        submission.refresh_from_db()
        # The records a check keeps replace the version's earlier ones: counted once, for
        # the version's last check.
        kept = dict(
            Upload.objects.filter(submission=submission, is_current=True).values_list(
                "kind", "kept_rows"
            )
        )
        counted = self._records.setdefault(submission.pk, [0, 0])
        self.report.participant_records += kept.get("participants", 0) - counted[0]
        self.report.placement_records += kept.get("placements", 0) - counted[1]
        counted[:] = [kept.get("participants", 0), kept.get("placements", 0)]
        return checked

    def _comment(self, submission: Submission, now: datetime, reasons: list[str]) -> datetime:
        when = self.clock.at(now.date() + timedelta(days=self.rng.randint(0, 3)), earliest=now)
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
        with at(when):
            comment = services.submission_comment(
                submission=submission,
                actor=self.cast.coach,
                body=body,
                figure_key=key,
                figure_window="grant_to_date" if key else "",
            )
        if reasons:
            when += timedelta(hours=self.rng.randint(2, 20))
            with at(when):
                services.submission_comment(
                    submission=submission,
                    actor=self.cast.admin,
                    body="Thanks, we will fix this and send a new version this week.",
                    parent=comment,
                )
        return when


def at(moment: datetime) -> AbstractContextManager[Any]:
    """The services' clock set to ``moment`` of the demo's past (time-machine), so every
    row they write says when it happened. The audit log's own time is the database's: it
    says when the demo was loaded."""
    return time_machine.travel(moment, tick=False)


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
