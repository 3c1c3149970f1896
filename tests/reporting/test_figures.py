"""The quarterly figures of DATA-CONTRACT.md §4 and §6, hand-computed on small frames.

Every test reports 2025Q3 for a grant that started 2023-10-01 unless it says otherwise:
Current Quarter is 2025-07-01 .. 2025-09-30, Rolling 4 Quarters 2024-10-01 .. 2025-09-30,
Grant to Date 2023-10-01 .. 2025-09-30. With DOL's two-quarter reporting lag on top of
the outcome quarter, the 4-quarter lag cohorts (E-1, E-2) exit in 2024Q3 /
2023Q4..2024Q3 / up to 2024Q3; the 6-quarter ones (E-3, E-4) in 2024Q1 / 2023Q2..2024Q1 /
up to 2024Q1. Program year 2025 runs from 2025-07-01.

Expected values changed with figures definitions v2 (issue 10: the lag, "not yet known"
outcomes, $0 wages, skill gains by training dates) were worked out again by hand.
"""

import json
from datetime import date

import polars as pl
import pytest

from grantees.calendar import Quarter
from reporting import figures

RQ = Quarter.parse("2025Q3")
GRANT_START = date(2023, 10, 1)
CQ, R4, GTD = figures.WINDOW_NAMES

# A participant who adds nothing to any figure but and the characteristics a
# test does not look at: entered in the current quarter, no training, no exit.
PARTICIPANT = {
    "ssn": None,
    "state_code": "CO",
    "zip_code": None,
    "date_of_birth": "19900101",
    "sex": "1",
    "disability": "0",
    "hispanic_latino": "0",
    "race_american_indian": "0",
    "race_asian": "0",
    "race_black": "0",
    "race_pacific_islander": "0",
    "race_white": "0",
    "veteran": "0",
    "employment_status_at_entry": "0",
    "highest_education": "1",
    "low_income": "0",
    "incumbent_worker": "0",
    "entry_date": "20250801",
    "other_exit_reason": "00",
    "received_training": "0",
    "credential_type": "0",
}
PLACEMENT = {
    "employer_name": "Prairie Wind Services",
    "hourly_wage_cents": 2000,
    "hours_per_week": 40.0,
    "training_related": "0",
    "registered_apprenticeship": "0",
}


def _frame(rows, defaults, schema) -> pl.DataFrame:
    typed = []
    for number, given in enumerate(rows, start=2):
        row = {"row": number, **defaults, **given}
        for column, dtype in schema.items():
            value = row.get(column)
            if dtype == pl.Date and isinstance(value, str):
                row[column] = date.fromisoformat(value)
        typed.append({column: row.get(column) for column in schema})
    return pl.DataFrame(typed, schema=schema)


def people(*rows: dict) -> pl.DataFrame:
    """Typed kept participant rows; dates as "YYYYMMDD", ids P2, P3… unless given."""
    rows = tuple({"participant_id": f"P{n}", **row} for n, row in enumerate(rows, start=2))
    return _frame(rows, PARTICIPANT, figures.participants_schema())


def jobs(*rows: dict) -> pl.DataFrame:
    return _frame(rows, PLACEMENT, figures.placements_schema())


def compute(participants, placements=None, *, quarter=RQ, grant_start=GRANT_START) -> dict:
    if placements is None:
        placements = figures.empty_placements()
    return figures.compute_figures(
        participants, placements, report_quarter=quarter, grant_start=grant_start
    )


def by_window(result: dict, key: str) -> tuple:
    return tuple(result["windows"][w][key] for w in figures.WINDOW_NAMES)


def rate(numerator, denominator, percent) -> dict:
    return {"numerator": numerator, "denominator": denominator, "rate": percent}


# §6: shape


def test_every_figure_key_of_the_contract_is_in_every_window_in_order():
    # As DATA-CONTRACT.md §6 lists them.
    keys = [
        "A-1", "A-2", "A-3",
        "B-sex-male", "B-sex-female", "B-sex-unknown", "B-hispanic",
        "B-race-american-indian", "B-race-asian", "B-race-black", "B-race-pacific-islander",
        "B-race-white", "B-race-multiple",
        "B-age-17-29", "B-age-30-44", "B-age-45-54", "B-age-55-plus",
        "B-veteran", "B-disability", "B-low-income", "B-incumbent",
        "B-employed-at-entry", "B-unemployed-at-entry", "B-not-in-labor-force",
        "B-edu-none", "B-edu-secondary", "B-edu-postsecondary", "B-edu-bachelors-plus",
        "C-1", "C-2", "C-3", "C-4",
        "D-1", "D-2", "D-3", "D-4", "D-5",
        "E-1", "E-2", "E-3", "E-4", "E-5",
    ]  # fmt: skip
    result = compute(people({}))
    assert result["period"] == "2025Q3"
    assert list(result["windows"]) == ["current_quarter", "rolling_4_quarters", "grant_to_date"]
    for window in result["windows"].values():
        assert list(window) == keys


