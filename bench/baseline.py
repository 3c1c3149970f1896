"""The yardstick: DATA-CONTRACT.md §3 stages 1–4 (without the history rules) written the
way a competent developer would write them without vectorising — Python's csv module,
one row at a time, ``datetime.strptime``, regular expressions, dicts and Counters.

It exists so that the benchmark can say how much faster the polars engine
(``reporting.checks.engine``) is than the obvious implementation of the same rules, and
it is only worth that if it finds exactly what the engine finds: ``bench/agreement.py``
and ``tests/bench/test_baseline_agrees.py`` compare the two, finding by finding, on
(code, file, row, column).

Not deliberately slow, not micro-optimised. Deliberate simplifications:

- CSV only (an .xlsx upload is refused with F01: the benchmark files are CSV).
- Records are read with ``csv.reader`` and turned into a dict per row by zipping them
  with the header — what ``csv.DictReader`` does inside — because DictReader silently
  drops empty lines and numbers nothing, and the findings must carry the spreadsheet
  row number and the F04 ragged-row check needs the field count.
- Each row is checked as it is read (stage 2 and the one-row rules of stage 4); the
  rules between rows and files (D01–D03, L13–L15) run once the files are read.
- Digits are ASCII digits (``re.ASCII``): "９４１１０" is not a ZIP code.

Run as a script, it is the command the benchmark compares ``manage.py check_files`` with::

    python bench/baseline.py PARTICIPANTS.csv [PLACEMENTS.csv] 2025Q3

and prints the same JSON shape (period, summary, findings) with exit status 1 when any
error was found. It imports nothing from the project — no Django, no polars — and has
its own copy of the contract's column table (checked against reporting/contract.py by
the tests).
"""

import csv
import hashlib
import hmac
import io
import json
import os
import re
import sys
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

PARTICIPANTS, PLACEMENTS = "participants", "placements"
ERROR, WARNING = "error", "warning"
EARLIEST = date(1900, 1, 1)
MINIMUM_WAGE_CENTS = 725
YEAR = timedelta(days=365)
VALUE_LENGTH = 200


# The two files of DATA-CONTRACT.md §2, written out again here rather than imported from
# reporting/contract.py (which imports polars): the yardstick stays a plain-Python
# program. tests/bench/test_baseline_agrees.py checks that the two tables say the same.


class Column(NamedTuple):
    name: str
    pirl: int | None
    kind: str  # id ssn state zip date code dollars wage hours onet naics text
    required: bool
    codes: tuple[str, ...] = ()
    two_digit: bool = False  # "9" reads as "09"
    blank_means: str | None = None
    max_length: int | None = None


