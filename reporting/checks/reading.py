"""Stage 1 of DATA-CONTRACT.md §3: turn an uploaded file into a frame of stripped text.

A file is a CSV or an XLSX workbook, told apart by its content first (a workbook is a
zip archive) and by its name second. Whatever the format, reading ends in the same
shape: one row per non-blank data row, numbered as the grantee's spreadsheet numbers it,
with one text column per contract column the header names, plus the file-level
findings (F01–F05).

CSV is cut into records by the hub's native reader (native/sheetcells/csvcolumns.c),
which counts each record's fields as it goes and hands polars its columns; it may have
begun while polars loaded (native.py). What it declines (an open quote, a stray
carriage return…) is read by polars' own reader, with the fields of every record
counted from the text, vectorised, since polars pads short rows; and a file whose
quoting polars would read otherwise is read by Python's csv module, which is slower but
exact and is the reference both fast readers are tested against.
"""

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import polars as pl

from reporting import contract
from reporting.checks import native, values, workbook
from reporting.checks.types import Finding, Severity

ROW = "row"
# Where file-level findings sort among a row's findings.
FILE_POSITION = -1
# Columns the file does not have sort after the ones it has, in contract order.
ABSENT_POSITION = 10_000

# The column the hub's marked-up workbook adds (spreadsheets/annotated.py): a grantee who fixes that
# workbook and sends it back is not warned about the hub's own column.
ANNOTATION_COLUMN = "errors"
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
# A well-formed record: fields separated by commas, each either quoted (with "" for a
# quote mark inside) or free of quote marks altogether. Polars and Python's csv module
# read such a record alike.
_FIELD = r'(?:"(?:[^"]|"")*"|[^",]*)'
_WELL_FORMED = rf"^{_FIELD}(?:,{_FIELD})*$"
_QUOTED = r'"(?:[^"]|"")*"'
# A cell of a record (a line, or lines joined by quoted line breaks) that begins or ends
# with white space, or a quoted cell that begins or ends with a line break.
_SPACED_CELL = r'(?:^|,)[\s&&[^\r\n]]|[\s&&[^\r\n]](?:,|$)|"\s|\s"'
# What str.isspace() counts as white space in ASCII, and the part of it a line may hold
# (polars' strip_chars strips these, bar \x1c-\x1f).
_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_ASCII_LINE_SPACE = (b" ", b"\t", b"\x0b", b"\x0c")
# Beyond this many spaces and tabs, one regex over the records is quicker.
_SPACES_LOOKED_AT = 2_000
_SAVE_AS_CSV = (
    'save it from Excel with "Save As" → "CSV UTF-8 (Comma delimited)", or upload the .xlsx'
)


@dataclass(frozen=True)
class Source:
    """An uploaded file: its name and either its bytes or a path to it; with its bytes,
    perhaps the native reader's read of them, begun ahead (native.read_file)."""

    name: str
    data: bytes | None = None
    path: Path | None = None
    read_ahead: native.CsvRead | None = None

    @classmethod
    def of(cls, value: "FileInput") -> "Source":
        if isinstance(value, Source):
            return value
        if isinstance(value, (str, os.PathLike)):
            path = Path(value)
            return cls(name=path.name, path=path)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return cls(name="", data=bytes(value))
        if isinstance(value, tuple) and len(value) == 2:
            name, data = value
            return cls(name=str(name), data=bytes(data))
        raise TypeError("a file is a path, bytes, a (name, bytes) tuple or a Source")

    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


FileInput = Source | str | os.PathLike | bytes | tuple[str, bytes]


@dataclass
class Table:
    """A file read: the text of its data rows and what was found on the way.

    ``frame`` has the spreadsheet row number in ``row`` and one Utf8 column per contract
    column (null for a blank cell, or for a column the file does not have); fully blank
    rows and rows skipped by F04 are not in it. ``positions`` gives each contract
    column's place in the file, so findings can be listed left to right.
    """

    kind: str
    frame: pl.DataFrame
    findings: list[tuple[int, Finding]] = field(default_factory=list)
    readable: bool = True
    data_rows: int = 0
    positions: dict[str, int] = field(default_factory=dict)
    # participant_id of rows skipped by F04: they exist, so they are not "missing" (L13, H01).
    skipped_ids: list[str] = field(default_factory=list)


