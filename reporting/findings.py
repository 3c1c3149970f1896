"""Storing findings: replaced wholesale for an upload, so re-running a check never
duplicates them. COPY on PostgreSQL, bulk_create elsewhere."""

import io

import polars as pl
from django.db import connection

from reporting.checks import Finding as CheckFinding
from reporting.models import Finding, Upload

_COLUMNS = ["code", "severity", "file", "row", "column", "value", "message"]


def replace(upload: Upload, found: list[CheckFinding]) -> int:
    Finding.objects.filter(upload=upload).delete()
    if not found:
        return 0
    if connection.vendor != "postgresql":
        Finding.objects.bulk_create(
            (
                Finding(
                    coalition_id=upload.coalition_id,
                    upload=upload,
                    code=f.code,
                    severity=str(f.severity),
                    file=f.file,
                    row=f.row,
                    column=f.column or "",
                    value=(f.value or "")[:300],
                    message=f.message,
                )
                for f in found
            ),
            batch_size=5000,
        )
        return len(found)
    frame = pl.DataFrame(
        {
            "coalition_id": [upload.coalition_id] * len(found),
            "upload_id": [upload.pk] * len(found),
            "code": [f.code for f in found],
            "severity": [str(f.severity) for f in found],
            "file": [f.file for f in found],
            "row": [f.row for f in found],
            "column": [f.column or "" for f in found],
            "value": [(f.value or "")[:300] for f in found],
            "message": [f.message for f in found],
        },
        schema_overrides={"row": pl.Int64},
    )
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, quote_style="non_numeric", null_value="")
    columns = ", ".join(connection.ops.quote_name(c) for c in frame.columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(Finding._meta.db_table)} ({columns}) "
            "FROM STDIN WITH (FORMAT csv)"
        ) as copy,
    ):
        copy.write(buffer.getvalue())
    return len(found)
