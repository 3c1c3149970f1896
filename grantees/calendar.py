"""The reporting calendar of DATA-CONTRACT.md §1, as pure functions (no models, no ORM).

Reporting periods are calendar quarters named like ``2025Q3``; a quarter's report is due
45 days after it ends, moved back to the Friday before when that falls on a weekend. The
DOL program year runs July 1 – June 30 and is named by the year it starts in.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

DUE_AFTER_DAYS = 45
_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        match = _QUARTER_RE.match(text.strip().upper())
        if not match:
            raise ValueError(f"{text!r} is not a quarter: write it like 2025Q3.")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def containing(cls, day: date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.year} ({self.start:%b %-d} – {self.end:%b %-d, %Y})"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        return (self + 1).start - timedelta(days=1)

    @property
    def due(self) -> date:
        return due_date(self)

    @property
    def index(self) -> int:
        return self.year * 4 + self.number - 1

    def __add__(self, quarters: int) -> "Quarter":
        index = self.index + quarters
        return Quarter(index // 4, index % 4 + 1)

    def __sub__(self, quarters: int) -> "Quarter":
        return self + (-quarters)


def due_date(quarter: Quarter) -> date:
    due = quarter.end + timedelta(days=DUE_AFTER_DAYS)
    if due.weekday() >= 5:  # Saturday or Sunday: the Friday before.
        due -= timedelta(days=due.weekday() - 4)
    return due


def quarters_between(start: date, end: date) -> list[Quarter]:
    """Every quarter that overlaps the period of performance ``start`` .. ``end``."""
    first, last = Quarter.containing(start), Quarter.containing(end)
    return [first + i for i in range(last.index - first.index + 1)]


def program_year(day: date) -> int:
    return day.year if day.month >= 7 else day.year - 1


def program_year_bounds(year: int) -> tuple[date, date]:
    return date(year, 7, 1), date(year + 1, 6, 30)


def next_report(start: date, end: date, today: date) -> Quarter | None:
    """The first quarter of the grant whose report is not yet past due on ``today``.

    That is the report a coalition is working on: the quarter that has ended most
    recently while its due date is still ahead, or else the quarter under way.
    """
    for quarter in quarters_between(start, end):
        if quarter.due >= today:
            return quarter
    return None
