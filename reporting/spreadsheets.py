"""Spreadsheets the hub hands to grantees, generated here and nowhere else.

- `annotated_workbook`: the grantee's own file back as XLSX, every row where it was, with
  an "errors" column and the cells the findings name filled in red (error) or yellow
  (warning), plus a "Findings" sheet listing every finding.
- `xlsx_template` / `csv_template`: blank participant and placement files, built from
  `reporting.contract` so that a change to the contract changes the templates.
- `neutralise`: the formula-injection guard every text cell we write goes through.

Pure Python: no Django, no database.
"""

import csv
import dataclasses
import functools
import io
import math
import re
import zipfile
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
    US_STATE_CODES,
    Column,
    Kind,
    Requirement,
    column_for_header,
    normalise_header,
)

__all__ = [
    "annotated_workbook",
    "csv_template",
    "neutralise",
    "prefilled_template",
    "xlsx_template",
]

# ---------------------------------------------------------------------------------------
# Formula injection
# ---------------------------------------------------------------------------------------

# OWASP "CSV injection": a cell whose text starts with one of these is read as a formula
# by Excel, LibreOffice or Google Sheets once the data leaves the workbook we wrote (copied
# into another sheet, saved as CSV, imported elsewhere), and a formula such as
# =HYPERLINK(...) or a DDE call can leak data or run commands on the reader's machine.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """`value` made inert for spreadsheet programs: one that starts with `=`, `+`, `-`,
    `@`, a tab or a carriage return gets a leading `'`, as OWASP recommends. So does one
    where such a character follows leading whitespace (" =1+1", a line break then
    "@SUM(…)", a no-break space): LibreOffice's CSV import can trim spaces before it
    evaluates formulas.

    `write_string` alone already stops Excel from evaluating the cell in the workbook we
    write; the prefix also protects every later copy of the text. It is applied to every
    text cell of every sheet generated here, even plain numbers such as "-5" that came in
    as text: simpler to reason about than a list of exceptions, and the cell still shows
    what the grantee typed.
    """
    if value.startswith(_FORMULA_TRIGGERS) or value.lstrip().startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


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
_ROWS_PER_CHUNK = 2_000
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
    bodies: list[_Body] = []
    if rows is not None:
        bodies.append(_your_file_sheet(workbook, styles, rows, findings))
    bodies.append(_findings_sheet(workbook, styles, findings))
    workbook.close()
    styles.resolve()
    return _fill_in(skeleton.getvalue(), bodies)


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
    texts = pl.Series(
        [f"{f.value or ''}{_SEPARATOR}{f.message}" for f in findings], dtype=pl.String
    )
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
            if len(batch) == _ROWS_PER_CHUNK:
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
        [_SEPARATOR.join(row if all_text else map(_cell_text, row)) for row in batch],
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


# -- sheet XML ----------------------------------------------------------------------------

# The fast path writes a CSV row's cells as they are. A row whose cells, joined by DEL,
# match this takes the careful per-cell path instead: XML escapes, control characters
# (tab, CR and LF included, to be safe) as _xHHHH_ or kept with xml:space="preserve", a
# literal _xHHHH_ protected, leading or trailing spaces kept, and formula triggers
# neutralised. One search per row costs far less than one per cell.
_SEPARATOR = "\x7f"
_NEEDS_CARE = re.compile(r"[&<>\x00-\x1f]|_x|(?:^|\x7f)[\s=+\-@]| (?:\x7f|$)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_LITERAL_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_")
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_EPOCH_ORDINAL = _EXCEL_EPOCH.toordinal()
_FIRST_REAL_EXCEL_DAY = date(1900, 3, 1)  # Excel counts a 1900-02-29 that never was


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in text:
        text = _LITERAL_ESCAPE.sub(lambda m: "_x005F" + m[0], text)
    return _CONTROL.sub(lambda m: f"_x{ord(m[0]):04X}_", text)


def _text_xml(ref: str, text: str, style: str) -> str:
    """A text cell, neutralised and escaped."""
    return f'<c r="{ref}"{style} {_text_body(text)}'


@functools.lru_cache(maxsize=16_384)
def _text_body(text: str) -> str:
    # Cached: the values of a column repeat (codes, dates, and every cell of a hostile
    # file of =1+1), and neutralising and escaping was most of a careful row's time.
    text = neutralise(text)
    if text[:1].isspace() or text[-1:].isspace():
        return f't="inlineStr"><is><t xml:space="preserve">{_escape(text)}</t></is></c>'
    return f't="inlineStr"><is><t>{_escape(text)}</t></is></c>'


def _seconds(clock: time) -> float:
    return clock.hour * 3600 + clock.minute * 60 + clock.second + clock.microsecond / 1e6


def _serial(day: date, clock: time) -> float:
    """Excel's serial number of a date and time of day (the 1900 date system)."""
    serial = (day - _EXCEL_EPOCH).days + _seconds(clock) / 86_400
    return serial - 1 if day < _FIRST_REAL_EXCEL_DAY else serial


