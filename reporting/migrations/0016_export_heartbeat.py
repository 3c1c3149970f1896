from django.db import migrations, models


class Migration(migrations.Migration):
    """The rendering worker's heartbeat on its export (reporting.services.exports): a
    render whose heartbeat stopped is dead within seconds, not EXPORT_REQUEUE_AFTER."""

    dependencies = [
        ("reporting", "0015_work_recovery"),
    ]

    operations = [
        migrations.AddField(
            model_name="export",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