def test_with_no_rows_counts_are_zero_medians_null_and_rates_not_applicable():
    empty = pl.DataFrame(schema=figures.participants_schema())
    for window in compute(empty)["windows"].values():
        for key, value in window.items():
            if key in figures.RATE_KEYS:
                assert value == rate(0, 0, None)
            elif key in ("D-3", "E-2"):
                assert value is None
            else:
                assert value == 0
                assert type(value) is int


def test_the_result_is_plain_json():
    result = compute(
        people(
            {
                "entry_date": "20240101",
                "exit_date": "20240815",
                "employed_q2_after_exit": "1",
                "wages_q2_after_exit": 9000,
            }
        ),
        jobs({"participant_id": "P2", "start_date": "20250805", "hourly_wage_cents": 1825}),
    )
    assert json.loads(json.dumps(result)) == result
    assert result["windows"][CQ]["D-3"] == "18.25"
    assert result["windows"][CQ]["E-1"] == rate(1, 1, 100.0)
    assert result["windows"][CQ]["E-2"] == 9000


def test_extra_columns_and_column_order_of_the_input_do_not_matter():
    frame = people({"exit_date": "20250815"})
    shuffled = frame.select(reversed(frame.columns)).with_columns(extra=pl.lit("x"))
    assert compute(shuffled) == compute(frame)


# §4 A: participation, and the window edges


def test_participation_counts_by_window_with_first_and_last_days_inside():
    result = compute(
        people(
            {"entry_date": "20250701"},  # first day of the quarter
            {"entry_date": "20250930", "exit_date": "20250930"},  # last day
            {"entry_date": "20240101", "exit_date": "20250630"},  # exits the day before
            {"entry_date": "20240101", "exit_date": "20250701"},
            {"entry_date": "20231001", "exit_date": "20240930"},  # leaves before R4 starts
            {"entry_date": "20230930"},  # entered before the grant; still served
            {"entry_date": "20251001"},  # after the period: in no window
            {"entry_date": "20240930", "exit_date": "20241001"},  # R4's first day
        )
    )
    assert by_window(result, "A-1") == (2, 4, 5)
    assert by_window(result, "A-2") == (4, 6, 7)
    assert by_window(result, "A-3") == (2, 2, 6)


def test_grant_to_date_starts_on_the_grant_start_day_itself():
    result = compute(
        people({"entry_date": "20231014"}, {"entry_date": "20231015"}),
        grant_start=date(2023, 10, 15),
    )
    assert result["windows"][GTD]["A-3"] == 1
    assert result["windows"][GTD]["A-2"] == 2


# §4 B: characteristics of participants served