# The file cannot be read at all (F01); the message says what is wrong and what would do.
Refusal = workbook.Refusal
_letters = workbook.column_letters


@dataclass
class _Grid:
    """Every record of a file as text: ``c0``..``cN`` (N = header width), ``row``, and
    ``fits`` (the record has as many fields as the header) and ``blank``."""

    frame: pl.DataFrame
    header: list[str]
    # No cell has surrounding spaces and none is "": a blank cell is already null.
    stripped: bool = False
    # The records that are not blank, when the reader counted them (the frame may then
    # hold none of them, if they are more than a file may have).
    data_rows: int | None = None


def empty_frame(kind: str) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {ROW: pl.Int64()}
    schema |= {column.name: pl.String() for column in contract.COLUMNS[kind]}
    return pl.DataFrame(schema=schema)


def read_table(source: Source, kind: str) -> Table:
    try:
        grid, is_csv = _read_grid(source, kind)
    except Refusal as refusal:
        return _refused(kind, str(refusal))
    return _table_from_grid(grid, kind, is_csv=is_csv)


def _refused(kind: str, message: str) -> Table:
    finding = Finding("F01", Severity.ERROR, kind, None, None, None, message)
    return Table(kind, empty_frame(kind), [(FILE_POSITION, finding)], readable=False)


def _read_grid(source: Source, kind: str) -> tuple[_Grid, bool]:
    limit = contract.MAX_FILE_BYTES
    size = source.size()
    if size > limit:
        raise Refusal(
            f"the file is {_megabytes(size)}; files up to {_megabytes(limit)} are accepted — "
            "send at most 50 MB (a CSV is smaller than the same data as .xlsx)"
        )
    data = source.read()
    if len(data) > limit:  # The file grew between the size check and the read.
        raise Refusal(f"the file is over {_megabytes(limit)}; files up to 50 MB are accepted")
    name = source.name.lower()
    if data.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
        sheet = workbook.read_sheet(data)
        if isinstance(sheet, workbook.SheetCells):
            return _grid_from_cells(sheet, kind), False
        return _grid_from_rows(sheet, kind), False
    if data.startswith(_OLE2_MAGIC):
        raise Refusal(
            "the file is an old-format Excel workbook (.xls) or a password-protected "
            "workbook: save it as an Excel Workbook (.xlsx) without a password, or as "
            "CSV UTF-8"
        )
    if name.endswith(_WORKBOOK_SUFFIXES):
        raise Refusal(
            f"the file is named {source.name!s} but is not an Excel workbook (.xlsx): "
            "open it in Excel and save it as an Excel Workbook (.xlsx) or as CSV UTF-8"
        )
    return _csv_grid(data, source.read_ahead), True


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# CSV ---------------------------------------------------------------------------------


def _csv_grid(data: bytes, read_ahead: native.CsvRead | None = None) -> _Grid:
    original = data
    if data.startswith(native.BOM):
        data = data[len(native.BOM) :]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise Refusal(
            "the file is not a CSV text file (it holds binary data, or is saved as "
            f'"Unicode text"/UTF-16): {_SAVE_AS_CSV}'
        )
    # ASCII (most files) is UTF-8 as it is: it is decoded only if the exact reader needs it.
    text = None if data.isascii() else _decoded(data)
    if not (data.lstrip(_ASCII_SPACE) if text is None else text.strip()):
        raise Refusal(
            "the file is empty: the first row must be the header, then one row per record"
        )
    end = data.find(b"\n")
    first_line = data[:end] if end >= 0 else data
    if b"," not in first_line and (b";" in first_line or b"\t" in first_line):
        separator = "semicolons" if b";" in first_line else "tabs"
        raise Refusal(f"the values are separated by {separator}, not commas: {_SAVE_AS_CSV}")

    read = None if read_ahead is None else read_ahead.take(original)
    if read is None:
        read = native.read_csv(data)
    grid = _csv_grid_native(read)
    if grid is None:
        grid = _csv_grid_fast(data)
    if grid is not None:
        return grid
    return _csv_grid_exact(text if text is not None else data.decode("ascii"))


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise Refusal(
            f"the file is not UTF-8 text (byte 0x{data[error.start]:02X} on line {line} "
            f"cannot be read; the file was probably saved as plain CSV in another "
            f"encoding): {_SAVE_AS_CSV}"
        ) from None


