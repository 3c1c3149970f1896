"""Read models of the program and coalition dashboards (and, later, their PDFs).

Figures come only from the roll-up tables (``Rollup``, ``ProgramRollup``); coalitions,
grants, targets and the latest submission give context. Each read model is a fixed
handful of queries whatever the number of coalitions, quarters or records, and builds its
charts from the numbers it already holds (``reporting.charts``).

Pace (docs/dashboards.md): by the end of a report quarter a measure is expected to have
reached target × the share of the grant's period of performance that has passed by then;
"needed per quarter" is what is left of the target spread over the grant's remaining
quarters, beside the average per quarter so far.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import JSONField, Max, Min, OuterRef, Subquery, Sum
from django.db.models.functions import JSONObject
from django.utils.functional import cached_property
from django.utils.safestring import SafeString

from bpij import tenancy
from bpij.models import User
from grantees.calendar import Quarter, program_year
from grantees.models import US_STATES, Coalition, Measure, Sector, Target, Track
from reporting import catalogue, charts, figures, timeliness
from reporting.models import (
    Finding,
    ProgramRollup,
    ReportingPeriod,
    Rollup,
    Submission,
    SubmissionState,
    Upload,
)
from reporting.pace import Pace

CQ, R4, GTD = catalogue.WINDOW_NAMES
LABELS = catalogue.LABELS
# The quarter-over-quarter trend: Current Quarter flows, one line each.
TREND_KEYS = ("A-3", "C-1", "C-3", "D-1")
# What the breakdowns compare, grant to date.
BREAKDOWN_KEYS = ("A-2", "C-3", "D-1")
INDICATORS = catalogue.INDICATOR_KEYS
SEGMENT_KINDS = (("sector", "Sector"), ("track", "Track"), ("state", "State"))


def progress_chart(rows: list[Pace], *, chart_id: str, subject: str) -> SafeString:
    return charts.progress_chart(
        [charts.Progress(r.label, r.actual or 0, r.target, r.expected) for r in rows if r.target],
        chart_id=chart_id,
        title=f"Progress to grant-to-date targets, {subject}",
        description=(
            "For each measure, a bar of the actual grant to date as a share of its target, a "
            "line at the target and a diamond where the measure should be by now at an "
            "even pace. The table beside the chart gives every number."
        ),
    )


# -- Shared pieces --------------------------------------------------------------------


def _window(figures_json: dict | None, window: str) -> dict[str, Any]:
    if not figures_json:
        return {}
    return figures_json.get("windows", {}).get(window, {})


@dataclass
class Trend:
    """Current Quarter figures by quarter."""

    quarters: list[str]
    values: dict[str, list[int | None]]  # key -> one value per quarter
    subject: str
    chart_id: str = "trend"
    # Per quarter: "1 of 2 coalitions" where only some reports count yet, else None.
    partial: list[str | None] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[str, list[int | None], str | None]]:
        notes = self.partial or [None] * len(self.quarters)
        return [
            (quarter, [self.values[key][i] for key in TREND_KEYS], notes[i])
            for i, quarter in enumerate(self.quarters)
        ]

    @property
    def headers(self) -> list[str]:
        return [LABELS[key] for key in TREND_KEYS]

    @property
    def has_partial(self) -> bool:
        return any(self.partial)

    @cached_property
    def chart(self) -> SafeString:
        return charts.line_chart(
            self.quarters,
            [charts.Series(LABELS[key], self.values[key]) for key in TREND_KEYS],
            chart_id=self.chart_id,
            title=f"Quarter-over-quarter trends, {self.subject}",
            description=(
                "Each quarter's new participants, people who began training, completed "
                "training and entered employment (Current Quarter figures); a gap is a "
                "quarter without figures. The table beside the chart gives every number."
            ),
            partial=self.partial,
        )


def _fill(rows: list[tuple[str, dict | None]]) -> list[tuple[str, dict | None]]:
    """Every quarter from the first to the last given, a missing one without figures, so
    a quarter nobody reported shows as a gap rather than vanishing from the axis."""
    if not rows:
        return []
    given = dict(rows)
    first, last = Quarter.parse(rows[0][0]), Quarter.parse(rows[-1][0])
    return [
        (str(q), given.get(str(q)))
        for q in (first + i for i in range(last.index - first.index + 1))
    ]


def _trend(
    rows: list[tuple[str, dict | None]],
    *,
    subject: str,
    chart_id: str,
    partial: dict[str, str] | None = None,
) -> Trend:
    rows = _fill(rows)
    values: dict[str, list[int | None]] = {key: [] for key in TREND_KEYS}
    for _, figures_json in rows:
        current = _window(figures_json, CQ)
        for key in TREND_KEYS:
            values[key].append(current.get(key))
    notes = [(partial or {}).get(q) for q, _ in rows]
    return Trend([q for q, _ in rows], values, subject, chart_id, notes)


@dataclass
class Indicator:
    key: str
    label: str
    # One (value, cohort) per window: a rate dict or whole dollars (E-2) or None, and
    # the exit quarters (or program year) it covers.
    cells: list[tuple[Any, str]]

    @property
    def values(self) -> list[Any]:
        return [value for value, _ in self.cells]


# Short names for the chart's axis; the table beside it has the full ones.
SHORT_LABELS = {
    "E-1": "E-1 Employed, Q2",
    "E-3": "E-3 Employed, Q4",
    "E-4": "E-4 Credential",
    "E-5": "E-5 Skill gains",
}


def cohort_label(key: str, window: str, quarter: Quarter) -> str:
    if key == "E-5":
        return f"program year {program_year(quarter.start)} to date"
    first, last = figures.exit_quarters(window, quarter, figures.LAGS[key])
    if first is None:
        return f"exits through {last}"
    return f"exits in {last}" if first == last else f"exits {first}–{last}"


def indicators(figures_json: dict | None, quarter: Quarter) -> list[Indicator]:
    return [
        Indicator(
            key=key,
            label=LABELS[key],
            cells=[
                (_window(figures_json, window).get(key), cohort_label(key, window, quarter))
                for window in catalogue.WINDOW_NAMES
            ],
        )
        for key in INDICATORS
    ]


def indicator_chart(rows: list[Indicator], *, chart_id: str, subject: str) -> SafeString:
    rates = [r for r in rows if r.key != "E-2"]
    return charts.grouped_bar_chart(
        [SHORT_LABELS[r.key] for r in rates],
        [
            charts.Series(
                name,
                [
                    (r.values[i] or {}).get("rate") if isinstance(r.values[i], dict) else None
                    for r in rates
                ],
            )
            for i, name in enumerate(("Current quarter", "Rolling 4 quarters", "Grant to date"))
        ],
        chart_id=chart_id,
        title=f"WIOA-aligned indicator rates, {subject}",
        description=(
            "Employment rates in the 2nd and 4th quarters after exit, credential attainment "
            "and measurable skill gains, in percent, for each window; n/a where the cohort "
            "is empty. Median earnings (E-2) and every numerator and denominator are in the "
            "table beside the chart."
        ),
        formatter=charts.percent,
        max_value=100,
        width=500,
    )


@dataclass
class QualityRow:
    quarter: str
    rows_checked: int
    findings: int
    reported: int
    total: int
    on_time: int
    due: date
    today: date

    @property
    def per_thousand(self) -> float | None:
        return 1000 * self.findings / self.rows_checked if self.rows_checked else None

    @property
    def on_time_rate(self) -> float | None:
        """Reports first certified by the due date over every report due (for the
        program, ``on_time`` is the roll-up's count; reporting.timeliness)."""
        return timeliness.Timeliness(on_time=self.on_time, due=self.total).rate

    @property
    def not_yet_due(self) -> bool:
        return self.due >= self.today


def quality_charts(
    rows: list[QualityRow], *, subject: str, chart_id: str, on_time: bool = True
) -> list[SafeString]:
    quarters = [r.quarter for r in rows]
    shown = [
        charts.line_chart(
            quarters,
            [charts.Series("Findings per 1,000 rows checked", [r.per_thousand for r in rows])],
            chart_id=f"{chart_id}-findings",
            title=f"Findings per 1,000 rows checked, {subject}",
            description=(
                "Errors and warnings found per 1,000 rows of every file checked for each "
                "quarter, all versions included."
            ),
            formatter=lambda v: f"{v:,.1f}",
        )
    ]
    if not on_time:
        return shown
    return [
        *shown,
        charts.line_chart(
            quarters,
            [charts.Series("Reports sent on time", [r.on_time_rate for r in rows])],
            chart_id=f"{chart_id}-on-time",
            title=f"On-time submission rate, {subject}",
            description=(
                "The share of coalitions whose report for the quarter was first sent by its "
                "due date, in percent."
            ),
            formatter=lambda v: f"{v:.0f}%",
            max_value=100,
        ),
    ]


# -- Program dashboard ----------------------------------------------------------------


@dataclass
class SegmentRow:
    segment: str
    label: str
    reported: int
    total: int
    values: list[int]  # BREAKDOWN_KEYS, grant to date
    employment_rate: dict | None  # E-1, grant to date

    @property
    def not_reported(self) -> bool:
        """No coalition of the segment has a report that counts: its zeros are not
        figures (a state would show 0 served)."""
        return self.reported == 0

    @property
    def partial(self) -> bool:
        return 0 < self.reported < self.total


@dataclass
class Breakdown:
    kind: str
    title: str
    rows: list[SegmentRow]
    quarter: str

    @property
    def headers(self) -> list[str]:
        return [LABELS[key] for key in BREAKDOWN_KEYS]

    @cached_property
    def chart(self) -> SafeString:
        return charts.grouped_bar_chart(
            [r.label for r in self.rows],
            [
                charts.Series(
                    LABELS[key], [None if r.not_reported else r.values[i] for r in self.rows]
                )
                for i, key in enumerate(BREAKDOWN_KEYS)
            ],
            chart_id=f"breakdown-{self.kind}",
            title=f"Grant to date by {self.title.lower()}, through {self.quarter}",
            description=" ".join(
                [
                    f"Participants served, completed training and entered employment for "
                    f"each {self.title.lower()}. A coalition with several counts in each of "
                    "them.",
                    *self.caveats,
                ]
            ),
            width=500,
            missing="not reported",
        )

    @property
    def caveats(self) -> list[str]:
        """What the chart's text alternative says about segments not fully reported."""
        out = []
        missing = [r.label for r in self.rows if r.not_reported]
        if missing:
            out.append(f"No coalition has reported yet for: {', '.join(missing)}.")
        partial = [f"{r.label} ({r.reported} of {r.total})" for r in self.rows if r.partial]
        if partial:
            out.append(f"Only some coalitions have reported for: {', '.join(partial)}.")
        return out


def segment_label(segment: str, *, with_kind: bool = False) -> str:
    """A program roll-up's segment by name: "Broadband", or with its kind (as a
    spreadsheet's rows name it) "Sector: Broadband"; the program itself is "All
    coalitions"."""
    kind, _, code = segment.partition(":")
    if kind == "program":
        return "All coalitions"
    if kind == "sector":
        name = str(Sector(code).label) if code in Sector.values else code
    elif kind == "track":
        name = str(Track(code).label) if code in Track.values else code
    else:
        name = US_STATES.get(code, code)
    return f"{kind.capitalize()}: {name}" if with_kind else name


@dataclass
class ProgramDashboard:
    quarter: Quarter | None
    quarters: list[str]
    program: ProgramRollup | None
    progress: list[Pace]
    trend: Trend
    breakdowns: list[Breakdown]
    indicators: list[Indicator]
    quality: list[QualityRow]
    asked_for: str = ""
    # The coalitions with a report due for the quarter whose report does not count.
    not_reported: list["NotReported"] = field(default_factory=list)

    @property
    def asked_unknown(self) -> bool:
        return bool(self.asked_for) and self.asked_for != str(self.quarter)

    @property
    def partial(self) -> bool:
        """Some, not all, coalitions' reports count for the quarter: its figures are
        those of the ones that do, and the page says so."""
        return bool(self.program) and self.pending > 0

    @cached_property
    def progress_chart(self) -> SafeString:
        return progress_chart(self.progress, chart_id="program-progress", subject="all coalitions")

    @cached_property
    def indicator_chart(self) -> SafeString:
        return indicator_chart(self.indicators, chart_id="program-indicators", subject="program")

    @cached_property
    def quality_charts(self) -> list[SafeString]:
        return quality_charts(self.quality, subject="program", chart_id="program-quality")

    @property
    def pending(self) -> int:
        """Coalitions with a period this quarter whose report does not count yet."""
        return (
            self.program.coalitions_total - self.program.coalitions_reported if self.program else 0
        )


@dataclass
class NotReported:
    """A coalition with a report due for the quarter that has no version counting
    (not sent, being fixed, or returned): aggregate facts only."""

    name: str
    code: Any
    states: list[str]
    due: date
    today: date
    linked: bool  # the reader may open its dashboard

    @property
    def overdue(self) -> bool:
        return self.due < self.today


def _not_reported(user: User, quarter: str, today: date) -> list[NotReported]:
    """The quarter's coalitions without a report that counts, read like the targets (a
    coach's program figures are the whole program's, so is this list: names, states and
    due dates only). Two queries."""
    periods = (
        ReportingPeriod.objects.filter(quarter=quarter, rollup__isnull=True)
        .select_related("coalition")
        .order_by("coalition__name")
    )
    with tenancy.aggregates_scope_for(user):
        rows = list(periods)
    ids = [p.coalition_id for p in rows]
    visible = (
        set(Coalition.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
        if ids
        else set()
    )
    return [
        NotReported(
            name=p.coalition.name,
            code=p.coalition.code,
            states=list(p.coalition.states_served),
            due=p.due_date,
            today=today,
            linked=p.coalition_id in visible,
        )
        for p in rows
    ]


def _program_targets(user: User, quarter: str) -> dict[str, dict[str, Any]]:
    """The targets of the coalitions whose report counts for ``quarter``, summed per
    measure, with the span of their grants: the actuals are theirs only, so comparing
    them with all 34 coalitions' targets would call the program behind whenever a
    report is still to come.

    A coach's database scope holds only their own coalitions' rows, yet the program
    dashboard shows program-wide aggregates to every staff role; for them the sums
    (never rows) are read in the aggregates scope, which sees every coalition's targets
    and roll-ups and nothing about people.
    """
    reported = Rollup.objects.filter(quarter=quarter).values("coalition_id")
    rows = (
        Target.objects.filter(coalition_id__in=reported)
        .order_by()
        .values("measure")
        .annotate(total=Sum("value"), start=Min("grant__start_date"), end=Max("grant__end_date"))
    )
    with tenancy.aggregates_scope_for(user):
        return {row["measure"]: row for row in rows}


def program_dashboard(*, user: User, quarter: str = "", today: date) -> ProgramDashboard:
    """The program dashboard for ``quarter`` (default: the latest with a roll-up)."""
    trend_rows = list(
        ProgramRollup.objects.filter(segment="program")
        .only(
            "quarter",
            "figures",
            "coalitions_reported",
            "coalitions_total",
            "rows_checked",
            "errors_found",
            "warnings_found",
            "submitted_on_time",
        )
        .order_by("quarter")
    )
    quarters = [row.quarter for row in trend_rows]
    asked = quarter.strip().upper()
    chosen_text = asked if asked in quarters else (quarters[-1] if quarters else "")
    chosen = Quarter.parse(chosen_text) if chosen_text else None
    trend_rows = [row for row in trend_rows if row.quarter <= chosen_text]
    segments = (
        list(ProgramRollup.objects.filter(quarter=chosen_text).order_by("segment"))
        if chosen
        else []
    )
    program = next((s for s in segments if s.segment == "program"), None)
    targets = _program_targets(user, chosen_text)
    to_date = _window(program.figures if program else None, GTD)
    progress = (
        [
            Pace(
                measure=measure,
                label=str(label),
                target=targets[measure]["total"],
                actual=to_date.get(measure),
                grant_start=targets[measure]["start"],
                grant_end=targets[measure]["end"],
                quarter=chosen,
            )
            for measure, label in Measure.choices
            if measure in targets
        ]
        if chosen
        else []
    )
    breakdowns = []
    for kind, title in SEGMENT_KINDS:
        rows = [
            SegmentRow(
                segment=s.segment,
                label=segment_label(s.segment),
                reported=s.coalitions_reported,
                total=s.coalitions_total,
                values=[_window(s.figures, GTD).get(key, 0) for key in BREAKDOWN_KEYS],
                employment_rate=_window(s.figures, GTD).get("E-1"),
            )
            for s in segments
            if s.segment.startswith(f"{kind}:")
        ]
        rows.sort(key=lambda r: r.label)
        if rows:
            breakdowns.append(Breakdown(kind, title, rows, chosen_text))
    return ProgramDashboard(
        quarter=chosen,
        quarters=quarters,
        program=program,
        progress=progress,
        trend=_trend(
            # A quarter no coalition's report counts for yet is a gap, not zeros; one
            # some have not reported is marked partial, not drawn as a drop.
            [(row.quarter, row.figures if row.coalitions_reported else None) for row in trend_rows],
            subject="all coalitions",
            chart_id="program-trend",
            partial={
                row.quarter: f"{row.coalitions_reported} of {row.coalitions_total} coalitions"
                for row in trend_rows
                if 0 < row.coalitions_reported < row.coalitions_total
            },
        ),
        breakdowns=breakdowns,
        indicators=indicators(program.figures if program else None, chosen) if chosen else [],
        quality=[
            QualityRow(
                quarter=row.quarter,
                rows_checked=row.rows_checked,
                findings=row.errors_found + row.warnings_found,
                reported=row.coalitions_reported,
                total=row.coalitions_total,
                on_time=row.submitted_on_time,
                due=Quarter.parse(row.quarter).due,
                today=today,
            )
            for row in trend_rows
        ],
        asked_for=asked,
        not_reported=_not_reported(user, chosen_text, today) if program else [],
    )


# -- Coalition dashboard --------------------------------------------------------------


def _latest_submission() -> dict[str, Subquery]:
    """The coalition's latest version (newest quarter, highest version), as one JSON
    annotation on the coalition row itself: one query for the coalition and its report
    status, with one subquery (eight, one per column, took longer to compile and plan
    than the rest of the page's queries together)."""
    latest = Submission.objects.filter(coalition=OuterRef("pk")).order_by(
        "-period__start_date", "-version"
    )
    fields = JSONObject(
        id="pk",
        code="code",
        state="state",
        version="version",
        quarter="period__quarter",
        errors="error_count",
        warnings="warning_count",
        submitted_at="submitted_at",
    )
    return {"latest": Subquery(latest.values(json=fields)[:1], output_field=JSONField())}


def coalitions_with_latest_submission():
    return Coalition.objects.annotate(**_latest_submission())


@dataclass
class LatestSubmission:
    code: Any
    state: str
    version: int
    quarter: str
    errors: int
    warnings: int
    submitted_at: Any
    findings: list[dict] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return str(SubmissionState(self.state).label)


@dataclass
class CoalitionDashboard:
    coalition: Coalition
    quarter: Quarter | None
    quarters: list[str]
    rollup: Rollup | None
    progress: list[Pace]
    trend: Trend
    indicators: list[Indicator]
    quality: list[QualityRow]
    latest: LatestSubmission | None
    asked_for: str = ""

    @property
    def asked_unknown(self) -> bool:
        return bool(self.asked_for) and self.asked_for != str(self.quarter)

    @cached_property
    def progress_chart(self) -> SafeString:
        return progress_chart(
            self.progress, chart_id="coalition-progress", subject=self.coalition.name
        )

    @cached_property
    def indicator_chart(self) -> SafeString:
        return indicator_chart(
            self.indicators, chart_id="coalition-indicators", subject=self.coalition.name
        )

    @cached_property
    def quality_charts(self) -> list[SafeString]:
        return quality_charts(
            self.quality, subject=self.coalition.name, chart_id="coalition-quality", on_time=False
        )


TOP_FINDINGS = 8


def target_progress(targets: list[Target], rollup: Rollup | None, at: Quarter) -> list[Pace]:
    """Each target (fetched with its grant) with the grant-to-date actual of ``rollup``
    and its pace at the end of quarter ``at``, in the measures' order: the coalition
    dashboard and the coalition page read the same rows."""
    to_date = _window(rollup.figures if rollup else None, GTD)
    order = {m: i for i, m in enumerate(Measure.values)}
    return [
        Pace(
            measure=t.measure,
            label=t.get_measure_display(),
            target=t.value,
            actual=to_date.get(t.measure) if rollup else None,
            grant_start=t.grant.start_date,
            grant_end=t.grant.end_date,
            quarter=at,
            milestone=(t.milestones or {}).get(str(at)),
        )
        for t in sorted(targets, key=lambda t: order.get(t.measure, 99))
    ]


def report_sources(coalition: Coalition) -> list[tuple[type, str, list]]:
    """What a coalition's dashboard shows live of its reports, as sources of a
    ``pagecache.stamp``: its versions and their files (the latest report, its state and
    counts; its findings are replaced in the same transaction that moves the version on)."""
    own = ("coalition_id = %s", [coalition.pk])
    return [(Submission, *own), (Upload, *own)]


def coalition_dashboard(
    *, coalition: Coalition, quarter: str = "", today: date
) -> CoalitionDashboard:
    """The dashboard of a coalition fetched with ``coalitions_with_latest_submission()``
    through ``visible_to`` (the caller's access check)."""
    dashboard = coalition_figures(coalition=coalition, quarter=quarter, today=today)
    dashboard.latest = latest_submission(coalition)
    return dashboard


def coalition_figures(
    *, coalition: Coalition, quarter: str = "", today: date
) -> CoalitionDashboard:
    """The dashboard without its latest report: what is computed from the roll-ups and
    targets, the same for every reader and until the roll-ups change (the page cache
    keeps it; reporting.pagecache)."""
    rollups = list(
        Rollup.objects.filter(coalition=coalition)
        .select_related("period__grant")
        .order_by("quarter")
    )
    quarters = [r.quarter for r in rollups]
    asked = quarter.strip().upper()
    chosen_text = asked if asked in quarters else (quarters[-1] if quarters else "")
    chosen_rollup = next((r for r in rollups if r.quarter == chosen_text), None)
    targets = list(
        Target.objects.filter(coalition=coalition).select_related("grant").order_by("measure")
    )
    # With no report yet, pace is still measured at the quarter the coalition is in.
    at = Quarter.parse(chosen_text) if chosen_text else Quarter.containing(today)
    progress = target_progress(targets, chosen_rollup, at)
    shown = [r for r in rollups if r.quarter <= chosen_text]
    return CoalitionDashboard(
        coalition=coalition,
        quarter=Quarter.parse(chosen_text) if chosen_text else None,
        quarters=quarters,
        rollup=chosen_rollup,
        progress=progress,
        trend=_trend(
            [(r.quarter, r.figures) for r in shown],
            subject=coalition.name,
            chart_id="coalition-trend",
        ),
        indicators=indicators(chosen_rollup.figures, at) if chosen_rollup else [],
        quality=[
            QualityRow(
                quarter=r.quarter,
                rows_checked=r.rows_checked,
                findings=r.errors_found + r.warnings_found,
                reported=1,
                total=1,
                on_time=int(r.on_time),
                due=r.due_date,
                today=today,
            )
            for r in shown
        ],
        latest=None,
        asked_for=asked,
    )


def latest_submission(coalition: Coalition) -> LatestSubmission | None:
    """The coalition's latest version as annotated by
    ``coalitions_with_latest_submission()`` (None without the annotations or a
    version), with its most frequent findings: live, never cached."""
    found = getattr(coalition, "latest", None)
    if found is None:
        return None
    annotated = found["id"]
    latest = LatestSubmission(
        code=uuid.UUID(found["code"]),
        state=found["state"],
        version=found["version"],
        quarter=found["quarter"],
        errors=found["errors"],
        warnings=found["warnings"],
        submitted_at=(
            datetime.fromisoformat(found["submitted_at"]) if found["submitted_at"] else None
        ),
    )
    if latest.errors or latest.warnings:
        latest.findings = list(
            Finding.objects.filter(upload__submission_id=annotated, upload__is_current=True)
            .counted_by("severity", "code")
            .order_by("severity", "-count", "code")[:TOP_FINDINGS]
        )
    return latest
