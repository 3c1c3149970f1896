"""Stage 1 on XLSX workbooks: what is read, and hostile files refused before calamine
parses them (DATA-CONTRACT.md §2)."""

import io
import struct
import zipfile
from datetime import date, datetime

import pytest
import xlsxwriter

from grantees.calendar import Quarter
from reporting.checks import engine, workbook
from tests.reporting.checks.cases import PARTICIPANT_HEADER, PLACEMENT_HEADER, job, person

PERIOD = Quarter.parse("2025Q3")


def workbook_bytes(rows: list[list[object]], *, sheets: int = 1) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    dated = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("Participants")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, (date, datetime)):
                sheet.write_datetime(r, c, value, dated)
            elif value is not None and value != "":
                sheet.write(r, c, value)
    for i in range(1, sheets):
        book.add_worksheet(f"Other {i}").write(0, 0, "ignored")
    book.close()
    return out.getvalue()


def check(participants: bytes, placements: bytes | None = None):
    return engine.check_submission(
        ("p.xlsx", participants),
        ("l.xlsx", placements) if placements is not None else None,
        period=PERIOD,
    )


def refusal(data: bytes) -> str:
    result = check(data)
    assert [f.code for f in result.findings] == ["F01"]
    return result.findings[0].message


def test_date_cells_numbers_and_text_are_read_as_the_grantee_sees_them():
    row = person(1) | {
        "participant_id": 12345.0,
        "date_of_birth": date(1990, 5, 15),
        "entry_date": datetime(2024, 1, 15, 0, 0),  # noqa: DTZ001 - Excel has no time zones
        "sex": 2.0,
        "disability": 0,
        "training_type": 6.0,
        "zip_code": "02134",
    }
    people = workbook_bytes([PARTICIPANT_HEADER, [row[name] for name in PARTICIPANT_HEADER]])
    jobs = job(1) | {"participant_id": 12345, "hourly_wage": 18.25, "hours_per_week": 37.5}
    placements = workbook_bytes([PLACEMENT_HEADER, [jobs[name] for name in PLACEMENT_HEADER]])

    result = check(people, placements)

    assert result.findings == []
    kept = result.participants.kept.row(0, named=True)
    assert (kept["participant_id"], kept["sex"], kept["training_type"]) == ("12345", "2", "06")
    assert (kept["entry_date"], kept["date_of_birth"]) == (date(2024, 1, 15), date(1990, 5, 15))
    assert kept["zip_code"] == "02134"
    placement = result.placements.kept.row(0, named=True)
    assert (placement["hourly_wage_cents"], placement["hours_per_week"]) == (1825, 37.5)


def test_only_the_first_worksheet_is_read_and_rows_are_numbered_as_excel_shows_them():
    rows = [PARTICIPANT_HEADER, list(person(1).values()), [], list(person(2, sex=3).values())]

    result = check(workbook_bytes(rows, sheets=3))

    assert [(f.code, f.row, f.column) for f in result.findings] == [("V03", 4, "sex")]
    assert result.participants.data_rows == 2


def test_a_number_in_a_date_column_and_a_fraction_in_a_code_column_are_findings():
    # (A ZIP typed as the number 2134 is 02134 with its zero dropped, and is read back as
    # such: see test_leading_zeros.py. Six digits are neither a ZIP nor a ZIP+4.)
    row = person(1) | {"entry_date": 45000, "sex": 1.5, "zip_code": 213456}
    result = check(workbook_bytes([PARTICIPANT_HEADER, [row[n] for n in PARTICIPANT_HEADER]]))

    assert {(f.code, f.column, f.value) for f in result.findings} == {
        ("V02", "entry_date", "45000"),
        ("V03", "sex", "1.5"),
        ("V10", "zip_code", "213456"),
    }


def test_cell_text_is_what_excel_shows():
    assert workbook.cell_text(1.0) == "1"
    assert workbook.cell_text(12345.0) == "12345"
    assert workbook.cell_text(19.800000000000001) == "19.8"
    assert workbook.cell_text(True) == "TRUE"
    assert workbook.cell_text(datetime(2024, 3, 1, 14, 30)) == "2024-03-01"  # noqa: DTZ001


# Hostile and unreadable files ----------------------------------------------------------


def _rezip(
    data: bytes,
    extra: dict[str, bytes] | None = None,
    drop: set[str] = frozenset(),
    replace: dict[str, bytes] | None = None,
) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename in drop:
                continue
            content = (replace or {}).get(info.filename, source.read(info.filename))
            target.writestr(info.filename, content)
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return out.getvalue()


VALID = workbook_bytes([PARTICIPANT_HEADER, list(person(1).values())])


def test_a_valid_workbook_passes_the_inspection():
    workbook.inspect(VALID)
    assert check(VALID).findings == []


def test_a_zip_bomb_is_refused_by_its_compression_ratio():
    bomb = _rezip(VALID, {"xl/media/image1.png": b"\0" * (8 * 1024 * 1024)})

    assert "compressed more than 200:1" in refusal(bomb)


