"""Figures definitions v2 (issue 10): recompute the stored roll-ups.

DATA-CONTRACT.md §4 E changed (DOL's two-quarter reporting lag, outcomes not yet known
left out, $0 wages out of median earnings, skill gains by training dates), and the
dashboards read nothing but the roll-ups, so every roll-up is computed again from the
version that counts, then the program's. Exports are not touched: a stored PDF or data
pack keeps its bytes and SHA-256, and its provenance, which has no definitions key, reads
as "figures definitions v1" (``reporting.figures.definitions_of``).

This runs the roll-up service of the code being deployed, so it must stay after every
migration that changes the tables that service reads. Where it cannot run (restoring an
old dump into a newer schema, say), ``python manage.py rollup`` does the same work.
"""

from django.db import migrations

SENT_STATES = ("submitted", "in_review", "returned", "accepted")


def recompute_rollups(apps, schema_editor):
    Rollup = apps.get_model("reporting", "Rollup")
    ProgramRollup = apps.get_model("reporting", "ProgramRollup")
    Submission = apps.get_model("reporting", "Submission")
    # Nothing was ever sent on a new or empty database: three cheap queries and done.
    if not (
        Rollup.objects.exists()
        or ProgramRollup.objects.exists()
        or Submission.objects.filter(state__in=SENT_STATES).exists()
    ):
        return
    from reporting.services.rollups import rollup_rebuild

    rollup_rebuild()


class Migration(migrations.Migration):
    dependencies = [("reporting", "0009_pii_mask_stored_findings")]

    operations = [
        # Going back leaves the v2 roll-ups in place; `manage.py rollup` on the older
        # code recomputes them under its own definitions.
        migrations.RunPython(recompute_rollups, migrations.RunPython.noop, elidable=True),
    ]
