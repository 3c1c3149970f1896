"""Read models for reporting's screens, and the selectors other apps read through."""

from collections import Counter
from dataclasses import dataclass
from datetime import date

import polars as pl
from django.db.models import F, OuterRef, Prefetch, Subquery, Window
from django.db.models.functions import RowNumber

from bpij.models import User
from grantees.calendar import Quarter
from grantees.models import Coalition
from reporting import contract, figures, records
from reporting.checks import Finding as CheckFinding
from reporting.checks import History, Severity, rules
from reporting.models import (
    SENT_STATES,
    Finding,
    ParticipantRecord,
    ReportingPeriod,
    Submission,
    SubmissionState,
    Upload,
)


@dataclass
class PeriodRow:
    period: ReportingPeriod
    latest: Submission | None
    today: date

    @property
    def overdue(self) -> bool:
        sent = self.latest is not None and self.latest.state in SENT_STATES
        return not sent and self.period.due_date < self.today

    @property
    def days_to_due(self) -> int:
        return (self.period.due_date - self.today).days

    @property
    def status(self) -> str:
        if self.latest is None:
            return "Overdue" if self.overdue else "Not started"
        label = self.latest.get_state_display()
        return f"{label} — overdue" if self.overdue else label

    @property
    def status_key(self) -> str:
        if self.overdue:
            return "overdue"
        return self.latest.state if self.latest else "not_started"


def period_rows(coalition: Coalition, *, today: date) -> list[PeriodRow]:
    """The coalition's periods that have begun, newest first, with their latest version."""
    periods = (
        ReportingPeriod.objects.filter(coalition=coalition, start_date__lte=today)
        .prefetch_related(Prefetch("submissions", queryset=Submission.objects.order_by("-version")))
        .order_by("-start_date")
    )
    return [
        PeriodRow(period=p, latest=next(iter(p.submissions.all()), None), today=today)
        for p in periods
    ]


def latest_submission(period: ReportingPeriod, user: User) -> Submission | None:
    return (
        Submission.objects.visible_to(user)
        .filter(period=period)
        .select_related("certified_by", "created_by")
        .order_by("-version")
        .first()
    )


def current_uploads(submission: Submission) -> dict[str, Upload]:
    return {
        u.kind: u
        for u in Upload.objects.filter(submission=submission, is_current=True).select_related(
            "uploaded_by"
        )
    }


def current_uploads_of(submissions: list[Submission]) -> dict[int, dict[str, Upload]]:
    """``current_uploads`` of several versions in one query, by submission id (every
    version given has an entry, empty when it has no file yet)."""
    found: dict[int, dict[str, Upload]] = {s.pk: {} for s in submissions}
    for upload in Upload.objects.filter(
        submission_id__in=list(found), is_current=True
    ).select_related("uploaded_by"):
        found[upload.submission_id][upload.kind] = upload
    return found


def findings_summary(submission: Submission) -> list[dict]:
    """Counts by rule and severity for the submission's current files: errors first,
    the participant file first, rules in the contract's order (F, V, D, L, H)."""
    rows = (
        Finding.objects.filter(upload__submission=submission, upload__is_current=True)
        .counted_by("file", "code", "severity")
        .order_by("severity", "file", "code")
    )
    return sorted(
        rows, key=lambda r: (r["severity"], r["file"], _group_order(r["file"], r["code"], ""))
    )


def finding_totals(submission: Submission) -> Counter:
    return totals_of(findings_summary(submission))


def totals_of(summary: list[dict]) -> Counter:
    """Errors and warnings in all, from a ``findings_summary`` already read."""
    totals: Counter = Counter()
    for row in summary:
        totals[row["severity"]] += row["count"]
    return totals


def period_versions(period: ReportingPeriod, user: User) -> list[Submission]:
    """Every version of the period ``user`` may see, newest first, with the people the
    report page names (who started, certified, reviewed and accepted each)."""
    return list(
        Submission.objects.visible_to(user)
        .filter(period=period)
        .select_related("certified_by", "created_by", "reviewed_by", "accepted_by")
        .order_by("-version")
    )


