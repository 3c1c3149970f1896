"""Seeded synthetic submissions, for tests and benchmarks: realistic participant and
placement files that pass every check, with a chosen share of rows broken on purpose.

Pure Python and deterministic: the same arguments give the same bytes. Every value is
made up; the SSNs are well-formed but drawn from a counter, not from anyone.
"""

import csv
import io
import random
from collections.abc import Callable
from datetime import date, timedelta

from grantees.calendar import Quarter
from reporting import contract

GRANT_START = date(2023, 10, 1)
STATES = ("CA", "TX", "NY", "PA", "OH", "MI", "WA", "CO", "GA", "NC", "PR", "DC")
EMPLOYERS = (
    "Acme Wind, Inc.",
    "Prairie Broadband LLC",
    "Gulf Coast Grid Co.",
    "Keystone Rail Partners",
    'Blue Ridge "Fiber" Works',
    "Summit Water Authority",
    "Harbor Bridge Builders",
)
JOB_TITLES = ("Line worker", "Fiber splicer", "Wind technician", "Electrician apprentice")
ONET_CODES = ("49-9051.00", "49-9052.00", "47-2111.00", "49-9081.00", "47-2061.00")
NAICS_CODES = ("237130", "238210", "221118", "517111", "237310")
TRAINING_TYPES = ("01", "02", "04", "05", "06", "08", "09", "11")
PARTICIPANT_HEADER = [column.name for column in contract.PARTICIPANT_COLUMNS]
PLACEMENT_HEADER = [column.name for column in contract.PLACEMENT_COLUMNS]

Row = dict[str, str]


def generate_files(
    n_participants: int,
    *,
    seed: int,
    error_rate: float = 0.0,
    period: Quarter | str = "2025Q3",
) -> tuple[bytes, bytes]:
    """CSV bytes of a participant file and its placement file (about 0.4 placements
    per participant). With ``error_rate`` 0 neither file has any finding; otherwise
    about that share of participant rows, and of placement rows, carry one error."""
    quarter = Quarter.parse(period) if isinstance(period, str) else period
    rng = random.Random(seed)
    participants: list[Row] = []
    placements: list[Row] = []
    for index in range(n_participants):
        person = _participant(rng, index, quarter)
        participants.append(person)
        placements += _placements(rng, person, quarter)
    for rows, breakers in ((participants, PARTICIPANT_BREAKERS), (placements, PLACEMENT_BREAKERS)):
        for i, row in enumerate(rows):
            if error_rate and rng.random() < error_rate:
                rng.choice(breakers)(rng, row, rows, i)
    return _csv(PARTICIPANT_HEADER, participants), _csv(PLACEMENT_HEADER, placements)


def _csv(header: list[str], rows: list[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _ymd(day: date) -> str:
    return f"{day:%Y%m%d}"


def _between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max((last - first).days, 0)))


def _ssn(index: int) -> str:
    area = index // (9999 * 99) % 665 + 1
    group = index // 9999 % 99 + 1
    serial = index % 9999 + 1
    return f"{area:03d}-{group:02d}-{serial:04d}"


def _participant(rng: random.Random, index: int, quarter: Quarter) -> Row:
    end = quarter.end
    entry = _between(rng, GRANT_START, end)
    age = rng.randint(18, 64)
    born = entry.replace(year=entry.year - age, day=min(entry.day, 28)) - timedelta(
        days=rng.randint(0, 300)
    )
    employment = rng.choice("0000123")
    incumbent = "1" if employment in "12" and rng.random() < 0.5 else "0"
    row: Row = dict.fromkeys(PARTICIPANT_HEADER, "")
    row |= {
        "participant_id": f"P{index:07d}",
        "ssn": _ssn(index) if rng.random() < 0.8 else "",
        "state_code": rng.choice(STATES),
        "zip_code": f"{rng.randint(1000, 99999):05d}",
        "date_of_birth": _ymd(born),
        "sex": rng.choice("1129"),
        "disability": rng.choice("0001"),
        "hispanic_latino": rng.choice("0019"),
        "race_white": rng.choice(["1", "0", ""]),
        "race_black": rng.choice(["1", "0", ""]),
        "veteran": rng.choice("00001"),
        "employment_status_at_entry": employment,
        "highest_education": str(rng.randint(0, 8)),
        "low_income": rng.choice("0119"),
        "incumbent_worker": incumbent,
        "entry_date": _ymd(entry),
        "received_training": "0",
    }
    exit_day = _between(rng, entry, end) if rng.random() < 0.6 else None
    if exit_day:
        row["exit_date"] = _ymd(exit_day)
        if rng.random() < 0.03:
            row["other_exit_reason"] = rng.choice(["01", "3", "06"])
    last = exit_day or end
    if rng.random() < 0.7:
        start = _between(rng, entry, last)
        row |= {
            "received_training": "1",
            "training_start_date": _ymd(start),
            "training_type": rng.choice(TRAINING_TYPES),
            "training_onet": rng.choice(ONET_CODES),
        }
        if exit_day or rng.random() < 0.5:
            finish = _between(rng, start, last)
            completed = "1" if rng.random() < 0.8 else "0"
            row |= {"training_end_date": _ymd(finish), "training_completed": completed}
            if completed == "1" and rng.random() < 0.6:
                latest = min(end, exit_day + timedelta(days=365)) if exit_day else end
                row |= {
                    "credential_type": str(rng.randint(1, 7)),
                    "credential_date": _ymd(_between(rng, finish, latest)),
                }
            if rng.random() < 0.3:
                row["msg_training_milestone_date"] = _ymd(_between(rng, start, finish))
            if incumbent == "1" and completed == "1":
                row["incumbent_retained"] = rng.choice("10")
                row["incumbent_advanced"] = rng.choice("10")
    if exit_day:
        exited = Quarter.containing(exit_day)
        for k in (2, 4):
            if (exited + k).index <= quarter.index and rng.random() < 0.85:
                employed = rng.choice("1110")
                row[f"employed_q{k}_after_exit"] = employed
                row[f"wages_q{k}_after_exit"] = (
                    str(rng.randint(1500, 25000)) if employed == "1" else rng.choice(["0", ""])
                )
            elif rng.random() < 0.3:
                row[f"employed_q{k}_after_exit"] = "9"
    return row


