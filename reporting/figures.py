"""The quarterly performance figures of DATA-CONTRACT.md §4, in the shape of §6.

Pure code: it takes the typed "kept" frames of reporting/checks/README.md (rows without
errors) and returns numbers. No Django, no models. The tests every window shares are
computed once per row; then every figure of every window is one polars aggregation, so
all three windows come out of one query over each frame.

Readings taken where the contract is silent (also in the project's docs):

- Rolling 4 Quarters is RQ−3 .. RQ even when that reaches back before the grant start;
  Grant to Date starts on the grant's start date itself, not on its quarter's first day.
- Age at entry is in completed years: someone born on Feb 29 turns a year older on
  Mar 1 in years without a Feb 29. Ages below 17 fall in no age group (L03 holds them
  back anyway).
- E-2 is the median over the ``wages_q2_after_exit`` above 0 of the E-1 numerator
  (§4 E: $0 and blank wages do not enter it); it is null when there is no such wage.
- The E-4 diploma rule looks at every kept placement of the person, whatever its start
  date's lower bound: "a placement with start_date on or before exit_date + 365 days".
- Placements whose participant_id is not among the participants given are ignored (the
  check engine already holds them back; this keeps the function safe on any input).
"""

import functools
import operator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from grantees.calendar import Quarter, program_year, program_year_bounds
from reporting import contract
from reporting.catalogue import (
    CHARACTERISTIC_KEYS,
    CURRENT_QUARTER,
    FIGURE_KEYS,
    GRANT_TO_DATE,
    RATE_KEYS,
    ROLLING_4_QUARTERS,
    WINDOW_NAMES,
    middle,
    rate,
    wage_text,
)

_RACE_COLUMNS = (
    "race_american_indian",
    "race_asian",
    "race_black",
    "race_pacific_islander",
    "race_white",
)


def _is(column: str, *codes: str) -> pl.Expr:
    # Equalities or-ed together: several times faster than is_in on short string codes.
    return functools.reduce(operator.or_, (pl.col(column) == code for code in codes))


# The characteristics of participants served (§4 B), each a test on one participant row.
_AGE = pl.col("age_at_entry")
CHARACTERISTICS: dict[str, pl.Expr] = {
    "B-sex-male": _is("sex", "1"),
    "B-sex-female": _is("sex", "2"),
    "B-sex-unknown": _is("sex", "9"),
    "B-hispanic": _is("hispanic_latino", "1"),
    "B-race-american-indian": _is("race_american_indian", "1"),
    "B-race-asian": _is("race_asian", "1"),
    "B-race-black": _is("race_black", "1"),
    "B-race-pacific-islander": _is("race_pacific_islander", "1"),
    "B-race-white": _is("race_white", "1"),
    "B-race-multiple": pl.col("race_flags") >= 2,
    "B-age-17-29": _AGE.is_between(17, 29),
    "B-age-30-44": _AGE.is_between(30, 44),
    "B-age-45-54": _AGE.is_between(45, 54),
    "B-age-55-plus": _AGE >= 55,
    "B-veteran": _is("veteran", "1"),
    "B-disability": _is("disability", "1"),
    "B-low-income": _is("low_income", "1"),
    "B-incumbent": _is("incumbent_worker", "1"),
    "B-employed-at-entry": _is("employment_status_at_entry", "1", "2"),
    "B-unemployed-at-entry": _is("employment_status_at_entry", "0"),
    "B-not-in-labor-force": _is("employment_status_at_entry", "3"),
    "B-edu-none": _is("highest_education", "0"),
    "B-edu-secondary": _is("highest_education", "1", "2", "3"),
    "B-edu-postsecondary": _is("highest_education", "4", "5", "6"),
    "B-edu-bachelors-plus": _is("highest_education", "7", "8"),
}

# The catalogue's section B, in its order: one expression per characteristic.
assert tuple(CHARACTERISTICS) == CHARACTERISTIC_KEYS, "figures and the catalogue disagree"

# Lags of the WIOA-aligned indicators, in quarters (§4 E): the outcome quarter plus
# DOL's two-quarter reporting lag (TEGL 10-16 Change 2), so the cohorts are the ones
# DOL's own reports compute. L10's timing (the outcome quarter alone) is not this.
LAGS = {"E-1": 4, "E-2": 4, "E-3": 6, "E-4": 6}
# Which definitions of §4 E the figures follow; every export's provenance names them,
# and an export made before they were named (no key) was made under v1.
DEFINITIONS = "v2"
FIRST_DEFINITIONS = "v1"
DEFINITIONS_TEXT = {
    "v1": (
        "v1: cohorts lagging 2 and 4 quarters; outcomes not yet known counted as not "
        "employed; $0 wages in median earnings; skill gains by participation dates"
    ),
    "v2": (
        "v2: cohorts lagging 4 and 6 quarters (DOL's two-quarter reporting lag, TEGL "
        "10-16); outcomes not yet known and $0 wages left out; skill gains by training "
        "dates (PIRL 1811/1813)"
    ),
}


