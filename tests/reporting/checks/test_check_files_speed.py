"""What the speed work of issue 11 changed in reading, kept honest: ``check_files`` starts
without modules it does not use, and a workbook's first sheet is searched on a second
thread while the next piece of it is unpacked, refusing exactly what it refused before."""

import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from xlsxwriter.utility import xl_col_to_name

from reporting.checks import workbook
from tests.reporting.checks.test_workbook import VALID, _minimal, refusal

ROOT = Path(__file__).resolve().parents[3]


def test_check_files_starts_without_xlsxwriter_or_django():
    # manage.py sends check_files to reporting.checks.cli before Django loads; what that
    # imports is the command's start-up (xlsxwriter alone was 15 ms of it).
    script = (
        "import sys; from reporting.checks import cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'xlsxwriter', 'django'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert loaded.stdout.strip() == "[]"


def test_column_letters_are_the_ones_excel_shows():
    assert [workbook.column_letters(i) for i in (0, 25, 26, 27, 701, 702, 16383)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
        "XFD",
    ]
    assert all(workbook.column_letters(i) == xl_col_to_name(i) for i in range(20_000))


def _rows(count: int, first: str = "") -> str:
    rows = (f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(2, count))
    return first + "".join(rows)


def _with_wrong_crc(data: bytes) -> bytes:
    """The workbook with the CRC its central directory declares for the sheet changed:
    unpacking the sheet to its end finds it damaged."""
    data = bytearray(data)
    name = b"xl/worksheets/sheet1.xml"
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack("<H", data[at + 28 : at + 30])[0]
        if data[at + 46 : at + 46 + length] == name:
            crc = struct.unpack("<I", data[at + 16 : at + 20])[0]
            data[at + 16 : at + 20] = struct.pack("<I", crc ^ 1)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


@pytest.fixture
def small_pieces(monkeypatch):
    """Unpack 256 bytes at a time, so that a small sheet comes in many pieces."""
    monkeypatch.setattr(workbook, "CHUNK", 256)


def test_the_sheet_is_searched_on_another_thread_while_it_is_unpacked(monkeypatch, small_pieces):
    searched_on: list[str] = []
    search = workbook._search

    def recording(piece, *patterns):
        searched_on.append(threading.current_thread().name)
        return search(piece, *patterns)

    monkeypatch.setattr(workbook, "_search", recording)
    workbook.inspect(_minimal(_rows(300, '<row r="1"><c r="A1"><v>1</v></c></row>'), "A1:A300"))

    assert len(searched_on) > 10
    assert threading.main_thread().name not in searched_on


def test_cells_outside_in_an_early_piece_are_refused_before_damage_found_later(small_pieces):
    # As when the pieces were searched one after the other: the first problem in the
    # sheet is the one reported.
    outside = '<row r="1"><c r="A1"><v>1</v></c><c r="ZZ1"><v>1</v></c></row>'
    damaged = _with_wrong_crc(_minimal(_rows(300, outside), "A1:B300"))
    only_damaged = _with_wrong_crc(_minimal(_rows(300, '<row r="1"></row>'), "A1:B300"))

    assert "cells outside the area it declares" in refusal(damaged)
    assert "the workbook part xl/worksheets/sheet1.xml is damaged" in refusal(only_damaged)


def test_cells_outside_in_the_last_piece_are_still_refused(small_pieces):
    last = '<row r="400"><c r="A400"><v>1</v></c><c r="C400"><v>1</v></c></row>'
    data = _minimal(_rows(300, '<row r="1"><c r="A1"><v>1</v></c></row>') + last, "A1:B400")

    assert "cells outside the area it declares" in refusal(data)
    workbook.inspect(VALID)  # and a plain workbook still passes


def test_a_sheet_of_text_alone_reads_as_the_cell_by_cell_way():
    # The hub's own workbook holds text alone: its cells go to polars as one series, cut
    # into columns; the grid must be the one the cell-by-cell reading gave.
    from reporting.checks import reading
    from tests.reporting.checks.test_xlsx_same_findings import cell_by_cell

    rows = [
        ["P1", "", " padded ", "ünïcode ✓", "0123"],
        ["", "", "", "", ""],
        ["P2", "***-**-0001", "line\nbreak", "=1+1", "TRUE"],
    ]
    names = [f"c{i}" for i in range(5)]

    assert reading._text_frame(rows, names).equals(cell_by_cell(rows, names))
