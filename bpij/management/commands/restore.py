"""``manage.py restore --from FILE``: a backup into an empty cluster (bpij/backups.py;
docs/operations.md, "Backups and restore")."""

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from bpij import backups


def passwords_from_environment() -> dict[str, str]:
    """Each login's password, as the deployment's environment gives it: the users and
    passwords of DATABASE_URL and DATABASE_OWNER_URL, else BPIJ_DB_APP_PASSWORD for
    DB_APP_ROLE and BPIJ_DB_OWNER_PASSWORD for the owner (docker/db-init.sh's names)."""
    passwords: dict[str, str] = {}
    if settings.DB_APP_ROLE and os.environ.get("BPIJ_DB_APP_PASSWORD"):
        passwords[settings.DB_APP_ROLE] = os.environ["BPIJ_DB_APP_PASSWORD"]
    for url in (os.environ.get("DATABASE_URL"), os.environ.get("DATABASE_OWNER_URL")):
        if url and url.startswith("postgres"):
            login = backups.Login.from_url(url)
            if login.user and login.password:
                passwords[login.user] = login.password
    return passwords


def migration_notes(applied: list[str]) -> list[str]:
    """How the backup's migrations stand against this code's."""
    from django.db.migrations.loader import MigrationLoader

    on_disk = {f"{app}.{name}" for app, name in MigrationLoader(None).disk_migrations}
    notes = []
    if unknown := sorted(set(applied) - on_disk):
        notes.append(
            f"the backup has {len(unknown)} migration(s) this code does not know (e.g. "
            f"{unknown[0]}): it comes from newer code; deploy that version before starting"
        )
    if pending := sorted(on_disk - set(applied)):
        notes.append(
            f"{len(pending)} migration(s) of this code are not applied in the backup (e.g. "
            f"{pending[0]}): run `manage.py migrate` (as the owner) before starting the app"
        )
    return notes


class Command(BaseCommand):
    help = (
        "Restore a backup into an empty cluster: roles (passwords from the environment), the "
        "database, grants; check policies, triggers and rows against the backup; put the "
        "stored files back and check their hashes. Refuses a database in use without --force."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--from", dest="source", required=True, type=Path)
        parser.add_argument(
            "--admin-url",
            default=os.environ.get("DATABASE_ADMIN_URL"),
            help=(
                "The cluster's superuser (or a role with CREATEROLE and CREATEDB that is a member "
                "of the owner role), e.g. postgres://postgres:…@db:5432/postgres. Default: "
                "DATABASE_ADMIN_URL."
            ),
        )
        parser.add_argument(
            "--database",
            help="The database to restore into (default: DATABASE_URL's).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Drop and replace a database that is not empty; replace differing stored files.",
        )
        parser.add_argument(
            "--ignore-keys",
            action="store_true",
            help="Restore although ENCRYPTION_KEYS cannot open the backup's files or SSNs.",
        )
        parser.add_argument("--jobs", type=int, default=1, help="pg_restore's parallel jobs.")
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="Read and authenticate the backup and say what it holds; restore nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except backups.BackupError as error:
            raise CommandError(str(error)) from error

    def _handle(self, options: dict[str, Any]) -> None:
        keyring = backups.backup_keyring()
        say = self.stdout.write
        if options["check_only"]:
            import tempfile

            with tempfile.TemporaryDirectory(prefix="bpij-restore-check-") as work:
                opened = backups.open_archive(options["source"], Path(work), keyring, say)
            problems = backups.key_problems(
                opened,
                encryption_key_ids={kid for kid, _ in settings.ENCRYPTION_KEYS},
                legacy_pii_key=bool(settings.PII_ENCRYPTION_KEY),
            )
            for problem in problems:
                self.stderr.write(f"Warning: {problem}.")
            return
        default = settings.DATABASES["default"]
        if "postgresql" not in default["ENGINE"]:
            raise CommandError(
                "restore works on PostgreSQL: set DATABASE_URL to the runtime login."
            )
        if not options["admin_url"]:
            raise CommandError(
                "Give the cluster's superuser with --admin-url or DATABASE_ADMIN_URL "
                "(it creates the roles and the database; the app never uses it)."
            )
        admin = backups.Login.from_url(options["admin_url"])
        runtime = backups.Login.from_settings(default)
        dbname = options["database"] or runtime.dbname
        if (admin.host, admin.port) != (runtime.host, runtime.port):
            self.stderr.write(
                f"Note: restoring on {admin.host}:{admin.port}; DATABASE_URL points at "
                f"{runtime.host}:{runtime.port} (a pooler?): the runtime login is checked there."
            )
        result = backups.restore(
            options["source"],
            admin=admin,
            dbname=dbname,
            storage=default_storage,
            keyring=keyring,
            passwords=passwords_from_environment(),
            owner_password=os.environ.get("BPIJ_DB_OWNER_PASSWORD") or None,
            runtime=runtime,
            encryption_key_ids={kid for kid, _ in settings.ENCRYPTION_KEYS},
            legacy_pii_key=bool(settings.PII_ENCRYPTION_KEY),
            force=options["force"],
            ignore_keys=options["ignore_keys"],
            jobs=options["jobs"],
            say=say,
        )
        for warning in [*result.warnings, *migration_notes(result.migrations)]:
            self.stderr.write(f"Warning: {warning}.")
        self.stdout.write(
            f"Restored {result.database}: {result.tables} tables, {result.rows:,} rows, "
            f"{result.policies} policies, {result.triggers} triggers, {result.files_verified} "
            f"stored file(s) verified, in {result.seconds:.1f} s."
        )