def _cell_xml(ref: str, cell: Cell, mark: Severity | None, styles: _Styles) -> str:
    if isinstance(cell, str):
        if cell:
            return _text_xml(ref, cell, styles.attribute("general", mark))
    elif isinstance(cell, bool):
        return f'<c r="{ref}"{styles.attribute("general", mark)} t="b"><v>{int(cell)}</v></c>'
    elif isinstance(cell, int | float):
        if math.isfinite(cell):
            return f'<c r="{ref}"{styles.attribute("general", mark)}><v>{cell!r}</v></c>'
        return _text_xml(ref, str(cell), styles.attribute("general", mark))
    elif isinstance(cell, datetime | date):
        if isinstance(cell, datetime):
            day, clock = cell.date(), cell.time()
        else:
            day, clock = cell, time(0)
        if day.year < 1900:  # Excel has no date before 1900-01-01
            return _text_xml(ref, cell.isoformat(), styles.attribute("general", mark))
        kind = "date" if clock == time(0) else "datetime"
        return f'<c r="{ref}"{styles.attribute(kind, mark)}><v>{_serial(day, clock)!r}</v></c>'
    elif isinstance(cell, time):
        fraction = _seconds(cell) / 86_400
        return f'<c r="{ref}"{styles.attribute("time", mark)}><v>{fraction!r}</v></c>'
    elif isinstance(cell, timedelta):
        days = cell.total_seconds() / 86_400
        return f'<c r="{ref}"{styles.attribute("duration", mark)}><v>{days!r}</v></c>'
    elif cell is not None:
        return _text_xml(ref, str(cell), styles.attribute("general", mark))
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
        else f"{opening}{dated}><v>{cell.toordinal() - _EXCEL_EPOCH_ORDINAL}</v></c>"
        if cell.__class__ is date and cell >= _FIRST_REAL_EXCEL_DAY
        else _cell_xml(f"{letters[col]}{number}", cell, None, styles)
        for col, (opening, cell) in enumerate(zip(openings, row, strict=False))
    ]


class _Body:
    """What goes into one sheet's XML once the skeleton is written."""

    def __init__(self, last_row: int, last_col: int, rows: Callable[[], Iterator[str]]):
        self.last_row = last_row  # zero-based
        self.last_col = last_col
        self.rows = rows