class _ArrowArray:
    """An array the native reader made, handed to polars through the Arrow PyCapsule
    interface (polars takes its buffers over without copying them)."""

    __slots__ = ("capsules",)

    def __init__(self, capsules: tuple[object, object]):
        self.capsules = capsules

    def __arrow_c_array__(self, requested_schema: object = None) -> tuple[object, object]:
        return self.capsules


def _csv_grid_native(read: object) -> _Grid | None:
    """The grid of what the native reader returned (native/sheetcells/csvcolumns.c: one
    pass that cuts the records as Python's csv module does, counts their fields, and
    writes the columns in polars' own layout). None when it declined (an open quote, a
    stray carriage return…) or is not built: the polars reader below then reads the
    file."""
    if not isinstance(read, tuple):
        return None
    header, columns, rows, fits, data_rows, spaced = read
    if columns is None:  # more data rows than are accepted: counted, not kept
        nothing = pl.DataFrame({ROW: pl.Series([], dtype=pl.Int64)})
        return _Grid(nothing, header, data_rows=data_rows)
    frame = pl.DataFrame(
        [pl.Series(_ArrowArray(column)).alias(f"c{i}") for i, column in enumerate(columns)]
        + [
            pl.Series(_ArrowArray(rows)).alias(ROW),
            pl.Series(_ArrowArray(fits)).alias("fits"),
        ]
    ).with_columns(pl.lit(False).alias("blank"))  # blank records are not kept
    return _Grid(frame, header, stripped=not spaced, data_rows=data_rows)


def _csv_grid_fast(data: bytes) -> _Grid | None:
    """Read UTF-8 ``data`` with polars; count each record's fields from the text. None
    when the file needs the exact reader (quoting that is not RFC 4180, or any
    disagreement).

    Polars cuts the file into lines as well as into cells, without decoding it in Python:
    the two reads are compared to find the records whose field count is not the header's."""
    try:
        lines = _lines(data)
    except pl.exceptions.PolarsError:
        return None  # Its message may quote the file's text: never pass it on.
    if lines is None:
        return None
    quoted: pl.Series | None = None
    if b'"' in data:
        quotes = lines.str.count_matches('"', literal=True)
        # A line break inside quotes continues the record: a record ends where the count
        # of quote marks so far is even.
        ends = (quotes.cum_sum() % 2) == 0
        if not ends[-1]:
            return None
        if not ends.all():
            records = (
                pl.DataFrame({"text": lines, "quotes": quotes})
                .with_columns(record=ends.shift(1, fill_value=True).cast(pl.Int64).cum_sum())
                .group_by("record", maintain_order=True)
                .agg(pl.col("text").str.join("\n"), pl.col("quotes").sum())
            )
            lines, quotes = records["text"], records["quotes"]
        quoted = (quotes > 0).arg_true()
        quoted_text = lines.gather(quoted)
        if not quoted_text.str.contains(_WELL_FORMED).all():
            return None
        outside = quoted_text.str.replace_all(_QUOTED, "")
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            infer_schema=False,
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        return None  # Its message may quote the file's text: never pass it on.
    if frame.height != len(lines) or frame.height == 0:
        return None
    width = frame.width
    # A record without quote marks has the header's fields when it is as long as its cells
    # and a comma between each two: polars pads a short record with nulls (length 0) and
    # cuts a long one short, and either way the lengths differ.
    cells = pl.lit(width - 1, pl.UInt32)
    for name in frame.columns:  # a chain of sums: a third of sum_horizontal's time
        cells = cells + pl.col(name).str.len_bytes().fill_null(0)
    fits = lines.str.len_bytes() == frame.select(cells).to_series()
    # A record is blank when every field is: spaces and commas only, or quoted spaces.
    blank = lines.str.contains(r"^[\s,]*$")
    if quoted is not None:
        # Quoted: one field more than the commas outside quotes.
        fields = outside.str.count_matches(",", literal=True) + 1
        fits = fits.scatter(quoted, fields == width)
        blank_quoted = (
            outside.str.contains(r"^[\s,]*$")
            & quoted_text.str.extract_all(_QUOTED)
            .list.eval(pl.element().str.contains(r'^"\s*"$'))
            .list.all()
        )
        blank = blank.scatter(quoted, blank_quoted)
    if not fits[0]:
        return None
    names = [f"c{i}" for i in range(width)]
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    header = [value or "" for value in frame.row(0)]
    if not "".join(header).strip():
        return None  # a blank first line: leave it to the exact reader
    frame = frame.with_columns(
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(ROW),
        fits.alias("fits"),
        blank.alias("blank"),
    )
    # Stripping every cell is the dearest step of reading: skip it when no cell can
    # begin or end with a space and none is a quoted empty string.
    return _Grid(frame.slice(1), header, stripped=not _spaced_cells(data, lines, quoted))