def _placements(rng: random.Random, person: Row, quarter: Quarter) -> list[Row]:
    chance = 0.6 if person["exit_date"] else 0.15
    count = (1 if rng.random() < chance else 0) + (1 if rng.random() < 0.05 else 0)
    entry = date(*_date_parts(person["entry_date"]))
    made = []
    for _ in range(count):
        related = "1" if person["training_completed"] == "1" and rng.random() < 0.7 else "0"
        made.append(
            {
                "participant_id": person["participant_id"],
                "employer_name": rng.choice(EMPLOYERS),
                "start_date": _ymd(_between(rng, entry, quarter.end)),
                "job_title": rng.choice(JOB_TITLES),
                "onet_code": rng.choice(ONET_CODES),
                "naics_code": rng.choice(NAICS_CODES),
                "hourly_wage": f"{rng.randint(1500, 4500) / 100:.2f}",
                "hours_per_week": rng.choice(["40", "40", "32", "37.5", "20"]),
                "training_related": related,
                "registered_apprenticeship": rng.choice(["", "0", "1"]),
            }
        )
    if len(made) == 2 and made[0]["employer_name"] == made[1]["employer_name"]:
        made[1]["employer_name"] = "Second Shift Services"
    return made


def _date_parts(text: str) -> tuple[int, int, int]:
    return int(text[:4]), int(text[4:6]), int(text[6:])


# Errors ---------------------------------------------------------------------------------

Breaker = Callable[[random.Random, Row, list[Row], int], None]


def _set(column: str, *bad_values: str) -> Breaker:
    def apply(rng: random.Random, row: Row, rows: list[Row], index: int) -> None:
        row[column] = rng.choice(bad_values)

    return apply


def _duplicate_id(rng: random.Random, row: Row, rows: list[Row], index: int) -> None:
    if index:
        row["participant_id"] = rows[rng.randrange(index)]["participant_id"]


def _exit_before_entry(rng: random.Random, row: Row, rows: list[Row], index: int) -> None:
    year, month, day = _date_parts(row["entry_date"])
    row["exit_date"] = _ymd(date(year, month, day) - timedelta(days=rng.randint(1, 90)))


def _training_without_start(rng: random.Random, row: Row, rows: list[Row], index: int) -> None:
    row |= {"received_training": "1", "training_start_date": "", "training_type": "06"}


PARTICIPANT_BREAKERS: tuple[Breaker, ...] = (
    _set("entry_date", "", "2024-02-30", "05/01/2024", "18991231"),
    _set("sex", "3", "M", ""),
    _set("state_code", "XX", "Calif."),
    _set("zip_code", "1234", "ABCDE"),
    _set("ssn", "000-12-3456", "12345", "666-45-6789"),
    _set("participant_id", "123456789", "TOO-LONG-ID-123", "P 1"),
    _set("wages_q2_after_exit", "12,000", "$900", "1200.5"),
    _set("training_type", "7", "13"),
    _duplicate_id,
    _exit_before_entry,
    _training_without_start,
)


def _unknown_participant(rng: random.Random, row: Row, rows: list[Row], index: int) -> None:
    row["participant_id"] = f"X{rng.randint(0, 10**6):06d}"


PLACEMENT_BREAKERS: tuple[Breaker, ...] = (
    _set("hourly_wage", "$18.00", "18.255", "0", "600"),
    _set("hours_per_week", "0", "90", "forty"),
    _set("start_date", "", "2024-04-31"),
    _set("naics_code", "2371", "23713A"),
    _set("training_related", "Y", "2"),
    _unknown_participant,
)