SERVED = {"entry_date": "20250801"}
CHARACTERISTIC_ROWS = (
    # Ages are at entry, 2025-08-01: 17 on the 17th birthday, 29 the day before the 30th…
    {**SERVED, "date_of_birth": "20080801", "sex": "1", "hispanic_latino": "1",
     "race_white": "1", "race_black": "1", "veteran": "1", "disability": "1",
     "low_income": "1", "incumbent_worker": "1", "employment_status_at_entry": "1",
     "highest_education": "0"},
    {**SERVED, "date_of_birth": "19950802", "sex": "2", "race_asian": "1",
     "disability": "9", "low_income": "9", "employment_status_at_entry": "2",
     "highest_education": "3"},
    {**SERVED, "date_of_birth": "19950801", "sex": "9", "hispanic_latino": "9",
     "race_american_indian": "1", "race_pacific_islander": "1", "race_white": "1",
     "employment_status_at_entry": "1", "highest_education": "4"},
    {**SERVED, "date_of_birth": "19800802", "sex": "1", "employment_status_at_entry": "0",
     "highest_education": "6"},
    {**SERVED, "date_of_birth": "19800801", "sex": "2", "employment_status_at_entry": "3",
     "highest_education": "7"},
    {**SERVED, "date_of_birth": "19700802", "sex": "1", "employment_status_at_entry": "3",
     "highest_education": "8"},
    {**SERVED, "date_of_birth": "19700801", "sex": "1", "employment_status_at_entry": "0",
     "highest_education": "1"},
    {**SERVED, "date_of_birth": "19300101", "sex": "2", "employment_status_at_entry": "0",
     "highest_education": "2"},
    # Served in R4 and GTD only (left 2025-01-01), every characteristic set; 64 at entry.
    {"entry_date": "20240101", "exit_date": "20250101", "date_of_birth": "19600101",
     "sex": "1", "hispanic_latino": "1", "race_american_indian": "1", "race_asian": "1",
     "race_black": "1", "race_pacific_islander": "1", "race_white": "1", "veteran": "1",
     "disability": "1", "low_income": "1", "incumbent_worker": "1",
     "employment_status_at_entry": "1", "highest_education": "8"},
)  # fmt: skip
CHARACTERISTICS_CQ = {
    "A-2": 8,
    "B-sex-male": 4,
    "B-sex-female": 3,
    "B-sex-unknown": 1,
    "B-hispanic": 1,
    "B-race-american-indian": 1,
    "B-race-asian": 1,
    "B-race-black": 1,
    "B-race-pacific-islander": 1,
    "B-race-white": 2,
    "B-race-multiple": 2,
    "B-age-17-29": 2,
    "B-age-30-44": 2,
    "B-age-45-54": 2,
    "B-age-55-plus": 2,
    "B-veteran": 1,
    "B-disability": 1,
    "B-low-income": 1,
    "B-incumbent": 1,
    "B-employed-at-entry": 3,
    "B-unemployed-at-entry": 3,
    "B-not-in-labor-force": 2,
    "B-edu-none": 1,
    "B-edu-secondary": 3,
    "B-edu-postsecondary": 2,
    "B-edu-bachelors-plus": 2,
}
ADDED_BY_THE_EARLIER_LEAVER = {
    "A-2", "B-sex-male", "B-hispanic", "B-race-american-indian", "B-race-asian",
    "B-race-black", "B-race-pacific-islander", "B-race-white", "B-race-multiple",
    "B-age-55-plus", "B-veteran", "B-disability", "B-low-income", "B-incumbent",
    "B-employed-at-entry", "B-edu-bachelors-plus",
}  # fmt: skip


def test_characteristics_count_the_participants_served_in_the_window():
    result = compute(people(*CHARACTERISTIC_ROWS))
    current = {key: result["windows"][CQ][key] for key in CHARACTERISTICS_CQ}
    assert current == CHARACTERISTICS_CQ
    rolling = {key: result["windows"][R4][key] for key in CHARACTERISTICS_CQ}
    assert rolling == {
        key: count + (key in ADDED_BY_THE_EARLIER_LEAVER)
        for key, count in CHARACTERISTICS_CQ.items()
    }
    assert {key: result["windows"][GTD][key] for key in CHARACTERISTICS_CQ} == rolling


def test_incumbent_characteristic_reads_element_907_only():
    result = compute(
        people(
            {"incumbent_worker": "0", "employment_status_at_entry": "1"},
            {"incumbent_worker": "0", "employment_status_at_entry": "2"},
            {"incumbent_worker": "1", "employment_status_at_entry": "0"},
        )
    )
    assert by_window(result, "B-incumbent") == (1, 1, 1)
    assert by_window(result, "B-employed-at-entry") == (2, 2, 2)


def test_age_is_in_completed_years_and_a_leap_day_birthday_comes_on_march_first():
    result = compute(
        people(
            {"date_of_birth": "19960229", "entry_date": "20260228"},  # 29
            {"date_of_birth": "19960229", "entry_date": "20260301"},  # 30
            {"date_of_birth": "19710101", "entry_date": "20251231"},  # 54
            {"date_of_birth": "19710101", "entry_date": "20260101"},  # 55
        ),
        quarter=Quarter.parse("2026Q1"),
    )
    assert result["windows"][R4]["B-age-17-29"] == 1
    assert result["windows"][R4]["B-age-30-44"] == 1
    assert result["windows"][R4]["B-age-45-54"] == 1
    assert result["windows"][R4]["B-age-55-plus"] == 1


# §4 C: training


