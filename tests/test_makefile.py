"""`make run` says what it is doing at each step (installing, migrating, serving on which
address), so a first run that installs for minutes does not read as a hang. The real
Makefile runs here with its programs (uv, python) replaced by a stub that only says how
it was called: every step and message runs, nothing is installed or served."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def stub(tmp_path) -> Path:
    program = tmp_path / "stub"
    program.write_text('#!/bin/sh\necho "stub: $*"\n')
    program.chmod(0o755)
    (tmp_path / "venv").mkdir()
    return program


def make(tmp_path, stub, *args: str) -> list[str]:
    result = subprocess.run(
        ["make", "--no-print-directory", "-B", *args,
         f"VENV={tmp_path / 'venv'}", f"PY={stub}", f"UV={stub}", f"PYTHON={stub}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={name: value for name, value in os.environ.items() if name != "BPIJ_VAR_DIR"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_make_run_says_what_it_does_at_each_step(tmp_path, stub):
    venv = tmp_path / "venv"
    assert make(tmp_path, stub, "run", "PORT=8123") == [
        f"Installing the locked dependencies into {venv}/ (uv.lock; the first time takes "
        "a few minutes)…",
        "stub: sync --frozen --quiet --compile-bytecode",
        f"Dependencies ready in {venv}/.",
        "Migrating the database (SQLite under var/)…",
        "stub: manage.py migrate --no-input -v0",
        # seed_demo says itself whether it loads the demo or finds it there, and prints
        # the sign-ins (tests/grantees/test_seed_demo.py).
        "stub: manage.py seed_demo --if-empty",
        "Serving on http://127.0.0.1:8123/ (Ctrl-C stops)",
        "stub: manage.py runserver 127.0.0.1:8123",
    ]
