"""Stage 2: each cell on its own, with the precise readings of DATA-CONTRACT.md §7."""

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting import contract
from reporting.checks import values
from tests.reporting.checks.cases import Files, job, person


def findings(participant: dict | None = None, placement: dict | None = None):
    files = Files([participant or person(1)], [placement] if placement else None)
    return [(f.code, f.column, f.value) for f in files.check().findings]


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("entry_date", "20240115", None),
        ("entry_date", "2024-01-15", None),
        ("entry_date", "2024-1-15", "V02"),
        ("entry_date", "2024/01/15", "V02"),
        ("entry_date", "01/15/2024", "V02"),
        ("entry_date", "20240132", "V02"),
        ("date_of_birth", "19000101", None),
        ("date_of_birth", "18991231", "V02"),
        ("sex", "1", None),
        ("sex", "01", "V03"),
        ("sex", "1.0", "V03"),
        ("sex", "M", "V03"),
        ("race_asian", "", None),
        ("race_asian", "9", "V03"),
        ("training_type", "6", None),
        ("training_type", "07", "V03"),
        ("training_type", "7", "V03"),
        ("state_code", "ca", None),
        ("state_code", "Ca", None),
        ("state_code", "MP", None),
        ("state_code", "CAL", "V09"),
        ("zip_code", "02134", None),
        ("zip_code", "02134-0001", None),
        ("zip_code", "021340001", "V10"),
        ("zip_code", "2134", "V10"),
        ("training_onet", "47-2111.00", None),
        ("training_onet", "47211100", None),
        ("training_onet", "47-2111", "V07"),
        ("training_onet", "472111.00", "V07"),
        ("participant_id", "abc-DEF-0123", None),
        ("participant_id", "abc-DEF-01234", "V05"),
        ("participant_id", "P 1", "V05"),
        ("participant_id", "12345678", None),
        ("participant_id", "123456789", "V06"),
        ("participant_id", "123-45-6789", "V06"),
        ("ssn", "", None),
        ("ssn", "123456789", None),
        ("ssn", "1-2-3-4-5-6-7-8-9", None),
        ("ssn", "12345678", "V11"),
        ("ssn", "1234567890", "V11"),
        ("ssn", "000-12-3456", "V11"),
        ("ssn", "666-12-3456", "V11"),
        ("ssn", "900-12-3456", "V11"),
        ("ssn", "899-12-3456", None),
        ("ssn", "123-00-3456", "V11"),
        ("ssn", "123-45-0000", "V11"),
        ("ssn", "123 45 6789", "V11"),
    ],
)
def test_participant_cells(column, value, code):
    found = findings(person(1, **{column: value}))

    assert [c for c, col, _ in found if col == column and c[0] == "V"] == ([code] if code else [])


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("hourly_wage", "0.01", None),
        ("hourly_wage", "500", None),
        ("hourly_wage", "18.5", None),
        ("hourly_wage", "0", "V04"),
        ("hourly_wage", "0.00", "V04"),
        ("hourly_wage", "500.001", "V04"),
        ("hourly_wage", ".50", "V04"),
        ("hourly_wage", "18.", "V04"),
        ("hourly_wage", "$18.00", "V04"),
        ("hourly_wage", "1,000.00", "V04"),
        ("hourly_wage", "-18", "V04"),
        ("hours_per_week", "1", None),
        ("hours_per_week", "37.5", None),
        ("hours_per_week", "80", None),
        ("hours_per_week", "0.5", "V04"),
        ("hours_per_week", "80.25", "V04"),
        ("hours_per_week", "forty", "V04"),
        ("naics_code", "237130", None),
        ("naics_code", "23713", "V08"),
        ("naics_code", "23713A", "V08"),
        ("onet_code", "4990810", "V07"),
        ("employer_name", "x" * 200, None),
        ("employer_name", "x" * 201, "V04"),
        ("job_title", "x" * 201, "V04"),
        ("registered_apprenticeship", "", None),
        ("registered_apprenticeship", "2", "V03"),
        ("participant_id", "P-1_", "V05"),
        ("participant_id", "987654321", "V06"),
    ],
)
def test_placement_cells(column, value, code):
    found = findings(placement=job(1, **{column: value}))

    assert [c for c, col, _ in found if col == column and c[0] == "V"] == ([code] if code else [])


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1200", None),
        ("1200.00", None),
        ("0", None),
        ("999999", None),
        ("1000000", "V04"),
        ("1200.5", "V04"),
        ("1200.50", "V04"),
        ("$1200", "V04"),
        ("1,200", "V04"),
        ("-5", "V04"),
        ("12k", "V04"),
    ],
)
def test_whole_dollar_wages(value, code):
    row = person(1, exit_date="20250101", employed_q2_after_exit="1", wages_q2_after_exit=value)
    found = findings(row)

    assert [c for c, col, _ in found if c.startswith("V")] == ([code] if code else [])


