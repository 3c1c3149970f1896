"""The two quarterly files of DATA-CONTRACT.md §2, as data.

Everything else reads these definitions: the checks, the typed frames the figures use,
the downloadable templates and their data dictionary. Pure Python: no Django, and no
polars until ``typed_schema`` is called (``manage.py check_files`` reads its files while
polars loads: reporting/checks/native.py).
"""

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


class Kind(StrEnum):
    PARTICIPANT_ID = "participant_id"
    SSN = "ssn"
    STATE = "state"
    ZIP = "zip"
    DATE = "date"
    CODE = "code"
    DOLLARS = "dollars"  # whole dollars, 0 – 999,999
    HOURLY_WAGE = "hourly_wage"  # dollars, 0.01 – 500.00, up to 2 decimals
    HOURS = "hours"  # 1 – 80, decimals allowed
    ONET = "onet"
    NAICS = "naics"
    TEXT = "text"


class Requirement(StrEnum):
    REQUIRED = "yes"
    CONDITIONAL = "cond."
    OPTIONAL = "no"


@dataclass(frozen=True)
class Column:
    name: str
    pirl: int | None
    kind: Kind
    requirement: Requirement
    description: str
    # For CODE columns: allowed value → meaning. Two-digit code columns accept a single
    # digit for a dropped leading zero (§7: "0" reads as "00").
    codes: dict[str, str] = field(default_factory=dict)
    two_digit: bool = False
    # The value a blank cell means, where the contract gives one ("blank = 0").
    blank_means: str | None = None
    max_length: int | None = None

    @property
    def required(self) -> bool:
        return self.requirement is Requirement.REQUIRED


YES_NO = {"1": "yes", "0": "no"}
YES_NO_UNKNOWN = {"1": "yes", "0": "no", "9": "did not self-identify"}
EMPLOYED_AFTER_EXIT = {"1": "yes", "0": "no", "9": "not yet known"}

