"""Worksheet XML written by hand: xlsxwriter lays out the workbook (styles, widths,
validation) around an empty sheet, and the rows go into that sheet's XML in chunks of
strings, which is what keeps a 200,000-row file to seconds. Shared by the annotated
workbook and the prefilled template. Pure Python."""

import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, time

from xlsxwriter.utility import xl_col_to_name

from reporting.spreadsheets.formulas import neutralise

ROWS_PER_CHUNK = 2_000

# -- the XML ----------------------------------------------------------------------------

# The fast path writes a CSV row's cells as they are. A row whose cells, joined by DEL,
# match this takes the careful per-cell path instead: XML escapes, control characters
# (tab, CR and LF included, to be safe) as _xHHHH_ or kept with xml:space="preserve", a
# literal _xHHHH_ protected, leading or trailing spaces kept, and formula triggers
# neutralised. One search per row costs far less than one per cell.
SEPARATOR = "\x7f"
NEEDS_CARE = re.compile(r"[&<>\x00-\x1f]|_x|(?:^|\x7f)[\s=+\-@]| (?:\x7f|$)")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
LITERAL_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_")
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_EPOCH_ORDINAL = EXCEL_EPOCH.toordinal()
FIRST_REAL_EXCEL_DAY = date(1900, 3, 1)  # Excel counts a 1900-02-29 that never was


def escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in text:
        text = LITERAL_ESCAPE.sub(lambda m: "_x005F" + m[0], text)
    return CONTROL.sub(lambda m: f"_x{ord(m[0]):04X}_", text)


def text_xml(ref: str, text: str, style: str) -> str:
    """A text cell, neutralised and escaped."""
    return f'<c r="{ref}"{style} {text_body(text)}'


@functools.lru_cache(maxsize=16_384)
def text_body(text: str) -> str:
    # Cached: the values of a column repeat (codes, dates, and every cell of a hostile
    # file of =1+1), and neutralising and escaping was most of a careful row's time.
    text = neutralise(text)
    if text[:1].isspace() or text[-1:].isspace():
        return f't="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'
    return f't="inlineStr"><is><t>{escape(text)}</t></is></c>'


def seconds(clock: time) -> float:
    return clock.hour * 3600 + clock.minute * 60 + clock.second + clock.microsecond / 1e6


def serial(day: date, clock: time) -> float:
    """Excel's serial number of a date and time of day (the 1900 date system)."""
    serial = (day - EXCEL_EPOCH).days + seconds(clock) / 86_400
    return serial - 1 if day < FIRST_REAL_EXCEL_DAY else serial


class Body:
    """What goes into one sheet's XML once the skeleton is written."""

    def __init__(self, last_row: int, last_col: int, rows: Callable[[], Iterator[str]]):
        self.last_row = last_row  # zero-based
        self.last_col = last_col
        self.rows = rows


def fill_in(skeleton: bytes, bodies: list[Body]) -> bytes:
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


def _split_sheet(xml: str, body: Body) -> tuple[str, str]:
    last = f"{xl_col_to_name(body.last_col)}{body.last_row + 1}"
    xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', xml, count=1)
    if "<sheetData/>" in xml:
        head, tail = xml.split("<sheetData/>", 1)
        return head + "<sheetData>", "</sheetData>" + tail
    end = xml.index("</sheetData>")
    placeholders = xml.find('<row r="2"')
    cut = end if placeholders == -1 else placeholders
    return xml[:cut], xml[end:]


def chunks(rows: Iterable[str]) -> Iterator[str]:
    batch: list[str] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= ROWS_PER_CHUNK:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)
