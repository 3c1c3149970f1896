"""Stage 1 on CSV files: headers, rows, encodings, limits (DATA-CONTRACT.md §2, §7)."""

import csv
import io

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grantees.calendar import Quarter
from reporting import contract
from reporting.checks import Source, engine, reading
from tests.reporting.checks.cases import PARTICIPANT_HEADER, csv_bytes, job, person

PERIOD = Quarter.parse("2025Q3")


def check(participants: bytes, placements: bytes | None = None, name: str = "p.csv"):
    return engine.check_submission(
        (name, participants),
        ("l.csv", placements) if placements is not None else None,
        period=PERIOD,
    )


def codes(result) -> list[tuple[str, int | None, str | None]]:
    return [(f.code, f.row, f.column) for f in result.findings]


def only_f01(result) -> str:
    assert [f.code for f in result.findings] == ["F01"]
    f01 = result.participants.findings[0]
    assert (f01.row, f01.column, f01.value) == (None, None, None)
    assert not result.participants.readable
    return f01.message


def test_a_utf8_bom_is_not_part_of_the_first_header():
    result = check(b"\xef\xbb\xbf" + csv_bytes([person(1)]))

    assert codes(result) == []
    assert result.participants.kept.height == 1


def test_headers_may_be_pirl_numbers_in_any_case_spacing_and_order():
    row = person(1)
    renamed = {
        "participant_id": "100",
        "entry_date": "PIRL900",
        "sex": "PIRL 201",
        "state_code": "pirl-101",
        "date_of_birth": " Date-Of-Birth ",
        "hispanic_latino": "HISPANIC LATINO",
    }
    header = list(reversed([renamed.get(name, name) for name in PARTICIPANT_HEADER]))
    data = csv_bytes([{renamed.get(k, k): v for k, v in row.items()}], header)

    result = check(data)

    assert codes(result) == []
    kept = result.participants.kept
    assert kept.row(0, named=True)["entry_date"].isoformat() == "2024-01-15"
    assert kept["participant_id"].to_list() == ["P001"]


def test_other_pirl_elements_are_ignored_without_a_finding():
    extra = ["PIRL 1000", "PIRL108-A", "1332", "pirl_3000"]
    result = check(
        csv_bytes([person(1) | dict.fromkeys(extra, "x")], [*PARTICIPANT_HEADER, *extra])
    )

    assert codes(result) == []


def test_an_unknown_column_is_a_warning_on_the_header_row_and_is_ignored():
    result = check(csv_bytes([person(1) | {"Notes ": "x"}], [*PARTICIPANT_HEADER, "Notes "]))

    assert codes(result) == [("F03", 1, "Notes")]
    assert "not a column of the participants file" in result.findings[0].message
    assert result.participants.kept.height == 1


def test_a_second_column_naming_a_field_is_a_warning_and_the_first_one_is_read():
    header = [*PARTICIPANT_HEADER, "PIRL 900"]
    result = check(csv_bytes([person(1) | {"PIRL 900": "not a date"}], header))

    assert codes(result) == [("F03", 1, "PIRL 900")]
    assert "names entry_date, which column" in result.findings[0].message
    assert str(result.participants.kept["entry_date"][0]) == "2024-01-15"


def test_a_column_without_a_header_is_a_warning_only_when_it_has_values():
    quiet = check(csv_bytes([person(1) | {"": ""}], [*PARTICIPANT_HEADER, ""]))
    noisy = check(csv_bytes([person(1) | {"": "x"}], [*PARTICIPANT_HEADER, ""]))

    assert codes(quiet) == []
    assert codes(noisy) == [("F03", 1, None)]
    assert "has values but no header" in noisy.findings[0].message


def test_each_missing_required_column_is_its_own_finding_and_the_file_stops():
    header = [c for c in PARTICIPANT_HEADER if c not in {"sex", "entry_date", "ssn"}]
    result = check(csv_bytes([person(1, state_code="XX")], header))

    assert codes(result) == [("F02", 1, "sex"), ("F02", 1, "entry_date")]
    assert "add a column headed entry_date (or 900)" in result.findings[1].message
    assert not result.participants.readable
    assert result.participants.kept.height == 0
    assert result.participants.data_rows == 1


