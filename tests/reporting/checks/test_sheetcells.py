"""The native reader of worksheet cells (native/sheetcells) reads what calamine reads.

``workbook.read_sheet`` reads a workbook's first sheet with ``sheetcells`` — straight to
one CSV text of the cells as ``cell_text`` writes them — and falls back to calamine for
anything outside the plain shape spreadsheet programs write. Here both readers run on
the same workbooks: written by the hub, saved by LibreOffice Calc, and written by hand
with every construct the native reader reads (it must give calamine's grid, cell for
cell, and the same findings) or declines (it must decline, and calamine then reads the
sheet). The suite's own workbooks are compared too, by the autouse fixture in
tests/conftest.py that checks every sheet the native reader reads against calamine.
"""

import io
import zipfile
from datetime import date, datetime

import polars as pl
import pytest
import sheetcells
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.agreement import fuzz_files
from reporting import spreadsheets
from reporting.checks import engine, native, reading, synthetic, workbook
from tests.reporting.checks.test_workbook import PERIOD, VALID, _minimal, _rezip, refusal
from tests.reporting.checks.test_xlsx_same_findings import assert_same
from tests.sheet_readers import assert_native_reads_as_calamine

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def read_natively(data: bytes) -> workbook.SheetCells:
    sheet = workbook.read_sheet(data)
    assert isinstance(sheet, workbook.SheetCells), "the native reader declined this workbook"
    return sheet


def declined(data: bytes) -> bool:
    """Whether the native reader left the workbook to calamine (which may refuse it)."""
    try:
        return isinstance(workbook.read_sheet(data), workbook.Sheet)
    except workbook.Refusal as refused:
        message = str(refused)
    assert "outside the area" not in message  # the native reader's own refusal
    return True


def assert_same_grid(data: bytes, kind: str = "participants") -> reading._Grid:
    """The native reader reads the workbook, and its grid is calamine's."""
    return assert_native_reads_as_calamine(read_natively(data), data, kind)


def findings_both_ways(monkeypatch, participants: bytes, placements: bytes | None = None):
    files = (("p.xlsx", participants), ("l.xlsx", placements) if placements else None)
    natively = engine.check_submission(*files, period=PERIOD)
    with monkeypatch.context() as patch:
        patch.setattr(native, "native_reader", lambda: None)
        reference = engine.check_submission(*files, period=PERIOD)
    return natively, reference


def book(sheet_data: str, *, shared: str | None = None, styles: str | None = None) -> bytes:
    """VALID with its sheet's rows replaced, and its shared strings and styles if given."""
    data = _minimal(sheet_data, None)
    replace = {}
    if shared is not None:
        replace["xl/sharedStrings.xml"] = f'<sst xmlns="{MAIN}">{shared}</sst>'.encode()
    if styles is not None:
        replace["xl/styles.xml"] = f'<styleSheet xmlns="{MAIN}">{styles}</styleSheet>'.encode()
    return _rezip(data, replace=replace) if replace else data


def row(number: int, *cells: str) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


STYLES = (
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>'
    '<numFmt numFmtId="165" formatCode="[h]:mm"/><numFmt numFmtId="166" formatCode="0.00"/>'
    "</numFmts>"
    '<cellXfs count="6"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>'
    '<xf numFmtId="165"/><xf numFmtId="166"/><xf numFmtId="49"/></cellXfs>'
)


# Workbooks grantees send -----------------------------------------------------------------


def test_the_hubs_own_workbook_is_read_natively_as_calamine_reads_it(monkeypatch):
    p_csv, l_csv = synthetic.generate_files(1_500, seed=3, error_rate=0.05)
    found = engine.check_submission(p_csv, l_csv, period=PERIOD)
    assert found.placements is not None
    p_xlsx = spreadsheets.annotated_workbook(
        "p.csv", p_csv, found.participants.findings, kind="participants"
    )
    l_xlsx = spreadsheets.annotated_workbook(
        "l.csv", l_csv, found.placements.findings, kind="placements"
    )

    assert_same_grid(p_xlsx)
    assert_same_grid(l_xlsx, "placements")
    natively, reference = findings_both_ways(monkeypatch, p_xlsx, l_xlsx)
    assert natively.findings
    assert_same(natively, reference)


