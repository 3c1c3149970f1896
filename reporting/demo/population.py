"""The demo's invented participants: each coalition's population with whole life
histories, and a quarter's two files as that population was known at the quarter's end.

Pure Python, deterministic (seeded by the coalition's slug). Rows are dicts of strings
as the files write them, the shape ``reporting.checks.synthetic`` uses, so its breakers
apply to them.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from grantees import demo as grantees_demo
from grantees.calendar import Quarter
from grantees.models import Coalition, Measure
from reporting.checks import synthetic


@dataclass
class Person:
    """What really happened to one participant; a quarter's file shows what was known
    by its end."""

    row: dict[str, str]  # the fields that never change, as the file writes them
    entry: date
    training_start: date | None = None
    training_type: str = ""
    training_onet: str = ""
    training_end: date | None = None
    completed: str = ""
    credential: tuple[str, date] | None = None
    milestone: date | None = None
    exit: date | None = None
    exit_reason: str = ""
    outcomes: dict[int, tuple[str, str]] = field(default_factory=dict)  # k → (employed, wages)
    # Quarters after the outcome quarter until the wage match comes in (None: never), as
    # UI wage records do: why DOL's indicators lag two more quarters (reporting.md).
    outcome_delays: dict[int, int | None] = field(default_factory=dict)
    incumbent_result: tuple[str, str] | None = None  # (retained, advanced)
    placements: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Pace:
    """How a coalition performs: people served at the latest closed quarter and the
    rates at which they train, finish, earn credentials and find work."""

    served: int
    train: float
    complete: float
    credential: float
    placed: float
    employed: float


def pace(
    slug: str,
    served_target: int,
    elapsed: float,
    participants: int | None,
    *,
    behind: bool,
    ahead: bool,
) -> Pace:
    rng = random.Random(f"pace:{slug}")
    if behind:
        factor = rng.uniform(0.45, 0.62)
    elif ahead:
        factor = rng.uniform(1.15, 1.35)
    else:
        factor = rng.uniform(0.94, 1.12)
    if participants is None:
        served = served_target * elapsed * factor
    else:
        # An explicit scale keeps the coalitions' order (bigger grants, more people).
        served = participants * served_target / _MEAN_SERVED_TARGET * factor
    # Rates high enough that an on-pace coalition's training, credential and job
    # figures keep up with their targets (0.85, 0.70, 0.55, 0.60 of people served)
    # despite the months between enrolment and a job; lower for those behind.
    quality = min(factor, 1.05)
    return Pace(
        served=max(round(served), 4),
        train=min(0.97, 0.95 * (0.75 + 0.25 * quality)),
        complete=min(0.95, 0.90 * (0.7 + 0.3 * quality)),
        credential=min(0.9, 0.80 * (0.6 + 0.4 * quality)),
        placed=min(0.96, 0.90 * (0.55 + 0.45 * quality)),
        employed=min(0.9, 0.74 * (0.8 + 0.2 * quality)),
    )


_MEAN_SERVED_TARGET = sum(
    grantees_demo.target_values(s["amount"])[Measure.PARTICIPANTS_SERVED]
    for s in grantees_demo.DEMO_COALITIONS
) / len(grantees_demo.DEMO_COALITIONS)

TRAINING_TYPES = ("06", "06", "06", "09", "09", "02", "01", "05", "08", "04")
EMPLOYERS_BY_SECTOR = {
    "renewable_energy": ("Sunridge Solar (demo)", "Northwind Turbines (demo)",
                         "Grid Storage Partners (demo)", "Clearline Electric (demo)"),
    "broadband": ("Fiberlink Builders (demo)", "Open Plains Telecom (demo)",
                  "Lastmile Networks (demo)", "Tower & Trench Co. (demo)"),
    "transportation": ("Metro Rail Services (demo)", "Bridgeworks Civil (demo)",
                       "Transit Fleet Maintenance (demo)", "Highway Line Striping (demo)"),
}  # fmt: skip


def _day(start: date, days: int) -> date:
    return start + timedelta(days=days)


def people(coalition: Coalition, number: int, pace: Pace, horizon: date) -> list[Person]:
    """The coalition's whole population up to ``horizon``: entry dates ramp up from the
    grant's start, as enrolment does."""
    rng = random.Random(f"people:{coalition.slug}")
    start = grantees_demo.PERIOD_START
    span = (horizon - start).days
    states = coalition.states_served or ["DC"]
    employers = [e for s in coalition.sectors for e in EMPLOYERS_BY_SECTOR.get(s, ())] or list(
        EMPLOYERS_BY_SECTOR["renewable_energy"]
    )
    everyone = []
    for index in range(pace.served):
        entry = _day(start, int(span * rng.random() ** (1 / 1.2)))
        if index < 3:  # The first quarter's report needs someone in it.
            entry = _day(start, rng.randint(20, 85))
        age = rng.randint(18, 62)
        born = date(entry.year - age, entry.month, min(entry.day, 28)) - timedelta(
            days=rng.randint(0, 330)
        )
        employment = rng.choice("0000123")
        incumbent = "1" if employment in "12" and rng.random() < 0.5 else "0"
        race = rng.choice(["white", "black", "white", "asian", "american_indian", "", "two"])
        row = dict.fromkeys(synthetic.PARTICIPANT_HEADER, "")
        row |= {
            "participant_id": f"{coalition.slug[:2].upper()}{index + 1:06d}",
            "ssn": synthetic._ssn(number * 100_000 + index) if rng.random() < 0.8 else "",
            "state_code": rng.choice(states),
            "zip_code": f"{rng.randint(1001, 99950):05d}",
            "date_of_birth": f"{born:%Y%m%d}",
            "sex": rng.choice("1112229"),
            "disability": rng.choice("00000019"),
            "hispanic_latino": rng.choice("0000119"),
            "race_white": "1" if race in ("white", "two") else "",
            "race_black": "1" if race in ("black", "two") else rng.choice(["", "0"]),
            "race_asian": "1" if race == "asian" else "",
            "race_american_indian": "1" if race == "american_indian" else "",
            "veteran": rng.choice("000001"),
            "employment_status_at_entry": employment,
            "highest_education": rng.choice("111112234456778"),
            "low_income": rng.choice("0111119"),
            "incumbent_worker": incumbent,
            "entry_date": f"{entry:%Y%m%d}",
        }
        person = Person(row=row, entry=entry)
        wage_level = rng.uniform(0.85, 1.25)
        if rng.random() < pace.train:
            person.training_start = _day(entry, rng.randint(0, 45))
            person.training_type = rng.choice(TRAINING_TYPES)
            person.training_onet = rng.choice(synthetic.ONET_CODES)
            if rng.random() < pace.complete:
                person.completed = "1"
                person.training_end = _day(person.training_start, rng.randint(30, 150))
            else:
                person.completed = "0"
                person.training_end = _day(person.training_start, rng.randint(10, 90))
            if rng.random() < 0.45:
                person.milestone = _day(
                    person.training_start,
                    rng.randint(0, (person.training_end - person.training_start).days),
                )
            if person.completed == "1" and rng.random() < pace.credential:
                person.credential = (
                    rng.choice("4556667"),
                    _day(person.training_end, rng.randint(0, 50)),
                )
            if incumbent == "1" and person.completed == "1":
                person.incumbent_result = (
                    "1" if rng.random() < 0.9 else "0",
                    "1" if rng.random() < 0.35 else "0",
                )
            if rng.random() < 0.9:
                person.exit = _day(person.training_end, rng.randint(0, 60))
        elif rng.random() < 0.6:
            person.exit = _day(entry, rng.randint(30, 300))
        if person.exit and rng.random() < 0.02:
            person.exit_reason = rng.choice(["01", "02", "04"])
        if person.exit and not person.exit_reason:
            # Its own stream, so the rest of each population stays as it was seeded before.
            matching = random.Random(f"{coalition.slug}-{row['participant_id']}-wage-match")
            for k in (2, 4):
                if rng.random() < pace.employed:
                    wages = int(rng.randint(7000, 16000) * wage_level)
                    person.outcomes[k] = ("1", str(wages))
                else:
                    person.outcomes[k] = ("0", rng.choice(["0", ""]))
                person.outcome_delays[k] = matching.choices(
                    [0, 1, 2, None], weights=[35, 40, 20, 5]
                )[0]
        # A training-related job starts after the training ends (L15 reads completion).
        ready = person.training_end if person.completed == "1" and person.training_end else entry
        if person.completed == "1" or person.exit:
            chance = pace.placed if person.completed == "1" else pace.placed * 0.4
            if rng.random() < chance:
                first = _day(ready, rng.randint(5, 100))
                jobs = [first] + (
                    [_day(first, rng.randint(60, 300))] if rng.random() < 0.06 else []
                )
                picked = rng.sample(employers, k=len(jobs))
                for start_day, employer in zip(jobs, picked, strict=True):
                    related = person.completed == "1" and rng.random() < 0.8
                    person.placements.append(
                        {
                            "participant_id": row["participant_id"],
                            "employer_name": employer,
                            "start_date": start_day,
                            "job_title": rng.choice(synthetic.JOB_TITLES),
                            "onet_code": rng.choice(synthetic.ONET_CODES),
                            "naics_code": rng.choice(synthetic.NAICS_CODES),
                            "hourly_wage": f"{rng.randint(1700, 3900) * wage_level / 100:.2f}",
                            "hours_per_week": rng.choice(["40", "40", "40", "32", "37.5"]),
                            "training_related": "1" if related else "0",
                            "registered_apprenticeship": "1"
                            if person.training_type == "09" and related
                            else rng.choice(["", "0"]),
                        }
                    )
        everyone.append(person)
    return everyone