YES_NO, YES_NO_UNKNOWN = ("1", "0"), ("1", "0", "9")
PARTICIPANT_COLUMNS = (
    Column("participant_id", 100, "id", True),
    Column("ssn", 2700, "ssn", False),
    Column("state_code", 101, "state", True),
    Column("zip_code", 103, "zip", False),
    Column("date_of_birth", 200, "date", True),
    Column("sex", 201, "code", True, ("1", "2", "9")),
    Column("disability", 202, "code", True, YES_NO_UNKNOWN),
    Column("hispanic_latino", 210, "code", True, YES_NO_UNKNOWN),
    Column("race_american_indian", 211, "code", False, YES_NO, blank_means="0"),
    Column("race_asian", 212, "code", False, YES_NO, blank_means="0"),
    Column("race_black", 213, "code", False, YES_NO, blank_means="0"),
    Column("race_pacific_islander", 214, "code", False, YES_NO, blank_means="0"),
    Column("race_white", 215, "code", False, YES_NO, blank_means="0"),
    Column("veteran", 300, "code", True, YES_NO),
    Column("employment_status_at_entry", 400, "code", True, ("1", "2", "3", "0")),
    Column("highest_education", 408, "code", True, tuple("012345678")),
    Column("low_income", 802, "code", True, YES_NO_UNKNOWN),
    Column("incumbent_worker", 907, "code", True, YES_NO),
    Column("entry_date", 900, "date", True),
    Column("exit_date", 901, "date", False),
    Column("other_exit_reason", 923, "code", False, tuple(f"0{i}" for i in range(8)), True, "00"),
    Column("received_training", 1300, "code", True, YES_NO),
    Column("training_start_date", 1302, "date", False),
    Column(
        "training_type",
        1303,
        "code",
        False,
        ("01", "02", "03", "04", "05", "06", "08", "09", "10", "11", "12", "00"),
        two_digit=True,
    ),
    Column("training_onet", 1306, "onet", False),
    Column("training_completed", 1307, "code", False, YES_NO),
    Column("training_end_date", 1308, "date", False),
    Column("credential_type", 1800, "code", False, tuple("01234567"), blank_means="0"),
    Column("credential_date", 1801, "date", False),
    Column("msg_training_milestone_date", 1809, "date", False),
    Column("msg_skills_progression_date", 1810, "date", False),
    Column("employed_q2_after_exit", 1602, "code", False, YES_NO_UNKNOWN),
    Column("wages_q2_after_exit", 1704, "dollars", False),
    Column("employed_q4_after_exit", 1606, "code", False, YES_NO_UNKNOWN),
    Column("wages_q4_after_exit", 1706, "dollars", False),
    Column("incumbent_retained", 2119, "code", False, YES_NO),
    Column("incumbent_advanced", 2120, "code", False, YES_NO),
)
PLACEMENT_COLUMNS = (
    Column("participant_id", 100, "id", True),
    Column("employer_name", None, "text", True, max_length=200),
    Column("start_date", 2118, "date", True),
    Column("job_title", None, "text", False, max_length=200),
    Column("onet_code", 1610, "onet", False),
    Column("naics_code", 1614, "naics", False),
    Column("hourly_wage", None, "wage", True),
    Column("hours_per_week", None, "hours", True),
    Column("training_related", 2126, "code", True, YES_NO),
    Column("registered_apprenticeship", 931, "code", False, YES_NO, blank_means="0"),
)
COLUMNS = {PARTICIPANTS: PARTICIPANT_COLUMNS, PLACEMENTS: PLACEMENT_COLUMNS}
_STATES = """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE
NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP"""
US_STATE_CODES = frozenset(_STATES.split())
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_DATA_ROWS = 200_000
PIRL_HEADER_RE = re.compile(r"(?:pirl_?)?(\d+)")
OTHER_PIRL_HEADER_RE = re.compile(r"(?:pirl_?)?\d+(?:_?[a-z])?")


def normalise_header(text: str) -> str:
    """§7: strip, lower-case, each "-" and space becomes "_"."""
    return re.sub(r"[- ]", "_", text.strip().lower())


def column_for_header(text: str, kind: str) -> Column | None:
    """The column a header names, by name or by PIRL element number (`900`, `PIRL 900`)."""
    name = normalise_header(text)
    for column in COLUMNS[kind]:
        if column.name == name:
            return column
    match = PIRL_HEADER_RE.fullmatch(name)
    if match:
        for column in COLUMNS[kind]:
            if column.pirl == int(match[1]):
                return column
    return None


def is_other_pirl_element(text: str) -> bool:
    """A header naming a PIRL element the contract does not use: ignored (F03)."""
    return bool(OTHER_PIRL_HEADER_RE.fullmatch(normalise_header(text)))


class Finding(NamedTuple):
    code: str
    severity: str
    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str

    def key(self) -> tuple[str, str, int | None, str | None]:
        return (self.code, self.file, self.row, self.column)

    def as_dict(self) -> dict:
        return self._asdict()


class Quarter(NamedTuple):
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        match = re.fullmatch(r"(\d{4})Q([1-4])", text.strip().upper())
        if not match:
            raise ValueError(f"{text!r} is not a quarter: write it like 2025Q3")
        return cls(int(match[1]), int(match[2]))

    @property
    def end(self) -> date:
        if self.number == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.number + 1, 1) - timedelta(days=1)

    @property
    def index(self) -> int:
        return self.year * 4 + self.number - 1

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"


def quarter_index(day: date) -> int:
    return day.year * 4 + (day.month - 1) // 3


# Three-valued logic (§7: a cell that failed stage 2 is neither present nor absent).
# True, False, or None for "unknown"; a rule gives a finding only where it is True.


