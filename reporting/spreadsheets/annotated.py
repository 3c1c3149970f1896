"""The grantee's own file back as XLSX, every row where it was, with an "errors" column
and the cells the findings name filled in red (error) or yellow (warning), plus a
"Findings" sheet listing every finding. The sheets are written as raw XML in chunks, so a
200,000-row file costs seconds, not minutes. Pure Python: no Django, no database."""

import csv
import dataclasses
import io
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl
import xlsxwriter
from python_calamine import CalamineWorkbook
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from reporting.checks import rules
from reporting.checks.reading import ANNOTATION_COLUMN
from reporting.checks.types import Finding, Severity
from reporting.checks.values import has_ssn, has_ssns, mask_ssns_in
from reporting.contract import (
    COLUMNS,
    MAX_DATA_ROWS,
    MAX_FILE_BYTES,
    Column,
    Kind,
    column_for_header,
    normalise_header,
)
from reporting.spreadsheets.formulas import neutralise
from reporting.spreadsheets.sheetxml import (
    EXCEL_EPOCH_ORDINAL,
    FIRST_REAL_EXCEL_DAY,
    NEEDS_CARE,
    ROWS_PER_CHUNK,
    SEPARATOR,
    Body,
    chunks,
    fill_in,
    seconds,
    serial,
    text_body,
    text_xml,
)

# ---------------------------------------------------------------------------------------
# The grantee's file with the findings marked
# ---------------------------------------------------------------------------------------

ERROR_FILL = "#f8dfe1"
WARNING_FILL = "#faf3d1"
HEADER_FILL = "#e7ecf2"
# Excel keeps at most this many characters in a cell.
_MAX_CELL_CHARS = 32_767
_TRUNCATED = "\n… (more on the Findings sheet)"
_WIDTH_SAMPLE_ROWS = 200
_EXCEL_MAX_COLUMNS = 16_384  # A..XFD; the errors column needs one more

_XLSX_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1}

Cell = Any  # str from a CSV; str, float, bool, date, datetime, time or timedelta from XLSX


def annotated_workbook(
    name: str, content: bytes, findings: list[Finding], *, kind: str | None = None
) -> bytes:
    """The grantee's file `name` (its bytes `content`) back as XLSX with `findings` marked.

    `findings` are this one file's findings, their `row` counted as the spreadsheet does
    (header = row 1). Sheet "Your file" holds the file with every row at the row number
    it had, so a finding's row number points at the same row in both; sheet "Findings"
    lists every finding, the file-level ones (F01–F03, F05) included. A file that cannot
    be read gives a workbook with the "Findings" sheet only.

    Nothing the hub should not hand out is written back: every SSN-shaped value, in any
    column, shows only its last four digits, and the cells of a column the checks do not
    read (not in the contract of `kind`, or a second column naming a field) are left
    empty under their header — the hub does not know what such a column holds.
    """
    if kind is None:
        kinds = {f.file for f in findings}
        kind = kinds.pop() if len(kinds) == 1 else None
    findings = _masked_findings(findings)
    rows = _read_original(name, content, findings, kind)
    # xlsxwriter writes everything around the cells (styles, header row, notes, widths,
    # frozen panes, filters); the data rows are then streamed straight into the sheet XML,
    # which is ten times faster than xlsxwriter's per-cell calls: a 100,000 × 37 file
    # takes seconds instead of most of a minute.
    skeleton = io.BytesIO()
    workbook = xlsxwriter.Workbook(skeleton, {"in_memory": True})
    styles = _Styles(workbook)
    bodies: list[Body] = []
    if rows is not None:
        bodies.append(_your_file_sheet(workbook, styles, rows, findings))
    bodies.append(_findings_sheet(workbook, styles, findings))
    workbook.close()
    styles.resolve()
    return fill_in(skeleton.getvalue(), bodies)


# -- reading the original ---------------------------------------------------------------


class _Rows:
    """The original file's rows, row 0 being spreadsheet row 1, readable more than once
    (column widths and the errors column's position need a look ahead)."""

    def __init__(
        self,
        header: Sequence[Cell],
        count: int,
        width: int,
        reopen: Callable[[], Iterable[Sequence[Cell]]],
        all_text: bool,
    ) -> None:
        self.header = header
        self.count = count
        self.width = width
        self._reopen = reopen
        self.all_text = all_text

    def __iter__(self) -> Iterator[Sequence[Cell]]:
        return iter(self._reopen())