# The grouped findings page (docs/reporting.md, "The findings page"): each rule and
# column shows its first EXAMPLES_SHOWN rows, and up to EXAMPLES_LISTED behind "show more";
# the rest are in the row-by-row list.
EXAMPLES_SHOWN = 5
EXAMPLES_LISTED = 50


@dataclass
class FindingGroup:
    """Every finding of one rule in one column of one file."""

    file: str
    code: str
    column: str
    severity: str
    count: int
    examples: list[Finding]
    # For a mass rule (H01): the quarter of the accepted report the file is compared with.
    compared_with: str = ""

    @property
    def rule(self) -> rules.Rule | None:
        return rules.RULES.get(self.code)

    @property
    def title(self) -> str:
        return rules.title(self.code)

    @property
    def todo(self) -> str:
        return self.rule.todo if self.rule else ""

    @property
    def mass(self) -> bool:
        return self.code in rules.MASS

    @property
    def shown(self) -> list[Finding]:
        return self.examples[:EXAMPLES_SHOWN]

    @property
    def more(self) -> list[Finding]:
        return self.examples[EXAMPLES_SHOWN:]

    @property
    def unlisted(self) -> int:
        """Findings of the group in neither list (they are in the row-by-row list)."""
        return self.count - len(self.examples)

    @property
    def anchor(self) -> str:
        return f"{self.file}-{self.code}-{self.column or 'file'}".lower()

    @property
    def sentence(self) -> str:
        """A mass finding in words, with its count."""
        report = f"the {self.compared_with} report" if self.compared_with else "the last report"
        if self.count == 1:
            return f"1 participant in {report}'s accepted participant file is missing from this one"
        return (
            f"{self.count:,} participants in {report}'s accepted participant file are "
            "missing from this one"
        )


@dataclass
class FileFailure:
    """A file the checks could not go through (F01, F02, F05): what is wrong, in one
    banner, instead of a list of findings."""

    file: str
    findings: list[Finding]

    @property
    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    @property
    def missing_columns(self) -> list[str]:
        return [f.column for f in self.findings if f.code == "F02" and f.column]

    def _unreadable(self) -> tuple[str, str]:
        """F01's message, "<what is wrong>: <what to do>" (or with " — "), in its two
        parts; the rule's own advice where the message gives none."""
        message = next(f.message for f in self.findings if f.code == "F01")
        cuts = [i for i in (message.find(": "), message.find(" — ")) if i > 0]
        if not cuts:
            return message, rules.RULES["F01"].todo
        cut = min(cuts)
        todo = message[cut:].lstrip(":— ")
        again = "" if "upload" in todo else " Then upload the file again."
        return message[:cut], f"{todo[:1].upper()}{todo[1:]}.{again}"

    @property
    def problem(self) -> str:
        if "F01" in self.codes:
            return f"It could not be read: {self._unreadable()[0]}."
        if "F02" in self.codes:
            missing = self.missing_columns
            columns = ", ".join(missing)
            if len(missing) == 1:
                return f"Its header row (row 1) has no {columns} column, which is required."
            return f"Its header row (row 1) is missing {len(missing)} required columns: {columns}."
        return "It has a header row but no data rows under it."

    @property
    def todo(self) -> str:
        if "F01" in self.codes:
            return self._unreadable()[1]
        code = next(c for c in ("F02", "F05") if c in self.codes)
        return rules.RULES[code].todo


def _group_order(kind: str, code: str, column: str) -> tuple[int, int]:
    order = list(rules.RULES)
    columns = [c.name for c in contract.COLUMNS.get(kind, ())]
    return (
        order.index(code) if code in order else len(order),
        columns.index(column) if column in columns else len(columns),
    )


