"""``check_submission``: both files of a quarterly submission, every rule, one pass."""

import hashlib
import itertools
from collections.abc import Callable, Mapping

import polars as pl

from grantees.calendar import Quarter
from reporting import contract
from reporting.checks import duplicates, history, logic, reading, values
from reporting.checks.reading import FileInput, Source, Table
from reporting.checks.types import CheckResult, FileResult, Finding, History, Severity
from reporting.checks.values import KEPT_PER_RULE_AND_COLUMN, OMITTED, ROW

# A file is hopeless when more than this share of its non-blank cells fail stage 2 (and
# it has at least HOPELESS_MIN_ROWS rows): the wrong file, shifted columns, or a hostile
# one. Its value findings are reported and stages 3 and 4 are skipped (F06).
HOPELESS_SHARE = 0.5
HOPELESS_MIN_ROWS = 1_000

SsnHasher = Callable[[str], str]
# participant_id → the last four digits of the SSN the hub holds for that participant, or
# a function giving them (called only when the file has a masked SSN in it).
StoredSsns = Mapping[str, str] | Callable[[], Mapping[str, str]]


def check_submission(
    participants: FileInput,
    placements: FileInput | None = None,
    *,
    period: Quarter,
    history: History | None = None,
    ssn_hasher: SsnHasher | None = None,
    stored_ssns: StoredSsns | None = None,
    keep: bool = True,
) -> CheckResult:
    """Check a participant file (and its placement file) for ``period``.

    ``ssn_hasher`` is the keyed hash SSNs are compared by (D02); production passes an
    HMAC. Without one, a plain SHA-256 is used, which is fine for a file checked on a
    command line but must not be what stored hashes are made with.

    ``stored_ssns`` lets an SSN masked by the hub's marked-up workbook (``***-**-0001``)
    stand for the SSN the hub already holds for that participant_id, when it ends in
    those four digits: the cell then reads as blank here, and the participant_id is in
    ``participants.ssn_carried`` for the caller to keep the stored SSN. Any other masked
    SSN is a V11 that says so.

    ``keep=False`` leaves out the kept frames (``FileResult.kept`` is None): a caller
    that only reports the findings, like ``manage.py check_files``, saves building them.
    """
    hasher = ssn_hasher or _sha256
    p_table = reading.read_table(Source.of(participants), contract.PARTICIPANTS)
    carried = _carry_masked_ssns(p_table, stored_ssns)
    p_typed, p_found = _check_participants(p_table, period, history, hasher)
    # The placements' kept rows are those of kept participants: their ids are needed
    # even when the frames are not.
    p_result = _file_result(p_table, p_typed, p_found, keep=keep or placements is not None)
    p_result.ssn_carried = carried

    l_result = None
    if placements is not None:
        l_table = reading.read_table(Source.of(placements), contract.PLACEMENTS)
        l_typed, l_found = _check_placements(l_table, period, p_table, p_typed)
        assert p_result.kept is not None
        kept_ids = p_result.kept.get_column("participant_id")
        if not keep:
            p_result.kept = None
        l_result = _file_result(l_table, l_typed, l_found, kept_ids=kept_ids, keep=keep)
    return CheckResult(period=str(period), participants=p_result, placements=l_result)


def _carry_masked_ssns(table: Table, stored: StoredSsns | None) -> list[str]:
    """Blank the masked SSNs of ``table`` that match the stored SSN's last four (in
    place); the participant_ids whose stored SSN they stand for."""
    if not table.readable or stored is None or "ssn" not in table.positions:
        return []
    masked = pl.col("ssn").str.contains(values.MASKED_SSN).fill_null(False)
    if not table.frame.select(masked.any()).item():
        return []
    known = stored() if callable(stored) else stored
    lookup = pl.DataFrame(
        {"participant_id": list(known), "stored:last4": list(known.values())},
        schema={"participant_id": pl.String, "stored:last4": pl.String},
    )
    keep = masked & (pl.col("ssn").str.slice(7, 4) == pl.col("stored:last4")).fill_null(False)
    joined = table.frame.join(lookup, on="participant_id", how="left", maintain_order="left")
    carried = joined.filter(keep).get_column("participant_id").to_list()
    table.frame = joined.with_columns(
        pl.when(keep).then(pl.lit(None, pl.String)).otherwise(pl.col("ssn")).alias("ssn")
    ).drop("stored:last4")
    return carried