def test_training_figures_by_window():
    entered = {"entry_date": "20240901", "received_training": "1"}
    result = compute(
        people(
            {**entered, "training_start_date": "20250701", "training_type": "09",
             "training_completed": "1", "training_end_date": "20250930"},
            {**entered, "training_start_date": "20250630", "training_type": "06",
             "training_completed": "1", "training_end_date": "20250701"},
            {**entered, "training_start_date": "20250801", "training_type": "09",
             "training_completed": "0", "training_end_date": "20250901"},
            {**entered, "training_start_date": "20240930", "training_type": "09",
             "training_completed": "1", "training_end_date": "20240930"},
            {"credential_type": "5", "credential_date": "20250701"},
            {"credential_type": "1", "credential_date": "20250930"},
            {"entry_date": "20240901", "credential_type": "7", "credential_date": "20250630"},
            {"credential_type": "0", "credential_date": "20250801"},  # no credential
        )
    )  # fmt: skip
    assert by_window(result, "C-1") == (2, 3, 4)
    assert by_window(result, "C-2") == (2, 2, 3)
    assert by_window(result, "C-3") == (2, 2, 3)
    assert by_window(result, "C-4") == (2, 3, 3)


# §4 D: employment


def test_entered_employment_takes_each_participants_earliest_placement():
    result = compute(
        people(*({"entry_date": "20240901"} for _ in range(4))),
        jobs(
            # P2's first job is in June: not a current-quarter entry despite the August one.
            {"participant_id": "P2", "start_date": "20250615", "training_related": "1"},
            {"participant_id": "P2", "start_date": "20250801"},
            {"participant_id": "P3", "start_date": "20250701", "training_related": "1"},
            {"participant_id": "P3", "start_date": "20250930", "training_related": "1"},
            {"participant_id": "P4", "start_date": "20250930"},
            {"participant_id": "P5", "start_date": "20240915", "training_related": "1"},
            {"participant_id": "P5", "start_date": "20250805", "training_related": "1"},
        ),
    )
    assert by_window(result, "D-1") == (2, 3, 4)
    # Counted once per participant, however many related jobs they start.
    assert by_window(result, "D-2") == (2, 3, 3)


def test_placements_of_participants_not_given_are_not_counted():
    result = compute(
        people({"participant_id": "KEPT"}),
        jobs(
            {"participant_id": "KEPT", "start_date": "20250805", "hourly_wage_cents": 1800},
            {"participant_id": "HELD", "start_date": "20250806", "hourly_wage_cents": 9000,
             "training_related": "1"},
        ),
    )  # fmt: skip
    assert result["windows"][CQ]["D-1"] == 1
    assert result["windows"][CQ]["D-2"] == 0
    assert result["windows"][CQ]["D-3"] == "18.00"


@pytest.mark.parametrize(
    ("cents", "median"),
    [
        ([1825], "18.25"),
        ([1825, 1830], "18.28"),  # 18.275 rounds half-up
        ([1000, 1001], "10.01"),  # 10.005 up, not to the even 10.00
        ([1000, 1002], "10.01"),
        ([725, 1500, 50000], "15.00"),
        ([2000, 1500, 1825, 1830, 1700], "18.25"),
        ([2000, 1500, 1825, 1830, 1700, 1600], "17.63"),  # (17.00 + 18.25) / 2 = 17.625
        ([], None),
    ],
)
def test_median_hourly_wage_at_placement(cents, median):
    result = compute(
        people({}),
        jobs(*({"participant_id": "P2", "start_date": "20250805", "hourly_wage_cents": c}
               for c in cents)),
    )  # fmt: skip
    assert result["windows"][CQ]["D-3"] == median


def test_median_hourly_wage_counts_only_placements_started_in_the_window():
    result = compute(
        people({"entry_date": "20230101"}),
        jobs(
            {"participant_id": "P2", "start_date": "20250701", "hourly_wage_cents": 1825},
            {"participant_id": "P2", "start_date": "20250930", "hourly_wage_cents": 1830},
            {"participant_id": "P2", "start_date": "20250630", "hourly_wage_cents": 1600},
            {"participant_id": "P2", "start_date": "20231001", "hourly_wage_cents": 1000},
            {"participant_id": "P2", "start_date": "20230930", "hourly_wage_cents": 100},
        ),
    )
    assert by_window(result, "D-3") == ("18.28", "18.25", "17.13")


def test_incumbents_retained_and_advanced_count_by_training_end_whatever_completion():
    incumbent = {"entry_date": "20240901", "incumbent_worker": "1", "received_training": "1"}
    result = compute(
        people(
            {**incumbent, "training_end_date": "20250801", "training_completed": "0",
             "incumbent_retained": "1", "incumbent_advanced": "1"},
            {**incumbent, "training_end_date": "20250630", "training_completed": "1",
             "incumbent_retained": "1", "incumbent_advanced": "0"},
            {**incumbent, "training_end_date": "20250901", "training_completed": "1",
             "incumbent_retained": "0", "incumbent_advanced": "1"},
            {**incumbent, "incumbent_retained": "1", "incumbent_advanced": "1"},  # no end
        )
    )  # fmt: skip
    assert by_window(result, "D-4") == (1, 2, 2)
    assert by_window(result, "D-5") == (2, 2, 2)


