"""`manage.py quarterly_figures` (DATA-CONTRACT.md §6) on small CSV files."""

import csv
import json
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from grantees.calendar import Quarter
from reporting import figures, selectors
from reporting.checks import engine
from tests.reporting.test_figures import jobs, people

REPO = Path(__file__).resolve().parents[2]
GRANT = ["--period", "2025Q3", "--grant-start", "2023-10-01"]

PERSON = {
    "participant_id": "",
    "state_code": "CO",
    "date_of_birth": "19900101",
    "sex": "1",
    "disability": "0",
    "hispanic_latino": "0",
    "veteran": "0",
    "employment_status_at_entry": "0",
    "highest_education": "1",
    "low_income": "0",
    "incumbent_worker": "0",
    "entry_date": "20250801",
    "exit_date": "",
    "received_training": "0",
    "employed_q2_after_exit": "",
    "wages_q2_after_exit": "",
}
JOB = {
    "participant_id": "",
    "employer_name": "Prairie Wind Services",
    "start_date": "20250805",
    "hourly_wage": "18.25",
    "hours_per_week": "40",
    "training_related": "0",
}


def write_csv(path: Path, defaults: dict, rows: list[dict]) -> str:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(defaults))
        writer.writeheader()
        writer.writerows({**defaults, **row} for row in rows)
    return str(path)


@pytest.fixture
def files(tmp_path) -> tuple[str, str]:
    participants = write_csv(
        tmp_path / "participants.csv",
        PERSON,
        [
            {"participant_id": "A1"},
            {"participant_id": "A2", "entry_date": "20250715", "exit_date": "20250901"},
            # L01, an error: held back, and its placement with it.
            {"participant_id": "BAD", "exit_date": "20250701"},
            # Exited in 2024Q3: the E-1/E-2 cohort of 2025Q3's current quarter.
            {"participant_id": "A3", "entry_date": "20240101", "exit_date": "20240815",
             "employed_q2_after_exit": "1", "wages_q2_after_exit": "9000"},
        ],
    )  # fmt: skip
    placements = write_csv(
        tmp_path / "placements.csv",
        JOB,
        [
            {"participant_id": "A1"},
            # L16 is only a warning: the row counts.
            {"participant_id": "A2", "start_date": "20250902", "hourly_wage": "6.50"},
            {"participant_id": "BAD", "start_date": "20250810", "hourly_wage": "30.00"},
            # V04, an error: held back.
            {"participant_id": "A1", "start_date": "20250810", "hourly_wage": "abc"},
        ],
    )
    return participants, placements


