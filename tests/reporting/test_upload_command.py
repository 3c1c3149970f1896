import pytest
import time_machine
from django.core.management import CommandError, call_command

from reporting.models import Submission, Upload
from tests.reporting.checks.cases import csv_bytes, person


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "people.csv"
    good.write_bytes(csv_bytes([person(1), person(2, exit_date="20240101")]))
    return good


@time_machine.travel("2025-10-20 10:00 -0400")
def test_a_reporter_uploads_from_the_command_line_and_sees_the_result(
    cast, period_a, files, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "upload_files", "--coalition", "alpha", "--period", "2025Q3",
            "--as", cast.reporter_a.email, "--participants", str(files),
        )  # fmt: skip
    submission = Submission.objects.get(period=period_a)
    assert Upload.objects.get(submission=submission).original_name == "people.csv"
    out = capsys.readouterr().out
    assert "participants: people.csv stored" in out
    submission.refresh_from_db()
    assert submission.state == "needs_fixes"


@time_machine.travel("2025-10-20 10:00 -0400")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as", "viewer@alpha.example"], "may not upload"),
        (["--as", "admin@bravo.example"], "may not upload"),
        (["--as", "nobody@alpha.example"], "No active account"),
        (["--as", "admin@alpha.example", "--period", "2025Q9"], "2025Q3"),
    ],
)
def test_the_command_refuses_with_a_reason(cast, period_a, files, args, message):
    base = {"--coalition": "alpha", "--period": "2025Q3", "--participants": str(files)}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [item for pair in base.items() for item in pair] + args[:2]
    with pytest.raises(CommandError, match=message):
        call_command("upload_files", *argv)
    assert not Upload.objects.exists()
