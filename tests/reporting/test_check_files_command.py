"""`manage.py check_files` (DATA-CONTRACT.md §6): every rule code through the command,
the JSON shape, the exit statuses, and no database unless --coalition is given."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from reporting import selectors
from tests import factories
from tests.reporting.checks.cases import CASES, Files, csv_bytes, job, person

HISTORY_CODES = {"H01", "H02"}


def write(tmp_path: Path, files: Files) -> list[str]:
    participants = tmp_path / "participants.csv"
    participants.write_bytes(files.participant_bytes())
    arguments = ["--participants", str(participants), "--period", files.period]
    if (placements := files.placement_bytes()) is not None:
        path = tmp_path / "placements.csv"
        path.write_bytes(placements)
        arguments += ["--placements", str(path)]
    return arguments


def run(*arguments: str) -> tuple[dict, int]:
    """The command's JSON and the exit status it would give."""
    out = StringIO()
    try:
        call_command("check_files", *arguments, stdout=out)
        status = 0
    except CommandError as error:
        status = error.returncode
    return json.loads(out.getvalue()), status


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.code not in HISTORY_CODES], ids=lambda case: case.code
)
def test_each_rule_code_comes_out_of_the_command_where_the_grantee_sees_it(tmp_path, case):
    output, status = run(*write(tmp_path, case.failing))

    found = [f for f in output["findings"] if f["code"] == case.code]
    assert case.at in [(f["file"], f["row"], f["column"]) for f in found]
    errors = output["summary"]["errors"]
    assert status == (1 if errors else 0)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.code not in HISTORY_CODES], ids=lambda case: case.code
)
def test_each_passing_example_comes_out_clean_with_status_0(tmp_path, case):
    output, status = run(*write(tmp_path, case.passing))

    assert (output["findings"], status) == ([], 0)


@pytest.mark.django_db
@pytest.mark.parametrize("case", [c for c in CASES if c.code in HISTORY_CODES], ids=str)
def test_history_rules_run_with_a_coalition(tmp_path, monkeypatch, case):
    factories.GrantFactory(coalition__slug="alpha")
    asked = []

    def previous(slug, quarter):
        asked.append((slug, quarter))
        return case.failing.history

    monkeypatch.setattr(selectors, "previous_accepted_history", previous)
    output, _ = run(*write(tmp_path, case.failing), "--coalition", "alpha")

    assert asked == [("alpha", "2025Q3")]
    found = [f for f in output["findings"] if f["code"] == case.code]
    assert case.at in [(f["file"], f["row"], f["column"]) for f in found]

    monkeypatch.setattr(selectors, "previous_accepted_history", lambda *_: case.passing.history)
    output, status = run(*write(tmp_path, case.passing), "--coalition", "alpha")
    assert (output["findings"], status) == ([], 0)


def test_history_rules_do_not_run_without_a_coalition(tmp_path):
    output, status = run(*write(tmp_path, Files([person(1)])))

    assert (output["findings"], status) == ([], 0)


@pytest.mark.django_db
def test_an_unknown_coalition_is_a_bad_argument(tmp_path):
    with pytest.raises(CommandError, match="no coalition") as error:
        call_command("check_files", *write(tmp_path, Files()), "--coalition", "nobody")
    assert error.value.returncode == 2


def test_the_json_has_the_shape_of_the_contract(tmp_path):
    files = Files(
        [
            person(1, exit_date="20240301", entry_date="20240502", training_start_date="20240601"),
            person(2),
        ],
        [job(2), job(3, hourly_wage="7.00")],
    )
    output, status = run(*write(tmp_path, files))

    assert status == 1
    assert output == {
        "period": "2025Q3",
        "summary": {
            "errors": 2,
            "warnings": 1,
            "participant_rows": 2,
            "placement_rows": 2,
            "rows_with_errors": 2,
        },
        "findings": [
            {
                "code": "L01",
                "severity": "error",
                "file": "participants",
                "row": 2,
                "column": "exit_date",
                "value": "20240301",
                "message": "exit_date 2024-03-01 is before entry_date 2024-05-02: the exit "
                "date must be on or after the entry date",
            },
            {
                "code": "L13",
                "severity": "error",
                "file": "placements",
                "row": 3,
                "column": "participant_id",
                "value": "P003",
                "message": output["findings"][1]["message"],
            },
            {
                "code": "L16",
                "severity": "warning",
                "file": "placements",
                "row": 3,
                "column": "hourly_wage",
                "value": "7.00",
                "message": "hourly_wage 7.00 is below the federal minimum wage of 7.25: "
                "check the amount",
            },
        ],
    }


def test_findings_are_ordered_by_file_row_column_then_code(tmp_path):
    files = Files(
        [person(1, sex="3", state_code="XX"), person(2, participant_id="P001", sex="3")],
        [job(9)],
    )
    output, _ = run(*write(tmp_path, files))

    keys = [(f["file"], f["row"], f["column"], f["code"]) for f in output["findings"]]
    assert keys == [
        ("participants", 2, "participant_id", "D01"),
        ("participants", 2, "state_code", "V09"),
        ("participants", 2, "sex", "V03"),
        ("participants", 3, "participant_id", "D01"),
        ("participants", 3, "sex", "V03"),
        ("placements", 2, "participant_id", "L13"),
    ]