def _lines(data: bytes) -> pl.Series | None:
    """The lines of ``data`` as ``text.split("\\n")`` gives them (less the "" after a
    last line break), each without the carriage return that ends it; None when a
    carriage return ends a line on its own, as it does for the csv module."""
    # No cell separator or quote mark: one cell per line ("\x00" is not in the file).
    read = pl.read_csv(
        data,
        has_header=False,
        separator="\x00",
        quote_char=None,
        infer_schema=False,
        raise_if_empty=False,
    )
    if read.width != 1:
        return None
    lines = read.to_series().fill_null("")
    if data.endswith(b"\r") or (b"\r" in data and lines.str.contains("\r", literal=True).any()):
        return None
    # Polars reads a file that begins as a compressed one does as compressed: the first
    # line it read must be the file's.
    end = data.find(b"\n")
    first = (data[:end] if end >= 0 else data).removesuffix(b"\r")
    if lines.is_empty() or lines[0].encode() != first:
        return None
    return lines


def _spaced_cells(data: bytes, records: pl.Series, quoted: pl.Series | None) -> bool:
    """Whether a cell may begin or end with white space (stripping it would change it),
    or be a quoted empty string.

    In an ASCII file a cell's edges are next to a comma, a line break or a quote mark, so
    each space or tab is looked at where there are few; otherwise (and for the line breaks
    a quoted cell may begin or end with) the records are searched with a regex. Only the
    records with quote marks can hold "" (searching the whole file for it took 10 ms)."""
    if quoted is not None and records.gather(quoted).str.contains(r'""|"\s|\s"').any():
        return True
    if data.isascii():
        seen, last = 0, len(data) - 1
        for space in _ASCII_LINE_SPACE:
            at = data.find(space)
            while at >= 0 and seen < _SPACES_LOOKED_AT:
                if at in (0, last) or data[at - 1] in b',\n"' or data[at + 1] in b',\r\n"':
                    return True
                seen += 1
                at = data.find(space, at + 1)
            if at >= 0:
                break
        else:
            return False
    return bool(records.str.contains(_SPACED_CELL).any())


def _csv_grid_exact(text: str) -> _Grid:
    records = list(csv.reader(io.StringIO(text, newline="")))
    header = records[0] if records else []
    width = len(header)
    data: dict[str, list] = {ROW: [], "fits": [], "blank": []}
    columns: list[list[str]] = [[] for _ in range(width)]
    for number, record in enumerate(records[1:], start=2):
        data[ROW].append(number)
        data["fits"].append(len(record) == width)
        data["blank"].append(all(not value.strip() for value in record))
        padded = record[:width] + [""] * (width - len(record))
        for column, value in zip(columns, padded, strict=True):
            column.append(value)
    frame = pl.DataFrame(
        {f"c{i}": pl.Series(values, dtype=pl.String) for i, values in enumerate(columns)}
        | {
            ROW: pl.Series(data[ROW], dtype=pl.Int64),
            "fits": pl.Series(data["fits"], dtype=pl.Boolean),
            "blank": pl.Series(data["blank"], dtype=pl.Boolean),
        }
    )
    return _Grid(frame, header)