def definitions_of(provenance: dict) -> str:
    """The figures definitions an export was made under, from its provenance."""
    return provenance.get("figures_definitions") or FIRST_DEFINITIONS


EXCLUSION_REASONS = ("01", "02", "03", "04", "05")
CREDENTIAL_TYPES = ("1", "2", "3", "4", "5", "6", "7")
E4_TRAINING_TYPES_OUT = ("01", "05")  # on-the-job and customized training
CREDENTIAL_WINDOW = timedelta(days=365)  # §7: exit_date + 365 days exactly


@dataclass(frozen=True)
class Window:
    """A figure window of §4 A–D: "in window" is first <= day <= last."""

    name: str
    first: date
    last: date

    def holds(self, column: str) -> pl.Expr:
        return pl.col(column).is_between(self.first, self.last, closed="both")


def windows(report_quarter: Quarter, grant_start: date) -> tuple[Window, ...]:
    return (
        Window(CURRENT_QUARTER, report_quarter.start, report_quarter.end),
        Window(ROLLING_4_QUARTERS, (report_quarter - 3).start, report_quarter.end),
        Window(GRANT_TO_DATE, grant_start, report_quarter.end),
    )


def exit_quarters(window: str, report_quarter: Quarter, lag: int) -> tuple[Quarter | None, Quarter]:
    """The exit quarters of an indicator's cohort: the window moved ``lag`` quarters
    earlier. Grant to Date has no first quarter: every exit up to RQ−lag counts."""
    last = report_quarter - lag
    if window == CURRENT_QUARTER:
        return last, last
    if window == ROLLING_4_QUARTERS:
        return last - 3, last
    return None, last


def program_year_span(report_quarter: Quarter) -> tuple[date, date]:
    """E-5's period: the start of the program year containing RQ, to the period end."""
    start, _ = program_year_bounds(program_year(report_quarter.start))
    return start, report_quarter.end


def cohort_periods(
    report_quarter: Quarter, grant_start: date
) -> dict[str, dict[str, tuple[str, str] | None]]:
    """The quarters each WIOA-aligned indicator's cohort covers, per window, to print
    beside the figure: ``{"current_quarter": {"E-1": ("2025Q1", "2025Q1"), ...}, ...}``.

    Grant to Date cohorts are shown from the grant's first quarter (the cohort itself has
    no lower bound, and no participant exits before the grant starts in practice); where
    RQ−lag is before that quarter the cohort is empty by definition and shown as None.
    E-5 is the program year to date in every window.
    """
    grant_first = Quarter.containing(grant_start)
    py_start, _ = program_year_span(report_quarter)
    e5 = (str(Quarter.containing(py_start)), str(report_quarter))
    periods: dict[str, dict[str, tuple[str, str] | None]] = {}
    for window in WINDOW_NAMES:
        periods[window] = {}
        for key, lag in LAGS.items():
            first, last = exit_quarters(window, report_quarter, lag)
            if first is None:
                first = grant_first
            periods[window][key] = (str(first), str(last)) if first <= last else None
        periods[window]["E-5"] = e5
    return periods


def _middle(values: pl.Expr, name: str) -> list[pl.Expr]:
    return [
        values.quantile(0.5, "lower").alias(f"{name}/lower"),
        values.quantile(0.5, "higher").alias(f"{name}/higher"),
    ]


def _count(condition: pl.Expr, name: str) -> pl.Expr:
    return condition.fill_null(False).sum().alias(name)


def _exited_in(window: str, report_quarter: Quarter, lag: int) -> pl.Expr:
    first, last = exit_quarters(window, report_quarter, lag)
    exit_date = pl.col("exit_date")
    if first is None:
        return exit_date <= last.end
    return exit_date.is_between(first.start, last.end, closed="both")


