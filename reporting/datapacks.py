"""Data packs: the figures, data-quality summaries and status board behind the reports,
as one XLSX workbook or a zip of CSV files holding the same tables (docs/exports.md,
"Data packs").

- Figures per coalition, quarter and window in long format (one row per figure), for
  every quarter up to the one asked for that has a roll-up, so a pack carries the
  history; program packs add the program-wide roll-ups by segment.
- Findings summaries: per coalition and quarter the counted version's findings counted
  by rule, and the quarter's data-quality counters. Counts only: a finding's ``value``
  can hold what a grantee typed about a person, so it never leaves the hub.
- The quarter's status board, as the board shows it.
- "About" (``README.csv``): the provenance stamp and what each table holds, and the
  submission versions used.

Everything comes from the roll-up tables and the stored findings; nothing here reads a
participant record. Called by the exports worker (reporting.services.exports) in the
export's coalition's scope, or the system scope for a program pack; the person's right
to the scope was checked when they asked.
Every text cell goes through ``neutralise``, in both formats.
"""

import csv
import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.conf import settings
from django.db.models import Min, Sum
from django.urls import reverse
from django.utils import timezone

from grantees.calendar import Quarter
from grantees.models import Coalition, Grant
from reporting import figures, timeliness
from reporting.checks import rules
from reporting.models import Finding, ProgramRollup, Rollup
from reporting.selectors import FIGURES, WINDOWS, dashboards, quality
from reporting.selectors import board as board_selector
from reporting.spreadsheets import neutralise

__all__ = ["data_pack_csv", "data_pack_xlsx"]

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
_WIDTHS = {TEXT: 14, INT: 11, MONEY: 12, RATE: 10, DATE: 12, DATETIME: 18, YESNO: 9}


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

_SECTIONS = {key: (label, section) for key, label, section in FIGURES}
_UNITS = {"D-3": "dollars per hour", "E-2": "dollars"}
_WINDOW_LABELS = dict(WINDOWS)

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
    for window, window_label in WINDOWS:
        values = windows.get(window, {})
        for key, (label, section) in _SECTIONS.items():
            raw = values.get(key)
            numerator = denominator = rate = None
            if key in figures.RATE_KEYS:
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


def _rollups(quarter: Quarter, coalition_id: int | None) -> list[Rollup]:
    rollups = Rollup.objects.filter(period__start_date__lte=quarter.start).select_related(
        "coalition", "submission", "period__grant"
    )
    if coalition_id is not None:
        rollups = rollups.filter(coalition_id=coalition_id)
    return sorted(rollups, key=lambda r: (r.coalition.name.lower(), Quarter.parse(r.quarter).index))


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


def segment_label(segment: str) -> str:
    """A program roll-up's segment named for a spreadsheet: "Sector: Broadband"."""
    kind, _, _ = segment.partition(":")
    if kind == "program":
        return "All coalitions"
    return f"{kind.capitalize()}: {dashboards.segment_label(segment)}"


def _program_rollups(quarter: Quarter) -> list[ProgramRollup]:
    rows = [r for r in ProgramRollup.objects.all() if Quarter.parse(r.quarter) <= quarter]
    # The program row first in each quarter, then the segments by kind and name.
    return sorted(
        rows, key=lambda r: (Quarter.parse(r.quarter).index, r.segment != "program", r.segment)
    )


def _program_figures_table(program: list[ProgramRollup]) -> Table:
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
    grant_start = Grant.objects.aggregate(first=Min("start_date"))["first"]
    for row in program:
        cohorts = (
            figures.cohort_periods(Quarter.parse(row.quarter), grant_start) if grant_start else {}
        )
        head: list[Value] = [
            row.quarter,
            row.segment,
            segment_label(row.segment),
            row.coalitions_reported,
            row.coalitions_total,
        ]
        table.rows.extend(head + cells for cells in _figure_cells(row.figures, cohorts))
    return table