def _masked_findings(findings: list[Finding]) -> list[Finding]:
    # The checks mask what they store; this is the second lock, for findings from
    # anywhere else. Vectorised: a capped file still has tens of thousands.
    texts = pl.Series([f"{f.value or ''}{SEPARATOR}{f.message}" for f in findings], dtype=pl.String)
    return [
        dataclasses.replace(
            f,
            value=mask_ssns_in(f.value) if f.value else f.value,
            message=mask_ssns_in(f.message),
        )
        if found
        else f
        for f, found in zip(findings, has_ssns(texts).to_list(), strict=True)
    ]


def _read_original(
    name: str, content: bytes, findings: list[Finding], kind: str | None
) -> _Rows | None:
    if len(content) > MAX_FILE_BYTES or any(f.code == "F01" for f in findings):
        return None
    is_workbook = content.startswith(_XLSX_MAGIC) or name.lower().endswith(_WORKBOOK_SUFFIXES)
    try:
        rows = _read_workbook(content) if is_workbook else _read_csv(content)
    except BaseException as error:
        # Any failure to read (corrupt zip, bad UTF-8, csv.Error, and calamine's Rust
        # panics, which are BaseExceptions) means "unreadable": the grantee still gets
        # the findings, never an error page.
        if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit | MemoryError):
            raise
        return None
    if rows.count > MAX_DATA_ROWS + 1 or rows.width >= _EXCEL_MAX_COLUMNS:
        return None
    return _mask_ssns(rows, kind)


def _read_columns(header: Sequence[Cell], kind: str | None) -> dict[int, Column]:
    """Column index → the contract column the checks read from it: the first column
    naming each field (DATA-CONTRACT.md §7). Without a kind, the one whose contract
    names more of the header."""
    kinds = [kind] if kind in COLUMNS else list(COLUMNS)
    best: dict[int, Column] = {}
    for candidate in kinds:
        found: dict[int, Column] = {}
        named: set[str] = set()
        for index, cell in enumerate(header):
            column = column_for_header(_cell_text(cell).strip(), candidate)
            if column is not None and column.name not in named:
                named.add(column.name)
                found[index] = column
        if len(found) > len(best):
            best = found
    return best


def _mask_ssns(rows: _Rows, kind: str | None) -> _Rows:
    """SSNs are shown only as their last four digits, in this workbook as everywhere,
    whatever column they are in; columns the checks do not read are emptied."""
    reopen = rows._reopen
    # The header is the first row with a value (a workbook may have empty rows above it),
    # as the checks read it.
    header_at, header = 0, rows.header
    for number, row in enumerate(reopen()):
        if any(_cell_text(cell).strip() for cell in row):
            header_at, header = number, row
            break
    read = _read_columns(header, kind)
    ssn = {index for index, column in read.items() if column.kind is Kind.SSN}
    dropped = [index for index in range(rows.width) if index not in read]

    all_text = rows.all_text

    def masked() -> Iterator[Sequence[Cell]]:
        batch: list[Sequence[Cell]] = []
        for number, row in enumerate(reopen()):
            if number <= header_at:
                yield [mask_ssns_in(c) if isinstance(c, str) else c for c in row]
                continue
            if dropped:
                row = list(row)
                for index in dropped:
                    if index < len(row):
                        row[index] = ""
            for index in ssn:
                if index < len(row) and _cell_text(row[index]).strip():
                    row = list(row)
                    digits = "".join(ch for ch in _cell_text(row[index]) if ch.isdigit())
                    row[index] = f"***-**-{digits[-4:]}" if len(digits) >= 4 else "(masked)"
            batch.append(row)
            if len(batch) == ROWS_PER_CHUNK:
                yield from _mask_batch(batch, all_text)
                batch = []
        yield from _mask_batch(batch, all_text)

    first = [mask_ssns_in(c) if isinstance(c, str) else c for c in rows.header]
    return _Rows(first, rows.count, rows.width, masked, all_text=rows.all_text)