def _participant_flags() -> dict[str, pl.Expr]:
    """Tests on one participant row that every window reads, computed once per row so
    that each window's aggregations only combine booleans."""
    credential_by = pl.col("exit_date") + CREDENTIAL_WINDOW
    # A secondary diploma counts only with a job within a year of exit (§4 E-4).
    e4_credential = (
        _is("credential_type", *CREDENTIAL_TYPES)
        & (pl.col("credential_date") <= credential_by)
        & (~_is("credential_type", "1") | (pl.col("first_placement") <= credential_by))
    )
    flags = {
        **CHARACTERISTICS,
        "excluded": _is("other_exit_reason", *EXCLUSION_REASONS),
        "apprenticeship": _is("training_type", "09"),
        "completed": _is("training_completed", "1"),
        "credential": _is("credential_type", *CREDENTIAL_TYPES),
        "retained": _is("incumbent_retained", "1"),
        "advanced": _is("incumbent_advanced", "1"),
        "employed_q2": _is("employed_q2_after_exit", "1"),
        "employed_q4": _is("employed_q4_after_exit", "1"),
        # 9 ("information not yet available") or blank: out of the rate altogether.
        "known_q2": _is("employed_q2_after_exit", "0", "1"),
        "known_q4": _is("employed_q4_after_exit", "0", "1"),
        "e4_trained": _is("received_training", "1") & ~_is("training_type", *E4_TRAINING_TYPES_OUT),
        "e4_credential": e4_credential,
    }
    return {name: test.fill_null(False).alias(name) for name, test in flags.items()}


def _participant_aggregations(window: Window, report_quarter: Quarter) -> list[pl.Expr]:
    name = window.name
    served = (pl.col("entry_date") <= window.last) & (
        pl.col("exit_date").is_null() | (pl.col("exit_date") >= window.first)
    )
    began_training = window.holds("training_start_date")
    training_ended = window.holds("training_end_date")
    counts: dict[str, pl.Expr] = {
        "A-1": window.holds("exit_date"),
        "A-2": served,
        "A-3": window.holds("entry_date"),
        **{key: served & pl.col(key) for key in CHARACTERISTICS},
        "C-1": began_training,
        "C-2": began_training & pl.col("apprenticeship"),
        "C-3": training_ended & pl.col("completed"),
        "C-4": window.holds("credential_date") & pl.col("credential"),
        "D-1": window.holds("first_placement"),
        "D-4": training_ended & pl.col("retained"),
        "D-5": training_ended & pl.col("advanced"),
    }
    included = ~pl.col("excluded")
    q2_cohort = included & _exited_in(name, report_quarter, LAGS["E-1"]) & pl.col("known_q2")
    q4_cohort = included & _exited_in(name, report_quarter, LAGS["E-3"]) & pl.col("known_q4")
    trained_cohort = included & _exited_in(name, report_quarter, LAGS["E-4"]) & pl.col("e4_trained")
    counts |= {
        "E-1/numerator": q2_cohort & pl.col("employed_q2"),
        "E-1/denominator": q2_cohort,
        "E-3/numerator": q4_cohort & pl.col("employed_q4"),
        "E-3/denominator": q4_cohort,
        "E-4/numerator": trained_cohort & pl.col("e4_credential"),
        "E-4/denominator": trained_cohort,
    }
    return [
        *(_count(test, f"{name}/{key}") for key, test in counts.items()),
        *_middle(
            pl.col("wages_q2_after_exit").filter(earnings_counted(name, report_quarter)),
            f"{name}/E-2",
        ),
    ]


def earnings_counted(window: str, report_quarter: Quarter) -> pl.Expr:
    """The people whose second-quarter wages enter E-2's median: the E-1 numerator with
    wages above $0 (a $0 or blank wage says nothing about earnings). Reads the raw
    columns only, so the program roll-up takes the same values from stored records."""
    excluded = _is("other_exit_reason", *EXCLUSION_REASONS).fill_null(False)
    return (
        ~excluded
        & _exited_in(window, report_quarter, LAGS["E-2"])
        & _is("employed_q2_after_exit", "1")
        & (pl.col("wages_q2_after_exit") > 0)
    ).fill_null(False)


def _skill_gains_aggregations(report_quarter: Quarter) -> list[pl.Expr]:
    py_start, period_end = program_year_span(report_quarter)
    # Training, not participation, overlaps the program year (the file's analogue of
    # PIRL 1811/1813): someone whose training ended before July 1 is not in the
    # denominator, whether or not they have exited the program.
    cohort = (
        ~pl.col("excluded")
        & _is("received_training", "1")
        & (pl.col("training_start_date") <= period_end)
        & (pl.col("training_end_date").is_null() | (pl.col("training_end_date") >= py_start))
    )
    gained = pl.col("msg_training_milestone_date").is_between(py_start, period_end) | pl.col(
        "msg_skills_progression_date"
    ).is_between(py_start, period_end)
    return [_count(cohort & gained, "E-5/numerator"), _count(cohort, "E-5/denominator")]


