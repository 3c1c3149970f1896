from django.db import migrations

from bpij.db import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("reporting", "0003_review_rollups_reminders")]

    operations = [
        EnableRowLevelSecurity("reporting_submissioncomment"),
        EnableRowLevelSecurity("reporting_rollup"),
        EnableRowLevelSecurity("reporting_reminder"),
    ]
