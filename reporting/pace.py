"""Pace toward a grant's targets (docs/dashboards.md, "Pace"): where a measure should be
by the end of a quarter at an even pace over the grant, and how far the actual is from
it. The coalition dashboard, the coalition page, the grantee's home and the program
summary PDF read the same rows.

Pure: no Django, no database.
"""

import math
from dataclasses import dataclass
from datetime import date

from grantees.calendar import Quarter

# Within this share of the expected count a measure is "slightly behind", below it
# "behind": a coach's first look, not a judgement (docs/dashboards.md).
SLIGHTLY_BEHIND = 0.9


@dataclass
class Pace:
    measure: str
    label: str
    target: int
    actual: int | None
    grant_start: date
    grant_end: date
    quarter: Quarter
    milestone: int | None = None

    @property
    def elapsed_share(self) -> float:
        total = (self.grant_end - self.grant_start).days + 1
        done = (self.quarter.end - self.grant_start).days + 1
        return min(max(done / total, 0.0), 1.0)

    @property
    def expected(self) -> int:
        return round(self.target * self.elapsed_share)

    @property
    def progress(self) -> float | None:
        if self.actual is None or not self.target:
            return None
        return 100 * self.actual / self.target

    @property
    def quarters_elapsed(self) -> int:
        return max(self.quarter.index - Quarter.containing(self.grant_start).index + 1, 1)

    @property
    def quarters_left(self) -> int:
        return max(Quarter.containing(self.grant_end).index - self.quarter.index, 0)

    @property
    def per_quarter_so_far(self) -> float | None:
        return None if self.actual is None else self.actual / self.quarters_elapsed

    @property
    def per_quarter_needed(self) -> int | None:
        if self.actual is None or not self.quarters_left:
            return None
        return math.ceil(max(self.target - self.actual, 0) / self.quarters_left)

    @property
    def status(self) -> str:
        """In words (never colour alone): Target met, On pace, Slightly behind, Behind."""
        if self.actual is None:
            return "Not reported"
        if self.actual >= self.target:
            return "Target met"
        if self.actual >= self.expected:
            return "On pace"
        if self.actual >= SLIGHTLY_BEHIND * self.expected:
            return "Slightly behind"
        return "Behind"

    @property
    def status_class(self) -> str:
        """USWDS utilities for the status words (the words carry the meaning)."""
        colour = {
            "Target met": "text-success-dark",
            "On pace": "text-success-dark",
            "Behind": "text-error-dark",
        }.get(self.status, "text-base-dark")
        return f"text-bold {colour}"
