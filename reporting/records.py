"""Storing and reading the kept rows of a checked submission.

PostgreSQL loads them with COPY (a 100,000-row file in well under a second); SQLite, the
embedded default, with one executemany per table.
"""

import io
from contextlib import AbstractContextManager, nullcontext

import polars as pl
from django.db import connection, transaction

from reporting import contract, pii
from reporting.models import ParticipantRecord, PlacementRecord, Submission

PARTICIPANT_FIELDS = [c.name for c in contract.PARTICIPANT_COLUMNS if c.name != "ssn"]
PLACEMENT_FIELDS = [
    c.name if c.name != "hourly_wage" else "hourly_wage_cents" for c in contract.PLACEMENT_COLUMNS
]
# Text columns the models store as '' rather than NULL.
_TEXT_DEFAULTS = {
    "zip_code",
    "training_type",
    "training_onet",
    "training_completed",
    "employed_q2_after_exit",
    "employed_q4_after_exit",
    "incumbent_retained",
    "incumbent_advanced",
    "job_title",
    "onet_code",
    "naics_code",
}


SSN_FIELDS = ["ssn_encrypted", "ssn_hash", "ssn_last4"]


def _participant_frame(frame: pl.DataFrame, carried: pl.DataFrame | None = None) -> pl.DataFrame:
    """Add the SSN's encrypted form, keyed hash and last four; drop the clear digits.
    A participant in ``carried`` (``stored_ssns``' frame) without an SSN in ``frame``
    keeps the stored one, as stored."""
    ssns = frame["ssn"].to_list() if "ssn" in frame.columns else [None] * frame.height
    encrypted = [pii.encrypt_ssn(s) if s else "" for s in ssns]
    hashed = [pii.hash_ssn(s) if s else "" for s in ssns]
    last4 = [pii.last4(s) if s else "" for s in ssns]
    people = frame.select(["row", *PARTICIPANT_FIELDS]).with_columns(
        pl.Series("ssn_encrypted", encrypted, dtype=pl.Utf8),
        pl.Series("ssn_hash", hashed, dtype=pl.Utf8),
        pl.Series("ssn_last4", last4, dtype=pl.Utf8),
    )
    if carried is None or carried.is_empty():
        return people
    given = pl.col("ssn_encrypted") != ""
    return people.join(
        carried.select("participant_id", *(pl.col(f).alias(f"stored:{f}") for f in SSN_FIELDS)),
        on="participant_id",
        how="left",
        maintain_order="left",
    ).select(
        "row",
        *PARTICIPANT_FIELDS,
        *(
            pl.when(given).then(pl.col(f)).otherwise(pl.col(f"stored:{f}").fill_null("")).alias(f)
            for f in SSN_FIELDS
        ),
    )


def stored_ssns(submissions: list[Submission]) -> pl.DataFrame:
    """The SSNs stored for the participants of ``submissions`` (the first holding a
    participant_id wins), as stored: participant_id, ssn_encrypted, ssn_hash, ssn_last4.
    Nothing is decrypted."""
    frames = [
        pl.DataFrame(
            list(
                ParticipantRecord.objects.filter(submission=submission)
                .exclude(ssn_last4="")
                .values_list("participant_id", *SSN_FIELDS)
            ),
            schema={"participant_id": pl.Utf8} | dict.fromkeys(SSN_FIELDS, pl.Utf8),
            orient="row",
        )
        for submission in submissions
    ]
    schema = {"participant_id": pl.Utf8} | dict.fromkeys(SSN_FIELDS, pl.Utf8)
    return pl.concat([pl.DataFrame(schema=schema), *frames]).unique(
        "participant_id", keep="first", maintain_order=True
    )


def _fill_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        [pl.col(c).fill_null("") for c in frame.columns if c in _TEXT_DEFAULTS]
    )


def store(
    submission: Submission,
    participants: pl.DataFrame,
    placements: pl.DataFrame,
    *,
    carried: pl.DataFrame | None = None,
) -> tuple[int, int]:
    """Replace the submission's records with these kept rows (idempotent); participants
    without an SSN of their own keep the one ``carried`` (``stored_ssns``) holds."""
    people = _fill_text(_participant_frame(participants, carried))
    ParticipantRecord.objects.filter(submission=submission).delete()
    PlacementRecord.objects.filter(submission=submission).delete()
    jobs = _fill_text(placements.select(["row", *PLACEMENT_FIELDS]))
    if connection.vendor == "postgresql":
        _copy(ParticipantRecord, submission, people)
        _copy(PlacementRecord, submission, jobs)
    else:
        _bulk(ParticipantRecord, submission, people)
        _bulk(PlacementRecord, submission, jobs)
    return people.height, jobs.height


def _copy(model, submission: Submission, frame: pl.DataFrame) -> None:
    if frame.is_empty():
        return
    copy_rows(
        model,
        frame.with_columns(
            pl.lit(submission.coalition_id).alias("coalition_id"),
            pl.lit(submission.pk).alias("submission_id"),
        ),
    )