def _mask_batch(batch: list[Sequence[Cell]], all_text: bool) -> Iterator[Sequence[Cell]]:
    """The rows of ``batch``, those with an SSN-shaped value masked. Which rows have one
    is asked of polars' regex engine for the batch at once (each row's cells joined by a
    non-digit): Python's ``re`` on every row was most of a large workbook's time."""
    if not batch:
        return
    texts = pl.Series(
        [SEPARATOR.join(row if all_text else map(_cell_text, row)) for row in batch],
        dtype=pl.String,
    )
    for row, found in zip(batch, has_ssns(texts).to_list(), strict=True):
        yield [_masked_cell(cell) for cell in row] if found else row


def _masked_cell(cell: Cell) -> Cell:
    if isinstance(cell, str):
        return mask_ssns_in(cell)
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        text = _cell_text(cell)
        return mask_ssns_in(text) if has_ssn(text) else cell
    return cell


def _read_csv(content: bytes) -> _Rows:
    # A strict decode: text that is not UTF-8 is F01, and guessing another encoding here
    # would show the grantee a file the checks never read.
    text = content.decode("utf-8-sig")

    def reader() -> Iterator[list[str]]:
        # Each record is one spreadsheet row, even when a quoted field spans lines, and a
        # blank line is an empty record, so row numbers match what the checks counted.
        return csv.reader(io.StringIO(text, newline=""))

    header: list[str] = []
    count = width = 0
    for record in reader():
        if count == 0:
            header = record
        count += 1
        width = max(width, len(record))
    return _Rows(header, count, width, reader, all_text=True)


def _read_workbook(content: bytes) -> _Rows:
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
    # skip_empty_area=False keeps the sheet's own coordinates: an empty first row or
    # column stays where it was instead of shifting every row number up.
    data: list[list[Cell]] = sheet.to_python(skip_empty_area=False)
    width = max((len(row) for row in data), default=0)
    return _Rows(data[0] if data else [], len(data), width, lambda: data, all_text=False)


# -- styles -----------------------------------------------------------------------------

_NUMBER_FORMATS = {
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
    "time": "hh:mm:ss",
    "duration": "[h]:mm:ss",
}


class _Styles:
    """The workbook's formats. Cells streamed into the sheet XML refer to a format by its
    index in styles.xml, which xlsxwriter assigns at close to the formats a cell uses: so
    each one is made once here (xlsxwriter merges identical formats, so no two alike) and
    written on a placeholder row that the streamed rows replace."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.header = workbook.add_format({"bold": True, "bg_color": HEADER_FILL, "border": 1})
        self.header_marked = {
            Severity.ERROR: workbook.add_format(
                {"bold": True, "bg_color": ERROR_FILL, "border": 1}
            ),
            Severity.WARNING: workbook.add_format(
                {"bold": True, "bg_color": WARNING_FILL, "border": 1}
            ),
        }
        fills = {None: {}, Severity.ERROR: {"bg_color": ERROR_FILL}}
        fills[Severity.WARNING] = {"bg_color": WARNING_FILL}
        self._cells: dict[tuple[str, Severity | None], Format] = {}
        for mark, fill in fills.items():
            if fill:
                self._cells["general", mark] = workbook.add_format(fill)
            for kind, number_format in _NUMBER_FORMATS.items():
                self._cells[kind, mark] = workbook.add_format({"num_format": number_format, **fill})
        self.errors = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.errors_with_error = workbook.add_format(
            {"text_wrap": True, "valign": "top", "font_color": "#8b1a1a"}
        )
        self._attributes: dict[tuple[str, Severity | None], str] = {}

    def header_for(self, mark: Severity | None) -> Format:
        return self.header if mark is None else self.header_marked[mark]

    def write_placeholders(self, sheet: Worksheet, row: int) -> None:
        formats = [*self._cells.values(), self.errors, self.errors_with_error]
        for col, cell_format in enumerate(formats):
            sheet.write_blank(row, col, None, cell_format)

    def resolve(self) -> None:
        """After the workbook is closed: each format's ` s="N"` attribute."""
        for key, cell_format in self._cells.items():
            self._attributes[key] = f' s="{cell_format.xf_index}"'
        self._attributes["general", None] = ""
        self._attributes["errors", None] = f' s="{self.errors.xf_index}"'
        self._attributes["errors", Severity.ERROR] = f' s="{self.errors_with_error.xf_index}"'

    def attribute(self, kind: str, mark: Severity | None) -> str:
        return self._attributes[kind, mark]


# -- cells ------------------------------------------------------------------------------