def finding_groups(submission: Submission, rows=None) -> list[FindingGroup]:
    """The findings of the submission's current files (``rows``: those, filtered), one
    group per file, rule and column, errors first, with the first rows of each. A file
    that failed at file level is not grouped (``file_failures`` says what is wrong with
    it). Three queries at most, whatever the findings."""
    rows = findings_for(submission) if rows is None else rows
    counts = list(rows.order_by().counted_by("file", "code", "column", "severity"))
    ranked = (
        rows.exclude(code__in=rules.MASS | rules.FILE_LEVEL)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("file"), F("code"), F("column")],
                order_by=[F("row").asc(nulls_first=True), F("id").asc()],
            )
        )
        .filter(rank__lte=EXAMPLES_LISTED)
        .order_by("file", "code", "column", "rank")
    )
    examples: dict[tuple[str, str, str], list[Finding]] = {}
    for finding in ranked:
        examples.setdefault((finding.file, finding.code, finding.column), []).append(finding)
    compared_with = ""
    if any(row["code"] in rules.MASS for row in counts):
        previous = previous_accepted(submission)
        compared_with = previous.period.quarter if previous else ""
    groups = []
    for row in counts:
        if row["code"] in rules.FILE_LEVEL:
            continue
        key = (row["file"], row["code"], row["column"])
        groups.append(
            FindingGroup(
                **row,
                examples=examples.get(key, []),
                compared_with=compared_with if row["code"] in rules.MASS else "",
            )
        )
    groups.sort(
        key=lambda g: (
            g.severity != "error",
            g.file != "participants",
            *_group_order(g.file, g.code, g.column),
        )
    )
    return groups


def file_failures(submission: Submission) -> dict[str, FileFailure]:
    """The current files that failed at file level (F01, F02, F05), by kind: one query."""
    failures: dict[str, FileFailure] = {}
    for finding in findings_for(submission).filter(code__in=rules.FILE_LEVEL):
        failures.setdefault(finding.file, FileFailure(finding.file, [])).findings.append(finding)
    return failures


def accepted_before(period) -> Submission | None:
    """The coalition's latest accepted version of a quarter before ``period``: what H01
    and H02 compare the files with, what certification compares them with, and the
    report the next cumulative file starts from."""
    return (
        Submission.objects.filter(
            coalition_id=period.coalition_id,
            state=SubmissionState.ACCEPTED,
            period__start_date__lt=period.start_date,
        )
        .select_related("period", "coalition")
        .order_by("-period__start_date", "-version")
        .first()
    )


def previous_accepted(submission: Submission) -> Submission | None:
    """The coalition's latest accepted version of a quarter before the version's."""
    return accepted_before(submission.period)


def mass_finding_rows(submission: Submission, code: str) -> list[dict]:
    """A mass rule's findings in the current files, as the downloadable list: the
    participant_id, what the accepted report had for them, and what the rule found."""
    found = list(findings_for(submission).filter(code=code).order_by("file", "value", "id"))
    previous = previous_accepted(submission)
    entry_dates = {}
    if previous is not None and found:
        entry_dates = dict(
            ParticipantRecord.objects.filter(
                submission=previous, participant_id__in=[f.value for f in found]
            ).values_list("participant_id", "entry_date")
        )
    return [
        {
            "participant_id": f.value,
            "entry_date": entry_dates.get(f.value),
            "accepted_report": previous.period.quarter if previous else "",
            "finding": f,
        }
        for f in found
    ]


def accepted_submission(coalition_slug: str, quarter: str) -> Submission | None:
    """The latest accepted version of a coalition's report for a quarter."""
    return (
        Submission.objects.filter(
            coalition__slug=coalition_slug,
            period__quarter=quarter,
            state=SubmissionState.ACCEPTED,
        )
        .select_related("period__grant")
        .order_by("-version")
        .first()
    )


def previous_accepted_history(coalition_slug: str, quarter: str) -> History | None:
    """For H01/H02: the participants of the coalition's latest accepted report for a
    quarter before ``quarter``."""
    previous = (
        Submission.objects.filter(
            coalition__slug=coalition_slug,
            state=SubmissionState.ACCEPTED,
            period__start_date__lt=Quarter.parse(str(quarter)).start,
        )
        .order_by("-period__start_date", "-version")
        .first()
    )
    return History(records.history_frame(previous)) if previous else None


