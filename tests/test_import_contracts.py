"""The import contracts of pyproject.toml ([tool.importlinter], issue 15) hold: within
reporting and coaching, views -> services -> selectors -> models; the pure core (checks,
figures, the figure catalogue, pace, contract) imports no Django; nothing imports
reporting.tasks; the apps import coaching -> reporting -> grantees -> bpij, never back
(the project package's wiring excepted, each exception named there). No import cycle
remains, counting imports deferred into functions (scripts/import_cycles.py). `make
check` runs the same; here CI runs it too."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 kept, 0 broken" in result.stdout, result.stdout


def test_no_import_cycle_remains_counting_deferred_imports():
    result = subprocess.run(
        [sys.executable, "scripts/import_cycles.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No import cycle" in result.stdout


def test_a_process_that_never_imported_the_tasks_sends_them_by_name():
    # A web process loads no task module: services name the task and Celery's registry
    # finds it (reporting.services.recovery.task), run in-process as the embedded default.
    script = (
        "import sys, django; django.setup()\n"
        "from reporting.services import recovery\n"
        "assert 'reporting.tasks' not in sys.modules, 'the tasks were imported'\n"
        "task = recovery.task('rollup_program')\n"
        "print(task.name, task.app.conf.task_always_eager)\n"
    )
    env = {**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "bpij.settings"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["reporting.tasks.rollup_program", "True"]