def _cell_xml(ref: str, cell: Cell, mark: Severity | None, styles: _Styles) -> str:
    if isinstance(cell, str):
        if cell:
            return text_xml(ref, cell, styles.attribute("general", mark))
    elif isinstance(cell, bool):
        return f'<c r="{ref}"{styles.attribute("general", mark)} t="b"><v>{int(cell)}</v></c>'
    elif isinstance(cell, int | float):
        if math.isfinite(cell):
            return f'<c r="{ref}"{styles.attribute("general", mark)}><v>{cell!r}</v></c>'
        return text_xml(ref, str(cell), styles.attribute("general", mark))
    elif isinstance(cell, datetime | date):
        if isinstance(cell, datetime):
            day, clock = cell.date(), cell.time()
        else:
            day, clock = cell, time(0)
        if day.year < 1900:  # Excel has no date before 1900-01-01
            return text_xml(ref, cell.isoformat(), styles.attribute("general", mark))
        kind = "date" if clock == time(0) else "datetime"
        return f'<c r="{ref}"{styles.attribute(kind, mark)}><v>{serial(day, clock)!r}</v></c>'
    elif isinstance(cell, time):
        fraction = seconds(cell) / 86_400
        return f'<c r="{ref}"{styles.attribute("time", mark)}><v>{fraction!r}</v></c>'
    elif isinstance(cell, timedelta):
        days = cell.total_seconds() / 86_400
        return f'<c r="{ref}"{styles.attribute("duration", mark)}><v>{days!r}</v></c>'
    elif cell is not None:
        return text_xml(ref, str(cell), styles.attribute("general", mark))
    if mark is not None:
        return f'<c r="{ref}"{styles.attribute("general", mark)}/>'
    return ""


def _text_cells(number: int, row: Sequence[str], openings: list[str]) -> list[str]:
    """The hot path for a CSV row that needs no care: one entry per column ("" for an
    empty cell) so that the cells a finding names can be swapped in by index."""
    middle = f'{number}" t="inlineStr"><is><t>'
    return [
        f"{opening}{middle}{value}</t></is></c>" if value else ""
        for opening, value in zip(openings, row, strict=False)
    ]


def _typed_cells(
    number: int, row: Sequence[Cell], letters: list[str], openings: list[str], styles: _Styles
) -> list[str]:
    """The hot path for an XLSX row whose text needs no care: text, numbers and dates
    inline, anything rarer through `_cell_xml`."""
    text = f'{number}" t="inlineStr"><is><t>'
    plain = f'{number}"'
    dated = f'{number}"{styles.attribute("date", None)}'
    return [
        (f"{opening}{text}{cell}</t></is></c>" if cell else "")
        if cell.__class__ is str
        else f"{opening}{plain}><v>{cell!r}</v></c>"
        if cell.__class__ is float and math.isfinite(cell)
        else f"{opening}{dated}><v>{cell.toordinal() - EXCEL_EPOCH_ORDINAL}</v></c>"
        if cell.__class__ is date and cell >= FIRST_REAL_EXCEL_DAY
        else _cell_xml(f"{letters[col]}{number}", cell, None, styles)
        for col, (opening, cell) in enumerate(zip(openings, row, strict=False))
    ]


# -- sheet "Your file" --------------------------------------------------------------------


class _ColumnLookup:
    """Where the column a finding names is in the file. A value finding names the contract
    column (`exit_date`) while the header may say `Exit Date` or `PIRL 901`, and the checks
    read the first column naming a field; a header finding (F03, row 1) names the header
    as written, which may be that second column."""

    def __init__(self, header: Sequence[Cell], kind: str | None) -> None:
        self.as_written: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        self._known: dict[tuple[str, bool], int | None] = {}
        for index, cell in enumerate(header):
            text = _cell_text(cell).strip()
            if not text:
                continue
            self.as_written.setdefault(text, index)
            self.by_name.setdefault(normalise_header(text), index)
            column = column_for_header(text, kind) if kind in COLUMNS else None
            if column is not None:
                self.by_name.setdefault(column.name, index)

    def index(self, finding: Finding) -> int | None:
        if finding.column is None:
            return None
        key = (finding.column, finding.row == 1)
        if key not in self._known:
            self._known[key] = self._find(*key)
        return self._known[key]

    def _find(self, column: str, on_header: bool) -> int | None:
        name = normalise_header(column)
        if on_header:
            found = self.as_written.get(column.strip())
            return self.by_name.get(name) if found is None else found
        found = self.by_name.get(name)
        return self.as_written.get(column.strip()) if found is None else found