def copy_rows(model, frame: pl.DataFrame) -> None:
    """Load a frame whose columns are the model's database columns with COPY.

    PostgreSQL refuses COPY FROM into a table under row-level security, so the rows are
    copied into a temporary table of the same shape, then moved with INSERT … SELECT,
    which the table's policy checks row by row (WITH CHECK): rows of a coalition outside
    the scope are refused, as they would be from the ORM.
    """
    buffer = io.BytesIO()
    # NULL is written as an unquoted empty field; quoted empty strings stay ''.
    frame.write_csv(buffer, include_header=False, quote_style="non_numeric", null_value="")
    columns = ", ".join(connection.ops.quote_name(c) for c in frame.columns)
    table = connection.ops.quote_name(model._meta.db_table)
    staging = connection.ops.quote_name(f"copy_{model._meta.db_table}")
    with _in_a_transaction(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}; DROP TABLE {staging}"
        )


def _in_a_transaction() -> AbstractContextManager:
    """A transaction of its own if none is open: a raw COPY bypasses Django's statement
    wrapper, so it is the transaction that carries the scope the policies read."""
    return nullcontext() if connection.in_atomic_block else transaction.atomic()


def _bulk(model, submission: Submission, frame: pl.DataFrame) -> None:
    """The portable path (SQLite, the embedded default): one executemany of plain rows.
    bulk_create spends most of its time building model instances, which for a large
    file (or the demo's hundreds of versions) is most of the time taken."""
    if frame.is_empty():
        return
    frame = frame.with_columns(
        pl.col(pl.Date).dt.to_string("%Y-%m-%d"),
        pl.lit(submission.coalition_id).alias("coalition_id"),
        pl.lit(submission.pk).alias("submission_id"),
    )
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in frame.columns)
    marks = ", ".join("%s" for _ in frame.columns)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", frame.rows())


def participants_frame(submission: Submission) -> pl.DataFrame:
    """The stored participants as the typed frame of reporting/checks/README.md (no SSN)."""
    return _read(ParticipantRecord, submission, ["row", *PARTICIPANT_FIELDS])


def placements_frame(submission: Submission) -> pl.DataFrame:
    return _read(PlacementRecord, submission, ["row", *PLACEMENT_FIELDS])


def _read(model, submission: Submission, columns: list[str]) -> pl.DataFrame:
    """Read records back: COPY TO on PostgreSQL (a tenth of the ORM's time for 100,000
    rows), the ORM elsewhere."""
    if connection.vendor != "postgresql":
        rows = model.objects.filter(submission=submission).values_list(*columns)
        return _typed(list(rows), columns)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    buffer = io.BytesIO()
    with _in_a_transaction(), connection.cursor() as cursor:
        statement = (
            f"COPY (SELECT {quoted} FROM {table} WHERE submission_id = {int(submission.pk)} "
            "ORDER BY row) TO STDOUT WITH (FORMAT csv)"
        )
        with cursor.cursor.copy(statement) as copy:
            for chunk in copy:
                buffer.write(chunk)
    kind = contract.PARTICIPANTS if "entry_date" in columns else contract.PLACEMENTS
    types = schema(kind)
    if not buffer.getbuffer().nbytes:
        return pl.DataFrame(schema={c: types[c] for c in columns})
    buffer.seek(0)
    frame = pl.read_csv(
        buffer,
        has_header=False,
        new_columns=columns,
        schema_overrides=dict.fromkeys(columns, pl.String),
        infer_schema=False,
    )
    return _blank_as_null(
        frame.with_columns(
            [
                pl.col(c).str.to_date("%Y-%m-%d")
                if types[c] == pl.Date()
                else pl.col(c).cast(types[c])
                for c in columns
                if types[c] != pl.String()
            ]
        )
    )


def schema(kind: str) -> dict[str, pl.DataType]:
    """The typed frame's columns and dtypes, without the SSN (never stored in clear)."""
    return {k: v for k, v in contract.typed_schema(kind).items() if k != "ssn"}


def empty(kind: str) -> pl.DataFrame:
    return pl.DataFrame(schema=contract.typed_schema(kind))


def _typed(rows: list[tuple], columns: list[str]) -> pl.DataFrame:
    kind = contract.PARTICIPANTS if "entry_date" in columns else contract.PLACEMENTS
    types = schema(kind)
    frame = pl.DataFrame(rows, schema={c: types[c] for c in columns}, orient="row", strict=False)
    return _blank_as_null(frame)


def _blank_as_null(frame: pl.DataFrame) -> pl.DataFrame:
    # Stored '' means blank: figures read blanks as null.
    columns = frame.columns
    return frame.with_columns(
        [
            pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
            for c in columns
            if c in _TEXT_DEFAULTS
        ]
    )


def history_frame(submission: Submission) -> pl.DataFrame:
    rows = ParticipantRecord.objects.filter(submission=submission).values_list(
        "participant_id", "entry_date"
    )
    return pl.DataFrame(
        list(rows),
        schema={"participant_id": pl.Utf8, "entry_date": pl.Date},
        orient="row",
    )
