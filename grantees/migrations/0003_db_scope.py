from django.db import migrations

from bpij.db import CreatePersonCoalitions, RescopeRowLevelSecurity


class Migration(migrations.Migration):
    """Coalitions, grants and targets are aggregates the Federal Project Officer reads;
    members, coach assignments and invitations are about people."""

    dependencies = [("grantees", "0002_row_level_security"), ("bpij", "0008_db_least_privilege")]

    operations = [
        RescopeRowLevelSecurity("grantees_coalition", column="id", aggregate=True),
        RescopeRowLevelSecurity("grantees_grant", aggregate=True),
        RescopeRowLevelSecurity("grantees_target", aggregate=True),
        RescopeRowLevelSecurity("grantees_membership"),
        RescopeRowLevelSecurity("grantees_coachassignment"),
        RescopeRowLevelSecurity("grantees_invitation"),
        CreatePersonCoalitions(),
    ]
