"""The native CSV reader (native/sheetcells/csvcolumns.c) against Python's csv module.

It cuts a CSV file's records as the csv module does and hands polars the columns in
polars' own layout; it declines anything outside plain RFC 4180, and the polars reader
(and behind it the csv module) then reads the file as before. Every comparison is
tests/sheet_readers.py's: the same header, the same records with their numbers and
widths, the same cells, and no cell that needs stripping when it says none does.
"""

import csv
import io
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grantees.calendar import Quarter
from reporting import contract
from reporting.checks import engine, native, reading
from tests.reporting.checks.cases import csv_bytes, job, person
from tests.sheet_readers import assert_native_reads_as_csv_module

ROOT = Path(__file__).resolve().parents[3]
PERIOD = Quarter.parse("2025Q3")


def written(rows: list[list[str]], newline: str = "\r\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue().encode()


def read(text: bytes) -> reading._Grid:
    grid = assert_native_reads_as_csv_module(text)
    assert grid is not None, f"the native reader declined: {native.read_csv(text)!r}"
    return grid


def cells(grid: reading._Grid) -> list[list[str | None]]:
    names = [f"c{i}" for i in range(len(grid.header))]
    return [list(row) for row in grid.frame.select(names).iter_rows()]


# What it reads -------------------------------------------------------------------------


def test_a_plain_file_is_read_into_text_columns_with_row_numbers():
    grid = read(b"participant_id,state_code,sex\r\nP1,CA,1\r\nP2,,2\r\n")

    assert grid.header == ["participant_id", "state_code", "sex"]
    assert cells(grid) == [["P1", "CA", "1"], ["P2", None, "2"]]
    assert grid.frame.get_column("row").to_list() == [2, 3]
    assert grid.frame.get_column("fits").to_list() == [True, True]
    assert grid.frame.schema["c0"] == pl.String
    assert grid.data_rows == 2
    assert grid.stripped  # no cell needs stripping: blank cells are already null


def test_quoted_cells_keep_their_commas_quote_marks_and_line_breaks():
    text = b'a,b\n"x, y","say ""hi"" and ""bye"", please"\n"two\nlines",3\n'

    grid = read(text)

    assert cells(grid) == [["x, y", 'say "hi" and "bye", please'], ["two\nlines", "3"]]
    assert grid.frame.get_column("row").to_list() == [2, 3]


def test_a_quote_mark_in_an_unquoted_field_and_text_after_a_closing_quote_are_text():
    # As the csv module reads them (a drill bit of 5", a cell typed "five"x).
    grid = read(b'a,b\n5" drill,"five"x\n"say ""hi"" now" x,"" "\n')

    assert cells(grid) == [['5" drill', "fivex"], ['say "hi" now x', ' "']]
    assert not grid.stripped  # the last cell begins with a space


def test_cells_longer_than_a_view_holds_are_kept_whole():
    long = "an employer name well over twelve bytes, é included"
    grid = read(written([["a", "b"], [long, "short"], ["x" * 13, "y" * 12]]))

    assert cells(grid) == [[long, "short"], ["x" * 13, "y" * 12]]


def test_blank_records_are_not_data_rows_and_the_rest_keep_their_numbers():
    grid = read(b"a,b\n1,2\n\n , \n,\n3,4\n")

    assert grid.frame.get_column("row").to_list() == [2, 6]
    assert grid.data_rows == 2


def test_short_and_long_records_do_not_fit_and_keep_their_first_cells():
    grid = read(b"a,b,c\n1,2\n1,2,3,4\n1,2,3\n")

    assert grid.frame.get_column("fits").to_list() == [False, False, True]
    assert cells(grid) == [["1", "2", None], ["1", "2", "3"], ["1", "2", "3"]]


@pytest.mark.parametrize(
    "cell", [" CA", "CA ", "\tCA", "CA\u00a0", "\u3000CA", '""', '" CA"', '"two\n"']
)
def test_a_cell_that_needs_stripping_or_is_a_quoted_empty_string_says_so(cell):
    grid = read(f"a,b\n{cell},1\n".encode())

    assert not grid.stripped


def test_more_data_rows_than_accepted_are_counted_and_not_kept(monkeypatch):
    monkeypatch.setattr(contract, "MAX_DATA_ROWS", 3)

    grid = read(b"a\n1\n2\n\n3\n4\n")

    assert grid.data_rows == 4
    assert grid.frame.height == 0


def test_a_header_of_a_thousand_fields_is_read_and_wider_ones_are_declined():
    grid = read(written([[f"h{i}" for i in range(1000)], ["x"] * 1000]))
    assert len(grid.header) == 1000
    assert grid.frame.get_column("c999").to_list() == ["x"]

    wider = written([[f"h{i}" for i in range(1001)], ["x"] * 1001])
    assert native.read_csv(wider) == "a header of more than 1,000 fields"


# What it declines ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (b'a,b\n"open,1\n', "a quoted field is not closed"),
        (b"a,b\n1,2\r3,4\n", "a carriage return that does not end a line"),
        (b'a,b\n"1\r\n2",3\n', "a carriage return in a quoted field"),
        (b"a,b\n1\x1c,2\n", "a separator control character"),
        (b'a,b\n"1\x1f",2\n', "a separator control character"),
        (b" , \n1,2\n", "a blank header"),
        (b"\na,b\n1,2\n", "a blank header"),
        (b"", "an empty file"),
    ],
)
def test_what_is_not_plain_rfc_4180_is_declined(text, why):
    assert native.read_csv(text) == why
    assert reading._csv_grid_native(native.read_csv(text)) is None


# Against the csv module, at random ----------------------------------------------------