def k_and(*values: bool | None) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def k_or(*values: bool | None) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def k_not(value: bool | None) -> bool | None:
    return None if value is None else not value


class Row:
    """One data row after stage 2: the stripped text, the typed values (None when blank
    or invalid) and the columns that failed."""

    __slots__ = ("bad", "number", "raw", "value")

    def __init__(self, number: int):
        self.number = number
        self.raw: dict[str, str | None] = {}
        self.value: dict = {}
        self.bad: set[str] = set()

    def present(self, column: str) -> bool | None:
        return None if column in self.bad else self.value[column] is not None

    def absent(self, column: str) -> bool | None:
        return k_not(self.present(column))

    def equals(self, column: str, *codes: str) -> bool | None:
        return None if column in self.bad else self.value[column] in codes

    def less(self, left: str, right: str) -> bool | None:
        a, b = self.value[left], self.value[right]
        return None if a is None or b is None else a < b


# Stage 2: one cell ---------------------------------------------------------------------
# Digits are ASCII digits: "９４１１０" is not a ZIP code, nor "４０" a number of hours.

ID_RE = re.compile(r"[A-Za-z0-9-]{1,12}")
SSN_LIKE_RE = re.compile(r"\d{9}|\d{3}-\d{2}-\d{4}", re.ASCII)
NINE_DIGITS_RE = re.compile(r"\d{9}", re.ASCII)
ZIP_RE = re.compile(r"\d{5}(?:-\d{4})?", re.ASCII)
DATE_RE = re.compile(r"\d{8}|\d{4}-\d{2}-\d{2}", re.ASCII)
DOLLARS_RE = re.compile(r"(\d+)(?:\.0{1,2})?", re.ASCII)
WAGE_RE = re.compile(r"(\d+)(?:\.(\d{1,2}))?", re.ASCII)
HOURS_RE = re.compile(r"\d+(?:\.\d+)?", re.ASCII)
ONET_RE = re.compile(r"\d{2}-\d{4}\.\d{2}|\d{8}", re.ASCII)
NAICS_RE = re.compile(r"\d{6}", re.ASCII)


def check_cell(column: Column, text: str) -> tuple[object, str | None, str]:
    """(typed value, rule code or None, what would be right) for a non-blank cell."""
    kind = column.kind
    if kind == "date":
        if DATE_RE.fullmatch(text):
            try:
                # A calendar date, no time of day: no time zone to speak of.
                day = datetime.strptime(text.replace("-", ""), "%Y%m%d").date()  # noqa: DTZ007
            except ValueError:
                day = None
            if day is not None and day >= EARLIEST:
                return day, None, ""
            if day is not None:
                return None, "V02", "is before 1900-01-01: check the year"
        return None, "V02", "is not a valid date: write it as YYYYMMDD or YYYY-MM-DD"
    if kind == "code":
        code = "0" + text if column.two_digit and len(text) == 1 else text
        if code in column.codes:
            return code, None, ""
        return None, "V03", "is not an allowed code: use " + ", ".join(column.codes)
    if kind == "id":
        if not ID_RE.fullmatch(text):
            return None, "V05", "is not a valid ID: use 1–12 letters, digits or dashes"
        if SSN_LIKE_RE.fullmatch(text):
            return None, "V06", "looks like an SSN: use the coalition's own participant ID"
        return text, None, ""
    if kind == "ssn":
        digits = text.replace("-", "")
        if not NINE_DIGITS_RE.fullmatch(digits):
            return None, "V11", "is not 9 digits: write 123-45-6789 or leave it blank"
        if digits[:3] in ("000", "666") or digits[0] == "9":
            return None, "V11", "has an area number (000, 666, 900–999) no SSN has"
        if digits[3:5] == "00":
            return None, "V11", "has group 00, which no SSN has"
        if digits[5:] == "0000":
            return None, "V11", "has serial 0000, which no SSN has"
        return digits, None, ""
    if kind == "state":
        upper = text.upper()
        if upper in US_STATE_CODES:
            return upper, None, ""
        return None, "V09", "is not a USPS state or territory code such as CA, NY, DC or PR"
    if kind == "zip":
        if ZIP_RE.fullmatch(text):
            return text, None, ""
        return None, "V10", "is not a ZIP code: write 5 digits or 12345-6789"
    if kind == "dollars":
        match = DOLLARS_RE.fullmatch(text)
        if not match:
            return None, "V04", "is not whole dollars: digits only, no $, commas or cents"
        amount = int(match[1])
        if amount > 999_999:
            return None, "V04", "is out of range: whole dollars go from 0 to 999999"
        return amount, None, ""
    if kind == "wage":
        match = WAGE_RE.fullmatch(text)
        if not match:
            return None, "V04", "is not an amount in dollars with at most two decimals"
        cents = int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))
        if not 1 <= cents <= 50_000:
            return None, "V04", "is out of range: the hourly wage goes from 0.01 to 500.00"
        return cents, None, ""
    if kind == "hours":
        if not HOURS_RE.fullmatch(text):
            return None, "V04", "is not a number of hours (e.g. 40 or 37.5)"
        hours = float(text)
        if not 1 <= hours <= 80:
            return None, "V04", "is out of range: hours per week go from 1 to 80"
        return hours, None, ""
    if kind == "onet":
        if ONET_RE.fullmatch(text):
            return text, None, ""
        return None, "V07", "is not an O*NET-SOC code: write NN-NNNN.NN or 8 digits"
    if kind == "naics":
        if NAICS_RE.fullmatch(text):
            return text, None, ""
        return None, "V08", "is not a NAICS code: write the 6-digit code"
    if kind == "text":
        limit = column.max_length or 10_000
        if len(text) > limit:
            return None, "V04", f"is {len(text)} characters long: at most {limit} are allowed"
        return text, None, ""
    raise ValueError(f"unknown kind {kind}")


