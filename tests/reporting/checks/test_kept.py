"""The typed "kept" frames of reporting/checks/README.md: which rows, which dtypes."""

from datetime import date

import polars as pl

from reporting import contract
from reporting.checks import engine
from tests.reporting.checks.cases import PARTICIPANT_HEADER, Files, csv_bytes, job, person


def test_participant_kept_frame_has_every_column_typed_and_blanks_given_their_meaning():
    kept = Files([person(1, ssn="123-45-6789", state_code="ca ", other_exit_reason="",
                         exit_date="20250101", employed_q2_after_exit="1",
                         wages_q2_after_exit="12000.00")]).check().participants.kept  # fmt: skip

    assert kept.schema == engine.kept_schema(contract.PARTICIPANTS)
    assert kept.columns == ["row", *PARTICIPANT_HEADER]
    assert kept.schema["entry_date"] == pl.Date
    assert kept.schema["wages_q4_after_exit"] == pl.Int64
    row = kept.row(0, named=True)
    assert row | {} == row  # a plain dict
    assert (row["row"], row["participant_id"], row["ssn"], row["state_code"]) == (
        2, "P001", "123456789", "CA",
    )  # fmt: skip
    assert (row["entry_date"], row["exit_date"]) == (date(2024, 1, 15), date(2025, 1, 1))
    assert (row["race_white"], row["credential_type"], row["other_exit_reason"]) == ("0", "5", "00")
    assert (row["training_type"], row["wages_q2_after_exit"], row["wages_q4_after_exit"]) == (
        "06", 12000, None,
    )  # fmt: skip
    assert row["msg_training_milestone_date"] is None


def test_placement_kept_frame_has_wages_in_cents_and_no_hourly_wage_column():
    kept = Files([person(1)], [job(1, hourly_wage="18.5", hours_per_week="37.5")]).check()
    placements = kept.placements.kept

    assert placements.schema == engine.kept_schema(contract.PLACEMENTS)
    assert "hourly_wage" not in placements.columns
    row = placements.row(0, named=True)
    assert (row["hourly_wage_cents"], row["hours_per_week"]) == (1850, 37.5)
    assert (row["registered_apprenticeship"], row["naics_code"]) == ("0", "237130")


def test_rows_with_only_warnings_are_kept_and_rows_with_errors_are_not():
    result = Files(
        [person(1, employed_q2_after_exit="1", exit_date="20250101"), person(2, sex="3"),
         person(3)],
        [job(1, hourly_wage="7.00"), job(2), job(3, naics_code="1"), job(3)],
    ).check()  # fmt: skip

    assert result.participants.kept["row"].to_list() == [2, 4]
    # job(2) belongs to a held-back participant; job(3, naics "1") has an error.
    assert result.placements.kept["row"].to_list() == [2, 5]
    assert result.summary() == {
        "errors": 2,
        "warnings": 4,  # L11, L16 and D03 twice
        "participant_rows": 3,
        "placement_rows": 4,
        "rows_with_errors": 2,
    }


def test_placements_of_a_duplicated_participant_are_held_back_without_a_finding():
    result = Files([person(1), person(2, participant_id="P001")], [job(1)]).check()

    assert [f.file for f in result.findings] == ["participants", "participants"]
    assert result.participants.kept.height == 0
    assert result.placements.kept.height == 0
    assert result.placements.findings == []


def test_a_file_failing_at_format_level_keeps_an_empty_frame_of_the_same_schema():
    header = [c for c in PARTICIPANT_HEADER if c != "sex"]
    result = Files(csv_bytes([person(1)], header), [job(1)]).check()

    assert not result.participants.readable
    assert result.placements.readable
    assert result.participants.kept.is_empty()
    assert result.participants.kept.schema == engine.kept_schema(contract.PARTICIPANTS)
    assert result.placements.kept.is_empty()
    assert result.placements.kept.schema == engine.kept_schema(contract.PLACEMENTS)


def test_without_a_placement_file_there_is_no_placement_result():
    result = Files([person(1)]).check()

    assert result.placements is None
    assert result.summary()["placement_rows"] == 0


def test_leaving_the_kept_frames_out_changes_no_finding():
    # manage.py check_files only prints findings and asks for no kept frames (issue 11's
    # speed work); the placements' kept rows still depend on the kept participants.
    from bench.agreement import fuzz_files
    from grantees.calendar import Quarter

    period = Quarter.parse("2025Q3")
    participants, placements = fuzz_files(1_000, seed=9)

    full = engine.check_submission(participants, placements, period=period)
    bare = engine.check_submission(participants, placements, period=period, keep=False)

    assert bare.participants.kept is None
    assert bare.placements is not None
    assert bare.placements.kept is None
    assert [f.as_dict() for f in bare.findings] == [f.as_dict() for f in full.findings]
    assert bare.summary() == full.summary()
    assert len({f.code for f in full.findings}) > 10
