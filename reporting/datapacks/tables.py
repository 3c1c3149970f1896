"""The data packs' tables (reporting.datapacks): what each sheet or CSV file holds, built
from what reporting.selectors.datapacks reads."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from grantees.calendar import Quarter
from grantees.models import Coalition
from reporting import catalogue, figures, timeliness
from reporting.checks import rules
from reporting.models import ProgramRollup, Rollup
from reporting.selectors import board as board_selector
from reporting.selectors import dashboards, quality
from reporting.selectors import datapacks as pack_selectors

Value = str | int | float | Decimal | date | datetime | bool | None

# How a column is written: text (neutralised), whole number, decimal (2 places), rate
# (1 place), date, date and time (local), yes/no.
TEXT, INT, MONEY, RATE, DATE, DATETIME, YESNO = (
    "text",
    "int",
    "money",
    "rate",
    "date",
    "datetime",
    "yesno",
)
WIDTHS = {TEXT: 14, INT: 11, MONEY: 12, RATE: 10, DATE: 12, DATETIME: 18, YESNO: 9}


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    width: int | None = None


@dataclass
class Table:
    """One sheet of the workbook and one CSV file of the zip."""

    sheet: str  # at most 31 characters (Excel)
    file: str
    about: str
    columns: list[Column]
    rows: list[list[Value]] = field(default_factory=list)


# -- The tables -----------------------------------------------------------------------

_UNITS = {"D-3": "dollars per hour", "E-2": "dollars"}

_FIGURE_VALUE_COLUMNS = [
    Column("Window", width=20),
    Column("Figure", width=8),
    Column("Label", width=40),
    Column("Section", width=34),
    Column("Value"),
    Column("Unit", width=16),
    Column("Numerator", INT),
    Column("Denominator", INT),
    Column("Rate (%)", RATE),
    Column("Cohort from", width=11),
    Column("Cohort to", width=11),
]


def _figure_cells(
    figures_json: dict, cohorts: dict[str, dict[str, tuple[str, str] | None]]
) -> Iterable[list[Value]]:
    """One row per window and figure of a roll-up's figures, in report order. A rate's
    value is its percentage (blank for an empty cohort, "n/a" in the reports); D-3 is
    dollars and cents, E-2 whole dollars."""
    windows = figures_json.get("windows", {})
    for window, window_label in catalogue.WINDOWS:
        values = windows.get(window, {})
        for figure in catalogue.FIGURES:
            key, label, section = figure.key, figure.label, figure.section
            raw = values.get(key)
            numerator = denominator = rate = None
            if key in catalogue.RATE_KEYS:
                raw = raw or {}
                numerator, denominator, rate = (
                    raw.get("numerator"),
                    raw.get("denominator"),
                    raw.get("rate"),
                )
                value: Value = rate
                unit = "percent"
            elif key == "D-3":
                value = None if raw is None else Decimal(str(raw))
                unit = _UNITS[key]
            else:
                value = raw
                unit = _UNITS.get(key, "people")
            span = cohorts.get(window, {}).get(key) if key.startswith("E-") else None
            yield [
                window_label,
                key,
                label,
                section,
                value,
                unit,
                numerator,
                denominator,
                rate,
                span[0] if span else None,
                span[1] if span else None,
            ]


def _figures_table(rollups: list[Rollup]) -> Table:
    table = Table(
        sheet="Figures",
        file="figures.csv",
        about=(
            "The contract's figures (DATA-CONTRACT.md §4) per coalition, quarter and window, "
            "one row per figure, from each quarter's roll-up of the version that counts "
            "(the latest sent and not returned). Every quarter up to the one asked for."
        ),
        columns=[
            Column("Coalition", width=32),
            Column("Coalition slug", width=16),
            Column("Quarter", width=9),
            Column("Version", INT),
            Column("Accepted", YESNO),
            *_FIGURE_VALUE_COLUMNS,
        ],
    )
    for rollup in rollups:
        cohorts = figures.cohort_periods(
            Quarter.parse(rollup.quarter), rollup.period.grant.start_date
        )
        head: list[Value] = [
            rollup.coalition.name,
            rollup.coalition.slug,
            rollup.quarter,
            rollup.submission.version,
            rollup.accepted,
        ]
        table.rows.extend(head + cells for cells in _figure_cells(rollup.figures, cohorts))
    return table


def _program_figures_table(program: list[ProgramRollup], grant_start: date | None) -> Table:
    table = Table(
        sheet="Program figures",
        file="program_figures.csv",
        about=(
            "Program-wide figures per quarter, segment (all coalitions, or those of one "
            "sector, track or state) and window: counts summed over the coalitions' "
            "counted versions, rates from the summed numerators and denominators, medians "
            "over every underlying value (never averaged). Grant to Date cohorts are shown "
            "from the earliest grant's first quarter."
        ),
        columns=[
            Column("Quarter", width=9),
            Column("Segment", width=20),
            Column("Segment name", width=30),
            Column("Coalitions reported", INT),
            Column("Coalitions", INT),
            *_FIGURE_VALUE_COLUMNS,
        ],
    )
    if not program:
        return table
    for row in program:
        cohorts = (
            figures.cohort_periods(Quarter.parse(row.quarter), grant_start) if grant_start else {}
        )
        head: list[Value] = [
            row.quarter,
            row.segment,
            dashboards.segment_label(row.segment, with_kind=True),
            row.coalitions_reported,
            row.coalitions_total,
        ]
        table.rows.extend(head + cells for cells in _figure_cells(row.figures, cohorts))
    return table


def _quality_table(rollups: list[Rollup], files: dict[int, quality.FilesQuality]) -> Table:
    table = Table(
        sheet="Data quality",
        file="data_quality.csv",
        about=(
            "Per coalition and quarter: the version that counts, and the rows and findings "
            "of its current files, the files its figures come from (the Findings sheet "
            "counts the same findings by rule: its counts add up to these errors and "
            "warnings). Rows kept are the rows counted in the figures (a row with an error "
            "is held back). The last columns are how much checking the quarter took: every "
            "file checked for it, drafts and earlier versions included, from the roll-up; "
            "they are not the report's findings."
        ),
        columns=[
            Column("Coalition", width=32),
            Column("Coalition slug", width=16),
            Column("Quarter", width=9),
            Column("Counted version", INT),
            Column("Version state", width=12),
            Column("Accepted", YESNO),
            Column("Participant rows kept", INT),
            Column("Placement rows kept", INT),
            Column("Rows in the version's files", INT),
            Column("Version errors", INT),
            Column("Version warnings", INT),
            Column("Findings per 1,000 rows of the version's files", RATE),
            Column("Versions", INT),
            Column("Rows checked, every upload (drafts included)", INT),
            Column("Errors found, every upload (drafts included)", INT),
            Column("Warnings found, every upload (drafts included)", INT),
            Column("Due date", DATE),
            Column(f"Submitted at ({settings.TIME_ZONE})", DATETIME, width=20),
            Column("On time", YESNO),
        ],
    )
    for r in rollups:
        version = files.get(r.submission_id, quality.FilesQuality())
        rate = version.per_thousand
        table.rows.append(
            [
                r.coalition.name,
                r.coalition.slug,
                r.quarter,
                r.submission.version,
                r.submission.get_state_display(),
                r.accepted,
                r.participant_rows,
                r.placement_rows,
                version.rows,
                version.errors,
                version.warnings,
                round(rate, 1) if rate is not None else None,
                r.versions,
                r.rows_checked,
                r.errors_found,
                r.warnings_found,
                r.due_date,
                r.submitted_at,
                r.on_time,
            ]
        )
    return table


def _program_quality_table(program: list[ProgramRollup]) -> Table:
    table = Table(
        sheet="Program data quality",
        file="program_data_quality.csv",
        about=(
            "Program-wide checking counters per quarter and segment, from the roll-ups: "
            "every file checked for the quarter, drafts and earlier versions included (how "
            "much checking the quarter took, not the reports' findings: those are on the "
            "Data quality and Findings sheets). Certified on time: the coalitions whose "
            "report's first version was certified by the due date, returned or not since; "
            "the on-time rate is that over every coalition with a report due "
            "(docs/dashboards.md)."
        ),
        columns=[
            Column("Quarter", width=9),
            Column("Segment", width=20),
            Column("Segment name", width=30),
            Column("Coalitions reported", INT),
            Column("Coalitions", INT),
            Column("Certified on time", INT),
            Column("On-time rate (%)", RATE),
            Column("Participant rows kept", INT),
            Column("Rows checked, every upload (drafts included)", INT),
            Column("Errors found, every upload (drafts included)", INT),
            Column("Warnings found, every upload (drafts included)", INT),
        ],
    )
    for row in program:
        table.rows.append(
            [
                row.quarter,
                row.segment,
                dashboards.segment_label(row.segment, with_kind=True),
                row.coalitions_reported,
                row.coalitions_total,
                row.submitted_on_time,
                timeliness.Timeliness(on_time=row.submitted_on_time, due=row.coalitions_total).rate,
                row.participant_rows,
                row.rows_checked,
                row.errors_found,
                row.warnings_found,
            ]
        )
    return table


def _findings_table(rollups: list[Rollup], counts: list[dict[str, Any]]) -> Table:
    table = Table(
        sheet="Findings",
        file="findings.csv",
        about=(
            "The counted version's findings (its current files) counted by file, rule and "
            "severity, per coalition and quarter: per coalition and quarter they add up to "
            "the Data quality sheet's version errors and warnings (a version with no "
            "findings has no row here). The checks store the first 1,000 findings of each "
            "rule and column and count the rest: Findings counts them all, 'Not stored' "
            "says how many of them are counted only. Counts only: the rows and values the "
            "findings point at stay in the hub."
        ),
        columns=[
            Column("Coalition", width=32),
            Column("Coalition slug", width=16),
            Column("Quarter", width=9),
            Column("Counted version", INT),
            Column("File", width=12),
            Column("Rule", width=6),
            Column("What the rule checks", width=44),
            Column("Severity", width=9),
            Column("Findings", INT),
            Column("Not stored (over the 1,000 kept per rule and column)", INT),
        ],
    )
    by_version = {r.submission_id: r for r in rollups}
    rows: list[list[Value]] = []
    for c in counts:
        r = by_version[c["upload__submission_id"]]
        rows.append(
            [
                r.coalition.name,
                r.coalition.slug,
                r.quarter,
                r.submission.version,
                c["file"],
                c["code"],
                rules.title(c["code"]),
                c["severity"],
                c["count"],
                c["not_stored"],
            ]
        )
    table.rows = rows
    return table


def _board_table(data: board_selector.Board, quarter: Quarter) -> Table:
    return board_table(
        data,
        about=(
            f"The status board for {quarter}: each coalition's report as the board showed it "
            "when the pack was generated (its status depends on that day)."
        ),
    )


def board_table(data: board_selector.Board, *, about: str) -> Table:
    """The status board's rows as a table: the data packs' sheet, and the board's own
    export as filtered and sorted on the page."""
    table = Table(
        sheet="Status board",
        file="status_board.csv",
        about=about,
        columns=[
            Column("Coalition", width=32),
            Column("Coalition slug", width=16),
            Column("Lead organization", width=30),
            Column("States served", width=14),
            Column("Sectors", width=24),
            Column("Track", width=14),
            Column("Quarter", width=9),
            Column("Due date", DATE),
            Column("Status", width=20),
            Column("Days before due (negative: late)", INT),
            Column(f"First submitted ({settings.TIME_ZONE})", DATETIME, width=20),
            Column("Latest version", INT),
            Column("Errors", INT),
            Column("Warnings", INT),
            Column("Coaches", width=24),
            Column("Last reminder", DATE),
            Column("Last reminder kind", width=24),
            Column("Last reminder status", width=12),
            Column("Report page", width=40),
        ],
    )
    for row in data.rows:
        c = row.coalition
        sent = row.first_sent
        reminder = row.last_reminder
        table.rows.append(
            [
                c.name,
                c.slug,
                c.lead_organization,
                ", ".join(c.states_served),
                ", ".join(label for _, label in c.sector_pairs),
                c.get_track_display(),
                row.period.quarter,
                row.period.due_date,
                row.state_label,
                row.days,
                sent.submitted_at if sent else None,
                row.version,
                row.errors,
                row.warnings,
                row.coach_names,
                timezone.localdate(reminder.claimed_at) if reminder else None,
                reminder.get_kind_display() if reminder else None,
                reminder.get_status_display() if reminder else None,
                settings.SITE_URL
                + reverse(
                    "reporting:period-detail",
                    kwargs={"coalition_code": c.code, "quarter": row.period.quarter},
                ),
            ]
        )
    return table


def _versions_table(provenance: dict) -> Table:
    table = Table(
        sheet="Versions",
        file="versions.csv",
        about="The submission versions whose figures this pack holds (its provenance).",
        columns=[
            Column("Coalition", width=32),
            Column("Coalition slug", width=16),
            Column("Quarter", width=9),
            Column("Version", INT),
            Column("State", width=12),
            Column(f"Certified at ({settings.TIME_ZONE})", DATETIME, width=20),
            Column(f"Accepted at ({settings.TIME_ZONE})", DATETIME, width=20),
        ],
    )
    for s in provenance.get("submissions", []):
        table.rows.append(
            [
                s.get("coalition"),
                s.get("slug"),
                s.get("quarter"),
                s.get("version"),
                s.get("state"),
                _when(s.get("certified_at")),
                _when(s.get("accepted_at")),
            ]
        )
    return table


def _when(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp) if stamp else None


def _versions_used(submissions: list[dict]) -> str:
    listed = "; ".join(
        f"{s.get('coalition')} {s.get('quarter')} v{s.get('version')} ({s.get('state')})"
        for s in submissions[:_VERSIONS_LISTED]
    )
    if len(submissions) > _VERSIONS_LISTED:
        # A program pack has one per coalition: the Versions table lists them all.
        listed += f"; and {len(submissions) - _VERSIONS_LISTED} more (see Versions)"
    return listed or "none"


_VERSIONS_LISTED = 8


def _about_table(
    *, quarter: Quarter, coalition: Coalition | None, provenance: dict, tables: list[Table]
) -> Table:
    about = Table(
        sheet="About",
        file="README.csv",
        about="This sheet.",
        columns=[Column("Item", width=28), Column("Value", width=100)],
    )
    scope = f"{coalition.name} ({coalition.slug})" if coalition else "All coalitions"
    rows: list[list[Value]] = [
        ["Data pack", f"BPIJ Reporting Hub data pack, {quarter.label}"],
        ["Quarter", str(quarter)],
        ["Scope", scope],
        ["Generated at", provenance.get("generated_at")],
        ["Generated by", provenance.get("generated_by")],
        ["Export id", provenance.get("export")],
        ["Figures definitions", figures.DEFINITIONS_TEXT[figures.definitions_of(provenance)]],
        [
            "Versions used",
            _versions_used(provenance.get("submissions", [])),
        ],
        [
            "Text cells",
            "Any text that could be read as a formula (starting with =, +, -, @, a tab or "
            "a carriage return, after any spaces) is prefixed with an apostrophe.",
        ],
        ["Blank cells", "A blank value is n/a: an empty cohort, or nothing to report."],
    ]
    rows += [[f"Table: {t.sheet} ({t.file})", t.about] for t in tables]
    about.rows = rows
    return about


def tables_for(*, quarter: str, coalition_id: int | None, provenance: dict) -> list[Table]:
    chosen = _quarter(quarter)
    data = pack_selectors.pack_data(
        quarter=chosen, coalition_id=coalition_id, today=generated_on(provenance)
    )
    tables = [_figures_table(data.rollups)]
    if data.coalition is None:
        tables.append(_program_figures_table(data.program, data.grant_start))
    tables.append(_quality_table(data.rollups, data.files))
    if data.coalition is None:
        tables.append(_program_quality_table(data.program))
    tables.append(_findings_table(data.rollups, data.finding_counts))
    tables.append(_board_table(data.board, chosen))
    tables.append(_versions_table(provenance))
    about = _about_table(
        quarter=chosen, coalition=data.coalition, provenance=provenance, tables=tables
    )
    return [about, *tables]


def _quarter(text: str) -> Quarter:
    try:
        return Quarter.parse(text)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{text!r} is not a quarter: give it as YYYYQn, for example 2025Q3."
        ) from error


def generated_on(provenance: dict) -> date:
    """The day the board is shown for: the pack's own generation day, so the file says
    what the board said when it was made, whenever it is opened."""
    stamp = provenance.get("generated_at")
    if stamp:
        return timezone.localdate(datetime.fromisoformat(stamp))
    return timezone.localdate()