def test_a_workbook_unpacking_to_more_than_300_mb_is_refused(monkeypatch):
    monkeypatch.setattr(workbook, "MAX_UNPACKED_BYTES", 10_000)

    assert "at most 0 MB is accepted" in refusal(VALID) or "unpacks to" in refusal(VALID)


def test_a_member_that_lies_about_its_size_is_refused():
    data = bytearray(VALID)
    name = b"xl/worksheets/sheet1.xml"
    # Halve the uncompressed size the central directory declares for the sheet.
    at = data.find(b"PK\x01\x02" + bytes(0), 0)
    while at != -1:
        length = struct.unpack("<H", data[at + 28 : at + 30])[0]
        if data[at + 46 : at + 46 + length] == name:
            size = struct.unpack("<I", data[at + 24 : at + 28])[0]
            data[at + 24 : at + 28] = struct.pack("<I", size // 2)
        at = data.find(b"PK\x01\x02", at + 4)

    assert "unpacks to more than the archive declares" in refusal(bytes(data))


@pytest.mark.parametrize(
    "prolog",
    [
        b'<!DOCTYPE worksheet [<!ENTITY lol "lol">]>',
        b'<!ENTITY lol SYSTEM "file:///etc/passwd">',
        b"<!doctype worksheet>",
    ],
)
def test_an_xml_part_with_a_doctype_or_entities_is_refused(prolog):
    with zipfile.ZipFile(io.BytesIO(VALID)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml")
    head, rest = sheet.split(b"?>", 1)
    hostile = _rezip(VALID, replace={"xl/worksheets/sheet1.xml": head + b"?>" + prolog + rest})

    assert "declares a DOCTYPE or entities" in refusal(hostile)


def test_a_macro_enabled_workbook_is_refused():
    with_vba = _rezip(VALID, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro"})
    with zipfile.ZipFile(io.BytesIO(VALID)) as source:
        types = source.read("[Content_Types].xml").replace(
            b"sheet.main+xml", b"sheet.macroEnabled.main+xml"
        )
    macro_type = _rezip(VALID, replace={"[Content_Types].xml": types})

    for data in (with_vba, macro_type):
        assert "macro-enabled workbook" in refusal(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (VALID[: len(VALID) // 2], "damaged workbook"),
        (b"PK\x03\x04" + b"\0" * 100, "damaged workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old-format Excel workbook (.xls)"),
        (_rezip(VALID, drop={"[Content_Types].xml"}), "not an Excel workbook"),
    ],
)
def test_an_unreadable_workbook_is_refused_with_what_to_do(data, expected):
    message = refusal(data)

    assert expected in message
    assert "CSV UTF-8" in message


def test_an_opendocument_spreadsheet_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as ods:
        ods.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        ods.writestr("content.xml", "<office:document-content/>")

    assert "OpenDocument spreadsheet" in refusal(out.getvalue())


def _minimal(sheet_data: str, dimension: str | None) -> bytes:
    with zipfile.ZipFile(io.BytesIO(VALID)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml").decode()
    start, end = sheet.index("<sheetData"), sheet.index("</sheetData>") + len("</sheetData>")
    sheet = sheet[:start] + f"<sheetData>{sheet_data}</sheetData>" + sheet[end:]
    before, _, after = sheet.partition("<dimension ")
    sheet = (
        before + (f'<dimension ref="{dimension}"/>' if dimension else "") + after.split("/>", 1)[1]
    )
    return _rezip(VALID, replace={"xl/worksheets/sheet1.xml": sheet.encode()})


def test_a_sheet_declaring_more_than_200001_rows_is_refused():
    data = _minimal('<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>', "A1:B300000")

    assert refusal(data).startswith("the first worksheet spans 300,000 rows (to B300000)")


@pytest.mark.parametrize(
    ("cells", "dimension"),
    [
        (
            '<row r="1"><c r="A1"><v>1</v></c></row><row r="9"><c r="ZZ9"><v>1</v></c></row>',
            "A1:B2",
        ),
        (
            '<row r="1"><c r="A1"><v>1</v></c></row>'
            '<row r="300000"><c r="A300000"><v>1</v></c></row>',
            None,
        ),
        ('<row r="1"><c r="A1"><v>1</v></c><c r="xfd1"><v>1</v></c></row>', "A1:B2"),
    ],
)
def test_cells_outside_the_declared_area_are_refused_before_calamine_allocates_them(
    cells, dimension
):
    assert "cells outside the area it declares" in refusal(_minimal(cells, dimension))


def test_cells_without_a_position_are_read_when_they_stay_small():
    header = "".join(f'<c t="inlineStr"><is><t>{name}</t></is></c>' for name in PARTICIPANT_HEADER)
    values = "".join(
        f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in person(1).values()
    )
    data = _minimal(f"<row>{header}</row><row>{values}</row>", "A1:AK2")

    assert check(data).findings == []


def test_too_many_cells_without_a_position_are_refused(monkeypatch):
    monkeypatch.setattr(workbook, "MAX_CELLS", 50)
    data = _minimal("<row>" + "<c><v>1</v></c>" * 60 + "</row>", "A1:A1")

    assert "cells without a position" in refusal(data)