P = Requirement
PARTICIPANT_COLUMNS: tuple[Column, ...] = (
    Column("participant_id", 100, Kind.PARTICIPANT_ID, P.REQUIRED,
           "1–12 characters A-Z a-z 0-9 -; unique in the file; never an SSN"),
    Column("ssn", 2700, Kind.SSN, P.OPTIONAL,
           "9 digits (dashes allowed); stored encrypted, shown only as the last four"),
    Column("state_code", 101, Kind.STATE, P.REQUIRED,
           "USPS state or territory code (50 states, DC, PR, GU, VI, AS, MP)"),
    Column("zip_code", 103, Kind.ZIP, P.OPTIONAL, "5 digits, or 5+4 (12345-6789)"),
    Column("date_of_birth", 200, Kind.DATE, P.REQUIRED, "date of birth"),
    Column("sex", 201, Kind.CODE, P.REQUIRED, "sex",
           codes={"1": "male", "2": "female", "9": "did not self-identify"}),
    Column("disability", 202, Kind.CODE, P.REQUIRED, "individual with a disability",
           codes=YES_NO_UNKNOWN),
    Column("hispanic_latino", 210, Kind.CODE, P.REQUIRED, "Hispanic or Latino",
           codes=YES_NO_UNKNOWN),
    Column("race_american_indian", 211, Kind.CODE, P.OPTIONAL,
           "American Indian or Alaska Native", codes=YES_NO, blank_means="0"),
    Column("race_asian", 212, Kind.CODE, P.OPTIONAL, "Asian", codes=YES_NO, blank_means="0"),
    Column("race_black", 213, Kind.CODE, P.OPTIONAL, "Black or African American",
           codes=YES_NO, blank_means="0"),
    Column("race_pacific_islander", 214, Kind.CODE, P.OPTIONAL,
           "Native Hawaiian or Other Pacific Islander", codes=YES_NO, blank_means="0"),
    Column("race_white", 215, Kind.CODE, P.OPTIONAL, "White", codes=YES_NO, blank_means="0"),
    Column("veteran", 300, Kind.CODE, P.REQUIRED, "eligible veteran", codes=YES_NO),
    Column("employment_status_at_entry", 400, Kind.CODE, P.REQUIRED,
           "employment status at program entry",
           codes={"1": "employed", "2": "employed, but received notice of termination",
                  "3": "not in labor force", "0": "unemployed"}),
    Column("highest_education", 408, Kind.CODE, P.REQUIRED,
           "highest school grade completed (PIRL 408)",
           codes={"0": "no educational level completed",
                  "1": "attained secondary school diploma",
                  "2": "attained a secondary school equivalency",
                  "3": "the participant with a disability receives a certificate of attendance",
                  "4": "completed one or more years of postsecondary education",
                  "5": "attained a postsecondary technical or vocational certificate",
                  "6": "attained an associate's degree",
                  "7": "attained a bachelor's degree",
                  "8": "attained a degree beyond a bachelor's degree"}),
    Column("low_income", 802, Kind.CODE, P.REQUIRED, "low income", codes=YES_NO_UNKNOWN),
    Column("incumbent_worker", 907, Kind.CODE, P.REQUIRED, "incumbent worker", codes=YES_NO),
    Column("entry_date", 900, Kind.DATE, P.REQUIRED, "date of program entry"),
    Column("exit_date", 901, Kind.DATE, P.OPTIONAL, "date of program exit"),
    Column("other_exit_reason", 923, Kind.CODE, P.OPTIONAL, "other reasons for exit",
           codes={"00": "none", "01": "institutionalized", "02": "health/medical",
                  "03": "deceased", "04": "reserve forces called to active duty",
                  "05": "foster care", "06": "ineligible", "07": "criminal offender"},
           two_digit=True, blank_means="00"),
    Column("received_training", 1300, Kind.CODE, P.REQUIRED, "received training",
           codes=YES_NO),
    Column("training_start_date", 1302, Kind.DATE, P.CONDITIONAL,
           "date entered training (required when received_training = 1)"),
    Column("training_type", 1303, Kind.CODE, P.CONDITIONAL,
           "type of training service (required when received_training = 1)",
           codes={"01": "on-the-job training", "02": "skill upgrading",
                  "03": "entrepreneurial training", "04": "ABE or ESL with training",
                  "05": "customized training", "06": "occupational skills training",
                  "08": "prerequisite training", "09": "registered apprenticeship",
                  "10": "youth occupational skills training",
                  "11": "other non-occupational skills training",
                  "12": "job readiness training with training", "00": "no training service"},
           two_digit=True),
    Column("training_onet", 1306, Kind.ONET, P.OPTIONAL,
           "O*NET-SOC code of the training (NN-NNNN.NN or 8 digits)"),
    Column("training_completed", 1307, Kind.CODE, P.CONDITIONAL,
           "training completed (required when training_end_date is given)", codes=YES_NO),
    Column("training_end_date", 1308, Kind.DATE, P.CONDITIONAL,
           "date completed, or withdrew from, training"),
    Column("credential_type", 1800, Kind.CODE, P.OPTIONAL, "type of recognized credential",
           codes={"0": "none", "1": "secondary school diploma or equivalency",
                  "2": "AA or AS diploma or degree", "3": "BA or BS diploma or degree",
                  "4": "occupational licensure", "5": "occupational certificate",
                  "6": "occupational certification",
                  "7": "other recognized diploma, degree or certificate"},
           blank_means="0"),
    Column("credential_date", 1801, Kind.DATE, P.CONDITIONAL,
           "date attained the credential (required when credential_type is 1–7)"),
    Column("msg_training_milestone_date", 1809, Kind.DATE, P.OPTIONAL,
           "date of the most recent measurable skill gain: training milestone"),
    Column("msg_skills_progression_date", 1810, Kind.DATE, P.OPTIONAL,
           "date of the most recent measurable skill gain: skills progression"),
    Column("employed_q2_after_exit", 1602, Kind.CODE, P.OPTIONAL,
           "employed in the 2nd quarter after exit", codes=EMPLOYED_AFTER_EXIT),
    Column("wages_q2_after_exit", 1704, Kind.DOLLARS, P.OPTIONAL,
           "wages in the 2nd quarter after exit, whole dollars 0–999999"),
    Column("employed_q4_after_exit", 1606, Kind.CODE, P.OPTIONAL,
           "employed in the 4th quarter after exit", codes=EMPLOYED_AFTER_EXIT),
    Column("wages_q4_after_exit", 1706, Kind.DOLLARS, P.OPTIONAL,
           "wages in the 4th quarter after exit, whole dollars 0–999999"),
    Column("incumbent_retained", 2119, Kind.CODE, P.OPTIONAL,
           "incumbent worker kept their position in the 1st quarter after training",
           codes=YES_NO),
    Column("incumbent_advanced", 2120, Kind.CODE, P.OPTIONAL,
           "incumbent worker advanced into a new position in the 1st quarter after training",
           codes=YES_NO),
)  # fmt: skip