# Exclusions (other_exit_reason 01–05): in every count, in no rate


def test_exclusions_count_in_participation_training_and_employment_but_in_no_rate():
    result = compute(
        people(
            {"participant_id": "X1", "entry_date": "20240901", "exit_date": "20250815",
             "other_exit_reason": "03", "received_training": "1",
             "training_start_date": "20250701", "training_type": "06",
             "training_completed": "1", "training_end_date": "20250801",
             "credential_type": "5", "credential_date": "20250801", "incumbent_worker": "1",
             "incumbent_retained": "1", "msg_training_milestone_date": "20250801"},
            # In the current quarter's E-1/E-2 cohort (2024Q3) but for the exclusion.
            {"participant_id": "X2", "entry_date": "20230901", "exit_date": "20240815",
             "other_exit_reason": "01", "employed_q2_after_exit": "1",
             "wages_q2_after_exit": 8000},
            # In the current quarter's E-3/E-4 cohort (2024Q1) but for the exclusion.
            {"participant_id": "X3", "entry_date": "20230901", "exit_date": "20240215",
             "other_exit_reason": "05", "received_training": "1", "training_type": "06",
             "training_start_date": "20231001", "employed_q4_after_exit": "1",
             "credential_type": "5", "credential_date": "20240101"},
        ),
        jobs({"participant_id": "X1", "start_date": "20250805", "training_related": "1"}),
    )  # fmt: skip
    current = result["windows"][CQ]
    assert {k: current[k] for k in ("A-1", "A-2", "C-1", "C-3", "C-4", "D-1", "D-2", "D-4")} == {
        "A-1": 1, "A-2": 1, "C-1": 1, "C-3": 1, "C-4": 1, "D-1": 1, "D-2": 1, "D-4": 1
    }  # fmt: skip
    assert current["D-3"] == "20.00"
    assert by_window(result, "A-1") == (1, 1, 3)
    for window in result["windows"].values():
        for key in figures.RATE_KEYS:
            assert window[key] == rate(0, 0, None)
        assert window["E-2"] is None


def test_other_exit_reasons_06_and_07_are_not_exclusions():
    result = compute(
        people(
            {"entry_date": "20240101", "exit_date": "20240815", "other_exit_reason": "06",
             "employed_q2_after_exit": "0"},
            {"entry_date": "20240101", "exit_date": "20240816", "other_exit_reason": "07",
             "employed_q2_after_exit": "1", "wages_q2_after_exit": 100},
        )
    )  # fmt: skip
    assert result["windows"][CQ]["E-1"] == rate(1, 2, 50.0)


# §4 E: lagged cohorts


def exiter(exit_date, q2=None, wages=None, q4=None, reason="00"):
    return {"entry_date": "20220901", "exit_date": exit_date, "other_exit_reason": reason,
            "employed_q2_after_exit": q2, "wages_q2_after_exit": wages,
            "employed_q4_after_exit": q4}  # fmt: skip


def test_second_and_fourth_quarter_employment_cohorts_lag_each_window_by_four_and_six():
    result = compute(
        people(
            exiter("20240701", q2="1", wages=9000),  # 2024Q3, first day
            exiter("20240930", q2="1", wages=9241),  # 2024Q3, last day
            # 2024Q4: its outcome quarter has ended, but DOL's two-quarter reporting lag
            # keeps it out of every cohort of this report.
            exiter("20241001", q2="1", wages=50000),
            exiter("20231001", q2="0", q4="1"),  # 2023Q4
            exiter("20230930", q2="1", wages=5000, q4="1"),  # 2023Q3
            exiter("20231115", q2="1", wages=None, q4="0"),  # employed, wage not known
            exiter("20240815", q2="1", wages=100000, reason="02"),  # excluded
            exiter("20240331", q2="1", wages=7000, q4="1"),  # 2024Q1, last day
            exiter("20230331", q2="0", q4="1"),  # 2023Q1: Grant to Date has no lower bound
            exiter("20240101", q2="0", q4="0"),  # 2024Q1, first day
            exiter("20240115", q2="1", wages=50, q4="1", reason="04"),  # excluded
            exiter("20240115", q2="0", q4="0", reason="06"),  # 06 is not an exclusion
        )
    )
    # E-1 cohorts: 2024Q3 (the first two), 2023Q4..2024Q3 (adds 2023Q4 ×2, 2024Q1 ×3),
    # up to 2024Q3 (adds 2023Q3 and 2023Q1).
    assert by_window(result, "E-1") == (rate(2, 2, 100.0), rate(4, 7, 57.1), rate(5, 9, 55.6))
    # 9120.5 rounds up; (9000, 9241, 7000) → 9000; (5000, 7000, 9000, 9241) → 8000 (the
    # employed exiter without a wage is left out of the median).
    assert by_window(result, "E-2") == (9121, 9000, 8000)
    # E-3 cohorts: 2024Q1 (three), 2023Q2..2024Q1 (adds 2023Q3 and 2023Q4 ×2), up to
    # 2024Q1 (adds 2023Q1).
    assert by_window(result, "E-3") == (rate(1, 3, 33.3), rate(3, 6, 50.0), rate(4, 7, 57.1))


