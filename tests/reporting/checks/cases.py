"""Valid baseline rows, CSV writing, and one failing and one passing example per rule
code — shared by the engine tests and the check_files command tests."""

import csv
import io
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from grantees.calendar import Quarter
from reporting import contract
from reporting.checks import History, engine

PERIOD = "2025Q3"
PARTICIPANT_HEADER = [c.name for c in contract.PARTICIPANT_COLUMNS]
PLACEMENT_HEADER = [c.name for c in contract.PLACEMENT_COLUMNS]


def person(number: int = 1, **changes: str) -> dict[str, str]:
    """A participant row that passes every check for 2025Q3."""
    row = dict.fromkeys(PARTICIPANT_HEADER, "")
    row |= {
        "participant_id": f"P{number:03d}",
        "ssn": f"123-45-{6000 + number:04d}",
        "state_code": "CA",
        "zip_code": "94110",
        "date_of_birth": "19900515",
        "sex": "2",
        "disability": "0",
        "hispanic_latino": "0",
        "veteran": "0",
        "employment_status_at_entry": "0",
        "highest_education": "4",
        "low_income": "1",
        "incumbent_worker": "0",
        "entry_date": "20240115",
        "received_training": "1",
        "training_start_date": "20240201",
        "training_type": "06",
        "training_onet": "47-2111.00",
        "training_completed": "1",
        "training_end_date": "20240601",
        "credential_type": "5",
        "credential_date": "20240615",
    }
    return row | changes


def job(number: int = 1, **changes: str) -> dict[str, str]:
    """A placement row of ``person(number)`` that passes every check for 2025Q3."""
    row = dict.fromkeys(PLACEMENT_HEADER, "")
    row |= {
        "participant_id": f"P{number:03d}",
        "employer_name": "Acme Wind, Inc.",
        "start_date": "20240701",
        "job_title": "Wind technician",
        "onet_code": "49-9081.00",
        "naics_code": "237130",
        "hourly_wage": "25.50",
        "hours_per_week": "40",
        "training_related": "1",
    }
    return row | changes


# Participants whose SSNs and ZIPs begin with 0, as a grantee types them into a CSV that a
# spreadsheet program then opens and saves (row 5 is text to the program: it has dashes).
LEADING_ZEROS = [
    person(1, ssn="012345678", zip_code="02134"),
    person(2, ssn="001234567", zip_code="00501"),
    person(3, ssn="023456789", zip_code="021341234"),
    person(4, ssn="123-45-6004", zip_code="94110"),
]


