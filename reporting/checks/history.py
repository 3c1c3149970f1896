"""The history rules of DATA-CONTRACT.md §3: the participant file against the
coalition's previous accepted submission (H01, H02)."""

import polars as pl

from reporting.checks.logic import iso, present
from reporting.checks.values import RAW, ROW, findings_frame, shown


def history_findings(
    frame: pl.DataFrame,
    known_ids: pl.Series,
    previous: pl.DataFrame,
    positions: dict[str, int],
) -> pl.DataFrame:
    previous = previous.select(
        pl.col("participant_id").cast(pl.String).str.strip_chars(),
        pl.col("entry_date").cast(pl.Date).alias("previous_entry_date"),
    ).unique("participant_id", keep="first", maintain_order=True)
    missing = previous.filter(~pl.col("participant_id").is_in(known_ids.implode()))
    h01 = findings_frame(
        missing,
        row=pl.lit(None, pl.Int64),
        position=pl.lit(positions["participant_id"]),
        column=pl.lit("participant_id"),
        code=pl.lit("H01"),
        severity=pl.lit("error"),
        value=pl.col("participant_id"),
        message=pl.format(
            "participant_id {} was in the previous accepted submission but is not in this "
            "file: the participant file is cumulative — every participant enrolled since "
            "the grant began must be in it",
            shown(pl.col("participant_id")),
        ),
    )
    changed = (
        frame.filter((present("participant_id") & present("entry_date")).fill_null(False))
        .join(previous, on="participant_id")
        .filter(pl.col("entry_date") != pl.col("previous_entry_date"))
    )
    h02 = findings_frame(
        changed,
        row=pl.col(ROW),
        position=pl.lit(positions.get("entry_date", 10_000)),
        column=pl.lit("entry_date"),
        code=pl.lit("H02"),
        severity=pl.lit("warning"),
        value=pl.col(RAW + "entry_date"),
        message=pl.format(
            "entry_date {} differs from {} in the previous accepted submission: a "
            "participant's entry date does not normally change — check it",
            iso("entry_date"),
            pl.col("previous_entry_date").dt.to_string("%Y-%m-%d"),
        ),
    )
    return pl.concat([h01, h02])
