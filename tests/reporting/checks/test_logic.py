"""Stages 3 and 4 with the precise readings of DATA-CONTRACT.md §7: what a failed cell
does to the rules that read it, the boundaries, cross-file and history rules."""

import pytest

from tests.reporting.checks.cases import PARTICIPANT_HEADER, Files, csv_bytes, history, job, person


def found(files: Files) -> list[tuple[str, str, int | None, str | None]]:
    return [(f.code, f.file[:4], f.row, f.column) for f in files.check().findings]


def codes(files: Files) -> list[str]:
    return [code for code, *_ in found(files)]


# A failed cell is neither present nor absent ------------------------------------------


def test_one_bad_date_gives_one_finding_not_a_cascade():
    row = person(1, entry_date="2024-02-30", exit_date="20240101", training_start_date="20240102")

    assert codes(Files([row], [job(1, start_date="20230101")])) == ["V02"]


def test_a_multi_condition_rule_skips_only_the_conditions_reading_the_failed_cell():
    # training_type failed, so "without training_type" is not judged; the start date is.
    row = person(1, training_type="13", training_start_date="")

    assert found(Files([row])) == [
        ("L04", "part", 2, "training_start_date"),
        ("V03", "part", 2, "training_type"),
    ]


def test_a_failed_received_training_skips_every_l04_condition():
    row = person(1, received_training="5", training_start_date="", training_type="")

    assert codes(Files([row])) == ["V03"]


def test_l10_is_judged_when_it_holds_whatever_the_failed_cell_holds():
    # Wages are reported too early whatever employed_q2_after_exit would be.
    early = person(1, exit_date="20250401", employed_q2_after_exit="7", wages_q2_after_exit="900")
    # Without the employed value, a blank wage says nothing.
    unknown = person(2, exit_date="20250401", employed_q2_after_exit="7")

    assert found(Files([early, unknown])) == [
        ("V03", "part", 2, "employed_q2_after_exit"),
        ("L10", "part", 2, "wages_q2_after_exit"),
        ("V03", "part", 3, "employed_q2_after_exit"),
    ]


# Boundaries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "code"),
    [
        ("20070115", None),  # 17 on the 17th birthday
        ("20070116", "L03"),  # 16 the day before
        ("19231015", None),  # 100
        ("19230115", "L03"),  # 101 on the 101st birthday
        ("19230116", None),  # 100 the day before
        ("20240116", "L03"),  # born after entry
    ],
)
def test_age_at_entry_is_in_completed_years_from_17_to_100(born, code):
    assert codes(Files([person(1, date_of_birth=born)])) == ([code] if code else [])


def test_a_leap_day_birthday_turns_a_year_older_on_march_1():
    assert codes(Files([person(1, date_of_birth="20040229", entry_date="20210228",
                               training_start_date="20210301", training_end_date="20210601",
                               credential_date="20210601")])) == ["L03"]  # fmt: skip
    assert codes(Files([person(1, date_of_birth="20040229", entry_date="20210301",
                               training_start_date="20210301", training_end_date="20210601",
                               credential_date="20210601")])) == []  # fmt: skip


@pytest.mark.parametrize(("credential_date", "code"), [("20250115", None), ("20250116", "L08")])
def test_a_credential_counts_up_to_exit_date_plus_365_days_exactly(credential_date, code):
    # 2024 is a leap year: 2024-01-16 + 365 days is 2025-01-15.
    row = person(1, exit_date="20240116", credential_date=credential_date)

    assert codes(Files([row])) == ([code] if code else [])


def test_a_credential_before_entry_is_l08_and_a_date_with_type_0_is_fine():
    assert found(Files([person(1, credential_date="20240114")])) == [
        ("L08", "part", 2, "credential_date")
    ]
    assert codes(Files([person(1, credential_type="0")])) == []


@pytest.mark.parametrize(
    ("period", "code"),
    [("2025Q3", "L10"), ("2025Q4", None), ("2026Q2", None)],
)
def test_q2_results_may_be_reported_from_the_second_quarter_after_the_exit_quarter(period, code):
    row = person(1, exit_date="20250630", employed_q2_after_exit="0", wages_q2_after_exit="0")

    assert codes(Files([row], period=period)) == ([code] if code else [])


