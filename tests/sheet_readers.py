"""The native reader of worksheet cells against calamine, the reference: one comparison,
used by the suite-wide fixture (tests/conftest.py) and by test_sheetcells.py."""

import polars as pl

from reporting.checks import reading, workbook


def assert_native_reads_as_calamine(
    sheet: workbook.SheetCells, data: bytes, kind: str
) -> "reading._Grid":
    """The grid of ``sheet`` (read natively from ``data``) is calamine's, cell for cell:
    blank cells may be null rather than "" when the native reader says no cell needs
    stripping, and then none does."""
    native = reading._grid_from_cells(sheet, kind)
    reference = reading._grid_from_rows(workbook._parse(data), kind)
    assert native.header == reference.header, "the native reader's header differs"
    assert native.frame.columns == reference.frame.columns
    if native.stripped:
        cells = native.frame.select(pl.col(pl.String))
        assert cells.select(pl.all().str.strip_chars()).equals(cells), "a cell needs stripping"
    assert native.frame.fill_null("").equals(reference.frame.fill_null("")), (
        "the native reader's cells differ"
    )
    return native
