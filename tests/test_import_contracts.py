"""The import contracts of pyproject.toml ([tool.importlinter], issue 15) hold: within
reporting and coaching, views -> services -> selectors -> models; the pure core (checks,
figures, contract) imports no Django; the apps import coaching -> reporting -> grantees ->
bpij, never back (the project package's wiring excepted, each exception named there).
`make check` runs the same; here CI runs it too."""

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
    assert "4 kept, 0 broken" in result.stdout, result.stdout