def _your_file_sheet(
    workbook: xlsxwriter.Workbook, styles: _Styles, rows: _Rows, findings: list[Finding]
) -> Body:
    sheet = workbook.add_worksheet("Your file")
    kinds = {f.file for f in findings}
    lookup = _ColumnLookup(rows.header, kinds.pop() if len(kinds) == 1 else None)

    # Spreadsheet row number → the row's findings, and → {column index: severity}.
    by_row: dict[int, list[Finding]] = {}
    marks: dict[int, dict[int, Severity]] = {}
    per_column: dict[int, list[Finding]] = {}
    for finding in findings:
        if finding.row is None or finding.row < 1:
            continue
        index = lookup.index(finding)
        if finding.row > 1:
            by_row.setdefault(finding.row, []).append(finding)
        if index is not None:
            row_marks = marks.setdefault(finding.row, {})
            if row_marks.get(index) is not Severity.ERROR:
                row_marks[index] = finding.severity
            per_column.setdefault(index, []).append(finding)

    errors_column = max(rows.width, 1)
    last_row = max(rows.count, max(by_row, default=1)) - 1
    _set_widths(sheet, rows, errors_column)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, last_row, errors_column)

    header_marks = marks.pop(1, {})
    for col, cell in enumerate(rows.header):
        text = neutralise(_cell_text(cell))
        sheet.write_string(0, col, text, styles.header_for(header_marks.get(col)))
    for col, mark in header_marks.items():
        if col >= len(rows.header):
            sheet.write_blank(0, col, None, styles.header_for(mark))
    sheet.write_string(0, errors_column, ANNOTATION_COLUMN, styles.header)
    for col, column_findings in sorted(per_column.items()):
        sheet.write_comment(0, col, _header_note(column_findings), {"x_scale": 2.5})

    def body() -> Iterator[str]:
        return chunks(_data_rows(rows, by_row, marks, errors_column, styles))

    return Body(last_row, errors_column, body)


def _data_rows(
    rows: _Rows,
    by_row: dict[int, list[Finding]],
    marks: dict[int, dict[int, Severity]],
    errors_column: int,
    styles: _Styles,
) -> Iterator[str]:
    letters = [xl_col_to_name(col) for col in range(errors_column + 1)]
    openings = [f'<c r="{letter}' for letter in letters]
    errors_letter = letters[errors_column]
    all_text = rows.all_text
    number = 0
    for index, row in enumerate(rows):
        number = index + 1
        if number == 1:
            continue
        row_marks = marks.get(number)
        texts = row if all_text else [cell for cell in row if cell.__class__ is str]
        if NEEDS_CARE.search(SEPARATOR.join(texts)):
            if all_text:
                parts = [
                    f'{opening}{number}" {text_body(value)}' if value else ""
                    for opening, value in zip(openings, row, strict=False)
                ]
            else:
                parts = [
                    _cell_xml(f"{letters[col]}{number}", cell, None, styles)
                    for col, cell in enumerate(row)
                ]
        elif all_text:
            parts = _text_cells(number, row, openings)
        else:
            parts = _typed_cells(number, row, letters, openings, styles)
        if row_marks:
            # Only the cells a finding names leave the fast path.
            beyond = []
            for col, mark in sorted(row_marks.items()):
                cell = row[col] if col < len(row) else None
                xml = _cell_xml(f"{letters[col]}{number}", cell, mark, styles)
                if col < len(parts):
                    parts[col] = xml
                else:
                    beyond.append(xml)
            parts += beyond
        cells = "".join(parts)
        row_findings = by_row.get(number)
        if row_findings:
            cells += _errors_cell(f"{errors_letter}{number}", row_findings, styles)
        if cells:
            yield f'<row r="{number}">{cells}</row>'
    # Findings on rows past the end of the file (none are expected) still get a line.
    for extra in sorted(n for n in by_row if n > number):
        cell = _errors_cell(f"{errors_letter}{extra}", by_row[extra], styles)
        yield f'<row r="{extra}">{cell}</row>'