def test_q4_results_wait_for_the_fourth_quarter_after_exit():
    row = person(1, exit_date="20241231", employed_q4_after_exit="1", wages_q4_after_exit="8000")

    assert codes(Files([row], period="2025Q3")) == ["L10"]
    assert codes(Files([row], period="2025Q4")) == []


def test_l10_messages_name_the_exit_quarter_and_when_results_may_be_reported():
    row = person(1, exit_date="20250401", employed_q2_after_exit="1", wages_q2_after_exit="500")

    message = Files([row]).check().findings[0].message

    assert message == (
        "employed_q2_after_exit is 1 but the participant exited on 2025-04-01 (2025Q2): "
        "results for the 2nd quarter after exit can be reported from 2025Q4 on — leave "
        "employed_q2_after_exit and wages_q2_after_exit blank (or employed_q2_after_exit 9) "
        "until then"
    )


@pytest.mark.parametrize(
    ("employed", "wages", "expected"),
    [
        ("9", "", []),
        ("", "", []),
        ("9", "0", [("L10", "wages_q2_after_exit")]),
        ("0", "", [("L10", "employed_q2_after_exit")]),
        ("", "100", [("L10", "employed_q2_after_exit"), ("L10", "wages_q2_after_exit")]),
    ],
)
def test_reported_without_any_exit_date_is_l10(employed, wages, expected):
    row = person(1, employed_q2_after_exit=employed, wages_q2_after_exit=wages)

    assert [(c, col) for c, _, _, col in found(Files([row]))] == expected


def test_wages_above_0_while_not_employed_is_l10_whatever_the_timing():
    row = person(1, exit_date="20240601", employed_q2_after_exit="0", wages_q2_after_exit="1")

    assert found(Files([row])) == [("L10", "part", 2, "employed_q2_after_exit")]


def test_l11_is_independent_of_l10():
    row = person(1, exit_date="20250601", employed_q2_after_exit="1", wages_q2_after_exit="0")

    assert codes(Files([row])) == ["L10", "L11"]


def test_l04_received_training_0_with_training_details_is_one_finding_naming_them():
    row = person(1, received_training="0", training_completed="0", credential_type="",
                 credential_date="")  # fmt: skip

    result = Files([row]).check()

    assert [(f.code, f.column) for f in result.findings] == [("L04", "received_training")]
    assert result.findings[0].message.startswith(
        "received_training is 0 but training_start_date, training_type, training_end_date are given"
    )


def test_l07_both_ways_and_l09():
    assert found(Files([person(1, training_end_date="", credential_date="20240301")])) == [
        ("L07", "part", 2, "training_end_date")
    ]
    assert codes(Files([person(1, other_exit_reason="", exit_date="")])) == []
    assert codes(Files([person(1, other_exit_reason="07", exit_date="20250101")])) == []


def test_l12_counts_employment_status_1_or_2_as_an_incumbent_worker():
    for status, code in (("1", None), ("2", None), ("3", "L12"), ("0", "L12")):
        row = person(1, incumbent_advanced="1", employment_status_at_entry=status)
        assert codes(Files([row])) == ([code] if code else [])
    assert codes(Files([person(1, incumbent_advanced="1", incumbent_worker="1")])) == []


def test_every_date_after_the_period_end_is_its_own_l02():
    row = person(1, entry_date="20251001", training_start_date="20251002",
                 training_end_date="20251003", credential_date="20251004",
                 msg_skills_progression_date="20251005")  # fmt: skip

    assert [col for code, _, _, col in found(Files([row])) if code == "L02"] == [
        "entry_date",
        "training_start_date",
        "training_end_date",
        "credential_date",
        "msg_skills_progression_date",
    ]


# Cross-file rules -----------------------------------------------------------------------


def test_l13_finds_a_participant_whose_row_is_held_back():
    files = Files([person(1, sex="3")], [job(1)])

    assert found(files) == [("V03", "part", 2, "sex")]
    assert files.check().placements.kept.height == 0


def test_l14_and_l15_are_skipped_for_a_duplicated_participant():
    people = [person(1, entry_date="20240601", training_start_date="20240601"),
              person(2, participant_id="P001", training_completed="0")]  # fmt: skip

    assert codes(Files(people, [job(1, start_date="20240101")])) == ["D01", "D01"]


def test_l14_and_l15_are_skipped_when_the_fields_they_read_are_invalid():
    people = [person(1, entry_date="x", training_completed="5")]

    assert codes(Files(people, [job(1, start_date="20240101")])) == ["V02", "V03"]