def test_a_header_without_data_rows_is_f05():
    for data in (
        csv_bytes([], PARTICIPANT_HEADER),
        csv_bytes([], PARTICIPANT_HEADER) + b",,\r\n\r\n",
    ):
        result = check(data)
        assert codes(result) == [("F05", None, None)]
        assert not result.participants.readable


def test_fully_blank_rows_are_skipped_and_keep_their_row_numbers():
    body = csv_bytes([person(1)])
    blank = b"," * (len(PARTICIPANT_HEADER) - 1) + b"\r\n"
    data = (
        body
        + b"\r\n"
        + blank
        + b'"", ,\t\r\n'
        + csv_bytes([person(2, sex="3")]).split(b"\r\n", 1)[1]
    )

    result = check(data)

    assert codes(result) == [("V03", 6, "sex")]
    assert result.participants.data_rows == 2


def test_a_quoted_line_break_does_not_start_a_new_row():
    placements = csv_bytes([job(1, job_title="Line\nworker"), job(1, start_date="x")])

    result = check(csv_bytes([person(1)]), placements)

    assert codes(result) == [("V02", 3, "start_date")]
    assert result.placements.kept.get_column("job_title").to_list() == ["Line\nworker"]


def test_a_ragged_row_is_f04_and_the_rest_of_the_file_is_checked():
    good = csv_bytes([person(1), person(2, sex="3")]).decode().splitlines()
    short = "P003,only,three"
    data = "\r\n".join([good[0], good[1], short, good[2]]).encode()

    result = check(data, csv_bytes([job(3)]))

    assert codes(result) == [("F04", 3, None), ("V03", 4, "sex")]
    # The participant is in the file, so the placement is not L13.
    assert result.placements.findings == []
    assert result.placements.kept.height == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("participant_id,sex\r\nP1,café".encode("latin-1"), "not UTF-8 text"),
        (b"\xff\xfep\x00i\x00d\x00", "UTF-16"),
        (b"", "empty"),
        (b"   \r\n", "empty"),
        (b"participant_id;sex;entry_date\r\nP1;1;20240101", "separated by semicolons"),
        (b"participant_id\tsex\r\nP1\t1", "separated by tabs"),
    ],
)
def test_a_file_that_is_not_csv_text_is_f01_with_how_to_save_it(data, expected):
    message = only_f01(check(data))

    assert expected in message


def test_binary_garbage_named_csv_is_refused_before_any_parsing(monkeypatch):
    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(pl, "read_csv", no_parsing)
    monkeypatch.setattr(csv, "reader", no_parsing)
    message = only_f01(check(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 100))

    assert "not a CSV text file" in message


def test_a_file_over_50_mb_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.truncate(contract.MAX_FILE_BYTES + 1)

    def no_reading(self):
        raise AssertionError("read")

    monkeypatch.setattr(Source, "read", no_reading)
    message = only_f01(engine.check_submission(path, period=PERIOD))

    assert message.startswith("the file is 50.0 MB; files up to 50.0 MB are accepted")


def test_bytes_over_50_mb_are_refused_by_their_length():
    message = only_f01(check(b"x" * (contract.MAX_FILE_BYTES + 1)))

    assert "files up to 50.0 MB" in message


def test_more_than_200000_data_rows_is_f01_with_the_count_and_the_limit():
    header = ",".join(PARTICIPANT_HEADER).encode() + b"\n"
    message = only_f01(check(header + b"P1\n" * 200_001))

    assert message.startswith(
        "the file has 200,001 data rows; at most 200,000 data rows per file are accepted — "
    )