def masked(text: str) -> str:
    digits = re.sub(r"[\s.\-]", "", text)
    return f"***-**-{digits[5:]}" if NINE_DIGITS_RE.fullmatch(digits) else "(masked)"


def shown(column: Column, text: str) -> str:
    if column.kind == "ssn" or (
        column.kind == "id" and NINE_DIGITS_RE.fullmatch(re.sub(r"[\s.\-]", "", text))
    ):
        return masked(text)
    return text[:VALUE_LENGTH]


def check_row(row: Row, cells: dict[str, str | None], kind: str, found: list[Finding]) -> None:
    for column in COLUMNS[kind]:
        text = cells[column.name]
        row.raw[column.name] = text
        if text is None:
            row.value[column.name] = column.blank_means
            if column.required:
                row.bad.add(column.name)
                found.append(
                    Finding(
                        "V01",
                        ERROR,
                        kind,
                        row.number,
                        column.name,
                        None,
                        f"{column.name} is blank: it is required — enter a value",
                    )
                )
            continue
        typed, code, why = check_cell(column, text)
        row.value[column.name] = typed
        if code is not None:
            row.bad.add(column.name)
            value = shown(column, text)
            found.append(
                Finding(
                    code,
                    ERROR,
                    kind,
                    row.number,
                    column.name,
                    value,
                    f'{column.name} "{value}" {why}',
                )
            )


# Stage 4: one participant row, one placement row ------------------------------------------

PARTICIPANT_DATES = (
    "entry_date",
    "exit_date",
    "training_start_date",
    "training_end_date",
    "credential_date",
    "msg_training_milestone_date",
    "msg_skills_progression_date",
)


