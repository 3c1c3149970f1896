from django.db import migrations

from bpij.db import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("coaching", "0001_initial"), ("bpij", "0003_application_role")]

    operations = [
        EnableRowLevelSecurity("coaching_coachingsession"),
        EnableRowLevelSecurity("coaching_actionitem"),
        EnableRowLevelSecurity("coaching_riskflag"),
    ]
