from django.db import migrations

from bpij.db import RescopeRowLevelSecurity


class Migration(migrations.Migration):
    """Coaching records are notes about people: no aggregates scope reads them."""

    dependencies = [("coaching", "0002_row_level_security"), ("bpij", "0008_db_least_privilege")]

    operations = [
        RescopeRowLevelSecurity("coaching_coachingsession"),
        RescopeRowLevelSecurity("coaching_actionitem"),
        RescopeRowLevelSecurity("coaching_riskflag"),
    ]