def _fill_in(skeleton: bytes, bodies: list[_Body]) -> bytes:
    """The skeleton workbook with each sheet's placeholder rows (row 2 on) replaced by
    its streamed rows. Sheets are numbered as added: sheet1.xml is the first body."""
    output = io.BytesIO()
    sheets = {f"xl/worksheets/sheet{number}.xml": body for number, body in enumerate(bodies, 1)}
    with (
        zipfile.ZipFile(io.BytesIO(skeleton)) as source,
        # Level 1 deflates several times faster than the default for a file barely larger.
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        for info in source.infolist():
            body = sheets.get(info.filename)
            if body is None:
                target.writestr(info, source.read(info))
                continue
            head, tail = _split_sheet(source.read(info).decode("utf-8"), body)
            with (
                target.open(info.filename, "w") as raw,
                io.TextIOWrapper(raw, encoding="utf-8") as stream,
            ):
                stream.write(head)
                for chunk in body.rows():
                    stream.write(chunk)
                stream.write(tail)
    return output.getvalue()


def _split_sheet(xml: str, body: _Body) -> tuple[str, str]:
    last = f"{xl_col_to_name(body.last_col)}{body.last_row + 1}"
    xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', xml, count=1)
    if "<sheetData/>" in xml:
        head, tail = xml.split("<sheetData/>", 1)
        return head + "<sheetData>", "</sheetData>" + tail
    end = xml.index("</sheetData>")
    placeholders = xml.find('<row r="2"')
    cut = end if placeholders == -1 else placeholders
    return xml[:cut], xml[end:]


def _chunks(rows: Iterable[str]) -> Iterator[str]:
    batch: list[str] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _ROWS_PER_CHUNK:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)


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
) -> _Body:
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
        return _chunks(_data_rows(rows, by_row, marks, errors_column, styles))

    return _Body(last_row, errors_column, body)


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
        if _NEEDS_CARE.search(_SEPARATOR.join(texts)):
            if all_text:
                parts = [
                    f'{opening}{number}" {_text_body(value)}' if value else ""
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
    return _text_xml(ref, text, styles.attribute("errors", mark))


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
) -> _Body:
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
            if _NEEDS_CARE.search(_SEPARATOR.join([text for _, text in texts])):
                cells += [_text_xml(f"{letter}{index}", text, "") for letter, text in texts]
            else:
                cells += [
                    f'<c r="{letter}{index}" t="inlineStr"><is><t>{text}</t></is></c>'
                    for letter, text in texts
                ]
            yield f'<row r="{index}">{"".join(cells)}</row>'

    def body() -> Iterator[str]:
        return _chunks(lines())

    return _Body(max(len(findings), 1), last_col, body)


# ---------------------------------------------------------------------------------------
# Blank templates, generated from the contract
# ---------------------------------------------------------------------------------------

# Rows 2..200001: the header plus the contract's row limit.
_TEMPLATE_LAST_ROW = MAX_DATA_ROWS  # zero-based, so spreadsheet row MAX_DATA_ROWS + 1
REQUIRED_FILL = "#cfe1f3"
CONDITIONAL_FILL = "#edf3fa"
DATE_FORMAT = "YYYYMMDD (also YYYY-MM-DD or a real date cell)"
DATE_EXAMPLE = "Enter the date as YYYYMMDD, e.g. 20250815"
# Excel's limits on data validation texts.
_TITLE_LIMIT = 32
_MESSAGE_LIMIT = 255
_SHORTEST_ITEM = 12

_REQUIREMENT_WORDS = {
    Requirement.REQUIRED: "yes",
    Requirement.CONDITIONAL: "conditional",
    Requirement.OPTIONAL: "no",
}

# Numbers stay numbers; every other kind is formatted as text so that Excel keeps leading
# zeros (zip 02134, training_type 09) and does not turn 20250815 into 2.03E+07.
_NUMERIC_KINDS = frozenset({Kind.DOLLARS, Kind.HOURLY_WAGE, Kind.HOURS})


def _format_of(column: Column) -> str:
    """What a cell of `column` must look like, for the data dictionary and the notes."""
    kind = column.kind
    if kind is Kind.CODE:
        return _codes_text(column)
    formats = {
        Kind.PARTICIPANT_ID: "1–12 characters: letters A–Z a–z, digits 0–9 and -; "
        "never a Social Security number",
        Kind.SSN: "9 digits, dashes allowed (123-45-6789)",
        Kind.STATE: "two-letter USPS code: " + " ".join(sorted(US_STATE_CODES)),
        Kind.ZIP: "5 digits, or ZIP+4 as 12345-6789",
        Kind.DATE: DATE_FORMAT,
        Kind.DOLLARS: "whole dollars, 0–999999, digits only (no $ or commas)",
        Kind.HOURLY_WAGE: "dollars, 0.01–500.00, at most 2 decimals (no $)",
        Kind.HOURS: "a number, 1–80 (decimals allowed)",
        Kind.ONET: "O*NET-SOC code NN-NNNN.NN (e.g. 47-2111.00), or its 8 digits",
        Kind.NAICS: "6 digits",
        Kind.TEXT: f"text, up to {column.max_length} characters" if column.max_length else "text",
    }
    return formats[kind]


