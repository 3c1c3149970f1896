"""Findings stored before issue 9 could hold a full SSN typed outside the ssn column
(state_code, zip_code, a participant_id with spaces, a message quoting one): mask every
SSN-shaped value in them, as the checks now do before storing."""

import re

from django.db import migrations

# reporting.checks.values._SSN_IN_TEXT_PY as it was written; copied so that this
# migration keeps doing what it did if that pattern changes.
_SSN_IN_TEXT = re.compile(r"(?<![0-9])(?:[0-9]{5}|[0-9]{3}[-. ][0-9]{2}[-. ])([0-9]{4})(?![0-9])")
_BATCH = 2_000


def _masked(text: str) -> str:
    return _SSN_IN_TEXT.sub(r"***-**-\1", text)


def mask_stored_findings(apps, schema_editor):
    Finding = apps.get_model("reporting", "Finding")
    # Nine digits in a row, or a digit group of three then a separator: a cheap filter in
    # the database before the exact pattern in Python.
    candidates = Finding.objects.filter(message__regex=r"[0-9]{3}") | Finding.objects.filter(
        value__regex=r"[0-9]{3}"
    )
    changed = []
    for finding in candidates.only("id", "value", "message").iterator(chunk_size=_BATCH):
        value, message = _masked(finding.value), _masked(finding.message)
        if (value, message) != (finding.value, finding.message):
            finding.value, finding.message = value, message
            changed.append(finding)
        if len(changed) >= _BATCH:
            Finding.objects.bulk_update(changed, ["value", "message"])
            changed = []
    if changed:
        Finding.objects.bulk_update(changed, ["value", "message"])


class Migration(migrations.Migration):
    dependencies = [("reporting", "0008_pii_annotated_file_and_omitted_findings")]

    operations = [migrations.RunPython(mask_stored_findings, migrations.RunPython.noop)]