def participant_logic(row: Row, period: Quarter, found: list[Finding]) -> None:
    """L01–L12 on one participant row (a rule holds only where it is True, not unknown)."""
    v, raw, end = row.value, row.raw, period.end

    def add(code: str, column: str, message: str, severity: str = ERROR) -> None:
        found.append(
            Finding(code, severity, PARTICIPANTS, row.number, column, raw[column], message)
        )

    entry, exited, born = v["entry_date"], v["exit_date"], v["date_of_birth"]
    start, finish = v["training_start_date"], v["training_end_date"]
    credential = v["credential_date"]
    if row.less("exit_date", "entry_date"):
        add(
            "L01",
            "exit_date",
            f"exit_date {exited} is before entry_date {entry}: the exit "
            "date must be on or after the entry date",
        )
    for column in PARTICIPANT_DATES:
        if v[column] is not None and v[column] > end:
            add(
                "L02",
                column,
                f"{column} {v[column]} is after the end of {period} ({end}): a "
                "date cannot be later than the period end",
            )
    if entry is not None and born is not None:
        age = entry.year - born.year - ((entry.month, entry.day) < (born.month, born.day))
        if age < 17 or age > 100:
            add(
                "L03",
                "date_of_birth",
                f"date_of_birth {born} makes the participant {age} at "
                f"entry_date {entry}: BPIJ serves people aged 17 to 100 at entry",
            )

    trained = row.equals("received_training", "1")
    if k_and(trained, row.absent("training_start_date")):
        add(
            "L04",
            "training_start_date",
            "received_training is 1 but training_start_date is "
            "blank: enter the date training began, or set received_training to 0",
        )
    if k_and(trained, k_or(row.absent("training_type"), row.equals("training_type", "00"))):
        add(
            "L04",
            "training_type",
            "received_training is 1 but training_type is blank or 00: "
            "enter the type of training received",
        )
    given_while_not = k_or(
        row.present("training_start_date"),
        k_and(row.present("training_type"), k_not(row.equals("training_type", "00"))),
        row.present("training_end_date"),
    )
    if k_and(row.equals("received_training", "0"), given_while_not):
        add(
            "L04",
            "received_training",
            "received_training is 0 but training details are "
            "given: set received_training to 1, or remove the training details",
        )
    if row.less("training_start_date", "entry_date"):
        add(
            "L05",
            "training_start_date",
            f"training_start_date {start} is before entry_date "
            f"{entry}: training starts on or after program entry",
        )
    if row.less("training_end_date", "training_start_date"):
        add(
            "L06",
            "training_end_date",
            f"training_end_date {finish} is before training_start_date {start}",
        )
    if k_and(row.present("training_end_date"), row.absent("training_completed")):
        add(
            "L07",
            "training_completed",
            f"training_end_date {finish} is given but "
            "training_completed is blank: enter 1 if completed, 0 if withdrawn",
        )
    if k_and(row.equals("training_completed", "1"), row.absent("training_end_date")):
        add(
            "L07",
            "training_end_date",
            "training_completed is 1 but training_end_date is "
            "blank: enter the date the training was completed",
        )
    if k_and(k_not(row.equals("credential_type", "0")), row.absent("credential_date")):
        add(
            "L08",
            "credential_date",
            f"credential_type is {raw['credential_type']} but "
            "credential_date is blank: enter the date, or set credential_type to 0",
        )
    if row.less("credential_date", "entry_date"):
        add(
            "L08",
            "credential_date",
            f"credential_date {credential} is before entry_date "
            f"{entry}: a credential counts only when attained after entry",
        )
    if credential is not None and exited is not None and credential > exited + YEAR:
        add(
            "L08",
            "credential_date",
            f"credential_date {credential} is more than 365 days after exit_date {exited}",
        )
    if k_and(k_not(row.equals("other_exit_reason", "00")), row.absent("exit_date")):
        add(
            "L09",
            "exit_date",
            f"other_exit_reason is {raw['other_exit_reason']} but "
            "exit_date is blank: enter the exit date, or leave the reason blank",
        )

    for k in (2, 4):
        employed, wages = f"employed_q{k}_after_exit", f"wages_q{k}_after_exit"
        if "exit_date" in row.bad:
            too_early = None
        else:
            too_early = exited is None or quarter_index(exited) + k > period.index
        employed_reported = row.equals(employed, "0", "1")
        if k_and(k_or(employed_reported, row.present(wages)), too_early):
            column = employed if employed_reported else wages
            add(
                "L10",
                column,
                f"{column} is {raw[column]} but results for the quarter {k} "
                f"after exit cannot be reported yet (exit_date {exited or 'blank'}, report "
                f"quarter {period})",
            )
        earned = v[wages] is not None and v[wages] > 0
        if k_and(earned, k_not(row.equals(employed, "1"))):
            add(
                "L10",
                employed,
                f"{wages} is {v[wages]} but {employed} is "
                f"{raw[employed] or 'blank'}: set {employed} to 1, or correct the wages",
            )
        no_wages = None if wages in row.bad else v[wages] is None or v[wages] == 0
        if k_and(row.equals(employed, "1"), no_wages):
            add(
                "L11",
                wages,
                f"{employed} is 1 but {wages} is {raw[wages] or 'blank'}: enter "
                "the wages when they are known",
                WARNING,
            )

    incumbent = k_or(
        row.equals("incumbent_worker", "1"), row.equals("employment_status_at_entry", "1", "2")
    )
    for column in ("incumbent_retained", "incumbent_advanced"):
        if k_and(row.equals(column, "1"), k_not(incumbent)):
            add(
                "L12",
                column,
                f"{column} is 1 but the participant is not an incumbent worker "
                "(incumbent_worker 1, or employment_status_at_entry 1 or 2)",
            )


