from django.db import migrations

from bpij.db import LeastPrivilegeRuntime


class Migration(migrations.Migration):
    """The runtime login keeps only SELECT, INSERT, UPDATE and DELETE; bpij_visible()
    learns the aggregates and system scopes."""

    dependencies = [("bpij", "0007_crypto_files_purged_and_sealed_mfa")]

    operations = [LeastPrivilegeRuntime()]
