"""Read models of the two DOL-ready PDFs: a coalition's quarterly performance report and
the program-wide summary (docs/exports.md).

Figures come only from the roll-ups (``Rollup`` for a coalition, ``ProgramRollup`` for
the program), exactly as the dashboards read them, so a PDF carries the numbers the
figures service computed for the version that counts. Everything here is an aggregate:
no participant-level value is read, let alone printed. Each read model is a fixed
handful of queries whatever the number of coalitions.

Values are formatted here, once, the way DATA-CONTRACT.md §4 and §6 say they are shown:
counts with thousands separators, rates as "77.8% (7/9)" and "n/a" for an empty cohort,
medians as dollars. The tests read the rendered PDF's text and compare it with these
rules applied to the roll-up.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Max, Min, Prefetch, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.safestring import SafeString

from grantees.calendar import Quarter, program_year
from grantees.models import Coalition, Grant, Measure, Target
from reporting import catalogue, charts, figures, timeliness
from reporting.checks import rules
from reporting.models import (
    Finding,
    ProgramRollup,
    ReportingPeriod,
    Rollup,
    Submission,
    SubmissionState,
)
from reporting.pace import Pace
from reporting.selectors import board, dashboards, quality

CQ, R4, GTD = catalogue.WINDOW_NAMES
# The form: its number, the OMB control number printed in its corner, and the funding
# acknowledgement DOL asks of every grant-funded product (docs/exports.md).
FORM_NUMBER = "ETA-9173-H1B"
FORM_TITLE = "H-1B Skills Training Grants Quarterly Performance Report"
OMB_CONTROL_NUMBER = "1205-0521"
FUNDING_ACKNOWLEDGEMENT = (
    "This workforce product was funded by a grant awarded by the U.S. Department of "
    "Labor's Employment and Training Administration. The product was created by the "
    "grantee and does not necessarily reflect the official position of the U.S. "
    "Department of Labor. The Department of Labor makes no guarantees, warranties, or "
    "assurances of any kind, express or implied, with respect to such information, "
    "including any information on linked sites and including, but not limited to, "
    "accuracy of the information or its completeness, timeliness, usefulness, adequacy, "
    "continued availability, or ownership."
)


@dataclass(frozen=True)
class Form:
    number: str = FORM_NUMBER
    title: str = FORM_TITLE
    omb_control_number: str = OMB_CONTROL_NUMBER
    funding_acknowledgement: str = FUNDING_ACKNOWLEDGEMENT


FORM = Form()

# The program summary's one row per coalition: grant-to-date key figures.
KEY_FIGURES = ("A-2", "C-1", "C-3", "C-4", "D-1", "D-2", "E-1")

# -- Formatting (DATA-CONTRACT.md §4, §6) ---------------------------------------------


def format_count(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def format_rate(value: dict | None) -> str:
    """'77.8% (7/9)'; 'n/a' when the denominator is 0 (never 0%)."""
    if not value or value.get("rate") is None:
        return "n/a"
    return f"{value['rate']:.1f}% ({value['numerator']:,}/{value['denominator']:,})"


def format_value(key: str, value: Any) -> str:
    if key in catalogue.RATE_KEYS:
        return format_rate(value)
    if key == "D-3":  # median hourly wage: a string with two decimals, or None
        return "n/a" if value is None else f"${value}"
    if key == "E-2":  # median earnings: whole dollars, or None
        return "n/a" if value is None else f"${int(value):,}"
    return format_count(value)


def format_cohort(key: str, span: tuple[str, str] | None) -> str:
    """The quarters an indicator's cohort covers (figures.cohort_periods)."""
    if key == "E-5":
        assert span is not None
        first, last = span
        quarters = first if first == last else f"{first}–{last}"
        return f"PY{program_year(Quarter.parse(first).start)} to date ({quarters})"
    if span is None:
        return "no exits yet (before the grant)"
    first, last = span
    return f"exits in {first}" if first == last else f"exits {first}–{last}"


def span_text(first: date, last: date) -> str:
    if first.year == last.year:
        return f"{first:%b} {first.day} – {last:%b} {last.day}, {last.year}"
    return f"{first:%b} {first.day}, {first.year} – {last:%b} {last.day}, {last.year}"