def run(*args: str) -> tuple[dict, str]:
    out, err = StringIO(), StringIO()
    call_command("quarterly_figures", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def bad_arguments(*args: str) -> str:
    with pytest.raises(CommandError) as raised:
        call_command("quarterly_figures", *args, stdout=StringIO(), stderr=StringIO())
    assert raised.value.returncode == 2
    message = str(raised.value)
    assert "\n" not in message
    return message


# These read files through reporting.checks.engine.check_submission.


def test_prints_the_figures_of_the_rows_without_errors(files):
    participants, placements = files
    result, notes = run("--participants", participants, "--placements", placements, *GRANT)
    assert result["period"] == "2025Q3"
    current, to_date = result["windows"]["current_quarter"], result["windows"]["grant_to_date"]
    assert (current["A-1"], current["A-2"], current["A-3"]) == (1, 2, 2)
    assert (to_date["A-1"], to_date["A-2"], to_date["A-3"]) == (2, 3, 3)
    assert current["D-1"] == 2
    assert current["D-3"] == "12.38"  # 18.25 and 6.50; the 30.00 and "abc" are held back
    assert current["E-1"] == {"numerator": 1, "denominator": 1, "rate": 100.0}
    assert current["E-2"] == 9000
    assert "1 participant row held back" in notes
    assert "2 placement rows held back" in notes


# Every key of every window against DATA-CONTRACT.md §4 (as corrected for issue 10),
# worked out by hand for a clean file and for the same file with defects added. Report
# quarter 2025Q3, grant start 2023-10-01. E-1/E-2 cohorts exit in 2024Q3 / 2023Q4..2024Q3
# / up to 2024Q3; E-3/E-4 in 2024Q1 / 2023Q2..2024Q1 / up to 2024Q1; E-5 is PY2025
# (2025-07-01) to 2025-09-30.

FULL_PERSON = {
    **PERSON,
    "race_american_indian": "", "race_asian": "", "race_black": "",
    "race_pacific_islander": "", "race_white": "", "other_exit_reason": "",
    "training_start_date": "", "training_type": "", "training_completed": "",
    "training_end_date": "", "credential_type": "", "credential_date": "",
    "msg_training_milestone_date": "", "msg_skills_progression_date": "",
    "employed_q4_after_exit": "", "wages_q4_after_exit": "",
    "incumbent_retained": "", "incumbent_advanced": "",
}  # fmt: skip
CLEAN_PEOPLE = [
    # C1: new this quarter, no training; 35 at entry.
    {"participant_id": "C1"},
    # C2: in training since 2024-11-01 (no end): E-5 with a gain in PY2025.
    {"participant_id": "C2", "date_of_birth": "20000315", "entry_date": "20241015",
     "sex": "2", "hispanic_latino": "1", "race_black": "1", "race_white": "1",
     "veteran": "1", "disability": "1", "low_income": "1", "employment_status_at_entry": "3",
     "highest_education": "5", "received_training": "1", "training_start_date": "20241101",
     "training_type": "06", "msg_training_milestone_date": "20250815"},
    # C3: exited 2024Q3, employed in Q2 at $6,000; its Q4 outcome is reported but the
    # lag keeps 2024Q3 out of every E-3 cohort.
    {"participant_id": "C3", "date_of_birth": "19800601", "entry_date": "20240101",
     "exit_date": "20240815", "sex": "2", "employment_status_at_entry": "1",
     "highest_education": "7", "received_training": "1", "training_start_date": "20240115",
     "training_type": "02", "training_completed": "1", "training_end_date": "20240731",
     "credential_type": "5", "credential_date": "20240810", "employed_q2_after_exit": "1",
     "wages_q2_after_exit": "6000", "employed_q4_after_exit": "1",
     "wages_q4_after_exit": "6500"},
    # C4: exited 2024Q3, Q2 outcome not yet known (9): in no rate.
    {"participant_id": "C4", "entry_date": "20240101", "exit_date": "20240920",
     "employed_q2_after_exit": "9"},
    # C5: exited 2024Q3, not employed in Q2; 59 at entry, incumbent.
    {"participant_id": "C5", "date_of_birth": "19650101", "entry_date": "20240201",
     "exit_date": "20240705", "sex": "9", "employment_status_at_entry": "2",
     "highest_education": "0", "incumbent_worker": "1", "employed_q2_after_exit": "0"},
    # C6: apprentice who exited 2024Q1 with a certification; employed in Q2 and Q4.
    {"participant_id": "C6", "date_of_birth": "19750601", "entry_date": "20231101",
     "exit_date": "20240301", "race_asian": "1", "highest_education": "4",
     "received_training": "1", "training_start_date": "20231115", "training_type": "09",
     "training_completed": "1", "training_end_date": "20240228", "credential_type": "6",
     "credential_date": "20240315", "employed_q2_after_exit": "1",
     "wages_q2_after_exit": "7000", "employed_q4_after_exit": "1",
     "wages_q4_after_exit": "7200"},
    # C7: on-the-job training (not in E-4), exited 2024Q1; Q4 not yet known.
    {"participant_id": "C7", "entry_date": "20231001", "exit_date": "20240115", "sex": "2",
     "received_training": "1", "training_start_date": "20231010", "training_type": "01",
     "training_completed": "0", "training_end_date": "20240110",
     "employed_q2_after_exit": "0", "employed_q4_after_exit": "9"},
    # C8: incumbent in customized training ending this quarter, retained and advanced.
    {"participant_id": "C8", "date_of_birth": "19850101", "entry_date": "20250105",
     "employment_status_at_entry": "1", "incumbent_worker": "1", "highest_education": "3",
     "received_training": "1", "training_start_date": "20250110", "training_type": "05",
     "training_completed": "1", "training_end_date": "20250815",
     "incumbent_retained": "1", "incumbent_advanced": "1",
     "msg_skills_progression_date": "20250620"},
    # C9: finished training in May 2025 and has not exited: not in E-5's denominator.
    {"participant_id": "C9", "entry_date": "20240501", "received_training": "1",
     "training_start_date": "20240601", "training_type": "06", "training_completed": "1",
     "training_end_date": "20250520", "msg_training_milestone_date": "20250515"},
    # C10: entered, trained as an apprentice, earned a licence and exited this quarter.
    {"participant_id": "C10", "date_of_birth": "20050701", "entry_date": "20250701",
     "exit_date": "20250825", "sex": "2", "race_american_indian": "1",
     "race_pacific_islander": "1", "low_income": "1", "highest_education": "2",
     "received_training": "1", "training_start_date": "20250702", "training_type": "09",
     "training_completed": "1", "training_end_date": "20250815", "credential_type": "4",
     "credential_date": "20250820", "msg_training_milestone_date": "20250810"},
    # C11: excluded (health), in the 2024Q3 cohort but in no rate.
    {"participant_id": "C11", "entry_date": "20240101", "exit_date": "20240801",
     "other_exit_reason": "02", "employed_q2_after_exit": "1",
     "wages_q2_after_exit": "50000"},
    # C12: entered and exited before the grant (2023Q3): only in the cohorts that reach
    # back that far (Grant to Date for E-1/E-2; Rolling 4 and Grant to Date for E-3/E-4).
    {"participant_id": "C12", "entry_date": "20230601", "exit_date": "20230915",
     "received_training": "1", "training_start_date": "20230610", "training_type": "06",
     "training_completed": "1", "training_end_date": "20230910",
     "employed_q2_after_exit": "1", "wages_q2_after_exit": "4000",
     "employed_q4_after_exit": "0"},
]  # fmt: skip
CLEAN_JOBS = [
    {"participant_id": "C3", "start_date": "20240820", "hourly_wage": "22.00",
     "training_related": "1"},
    {"participant_id": "C8", "start_date": "20250820", "hourly_wage": "30.00",
     "training_related": "1"},
    {"participant_id": "C10", "start_date": "20250901", "hourly_wage": "18.25",
     "training_related": "1"},
    {"participant_id": "C1", "start_date": "20250905", "hourly_wage": "16.00"},
    {"participant_id": "C3", "start_date": "20250710", "hourly_wage": "25.00"},
]  # fmt: skip
DEFECTIVE_PEOPLE = [
    *CLEAN_PEOPLE,
    # Warnings only (L11: employed with a $0 wage), so the row counts: in E-1, and its
    # $0 is not earnings, so not in E-2.
    {"participant_id": "W1", "entry_date": "20240101", "exit_date": "20240810", "sex": "2",
     "employed_q2_after_exit": "1", "wages_q2_after_exit": "0"},
    # Errors: held back, with their placements.
    {"participant_id": "BAD1", "entry_date": "20240901", "exit_date": "20240810",
     "employed_q2_after_exit": "1", "wages_q2_after_exit": "9999"},  # L01
    {"participant_id": "BAD2", "entry_date": "20240101", "exit_date": "20240805",
     "employed_q2_after_exit": "9", "wages_q2_after_exit": "500"},  # L10
    {"participant_id": "BAD3", "sex": "5"},  # V03
    {"participant_id": "DUP", "entry_date": "20250710"},  # D01, both rows
    {"participant_id": "DUP", "entry_date": "20250711"},
]  # fmt: skip
DEFECTIVE_JOBS = [
    *CLEAN_JOBS,
    {"participant_id": "W1", "start_date": "20250812", "hourly_wage": "6.50"},  # L16
    {"participant_id": "BAD1", "start_date": "20250810", "hourly_wage": "40.00"},
    {"participant_id": "DUP", "start_date": "20250815", "hourly_wage": "41.00"},
    {"participant_id": "C1", "start_date": "20250810", "hourly_wage": "abc"},  # V04
]  # fmt: skip


def rate_of(numerator: int, denominator: int, percent: float | None) -> dict:
    return {"numerator": numerator, "denominator": denominator, "rate": percent}


def expected(per_window: dict[str, tuple]) -> dict:
    """The §6 object: every count 0, medians null and rates n/a unless given (as one
    value per window: Current Quarter, Rolling 4 Quarters, Grant to Date)."""
    windows = {}
    for i, window in enumerate(("current_quarter", "rolling_4_quarters", "grant_to_date")):
        figures_of_window = {}
        for key in figures.FIGURE_KEYS:
            if key in per_window:
                figures_of_window[key] = per_window[key][i]
            elif key in figures.RATE_KEYS:
                figures_of_window[key] = rate_of(0, 0, None)
            elif key in ("D-3", "E-2"):
                figures_of_window[key] = None
            else:
                figures_of_window[key] = 0
        windows[window] = figures_of_window
    return {"period": "2025Q3", "windows": windows}


CLEAN_FIGURES = {
    # Current quarter and Rolling 4 serve C1, C2, C8, C9, C10; Grant to Date C1–C11
    # (C12 left before the grant started).
    "A-1": (1, 1, 7),
    "A-2": (5, 5, 11),
    "A-3": (2, 4, 11),
    "B-sex-male": (3, 3, 6),
    "B-sex-female": (2, 2, 4),
    "B-sex-unknown": (0, 0, 1),
    "B-hispanic": (1, 1, 1),
    "B-race-american-indian": (1, 1, 1),
    "B-race-asian": (0, 0, 1),
    "B-race-black": (1, 1, 1),
    "B-race-pacific-islander": (1, 1, 1),
    "B-race-white": (1, 1, 1),
    "B-race-multiple": (2, 2, 2),
    "B-age-17-29": (2, 2, 2),
    "B-age-30-44": (3, 3, 7),
    "B-age-45-54": (0, 0, 1),
    "B-age-55-plus": (0, 0, 1),
    "B-veteran": (1, 1, 1),
    "B-disability": (1, 1, 1),
    "B-low-income": (2, 2, 2),
    "B-incumbent": (1, 1, 2),
    "B-employed-at-entry": (1, 1, 3),
    "B-unemployed-at-entry": (3, 3, 7),
    "B-not-in-labor-force": (1, 1, 1),
    "B-edu-none": (0, 0, 1),
    "B-edu-secondary": (4, 4, 7),
    "B-edu-postsecondary": (1, 1, 2),
    "B-edu-bachelors-plus": (0, 0, 1),
    "C-1": (1, 3, 7),
    "C-2": (1, 1, 2),
    "C-3": (2, 3, 5),
    "C-4": (1, 1, 3),
    "D-1": (3, 3, 4),
    "D-2": (2, 2, 3),
    # 16.00, 18.25, 25.00, 30.00 → 21.625 → 21.63; with 22.00 of 2024 → 22.00.
    "D-3": ("21.63", "21.63", "22.00"),
    "D-4": (1, 1, 1),
    "D-5": (1, 1, 1),
    # 2024Q3: C3 employed, C5 not (C4 unknown, C11 excluded); + C6, C7 (2024Q1) in
    # Rolling 4; + C12 (2023Q3) in Grant to Date.
    "E-1": (rate_of(1, 2, 50.0), rate_of(2, 4, 50.0), rate_of(3, 5, 60.0)),
    "E-2": (6000, 6500, 6000),
    # 2024Q1: C6 (C7 unknown); + C12 (2023Q3) in Rolling 4 and Grant to Date.
    "E-3": (rate_of(1, 1, 100.0), rate_of(1, 2, 50.0), rate_of(1, 2, 50.0)),
    # C6 attained (C7's OJT is not in it); + C12, trained without a credential.
    "E-4": (rate_of(1, 1, 100.0), rate_of(1, 2, 50.0), rate_of(1, 2, 50.0)),
    # Training overlapping PY2025: C2 and C10 gained, C8 not; C9's ended in May.
    "E-5": (rate_of(2, 3, 66.7),) * 3,
}
# W1 (exited 2024Q3, employed, $0) and its $6.50 placement are all the defects add.
DEFECTIVE_FIGURES = {
    **CLEAN_FIGURES,
    "A-1": (1, 1, 8),
    "A-2": (5, 5, 12),
    "A-3": (2, 4, 12),
    "B-sex-female": (2, 2, 5),
    "B-age-30-44": (3, 3, 8),
    "B-unemployed-at-entry": (3, 3, 8),
    "B-edu-secondary": (4, 4, 8),
    "D-1": (4, 4, 5),
    # 6.50 joins: 18.25 in the quarter; 18.25 and 22.00 → 20.125 → 20.13 to date.
    "D-3": ("18.25", "18.25", "20.13"),
    "E-1": (rate_of(2, 3, 66.7), rate_of(3, 5, 60.0), rate_of(4, 6, 66.7)),
}


def test_a_clean_file_gives_the_contracts_figures_on_every_key_of_every_window(tmp_path):
    participants = write_csv(tmp_path / "p.csv", FULL_PERSON, CLEAN_PEOPLE)
    placements = write_csv(tmp_path / "l.csv", JOB, CLEAN_JOBS)
    checked = engine.check_submission(participants, placements, period=Quarter.parse("2025Q3"))
    assert [(f.code, f.row, f.column) for f in checked.findings] == []
    result, notes = run("--participants", participants, "--placements", placements, *GRANT)
    assert notes == ""
    assert result == expected(CLEAN_FIGURES)


def test_a_defective_file_gives_the_contracts_figures_of_its_rows_without_errors(tmp_path):
    participants = write_csv(tmp_path / "p.csv", FULL_PERSON, DEFECTIVE_PEOPLE)
    placements = write_csv(tmp_path / "l.csv", JOB, DEFECTIVE_JOBS)
    result, notes = run("--participants", participants, "--placements", placements, *GRANT)
    assert "5 participant rows held back" in notes
    assert "3 placement rows held back" in notes
    assert result == expected(DEFECTIVE_FIGURES)


def test_without_a_placement_file_there_is_no_employment(files):
    participants, _ = files
    result, _ = run("--participants", participants, *GRANT, "--format", "json")
    current = result["windows"]["current_quarter"]
    assert (current["A-2"], current["D-1"], current["D-2"], current["D-3"]) == (2, 0, 0, None)
    assert list(current) == list(figures.FIGURE_KEYS)


def test_a_participant_file_that_cannot_be_read_gives_no_counts_and_says_so(files, tmp_path):
    _, placements = files
    unreadable = tmp_path / "participants.csv"
    unreadable.write_text("participant_id\n")  # F05: a header and no data rows
    result, notes = run("--participants", str(unreadable), "--placements", placements, *GRANT)
    current = result["windows"]["current_quarter"]
    assert (current["A-2"], current["D-1"], current["D-3"]) == (0, 0, None)
    assert "participant file failed the format checks" in notes


def test_from_the_command_line_it_prints_json_and_exits_0(files):
    participants, placements = files
    done = subprocess.run(
        [sys.executable, "manage.py", "quarterly_figures", "--participants", participants,
         "--placements", placements, *GRANT, "--format", "json"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["windows"]["current_quarter"]["A-2"] == 2


def test_figures_read_the_same_kept_frames_the_checks_give():
    assert figures.participants_schema() == engine.kept_schema("participants")
    assert figures.placements_schema() == engine.kept_schema("placements")


# Bad arguments: exit 2 with one line, before any file is read.


def test_from_the_command_line_bad_arguments_exit_2_with_one_line():
    done = subprocess.run(
        [sys.executable, "manage.py", "quarterly_figures", "--participants", "missing.csv",
         *GRANT],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "CommandError: --participants file not found: missing.csv"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2025Q5", "--grant-start", "2023-10-01"], "is not a quarter"),
        (["--period", "2025-07", "--grant-start", "2023-10-01"], "is not a quarter"),
        (["--grant-start", "2023-10-01"], "--period is required"),
        (["--period", "2025Q3", "--grant-start", "2023-13-01"], "is not a date"),
        (["--period", "2025Q3"], "--grant-start is required"),
        (["--period", "2023Q3", "--grant-start", "2023-10-01"], "ends before the grant"),
        ([*GRANT, "--format", "csv"], "--format"),
        ([*GRANT, "--bogus"], "unrecognized arguments: --bogus"),
        ([*GRANT, "--placements"], "expected one argument"),
    ],
)
def test_bad_period_grant_start_or_format_exit_2(files, args, message):
    participants, _ = files
    assert message in bad_arguments("--participants", participants, *args)


def test_a_missing_file_exits_2(files, tmp_path):
    participants, _ = files
    missing = str(tmp_path / "nope.csv")
    assert "not found" in bad_arguments("--participants", missing, *GRANT)
    assert "not found" in bad_arguments(
        "--participants", participants, "--placements", missing, *GRANT
    )
    assert "not found" in bad_arguments("--participants", str(tmp_path), *GRANT)


def test_neither_files_nor_coalition_exits_2(files):
    _, placements = files
    assert "--participants" in bad_arguments(*GRANT)
    assert "--participants" in bad_arguments("--placements", placements, *GRANT)


def test_files_and_coalition_together_exit_2(files):
    participants, _ = files
    message = bad_arguments("--participants", participants, "--coalition", "alpha", *GRANT)
    assert "not both" in message


# --coalition reads stored submissions through reporting.selectors.accepted_frames.


def test_coalition_uses_its_accepted_submission_and_grant_start(monkeypatch):
    calls = []

    def accepted_frames(slug, quarter):
        calls.append((slug, quarter))
        return (
            people({"entry_date": "20231014"}, {"entry_date": "20231016"}),
            jobs({"participant_id": "P2", "start_date": "20250805", "hourly_wage_cents": 1999}),
            date(2023, 10, 15),
        )

    monkeypatch.setattr(selectors, "accepted_frames", accepted_frames, raising=False)
    result, _ = run("--coalition", "alpha", "--period", "2025Q3")
    assert calls == [("alpha", "2025Q3")]
    assert result["windows"]["grant_to_date"]["A-3"] == 1  # the grant started 2023-10-15
    assert result["windows"]["current_quarter"]["D-3"] == "19.99"
    # An explicit --grant-start is taken as given.
    result, _ = run("--coalition", "alpha", "--period", "2025Q3", "--grant-start", "2023-10-01")
    assert result["windows"]["grant_to_date"]["A-3"] == 2


def test_coalition_with_no_accepted_submission_for_the_period_exits_2(monkeypatch):
    monkeypatch.setattr(selectors, "accepted_frames", lambda slug, quarter: None, raising=False)
    assert "no accepted submission" in bad_arguments("--coalition", "alpha", *GRANT)