def test_a_cohort_mostly_not_yet_known_takes_its_rate_from_the_known_outcomes():
    result = compute(
        people(
            # Exits in 2024Q3, the current quarter's E-1 cohort: seven 9s, one blank,
            # one employed, one not.
            *(exiter("20240815", q2="9") for _ in range(7)),
            exiter("20240816", q2=None),
            exiter("20240817", q2="1", wages=6000),
            exiter("20240818", q2="0"),
            # Exits in 2024Q1, the current quarter's E-3 cohort: six 9s, one blank, three
            # known of whom two employed.
            *(exiter("20240215", q4="9") for _ in range(6)),
            exiter("20240216", q4=None),
            exiter("20240217", q4="1"),
            exiter("20240218", q4="1"),
            exiter("20240219", q4="0"),
        )
    )
    assert result["windows"][CQ]["E-1"] == rate(1, 2, 50.0)
    assert result["windows"][CQ]["E-2"] == 6000
    assert result["windows"][CQ]["E-3"] == rate(2, 3, 66.7)
    # Grant to Date holds both groups; each rate still counts its own known outcomes.
    assert result["windows"][GTD]["E-1"] == rate(1, 2, 50.0)
    assert result["windows"][GTD]["E-3"] == rate(2, 3, 66.7)


def test_a_cohort_of_only_unknown_outcomes_is_not_applicable_rather_than_zero():
    result = compute(people(exiter("20240815", q2="9", q4="9"), exiter("20240215", q4=None)))
    assert by_window(result, "E-1") == (rate(0, 0, None),) * 3
    assert by_window(result, "E-3") == (rate(0, 0, None),) * 3
    assert by_window(result, "E-2") == (None,) * 3


def test_median_earnings_leaves_out_zero_and_blank_wages():
    result = compute(
        people(
            exiter("20240801", q2="1", wages=0),
            exiter("20240802", q2="1", wages=3000),
            exiter("20240803", q2="1", wages=5000),
            exiter("20240804", q2="1", wages=None),
        )
    )
    # All four are employed (E-1 4/4); the median is over 3000 and 5000 only.
    assert result["windows"][CQ]["E-1"] == rate(4, 4, 100.0)
    assert result["windows"][CQ]["E-2"] == 4000


def test_median_earnings_is_null_when_no_employed_exiter_reports_wages_above_zero():
    result = compute(
        people(
            exiter("20240815", q2="1"),
            exiter("20240816", q2="1", wages=0),
            exiter("20240817", q2="0", wages=0),
        )
    )
    assert result["windows"][CQ]["E-1"] == rate(2, 3, 66.7)
    assert result["windows"][CQ]["E-2"] is None


def test_a_blank_other_exit_reason_is_no_exclusion_in_the_rate_or_the_median():
    result = compute(people(exiter("20240815", q2="1", wages=5000, reason=None)))
    assert result["windows"][CQ]["E-1"] == rate(1, 1, 100.0)
    assert result["windows"][CQ]["E-2"] == 5000


def test_median_earnings_rounds_half_up_to_dollars():
    result = compute(
        people(exiter("20240815", q2="1", wages=1), exiter("20240816", q2="1", wages=2))
    )
    assert result["windows"][CQ]["E-2"] == 2  # 1.5 → 2