PLACEMENT_COLUMNS: tuple[Column, ...] = (
    Column("participant_id", 100, Kind.PARTICIPANT_ID, P.REQUIRED,
           "must exist in the participant file of the same submission"),
    Column("employer_name", None, Kind.TEXT, P.REQUIRED, "employer's name, 1–200 characters",
           max_length=200),
    Column("start_date", 2118, Kind.DATE, P.REQUIRED, "date entered employment"),
    Column("job_title", None, Kind.TEXT, P.OPTIONAL, "job title, up to 200 characters",
           max_length=200),
    Column("onet_code", 1610, Kind.ONET, P.OPTIONAL,
           "O*NET-SOC code of the job (NN-NNNN.NN or 8 digits)"),
    Column("naics_code", 1614, Kind.NAICS, P.OPTIONAL, "NAICS code of the employer, 6 digits"),
    Column("hourly_wage", None, Kind.HOURLY_WAGE, P.REQUIRED,
           "hourly wage in dollars, 0.01–500.00, up to 2 decimals"),
    Column("hours_per_week", None, Kind.HOURS, P.REQUIRED, "hours per week, 1–80"),
    Column("training_related", 2126, Kind.CODE, P.REQUIRED,
           "employment related to the training received", codes=YES_NO),
    Column("registered_apprenticeship", 931, Kind.CODE, P.OPTIONAL,
           "placement is a registered apprenticeship", codes=YES_NO, blank_means="0"),
)  # fmt: skip

PARTICIPANTS = "participants"
PLACEMENTS = "placements"
COLUMNS = {PARTICIPANTS: PARTICIPANT_COLUMNS, PLACEMENTS: PLACEMENT_COLUMNS}

US_STATE_CODES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
        "GU",
        "VI",
        "AS",
        "MP",
    ]
)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_DATA_ROWS = 200_000

_PIRL_HEADER = re.compile(r"^(?:pirl_?)?(\d+)$")
# Any header that names a PIRL element this contract does not use (`PIRL 1000`,
# `PIRL108-A`, `1332`) is ignored without a finding (§3 F03).
_OTHER_PIRL_HEADER = re.compile(r"^(?:pirl_?)?\d+(?:_?[a-z])?$")


def normalise_header(text: str) -> str:
    """§7: strip, lower-case, each "-" and space becomes "_"."""
    return re.sub(r"[- ]", "_", str(text).strip().lower())


def column_for_header(text: str, kind: str) -> Column | None:
    """The contract column a header names, by name or by PIRL element number."""
    name = normalise_header(text)
    columns = COLUMNS[kind]
    for column in columns:
        if column.name == name:
            return column
    match = _PIRL_HEADER.match(name)
    if match:
        number = int(match[1])
        for column in columns:
            if column.pirl == number:
                return column
    return None


def is_other_pirl_element(text: str) -> bool:
    return bool(_OTHER_PIRL_HEADER.match(normalise_header(text)))


def typed_schema(kind: str) -> "dict[str, pl.DataType]":
    """Column → dtype of the typed rows the checks keep and the figures read
    (reporting/checks/README.md): ``row`` first, hourly_wage kept in cents, text as text."""
    import polars as pl

    dtypes: dict[Kind, pl.DataType] = {
        Kind.DATE: pl.Date(),
        Kind.DOLLARS: pl.Int64(),
        Kind.HOURLY_WAGE: pl.Int64(),
        Kind.HOURS: pl.Float64(),
    }
    schema: dict[str, pl.DataType] = {"row": pl.Int64()}
    for column in COLUMNS[kind]:
        name = "hourly_wage_cents" if column.kind is Kind.HOURLY_WAGE else column.name
        schema[name] = dtypes.get(column.kind, pl.String())
    return schema