def _all_blank(names: list[str]) -> pl.Expr:
    return pl.all_horizontal([pl.col(name).str.strip_chars().fill_null("") == "" for name in names])


# XLSX --------------------------------------------------------------------------------


def _grid_from_rows(sheet: workbook.Sheet, kind: str) -> _Grid:
    rows = sheet.rows
    if not rows:
        return _Grid(pl.DataFrame({ROW: pl.Series([], dtype=pl.Int64)}), [])
    width = max(len(row) for row in rows)
    if any(len(row) != width for row in rows):
        rows = [row + [""] * (width - len(row)) for row in rows]
    header = [_cell_text(value) for value in rows[0]]
    names = [f"c{i}" for i in range(width)]
    digit_columns = _digit_columns(header, kind)
    frame = _text_frame(rows[1:], names)
    if digit_columns:
        frame = frame.with_columns(
            values.leading_zeros_restored(
                pl.col(names[index]),
                pl.Series([type(row[index]) in (int, float) for row in rows[1:]], dtype=pl.Boolean),
                kind=digit_columns[index],
            )
            for index in digit_columns
        )
    return _finished_grid(frame, header, sheet.first_row)


def _grid_from_cells(sheet: workbook.SheetCells, kind: str) -> _Grid:
    """The grid of a sheet the native reader read: its cells are already text."""
    if not sheet.frame.height:
        return _Grid(pl.DataFrame({ROW: pl.Series([], dtype=pl.Int64)}), [])
    header = [value or "" for value in sheet.frame.row(0)]
    frame = sheet.frame.slice(1)
    digit_columns = _digit_columns(header, kind)
    if digit_columns:
        frame = frame.with_columns(
            values.leading_zeros_restored(
                pl.col(f"c{index}"), sheet.numbers(index), kind=digit_columns[index]
            )
            for index in digit_columns
        )
    return _finished_grid(frame, header, sheet.first_row, stripped=sheet.stripped)


def _finished_grid(
    frame: pl.DataFrame, header: list[str], first_row: int, *, stripped: bool = False
) -> _Grid:
    """The grid of a sheet's data rows. ``stripped``: no cell has surrounding white space
    and blank cells are null, so stripping every cell (the dearest step of reading) is
    skipped, and a blank row is one of nulls."""
    first = first_row + 2  # the spreadsheet row of the first data row
    names = list(frame.columns)
    blank = (
        pl.all_horizontal([pl.col(name).is_null() for name in names])
        if stripped
        else _all_blank(names)
    )
    frame = frame.with_columns(
        pl.int_range(first, first + frame.height, dtype=pl.Int64).alias(ROW),
        pl.lit(True).alias("fits"),
        blank.alias("blank"),
    )
    return _Grid(frame, header, stripped=stripped)


def _text_frame(rows: list[list[Any]], names: list[str]) -> pl.DataFrame:
    """The data rows' cells as text columns c0..cN, each cell as ``workbook.cell_text``
    writes it.

    Most sheets hold only text and numbers: polars then builds the columns from the rows
    itself, writing a whole number without ".0" as ``cell_text`` does, and the few cells
    it may write otherwise (a fraction, -0, a very long number, TRUE/FALSE, inf, NaN)
    are found by their text and written again from the cell. A sheet of text alone is
    one series of its cells, cut into columns. A sheet with dates or times in it is read
    column by column."""
    cells = list(chain.from_iterable(rows))
    kinds = set(map(type, cells))
    if not rows or not kinds <= _ROW_KINDS:
        return _frame_by_columns(rows, names)
    if kinds == {str}:
        # Text alone (the hub's own workbook): one series of every cell, cut into the
        # columns by polars — half the time of building the frame row by row.
        grid = pl.Series(cells, dtype=pl.String).reshape((len(rows), len(names)))
        return grid.arr.to_struct(fields=names).struct.unnest()
    schema = dict.fromkeys(names, pl.String())
    try:
        frame = pl.DataFrame(rows, schema=schema, orient="row", strict=True)
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        return _frame_by_columns(rows, names)
    if kinds <= {str}:
        return frame
    redo = frame.select(pl.all().str.contains(_RENDERED_DIFFERENTLY).fill_null(False))
    text = workbook.cell_text
    for index, name in enumerate(names):
        positions = redo.get_column(name).arg_true().to_list()
        if positions:
            written = [text(rows[position][index]) for position in positions]
            frame = frame.with_columns(
                frame.get_column(name).scatter(positions, pl.Series(written, dtype=pl.String))
            )
    return frame


