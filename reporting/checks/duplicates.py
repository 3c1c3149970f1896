"""Stage 3 of DATA-CONTRACT.md §3: rows against each other (D01–D03).

Each rule flags every row of a group, not only the repeats (§7), and is not evaluated on
a row where a cell it compares failed stage 2.
"""

from collections.abc import Callable

import polars as pl

from reporting.checks import values
from reporting.checks.logic import iso, present, value
from reporting.checks.values import RAW, ROW, findings_frame, masked, shown

LISTED = 10  # how many other rows or IDs a duplicate's message names


def duplicate_ids(frame: pl.DataFrame, position: int) -> pl.DataFrame:
    """D01: every row of a participant_id given on more than one row."""
    # Lazily, for the columns used: an eager filter copies every column first.
    found = (
        frame.lazy()
        .filter(
            (present("participant_id") & value("participant_id").is_duplicated()).fill_null(False)
        )
        .select(ROW, "participant_id", RAW + "participant_id")
        .collect()
    )
    if found.is_empty():
        return values.empty_findings()
    found = found.with_columns(
        pl.col(ROW)
        .sort()
        .cast(pl.String)
        .over("participant_id", mapping_strategy="join")
        .alias("rows")
    )
    return findings_frame(
        found,
        row=pl.col(ROW),
        position=pl.lit(position),
        column=pl.lit("participant_id"),
        code=pl.lit("D01"),
        severity=pl.lit("error"),
        value=pl.col(RAW + "participant_id"),
        message=pl.format(
            "participant_id {} is on rows {}: a participant must have exactly one row in "
            "the cumulative file — merge the rows into one, or correct the ID",
            shown(value("participant_id")),
            _listed(pl.col("rows")),
        ),
    )


def duplicate_ssns(
    frame: pl.DataFrame, position: int, hasher: Callable[[str], str]
) -> pl.DataFrame:
    """D02: every row of an SSN given for two different participant_ids.

    SSNs are compared by ``hasher`` (a keyed hash), never in clear. polars' own 64-bit
    hash first narrows the rows down to the few whose SSN may repeat, so that the keyed
    hash is computed for those only.
    """
    candidates = (
        frame.lazy()
        .filter(
            (present("ssn") & present("participant_id")).fill_null(False)
            & pl.col("ssn").hash().is_duplicated()
        )
        .select(ROW, "participant_id", "ssn", RAW + "ssn")
        .collect()
    )
    if candidates.is_empty():
        return values.empty_findings()
    keyed = candidates.with_columns(
        pl.Series("key", [hasher(ssn) for ssn in candidates.get_column("ssn")], dtype=pl.String)
    ).drop("ssn")
    found = keyed.filter(pl.col("participant_id").n_unique().over("key") > 1)
    if found.is_empty():
        return values.empty_findings()
    others = (
        found.join(found, on="key", suffix=":other")
        .filter(pl.col("participant_id") != pl.col("participant_id:other"))
        .sort(ROW, "row:other")
        .rechunk()  # see values.findings_frame
        .group_by(ROW)
        .agg(
            pl.format("{} (row {})", pl.col("participant_id:other"), pl.col("row:other")).alias(
                "others"
            )
        )
    )
    found = found.join(others, on=ROW)
    return findings_frame(
        found,
        row=pl.col(ROW),
        position=pl.lit(position),
        column=pl.lit("ssn"),
        code=pl.lit("D02"),
        severity=pl.lit("error"),
        value=masked(pl.col(RAW + "ssn")),
        message=pl.format(
            "ssn {} is also given for participant_id {}: one SSN belongs to one person — "
            "correct the SSN, or use one participant_id for the person",
            masked(pl.col(RAW + "ssn")),
            _listed(pl.col("others")),
        ),
    )


def duplicate_placements(frame: pl.DataFrame, position: int) -> pl.DataFrame:
    """D03: every row of placements with the same participant_id, employer_name (any
    case) and start_date."""
    key = pl.struct(
        value("participant_id"), value("employer_name").str.to_lowercase(), value("start_date")
    )
    complete = present("participant_id") & present("employer_name") & present("start_date")
    found = (
        frame.lazy()
        .filter((complete & key.is_duplicated()).fill_null(False))
        .select(ROW, "participant_id", "employer_name", "start_date", RAW + "employer_name")
        .collect()
    )
    if found.is_empty():
        return values.empty_findings()
    found = found.with_columns(
        pl.col(ROW).sort().cast(pl.String).over(key, mapping_strategy="join").alias("rows")
    )
    return findings_frame(
        found,
        row=pl.col(ROW),
        position=pl.lit(position),
        column=pl.lit("employer_name"),
        code=pl.lit("D03"),
        severity=pl.lit("warning"),
        value=pl.col(RAW + "employer_name"),
        message=pl.format(
            "rows {} are the same placement (participant_id {}, employer_name {}, "
            "start_date {}): remove the repeated rows, unless they are different jobs",
            _listed(pl.col("rows")),
            value("participant_id"),
            shown(value("employer_name")),
            iso("start_date"),
        ),
    )


def _listed(items: pl.Expr) -> pl.Expr:
    """A list column as "a, b and c", naming at most LISTED items."""
    count = items.list.len()
    head = items.list.head(LISTED)
    return (
        pl.when(count > LISTED)
        .then(pl.format("{} and {} more", head.list.join(", "), count - LISTED))
        .when(count > 1)
        .then(pl.format("{} and {}", items.list.head(count - 1).list.join(", "), items.list.last()))
        .otherwise(items.list.first())
    )
