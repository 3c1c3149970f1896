"""What a data pack is made from (reporting.datapacks), read in one place: the
roll-ups of the coalitions and quarters it covers, the program's roll-ups by segment, the
counted versions' files and findings counted by rule, and the quarter's status board.
Counts and roll-ups only: nothing here reads a participant record."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Min, Sum

from grantees.calendar import Quarter
from grantees.models import Coalition, Grant
from reporting.models import Finding, ProgramRollup, Rollup
from reporting.selectors import board as board_selector
from reporting.selectors import quality


@dataclass
class PackData:
    quarter: Quarter
    coalition: Coalition | None  # None: the program's pack
    rollups: list[Rollup]  # by coalition name, then quarter
    program: list[ProgramRollup]  # by quarter, the program row first, then segments
    grant_start: date | None  # the earliest grant's start (program cohorts)
    files: dict[int, quality.FilesQuality]  # per counted version
    finding_counts: list[dict[str, Any]]  # per counted version, file, rule and severity
    board: board_selector.Board


def pack_data(*, quarter: Quarter, coalition_id: int | None, today: date) -> PackData:
    """Everything a pack of ``quarter`` holds, for one coalition or (None) the program,
    with the board as it stands on ``today``."""
    coalition = Coalition.objects.get(pk=coalition_id) if coalition_id is not None else None
    rollups = _rollups(quarter, coalition_id)
    program = _program_rollups(quarter) if coalition is None else []
    grant_start = Grant.objects.aggregate(first=Min("start_date"))["first"] if program else None
    return PackData(
        quarter=quarter,
        coalition=coalition,
        rollups=rollups,
        program=program,
        grant_start=grant_start,
        files=quality.counted_files(r.submission_id for r in rollups),
        finding_counts=_finding_counts(rollups),
        board=board_selector.board(
            None, quarter=quarter, today=today, sort="coalition", coalition_id=coalition_id
        ),
    )


def _rollups(quarter: Quarter, coalition_id: int | None) -> list[Rollup]:
    rollups = Rollup.objects.filter(period__start_date__lte=quarter.start).select_related(
        "coalition", "submission", "period__grant"
    )
    if coalition_id is not None:
        rollups = rollups.filter(coalition_id=coalition_id)
    return sorted(rollups, key=lambda r: (r.coalition.name.lower(), Quarter.parse(r.quarter).index))


def _program_rollups(quarter: Quarter) -> list[ProgramRollup]:
    rows = [r for r in ProgramRollup.objects.all() if Quarter.parse(r.quarter) <= quarter]
    # The program row first in each quarter, then the segments by kind and name.
    return sorted(
        rows, key=lambda r: (Quarter.parse(r.quarter).index, r.segment != "program", r.segment)
    )


def _finding_counts(rollups: list[Rollup]) -> list[dict[str, Any]]:
    """The counted versions' findings (their current files) counted by file, rule and
    severity, in the rollups' order, errors first."""
    order = {r.submission_id: index for index, r in enumerate(rollups)}
    severity = {"error": 0, "warning": 1}
    return sorted(
        Finding.objects.filter(upload__submission_id__in=order, upload__is_current=True)
        .counted_by("upload__submission_id", "file", "code", "severity")
        .annotate(not_stored=Sum("omitted"))
        .order_by(),
        key=lambda c: (
            order[c["upload__submission_id"]],
            severity.get(c["severity"], 2),
            c["file"],
            c["code"],
        ),
    )