def _frame_by_columns(rows: list[list[Any]], names: list[str]) -> pl.DataFrame:
    columns = list(zip(*rows, strict=True)) or [() for _ in names]
    texts = _CellTexts()
    return pl.DataFrame(
        {name: _column_text(name, cells, texts) for name, cells in zip(names, columns, strict=True)}
    )


# The cells polars may write other than ``workbook.cell_text`` does (it writes a whole
# number of up to 15 digits the same): truth values, -0, infinities and NaN, fractions,
# exponents and numbers of 16 digits or more. Text that looks like one is written again
# too, which changes nothing.
_ROW_KINDS = frozenset({str, float, int, bool})
_RENDERED_DIFFERENTLY = (
    r"^(?:true|false|-0|[-+]?inf|-?NaN|nan|-?[0-9]*\.[0-9]*(?:[eE][-+]?[0-9]+)?"
    r"|-?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]+|-?[0-9]{16,})$"
)


class _CellTexts(dict):
    """A cell as calamine gives it → ``workbook.cell_text`` of it, each distinct cell
    written once. A sheet saved by a spreadsheet program holds a million numbers or more
    but few distinct ones (codes, flags, dates written as 20250315), and a dict lookup
    per cell (``map``, in C) costs a tenth of a Python-level branch per cell. Keys that
    compare equal have the same text (1 and 1.0 are "1"), except True and 1, False and 0:
    a column with truth values in it does not use this."""

    def __missing__(self, value: object) -> str:
        text = self[value] = value if isinstance(value, str) else workbook.cell_text(value)
        return text


def _column_text(name: str, cells: Sequence[object], texts: _CellTexts) -> pl.Series:
    """A column's cells as text: as they are when all are text (most columns), else
    each number, date or truth value written by ``workbook.cell_text``."""
    kinds = set(map(type, cells))
    if kinds == {str} or not kinds:
        return pl.Series(name, cells, pl.String)
    if bool in kinds:
        text = workbook.cell_text
        return pl.Series(name, [text(cell) for cell in cells], pl.String)
    return pl.Series(name, list(map(texts.__getitem__, cells)), pl.String)


def _digit_columns(header: list[str], kind: str) -> dict[int, contract.Kind]:
    """Where the file's text-of-digits columns are (ssn, zip_code), by index: a
    spreadsheet program stores what was typed in them as a number, leading zeros lost."""
    found: dict[int, contract.Kind] = {}
    seen: set[str] = set()
    for index, cell in enumerate(header):
        column = contract.column_for_header(cell.strip(), kind) if cell.strip() else None
        if column is None or column.name in seen:
            continue
        seen.add(column.name)
        if column.kind in values.DIGIT_TEXT_KINDS:
            found[index] = column.kind
    return found


def _cell_text(value: object) -> str:
    return value if isinstance(value, str) else workbook.cell_text(value)


# Header and rows ---------------------------------------------------------------------