def test_a_required_blank_cell_is_v01_with_what_to_enter():
    found = Files([person(1, entry_date=" ")]).check().findings

    assert [f.as_dict() for f in found] == [
        {
            "code": "V01",
            "severity": "error",
            "file": "participants",
            "row": 2,
            "column": "entry_date",
            "value": None,
            "message": "entry_date is blank: it is required — enter the date of program entry "
            "as YYYYMMDD",
        }
    ]


def test_a_blank_conditional_or_optional_cell_is_never_v01():
    row = person(1, ssn="", zip_code="", training_onet="", race_white="")

    assert findings(row) == []


def test_messages_say_what_is_wrong_and_what_would_be_right():
    found = {
        f.code: f.message
        for f in Files([person(1, sex="3", state_code="ZZ", date_of_birth="18991231")])
        .check()
        .findings
    }

    assert found["V03"] == (
        'sex "3" is not an allowed code: use 1 (male), 2 (female) or 9 (did not self-identify)'
    )
    assert found["V09"].startswith('state_code "ZZ" is not a USPS state or territory code: use')
    assert found["V02"].startswith('date_of_birth "18991231" is before 1900-01-01: check the year')


def test_a_two_digit_code_column_lists_its_codes_and_says_the_zero_may_be_left_out():
    found = Files([person(1, other_exit_reason="8", exit_date="20240601")]).check().findings

    assert found[0].message.startswith(
        'other_exit_reason "8" is not an allowed code: use 00 (none)'
    )
    assert found[0].message.endswith("(the leading zero may be left out)")


def test_a_long_value_is_cut_short_in_the_message_and_the_finding():
    found = Files([person(1)], [job(1, employer_name="x" * 5000)]).check().findings

    assert found[0].message == (
        "employer_name is 5000 characters long: at most 200 are allowed — shorten it"
    )
    assert len(found[0].value) == 200


def test_every_reason_a_cell_can_fail_for_has_a_message_and_no_other():
    # The reasons are an enum (values.REASONS, for speed) beside the messages keyed by
    # them: a reason without a message would be a finding with no text, and a message
    # without a reason could never be shown.
    for kind in (contract.PARTICIPANTS, contract.PLACEMENTS):
        for column in contract.COLUMNS[kind]:
            text = pl.col(column.name)
            assert set(values._messages(column, text, text)) == set(values.REASONS.categories)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from(["0", "1", "9", "00", "01", "", "1 "])), max_size=30
    ),
    st.lists(st.sampled_from(["0", "1", "9", "01", "1 "]), max_size=7, unique=True),
)
def test_one_of_says_what_is_in_says_nulls_included(cells, codes):
    # values.one_of compares a few codes one by one (quicker than is_in's hash table).
    frame = pl.DataFrame({"text": pl.Series(cells, dtype=pl.String)})

    compared = frame.select(values.one_of(pl.col("text"), codes)).to_series()
    looked_up = frame.select(pl.col("text").is_in(codes)).to_series()

    assert compared.to_list() == looked_up.to_list()