def test_workbooks_saved_by_libreoffice_are_read_natively_as_calamine_reads_them(
    monkeypatch, saved_by_calc
):
    for name, kind in (("p", "participants"), ("p_fuzz", "participants"), ("l", "placements")):
        assert_same_grid(saved_by_calc[name], kind)
    assert b"\x01" in read_natively(saved_by_calc["p"]).numeric  # cells typed as numbers

    for people, jobs in (("p", "l"), ("p_fuzz", "l_fuzz")):
        natively, reference = findings_both_ways(
            monkeypatch, saved_by_calc[people], saved_by_calc[jobs]
        )
        assert natively.findings
        assert_same(natively, reference)


def test_cells_libreoffice_typed_as_dates_are_read_natively(monkeypatch, saved_by_calc):
    # ISO dates became date cells, 012345678 a number, TRUE a truth value.
    cells = {type(v) for r in workbook.read_first_sheet(saved_by_calc["typed"]).rows for v in r}
    assert {str, float, date} <= cells
    assert_same_grid(saved_by_calc["typed"])
    natively, reference = findings_both_ways(monkeypatch, saved_by_calc["typed"])
    assert natively.findings
    assert_same(natively, reference)


def test_numeric_ssns_and_zips_get_their_leading_zeros_back_natively(saved_by_calc):
    grid = assert_same_grid(saved_by_calc["p"])
    ssn = grid.header.index("ssn")
    sheet = read_natively(saved_by_calc["p"])
    assert sheet.numbers(ssn).any()  # LibreOffice typed them as numbers
    assert grid.frame[f"c{ssn}"].str.len_chars().drop_nulls().max() in (9, 11)


# Every construct, written by hand ----------------------------------------------------------


READ = {
    "shared strings, rich runs, spaces kept, entities": (
        row(1, '<c r="A1" t="s"><v>0</v></c>', '<c r="B1" t="s"><v>1</v></c>')
        + row(2, '<c r="A2" t="s"><v>2</v></c>', '<c r="B2" t="s"><v>3</v></c>')
        + row(3, '<c r="A3" t="s"><v>4</v></c>', '<c r="B3" t="s"><v>5</v></c>'),
        '<si><t>participant_id</t></si><si><t xml:space="preserve"> ssn </t></si>'
        '<si><r><t>P</t></r><r><rPr><b/><sz val="11"/></rPr><t>001</t></r></si>'
        "<si><t>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233;&#x4E2D;</t></si>"
        '<si><t>line one\nline two, "quoted"</t></si><si><t/></si>',
    ),
    "inline strings and formulas' text": (
        row(1, '<c r="A1" t="inlineStr"><is><t>name</t></is></c>', '<c r="B1"><v>1</v></c>')
        + row(
            2,
            '<c r="A2" t="inlineStr"><is><r><t>x</t></r><r><t>,y</t></r></is></c>',
            '<c r="B2" t="str"><f>A2&amp;"!"</f><v>x,y!</v></c>',
        ),
        None,
    ),
    "numbers of every shape": (
        row(1, *(f'<c r="{c}1" t="inlineStr"><is><t>h{c}</t></is></c>' for c in "ABCDEFGHIJ"))
        + row(
            2,
            '<c r="A2"><v>12345678</v></c>',
            '<c r="B2"><v>-0</v></c>',
            '<c r="C2"><v>007</v></c>',
            '<c r="D2"><v>2.5</v></c>',
            '<c r="E2"><v>1E3</v></c>',
            '<c r="F2"><v>0.30000000000000004</v></c>',
            '<c r="G2"><v>123456789012345678</v></c>',
            '<c r="H2"><v>1e20</v></c>',  # 21 digits: the most written natively
            '<c r="I2"><v>2.5e-5</v></c>',
            '<c r="J2" t="n"><v>-17</v></c>',
        )
        + row(3, '<c r="A3" t="b"><v>1</v></c>', '<c r="B3" t="b"><v>0</v></c>'),
        None,
    ),
    "dates in built-in and custom formats, and numbers in other formats": (
        row(1, '<c r="A1" t="inlineStr"><is><t>d</t></is></c>')
        + row(
            2,
            '<c r="A2" s="1"><v>45000</v></c>',
            '<c r="B2" s="2"><v>61</v></c>',
            '<c r="C2" s="4"><v>2.5</v></c>',
            '<c r="D2" s="5"><v>2134</v></c>',
            '<c r="E2" s="2"><v>2958465</v></c>',
        ),
        None,
    ),
    "blank rows, blank columns, styled empty cells, a header below blank rows": (
        row(2, '<c r="A2" s="1"/>')
        + row(3, '<c r="B3" t="inlineStr"><is><t>participant_id</t></is></c>', '<c r="D3" s="2"/>')
        + row(5, '<c r="C5"><v>5</v></c>', '<c r="E5" t="inlineStr"><is><t></t></is></c>')
        + '<row r="6" spans="1:5" ht="15" x14ac:dyDescent="0.25"/>'
        + row(7, '<c r="B7"><f>1+1</f></c>', '<c r="C7" s="0" t="n"><v>7</v></c>'),
        None,
    ),
}