def _table_from_grid(grid: _Grid, kind: str, *, is_csv: bool) -> Table:
    columns = contract.COLUMNS[kind]
    frame = grid.frame
    if not "".join(grid.header).strip():
        return _refused(
            kind,
            "the first row is blank: the first row must be the header (the column names), "
            "with the data rows under it",
        )
    data_rows = grid.data_rows
    if data_rows is None:
        data_rows = int((~frame.get_column("blank")).sum())
    if data_rows > contract.MAX_DATA_ROWS:
        return _refused(
            kind,
            f"the file has {data_rows:,} data rows; at most {contract.MAX_DATA_ROWS:,} "
            "data rows per file are accepted — check that no rows were repeated or "
            "pasted twice, and contact JFF if the cumulative file is really larger",
        )
    findings, positions = _header_findings(grid, kind)
    if any(f.code == "F02" for _, f in findings):
        return Table(kind, empty_frame(kind), findings, False, data_rows, positions)
    if data_rows == 0:
        message = "the file has a header but no data rows: add one row per record under the header"
        findings.append(
            (FILE_POSITION, Finding("F05", Severity.ERROR, kind, None, None, None, message))
        )
        return Table(kind, empty_frame(kind), findings, False, 0, positions)

    # Lazily: an eager filter copies every column first (30 ms for 100k rows).
    ragged = frame.lazy().filter(~pl.col("blank") & ~pl.col("fits")).collect()
    width = len(grid.header)
    for row in ragged.get_column(ROW).to_list() if is_csv else []:
        message = (
            f"row {row} does not have the {width} fields of the header, so it is skipped: "
            "a value with a comma in it must be in quotes, and every row needs the same "
            "number of commas as the header"
        )
        findings.append(
            (FILE_POSITION, Finding("F04", Severity.ERROR, kind, row, None, None, message))
        )
    skipped_ids: list[str] = []
    if ragged.height and "participant_id" in positions:
        ids = ragged.get_column(f"c{positions['participant_id']}").str.strip_chars()
        skipped_ids = [value for value in ids.to_list() if value]

    def text(column: contract.Column) -> pl.Expr:
        if column.name not in positions:
            return pl.lit(None, dtype=pl.String)
        cell = pl.col(f"c{positions[column.name]}")
        if grid.stripped:
            return cell
        stripped = cell.str.strip_chars()
        return pl.when(stripped != "").then(stripped)

    rows = frame.lazy()
    if data_rows != frame.height or ragged.height:
        rows = rows.filter(~pl.col("blank") & pl.col("fits"))
    table_frame = rows.select(
        pl.col(ROW), *(text(column).alias(column.name) for column in columns)
    ).collect()
    return Table(kind, table_frame, findings, True, data_rows, positions, skipped_ids)


def _header_findings(grid: _Grid, kind: str) -> tuple[list[tuple[int, Finding]], dict[str, int]]:
    """F02 and F03, and where each contract column is in the file (§7: the first column
    naming a field is the one read)."""
    findings: list[tuple[int, Finding]] = []
    positions: dict[str, int] = {}
    for index, cell in enumerate(grid.header):
        header = cell.strip()
        column = contract.column_for_header(header, kind) if header else None
        if column is not None and column.name not in positions:
            positions[column.name] = index
            continue
        if column is not None:
            first = grid.header[positions[column.name]].strip()
            message = (
                f'column "{header}" (column {_letters(index)}) names {column.name}, which '
                f'column "{first}" (column {_letters(positions[column.name])}) already '
                "gives: this one is ignored — remove it, or give it the name of another "
                "contract column"
            )
        elif not header:
            values = grid.frame.lazy().filter(~pl.col("blank")).collect().get_column(f"c{index}")
            if values.str.strip_chars().fill_null("").eq("").all():
                continue
            message = (
                f"column {_letters(index)} has values but no header: they are ignored — "
                "give the column its contract name, or remove it"
            )
        elif contract.is_other_pirl_element(header) or header.lower() == ANNOTATION_COLUMN:
            continue
        else:
            message = (
                f'column "{header}" (column {_letters(index)}) is not a column of the '
                f"{kind} file: it is ignored — check its spelling against the template if "
                "it was meant to be one"
            )
        findings.append(
            (index, Finding("F03", Severity.WARNING, kind, 1, header or None, None, message))
        )
    for position, column in enumerate(contract.COLUMNS[kind], start=ABSENT_POSITION):
        if column.required and column.name not in positions:
            pirl = f" (or {column.pirl})" if column.pirl else ""
            message = (
                f"the required column {column.name} is missing: add a column headed "
                f"{column.name}{pirl} — {column.description}"
            )
            findings.append(
                (position, Finding("F02", Severity.ERROR, kind, 1, column.name, None, message))
            )
    return findings, positions