def placement_logic(row: Row, period: Quarter, found: list[Finding]) -> None:
    start, end = row.value["start_date"], period.end
    if start is not None and start > end:
        found.append(
            Finding(
                "L02",
                ERROR,
                PLACEMENTS,
                row.number,
                "start_date",
                row.raw["start_date"],
                f"start_date {start} is after the end of {period} ({end})",
            )
        )
    cents = row.value["hourly_wage"]
    if cents is not None and cents < MINIMUM_WAGE_CENTS:
        found.append(
            Finding(
                "L16",
                WARNING,
                PLACEMENTS,
                row.number,
                "hourly_wage",
                row.raw["hourly_wage"],
                f"hourly_wage {row.raw['hourly_wage']} is below the federal minimum wage "
                "of 7.25: check the amount",
            )
        )


# Stage 1: the file -------------------------------------------------------------------------


class FileResult(NamedTuple):
    findings: list[Finding]
    data_rows: int
    readable: bool
    rows: list[Row]  # what the cross-row rules need (participant_id, ssn, dates, codes)
    skipped_ids: list[str]  # participant_id of rows skipped by F04


def _refused(kind: str, message: str) -> FileResult:
    return FileResult([Finding("F01", ERROR, kind, None, None, None, message)], 0, False, [], [])


