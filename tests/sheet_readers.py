"""The native readers against their references: the worksheet reader against calamine,
the CSV reader against Python's csv module. One comparison of each, used by the
suite-wide fixtures (tests/conftest.py), test_sheetcells.py and test_csvcolumns.py."""

import polars as pl

from reporting.checks import native, reading, workbook


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


def assert_native_reads_as_csv_module(text: bytes) -> "reading._Grid | None":
    """The native CSV reader's grid of ``text`` (UTF-8, no byte-order mark) is what
    Python's csv module reads (reading._csv_grid_exact), or it declines (None): the same
    header; the records that are not blank, with their numbers, whether they have the
    header's width, and their cells (null where the csv module has "": an empty field,
    or one the record lacks); and, when it says no cell needs stripping, none does."""
    grid = reading._csv_grid_native(native.read_csv(text))
    if grid is None:
        return None
    exact = reading._csv_grid_exact(text.decode("utf-8"))
    assert grid.header == exact.header, "the native reader's header differs"
    kept = exact.frame.filter(~pl.col("blank"))
    assert grid.data_rows == kept.height, "the native reader counts other data rows"
    if grid.frame.height < kept.height:  # over the limit: counted, not kept
        assert grid.frame.height == 0
        return grid
    assert not grid.frame.get_column("blank").any()
    assert grid.frame.get_column("row").to_list() == kept.get_column("row").to_list()
    assert grid.frame.get_column("fits").to_list() == kept.get_column("fits").to_list()
    names = [f"c{i}" for i in range(len(exact.header))]
    assert grid.frame.select(pl.col(names).fill_null("")).equals(kept.select(names)), (
        "the native reader's cells differ"
    )
    if grid.stripped:
        cells = [cell for name in names for cell in grid.frame.get_column(name).drop_nulls()]
        assert all(cell and cell == cell.strip() for cell in cells), "a cell needs stripping"
    return grid