@pytest.mark.parametrize("name", list(READ))
def test_each_construct_is_read_natively_as_calamine_reads_it(name):
    sheet_data, shared = READ[name]
    data = book(sheet_data, shared=shared, styles=STYLES)
    assert_same_grid(data)


def test_what_the_native_reader_writes_is_cell_text():
    sheet_data, _ = READ["numbers of every shape"]
    frame = read_natively(book(sheet_data, styles=STYLES)).frame
    assert frame.row(1) == (
        "12345678", "0", "7", "2.5", "1000", "0.3", "123456789012345680",
        "100000000000000000000", "2.5e-05", "-17",
    )  # fmt: skip
    assert frame.row(2)[:2] == ("TRUE", "FALSE")
    dates = read_natively(book(READ["dates in built-in and custom formats, and numbers in "
                                    "other formats"][0], styles=STYLES)).frame  # fmt: skip
    assert dates.row(1) == ("2023-03-15", "1900-03-01", "2.5", "2134", "9999-12-31")


DECLINED = {
    "an error value": row(1, '<c r="A1" t="e"><v>#DIV/0!</v></c>'),
    "an ISO date cell": row(1, '<c r="A1" t="d"><v>2024-01-02</v></c>'),
    "a time of day": row(1, '<c r="A1" s="1"><v>45000.5</v></c>'),
    "a date before March 1900": row(1, '<c r="A1" s="1"><v>60</v></c>'),
    "a duration": row(1, '<c r="A1" s="3"><v>1.5</v></c>'),
    "an _xHHHH_ escape": row(1, '<c r="A1" t="inlineStr"><is><t>a_x000D_b</t></is></c>'),
    "spaces at an end without xml:space": row(1, '<c r="A1" t="inlineStr"><is><t> a </t></is></c>'),
    "a carriage return": row(1, '<c r="A1" t="inlineStr"><is><t>a\r\nb</t></is></c>'),
    "a number with spaces": row(1, '<c r="A1"><v> 5 </v></c>'),
    "an empty value": row(1, '<c r="A1"><v></v></c>'),
    "a number beyond the largest double": row(1, '<c r="A1"><v>1.797693134862316E+308</v></c>'),
    "a whole number of 22 digits or more": row(1, '<c r="A1"><v>1E+300</v></c>'),
    "a cell without a reference": row(1, "<c><v>1</v></c>"),
    "a row without a number": '<row><c r="A1"><v>1</v></c></row>',
    "rows out of order": row(2, '<c r="A2"><v>1</v></c>') + row(1, '<c r="A1"><v>1</v></c>'),
    "cells out of order": row(1, '<c r="B1"><v>1</v></c><c r="A1"><v>1</v></c>'),
    "a cell outside its row": row(1, '<c r="A2"><v>1</v></c>'),
    "a lower-case reference": row(1, '<c r="a1"><v>1</v></c>'),
    "a comment": row(1, "<!-- x -->"),
    "single-quoted attributes": "<row r='1'><c r='A1'><v>1</v></c></row>",
    "a prefixed element": '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>',
    "a style beyond the styles": row(1, '<c r="A1" s="99"><v>1</v></c>'),
    "a shared string beyond the shared strings": row(1, '<c r="A1" t="s"><v>9999</v></c>'),
    "a rich value": row(1, '<c r="A1" vm="1"><v>1</v></c>'),
}


@pytest.mark.parametrize("name", list(DECLINED))
def test_the_native_reader_declines_what_it_does_not_read_exactly(name, monkeypatch):
    data = book(DECLINED[name], styles=STYLES)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        answer = sheetcells.read(
            archive.read("xl/worksheets/sheet1.xml"),
            archive.read("xl/sharedStrings.xml"),
            workbook._style_kinds(archive.read("xl/styles.xml")),
            200_001,
            100,
        )
    assert isinstance(answer, str)
    assert answer != "outside"
    assert declined(data)  # calamine reads it (or refuses it) as before
    natively, reference = findings_both_ways(monkeypatch, data)
    assert_same(natively, reference)


