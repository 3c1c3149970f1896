"""Blank participant and placement files (XLSX with validation, comments, a data
dictionary and instructions; CSV), and the start-from workbook prefilled with the last
accepted report's rows, all built from `reporting.contract`, so that a change to the
contract changes the templates. Pure Python."""

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name

from reporting.contract import (
    COLUMNS,
    MAX_DATA_ROWS,
    MAX_FILE_BYTES,
    US_STATE_CODES,
    Column,
    Kind,
    Requirement,
)
from reporting.spreadsheets.annotated import HEADER_FILL
from reporting.spreadsheets.formulas import neutralise
from reporting.spreadsheets.sheetxml import ROWS_PER_CHUNK, Body, fill_in, text_body

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
            text = value.map_elements(text_body, return_dtype=pl.String, skip_nulls=True)
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
        for offset in range(0, xml.len(), ROWS_PER_CHUNK):
            yield "".join(xml.slice(offset, ROWS_PER_CHUNK).to_list())

    return fill_in(skeleton.getvalue(), [Body(rows.height, len(columns) - 1, body)])


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
