"""The checks of DATA-CONTRACT.md §3, as pure code: files in, findings and typed rows out.

No Django, no models: the upload job, the commands, the previews and the benchmarks all
call ``check_submission``.

Importing the package loads nothing else (the names below are looked up when first
used): ``manage.py check_files`` starts reading its files before polars has loaded
(reporting/checks/native.py).
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reporting.checks.reading import Source
    from reporting.checks.types import CheckResult, FileResult, Finding, History, Severity

__all__ = ["CheckResult", "FileResult", "Finding", "History", "Severity", "Source"]
_HOMES = {"Source": "reporting.checks.reading"} | dict.fromkeys(
    ["CheckResult", "FileResult", "Finding", "History", "Severity"], "reporting.checks.types"
)


def __getattr__(name: str) -> object:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