def check_file(data: bytes, kind: str, period: Quarter) -> FileResult:
    """Stages 1, 2 and the one-row rules of stage 4 for one CSV file."""
    if len(data) > MAX_FILE_BYTES:
        return _refused(kind, "the file is over 50 MB: files up to 50 MB are accepted")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"\xd0\xcf\x11\xe0")):
        return _refused(kind, "the file is a workbook: this baseline reads CSV only")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        return _refused(kind, "the file is not a CSV text file: save it as CSV UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _refused(kind, "the file is not UTF-8 text: save it as CSV UTF-8")
    if not text or text.isspace():
        return _refused(kind, "the file is empty: the first row must be the header")
    first_line = text.split("\n", 1)[0]
    if "," not in first_line and (";" in first_line or "\t" in first_line):
        return _refused(kind, "the values are not separated by commas: save it as CSV UTF-8")

    records = csv.reader(io.StringIO(text, newline=""))
    header = next(records, [])
    if not "".join(header).strip():
        return _refused(kind, "the first row is blank: the first row must be the header")
    width = len(header)
    found: list[Finding] = []
    positions: dict[str, int] = {}
    unnamed: list[int] = []  # columns without a header: F03 only if they hold values
    for index, cell in enumerate(header):
        name = cell.strip()
        column = column_for_header(name, kind) if name else None
        if column is not None and column.name not in positions:
            positions[column.name] = index
        elif column is not None:
            found.append(
                Finding(
                    "F03",
                    WARNING,
                    kind,
                    1,
                    name,
                    None,
                    f'column "{name}" repeats {column.name}: it is ignored',
                )
            )
        elif not name:
            unnamed.append(index)
        elif not is_other_pirl_element(name):
            found.append(
                Finding(
                    "F03",
                    WARNING,
                    kind,
                    1,
                    name,
                    None,
                    f'column "{name}" is not a column of the {kind} file: ignored',
                )
            )
    missing = [c for c in COLUMNS[kind] if c.required and c.name not in positions]
    for column in missing:
        found.append(
            Finding(
                "F02",
                ERROR,
                kind,
                1,
                column.name,
                None,
                f"the required column {column.name} is missing: add it",
            )
        )

    columns = [(column.name, positions.get(column.name)) for column in COLUMNS[kind]]
    rows: list[Row] = []
    skipped_ids: list[str] = []
    row_findings: list[Finding] = []
    unnamed_used: set[int] = set()
    data_rows = 0
    for number, record in enumerate(records, start=2):
        if not "".join(record).strip():
            continue  # a fully blank row keeps its number and is skipped
        data_rows += 1
        for index in unnamed:
            if index < len(record) and record[index].strip():
                unnamed_used.add(index)
        if missing:
            continue
        if len(record) != width:
            row_findings.append(
                Finding(
                    "F04",
                    ERROR,
                    kind,
                    number,
                    None,
                    None,
                    f"row {number} does not have the {width} fields of the header: skipped",
                )
            )
            if "participant_id" in positions and positions["participant_id"] < len(record):
                skipped = record[positions["participant_id"]].strip()
                if skipped:
                    skipped_ids.append(skipped)
            continue
        cells = dict.fromkeys(name for name, _ in columns)
        for name, index in columns:
            if index is not None:
                cells[name] = record[index].strip() or None
        row = Row(number)
        check_row(row, cells, kind, row_findings)
        if kind == PARTICIPANTS:
            participant_logic(row, period, row_findings)
        else:
            placement_logic(row, period, row_findings)
        rows.append(row)

    if data_rows > MAX_DATA_ROWS:
        return _refused(kind, f"the file has {data_rows:,} data rows: at most 200,000 are accepted")
    for index in sorted(unnamed_used):
        found.append(
            Finding(
                "F03",
                WARNING,
                kind,
                1,
                None,
                None,
                f"column {index + 1} has values but no header: they are ignored",
            )
        )
    if missing:
        return FileResult(found, data_rows, False, [], [])
    if data_rows == 0:
        found.append(
            Finding("F05", ERROR, kind, None, None, None, "the file has a header but no data rows")
        )
        return FileResult(found, 0, False, [], [])
    return FileResult(found + row_findings, data_rows, True, rows, skipped_ids)


# Stage 3 and the cross-file rules -----------------------------------------------------------


def ssn_key(digits: str) -> str:
    """SSNs are compared by keyed hash, never in clear (D02)."""
    key = os.environ.get("PII_HASH_KEY", "dev-only-pii-hash-key").encode()
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()


def participant_duplicates(result: FileResult) -> list[Finding]:
    found: list[Finding] = []
    with_id = [row for row in result.rows if row.present("participant_id")]
    rows_of: defaultdict[str, list[int]] = defaultdict(list)
    for row in with_id:
        rows_of[row.value["participant_id"]].append(row.number)
    for row in with_id:
        pid = row.value["participant_id"]
        if len(rows_of[pid]) > 1:
            found.append(
                Finding(
                    "D01",
                    ERROR,
                    PARTICIPANTS,
                    row.number,
                    "participant_id",
                    pid,
                    f"participant_id {pid} is on rows {', '.join(map(str, rows_of[pid]))}: "
                    "a participant must have exactly one row",
                )
            )
    by_ssn: defaultdict[str, list[Row]] = defaultdict(list)
    for row in with_id:
        if row.present("ssn"):
            by_ssn[ssn_key(row.value["ssn"])].append(row)
    for group in by_ssn.values():
        ids = {row.value["participant_id"] for row in group}
        if len(ids) < 2:
            continue
        for row in group:
            others = sorted(ids - {row.value["participant_id"]})
            found.append(
                Finding(
                    "D02",
                    ERROR,
                    PARTICIPANTS,
                    row.number,
                    "ssn",
                    masked(row.raw["ssn"]),
                    f"ssn {masked(row.raw['ssn'])} is also given for participant_id "
                    f"{', '.join(others)}: one SSN belongs to one person",
                )
            )
    return found


def placement_duplicates(result: FileResult) -> list[Finding]:
    groups: defaultdict[tuple, list[Row]] = defaultdict(list)
    for row in result.rows:
        if (
            row.present("participant_id")
            and row.present("employer_name")
            and row.present("start_date")
        ):
            key = (
                row.value["participant_id"],
                row.value["employer_name"].lower(),
                row.value["start_date"],
            )
            groups[key].append(row)
    found = []
    for group in groups.values():
        if len(group) > 1:
            numbers = ", ".join(str(row.number) for row in group)
            for row in group:
                found.append(
                    Finding(
                        "D03",
                        WARNING,
                        PLACEMENTS,
                        row.number,
                        "employer_name",
                        row.raw["employer_name"],
                        f"rows {numbers} are the same placement: remove the repeats",
                    )
                )
    return found


def cross_file(people: FileResult, jobs: FileResult) -> list[Finding]:
    """L13–L15: every placement against the participant file."""
    count = Counter(
        row.value["participant_id"] for row in people.rows if row.present("participant_id")
    )
    skipped = set(people.skipped_ids)
    known = set(count) | skipped
    single = {
        row.value["participant_id"]: row
        for row in people.rows
        if row.present("participant_id")
        and count[row.value["participant_id"]] == 1
        and row.value["participant_id"] not in skipped
    }
    found = []
    for job in jobs.rows:
        if not job.present("participant_id"):
            continue  # blank or invalid (V01, V05, V06): L13–L15 skipped
        pid = job.value["participant_id"]
        if pid not in known:
            found.append(
                Finding(
                    "L13",
                    ERROR,
                    PLACEMENTS,
                    job.number,
                    "participant_id",
                    pid,
                    f"participant_id {pid} is not in the participant file",
                )
            )
            continue
        person = single.get(pid)
        if person is None:
            continue  # duplicated participant (D01) or skipped by F04
        start, entry = job.value["start_date"], person.value["entry_date"]
        if start is not None and entry is not None and start < entry:
            found.append(
                Finding(
                    "L14",
                    ERROR,
                    PLACEMENTS,
                    job.number,
                    "start_date",
                    job.raw["start_date"],
                    f"start_date {start} is before the participant's entry_date {entry} "
                    f"(participant file row {person.number})",
                )
            )
        completed = person.equals("training_completed", "1")
        if k_and(job.equals("training_related", "1"), k_not(completed)):
            found.append(
                Finding(
                    "L15",
                    ERROR,
                    PLACEMENTS,
                    job.number,
                    "training_related",
                    "1",
                    "training_related is 1 but the participant's training_completed is "
                    f"{person.raw['training_completed'] or 'blank'} (participant file row "
                    f"{person.number})",
                )
            )
    return found


# The whole submission -------------------------------------------------------------------------


class Result(NamedTuple):
    period: str
    findings: list[Finding]
    participant_rows: int
    placement_rows: int

    def keys(self) -> list[tuple[str, str, int | None, str | None]]:
        return [finding.key() for finding in self.findings]

    def summary(self) -> dict:
        errors = [f for f in self.findings if f.severity == ERROR]
        return {
            "errors": len(errors),
            "warnings": len(self.findings) - len(errors),
            "participant_rows": self.participant_rows,
            "placement_rows": self.placement_rows,
            "rows_with_errors": len({(f.file, f.row) for f in errors if f.row is not None}),
        }


def check_submission(participants: bytes, placements: bytes | None, period: str) -> Result:
    quarter = Quarter.parse(period)
    people = check_file(participants, PARTICIPANTS, quarter)
    found = list(people.findings)
    if people.readable:
        found += participant_duplicates(people)
    placement_rows = 0
    if placements is not None:
        jobs = check_file(placements, PLACEMENTS, quarter)
        placement_rows = jobs.data_rows
        found += jobs.findings
        if jobs.readable:
            found += placement_duplicates(jobs)
            if people.readable:
                found += cross_file(people, jobs)
    found.sort(key=lambda f: (f.file != PARTICIPANTS, -1 if f.row is None else f.row))
    return Result(str(quarter), found, people.data_rows, placement_rows)


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        sys.stderr.write("usage: baseline.py PARTICIPANTS.csv [PLACEMENTS.csv] QUARTER\n")
        return 2
    *paths, period = argv
    participants = Path(paths[0]).read_bytes()
    placements = Path(paths[1]).read_bytes() if len(paths) == 2 else None
    result = check_submission(participants, placements, period)
    summary = result.summary()
    output = {
        "period": result.period,
        "summary": summary,
        "findings": [finding.as_dict() for finding in result.findings],
    }
    sys.stdout.write(json.dumps(output))
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
