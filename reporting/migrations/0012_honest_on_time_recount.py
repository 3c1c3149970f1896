"""On time, defined once (issue 12): recount the program roll-ups' on-time reports.

``ProgramRollup.submitted_on_time`` used to count only the coalitions whose report counts
(a report certified on time and then returned fell out of it), so the program dashboard
said 62 % where the PDF summary said 70.6 % for the same quarter. It now counts every
report due whose first version was certified by the due date (reporting.timeliness,
docs/dashboards.md "On time"). As in 0010, the roll-ups are recomputed by the code being
deployed once ``migrate`` has finished (``reporting.apps``), and only where something was
ever sent; ``python manage.py rollup`` does the same by hand.
"""

from django.db import migrations

SENT_STATES = ("submitted", "in_review", "returned", "accepted")


def recount(apps, schema_editor):
    ProgramRollup = apps.get_model("reporting", "ProgramRollup")
    Submission = apps.get_model("reporting", "Submission")
    if not (
        ProgramRollup.objects.exists() or Submission.objects.filter(state__in=SENT_STATES).exists()
    ):
        return
    from reporting import apps as reporting_apps

    reporting_apps.rollups_due(schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("reporting", "0011_certify_late_reason_warnings")]

    operations = [
        migrations.RunPython(recount, migrations.RunPython.noop, elidable=True),
    ]
