from django.db import migrations

from bpij.db import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_initial"), ("bpij", "0003_application_role")]

    operations = [
        EnableRowLevelSecurity("reporting_reportingperiod"),
        EnableRowLevelSecurity("reporting_submission"),
        EnableRowLevelSecurity("reporting_upload"),
        EnableRowLevelSecurity("reporting_finding"),
        EnableRowLevelSecurity("reporting_submissionevent"),
        EnableRowLevelSecurity("reporting_participantrecord"),
        EnableRowLevelSecurity("reporting_placementrecord"),
    ]