def _quality_table(rollups: list[Rollup]) -> Table:
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
    files = quality.counted_files(r.submission_id for r in rollups)
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
                segment_label(row.segment),
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


def _findings_table(rollups: list[Rollup]) -> Table:
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
    order = {r.submission_id: index for index, r in enumerate(rollups)}
    severity = {"error": 0, "warning": 1}
    counts = sorted(
        Finding.objects.filter(upload__submission_id__in=by_version, upload__is_current=True)
        .counted_by("upload__submission_id", "file", "code", "severity")
        .annotate(not_stored=Sum("omitted"))
        .order_by(),
        key=lambda c: (
            order[c["upload__submission_id"]],
            severity.get(c["severity"], 2),
            c["file"],
            c["code"],
        ),
    )
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


def _board_table(quarter: Quarter, coalition_id: int | None, today: date) -> Table:
    data = board_selector.board(
        None, quarter=quarter, today=today, sort="coalition", coalition_id=coalition_id
    )
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


def _tables(*, quarter: str, coalition_id: int | None, provenance: dict) -> list[Table]:
    chosen = _quarter(quarter)
    coalition = Coalition.objects.get(pk=coalition_id) if coalition_id is not None else None
    rollups = _rollups(chosen, coalition_id)
    tables = [_figures_table(rollups)]
    program = _program_rollups(chosen) if coalition is None else []
    if coalition is None:
        tables.append(_program_figures_table(program))
    tables.append(_quality_table(rollups))
    if coalition is None:
        tables.append(_program_quality_table(program))
    tables.append(_findings_table(rollups))
    tables.append(_board_table(chosen, coalition_id, _generated_on(provenance)))
    tables.append(_versions_table(provenance))
    about = _about_table(quarter=chosen, coalition=coalition, provenance=provenance, tables=tables)
    return [about, *tables]


def _quarter(text: str) -> Quarter:
    try:
        return Quarter.parse(text)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{text!r} is not a quarter: give it as YYYYQn, for example 2025Q3."
        ) from error


def _generated_on(provenance: dict) -> date:
    """The day the board is shown for: the pack's own generation day, so the file says
    what the board said when it was made, whenever it is opened."""
    stamp = provenance.get("generated_at")
    if stamp:
        return timezone.localdate(datetime.fromisoformat(stamp))
    return timezone.localdate()


# -- XLSX -----------------------------------------------------------------------------


def data_pack_xlsx(*, quarter: str, coalition_id: int | None, provenance: dict) -> bytes:
    """The data pack as one workbook: an About sheet, then one sheet per table. Numbers
    are numbers, dates are dates; the header row is frozen and filterable."""
    tables = _tables(quarter=quarter, coalition_id=coalition_id, provenance=provenance)
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, _WORKBOOK_OPTIONS)
    workbook.set_properties(
        {
            "title": f"BPIJ data pack {quarter}",
            "author": neutralise(str(provenance.get("generated_by", ""))),
            "comments": neutralise(f"Export {provenance.get('export', '')}"),
        }
    )
    formats = _formats(workbook)
    for table in tables:
        _write_sheet(workbook, formats, table)
    workbook.close()
    return output.getvalue()


# constant_memory streams each row to a temporary file as it is written (rows are written
# strictly in order), so a program pack's ~40,000 figure rows stay out of memory;
# in_memory would override it. Text is written as text, never read as a formula or link.
_WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}