def test_200000_data_rows_are_read():
    header = b"participant_id\n"
    result = check(header + b"\n".join(b"P%d" % i for i in range(200_000)))

    assert "F01" not in {f.code for f in result.findings}
    assert result.participants.data_rows == 200_000


def test_cells_are_stripped_and_a_cell_of_spaces_is_blank():
    result = check(csv_bytes([person(1, state_code=" ca ", sex="  ")]))

    assert codes(result) == [("V01", 2, "sex")]
    assert result.findings[0].message == (
        "sex is blank: it is required — enter 1 (male), 2 (female) or 9 (did not self-identify)"
    )


def test_line_endings_do_not_change_anything():
    crlf = csv_bytes([person(1, sex="3"), person(2)])
    for data in (crlf, crlf.replace(b"\r\n", b"\n"), crlf.replace(b"\r\n", b"\r")):
        assert codes(check(data)) == [("V03", 2, "sex")]


def test_a_quote_mark_inside_an_unquoted_value_is_read_as_it_is():
    placements = csv_bytes([job(1)]) + b'P001,Acme,20240701,5" drill operator,,,20.00,40,1,\r\n'

    result = check(csv_bytes([person(1)]), placements)

    assert (
        codes(result) == [("D03", 2, "employer_name"), ("D03", 3, "employer_name")]
        or codes(result) == []
    )
    assert '5" drill operator' in result.placements.kept["job_title"].to_list()


def test_an_xlsx_named_csv_is_read_as_a_workbook_and_a_csv_named_xlsx_is_refused():
    from tests.reporting.checks.test_workbook import workbook_bytes

    as_csv = check(workbook_bytes([PARTICIPANT_HEADER, list(person(1).values())]), name="p.csv")
    assert codes(as_csv) == []

    message = only_f01(check(csv_bytes([person(1)]), name="p.xlsx"))
    assert "named p.xlsx but is not an Excel workbook" in message


# The fast reader and the exact one agree on every RFC 4180 file ------------------------

cell = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t1é')), max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda width: st.lists(
            st.lists(cell, min_size=width, max_size=width), min_size=1, max_size=6
        )
    ),
    st.sampled_from(["\r\n", "\n"]),
)
def test_the_fast_csv_reader_reads_what_pythons_csv_module_reads(rows, newline):
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    text = out.getvalue()

    fast = reading._csv_grid_fast(text.encode())
    exact = reading._csv_grid_exact(text)

    if fast is None:
        return  # the exact reader is used
    assert fast.header == exact.header
    columns = [f"c{i}" for i in range(len(exact.header))]
    # Whether a blank record "fits" does not matter: blank rows are skipped before F04.
    used = [pl.col("row"), pl.col("blank"), pl.col("fits") | pl.col("blank")]
    assert fast.frame.select(used).equals(exact.frame.select(used))
    stripped = [pl.col(c).str.strip_chars().fill_null("") for c in columns]
    fitting = pl.col("fits") & ~pl.col("blank")
    assert (
        fast.frame.filter(fitting)
        .select(stripped)
        .equals(exact.frame.filter(fitting).select(stripped))
    )


def test_an_unterminated_quote_falls_back_to_the_exact_reader():
    text = 'a,b\r\n1,"open\r\n2,3\r\n'

    assert reading._csv_grid_fast(text.encode()) is None
    assert reading._csv_grid_exact(text).frame.height == 1


@pytest.mark.parametrize("form", ["str", "path", "tuple", "bytes", "source", "source_path"])
def test_a_file_may_be_given_as_a_path_bytes_a_tuple_or_a_source(tmp_path, form):
    data = csv_bytes([person(1, sex="3")])
    path = tmp_path / "participants.csv"
    path.write_bytes(data)
    given_as = {
        "str": str(path),
        "path": path,
        "tuple": ("participants.csv", data),
        "bytes": data,
        "source": Source("participants.csv", data=data),
        "source_path": Source("participants.csv", path=path),
    }[form]

    result = engine.check_submission(given_as, period=PERIOD)

    assert codes(result) == [("V03", 2, "sex")]
