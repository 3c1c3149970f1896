"""Files saved by spreadsheet programs (issue 11, item 4), and SSNs masked by the hub's
own marked-up workbook coming back (item 5), as the engine sees them."""

import pytest

from reporting.checks import engine, workbook
from tests.reporting.checks.cases import LEADING_ZEROS, PARTICIPANT_HEADER, Files, person
from tests.reporting.checks.test_workbook import PERIOD, check, workbook_bytes


def ssn_and_zip(result) -> list[tuple[str, str | None, str | None]]:
    kept = result.participants.kept
    return list(kept.select("participant_id", "ssn", "zip_code").iter_rows())


def numbers_typed(*changes: dict) -> bytes:
    rows = [person(i, **change) for i, change in enumerate(changes, start=1)]
    return workbook_bytes(
        [PARTICIPANT_HEADER, *([row[n] for n in PARTICIPANT_HEADER] for row in rows)]
    )


def test_a_workbook_saved_by_libreoffice_keeps_the_leading_zeros_of_ssns_and_zips(
    saved_by_libreoffice,
):
    result = check(saved_by_libreoffice["leading_zeros"])

    assert result.findings == []
    assert ssn_and_zip(result) == [
        ("P001", "012345678", "02134"),
        ("P002", "001234567", "00501"),
        ("P003", "023456789", "02134-1234"),
        ("P004", "123456004", "94110"),
    ]


def test_the_libreoffice_workbook_really_holds_numbers_where_the_zeros_were(
    saved_by_libreoffice,
):
    # The test above is only worth something if the program typed the cells as numbers.
    rows = workbook.read_first_sheet(saved_by_libreoffice["leading_zeros"]).rows
    ssn, zip_code = PARTICIPANT_HEADER.index("ssn"), PARTICIPANT_HEADER.index("zip_code")
    assert [(row[ssn], row[zip_code]) for row in rows[1:4]] == [
        (12345678, 2134),
        (1234567, 501),
        (23456789, 21341234),
    ]
    assert LEADING_ZEROS[3]["ssn"] == rows[4][ssn]  # with dashes, it stayed text


def test_numeric_cells_are_read_back_as_the_digits_typed_floats_and_exponents_too():
    result = check(
        numbers_typed(
            {"ssn": 12345678.0, "zip_code": 2134.0},
            {"ssn": 1.2345679e7, "zip_code": 5.01e2},
            {"ssn": 123456789, "zip_code": 21341234.0},
        )
    )

    assert result.findings == []
    assert ssn_and_zip(result) == [
        ("P001", "012345678", "02134"),
        ("P002", "012345679", "00501"),
        ("P003", "123456789", "02134-1234"),
    ]


def test_numbers_that_cannot_be_a_zip_or_an_ssn_are_still_findings():
    result = check(
        numbers_typed(
            {"zip_code": 21},  # two digits: no ZIP is that low (00501 is the first)
            {"zip_code": 213456},  # six: neither 5 digits nor ZIP+4
            {"zip_code": 2134.5, "ssn": 123456},
        )
    )

    assert sorted((f.row, f.column, f.value) for f in result.findings) == [
        (2, "zip_code", "21"),
        (3, "zip_code", "213456"),
        (4, "ssn", "(masked)"),
        (4, "zip_code", "2134.5"),
    ]


def test_a_csv_whose_zeros_are_gone_says_so_and_suggests_the_zip_it_meant():
    result = Files([person(1, zip_code="2134"), person(2, zip_code="21341234")]).check()

    assert [(f.code, f.row, f.value, f.message) for f in result.findings] == [
        (
            "V10",
            2,
            "2134",
            'zip_code "2134" is not a ZIP code: a spreadsheet program may have dropped a '
            "leading zero — did you mean 02134? Type it with its zeros and format the "
            "column as Text, so that the program keeps them",
        ),
        (
            "V10",
            3,
            "21341234",
            'zip_code "21341234" is not a ZIP code: a spreadsheet program may have dropped '
            "a leading zero — did you mean 02134-1234? Type it with its zeros and format "
            "the column as Text, so that the program keeps them",
        ),
    ]


def test_a_csv_ssn_of_eight_digits_is_named_as_a_dropped_zero_without_showing_it():
    result = Files([person(1, ssn="12345678")]).check()

    [finding] = result.findings
    assert (finding.code, finding.value) == ("V11", "***-**-5678")
    assert finding.message == (
        "ssn ***-**-5678 has only 8 digits: a spreadsheet program may have dropped the "
        "leading zero of an SSN that starts with 0 — type its 9 digits with the leading "
        "zero and format the column as Text, so that the program keeps it"
    )


# Masked SSNs --------------------------------------------------------------------------


def checked(rows, stored):
    return engine.check_submission(
        ("p.xlsx", numbers_typed(*rows)), period=PERIOD, stored_ssns=stored
    )


def test_a_masked_ssn_stands_for_the_stored_one_when_its_last_four_match():
    result = checked([{"ssn": "***-**-6001"}, {}], {"P001": "6001", "P002": "9999"})

    assert result.findings == []
    assert result.participants.ssn_carried == ["P001"]
    assert ssn_and_zip(result)[0] == ("P001", None, "94110")


@pytest.mark.parametrize(
    "stored",
    [{}, {"P001": "1234"}, {"P002": "6001"}],
    ids=["nothing stored", "other last four", "another participant's"],
)
def test_a_masked_ssn_that_matches_nothing_stored_says_the_full_ssn_is_needed(stored):
    result = checked([{"ssn": "***-**-6001"}], stored)

    [finding] = result.findings
    assert (finding.code, finding.row, finding.column, finding.value) == (
        "V11",
        2,
        "ssn",
        "***-**-6001",
    )
    assert finding.message == (
        "ssn ***-**-6001 is the masked SSN from the hub's marked-up workbook: it can only "
        "be kept for a participant the hub already has with an SSN ending 6001 — type the "
        "full SSN"
    )
    assert result.participants.ssn_carried == []


def test_the_stored_ssns_are_asked_for_only_when_the_file_has_a_masked_one():
    asked = []

    def stored():
        asked.append(True)
        return {"P001": "6001"}

    checked([{}], stored)
    assert asked == []
    checked([{"ssn": "***-**-6001"}], stored)
    assert asked == [True]
