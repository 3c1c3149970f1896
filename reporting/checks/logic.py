"""Stage 4 of DATA-CONTRACT.md §3: fields against each other (L01–L12, L16) and the two
files against each other (L13–L15).

Every condition is a polars expression in three-valued logic: a cell that failed stage 2
is neither present nor absent, so it reads as null, and a condition is a finding only
where it is *true* — that is, whatever the failed cell would have held. A condition
that does not read a failed cell is evaluated as usual (§7).
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import polars as pl

from grantees.calendar import Quarter
from reporting import contract
from reporting.checks import values
from reporting.checks.values import BAD, RAW, ROW, code_list, findings_frame, shown

PARTICIPANT_DATES = (
    "entry_date",
    "exit_date",
    "training_start_date",
    "training_end_date",
    "credential_date",
    "msg_training_milestone_date",
    "msg_skills_progression_date",
)
MINIMUM_WAGE_CENTS = 725


@dataclass(frozen=True)
class Condition:
    """One condition of a rule: a finding on ``column`` of every row where ``holds`` —
    or on ``instead[1]`` where ``instead[0]`` is true."""

    code: str
    column: str
    holds: pl.Expr
    message: pl.Expr
    warning: bool = False
    instead: tuple[pl.Expr, str] | None = None


# Three-valued cell readings ------------------------------------------------------------


def value(column: str) -> pl.Expr:
    return pl.col(column)


def bad(column: str) -> pl.Expr:
    return pl.col(BAD + column)


def unknown_if_bad(column: str, expression: pl.Expr) -> pl.Expr:
    return pl.when(bad(column)).then(pl.lit(None, pl.Boolean)).otherwise(expression)


def present(column: str) -> pl.Expr:
    return unknown_if_bad(column, value(column).is_not_null())


def absent(column: str) -> pl.Expr:
    return ~present(column)


def equals(column: str, *codes: str) -> pl.Expr:
    return unknown_if_bad(column, values.one_of(value(column), codes).fill_null(False))


def iso(column: str) -> pl.Expr:
    return value(column).dt.to_string("%Y-%m-%d")


def given(column: str) -> pl.Expr:
    """The cell as given, or "blank"."""
    return pl.col(RAW + column).fill_null("blank")


def quarter_index(day: pl.Expr) -> pl.Expr:
    return day.dt.year().cast(pl.Int64) * 4 + day.dt.quarter().cast(pl.Int64) - 1


def quarter_name(index: pl.Expr) -> pl.Expr:
    return pl.format("{}Q{}", index // 4, index % 4 + 1)


# Participants --------------------------------------------------------------------------


@functools.cache
def participant_conditions(period: Quarter) -> list[Condition]:
    conditions = [
        Condition(
            "L01",
            "exit_date",
            value("exit_date") < value("entry_date"),
            pl.format(
                "exit_date {} is before entry_date {}: the exit date must be on or after "
                "the entry date",
                iso("exit_date"),
                iso("entry_date"),
            ),
        ),
        *(_after_period_end(column, period) for column in PARTICIPANT_DATES),
        _age_at_entry(),
        *_training_given(),
        Condition(
            "L05",
            "training_start_date",
            value("training_start_date") < value("entry_date"),
            pl.format(
                "training_start_date {} is before entry_date {}: training starts on or "
                "after program entry — check both dates",
                iso("training_start_date"),
                iso("entry_date"),
            ),
        ),
        Condition(
            "L06",
            "training_end_date",
            value("training_end_date") < value("training_start_date"),
            pl.format(
                "training_end_date {} is before training_start_date {}: training ends on "
                "or after the day it starts — check both dates",
                iso("training_end_date"),
                iso("training_start_date"),
            ),
        ),
        Condition(
            "L07",
            "training_completed",
            present("training_end_date") & absent("training_completed"),
            pl.format(
                "training_end_date {} is given but training_completed is blank: enter 1 "
                "if the participant completed the training, 0 if they withdrew",
                iso("training_end_date"),
            ),
        ),
        Condition(
            "L07",
            "training_end_date",
            equals("training_completed", "1") & absent("training_end_date"),
            pl.lit(
                "training_completed is 1 but training_end_date is blank: enter the date "
                "the training was completed (YYYYMMDD)"
            ),
        ),
        Condition(
            "L08",
            "credential_date",
            ~equals("credential_type", "0") & absent("credential_date"),
            pl.format(
                "credential_type is {} but credential_date is blank: enter the date the "
                "credential was attained (YYYYMMDD), or set credential_type to 0",
                given("credential_type"),
            ),
        ),
        Condition(
            "L08",
            "credential_date",
            value("credential_date") < value("entry_date"),
            pl.format(
                "credential_date {} is before entry_date {}: a credential counts only "
                "when attained on or after program entry — check the date",
                iso("credential_date"),
                iso("entry_date"),
            ),
        ),
        Condition(
            "L08",
            "credential_date",
            value("credential_date") > value("exit_date") + pl.duration(days=365),
            pl.format(
                "credential_date {} is more than 365 days after exit_date {}: a "
                "credential must be attained within 365 days of exit — check the dates",
                iso("credential_date"),
                iso("exit_date"),
            ),
        ),
        Condition(
            "L09",
            "exit_date",
            ~equals("other_exit_reason", "00") & absent("exit_date"),
            pl.format(
                "other_exit_reason is {} but exit_date is blank: a reason for exit needs "
                "the exit date — enter it, or leave other_exit_reason blank",
                given("other_exit_reason"),
            ),
        ),
    ]
    for k in (2, 4):
        conditions += _after_exit(k, period)
    conditions += _incumbent()
    return conditions


def _after_period_end(column: str, period: Quarter) -> Condition:
    return Condition(
        "L02",
        column,
        value(column) > pl.lit(period.end),
        pl.format(
            f"{column} {{}} is after the end of the period being reported ({period} ends "
            f"{period.end:%Y-%m-%d}): a date cannot be later than the period end — check it",
            iso(column),
        ),
    )


def _age_at_entry() -> Condition:
    entry, born = value("entry_date"), value("date_of_birth")
    before_birthday = (entry.dt.month().cast(pl.Int32) * 100 + entry.dt.day()) < (
        born.dt.month().cast(pl.Int32) * 100 + born.dt.day()
    )
    age = entry.dt.year() - born.dt.year() - before_birthday.cast(pl.Int32)
    return Condition(
        "L03",
        "date_of_birth",
        (age < 17) | (age > 100),
        pl.format(
            "date_of_birth {} makes the participant {} at entry_date {}: BPIJ serves "
            "people aged 17 to 100 at program entry — check both dates",
            iso("date_of_birth"),
            age,
            iso("entry_date"),
        ),
    )


def _training_given() -> list[Condition]:
    trained, not_trained = equals("received_training", "1"), equals("received_training", "0")
    type_column = next(c for c in contract.PARTICIPANT_COLUMNS if c.name == "training_type")
    types = {k: v for k, v in type_column.codes.items() if k != "00"}
    listed = code_list(replace(type_column, codes=types))
    given_while_not = [
        ("training_start_date", present("training_start_date")),
        ("training_type", present("training_type") & ~equals("training_type", "00")),
        ("training_end_date", present("training_end_date")),
    ]
    named = pl.concat_str(
        [pl.when(holds.fill_null(False)).then(pl.lit(name)) for name, holds in given_while_not],
        separator=", ",
        ignore_nulls=True,
    )
    return [
        Condition(
            "L04",
            "training_start_date",
            trained & absent("training_start_date"),
            pl.lit(
                "received_training is 1 but training_start_date is blank: enter the date "
                "training began (YYYYMMDD), or set received_training to 0"
            ),
        ),
        Condition(
            "L04",
            "training_type",
            trained & (absent("training_type") | equals("training_type", "00")),
            pl.format(
                "received_training is 1 but training_type is {}: enter the type of "
                f"training received — {listed}",
                pl.when(absent("training_type"))
                .then(pl.lit("blank"))
                .otherwise(pl.lit("00 (none)")),
            ),
        ),
        Condition(
            "L04",
            "received_training",
            not_trained & pl.any_horizontal(holds for _, holds in given_while_not),
            pl.format(
                "received_training is 0 but {} given: set received_training to 1 if the "
                "participant received training, or remove the training details",
                named
                + pl.when(named.str.contains(",")).then(pl.lit(" are")).otherwise(pl.lit(" is")),
            ),
        ),
    ]


def _after_exit(k: int, period: Quarter) -> list[Condition]:
    nth = {2: "2nd", 4: "4th"}[k]
    employed, wages = f"employed_q{k}_after_exit", f"wages_q{k}_after_exit"
    exit_quarter = quarter_index(value("exit_date"))
    too_early = unknown_if_bad(
        "exit_date",
        value("exit_date").is_null() | (exit_quarter + k > period.index),
    )
    employed_reported = equals(employed, "0", "1")
    reported_column = (
        pl.when(employed_reported.fill_null(False)).then(pl.lit(employed)).otherwise(pl.lit(wages))
    )
    reported_value = (
        pl.when(employed_reported.fill_null(False))
        .then(pl.col(RAW + employed))
        .otherwise(pl.col(RAW + wages))
    )
    both = f"leave {employed} and {wages} blank (or {employed} 9) until then"
    return [
        Condition(
            "L10",
            wages,
            (employed_reported | present(wages)) & too_early,
            pl.when(value("exit_date").is_null())
            .then(
                pl.format(
                    "{} is {} but exit_date is blank: results after exit can be reported "
                    "only for a participant who has exited — add the exit_date, or leave "
                    f"{employed} and {wages} blank (or {employed} 9)",
                    reported_column,
                    reported_value,
                )
            )
            .otherwise(
                pl.format(
                    "{} is {} but the participant exited on {} ({}): results for the "
                    f"{nth} quarter after exit can be reported from {{}} on — {both}",
                    reported_column,
                    reported_value,
                    iso("exit_date"),
                    quarter_name(exit_quarter),
                    quarter_name(exit_quarter + k),
                )
            ),
            instead=(employed_reported.fill_null(False), employed),
        ),
        Condition(
            "L10",
            employed,
            (value(wages) > 0) & ~equals(employed, "1"),
            pl.format(
                f"{wages} is {{}} but {employed} is {{}}: wages above 0 mean the "
                f"participant was employed — set {employed} to 1, or correct the wages",
                value(wages),
                given(employed),
            ),
        ),
        Condition(
            "L11",
            wages,
            equals(employed, "1") & (absent(wages) | (value(wages) == 0)),
            pl.format(
                f"{employed} is 1 but {wages} is {{}}: enter the participant's wages for "
                "that quarter when they are known",
                given(wages),
            ),
            warning=True,
        ),
    ]


def _incumbent() -> list[Condition]:
    incumbent = equals("incumbent_worker", "1") | equals("employment_status_at_entry", "1", "2")
    return [
        Condition(
            "L12",
            column,
            equals(column, "1") & ~incumbent,
            pl.format(
                f"{column} is 1 but the participant is not an incumbent worker "
                "(incumbent_worker is {}, employment_status_at_entry is {}): it applies "
                f"only to incumbent workers — leave {column} blank, or correct "
                "incumbent_worker",
                given("incumbent_worker"),
                given("employment_status_at_entry"),
            ),
        )
        for column in ("incumbent_retained", "incumbent_advanced")
    ]


# Placements ----------------------------------------------------------------------------


@functools.cache
def placement_conditions(period: Quarter) -> list[Condition]:
    return [
        _after_period_end("start_date", period),
        Condition(
            "L16",
            "hourly_wage",
            value("hourly_wage") < MINIMUM_WAGE_CENTS,
            pl.format(
                "hourly_wage {} is below the federal minimum wage of 7.25: check the amount",
                pl.col(RAW + "hourly_wage"),
            ),
            warning=True,
        ),
    ]


@functools.cache
def cross_file_conditions() -> list[Condition]:
    """L13–L15 on a placement frame joined with ``participant_lookup`` (columns
    ``p:known``, ``p:duplicated``, ``p:row``, ``p:entry_date``, ``p:training_completed``)."""
    single = ~pl.col("p:duplicated").fill_null(True)
    return [
        Condition(
            "L13",
            "participant_id",
            present("participant_id") & ~pl.col("p:known").fill_null(False),
            pl.format(
                "participant_id {} is not in the participant file: every placement must "
                "belong to a participant of the same submission — add the participant, or "
                "correct the ID",
                shown(value("participant_id")),
            ),
        ),
        Condition(
            "L14",
            "start_date",
            single & (value("start_date") < pl.col("p:entry_date")),
            pl.format(
                "start_date {} is before the participant's entry_date {} (participant "
                "file row {}): a placement starts on or after program entry — check both dates",
                iso("start_date"),
                pl.col("p:entry_date").dt.to_string("%Y-%m-%d"),
                pl.col("p:row"),
            ),
        ),
        Condition(
            "L15",
            "training_related",
            single & equals("training_related", "1") & ~pl.col("p:training_completed"),
            pl.format(
                "training_related is 1 but the participant's training_completed is {} "
                "(participant file row {}): training-related employment needs completed "
                "training — set training_related to 0, or correct training_completed",
                pl.col("p:training_completed_given"),
                pl.col("p:row"),
            ),
        ),
    ]


def participant_lookup(participants: pl.DataFrame, skipped_ids: Sequence[str]) -> pl.DataFrame:
    """One row per participant_id read (held-back rows and rows skipped by F04
    included), with what L14 and L15 need where that id is on exactly one row."""
    rows = participants.lazy().filter(present("participant_id").fill_null(False))
    # An id also on a row skipped by F04 is as good as duplicated: which row holds the
    # participant's real values is not known.
    skipped = pl.Series("participant_id", list(skipped_ids), dtype=pl.String)
    repeated = pl.col("participant_id").is_duplicated() | pl.col("participant_id").is_in(
        skipped.implode()
    )
    single = rows.filter(~repeated).select(
        pl.col("participant_id"),
        pl.lit(False).alias("p:duplicated"),
        pl.col(ROW).alias("p:row"),
        value("entry_date").alias("p:entry_date"),
        equals("training_completed", "1").alias("p:training_completed"),
        given("training_completed").alias("p:training_completed_given"),
    )
    others = pl.concat(
        [rows.filter(repeated).select("participant_id"), pl.LazyFrame(skipped.to_frame())]
    ).unique()
    return (
        pl.concat([single, others.with_columns(pl.lit(True).alias("p:duplicated"))], how="diagonal")
        .with_columns(pl.lit(True).alias("p:known"))
        .collect()
    )


# Evaluation ----------------------------------------------------------------------------


def evaluate(
    frame: pl.DataFrame, conditions: Sequence[Condition], kind: str, positions: dict[str, int]
) -> pl.DataFrame:
    """The findings of every condition, computed on the rows where any holds."""
    if frame.is_empty() or not conditions:
        return values.empty_findings()
    names = [f"holds:{i}" for i in range(len(conditions))]
    flagged = (
        frame.lazy()
        .with_columns(
            condition.holds.fill_null(False).alias(name)
            for name, condition in zip(names, conditions, strict=True)
        )
        .filter(pl.any_horizontal(names))
        .collect()
    )
    counts = flagged.select(pl.col(names).sum()).row(0)
    found = [values.empty_findings()]
    for name, condition, count in zip(names, conditions, counts, strict=True):
        if not count:
            continue
        rows = flagged.filter(pl.col(name))
        column = pl.lit(condition.column)
        position = pl.lit(position_of(condition.column, kind, positions))
        raw = pl.col(RAW + condition.column)
        if condition.instead is not None:
            use, other = condition.instead
            column = pl.when(use).then(pl.lit(other)).otherwise(column)
            position = (
                pl.when(use).then(pl.lit(position_of(other, kind, positions))).otherwise(position)
            )
            raw = pl.when(use).then(pl.col(RAW + other)).otherwise(raw)
        found.append(
            findings_frame(
                rows,
                row=pl.col(ROW),
                position=position,
                column=column,
                code=pl.lit(condition.code),
                severity=pl.lit("warning" if condition.warning else "error"),
                value=raw,
                message=condition.message,
            )
        )
    return pl.concat(found)


def position_of(column: str, kind: str, positions: dict[str, int]) -> int:
    """Where a column's findings sort: its place in the file, or after the file's
    columns in contract order when the file does not have it."""
    if column in positions:
        return positions[column]
    names = [c.name for c in contract.COLUMNS[kind]]
    return 10_000 + names.index(column)
