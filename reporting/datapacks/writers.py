"""The data packs' writers (reporting.datapacks): the tables as one XLSX workbook, or
as a zip of CSV files. Every text cell goes through ``neutralise``, in both formats."""

import csv
import io
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.utils import timezone

from reporting.datapacks.tables import (
    DATE,
    DATETIME,
    INT,
    MONEY,
    RATE,
    TEXT,
    WIDTHS,
    Column,
    Table,
    Value,
    tables_for,
)
from reporting.spreadsheets import neutralise

# -- XLSX -----------------------------------------------------------------------------


def data_pack_xlsx(*, quarter: str, coalition_id: int | None, provenance: dict) -> bytes:
    """The data pack as one workbook: an About sheet, then one sheet per table. Numbers
    are numbers, dates are dates; the header row is frozen and filterable."""
    tables = tables_for(quarter=quarter, coalition_id=coalition_id, provenance=provenance)
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
        width = column.width or WIDTHS[column.kind]
        sheet.set_column(col, col, width, formats["wrap"] if about else None)
    sheet.freeze_panes(1, 0 if about else 1)
    # Tall enough for the longest header wrapped in its column.
    lines = max(-(-len(c.header) // max((c.width or WIDTHS[c.kind]) - 1, 1)) for c in table.columns)
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
    tables = tables_for(quarter=quarter, coalition_id=coalition_id, provenance=provenance)
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