def _sha256(ssn: str) -> str:
    return hashlib.sha256(ssn.encode()).hexdigest()


def _check_participants(
    table: Table, period: Quarter, previous: History | None, hasher: SsnHasher
) -> tuple[pl.DataFrame | None, list[pl.DataFrame]]:
    if not table.readable:
        return None, []
    kind, positions = table.kind, table.positions
    typed, found = values.check_values(table.frame, kind, positions)
    if _hopeless(table, typed, found):
        return typed, [found]
    frames = [
        found,
        duplicates.duplicate_ids(typed, positions["participant_id"]),
        duplicates.duplicate_ssns(typed, logic.position_of("ssn", kind, positions), hasher),
        logic.evaluate(typed, logic.participant_conditions(period), kind, positions),
    ]
    if previous is not None:
        frames.append(
            history.history_findings(
                typed, _known_ids(table, typed), previous.participants, positions
            )
        )
    return typed, frames


def _check_placements(
    table: Table, period: Quarter, participants: Table, p_typed: pl.DataFrame | None
) -> tuple[pl.DataFrame | None, list[pl.DataFrame]]:
    if not table.readable:
        return None, []
    kind, positions = table.kind, table.positions
    typed, found = values.check_values(table.frame, kind, positions)
    if _hopeless(table, typed, found):
        return typed, [found]
    frames = [
        found,
        duplicates.duplicate_placements(typed, logic.position_of("employer_name", kind, positions)),
        logic.evaluate(typed, logic.placement_conditions(period), kind, positions),
    ]
    if p_typed is not None:
        lookup = logic.participant_lookup(p_typed, participants.skipped_ids)
        read = ["participant_id", "start_date", "training_related"]
        joined = (
            typed.lazy()
            .select(ROW, *read, *(values.RAW + c for c in read), *(values.BAD + c for c in read))
            .join(lookup.lazy(), on="participant_id", how="left", maintain_order="left")
            .collect()
        )
        frames.append(logic.evaluate(joined, logic.cross_file_conditions(), kind, positions))
    return typed, frames


def _hopeless(table: Table, typed: pl.DataFrame, found: pl.DataFrame) -> bool:
    """Whether the file is too broken for stages 3 and 4; if so, an F06 says why."""
    if table.data_rows < HOPELESS_MIN_ROWS:
        return False
    failed = found.height + int(found.get_column(OMITTED).sum())
    # The non-blank cells, from each column's null count (kept by polars: nothing to scan).
    raw = [name for name in typed.columns if name.startswith(values.RAW)]
    given = sum(typed.height - typed.get_column(name).null_count() for name in raw)
    if failed <= HOPELESS_SHARE * given:
        return False
    message = (
        f"{failed:,} of the {given:,} values in this file are not valid, more than "
        f"{HOPELESS_SHARE:.0%}: the checks stopped after the value checks (the duplicate and "
        "logic checks did not run). Check that this is the right file, that its header "
        "row is the template's, that no column is shifted, and that it was saved as CSV "
        "UTF-8 or as an .xlsx workbook; then upload it again"
    )
    table.findings.append(
        (
            reading.FILE_POSITION,
            Finding("F06", Severity.WARNING, table.kind, None, None, None, message),
        )
    )
    return True


def _known_ids(table: Table, typed: pl.DataFrame) -> pl.Series:
    """Every participant_id read: rows held back included, rows skipped by F04 too."""
    ids = typed.filter(~pl.col(values.BAD + "participant_id")).get_column("participant_id")
    return pl.concat([ids.drop_nulls(), pl.Series(table.skipped_ids, dtype=pl.String)])


