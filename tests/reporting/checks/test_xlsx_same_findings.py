"""Turning a workbook's rows into text columns the fast way gives exactly what the cell
by cell way gave (the speed work of issue 11).

``reading._text_frame`` lets polars build the columns from the rows when the sheet
holds only text, numbers and truth values (and writes again the few cells polars writes
otherwise), and else writes each column's values once per distinct value
(``_column_text``); the path it replaced called ``workbook.cell_text`` on every cell
that was not text. Both run here on the same workbooks — written by the hub, saved by
LibreOffice from the synthetic and the fuzzed files of the benchmarks and from cells it
types itself, and typed by hand with every kind of cell calamine gives — and must find
the same, read the same grid and keep the same rows.
"""

import io
from datetime import date, datetime, time, timedelta

import polars as pl
import pytest
import xlsxwriter

from reporting import spreadsheets
from reporting.checks import engine, native, reading, synthetic, workbook
from tests.reporting.checks.cases import PARTICIPANT_HEADER, person
from tests.reporting.checks.test_workbook import PERIOD


def cell_by_cell(rows, names) -> pl.DataFrame:
    """The reading before issue 11's speed work: the rows turned into columns, and every
    cell that is not text through cell_text."""
    text = workbook.cell_text
    columns = list(zip(*rows, strict=True)) or [() for _ in names]
    return pl.DataFrame(
        {
            name: pl.Series(name, [v if type(v) is str else text(v) for v in cells], pl.String)
            for name, cells in zip(names, columns, strict=True)
        }
    )


def both_ways(monkeypatch, participants: bytes, placements: bytes | None = None):
    """The findings through calamine's reading (the native reader, which writes cell
    text itself, is compared with it in test_sheetcells.py), the fast way and cell by cell."""
    files = (("p.xlsx", participants), ("l.xlsx", placements) if placements else None)
    with monkeypatch.context() as patch:
        patch.setattr(native, "native_reader", lambda: None)
        new = engine.check_submission(*files, period=PERIOD)
        patch.setattr(reading, "_text_frame", cell_by_cell)
        old = engine.check_submission(*files, period=PERIOD)
    return new, old


def assert_same(new, old) -> None:
    assert [f.as_dict() for f in new.findings] == [f.as_dict() for f in old.findings]
    assert new.summary() == old.summary()
    for mine, theirs in ((new.participants, old.participants), (new.placements, old.placements)):
        if mine is None:
            assert theirs is None
            continue
        assert mine.kept is not None
        assert theirs.kept is not None
        assert mine.kept.equals(theirs.kept)