def _finding_line(finding: Finding) -> str:
    where = f", {finding.column}" if finding.column else ""
    return f"{rules.label(finding.code)}{where}: {_message(finding)}"


def _message(finding: Finding) -> str:
    if not finding.omitted:
        return finding.message
    return (
        f"{finding.message} (and {finding.omitted:,} more like this in the file, not "
        "listed: the first 1,000 of a rule and column are)"
    )


def _errors_cell(ref: str, row_findings: list[Finding], styles: _Styles) -> str:
    ordered = sorted(row_findings, key=lambda f: _SEVERITY_ORDER.get(f.severity, 2))
    text = "\n".join(_finding_line(f) for f in ordered)
    if len(text) > _MAX_CELL_CHARS:
        text = text[: _MAX_CELL_CHARS - len(_TRUNCATED)] + _TRUNCATED
    mark = Severity.ERROR if ordered[0].severity is Severity.ERROR else None
    return text_xml(ref, text, styles.attribute("errors", mark))


def _header_note(column_findings: list[Finding]) -> str:
    errors = sum(1 + f.omitted for f in column_findings if f.severity is Severity.ERROR)
    warnings = sum(1 + f.omitted for f in column_findings) - errors
    counts = [
        _plural(errors, "error") if errors else "",
        _plural(warnings, "warning") if warnings else "",
    ]
    lines = [" and ".join(c for c in counts if c) + " in this column."]
    # Findings on the header itself (F03, a column the contract does not know) in full.
    lines += [_finding_line(f) for f in column_findings if f.row == 1][:5]
    lines.append("Details: the errors column and the Findings sheet.")
    return "\n".join(lines)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # a header typed as the number 900 names PIRL element 900
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    return str(cell)


def _display_width(cell: Cell) -> int:
    if isinstance(cell, str):
        return max((len(line) for line in cell.splitlines()), default=0)
    if isinstance(cell, datetime):
        return 19
    if isinstance(cell, date):
        return 10
    return len(_cell_text(cell))


def _set_widths(sheet: Worksheet, rows: _Rows, errors_column: int) -> None:
    widths = [0] * errors_column
    for index, row in enumerate(rows):
        if index > _WIDTH_SAMPLE_ROWS:
            break
        for col, cell in enumerate(row):
            widths[col] = max(widths[col], _display_width(cell))
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(max(width + 2, 8), 40))
    sheet.set_column(errors_column, errors_column, 70)


# -- sheet "Findings" -----------------------------------------------------------------------

_FINDINGS_HEADINGS = ("row", "column", "code", "severity", "value", "message")
_FINDINGS_WIDTHS = (7, 26, 7, 9, 24, 100)


def _findings_sheet(
    workbook: xlsxwriter.Workbook, styles: _Styles, findings: list[Finding]
) -> Body:
    sheet = workbook.add_worksheet("Findings")
    for col, (heading, width) in enumerate(zip(_FINDINGS_HEADINGS, _FINDINGS_WIDTHS, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, heading, styles.header)
    last_col = len(_FINDINGS_HEADINGS) - 1
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(findings), 1), last_col)
    styles.write_placeholders(sheet, 1)

    # File-level findings (row None) first, then by row; errors before warnings in a row.
    ordered = sorted(
        findings,
        key=lambda f: (-1 if f.row is None else f.row, _SEVERITY_ORDER.get(f.severity, 2)),
    )

    def lines() -> Iterator[str]:
        for index, finding in enumerate(ordered, start=2):
            cells = [] if finding.row is None else [f'<c r="A{index}"><v>{finding.row}</v></c>']
            texts = [
                (letter, text)
                for letter, text in zip(
                    "BCDEF",
                    (
                        finding.column,
                        finding.code,
                        finding.severity,
                        finding.value,
                        _message(finding),
                    ),
                    strict=True,
                )
                if text
            ]
            if NEEDS_CARE.search(SEPARATOR.join([text for _, text in texts])):
                cells += [text_xml(f"{letter}{index}", text, "") for letter, text in texts]
            else:
                cells += [
                    f'<c r="{letter}{index}" t="inlineStr"><is><t>{text}</t></is></c>'
                    for letter, text in texts
                ]
            yield f'<row r="{index}">{"".join(cells)}</row>'

    def body() -> Iterator[str]:
        return chunks(lines())

    return Body(max(len(findings), 1), last_col, body)