def _file_result(
    table: Table,
    typed: pl.DataFrame | None,
    found: list[pl.DataFrame],
    *,
    kept_ids: pl.Series | None = None,
    keep: bool = True,
) -> FileResult:
    file_level = pl.DataFrame(
        [
            {
                "row": f.row,
                "position": position,
                "column": f.column,
                "code": f.code,
                "severity": str(f.severity),
                "value": f.value,
                "message": f.message,
            }
            for position, f in table.findings
        ],
        schema={k: v for k, v in values.FINDING_SCHEMA.items() if k != OMITTED},
    ).with_columns(pl.lit(0, values.FINDING_SCHEMA[OMITTED]).alias(OMITTED))
    everything = pl.concat([file_level, *found]).sort(
        ["row", "position", "code"], nulls_last=False, maintain_order=True
    )
    # Every row with an error: those of the findings, and those whose stage-2 findings
    # were counted but not kept (their cells are flagged bad in the typed frame).
    error_rows = everything.filter(pl.col("severity") == "error").get_column(ROW)
    if typed is not None:
        bad = pl.any_horizontal(pl.col(f"^{values.BAD}.*$"))
        # Lazily, for the one column: an eager filter copies every column first.
        bad_rows = typed.lazy().filter(bad).select(ROW).collect().get_column(ROW)
        error_rows = pl.concat([error_rows, bad_rows])
    error_rows = error_rows.drop_nulls().unique()
    everything = _kept_per_rule_and_column(everything).with_columns(
        # Whatever column an SSN was typed in, a finding shows only its last four digits.
        values.mask_ssns(pl.col("value")),
        values.mask_ssns(pl.col("message")),
    )
    # Column by column: a file with every row wrong can have hundreds of thousands.
    severities = {str(severity): severity for severity in Severity}
    findings = list(
        map(
            Finding,
            everything.get_column("code").to_list(),
            [severities[s] for s in everything.get_column("severity").to_list()],
            itertools.repeat(table.kind),
            everything.get_column("row").to_list(),
            everything.get_column("column").to_list(),
            everything.get_column("value").to_list(),
            everything.get_column("message").to_list(),
            everything.get_column(OMITTED).to_list(),
        )
    )
    result = FileResult(
        kind=table.kind,
        findings=findings,
        data_rows=table.data_rows,
        readable=table.readable,
        kept=pl.DataFrame(schema=kept_schema(table.kind)) if keep else None,
        rows_with_errors=error_rows.len(),
    )
    if typed is None or not keep:
        return result
    held_back = error_rows.to_frame(ROW)
    kept = kept_frame(table.kind, typed.lazy()).join(held_back.lazy(), on=ROW, how="anti")
    if kept_ids is not None:  # placements: only those of kept participants
        kept = kept.filter(pl.col("participant_id").is_in(kept_ids.implode()))
    result.kept = kept.collect()
    return result


def _kept_per_rule_and_column(found: pl.DataFrame) -> pl.DataFrame:
    """The first KEPT_PER_RULE_AND_COLUMN findings of each rule and column, the last one
    counting all the others (those stage 2 left out already included)."""
    if found.height <= KEPT_PER_RULE_AND_COLUMN and found.get_column(OMITTED).sum() == 0:
        return found
    keys = [pl.col("code"), pl.col("column")]
    last = KEPT_PER_RULE_AND_COLUMN - 1
    rank = pl.int_range(pl.len()).over(keys)
    return (
        found.lazy()
        .with_columns(
            rank.alias("rank:"),
            pl.len().over(keys).alias("count:"),
            pl.col(OMITTED).sum().over(keys).alias("omitted:"),
        )
        .filter(pl.col("rank:") <= last)
        .with_columns(
            # The last finding kept of a group (its last, or the thousandth) counts the
            # rest: those over the thousand, and those left out before.
            pl.when(pl.col("rank:") == pl.min_horizontal(pl.col("count:") - 1, last))
            .then(pl.col("count:") - pl.col("rank:") - 1 + pl.col("omitted:"))
            .otherwise(0)
            .alias(OMITTED)
        )
        .select(list(values.FINDING_SCHEMA))
        .collect()
    )


def kept_frame(kind: str, typed: pl.LazyFrame) -> pl.LazyFrame:
    """The typed frame of reporting/checks/README.md, from ``check_values``' frame."""
    schema = kept_schema(kind)
    return typed.select(
        pl.col(ROW).cast(pl.Int64),
        *(
            pl.col(column.name).cast(schema[name]).alias(name)
            for column, name in zip(contract.COLUMNS[kind], list(schema)[1:], strict=True)
        ),
    )


def kept_schema(kind: str) -> dict[str, pl.DataType]:
    """Column → dtype of a kept frame (README.md); hourly_wage is kept in cents."""
    return contract.typed_schema(kind)