def test_phonetic_runs_in_shared_strings_are_declined():
    shared = '<si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></si>'
    assert declined(book(row(1, '<c r="A1" t="s"><v>0</v></c>'), shared=shared))


def test_a_workbook_in_the_1904_date_system_is_read_by_calamine():
    with zipfile.ZipFile(io.BytesIO(VALID)) as archive:
        book_xml = archive.read("xl/workbook.xml")
    book_xml = book_xml.replace(b"<workbookPr", b'<workbookPr date1904="1"', 1)
    assert b"date1904" in book_xml
    assert declined(_rezip(VALID, replace={"xl/workbook.xml": book_xml}))


def test_a_cell_outside_the_declared_area_is_refused_by_the_native_reader(monkeypatch):
    data = _minimal(row(1, '<c r="A1"><v>1</v></c>') + row(9, '<c r="ZZ9"><v>1</v></c>'), "A1:B9")
    monkeypatch.setattr(workbook, "_scan_sheet", lambda *a: pytest.fail("calamine's search ran"))

    assert "cells outside the area it declares" in refusal(data)


def test_a_row_beyond_the_limit_is_refused_by_the_native_reader(monkeypatch):
    data = _minimal(row(1, '<c r="A1"><v>1</v></c>') + row(300_000, ""), None)
    monkeypatch.setattr(workbook, "_scan_sheet", lambda *a: pytest.fail("calamine's search ran"))

    assert "beyond 200,000 data rows" in refusal(data)


def test_without_the_native_reader_calamine_reads_every_workbook(monkeypatch):
    monkeypatch.setattr(native, "native_reader", lambda: None)
    assert isinstance(workbook.read_sheet(VALID), workbook.Sheet)


def test_the_native_reader_is_installed():
    # `make install` builds it (native/sheetcells); without it every workbook would be
    # read by calamine, several times slower, and this suite would not notice.
    assert native.native_reader() is sheetcells
    assert isinstance(workbook.read_sheet(VALID), workbook.SheetCells)


# Any text and any number, through xlsxwriter ---------------------------------------------------

TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\r\x00\ufffe\uffff", min_codepoint=1
    ),
    max_size=12,
)
CELL = st.one_of(
    TEXT,
    st.integers(min_value=-(10**17), max_value=10**17),
    # (A float within a rounding of the largest double is written as a number beyond it:
    # calamine reads "inf", the native reader declines — see DECLINED.)
    st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)),
    st.none(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(CELL, min_size=1, max_size=6), min_size=1, max_size=8),
    inline=st.booleans(),
)
def test_any_cells_xlsxwriter_writes_are_read_as_calamine_reads_them(rows, inline):
    out = io.BytesIO()
    options = {"in_memory": True, "constant_memory": inline}
    wb = xlsxwriter.Workbook(out, options)
    dated = wb.add_format({"num_format": "mm/dd/yyyy"})
    sheet = wb.add_worksheet()
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, date):
                midnight = datetime(value.year, value.month, value.day)  # noqa: DTZ001 - a cell's
                sheet.write_datetime(r, c, midnight, dated)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            else:
                sheet.write(r, c, value)
    wb.close()
    data = out.getvalue()

    reference = workbook.read_first_sheet(data)
    sheet_read = workbook.read_sheet(data)
    if isinstance(sheet_read, workbook.Sheet):
        # Declined: only for what the native reader leaves to calamine.
        texts = [v for r in rows for v in r if isinstance(v, str)]
        huge = [v for r in rows for v in r if isinstance(v, float) and abs(v) >= 1e21]
        assert huge or any(
            t != t.strip(" \t\n") or "_x" in t or any(ord(ch) < 32 and ch not in "\t\n" for ch in t)
            for t in texts
        ), f"declined a plain workbook: {rows!r}"
        return
    native = reading._grid_from_cells(sheet_read, "participants")
    expected = reading._grid_from_rows(reference, "participants")
    assert native.header == expected.header
    assert native.frame.fill_null("").equals(expected.frame)
    texts = pl.Series([v for r in rows for v in r if isinstance(v, str)], dtype=pl.String)
    if (texts.str.strip_chars() != texts).any():  # some text needs stripping, as polars strips
        assert not native.stripped


def test_fuzzed_files_the_hub_writes_are_read_natively(monkeypatch):
    p_fuzz, _ = fuzz_files(800, seed=9)
    found = engine.check_submission(p_fuzz, period=PERIOD)
    data = spreadsheets.annotated_workbook(
        "p.csv", p_fuzz, found.participants.findings, kind="participants"
    )
    if declined(data):  # spaces around a value (F-fuzz puts them there): calamine reads it
        natively, reference = findings_both_ways(monkeypatch, data)
        assert_same(natively, reference)
        return
    assert_same_grid(data)