def accepted_frames(
    coalition_slug: str, quarter: str
) -> tuple[pl.DataFrame, pl.DataFrame, date] | None:
    """The kept participants and placements of the accepted report, and its grant's start."""
    submission = accepted_submission(coalition_slug, str(quarter))
    if submission is None:
        return None
    return (
        records.participants_frame(submission),
        records.placements_frame(submission),
        submission.period.grant.start_date,
    )


def findings_for(submission: Submission):
    return Finding.objects.filter(upload__submission=submission, upload__is_current=True).order_by(
        "file", "row", "id"
    )


def filter_findings(rows, data: dict):
    if data.get("file"):
        rows = rows.filter(file=data["file"])
    if data.get("severity"):
        rows = rows.filter(severity=data["severity"])
    if data.get("code"):
        rows = rows.filter(code=data["code"].strip().upper())
    if data.get("column"):
        rows = rows.filter(column=data["column"].strip().lower())
    return rows


def check_findings(upload: Upload) -> list[CheckFinding]:
    """The upload's stored findings as the checking core's dataclasses."""
    return [
        CheckFinding(
            code=f.code,
            severity=Severity(f.severity),
            file=f.file,
            row=f.row,
            column=f.column or None,
            value=f.value or None,
            message=f.message,
            omitted=f.omitted,
        )
        for f in Finding.objects.filter(upload=upload).order_by("row", "id")
    ]


def figures_for(submission: Submission) -> dict:
    """The contract's figures for the submission's quarter from its kept records."""
    return figures.compute_figures(
        records.participants_frame(submission),
        records.placements_frame(submission),
        report_quarter=submission.period.as_quarter,
        grant_start=submission.period.grant.start_date,
    )


def reports_needing_attention(
    coalitions: list[Coalition], *, user: User, today: date
) -> dict[int, PeriodRow]:
    """The report that needs each coalition's attention now (the coach home and the
    coaching overview), in one query: the oldest begun quarter whose report is not
    accepted — overdue or coming due, being drafted, submitted or in review, returned for
    revision — with its latest version's state; when every earlier quarter is accepted,
    the quarter under way. A quarter sent to JFF and
    not yet accepted is still open business, so a later quarter never hides it."""
    latest_state = (
        Submission.objects.filter(period=OuterRef("pk")).order_by("-version").values("state")[:1]
    )
    periods = (
        ReportingPeriod.objects.visible_to(user)
        .filter(coalition__in=[c.pk for c in coalitions], start_date__lte=today)
        .annotate(latest_state=Subquery(latest_state))
        .order_by("coalition_id", "start_date")
    )
    chosen: dict[int, PeriodRow] = {}
    settled: set[int] = set()
    for period in periods:
        if period.coalition_id in settled:
            continue
        state = period.latest_state  # type: ignore[attr-defined]
        # An unsaved Submission carries only the state, so reporting's own PeriodRow says
        # the status in the same words as every other page.
        chosen[period.coalition_id] = PeriodRow(
            period=period, latest=Submission(state=state) if state else None, today=today
        )
        if state == SubmissionState.ACCEPTED:
            continue  # done with; look at the next quarter
        if state is not None or period.end_date < today:
            settled.add(period.coalition_id)
    return chosen


def latest_findings(coalition: Coalition, *, limit: int) -> list[Finding]:
    """The findings of the coalition's most recent version, the ones still worth acting
    on (what a coaching action item may point at): errors first, at most ``limit``."""
    latest = (
        Submission.objects.filter(coalition=coalition)
        .order_by("-period__start_date", "-version")
        .values("pk")[:1]
    )
    return list(
        Finding.objects.filter(
            coalition=coalition, upload__submission__in=latest, upload__is_current=True
        )
        .order_by("severity", "file", "code", "row")
        .only("pk", "code", "severity", "file", "row", "column", "message", "coalition_id")[:limit]
    )
