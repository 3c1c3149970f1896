"""The checks of DATA-CONTRACT.md §3, as pure code: files in, findings and typed rows out.

No Django, no models: the upload job, the commands, the previews and the benchmarks all
call ``check_submission``.
"""

from reporting.checks.reading import Source
from reporting.checks.types import CheckResult, FileResult, Finding, History, Severity

__all__ = ["CheckResult", "FileResult", "Finding", "History", "Severity", "Source"]
