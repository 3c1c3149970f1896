"""`manage.py export_report`: writes the stored file, prints its path, size and SHA-256,
records and audits the export under a named person, reuses an identical export, and
answers bad arguments with one line and exit status 2."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bpij.models import AuditAction, AuditEvent
from reporting.models import Export, ExportKind, ExportStatus
from tests.reporting import test_exports

# The services' fixtures: two coalitions' reports rolled up, a renderer standing in.
reported = test_exports.reported
renderer = test_exports.renderer

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("export_report", *args, stdout=out)
    return out.getvalue()


def test_the_coalition_report_is_written_with_its_size_and_sha256(
    cast,
    reported,
    renderer,
    tmp_path,
):
    target = tmp_path / "alpha.pdf"
    printed = run("--coalition", "alpha", "--period", "2025Q3", "--out", str(target))
    export = Export.objects.get()
    content = target.read_bytes()
    assert content.startswith(b"%PDF")
    assert export.kind == ExportKind.COALITION_REPORT
    assert export.status == ExportStatus.READY
    assert hashlib.sha256(content).hexdigest() == export.sha256
    assert printed.strip() == (
        f"{target}\t{len(content)} bytes\tsha256 {export.sha256}\texport {export.code}"
    )
    # Recorded under the first active JFF administrator, and audited.
    assert export.requested_by == cast.jff_admin
    event = AuditEvent.objects.get(action=AuditAction.EXPORT_REQUESTED)
    assert event.actor == cast.jff_admin
    assert event.detail["export"] == str(export.code)


def test_running_it_again_reuses_the_stored_file(cast, reported, renderer, tmp_path):
    first, second = tmp_path / "1.pdf", tmp_path / "2.pdf"
    run("--coalition", "alpha", "--period", "2025Q3", "--out", str(first))
    printed = run("--coalition", "alpha", "--period", "2025q3", "--out", str(second))
    assert "(reused" in printed
    assert first.read_bytes() == second.read_bytes()
    assert Export.objects.count() == 1
    assert len(renderer.calls) == 1


@pytest.mark.parametrize(
    ("args", "kind", "coalition"),
    [
        (["--program"], ExportKind.PROGRAM_SUMMARY, None),
        (["--program", "--format", "xlsx"], ExportKind.DATA_PACK_XLSX, None),
        (["--coalition", "bravo", "--format", "csv"], ExportKind.DATA_PACK_CSV, "bravo"),
    ],
)
def test_the_program_summary_and_the_data_packs(
    cast,
    reported,
    renderer,
    tmp_path,
    args,
    kind,
    coalition,
):
    target = tmp_path / "out"
    run(*args, "--period", "2025Q3", "--out", str(target), "--as", cast.officer.email.upper())
    export = Export.objects.get()
    assert (export.kind, export.coalition.slug if export.coalition else None) == (kind, coalition)
    assert export.requested_by == cast.officer
    assert hashlib.sha256(target.read_bytes()).hexdigest() == export.sha256


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2025Q3", "--out", "x.pdf"], "pass --coalition SLUG or --program"),
        (["--program", "--out", "x.pdf"], "--period is required, e.g. --period 2025Q3"),
        (["--program", "--period", "2025Q3"], "--out is required"),
        (
            ["--program", "--period", "2025Q3", "--out", "x", "--format", "doc"],
            "use pdf, xlsx or csv",
        ),
        (["--program", "--period", "Q3", "--out", "x.pdf"], "'Q3' is not a quarter"),
        (["--coalition", "zulu", "--period", "2025Q3", "--out", "x.pdf"], "'zulu' is not a"),
        (["--program", "--period", "2025Q2", "--out", "x.pdf"], "No coalition's 2025Q2 report"),
        (["--program", "--period", "2025Q3", "--out", "no/such/dir/x.pdf"], "does not exist"),
        (
            ["--program", "--period", "2025Q3", "--out", "x.pdf", "--as", "n@o.example"],
            "not an active",
        ),
        (
            ["--program", "--period", "2025Q3", "--out", "x.pdf", "--as", "coach@jff.example"],
            "may not make this export",
        ),
        (
            ["--coalition", "alpha", "--period", "2025Q3", "--out", "x.pdf", "--accepted-only"],
            "--accepted-only is for the program summary PDF",
        ),
        (
            ["--program", "--period", "2025Q3", "--out", "x", "--format", "csv", "--accepted-only"],
            "--accepted-only is for the program summary PDF",
        ),
        (
            ["--program", "--period", "2025Q3", "--out", "x.pdf", "--accepted-only"],
            "No coalition's 2025Q3 report has been accepted yet",
        ),
    ],
)
def test_bad_arguments_say_what_is_wrong(cast, reported, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match=message) as raised:
        run(*args)
    assert raised.value.returncode == 2
    assert not Export.objects.exists()


def test_without_a_jff_administrator_it_asks_for_one(cast, reported, tmp_path):
    cast.jff_admin.is_active = False
    cast.jff_admin.save()
    with pytest.raises(CommandError, match="pass --as EMAIL"):
        run("--program", "--period", "2025Q3", "--out", str(tmp_path / "x.pdf"))


def test_a_rendering_failure_exits_with_status_1(cast, reported, renderer, tmp_path):
    renderer.error = RuntimeError("out of memory")
    target = tmp_path / "x.pdf"
    with pytest.raises(CommandError, match="could not be rendered") as raised:
        run("--coalition", "alpha", "--period", "2025Q3", "--out", str(target))
    assert raised.value.returncode == 1
    assert not target.exists()
    assert Export.objects.get().status == ExportStatus.FAILED


def test_from_the_shell_a_bad_argument_is_one_line_and_status_2():
    result = subprocess.run(
        [sys.executable, "manage.py", "export_report", "--program", "--period", "2025Q3"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bpij.settings_test"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "CommandError: --out is required, e.g. --out report.pdf"
    ]
    assert result.stdout == ""


def test_the_summary_for_dol_counts_accepted_reports_only(cast, reported, renderer, tmp_path):
    from reporting import services

    alpha, _ = reported
    services.submission_accept(submission=alpha, actor=cast.officer)
    services.rollup_period(period_id=alpha.period_id, program=False)
    target = tmp_path / "dol.pdf"
    run("--program", "--period", "2025Q3", "--out", str(target), "--accepted-only")
    export = Export.objects.get()
    assert export.kind == ExportKind.PROGRAM_SUMMARY
    assert export.filename == "bpij-2025q3-program-summary-accepted.pdf"
    assert export.provenance["accepted_only"] is True
    assert [s["slug"] for s in export.provenance["submissions"]] == ["alpha"]
    assert renderer.calls[0][1]["accepted_only"] is True