def csv_bytes(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    header = header if header is not None else list(rows[0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue().encode()


def history(*entries: tuple[str, str]) -> History:
    return History(
        pl.DataFrame(
            {
                "participant_id": [pid for pid, _ in entries],
                "entry_date": [date.fromisoformat(day) for _, day in entries],
            },
            schema={"participant_id": pl.String, "entry_date": pl.Date},
        )
    )


@dataclass
class Files:
    """A submission: participant and placement files (rows or raw bytes) and options."""

    participants: list[dict[str, str]] | bytes = field(default_factory=lambda: [person(1)])
    placements: list[dict[str, str]] | bytes | None = None
    period: str = PERIOD
    history: History | None = None

    def participant_bytes(self) -> bytes:
        return _as_bytes(self.participants)

    def placement_bytes(self) -> bytes | None:
        return None if self.placements is None else _as_bytes(self.placements)

    def check(self):
        placements = self.placement_bytes()
        return engine.check_submission(
            ("participants.csv", self.participant_bytes()),
            ("placements.csv", placements) if placements is not None else None,
            period=Quarter.parse(self.period),
            history=self.history,
        )


def _as_bytes(rows: list[dict[str, str]] | bytes) -> bytes:
    return rows if isinstance(rows, bytes) else csv_bytes(rows)


@dataclass
class Case:
    """``failing`` gives a ``code`` finding at (file, row, column); ``passing`` gives no
    finding of that code."""

    code: str
    failing: Files
    at: tuple[str, int | None, str | None]
    passing: Files


P, L = "participants", "placements"
_NO_SEX = [c for c in PARTICIPANT_HEADER if c != "sex"]

CASES = [
    Case(
        "F01",
        Files(b"\x00\x01\x02binary\x00"),
        (P, None, None),
        Files(),
    ),
    Case(
        "F02",
        Files(csv_bytes([person(1)], _NO_SEX)),
        (P, 1, "sex"),
        Files(csv_bytes([person(1)])),
    ),
    Case(
        "F03",
        Files(csv_bytes([person(1, notes="x")], [*PARTICIPANT_HEADER, "notes"])),
        (P, 1, "notes"),
        Files(csv_bytes([person(1, **{"PIRL 1000": "x"})], [*PARTICIPANT_HEADER, "PIRL 1000"])),
    ),
    Case(
        "F04",
        Files(csv_bytes([person(1)]) + b"P002,extra," + b"," * len(PARTICIPANT_HEADER) + b"\r\n"),
        (P, 3, None),
        # A comma inside a quoted value is not a field separator.
        Files([person(1), person(2)], [job(1, employer_name="Acme Wind, Inc.")]),
    ),
    Case("F05", Files(csv_bytes([], PARTICIPANT_HEADER)), (P, None, None), Files()),
    Case(
        "V01",
        Files([person(1, entry_date="")]),
        (P, 2, "entry_date"),
        Files([person(1, entry_date="20240115")]),
    ),
    Case(
        "V02",
        Files([person(1, entry_date="20240230")]),
        (P, 2, "entry_date"),
        Files([person(1, entry_date="2024-01-15")]),
    ),
    Case("V03", Files([person(1, sex="3")]), (P, 2, "sex"), Files([person(1, sex="9")])),
    Case(
        "V04",
        Files([person(1)], [job(1, hourly_wage="500.01")]),
        (L, 2, "hourly_wage"),
        Files([person(1)], [job(1, hourly_wage="500.00")]),
    ),
    Case(
        "V05",
        Files([person(1, participant_id="AB_1")]),
        (P, 2, "participant_id"),
        Files([person(1, participant_id="AB-1")]),
    ),
    Case(
        "V06",
        Files([person(1, participant_id="123456789")]),
        (P, 2, "participant_id"),
        Files([person(1, participant_id="12345678")]),
    ),
    Case(
        "V07",
        Files([person(1, training_onet="47-2111")]),
        (P, 2, "training_onet"),
        Files([person(1, training_onet="47211100")]),
    ),
    Case(
        "V08",
        Files([person(1)], [job(1, naics_code="23713")]),
        (L, 2, "naics_code"),
        Files([person(1)], [job(1, naics_code="237130")]),
    ),
    Case(
        "V09",
        Files([person(1, state_code="XX")]),
        (P, 2, "state_code"),
        Files([person(1, state_code="pr")]),
    ),
    Case(
        "V10",
        Files([person(1, zip_code="9411")]),
        (P, 2, "zip_code"),
        Files([person(1, zip_code="94110-1234")]),
    ),
    Case(
        "V11",
        Files([person(1, ssn="666-12-3456")]),
        (P, 2, "ssn"),
        Files([person(1, ssn="665-12-3456")]),
    ),
    Case(
        "D01",
        Files([person(1), person(2, participant_id="P001")]),
        (P, 3, "participant_id"),
        Files([person(1), person(2)]),
    ),
    Case(
        "D02",
        Files([person(1, ssn="123-45-6789"), person(2, ssn="123456789")]),
        (P, 3, "ssn"),
        Files([person(1, ssn="123-45-6789"), person(2, ssn="123-45-6788")]),
    ),
    Case(
        "D03",
        Files([person(1)], [job(1), job(1, employer_name="ACME WIND, INC. ")]),
        (L, 3, "employer_name"),
        Files([person(1)], [job(1), job(1, start_date="20240702")]),
    ),
    Case(
        "L01",
        Files([person(1, exit_date="20240114")]),
        (P, 2, "exit_date"),
        Files([person(1, exit_date="20240115")]),
    ),
    Case(
        "L02",
        Files([person(1, exit_date="20251001")]),
        (P, 2, "exit_date"),
        Files([person(1, exit_date="20250930")]),
    ),
    Case(
        "L03",
        Files([person(1, date_of_birth="20070116")]),
        (P, 2, "date_of_birth"),
        Files([person(1, date_of_birth="20070115")]),
    ),
    Case(
        "L04",
        Files([person(1, training_start_date="")]),
        (P, 2, "training_start_date"),
        Files(
            [
                person(
                    1,
                    received_training="0",
                    training_start_date="",
                    training_type="00",
                    training_onet="",
                    training_completed="",
                    training_end_date="",
                    credential_type="",
                    credential_date="",
                )
            ]
        ),
    ),
    Case(
        "L05",
        Files([person(1, training_start_date="20240114")]),
        (P, 2, "training_start_date"),
        Files([person(1, training_start_date="20240115")]),
    ),
    Case(
        "L06",
        Files([person(1, training_end_date="20240131")]),
        (P, 2, "training_end_date"),
        Files([person(1, training_end_date="20240201", credential_date="20240201")]),
    ),
    Case(
        "L07",
        Files([person(1, training_completed="")]),
        (P, 2, "training_completed"),
        Files([person(1, training_completed="0", credential_type="", credential_date="")]),
    ),
    Case(
        "L08",
        Files([person(1, credential_date="")]),
        (P, 2, "credential_date"),
        Files([person(1, credential_type="", credential_date="")]),
    ),
    Case(
        "L09",
        Files([person(1, other_exit_reason="3")]),
        (P, 2, "exit_date"),
        Files([person(1, other_exit_reason="0")]),
    ),
    Case(
        "L10",
        Files(
            [
                person(
                    1, exit_date="20250401", employed_q2_after_exit="1", wages_q2_after_exit="9000"
                )
            ]
        ),
        (P, 2, "employed_q2_after_exit"),
        Files(
            [
                person(
                    1, exit_date="20250401", employed_q2_after_exit="1", wages_q2_after_exit="9000"
                )
            ],
            period="2025Q4",
        ),
    ),
    Case(
        "L11",
        Files([person(1, exit_date="20250101", employed_q2_after_exit="1")]),
        (P, 2, "wages_q2_after_exit"),
        Files(
            [person(1, exit_date="20250101", employed_q2_after_exit="1", wages_q2_after_exit="1")]
        ),
    ),
    Case(
        "L12",
        Files([person(1, incumbent_retained="1")]),
        (P, 2, "incumbent_retained"),
        Files([person(1, incumbent_retained="1", employment_status_at_entry="2")]),
    ),
    Case(
        "L13",
        Files([person(1)], [job(1, participant_id="P999")]),
        (L, 2, "participant_id"),
        Files([person(1)], [job(1)]),
    ),
    Case(
        "L14",
        Files([person(1)], [job(1, start_date="20240114")]),
        (L, 2, "start_date"),
        Files([person(1)], [job(1, start_date="20240115")]),
    ),
    Case(
        "L15",
        Files([person(1, training_completed="0")], [job(1)]),
        (L, 2, "training_related"),
        Files([person(1, training_completed="0")], [job(1, training_related="0")]),
    ),
    Case(
        "L16",
        Files([person(1)], [job(1, hourly_wage="7.24")]),
        (L, 2, "hourly_wage"),
        Files([person(1)], [job(1, hourly_wage="7.25")]),
    ),
    Case(
        "H01",
        Files([person(1)], history=history(("P001", "2024-01-15"), ("P002", "2024-01-15"))),
        (P, None, "participant_id"),
        Files([person(1)], history=history(("P001", "2024-01-15"))),
    ),
    Case(
        "H02",
        Files([person(1)], history=history(("P001", "2024-01-01"))),
        (P, 2, "entry_date"),
        Files([person(1)], history=history(("P001", "2024-01-15"))),
    ),
]

ALL_CODES = sorted(
    {f"F0{i}" for i in range(1, 6)}
    | {f"V{i:02d}" for i in range(1, 12)}
    | {"D01", "D02", "D03"}
    | {f"L{i:02d}" for i in range(1, 17)}
    | {"H01", "H02"}
)
WARNINGS = {"F03", "D03", "L11", "L16", "H02"}