def moment_text(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    return f"{local:%b} {local.day}, {local.year} {local:%-I:%M %p %Z}"


def day_text(day: date | None) -> str:
    return "—" if day is None else f"{day:%b} {day.day}, {day.year}"


# -- Provenance -----------------------------------------------------------------------


@dataclass
class Provenance:
    """The stamp every page's footer carries (built by reporting.services.exports)."""

    raw: dict

    @property
    def generated_at(self) -> datetime | None:
        text = self.raw.get("generated_at")
        return parse_datetime(text) if text else None

    @property
    def generated_text(self) -> str:
        return moment_text(self.generated_at)

    @property
    def generated_by(self) -> str:
        return self.raw.get("generated_by") or "—"

    @property
    def export(self) -> str:
        return self.raw.get("export") or "—"

    @property
    def submissions(self) -> list[dict]:
        return list(self.raw.get("submissions") or [])

    @property
    def definitions(self) -> str:
        return figures.DEFINITIONS_TEXT[figures.definitions_of(self.raw)]

    @property
    def today(self) -> date:
        moment = self.generated_at
        return timezone.localdate(moment) if moment else timezone.localdate()

    @staticmethod
    def version_text(item: dict) -> str:
        state = SubmissionState(item["state"]).label if item.get("state") else "—"
        coalition, quarter = item.get("coalition", ""), item.get("quarter", "")
        return f"{coalition} {quarter} version {item.get('version')} ({state})"

    @property
    def rows(self) -> list[dict[str, str]]:
        def when(text: str | None) -> str:
            return moment_text(parse_datetime(text)) if text else "—"

        return [
            {
                "coalition": item.get("coalition", ""),
                "quarter": item.get("quarter", ""),
                "version": str(item.get("version", "")),
                "state": str(SubmissionState(item["state"]).label) if item.get("state") else "—",
                "certified": when(item.get("certified_at")),
                "accepted": when(item.get("accepted_at")),
            }
            for item in self.submissions
        ]

    @property
    def versions_text(self) -> str:
        """The versions used, short enough for a footer."""
        items = self.submissions
        if not items:
            return "no submission versions"
        if len(items) <= 2:
            return "; ".join(self.version_text(i) for i in items)
        return f"{len(items)} coalition reports, each listed under Provenance"


# -- The coalition's quarterly performance report --------------------------------------


@dataclass
class Column:
    name: str
    label: str
    span: str


@dataclass
class FigureRow:
    key: str
    line: str  # the form's line number, "B-5"
    label: str  # its caption as the form prints it
    values: list[str]
    # E indicators: the cohort each window's value covers; empty for A–D.
    cohorts: list[str] = field(default_factory=list)

    @property
    def cells(self) -> list[tuple[str, str]]:
        return list(zip(self.values, self.cohorts or [""] * len(self.values), strict=True))


@dataclass
class Section:
    title: str
    rows: list[FigureRow]

    @property
    def letter(self) -> str:
        return self.title[0]

    @property
    def is_indicators(self) -> bool:
        return self.letter == "E"


def columns_for(quarter: Quarter, grant_start: date) -> list[Column]:
    labels = dict(catalogue.WINDOWS)
    return [
        Column(window.name, labels[window.name], span_text(window.first, window.last))
        for window in figures.windows(quarter, grant_start)
    ]


def sections_for(figures_json: dict, quarter: Quarter, grant_start: date) -> list[Section]:
    """Sections A–E, one row per figure key, a value per window (and for E, the cohort
    period beside each value)."""
    windows = figures_json["windows"]
    cohorts = figures.cohort_periods(quarter, grant_start)
    sections: dict[str, list[FigureRow]] = {title: [] for title in catalogue.SECTIONS}
    for figure in catalogue.FIGURES:
        key, line, caption = figure.key, figure.line, figure.caption
        sections[figure.section].append(
            FigureRow(
                key=key,
                line=line,
                label=caption,
                values=[format_value(key, windows[w].get(key)) for w in catalogue.WINDOW_NAMES],
                cohorts=[format_cohort(key, cohorts[w].get(key)) for w in catalogue.WINDOW_NAMES]
                if figure.is_indicator
                else [],
            )
        )
    return [Section(title, rows) for title, rows in sections.items()]


@dataclass
class FindingCount:
    code: str
    severity: str
    file: str
    count: int

    @property
    def title(self) -> str:
        return rules.title(self.code)


@dataclass
class CoalitionReport:
    coalition: Coalition
    grant: Grant
    period: ReportingPeriod
    rollup: Rollup
    submission: Submission
    columns: list[Column]
    sections: list[Section]
    progress: list[Pace]
    findings: list[FindingCount]
    provenance: Provenance
    # The rows and findings of the version's current files (not every upload of the
    # quarter: drafts and test uploads are not the report's data quality).
    files: quality.FilesQuality = field(default_factory=quality.FilesQuality)

    @property
    def quarter(self) -> Quarter:
        return self.period.as_quarter

    @property
    def title(self) -> str:
        return f"Quarterly performance report, {self.coalition.name}, {self.period.quarter}"

    @property
    def period_text(self) -> str:
        """The reporting period as the form's title block prints it."""
        return f"{self.period.quarter} ({self.columns[0].span})"

    @property
    def reporter(self) -> str:
        return f"{self.coalition.name}, grant {self.grant.award_number}"

    @property
    def state_label(self) -> str:
        return str(SubmissionState(self.submission.state).label)

    @property
    def certifier(self) -> str:
        s = self.submission
        name = s.certifier_name or (s.certified_by.display_name if s.certified_by else "—")
        return f"{name}, {s.certifier_title}" if s.certifier_title else name

    @property
    def certified_text(self) -> str:
        return moment_text(self.submission.certified_at)

    @property
    def accepted_text(self) -> str:
        return moment_text(self.submission.accepted_at)

    @property
    def accepted_by(self) -> str:
        person = self.submission.accepted_by
        return person.display_name if person else ""

    @property
    def findings_per_thousand(self) -> str:
        return quality.per_thousand_text(self.files)

    @property
    def version_errors(self) -> int:
        return sum(f.count for f in self.findings if f.severity == "error")

    @property
    def version_warnings(self) -> int:
        return sum(f.count for f in self.findings if f.severity == "warning")

    @property
    def first_sent_text(self) -> str:
        return moment_text(self.rollup.submitted_at)

    @property
    def timeliness(self) -> str:
        days = (self.rollup.due_date - timezone.localdate(self.rollup.submitted_at)).days
        if days >= 0:
            return f"on time ({days} day{'s' if days != 1 else ''} before the due date)"
        return f"late ({-days} day{'s' if days != -1 else ''} after the due date)"

    @cached_property
    def progress_chart(self) -> SafeString:
        return dashboards.progress_chart(
            self.progress, chart_id="report-progress", subject=self.coalition.name
        )

    @cached_property
    def indicator_chart(self) -> SafeString:
        return dashboards.indicator_chart(
            dashboards.indicators(self.rollup.figures, self.quarter),
            chart_id="report-indicators",
            subject=self.coalition.name,
        )

    @cached_property
    def flow_chart(self) -> SafeString:
        """The quarter's flows in each window, from the one roll-up this report reads."""
        windows = self.rollup.figures["windows"]
        keys = dashboards.TREND_KEYS
        return charts.grouped_bar_chart(
            [dashboards.LABELS[key] for key in keys],
            [
                charts.Series(label, [windows[name].get(key) for key in keys])
                for name, label in catalogue.WINDOWS
            ],
            chart_id="report-flows",
            title=f"Participants through the program by window, {self.coalition.name}",
            description=(
                "New participants, began training, completed training and entered "
                "employment in the current quarter, the rolling four quarters and grant to "
                "date. Section tables A, C and D give every number."
            ),
            width=500,
        )


class ReportUnavailable(Exception):
    """The period has nothing to report yet (no version counts)."""


def coalition_report(*, period_id: int, provenance: dict) -> CoalitionReport:
    """The report of the version that counts for the period (its ``Rollup``)."""
    period = (
        ReportingPeriod.objects.select_related("coalition", "grant").filter(pk=period_id).first()
    )
    if period is None:
        raise ReportUnavailable(f"There is no reporting period with id {period_id}.")
    rollup = (
        Rollup.objects.filter(period=period)
        .select_related("submission__certified_by", "submission__accepted_by")
        .first()
    )
    if rollup is None:
        raise ReportUnavailable(
            f"{period.coalition.name}'s {period.quarter} report has no version that counts "
            "yet: a report can be exported once a version is submitted (and until it is "
            "returned)."
        )
    quarter = period.as_quarter
    grant = period.grant
    to_date = rollup.figures["windows"][GTD]
    order = {m: i for i, m in enumerate(Measure.values)}
    targets = sorted(
        Target.objects.filter(coalition=period.coalition, grant=grant),
        key=lambda t: order.get(t.measure, 99),
    )
    progress = [
        Pace(
            measure=t.measure,
            label=t.get_measure_display(),
            target=t.value,
            actual=to_date.get(t.measure),
            grant_start=grant.start_date,
            grant_end=grant.end_date,
            quarter=quarter,
            milestone=(t.milestones or {}).get(str(quarter)),
        )
        for t in targets
    ]
    findings = [
        FindingCount(row["code"], row["severity"], row["file"], row["count"])
        for row in Finding.objects.filter(
            upload__submission=rollup.submission, upload__is_current=True
        )
        .counted_by("code", "severity", "file")
        .order_by("severity", "code", "file")
    ]
    return CoalitionReport(
        coalition=period.coalition,
        grant=grant,
        period=period,
        rollup=rollup,
        submission=rollup.submission,
        columns=columns_for(quarter, grant.start_date),
        sections=sections_for(rollup.figures, quarter, grant.start_date),
        progress=progress,
        findings=findings,
        provenance=Provenance(provenance),
        files=quality.counted_files([rollup.submission_id]).get(
            rollup.submission_id, quality.FilesQuality()
        ),
    )


# -- The program-wide summary ---------------------------------------------------------


@dataclass
class CoalitionRow:
    coalition: Coalition
    states: str
    values: list[str]  # KEY_FIGURES, grant to date; empty when no version counts
    status: str
    version: int | None
    due: date
    first_sent: datetime | None
    # The version that counts (submitted, in review or accepted) and whether JFF has
    # accepted it; a summary for DOL counts only accepted ones.
    counts: bool = False
    accepted: bool = False
    new_participants: int | None = None  # A-3, this quarter, when its figures are in

    @property
    def reported(self) -> bool:
        return bool(self.values)

    @property
    def standing(self) -> str:
        """Which reports the summary's figures rest on, in words."""
        if self.accepted:
            return "Accepted"
        if self.counts:
            return "Submitted, not yet accepted"
        return "No report that counts"

    @property
    def timeliness_key(self) -> str:
        return timeliness.status(self.first_sent, self.due)

    @property
    def timeliness(self) -> str:
        return timeliness.LABELS[self.timeliness_key]

    @property
    def first_sent_text(self) -> str:
        return moment_text(self.first_sent)

    @property
    def days_text(self) -> str:
        if self.first_sent is None:
            return "—"
        days = (self.due - timezone.localdate(self.first_sent)).days
        if days >= 0:
            return f"{days} early" if days else "on the due date"
        return f"{-days} late"


@dataclass
class SegmentTable:
    """A breakdown of the program dashboard (same chart), its values formatted."""

    breakdown: dashboards.Breakdown

    @property
    def title(self) -> str:
        return self.breakdown.title

    @property
    def headers(self) -> list[str]:
        return [catalogue.line_label(key) for key in dashboards.BREAKDOWN_KEYS]

    @property
    def rate_header(self) -> str:
        return catalogue.line_label("E-1")

    @property
    def is_long(self) -> bool:
        return len(self.breakdown.rows) > 6

    @cached_property
    def chart(self) -> SafeString:
        if not self.is_long:
            return self.breakdown.chart
        # Thirty-odd states with three bars each would not fit a page: one bar each,
        # the table below gives the other figures.
        rows = self.breakdown.rows
        return charts.grouped_bar_chart(
            [r.label for r in rows],
            [
                charts.Series(
                    dashboards.LABELS["A-2"],
                    [None if r.not_reported else r.values[0] for r in rows],
                )
            ],
            chart_id=f"summary-breakdown-{self.breakdown.kind}",
            title=f"Participants served grant to date by {self.title.lower()}, through "
            f"{self.breakdown.quarter}",
            description=(
                f"Participants served for each {self.title.lower()}; a coalition serving "
                "several counts in each. The table gives every figure."
            ),
            width=500,
            missing="not reported",
        )

    @property
    def rows(self) -> list[dict[str, Any]]:
        # A segment none of whose coalitions has reported has no figures, not zeros.
        return [
            {
                "label": r.label,
                "reported": f"{r.reported} of {r.total}",
                "values": ["not reported" if r.not_reported else format_count(v) for v in r.values],
                "rate": "not reported" if r.not_reported else format_rate(r.employment_rate),
            }
            for r in self.breakdown.rows
        ]


# The executive summary lists this many coalitions behind pace, furthest behind first,
# and counts the rest, so it stays one page with all 34 coalitions.
BEHIND_SHOWN = 6
# A risk names at most this many coalitions, then says how many more.
NAMES_SHOWN = 8


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _share_of_expected(pace: Pace) -> float:
    return (pace.actual or 0) / max(pace.expected, 1)


@dataclass
class BehindPace:
    """A coalition behind pace on one or more of its targets, for the executive summary."""

    coalition: Coalition
    behind: list[Pace]  # the targets it is behind pace on
    targets: int  # how many targets it has

    @property
    def furthest(self) -> Pace:
        return min(self.behind, key=_share_of_expected)

    @property
    def furthest_label(self) -> str:
        return catalogue.line_label(self.furthest.measure)

    @property
    def share_text(self) -> str:
        return f"{100 * _share_of_expected(self.furthest):.0f}%"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


@dataclass
class ProgramSummary:
    quarter: Quarter
    program: ProgramRollup | None
    columns: list[Column]
    sections: list[Section]
    rows: list[CoalitionRow]
    totals: list[str]
    breakdowns: list[SegmentTable]
    progress: list[Pace]
    provenance: Provenance
    headers: list[str] = field(
        default_factory=lambda: [catalogue.line_label(key) for key in KEY_FIGURES]
    )
    # Made for DOL: the figures count accepted reports only.
    accepted_only: bool = False
    # The executive summary's coalitions behind pace on a target, furthest behind first.
    behind_all: list[BehindPace] = field(default_factory=list)

    @property
    def behind(self) -> list[BehindPace]:
        return self.behind_all[:BEHIND_SHOWN]

    @property
    def behind_more(self) -> int:
        return max(len(self.behind_all) - BEHIND_SHOWN, 0)

    # The rows and findings of the current files of every version that counts for the
    # quarter (the reports the figures come from; drafts and test uploads left out).
    files: quality.FilesQuality = field(default_factory=quality.FilesQuality)

    @property
    def title(self) -> str:
        return f"BPIJ program-wide summary, {self.quarter}"

    @property
    def heading(self) -> str:
        return f"Program-wide Summary, {self.quarter}"

    @property
    def period_text(self) -> str:
        return f"{self.quarter} ({self.columns[0].span})"

    @property
    def due(self) -> date:
        return self.quarter.due

    @property
    def reported(self) -> int:
        return self.program.coalitions_reported if self.program else 0

    @property
    def employment_cohort_end(self) -> Quarter:
        """The last exit quarter of the grant-to-date E-1 cohort printed beside it."""
        _, last = figures.exit_quarters(catalogue.GRANT_TO_DATE, self.quarter, figures.LAGS["E-1"])
        return last

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def accepted(self) -> int:
        return len(self.accepted_rows)

    @property
    def accepted_rows(self) -> list[CoalitionRow]:
        return [r for r in self.rows if r.accepted]

    @property
    def submitted_rows(self) -> list[CoalitionRow]:
        """Reports that count as submitted (sent, in review) but are not yet accepted."""
        return [r for r in self.rows if r.counts and not r.accepted]

    @property
    def basis(self) -> str:
        """Which reports the figures count, in one sentence."""
        if self.accepted_only:
            waiting = len(self.submitted_rows)
            return (
                f"Made for the U.S. Department of Labor: the figures count accepted reports "
                f"only ({self.accepted}); {waiting} submitted but not yet accepted "
                f"{'is' if waiting == 1 else 'are'} listed without figures."
            )
        return (
            f"The figures count every report that counts: {self.accepted} accepted and "
            f"{len(self.submitted_rows)} submitted but not yet accepted (JFF's review may "
            "still change them)."
        )

    def _count(self, key: str) -> int:
        return sum(1 for r in self.rows if r.timeliness_key == key)

    @property
    def on_time(self) -> int:
        return self._count("on_time")

    @property
    def late(self) -> int:
        return self._count("late")

    @property
    def not_sent(self) -> int:
        return self._count("not_sent")

    @cached_property
    def timeliness_counts(self) -> timeliness.Timeliness:
        """The one definition of on time (reporting.timeliness), over every report due."""
        return timeliness.count((r.first_sent, r.due) for r in self.rows)

    @property
    def on_time_rate(self) -> str:
        return self.timeliness_counts.rate_text

    @property
    def findings_per_thousand(self) -> str:
        return quality.per_thousand_text(self.files)

    # -- The executive summary: sentences made from the figures, no free text ---------

    @property
    def highlights(self) -> list[str]:
        out = [
            f"{self.reported} of {self.total} coalitions' {self.quarter} reports are in the "
            f"figures ({self.accepted} accepted, {len(self.submitted_rows)} submitted and not "
            f"yet accepted{', not counted' if self.accepted_only else ''}); "
            f"{self.on_time} of {self.total} were first sent on time ({self.on_time_rate})."
        ]
        if self.program is None or not self.reported:
            return out
        gtd = self.program.figures["windows"][GTD]
        cq = self.program.figures["windows"][CQ]
        out += [
            f"{format_count(gtd.get('A-2'))} participants served grant to date, "
            f"{format_count(cq.get('A-3'))} of them new this quarter (A-2, A-3).",
            f"{format_count(gtd.get('C-1'))} began training, {format_count(gtd.get('C-3'))} "
            f"completed it and {format_count(gtd.get('C-4'))} earned a credential, grant to "
            "date (C-1, C-3, C-4).",
            f"{format_count(gtd.get('D-1'))} entered employment, "
            f"{format_count(gtd.get('D-2'))} of them in training-related jobs, grant to date "
            f"(D-1, D-2); median hourly wage at placement this quarter "
            f"{format_value('D-3', cq.get('D-3'))} (D-3).",
            f"Employment rate in the 2nd quarter after exit, grant to date: "
            f"{format_value('E-1', gtd.get('E-1'))} (E-1).",
        ]
        if self.progress:
            out.append(
                "Program pace against the summed targets: "
                + "; ".join(
                    f"{p.label.lower()} {format_count(p.actual)} of {format_count(p.target)}, "
                    f"{format_count(p.expected)} expected by now ({p.status.lower()})"
                    for p in self.progress
                )
                + "."
            )
        return out

    @property
    def risks(self) -> list[str]:
        out = []
        missing = [f"{r.coalition.name} ({r.status.lower()})" for r in self.rows if not r.counts]
        if missing:
            out.append(
                f"{_plural(len(missing), 'coalition has', 'coalitions have')} no "
                f"{self.quarter} report that counts yet, so not in the figures: "
                f"{_names(missing)}."
            )
        late = [r.coalition.name for r in self.rows if r.timeliness_key == "late"]
        if late:
            out.append(
                f"{_plural(len(late), 'report was', 'reports were')} first sent after the "
                f"due date: {_names(late)}."
            )
        waiting = [r.coalition.name for r in self.submitted_rows]
        if waiting:
            out.append(
                f"{_plural(len(waiting), 'report is', 'reports are')} submitted but not yet "
                f"accepted ({_names(waiting)}): "
                + (
                    "left out of these figures."
                    if self.accepted_only
                    else "their figures may still change in JFF's review."
                )
            )
        for row in self.rows:
            if row.reported and row.new_participants == 0:
                out.append(f"{row.coalition.name}: no new participants this quarter (A-3).")
        if self.files.errors:
            out.append(
                f"{_plural(self.files.errors, 'error', 'errors')} in the files of the reports "
                f"counted ({self.findings_per_thousand} findings per 1,000 rows); rows with an "
                "error are held back and not counted."
            )
        return out

    @cached_property
    def progress_chart(self) -> SafeString:
        return dashboards.progress_chart(
            self.progress, chart_id="summary-progress", subject="all coalitions"
        )

    @cached_property
    def indicator_chart(self) -> SafeString:
        return dashboards.indicator_chart(
            dashboards.indicators(self.program.figures if self.program else None, self.quarter),
            chart_id="summary-indicators",
            subject="program",
        )

    @cached_property
    def timeliness_chart(self) -> SafeString:
        return charts.grouped_bar_chart(
            ["On time", "Late", "Not yet sent"],
            [charts.Series("Coalitions", [self.on_time, self.late, self.not_sent])],
            chart_id="summary-timeliness",
            title=f"Submission timeliness, {self.quarter}",
            description=(
                "How many coalitions first sent their report by the due date, after it, or "
                "not yet. The table gives each coalition."
            ),
            width=500,
        )


def _key_values(figures_json: dict) -> list[str]:
    to_date = figures_json["windows"][GTD]
    return [format_value(key, to_date.get(key)) for key in KEY_FIGURES]


def program_summary(
    *,
    quarter: str,
    provenance: dict,
    accepted_segments: list[ProgramRollup] | None = None,
) -> ProgramSummary:
    """Every coalition with a period in ``quarter``, and the program's roll-ups.

    With ``accepted_segments`` (the program roll-up of the accepted reports only,
    ``services.rollups.accepted_program_rows``) the summary is the one made for DOL:
    its figures, targets and data quality count accepted reports only."""
    chosen = Quarter.parse(quarter)
    stamp = Provenance(provenance)
    accepted_only = accepted_segments is not None
    segments = (
        sorted(accepted_segments, key=lambda s: s.segment)
        if accepted_segments is not None
        else list(ProgramRollup.objects.filter(quarter=str(chosen)).order_by("segment"))
    )
    program = next((s for s in segments if s.segment == "program"), None)
    periods = (
        ReportingPeriod.objects.filter(quarter=str(chosen))
        .select_related("coalition")
        .prefetch_related(Prefetch("submissions", queryset=Submission.objects.order_by("-version")))
        .order_by("coalition__name")
    )
    counting = {
        r.period_id: r
        for r in Rollup.objects.filter(quarter=str(chosen)).only(
            "period_id", "submission_id", "figures", "accepted"
        )
    }
    rollups = {k: r for k, r in counting.items() if r.accepted or not accepted_only}
    files = sum(
        quality.counted_files(r.submission_id for r in rollups.values()).values(),
        quality.FilesQuality(),
    )
    rows = []
    for period in periods:
        status = board.BoardRow(
            period=period,
            versions=list(period.submissions.all()),
            coaches=[],
            reminders=[],
            today=stamp.today,
        )
        first = status.first_sent
        rollup = rollups.get(period.pk)
        rows.append(
            CoalitionRow(
                coalition=period.coalition,
                states=", ".join(period.coalition.states_served),
                values=_key_values(rollup.figures) if rollup else [],
                status=status.state_label,
                version=status.version,
                due=period.due_date,
                first_sent=first.submitted_at if first else None,
                new_participants=rollup.figures["windows"][CQ].get("A-3") if rollup else None,
                counts=period.pk in counting,
                accepted=period.pk in counting and counting[period.pk].accepted,
            )
        )
    breakdowns = []
    for kind, title in dashboards.SEGMENT_KINDS:
        shown = [
            dashboards.SegmentRow(
                segment=s.segment,
                label=dashboards.segment_label(s.segment),
                reported=s.coalitions_reported,
                total=s.coalitions_total,
                values=[s.figures["windows"][GTD].get(key, 0) for key in dashboards.BREAKDOWN_KEYS],
                employment_rate=s.figures["windows"][GTD].get("E-1"),
            )
            for s in segments
            if s.segment.startswith(f"{kind}:")
        ]
        shown.sort(key=lambda r: r.label)
        if shown:
            breakdowns.append(SegmentTable(dashboards.Breakdown(kind, title, shown, str(chosen))))
    # The targets of the coalitions whose report counts: the totals cover only them.
    targets = (
        Target.objects.filter(coalition_id__in=[p.coalition_id for p in periods if p.pk in rollups])
        .order_by()
        .values("measure")
        .annotate(total=Sum("value"), start=Min("grant__start_date"), end=Max("grant__end_date"))
    )
    to_date = program.figures["windows"][GTD] if program else {}
    labels = dict(Measure.choices)
    progress = [
        Pace(
            measure=t["measure"],
            label=str(labels.get(t["measure"], t["measure"])),
            target=t["total"],
            actual=to_date.get(t["measure"]) if program else None,
            grant_start=t["start"],
            grant_end=t["end"],
            quarter=chosen,
        )
        for t in sorted(targets, key=lambda t: Measure.values.index(t["measure"]))
    ]
    grant_start = min((t["start"] for t in targets), default=chosen.start)
    # Each counted coalition's own targets against its own grant-to-date figures.
    by_period = {p.coalition_id: p for p in periods if p.pk in rollups}
    paces: dict[int, list[Pace]] = {}
    for target in (
        Target.objects.filter(coalition_id__in=by_period)
        .select_related("grant")
        .order_by("coalition_id", "measure")
    ):
        period = by_period[target.coalition_id]
        pace = Pace(
            measure=target.measure,
            label=str(labels.get(target.measure, target.measure)),
            target=target.value,
            actual=rollups[period.pk].figures["windows"][GTD].get(target.measure),
            grant_start=target.grant.start_date,
            grant_end=target.grant.end_date,
            quarter=chosen,
        )
        paces.setdefault(period.pk, []).append(pace)
    behind = []
    for period_id, own in paces.items():
        late = [p for p in own if p.status in ("Behind", "Slightly behind")]
        if late:
            coalition = next(p.coalition for p in periods if p.pk == period_id)
            behind.append(BehindPace(coalition, late, len(own)))
    behind.sort(key=lambda b: (_share_of_expected(b.furthest), b.coalition.name))
    return ProgramSummary(
        quarter=chosen,
        program=program,
        columns=columns_for(chosen, grant_start),
        sections=sections_for(program.figures, chosen, grant_start) if program else [],
        rows=rows,
        totals=_key_values(program.figures) if program else [],
        breakdowns=breakdowns,
        progress=progress,
        provenance=stamp,
        files=files,
        accepted_only=accepted_only,
        behind_all=behind,
    )


def figure_rows(result: dict, *, period: ReportingPeriod) -> list[dict]:
    """One row per figure, with its value in each window, in report order; for the E
    indicators, the cohort each value covers (as the PDF prints it) in ``cohorts``."""
    windows = result["windows"]
    periods = figures.cohort_periods(period.as_quarter, period.grant.start_date)
    rows = []
    for figure in catalogue.FIGURES:
        key, label, section = figure.key, figure.label, figure.section
        values = [windows[w].get(key) for w in catalogue.WINDOW_NAMES]
        if figure.is_money:
            values = [None if v is None else f"${int(v):,}" if key == "E-2" else f"${v}"
                      for v in values]  # fmt: skip
        cohorts = (
            [format_cohort(key, periods[w].get(key)) for w in catalogue.WINDOW_NAMES]
            if figure.is_indicator
            else ["" for _ in catalogue.WINDOW_NAMES]
        )
        rows.append(
            {"key": key, "label": label, "section": section, "values": values,
             "cells": list(zip(values, cohorts, strict=True))}
        )  # fmt: skip
    return rows