def table_xlsx(table: Table) -> bytes:
    """One table as a workbook of one sheet, written like a data pack's sheets."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, _WORKBOOK_OPTIONS)
    _write_sheet(workbook, _formats(workbook), table)
    workbook.close()
    return output.getvalue()


def _formats(workbook: xlsxwriter.Workbook) -> dict[str, Any]:
    return {
        "header": workbook.add_format(
            {"bold": True, "bg_color": "#dfe1e2", "text_wrap": True, "valign": "top"}
        ),
        TEXT: None,
        INT: workbook.add_format({"num_format": "#,##0"}),
        MONEY: workbook.add_format({"num_format": "#,##0.00"}),
        RATE: workbook.add_format({"num_format": "0.0"}),
        DATE: workbook.add_format({"num_format": "yyyy-mm-dd"}),
        DATETIME: workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
    }


def _write_sheet(workbook: xlsxwriter.Workbook, formats: dict[str, Any], table: Table) -> None:
    sheet = workbook.add_worksheet(table.sheet)
    about = table.file == "README.csv"
    # Widths and panes first: in constant_memory mode a row is final once written.
    for col, column in enumerate(table.columns):
        width = column.width or _WIDTHS[column.kind]
        sheet.set_column(col, col, width, formats["wrap"] if about else None)
    sheet.freeze_panes(1, 0 if about else 1)
    # Tall enough for the longest header wrapped in its column.
    lines = max(
        -(-len(c.header) // max((c.width or _WIDTHS[c.kind]) - 1, 1)) for c in table.columns
    )
    sheet.set_row(0, 15 * lines + 3)
    for col, column in enumerate(table.columns):
        sheet.write_string(0, col, neutralise(column.header), formats["header"])
    for r, values in enumerate(table.rows, start=1):
        for col, (column, value) in enumerate(zip(table.columns, values, strict=True)):
            _write_cell(sheet, formats, r, col, column, value)
    if table.rows and not about:
        sheet.autofilter(0, 0, len(table.rows), len(table.columns) - 1)


def _write_cell(
    sheet: Any, formats: dict[str, Any], row: int, col: int, column: Column, value: Value
) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        sheet.write_string(row, col, neutralise("yes" if value else "no"))
    elif isinstance(value, datetime):
        # Excel has no time zones: local time, the zone named in the header.
        sheet.write_datetime(
            row, col, timezone.localtime(value).replace(tzinfo=None), formats[DATETIME]
        )
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, formats[DATE])
    elif isinstance(value, Decimal):
        sheet.write_number(row, col, float(value), formats[MONEY])
    elif isinstance(value, int):
        sheet.write_number(row, col, value, formats[INT])
    elif isinstance(value, float):
        sheet.write_number(row, col, value, formats[RATE])
    else:
        sheet.write_string(row, col, neutralise(str(value)))


# -- CSV ------------------------------------------------------------------------------


def data_pack_csv(*, quarter: str, coalition_id: int | None, provenance: dict) -> bytes:
    """The data pack as a zip of UTF-8 CSV files (with a byte-order mark, so Excel reads
    the accents right), one per table, README.csv first."""
    tables = _tables(quarter=quarter, coalition_id=coalition_id, provenance=provenance)
    output = io.BytesIO()
    stamp = _zip_time(provenance)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in tables:
            info = zipfile.ZipInfo(table.file, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # readable once unzipped (the default is 0)
            archive.writestr(info, table_csv(table))
    return output.getvalue()


def _zip_time(provenance: dict) -> tuple[int, int, int, int, int, int]:
    # The entries carry the generation time, not the wall clock of the worker.
    stamp = provenance.get("generated_at")
    when = timezone.localtime(datetime.fromisoformat(stamp)) if stamp else timezone.localtime()
    return (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)


def table_csv(table: Table) -> bytes:
    """One table as a UTF-8 CSV file (with a byte-order mark), written like a data pack's."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(c.header) for c in table.columns])
    for values in table.rows:
        writer.writerow([_csv_cell(v) for v in values])
    return buffer.getvalue().encode("utf-8-sig")


_CSV_CELLS: dict[type, Callable[[Any], str]] = {
    bool: lambda v: "yes" if v else "no",
    datetime: lambda v: timezone.localtime(v).isoformat(timespec="seconds"),
    date: lambda v: v.isoformat(),
    Decimal: str,
    int: str,
    float: repr,
}


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    convert = _CSV_CELLS.get(type(value))
    if convert is not None:
        return convert(value)
    return neutralise(str(value))
