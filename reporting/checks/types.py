from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

import polars as pl


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, where the grantee's spreadsheet shows it.

    ``row`` counts as the spreadsheet does (the header is row 1); it is None for
    F01/F05. ``value`` is the cell as given, every SSN-shaped run of digits in it (and
    in ``message``) masked to its last four. ``omitted`` is how many more findings of the
    same rule and column the file has that were counted but not kept (engine caps them).
    """

    code: str
    severity: Severity
    file: str  # "participants" | "placements"
    row: int | None
    column: str | None
    value: str | None
    message: str
    omitted: int = 0

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class FileResult:
    """What one file gave: its findings, how many data rows it had, and its kept rows
    typed as described in reporting/checks/README.md (rows with no error only)."""

    kind: str
    findings: list[Finding] = field(default_factory=list)
    data_rows: int = 0
    kept: pl.DataFrame | None = None
    readable: bool = True  # False after F01, F02 or F05
    # Rows with an error, omitted findings' rows included (None: count ``findings``).
    rows_with_errors: int | None = None
    # participant_ids whose masked SSN stands for the one the hub holds (engine's
    # ``stored_ssns``): their ``ssn`` in ``kept`` is null, the stored one is to be kept.
    ssn_carried: list[str] = field(default_factory=list)


@dataclass
class History:
    """The coalition's previous accepted submission, for H01/H02: participant_id and
    entry_date (a date) of every participant in it."""

    participants: pl.DataFrame


@dataclass
class CheckResult:
    period: str
    participants: FileResult
    placements: FileResult | None

    @property
    def findings(self) -> list[Finding]:
        found = list(self.participants.findings)
        if self.placements is not None:
            found += self.placements.findings
        return found

    @property
    def errors(self) -> int:
        """Every error found, those counted but not kept included."""
        return sum(1 + f.omitted for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 + f.omitted for f in self.findings if f.severity is Severity.WARNING)

    def summary(self) -> dict:
        rows_with_errors = 0
        for result in (self.participants, self.placements):
            if result is None:
                continue
            if result.rows_with_errors is not None:
                rows_with_errors += result.rows_with_errors
            else:
                rows_with_errors += len(
                    {
                        f.row
                        for f in result.findings
                        if f.severity is Severity.ERROR and f.row is not None
                    }
                )
        return {
            "errors": self.errors,
            "warnings": self.warnings,
            "participant_rows": self.participants.data_rows,
            "placement_rows": self.placements.data_rows if self.placements else 0,
            "rows_with_errors": rows_with_errors,
        }

    def omitted(self) -> list[dict]:
        """Per file, rule and column whose findings were capped: how many are listed
        and how many there are in all."""
        listed = Counter((f.file, f.code, f.column) for f in self.findings)
        return [
            {
                "file": f.file,
                "code": f.code,
                "column": f.column,
                "severity": str(f.severity),
                "listed": listed[f.file, f.code, f.column],
                "total": listed[f.file, f.code, f.column] + f.omitted,
            }
            for f in self.findings
            if f.omitted
        ]