def grids_both_ways(monkeypatch, data: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
    sheet = workbook.read_first_sheet(data)
    new = reading._grid_from_rows(sheet, "participants").frame
    with monkeypatch.context() as patch:
        patch.setattr(reading, "_text_frame", cell_by_cell)
        old = reading._grid_from_rows(sheet, "participants").frame
    return new, old


def typed_cells(sheet_rows) -> set[type]:
    return {type(cell) for row in sheet_rows[1:] for cell in row}


# Workbooks the hub writes ---------------------------------------------------------------


@pytest.mark.parametrize("seed", [3, 4])
def test_the_hubs_own_workbooks_give_the_same_findings(monkeypatch, seed):
    p_csv, l_csv = synthetic.generate_files(1_500, seed=seed, error_rate=0.05)
    csv_result = engine.check_submission(p_csv, l_csv, period=PERIOD)
    p_xlsx = spreadsheets.annotated_workbook(
        "p.csv", p_csv, csv_result.participants.findings, kind="participants"
    )
    assert csv_result.placements is not None
    l_xlsx = spreadsheets.annotated_workbook(
        "l.csv", l_csv, csv_result.placements.findings, kind="placements"
    )

    new, old = both_ways(monkeypatch, p_xlsx, l_xlsx)

    assert new.findings  # the synthetic errors, and the masked SSNs of the hub's workbook
    assert_same(new, old)


# Workbooks saved by a spreadsheet program ------------------------------------------------


def test_synthetic_files_saved_by_libreoffice_give_the_same_findings(monkeypatch, saved_by_calc):
    assert float in typed_cells(workbook.read_first_sheet(saved_by_calc["p"]).rows)

    new, old = both_ways(monkeypatch, saved_by_calc["p"], saved_by_calc["l"])

    assert new.findings
    assert_same(new, old)


def test_fuzzed_files_saved_by_libreoffice_give_the_same_findings(monkeypatch, saved_by_calc):
    kinds = typed_cells(workbook.read_first_sheet(saved_by_calc["p_fuzz"]).rows)
    assert {str, float} <= kinds

    new, old = both_ways(monkeypatch, saved_by_calc["p_fuzz"], saved_by_calc["l_fuzz"])

    assert len({f.code for f in new.findings}) > 10
    assert_same(new, old)


def test_cells_libreoffice_typed_give_the_same_findings(monkeypatch, saved_by_calc):
    rows = workbook.read_first_sheet(saved_by_calc["typed"]).rows
    ssn = PARTICIPANT_HEADER.index("ssn")
    assert {str, float} <= typed_cells(rows)
    assert typed_cells(rows) & {date, datetime}  # ISO dates became date cells
    assert float in {type(row[ssn]) for row in rows[1:]}  # and 012345678 a number

    new, old = both_ways(monkeypatch, saved_by_calc["typed"])

    assert new.findings
    assert_same(new, old)


def test_libreoffice_grids_are_the_same_cell_for_cell(monkeypatch, saved_by_calc):
    for name in ("p", "p_fuzz", "typed"):
        new, old = grids_both_ways(monkeypatch, saved_by_calc[name])
        assert new.equals(old)


# Every kind of cell calamine gives --------------------------------------------------------


def every_kind_of_cell() -> bytes:
    """A participant sheet whose columns mix what a grantee's program can put in a cell:
    numbers whole and not, 0 and 1 beside TRUE and FALSE, dates and date-times, times
    and durations, numeric SSNs and ZIPs beside text ones, blanks, text that looks like a
    number."""
    rows: list[list[object]] = []
    odd = [
        0,
        1,
        0.0,
        1.0,
        -0.0,
        True,
        False,
        2.5,
        1e20,
        0.1 + 0.2,
        123456789012345678,
        "1",
        "0",
        "TRUE",
        "",
        " 7 ",
        date(2025, 7, 1),
        datetime(2025, 7, 1, 13, 30),  # noqa: DTZ001 - a cell has no time zone
        time(12, 0),
        timedelta(days=1, hours=2),
    ]
    for i in range(1, 61):
        row = person(i)
        values: list[object] = [row[name] for name in PARTICIPANT_HEADER]
        for c in range(len(values)):
            if (i + c) % 3 == 0:
                values[c] = odd[(i * 7 + c) % len(odd)]
        ssn, zip_code = PARTICIPANT_HEADER.index("ssn"), PARTICIPANT_HEADER.index("zip_code")
        values[ssn] = [12345678, "012345678", 12345678.0, True][i % 4]
        values[zip_code] = [2134, "02134", 21341234.0, 0, False, ""][i % 6]
        rows.append(values)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    dated = book.add_format({"num_format": "yyyy-mm-dd"})
    timed = book.add_format({"num_format": "hh:mm"})
    lasting = book.add_format({"num_format": "[h]:mm"})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, PARTICIPANT_HEADER)
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values):
            if isinstance(value, datetime | date):
                sheet.write_datetime(r, c, value, dated)
            elif isinstance(value, time):
                sheet.write_datetime(r, c, value, timed)
            elif isinstance(value, timedelta):
                sheet.write_number(r, c, value.total_seconds() / 86_400, lasting)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif value != "":
                sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()


def test_every_kind_of_cell_reads_the_same(monkeypatch):
    data = every_kind_of_cell()
    kinds = typed_cells(workbook.read_first_sheet(data).rows)
    assert {str, float, bool, date, datetime} <= kinds

    new_grid, old_grid = grids_both_ways(monkeypatch, data)
    new, old = both_ways(monkeypatch, data)

    assert new_grid.equals(old_grid)
    assert new.findings
    assert_same(new, old)


def test_a_truth_value_is_never_read_as_the_number_it_equals():
    # True == 1 and False == 0 in Python: one dict key. A column holding both is written
    # cell by cell, so TRUE stays TRUE beside a 1.
    texts = reading._CellTexts()
    cells = [1.0, True, 0, False, 1, 1.0, "x", 2.5]
    assert reading._column_text("c0", cells, texts).to_list() == [
        "1",
        "TRUE",
        "0",
        "FALSE",
        "1",
        "1",
        "x",
        "2.5",
    ]
    assert reading._column_text("c1", [1, 1.0, -0.0, 0.0, ""], texts).to_list() == [
        "1",
        "1",
        "0",
        "0",
        "",
    ]


@pytest.mark.parametrize("with_a_date", [False, True])
def test_numbers_polars_would_write_otherwise_are_written_as_excel_shows_them(with_a_date):
    # Without a date the rows go through polars (which writes 0.1 + 0.2 as
    # 0.30000000000000004, -0.0 as -0 and True as true) and those cells are written
    # again; with one, column by column. Either way: cell_text's text, cell for cell.
    tricky = [0.1 + 0.2, -0.0, 1e20, 1.2345678901234567e19, 1 / 3, 1e-10, 2.5e-5,
              float("nan"), float("inf"), -float("inf"), True, False, 7, -7, 7.0,
              123456789012345678, 1e15, 1e16, "1.5", "-0", "true", "NaN", ""]  # fmt: skip
    rows = [[value, tricky[(i * 5) % len(tricky)], "text"] for i, value in enumerate(tricky)]
    if with_a_date:
        rows[3][2] = date(2025, 7, 1)
    names = ["c0", "c1", "c2"]

    assert reading._text_frame(rows, names).equals(cell_by_cell(rows, names))