def test_l15_reads_a_blank_training_completed_as_not_1():
    people = [person(1, training_completed="", training_end_date="", credential_type="",
                     credential_date="", received_training="1")]  # fmt: skip

    assert found(Files(people, [job(1)])) == [("L15", "plac", 2, "training_related")]


def test_a_placement_with_an_invalid_id_skips_the_cross_file_rules():
    assert codes(Files([person(1)], [job(1, participant_id="123456789")])) == ["V06"]


def test_no_cross_file_rule_runs_when_the_participant_file_failed_at_format_level():
    header = [c for c in PARTICIPANT_HEADER if c != "sex"]
    files = Files(csv_bytes([person(1)], header), [job(1), job(2, hourly_wage="7")])

    result = files.check()

    assert [(f.file, f.code) for f in result.findings] == [
        ("participants", "F02"),
        ("placements", "L16"),
    ]
    assert result.placements.kept.height == 0


# Duplicates -----------------------------------------------------------------------------


def test_d01_flags_every_row_of_the_group_and_names_them():
    result = Files([person(1), person(2), person(3, participant_id="P001"),
                    person(4, participant_id="P001")]).check()  # fmt: skip

    assert [(f.code, f.row) for f in result.findings] == [("D01", 2), ("D01", 4), ("D01", 5)]
    assert result.findings[0].message.startswith('participant_id "P001" is on rows 2, 4 and 5:')
    assert result.participants.kept["participant_id"].to_list() == ["P002"]


def test_d02_compares_the_nine_digits_and_not_the_same_id_twice():
    same_id = [person(1, ssn="123-45-6789"), person(2, participant_id="P001", ssn="123456789")]

    assert codes(Files(same_id)) == ["D01", "D01"]


def test_d02_compares_by_the_keyed_hash_only_for_ssns_that_may_repeat():
    from grantees.calendar import Quarter
    from reporting.checks import engine

    asked = []

    def keyed(ssn: str) -> str:
        asked.append(ssn)
        return "same"  # a hash that makes every SSN equal

    people = [person(i) for i in range(1, 6)] + [person(6, ssn="123-45-6001")]
    result = engine.check_submission(
        ("p.csv", csv_bytes(people)), period=Quarter.parse("2025Q3"), ssn_hasher=keyed
    )

    assert sorted(asked) == ["123456001", "123456001"]
    assert [(f.code, f.row, f.value) for f in result.findings] == [
        ("D02", 2, "***-**-6001"),
        ("D02", 7, "***-**-6001"),
    ]
    assert "is also given for participant_id P006 (row 7)" in result.findings[0].message


def test_d03_compares_employers_in_any_case_and_dates_as_dates():
    jobs = [
        job(1),
        job(1, employer_name=" acme wind, INC.", start_date="2024-07-01"),
        job(1, employer_name="Other"),
    ]
    result = Files([person(1)], jobs).check()

    assert [(f.code, f.row, f.severity) for f in result.findings] == [
        ("D03", 2, "warning"),
        ("D03", 3, "warning"),
    ]
    assert result.placements.kept.height == 3


# History ---------------------------------------------------------------------------------


def test_h01_names_each_missing_participant_and_h02_each_changed_entry_date():
    files = Files(
        [person(1), person(2, entry_date="20240201", training_start_date="20240201")],
        history=history(("P001", "2024-01-15"), ("P002", "2024-01-15"), ("P003", "2023-12-01")),
    )
    result = files.check()

    assert [(f.code, f.row, f.value) for f in result.findings] == [
        ("H01", None, "P003"),
        ("H02", 3, "20240201"),
    ]
    assert result.errors == 1
    assert result.participants.kept.height == 2
    assert "entry_date 2024-02-01 differs from 2024-01-15" in result.findings[1].message


def test_h01_counts_a_participant_whose_row_is_held_back_or_skipped_as_present():
    rows = csv_bytes([person(1, sex="3")]) + b"P002,short,row\r\n"
    files = Files(rows, history=history(("P001", "2024-01-15"), ("P002", "2024-01-15")))

    assert codes(files) == ["V03", "F04"] or codes(files) == ["F04", "V03"]


def test_history_rules_do_not_run_on_an_unreadable_participant_file():
    files = Files(b"\x00binary", history=history(("P001", "2024-01-15")))

    assert codes(files) == ["F01"]
