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
            {"participant_id": "A3", "entry_date": "20240101", "exit_date": "20250115",
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
