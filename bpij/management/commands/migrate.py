"""``migrate``, run as the owner login when one is configured (DATABASE_OWNER_URL).

The runtime login may not create or alter tables, so migrating through it would fail;
with the owner alias as the default, ``manage.py migrate`` does the expected thing and
``--database`` still picks another alias.
"""

from django.conf import settings
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS

OWNER_ALIAS = "owner"


class Command(migrate.Command):
    help = f"{migrate.Command.help} Uses the owner login (DATABASE_OWNER_URL) when set."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(
            database=OWNER_ALIAS if OWNER_ALIAS in settings.DATABASES else DEFAULT_DB_ALIAS
        )
