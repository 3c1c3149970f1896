"""Data quality of the version that counts: the rows and findings of its current files.

What a document calls a report's data quality (the coalition report PDF, the program
summary, the data pack's "Data quality" sheet) is the quality of the files that make the
figures: the current files of the version that counts. The roll-ups' "every file checked
for the quarter, all versions" counters (drafts and test uploads included) measure how
much checking the quarter took; they are not the report's findings (issue 12: the PDF
showed "598.3 findings per 1,000 rows" from draft uploads while the version it printed had
none, and the data pack's Findings sheet was empty beside 1,075 errors).

The counts are the files' own (``Upload.error_count``/``warning_count``): every finding the
checks found, those stored and those counted but not stored (the checks keep the first
1,000 of each rule and column; ``Finding.omitted`` says how many more), so they equal the
findings counted by rule (``FindingQuerySet.counted_by``) over the same files.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Sum

from reporting.models import Upload


@dataclass(frozen=True)
class FilesQuality:
    rows: int = 0  # data rows in the files (kept and held back)
    errors: int = 0
    warnings: int = 0

    @property
    def findings(self) -> int:
        return self.errors + self.warnings

    @property
    def per_thousand(self) -> float | None:
        return 1000 * self.findings / self.rows if self.rows else None

    def __add__(self, other: "FilesQuality") -> "FilesQuality":
        return FilesQuality(
            self.rows + other.rows, self.errors + other.errors, self.warnings + other.warnings
        )


def per_thousand_text(quality: FilesQuality) -> str:
    rate = quality.per_thousand
    return "n/a" if rate is None else f"{rate:,.1f}"


def counted_files(submission_ids: Iterable[int]) -> dict[int, FilesQuality]:
    """By submission id: the rows and findings of its current files (one query)."""
    return {
        row["submission_id"]: FilesQuality(
            rows=row["rows"] or 0, errors=row["errors"] or 0, warnings=row["warnings"] or 0
        )
        for row in Upload.objects.filter(submission_id__in=list(submission_ids), is_current=True)
        .values("submission_id")
        .annotate(rows=Sum("data_rows"), errors=Sum("error_count"), warnings=Sum("warning_count"))
        .order_by()
    }
