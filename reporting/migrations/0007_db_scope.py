from django.db import migrations

from bpij.db import RescopeRowLevelSecurity


class Migration(migrations.Migration):
    """Periods, roll-ups and exports are aggregates the Federal Project Officer reads;
    submissions (narratives, certifiers), files, findings, records, history, comments and
    reminders are about people."""

    dependencies = [
        ("reporting", "0006_crypto_upload_purged_at"),
        ("bpij", "0008_db_least_privilege"),
    ]

    operations = [
        RescopeRowLevelSecurity("reporting_reportingperiod", aggregate=True),
        RescopeRowLevelSecurity("reporting_rollup", aggregate=True),
        RescopeRowLevelSecurity("reporting_export", aggregate=True),
        RescopeRowLevelSecurity("reporting_submission"),
        RescopeRowLevelSecurity("reporting_upload"),
        RescopeRowLevelSecurity("reporting_finding"),
        RescopeRowLevelSecurity("reporting_submissionevent"),
        RescopeRowLevelSecurity("reporting_participantrecord"),
        RescopeRowLevelSecurity("reporting_placementrecord"),
        RescopeRowLevelSecurity("reporting_submissioncomment"),
        RescopeRowLevelSecurity("reporting_reminder"),
    ]