def _codes_text(column: Column, separator: str = "; ") -> str:
    text = separator.join(f"{code} = {meaning}" for code, meaning in column.codes.items())
    notes = []
    if column.two_digit:
        notes.append("a single digit is read with a leading zero (9 = 09)")
    if column.blank_means is not None:
        notes.append(f"blank means {column.blank_means}")
    if notes:
        text += f"{separator}({'; '.join(notes)})"
    return text


def _fit(items: list[str], limit: int) -> str:
    """`items` on lines of their own within `limit` characters (Excel refuses a longer data
    validation message): the longest items are cut short first, to one common length, and
    only if that is not enough are the last items left out."""
    items = list(items)

    def size(cap: int) -> int:
        return sum(min(len(item), cap) for item in items) + len(items) - 1

    cap = max((len(item) for item in items), default=0)
    while items and size(cap) > limit:
        if cap > _SHORTEST_ITEM:
            cap -= 1
        else:
            items.pop()
            cap = max((len(item) for item in items), default=0)
    return "\n".join(item if len(item) <= cap else item[: cap - 1].rstrip() + "…" for item in items)


def _error_message(column: Column) -> str:
    allowed = f"{column.name} takes one of: {', '.join(column.codes)}."
    meanings = [f"{code} = {meaning}" for code, meaning in column.codes.items()]
    whole = "\n".join([allowed, *meanings, "Pick a value from the list."])
    if len(whole) <= _MESSAGE_LIMIT:
        return whole
    return (
        f"{allowed}\nPick a value from the list. What each code means is in the note on "
        "the column header and on the Data dictionary sheet."
    )


def _validation(column: Column) -> dict[str, Any]:
    title = column.name[:_TITLE_LIMIT]
    if column.kind is Kind.CODE:
        codes = list(column.codes)
        meanings = [f"{code} = {meaning}" for code, meaning in column.codes.items()]
        return {
            "validate": "list",
            "source": codes,
            "input_title": title,
            "input_message": _fit(meanings, _MESSAGE_LIMIT),
            "error_title": "Not an allowed value",
            "error_message": _error_message(column),
            "error_type": "stop",
        }
    if column.kind is Kind.DATE:
        return {"validate": "any", "input_title": title, "input_message": DATE_EXAMPLE}
    return {
        "validate": "any",
        "input_title": title,
        "input_message": _fit(
            [column.description, f"Format: {_format_of(column)}"], _MESSAGE_LIMIT
        ),
    }


def _header_comment(column: Column) -> str:
    element = f"PIRL element {column.pirl}" if column.pirl else "Not a PIRL element"
    requirement = {
        Requirement.REQUIRED: "Required.",
        Requirement.CONDITIONAL: "Required in some cases (see what it holds).",
        Requirement.OPTIONAL: "Optional: leave blank when unknown.",
    }[column.requirement]
    lines = [f"{column.name} — {element}", column.description, requirement]
    if column.kind is Kind.CODE:
        lines.append("Allowed values:")
        lines += [f"{code} = {meaning}" for code, meaning in column.codes.items()]
        if column.two_digit:
            lines.append("A single digit is read with a leading zero (9 = 09).")
        if column.blank_means is not None:
            lines.append(f"Blank means {column.blank_means}.")
    else:
        lines.append(f"Format: {_format_of(column)}")
    return "\n".join(lines)


def _columns(kind: str) -> tuple[Column, ...]:
    if kind not in COLUMNS:
        raise ValueError(f"unknown file kind {kind!r}: expected one of {', '.join(COLUMNS)}")
    return COLUMNS[kind]