def test_credential_attainment_cohort_lags_six_quarters_and_takes_the_year_after_exit():
    def trained(exit_date, training_type="06", credential="0", on=None, **more):
        return {"entry_date": "20220901", "exit_date": exit_date, "received_training": "1",
                "training_start_date": "20220915", "training_type": training_type,
                "training_completed": "1", "training_end_date": exit_date,
                "credential_type": credential, "credential_date": on, **more}  # fmt: skip

    result = compute(
        people(
            # 2024-02-15 + 365 days is 2025-02-14 (2024 has a Feb 29).
            trained("20240215", credential="5", on="20250214", participant_id="T1"),  # +365
            trained("20240215", "02", credential="4", on="20250215", participant_id="T2"),
            trained("20240215", "01", credential="5", on="20240301", participant_id="T3"),
            trained("20240215", "05", credential="5", on="20240301", participant_id="T4"),
            trained("20240215", "09", credential="1", on="20240220", participant_id="T5"),
            trained("20240215", credential="1", on="20240220", participant_id="T6"),
            trained("20240215", credential="1", on="20240220", participant_id="T7"),
            {
                "participant_id": "T8",
                "entry_date": "20220901",
                "exit_date": "20240215",
                "received_training": "0",
                "credential_type": "5",
                "credential_date": "20240301",
            },
            trained(
                "20240215",
                credential="5",
                on="20240301",
                participant_id="T9",
                other_exit_reason="03",
            ),
            trained("20230815", "10", credential="2", on="20230901", participant_id="T10"),
            trained("20230115", participant_id="T11"),
            # 2023-03-15 + 365 days is 2024-03-14 (2024 has a Feb 29): one day late.
            trained("20230315", credential="5", on="20240315", participant_id="T12"),
            # 2024Q3: the credential rate's cohort of the report two quarters from now.
            trained("20240815", credential="5", on="20240901", participant_id="T13"),
        ),
        jobs(
            {"participant_id": "T5", "start_date": "20250214"},  # exit + 365: diploma counts
            {"participant_id": "T6", "start_date": "20250215"},  # exit + 366: it does not
        ),
    )
    # Current quarter, exits in 2024Q1: T1, T2, T5, T6, T7, of whom T1 and T5 attained.
    # Rolling 4, 2023Q2..2024Q1: adds T10 (attained). Grant to Date: adds T11 and T12.
    assert by_window(result, "E-4") == (rate(2, 5, 40.0), rate(3, 6, 50.0), rate(3, 8, 37.5))


def test_skill_gains_count_training_that_overlaps_the_program_year_in_every_window():
    trained = {"entry_date": "20240901", "received_training": "1",
               "training_start_date": "20240901", "training_type": "06"}  # fmt: skip
    ended = {"training_completed": "1"}
    rows = people(
        {**trained, "msg_training_milestone_date": "20250701"},
        {**trained, **ended, "training_end_date": "20250701", "exit_date": "20250701",
         "msg_skills_progression_date": "20250930"},
        {**trained, **ended, "training_end_date": "20250630", "exit_date": "20250630",
         "msg_training_milestone_date": "20250630"},
        {**trained, "msg_training_milestone_date": "20250630"},
        {"entry_date": "20250801", "msg_training_milestone_date": "20250801"},  # untrained
        {**trained, "entry_date": "20251001", "training_start_date": "20251001"},  # later
        {**trained, "exit_date": "20250801", "other_exit_reason": "02",
         "msg_training_milestone_date": "20250801"},  # excluded
        {**trained, "msg_skills_progression_date": "20251001"},  # after the period end
        # Finished training in June and has not exited: still a participant in PY2025,
        # but not in training there, so not in the denominator (nor is the gain counted).
        {**trained, **ended, "training_end_date": "20250615",
         "msg_training_milestone_date": "20250801"},
    )  # fmt: skip
    # PY2025 to 2025-09-30: the ongoing trainees (rows 1, 4, 8) and the one who finished
    # on 2025-07-01; gains on 2025-07-01 and 2025-09-30.
    assert by_window(compute(rows), "E-5") == (rate(2, 4, 50.0),) * 3
    # 2025Q2 is the last quarter of PY2024 (2024-07-01 .. 2025-06-30): every training
    # that started by 2025-06-30 overlaps it (six), with the two gains of 2025-06-30.
    assert by_window(compute(rows, quarter=Quarter.parse("2025Q2")), "E-5") == (
        (rate(2, 6, 33.3),) * 3
    )
    # 2026Q2 still reads PY2025, up to 2026-06-30: the October trainee and the October
    # gain now count; the training that ended in June 2025 and its gains do not.
    assert by_window(compute(rows, quarter=Quarter.parse("2026Q2")), "E-5") == (
        (rate(3, 5, 60.0),) * 3
    )