def _placement_aggregations(window: Window) -> list[pl.Expr]:
    started = window.holds("start_date").fill_null(False)
    related = started & _is("training_related", "1")
    return [
        pl.col("participant_id").filter(related).n_unique().alias(f"{window.name}/D-2"),
        *_middle(pl.col("hourly_wage_cents").filter(started), f"{window.name}/D-3"),
    ]


_PARTICIPANT_COLUMNS = (
    "participant_id",
    "date_of_birth",
    "entry_date",
    "exit_date",
    "other_exit_reason",
    *_RACE_COLUMNS,
    "sex",
    "hispanic_latino",
    "veteran",
    "disability",
    "low_income",
    "incumbent_worker",
    "employment_status_at_entry",
    "highest_education",
    "received_training",
    "training_start_date",
    "training_type",
    "training_completed",
    "training_end_date",
    "credential_type",
    "credential_date",
    "msg_training_milestone_date",
    "msg_skills_progression_date",
    "employed_q2_after_exit",
    "wages_q2_after_exit",
    "employed_q4_after_exit",
    "incumbent_retained",
    "incumbent_advanced",
)


def _march_year_key(day: pl.Expr) -> pl.Expr:
    """1000 × the year counted from March 1, plus the day of that year (0–365).

    Counted from March, a day of the year names the same month and day in every year
    (Feb 29 is the last day), so completed years between two dates are the difference of
    their keys floored to thousands. This is Hinnant's civil-from-days arithmetic on the
    day numbers: several times faster than polars' year, month and day extraction, which
    was the slowest step of the figures.
    """
    z = day.to_physical().cast(pl.Int64) + 719_468  # days since 0000-03-01
    era = z // 146_097
    day_of_era = z - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1_460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    return (era * 400 + year_of_era) * 1000 + day_of_year


def age_in_completed_years(born: pl.Expr, on: pl.Expr) -> pl.Expr:
    return (_march_year_key(on) - _march_year_key(born)) // 1000


def compute_figures(
    participants: pl.DataFrame,
    placements: pl.DataFrame,
    *,
    report_quarter: Quarter,
    grant_start: date,
) -> dict[str, Any]:
    """Every figure of §4 for the three windows, as the JSON object of §6."""
    kept_ids = participants.lazy().select("participant_id")
    jobs = placements.lazy().join(kept_ids, on="participant_id", how="semi")
    first_placements = jobs.group_by("participant_id").agg(
        pl.col("start_date").min().alias("first_placement")
    )
    people = (
        participants.lazy()
        .select(_PARTICIPANT_COLUMNS)
        .join(first_placements, on="participant_id", how="left")
        .with_columns(
            age_at_entry=age_in_completed_years(pl.col("date_of_birth"), pl.col("entry_date")),
            race_flags=pl.sum_horizontal(pl.col(c) == "1" for c in _RACE_COLUMNS),
        )
        .with_columns(*_participant_flags().values())
    )
    all_windows = windows(report_quarter, grant_start)
    people_aggregations = [
        *(e for w in all_windows for e in _participant_aggregations(w, report_quarter)),
        *_skill_gains_aggregations(report_quarter),
    ]
    job_aggregations = [e for w in all_windows for e in _placement_aggregations(w)]
    people_frame, jobs_frame = pl.collect_all(
        [people.select(people_aggregations), jobs.select(job_aggregations)]
    )
    values = people_frame.row(0, named=True) | jobs_frame.row(0, named=True)

    skill_gains = rate(values["E-5/numerator"], values["E-5/denominator"])
    return {
        "period": str(report_quarter),
        "windows": {w.name: _window_figures(w.name, values, skill_gains) for w in all_windows},
    }


def _window_figures(name: str, values: dict[str, Any], skill_gains: dict) -> dict[str, Any]:
    def value(key: str) -> Any:
        return values[f"{name}/{key}"]

    figures: dict[str, Any] = {}
    for key in FIGURE_KEYS:
        if key == "D-3":
            figures[key] = wage_text(middle(value("D-3/lower"), value("D-3/higher")))
        elif key == "E-2":
            figures[key] = middle(value("E-2/lower"), value("E-2/higher"))
        elif key == "E-5":
            figures[key] = dict(skill_gains)
        elif key in RATE_KEYS:
            figures[key] = rate(int(value(f"{key}/numerator")), int(value(f"{key}/denominator")))
        else:
            figures[key] = int(value(key))
    return figures


def participants_schema() -> dict[str, pl.DataType]:
    return contract.typed_schema(contract.PARTICIPANTS)


def placements_schema() -> dict[str, pl.DataType]:
    return contract.typed_schema(contract.PLACEMENTS)


def empty_placements() -> pl.DataFrame:
    """The kept placement frame of a submission without a placement file."""
    return pl.DataFrame(schema=placements_schema())