def _known(when: date | None, end: date) -> bool:
    return when is not None and when <= end


def files(people: list[Person], quarter: Quarter) -> tuple[list[dict], list[dict]]:
    """The participant and placement rows as known at the end of ``quarter``."""
    end = quarter.end
    rows, jobs = [], []
    for p in people:
        if p.entry > end:
            continue
        row = dict(p.row)
        if _known(p.training_start, end):
            row |= {
                "received_training": "1",
                "training_start_date": f"{p.training_start:%Y%m%d}",
                "training_type": p.training_type,
                "training_onet": p.training_onet,
            }
            if _known(p.training_end, end):
                row |= {
                    "training_end_date": f"{p.training_end:%Y%m%d}",
                    "training_completed": p.completed,
                }
                if p.incumbent_result:
                    row["incumbent_retained"], row["incumbent_advanced"] = p.incumbent_result
            if _known(p.milestone, end):
                row["msg_training_milestone_date"] = f"{p.milestone:%Y%m%d}"
            if p.credential and p.credential[1] <= end:
                row["credential_type"] = p.credential[0]
                row["credential_date"] = f"{p.credential[1]:%Y%m%d}"
        else:
            row["received_training"] = "0"
        if p.exit and p.exit <= end:
            row["exit_date"] = f"{p.exit:%Y%m%d}"
            row["other_exit_reason"] = p.exit_reason
            exited = Quarter.containing(p.exit)
            for k, (employed, wages) in p.outcomes.items():
                delay = p.outcome_delays.get(k, 0)
                if delay is not None and (exited + k + delay).index <= quarter.index:
                    row[f"employed_q{k}_after_exit"] = employed
                    row[f"wages_q{k}_after_exit"] = wages
                elif (exited + k).index <= quarter.index + 1:
                    # Not yet known: the outcome quarter is under way or has ended and
                    # its wage record has not come in.
                    row[f"employed_q{k}_after_exit"] = "9"
        rows.append(row)
        for job in p.placements:
            if job["start_date"] <= end:
                jobs.append(job | {"start_date": f"{job['start_date']:%Y%m%d}"})
    return rows, jobs


def broken(rows: list[dict], jobs: list[dict], seed: str) -> tuple[list[dict], list[dict]]:
    """A few rows broken the ways grantees break them (synthetic's breakers)."""
    rng = random.Random(seed)
    rows, jobs = [dict(r) for r in rows], [dict(j) for j in jobs]
    for items, breakers, share in (
        (rows, synthetic.PARTICIPANT_BREAKERS, 0.025),
        (jobs, synthetic.PLACEMENT_BREAKERS, 0.02),
    ):
        count = max(1, int(len(items) * share)) if items else 0
        for index in rng.sample(range(len(items)), k=min(count, len(items))):
            rng.choice(breakers)(rng, items[index], items, index)
    return rows, jobs
