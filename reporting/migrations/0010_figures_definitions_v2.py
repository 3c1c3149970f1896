"""Figures definitions v2 (issue 10): recompute the stored roll-ups.

DATA-CONTRACT.md §4 E changed (DOL's two-quarter reporting lag, outcomes not yet known
left out, $0 wages out of median earnings, skill gains by training dates), and the
dashboards read nothing but the roll-ups, so every roll-up is computed again from the
version that counts, then the program's. Exports are not touched: a stored PDF or data
pack keeps its bytes and SHA-256, and its provenance, which has no definitions key, reads
as "figures definitions v1" (``reporting.figures.definitions_of``).

The recomputation runs the roll-up service of the code being deployed, which reads the
tables as that code's models describe them. Run here, in the middle of a plan, it would
meet the tables before a later migration had added a column the models name. So this step
only notes that the roll-ups are due; ``reporting.apps`` recomputes them on
``post_migrate``, once every migration of the run has been applied. Where that cannot run
(restoring an old dump into a newer schema, say), ``python manage.py rollup`` does the
same work.
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
    from reporting import apps as reporting_apps

    reporting_apps.rollups_due(schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("reporting", "0009_pii_mask_stored_findings")]

    operations = [
        # Going back leaves the v2 roll-ups in place; `manage.py rollup` on the older
        # code recomputes them under its own definitions.
        migrations.RunPython(recompute_rollups, migrations.RunPython.noop, elidable=True),
    ]