def test_rates_round_half_up_from_the_exact_fraction_in_the_figures():
    def cohort(employed, total):
        return [
            {"entry_date": "20240101", "exit_date": "20240815",
             "employed_q2_after_exit": "1" if n < employed else "0"}
            for n in range(total)
        ]  # fmt: skip

    assert compute(people(*cohort(1, 16)))["windows"][CQ]["E-1"] == rate(1, 16, 6.3)
    assert compute(people(*cohort(1, 8)))["windows"][CQ]["E-1"] == rate(1, 8, 12.5)
    assert compute(people(*cohort(2, 3)))["windows"][CQ]["E-1"] == rate(2, 3, 66.7)


@pytest.mark.parametrize(
    ("numerator", "denominator", "percent"),
    [
        (1, 16, 6.3),
        (2, 3, 66.7),
        (1, 8, 12.5),
        (1, 3, 33.3),
        (1, 80, 1.3),  # 1.25: half-up, not to the even 1.2
        (7, 9, 77.8),
        (0, 4, 0.0),
        (4, 4, 100.0),
        (0, 0, None),
    ],
)
def test_a_rate_is_a_percentage_with_one_decimal_or_null(numerator, denominator, percent):
    assert figures.rate(numerator, denominator) == rate(numerator, denominator, percent)


# Window and cohort definitions, for printing beside the figures


def test_windows_are_the_quarter_the_four_quarters_and_the_grant_to_date():
    assert [(w.name, w.first, w.last) for w in figures.windows(RQ, GRANT_START)] == [
        (CQ, date(2025, 7, 1), date(2025, 9, 30)),
        (R4, date(2024, 10, 1), date(2025, 9, 30)),
        (GTD, date(2023, 10, 1), date(2025, 9, 30)),
    ]


def test_cohort_periods_name_the_exit_quarters_of_each_indicator():
    assert figures.cohort_periods(RQ, GRANT_START) == {
        CQ: {"E-1": ("2024Q3", "2024Q3"), "E-2": ("2024Q3", "2024Q3"),
             "E-3": ("2024Q1", "2024Q1"), "E-4": ("2024Q1", "2024Q1"),
             "E-5": ("2025Q3", "2025Q3")},
        R4: {"E-1": ("2023Q4", "2024Q3"), "E-2": ("2023Q4", "2024Q3"),
             "E-3": ("2023Q2", "2024Q1"), "E-4": ("2023Q2", "2024Q1"),
             "E-5": ("2025Q3", "2025Q3")},
        GTD: {"E-1": ("2023Q4", "2024Q3"), "E-2": ("2023Q4", "2024Q3"),
              "E-3": ("2023Q4", "2024Q1"), "E-4": ("2023Q4", "2024Q1"),
              "E-5": ("2025Q3", "2025Q3")},
    }  # fmt: skip


def test_cohort_periods_early_in_the_grant():
    periods = figures.cohort_periods(Quarter.parse("2024Q4"), GRANT_START)
    assert periods[CQ]["E-1"] == ("2023Q4", "2023Q4")
    assert periods[GTD]["E-1"] == ("2023Q4", "2023Q4")
    assert periods[CQ]["E-3"] == ("2023Q2", "2023Q2")  # before the grant: an empty cohort
    assert periods[GTD]["E-3"] is None
    assert periods[R4]["E-5"] == ("2024Q3", "2024Q4")  # PY2024 to date


def test_kept_frame_schemas_follow_the_checks_readme():
    placements = figures.placements_schema()
    assert placements["hourly_wage_cents"] == pl.Int64
    assert placements["start_date"] == pl.Date
    assert "hourly_wage" not in placements
    participants = figures.participants_schema()
    assert participants["wages_q2_after_exit"] == pl.Int64
    assert participants["exit_date"] == pl.Date
    assert participants["other_exit_reason"] == pl.String
    assert figures.empty_placements().is_empty()


def test_age_in_completed_years_agrees_with_calendar_arithmetic_around_leap_days():
    def calendar_age(born: date, on: date) -> int:
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    edges = [(2, 28), (2, 29), (3, 1), (12, 31), (1, 1), (7, 15)]
    days = [
        date(year, month, day)
        for year in (1900, 1903, 1904, 1999, 2000, 2001, 2023, 2024, 2025, 2028)
        for month, day in edges
        if not (month == 2 and day == 29 and (year % 4 or year == 1900))
    ]
    pairs = [(born, on) for born in days for on in days]
    frame = pl.DataFrame({"born": [b for b, _ in pairs], "on": [o for _, o in pairs]})
    ages = frame.select(figures.age_in_completed_years(pl.col("born"), pl.col("on")))
    assert ages.to_series().to_list() == [calendar_age(born, on) for born, on in pairs]