def test_no_ssn_is_ever_printed_in_clear(tmp_path):
    files = Files(
        [
            person(1, ssn="123-45-6789"),
            person(2, ssn="123456789"),
            person(3, ssn="000-45-6789"),
            person(4, ssn="12345"),
            person(5, participant_id="987654321"),
        ]
    )
    output, _ = run(*write(tmp_path, files))
    text = json.dumps(output)

    for clear in ("123-45-6789", "123456789", "000-45-6789", "000456789", "12345", "987654321"):
        assert f'"{clear}' not in text
        assert f" {clear}" not in text
    values = {(f["code"], f["value"]) for f in output["findings"]}
    assert values >= {
        ("D02", "***-**-6789"),
        ("V11", "***-**-6789"),
        ("V11", "(masked)"),
        ("V06", "***-**-4321"),
    }


def test_the_text_format_prints_a_table_for_people(tmp_path):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "check_files", *write(tmp_path, Files([person(1, sex="3")])), "--format", "text",
            stdout=out,
        )  # fmt: skip
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("2025Q3: 1 error(s), 0 warning(s)")
    assert lines[1].startswith('V03 error   participants row 2 sex: sex "3" is not an allowed')


def test_the_command_reads_no_database(tmp_path):
    # No django_db mark: pytest-django refuses any query, so this passing proves none.
    output, status = run(*write(tmp_path, Files([person(1)], [job(1)])))

    assert status == 0
    assert output["summary"]["participant_rows"] == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--participants", "/nonexistent.csv", "--period", "2025Q3"], "file not found"),
        (["--period", "2025Q3"], "required: --participants"),
        (["--participants", "{p}", "--period", "2025Q5"], "is not a quarter"),
        (["--participants", "{p}", "--period", "2025Q3", "--format", "xml"], "invalid choice"),
    ],
)
def test_bad_arguments_are_a_command_error_with_status_2(tmp_path, arguments, message):
    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes([person(1)]))
    arguments = [a.format(p=path) for a in arguments]
    with pytest.raises(CommandError, match=message) as error:
        call_command("check_files", *arguments)
    assert error.value.returncode == 2


def manage(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check_files", *arguments],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_real_exit_statuses_are_0_1_and_2(tmp_path):
    clean = manage(*write(tmp_path / "clean", Files([person(1)], [job(1)])))
    assert (clean.returncode, clean.stderr) == (0, "")
    assert json.loads(clean.stdout)["summary"]["errors"] == 0

    broken = manage(*write(tmp_path / "broken", Files([person(1, sex="3")])))
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["findings"][0]["code"] == "V03"

    bad_period = manage(
        "--participants", str(tmp_path / "clean/participants.csv"), "--period", "Q3"
    )
    missing = manage("--participants", str(tmp_path / "nope.csv"), "--period", "2025Q3")
    no_file = manage("--period", "2025Q3")
    for process in (bad_period, missing, no_file):
        assert process.returncode == 2
        assert process.stdout == ""
        assert len(process.stderr.strip().splitlines()) == 1


@pytest.fixture(autouse=True)
def _folders(tmp_path):
    for name in ("clean", "broken"):
        (tmp_path / name).mkdir()


@pytest.mark.parametrize(
    ("argv", "fast"),
    [
        (["--participants", "p.csv", "--period", "2025Q3"], True),
        (["--participants=p.csv", "--placements", "l.csv", "--period", "2025Q3"], True),
        (["--participants", "p.csv", "--period", "2025Q3", "--format", "text"], True),
        (["--participants", "p.csv", "--period", "2025Q3", "--coalition", "alpha"], False),
        (["--participants", "p.csv", "--period", "2025Q3", "--coalition=alpha"], False),
        (["--participants", "p.csv", "--period", "2025Q3", "-v", "2"], False),
        (["--help"], False),
        ([], False),
    ],
)
def test_only_the_plain_case_skips_starting_django(argv, fast):
    from reporting.checks import cli

    assert cli.can_run_without_django(argv) is fast


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_without_django_the_command_prints_exactly_what_the_django_command_prints(tmp_path, fmt):
    files = Files([person(1), person(2, sex="3"), person(3, exit_date="20240101")], [job(1)])
    arguments = [*write(tmp_path, files), "--format", fmt]
    fast = manage(*arguments)
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("check_files", *arguments, stdout=out)
    assert fast.returncode == error.value.returncode == 1
    assert fast.stdout == out.getvalue()
    assert fast.stderr == f"CommandError: {error.value}\n"


def test_the_plain_case_runs_without_loading_django(tmp_path):
    # With settings that cannot be imported, only a run that never starts Django works.
    arguments = write(tmp_path, Files([person(1)], [job(1)]))
    process = subprocess.run(
        [sys.executable, "manage.py", "check_files", *arguments],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "no.such.settings"},
    )
    assert (process.returncode, process.stderr) == (0, "")
    assert json.loads(process.stdout)["summary"]["participant_rows"] == 1