def xlsx_template(kind: str) -> bytes:
    """A blank `kind` ("participants" or "placements") workbook: the header row with notes
    and dropdowns, a data dictionary and plain-language instructions."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    _template_sheets(workbook, kind)
    workbook.close()
    return output.getvalue()


def prefilled_template(kind: str, rows: pl.DataFrame) -> bytes:
    """The `kind` template (`xlsx_template`) with `rows` on its first sheet, one per row
    from row 2: the start of the next cumulative file, built from the stored rows of the
    coalition's last accepted report.

    `rows` has a string column per contract column, in any order; a missing or null
    value is an empty cell. The amounts (wages, hours) are written as numbers, the rest
    as text cells formatted as text, as the template formats its columns, so that a
    spreadsheet program keeps their leading zeros. Only free-text columns are
    neutralised (`neutralise`) and escaped cell by cell: every other value passed the
    checks (codes, digits, dates, IDs: no character XML or Excel treats specially but
    `&`, `<` and `>`, escaped here), and a participant_id such as -A1 must come back as
    it went out. The caller masks the SSNs; nothing here writes one in full unless
    given it. The cells are built by polars, column by column: 100,000 participants
    take about two seconds, most of it compressing.
    """
    columns = _columns(kind)
    skeleton = io.BytesIO()
    workbook = xlsxwriter.Workbook(skeleton, {"in_memory": True})
    as_text = _template_sheets(workbook, kind)
    workbook.close()
    text_style = f' s="{as_text.xf_index}"'
    number = (pl.int_range(pl.len(), dtype=pl.Int64) + 2).cast(pl.String)
    parts: list[pl.Expr] = [pl.lit('<row r="'), number, pl.lit('">')]
    for index, column in enumerate(columns):
        if column.name not in rows.columns:
            continue
        value = pl.col(column.name).cast(pl.String)
        opening = [pl.lit(f'<c r="{xl_col_to_name(index)}'), number]
        if column.kind is Kind.TEXT:
            text = value.map_elements(_text_body, return_dtype=pl.String, skip_nulls=True)
            cell = pl.concat_str([*opening, pl.lit(f'"{text_style} '), text])
        else:
            escaped = (
                value.str.replace_all("&", "&amp;", literal=True)
                .str.replace_all("<", "&lt;", literal=True)
                .str.replace_all(">", "&gt;", literal=True)
            )
            inline = f'"{text_style} t="inlineStr"><is><t>'
            cell = pl.concat_str([*opening, pl.lit(inline), escaped, pl.lit("</t></is></c>")])
        if column.kind in _NUMERIC_KINDS:
            amount = value.cast(pl.Float64, strict=False)
            shown = (
                pl.when(amount == amount.floor())
                .then(amount.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(amount.cast(pl.String))
            )
            cell = (
                pl.when(amount.is_finite())
                .then(pl.concat_str([*opening, pl.lit('"><v>'), shown, pl.lit("</v></c>")]))
                .otherwise(cell)
            )
        parts.append(pl.when(value.is_null() | (value == "")).then(pl.lit("")).otherwise(cell))
    parts.append(pl.lit("</row>"))
    xml = rows.select(pl.concat_str(parts).alias("xml")).get_column("xml")

    def body() -> Iterator[str]:
        for offset in range(0, xml.len(), _ROWS_PER_CHUNK):
            yield "".join(xml.slice(offset, _ROWS_PER_CHUNK).to_list())

    return _fill_in(skeleton.getvalue(), [_Body(rows.height, len(columns) - 1, body)])


def _template_sheets(workbook: xlsxwriter.Workbook, kind: str) -> Format:
    """The template's three sheets; returns the text format of its text columns."""
    columns = _columns(kind)
    header_formats = {
        Requirement.REQUIRED: workbook.add_format(
            {"bold": True, "bg_color": REQUIRED_FILL, "bottom": 1}
        ),
        Requirement.CONDITIONAL: workbook.add_format({"bg_color": CONDITIONAL_FILL, "bottom": 1}),
        Requirement.OPTIONAL: workbook.add_format({"bottom": 1}),
    }
    as_text = workbook.add_format({"num_format": "@"})

    sheet = workbook.add_worksheet(kind)
    for index, column in enumerate(columns):
        width = min(max(len(column.name) + 3, 12), 40)
        sheet.set_column(index, index, width, None if column.kind in _NUMERIC_KINDS else as_text)
        sheet.write_string(0, index, neutralise(column.name), header_formats[column.requirement])
        note = _header_comment(column)
        sheet.write_comment(
            0,
            index,
            note,
            {"width": 360, "height": 20 + 15 * (note.count("\n") + 1 + len(note) // 60)},
        )
        sheet.data_validation(1, index, _TEMPLATE_LAST_ROW, index, _validation(column))
    sheet.freeze_panes(1, 0)
    # Codes and dates are text on purpose: silence Excel's "number stored as text" flags.
    sheet.ignore_errors(
        {"number_stored_as_text": f"A2:{xl_col_to_name(len(columns) - 1)}{_TEMPLATE_LAST_ROW + 1}"}
    )

    _write_dictionary(workbook, columns)
    _write_instructions(workbook, kind)
    sheet.activate()
    return as_text


def _write_dictionary(workbook: xlsxwriter.Workbook, columns: Iterable[Column]) -> None:
    sheet = workbook.add_worksheet("Data dictionary")
    bold = workbook.add_format({"bold": True, "bg_color": HEADER_FILL, "bottom": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    top = workbook.add_format({"valign": "top"})
    headings = ("column", "PIRL element", "required", "what it holds", "allowed values")
    for col, (heading, width) in enumerate(zip(headings, (28, 12, 12, 50, 70), strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, heading, bold)
    sheet.freeze_panes(1, 0)
    for row, column in enumerate(columns, start=1):
        sheet.write_string(row, 0, neutralise(column.name), top)
        if column.pirl is None:
            sheet.write_string(row, 1, "—", top)
        else:
            sheet.write_number(row, 1, column.pirl, top)
        sheet.write_string(row, 2, _REQUIREMENT_WORDS[column.requirement], top)
        sheet.write_string(row, 3, neutralise(column.description), wrap)
        sheet.write_string(row, 4, neutralise(_format_of(column)), wrap)


def _instructions(kind: str) -> list[str]:
    columns = COLUMNS[kind]
    participants = kind == "participants"
    every = (
        "every participant the coalition has enrolled since the grant began"
        if participants
        else "every job placement since the grant began, for participants in the participant file"
    )
    example = next(c for c in columns if c.kind is Kind.CODE)
    headers = "Bold headers with a blue fill are required"
    if any(c.requirement is Requirement.CONDITIONAL for c in columns):
        headers += "; a pale fill means required in some cases"
    return [
        f"This is a cumulative file: list {every}, not only this quarter's. "
        "Each quarter you send the whole file again, with each row's latest status.",
        f"One row per {'participant' if participants else 'job placement'}. Keep the header "
        "row as it is (the columns may be in any order); leave a cell blank when there is "
        "no value.",
        f"{headers}. Hover over a header to see what the column holds and its allowed values; "
        "the Data dictionary sheet lists them all.",
        "Dates: YYYYMMDD, for example 20250815 (2025-08-15 and real Excel dates also work).",
        "Codes are digits: pick from the dropdown or type the code "
        f"(for {example.name}: {_codes_text(example, ', ')}).",
        "Leading zeros count: every column except the amounts is formatted as text so that "
        "Excel keeps them (09, 02134). When pasting, use Paste Special → Values.",
        "participant_id is your own ID for the person, 1–12 letters, digits or dashes"
        + ("" if participants else ", exactly as in the participant file")
        + ". Never put a Social Security number in participant_id.",
        f"Limits: at most {MAX_FILE_BYTES // (1024 * 1024)} MB and {MAX_DATA_ROWS:,} rows "
        "per file.",
        "Save as Excel Workbook (.xlsx; only the first sheet is read) or as "
        "CSV UTF-8 (comma delimited) (.csv).",
        "Upload it in the BPIJ Reporting Hub: Reports → the quarter → Start the report → "
        "Files. Every problem comes back at once, by row and column.",
    ]


def _write_instructions(workbook: xlsxwriter.Workbook, kind: str) -> None:
    sheet = workbook.add_worksheet("How to fill this in")
    title = workbook.add_format({"bold": True, "font_size": 14})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    sheet.set_column(0, 0, 4)
    sheet.set_column(1, 1, 110)
    sheet.write_string(0, 0, f"How to fill in the BPIJ {kind} file", title)
    for row, line in enumerate(_instructions(kind), start=2):
        sheet.write_number(row, 0, row - 1, wrap)
        sheet.write_string(row, 1, neutralise(line), wrap)


def csv_template(kind: str) -> bytes:
    """A blank `kind` CSV: the header row only, UTF-8 with a BOM (so Excel reads it as
    UTF-8) and CRLF line endings."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerow(
        neutralise(column.name) for column in _columns(kind)
    )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
