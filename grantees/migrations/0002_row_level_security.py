from django.db import migrations

from bpij.db import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("grantees", "0001_initial"), ("bpij", "0003_application_role")]

    operations = [
        EnableRowLevelSecurity("grantees_coalition", column="id"),
        EnableRowLevelSecurity("grantees_grant"),
        EnableRowLevelSecurity("grantees_target"),
        EnableRowLevelSecurity("grantees_membership"),
        EnableRowLevelSecurity("grantees_coachassignment"),
        EnableRowLevelSecurity("grantees_invitation"),
    ]