def test_polars_reads_the_native_csv_with_quotes_commas_and_line_breaks():
    text, numeric, first_row, rows, width, spaced = sheetcells.read(
        f'<worksheet xmlns="{MAIN}"><sheetData>'
        '<row r="2"><c r="B2" t="inlineStr"><is><t>a,"b"\nc</t></is></c></row>'
        '<row r="3"><c r="A3"><v>1</v></c></row></sheetData></worksheet>'.encode(),
        None,
        b"\x00",
        100,
        10,
    )
    assert (first_row, rows, width, spaced) == (0, 3, 2, False)  # from row 1, as calamine
    assert numeric == b"\x00\x00" + b"\x00\x00" + b"\x01\x00"
    frame = pl.read_csv(text, has_header=False, infer_schema=False)
    assert frame.rows() == [(None, None), (None, 'a,"b"\nc'), ("1", None)]


def test_a_damaged_sheet_never_crashes_the_native_reader():
    # The reader walks hostile bytes with pointers: every prefix of a sheet, and the sheet
    # with each byte replaced by markup characters, is read or declined — never a crash.
    sheet_data, shared = READ["shared strings, rich runs, spaces kept, entities"]
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>'.encode()
    sst = f'<sst xmlns="{MAIN}">{shared}</sst>'.encode()
    for cut in range(len(sheet)):
        answer = sheetcells.read(sheet[:cut], sst[: len(sst) * cut // len(sheet)], b"\x00", 9, 9)
        assert isinstance(answer, str | tuple)
    for at in range(len(sheet)):
        for byte in b'<>"&/;=\x00\xff':
            damaged = sheet[:at] + bytes([byte]) + sheet[at + 1 :]
            assert isinstance(sheetcells.read(damaged, sst, b"\x00", 9, 9), str | tuple)


# The rows cut in two, read on two threads --------------------------------------------------


def read_both_ways(sheet_data: str, shared: str | None = None):
    """sheetcells.read on one thread, and on two with the rows cut however small."""
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>'.encode()
    sst = f'<sst xmlns="{MAIN}">{shared}</sst>'.encode() if shared is not None else None
    one = sheetcells.read(sheet, sst, b"\x00", 200_001, 100)
    two = sheetcells.read(sheet, sst, b"\x00", 200_001, 100, 2, 0)
    return one, two


def test_two_threads_read_what_one_reads():
    shared = "".join(f"<si><t>s{i}</t></si>" for i in range(50))
    rows = "".join(
        row(r, f'<c r="A{r}" t="s"><v>{r % 50}</v></c>', f'<c r="C{r}"><v>{r}.5</v></c>')
        for r in range(1, 400)
    )
    one, two = read_both_ways(rows, shared)
    assert isinstance(one, tuple)
    assert one == two
    assert one[3] == 399


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # a problem in the first half is reported before one in the second
        ('<c r="A{r}" t="e"><v>#N/A</v></c>', '<c r="ZZ{r}"><v>1</v></c>', "error"),
        # cells outside the area in the second half
        ('<c r="A{r}"><v>1</v></c>', '<c r="ZZ{r}"><v>1</v></c>', "outside"),
        # a decline only in the second half
        ('<c r="A{r}"><v>1</v></c>', '<c r="A{r}" t="e"><v>#N/A</v></c>', "error"),
        # a shared string index beyond the shared strings, read before them
        ('<c r="A{r}"><v>1</v></c>', '<c r="A{r}" t="s"><v>99</v></c>', "beyond"),
    ],
)
def test_two_threads_report_the_first_problem_in_the_sheets_order(first, second, expected):
    rows = "".join(row(r, first.format(r=r)) for r in range(1, 200))
    rows += "".join(row(r, second.format(r=r)) for r in range(200, 400))
    one, two = read_both_ways(rows, "<si><t>x</t></si>")
    assert isinstance(one, str)
    assert expected in one
    assert two == one


def test_rows_out_of_order_across_the_cut_are_declined_on_two_threads():
    rows = "".join(row(r, f'<c r="A{r}"><v>1</v></c>') for r in range(200, 400))
    rows += "".join(row(r, f'<c r="A{r}"><v>1</v></c>') for r in range(1, 200))
    one, two = read_both_ways(rows)
    assert one == two == "the rows are out of order"
