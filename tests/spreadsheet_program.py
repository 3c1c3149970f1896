"""Workbooks saved by a real spreadsheet program: LibreOffice Calc, run headless.

A grantee's program types a column of digits as numbers when it opens a CSV (SSN
012345678 becomes 12345678, ZIP 02134 becomes 2134) and saves those cells as numbers in
the .xlsx. Writing such a workbook by hand would test what we believe the program does;
converting with ``soffice --headless --convert-to xlsx`` tests what it does. The
workbooks are made at run time, not committed: a binary fixture cannot be reviewed, and
would keep passing if a newer LibreOffice saved differently.

Without soffice the tests that need it are skipped with a reason, unless
BPIJ_REQUIRE_SOFFICE=1 (CI, which installs libreoffice-calc-nogui), which turns the skip
into a failure.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOFFICE = os.environ.get("BPIJ_SOFFICE") or shutil.which("soffice") or "/usr/bin/soffice"
REQUIRED = os.environ.get("BPIJ_REQUIRE_SOFFICE", "") == "1"
MISSING = "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"


def soffice_present() -> bool:
    return Path(SOFFICE).is_file() and os.access(SOFFICE, os.X_OK)


def require_soffice() -> None:
    if soffice_present():
        return
    if REQUIRED:
        pytest.fail(f"BPIJ_REQUIRE_SOFFICE=1, but {MISSING}")
    pytest.skip(f"{MISSING}: tests of files saved by a spreadsheet program skipped")


def saved_as_xlsx(csvs: dict[str, bytes], folder: Path) -> dict[str, bytes]:
    """Each CSV (name → bytes) opened and saved as .xlsx by LibreOffice Calc, in one run
    (starting soffice takes seconds); name → the workbook's bytes."""
    require_soffice()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in csvs.items():
        path = folder / f"{name}.csv"
        path.write_bytes(content)
        paths.append(str(path))
    # A profile of its own: two soffice processes sharing one refuse to start.
    profile = (folder / "profile").as_uri()
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(folder),
            *paths,
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return {name: (folder / f"{name}.xlsx").read_bytes() for name in csvs}
