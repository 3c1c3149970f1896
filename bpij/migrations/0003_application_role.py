from django.db import migrations

from bpij.db import CreateApplicationRole


class Migration(migrations.Migration):
    dependencies = [("bpij", "0002_audit_append_only")]

    operations = [CreateApplicationRole()]
