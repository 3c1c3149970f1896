"""On time, defined once (docs/dashboards.md, "On time").

As in DOL's Workforce Integrated Performance System (WIPS), a quarterly report is on time
when it was *certified and sent* on or before its due date. What counts is the first
certification: a version JFF returns and the coalition corrects and sends again is a
revision of a report already sent, and does not make it late (nor does a late revision
make an on-time report late). A report certified after the due date is late; one not
certified at all is not sent (late once the due date has passed).

The on-time rate is the reports certified on time over **every report due for the
quarter** (each coalition with a reporting period in it), whatever has happened to them
since — returned, in review or accepted. The program dashboard, the status board, the PDF
program summary and the data packs all take it from here.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from reporting import catalogue

ON_TIME, LATE, NOT_SENT = "on_time", "late", "not_sent"
LABELS = {ON_TIME: "On time", LATE: "Late", NOT_SENT: "Not yet sent"}


def status(first_certified: datetime | None, due: date) -> str:
    """``on_time``, ``late`` or ``not_sent`` for a report whose first version was
    certified at ``first_certified`` (None: never), due on ``due`` (local dates)."""
    if first_certified is None:
        return NOT_SENT
    return ON_TIME if timezone.localdate(first_certified) <= due else LATE


@dataclass(frozen=True)
class Timeliness:
    """How many of a quarter's reports due were certified on time."""

    on_time: int
    due: int
    late: int | None = None  # known where the rows were read, not from a roll-up
    not_sent: int | None = None

    @property
    def rate(self) -> float | None:
        """The on-time rate in percent, rounded half up to one decimal like every rate
        of the reports (None when no report is due)."""
        return catalogue.rate(self.on_time, self.due)["rate"]

    @property
    def rate_text(self) -> str:
        """'70.6% (24/34)'; 'n/a' when no report is due."""
        rate = self.rate
        return "n/a" if rate is None else f"{rate:.1f}% ({self.on_time:,}/{self.due:,})"


def count(reports: Iterable[tuple[datetime | None, date]]) -> Timeliness:
    """The timeliness of the reports given as (first certified at, due date) pairs, one
    per report due (a coalition's reporting period)."""
    statuses = [status(first, due) for first, due in reports]
    return Timeliness(
        on_time=statuses.count(ON_TIME),
        due=len(statuses),
        late=statuses.count(LATE),
        not_sent=statuses.count(NOT_SENT),
    )