_CHARACTERS = [*'ab ,"\n\r\t1é\u00a0\u3000', "a long cell of more than twelve bytes"]
cell = st.lists(st.sampled_from(_CHARACTERS), max_size=4).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=5).flatmap(
        lambda width: st.lists(
            st.lists(cell, min_size=1, max_size=width + 1), min_size=1, max_size=8
        )
    ),
    st.sampled_from(["\r\n", "\n"]),
)
def test_a_file_written_by_the_csv_module_is_read_as_the_csv_module_reads_it(rows, newline):
    text = written(rows, newline)

    grid = assert_native_reads_as_csv_module(text)

    header_blank = not "".join(rows[0]).strip()
    if "\r" not in "".join(map("".join, rows)) and not header_blank:
        assert grid is not None, native.read_csv(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=list('ab,"\r\n \t\x1cé'), max_size=40))
def test_any_text_is_read_as_the_csv_module_reads_it_or_declined(text):
    assert_native_reads_as_csv_module(text.encode())


def test_every_prefix_and_every_changed_byte_of_a_file_is_read_or_declined():
    # In the suite's normal build; the same loop ran clean under ASan and UBSan by hand.
    text = (
        b'participant_id,employer_name,city\r\nP1,"Acme, Inc.",Boston\r\n'
        b'P2,"say ""hi""","two\nlines"\r\n\r\nP3,An employer over twelve bytes,\r\n'
    )
    for end in range(len(text) + 1):
        assert_native_reads_as_csv_module(text[:end])
    for at in range(len(text)):
        for byte in b',"\r\n ':
            assert_native_reads_as_csv_module(text[:at] + bytes([byte]) + text[at + 1 :])


# In the checks --------------------------------------------------------------------------


def test_the_checks_find_the_same_with_and_without_the_native_reader(monkeypatch):
    participants = csv_bytes([person(1, sex="3"), person(2, ssn="123-45-678"), person(3)])
    placements = csv_bytes([job(1), job(2, hourly_wage="abc")])

    def findings():
        result = engine.check_submission(
            ("p.csv", participants), ("l.csv", placements), period=PERIOD
        )
        return [f.as_dict() for f in result.findings], result.participants.kept

    with_native, kept = findings()
    monkeypatch.setattr(native, "native_reader", lambda: None)
    without, kept_without = findings()

    assert with_native == without
    assert {f["code"] for f in with_native} >= {"V03", "V11", "V04"}
    assert kept.equals(kept_without)


def test_a_file_read_ahead_is_read_once_and_refused_as_before(tmp_path, monkeypatch):
    # Without the suite's comparison (tests/conftest.py), which reads every file again.
    monkeypatch.setattr(reading, "_csv_grid", reading._csv_grid.__wrapped__)
    calls = []
    read_csv = native.read_csv
    monkeypatch.setattr(native, "read_csv", lambda text: calls.append(1) or read_csv(text))
    good = tmp_path / "p.csv"
    good.write_bytes(native.BOM + csv_bytes([person(1, sex="3")]))
    data, read_ahead = native.read_file(good)
    source = reading.Source("p.csv", data=data, read_ahead=read_ahead)

    result = engine.check_submission(source, period=PERIOD)

    assert [(f.code, f.row) for f in result.findings] == [("V03", 2)]
    assert len(calls) == 1
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"participant_id\n\x00\x01")
    data, read_ahead = native.read_file(binary)
    refused = engine.check_submission(
        reading.Source("b.csv", data=data, read_ahead=read_ahead), period=PERIOD
    )
    assert [f.code for f in refused.findings] == ["F01"]


def test_a_file_over_the_limit_or_a_workbook_is_not_read_ahead(tmp_path, monkeypatch):
    from tests.reporting.checks.test_workbook import VALID

    big = tmp_path / "big.csv"
    big.write_bytes(b"participant_id\n" + b"P1\n" * 100)
    monkeypatch.setattr(contract, "MAX_FILE_BYTES", 100)
    assert native.read_file(big) == (None, None)

    book = tmp_path / "p.xlsx"
    book.write_bytes(VALID)
    monkeypatch.setattr(contract, "MAX_FILE_BYTES", 50 * 1024 * 1024)
    assert native.read_file(book) == (VALID, None)


def test_check_files_starts_reading_its_csv_before_polars_loads(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes([person(1, sex="3")]))
    script = f"""
import sys
from reporting.checks import cli, native
started, taken = [], []
class Watched(native.CsvRead):
    def __init__(self, data):
        started.append("polars" in sys.modules)
        super().__init__(data)
    def take(self, data):
        taken.append(True)
        return super().take(data)
native.CsvRead = Watched
status = cli.main(["--participants", {str(path)!r}, "--period", "2025Q3"])
print(status, started, taken, file=sys.stderr)
"""
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert run.stderr.splitlines()[-1] == "1 [False] [True]"
    assert '"code": "V03"' in run.stdout


def test_the_same_file_given_for_both_options_is_read_for_each(tmp_path):
    from reporting.checks import cli

    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes([person(1), person(2)]))
    options = {"participants": str(path), "placements": str(path), "period": "2025Q3"}

    _, result = cli.check(options)

    assert (result.participants.data_rows, result.placements.data_rows) == (2, 2)


def test_a_read_ahead_is_taken_once_and_a_second_reading_reads_the_file_again(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes([person(1, sex="3")]))
    data, read_ahead = native.read_file(path)
    source = reading.Source("p.csv", data=data, read_ahead=read_ahead)

    first = engine.check_submission(source, period=PERIOD)
    again = engine.check_submission(source, period=PERIOD)

    assert [f.as_dict() for f in again.findings] == [f.as_dict() for f in first.findings]
    assert [f.code for f in first.findings] == ["V03"]
