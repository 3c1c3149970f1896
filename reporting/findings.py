"""Storing findings: replaced wholesale for an upload, so re-running a check never
duplicates them. COPY on PostgreSQL, bulk_create elsewhere. What is stored is what the
checks kept (at most 1,000 per rule and column, the last counting the rest in
``omitted``), with SSN-shaped values already masked."""

import polars as pl
from django.db import connection

from reporting import records
from reporting.checks import Finding as CheckFinding
from reporting.models import Finding, Upload

_COLUMNS = ["code", "severity", "file", "row", "column", "value", "message", "omitted"]


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
                    omitted=f.omitted,
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
            "omitted": [f.omitted for f in found],
        },
        schema_overrides={"row": pl.Int64},
    )
    records.copy_rows(Finding, frame)
    return len(found)
