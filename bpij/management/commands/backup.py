"""``manage.py backup --to DIR``: one encrypted archive of the database, its roles and
grants, and the stored files, from one moment (bpij/backups.py; docs/operations.md,
"Backups and restore")."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from bpij import backups


def owner_login(url: str | None = None) -> backups.Login:
    """The owner login: --owner-url, else DATABASE_OWNER_URL, else DATABASE_URL."""
    if url:
        return backups.Login.from_url(url)
    database = settings.DATABASES.get("owner") or settings.DATABASES["default"]
    if "postgresql" not in database["ENGINE"]:
        raise CommandError(
            "backup works on PostgreSQL (DATABASE_URL). The embedded default keeps everything "
            "under var/ (BPIJ_VAR_DIR): stop the server and copy that folder."
        )
    return backups.Login.from_settings(database)


class Command(BaseCommand):
    help = (
        "Write an encrypted backup (BACKUP_ENCRYPTION_KEY): pg_dump as the owner login, the "
        "roles and grants the app needs, and the stored files, all from one moment."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--to",
            required=True,
            type=Path,
            help=f"A directory (a dated bpij-<db>-<time>{backups.SUFFIX} is made in it) or a file.",
        )
        parser.add_argument(
            "--manifest-only",
            action="store_true",
            help=(
                "List the stored files (name, size, SHA-256) without copying them: for an "
                "object store backed up on its own (bucket versioning or replication)."
            ),
        )
        parser.add_argument(
            "--owner-url",
            help="The owner login to dump as (default DATABASE_OWNER_URL, else DATABASE_URL).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        destination: Path = options["to"]
        if not destination.exists() and destination.suffix != backups.SUFFIX:
            destination.mkdir(parents=True)
        try:
            result = backups.make_backup(
                destination,
                owner=owner_login(options["owner_url"]),
                storage=default_storage,
                app_role=settings.DB_APP_ROLE,
                keyring=backups.backup_keyring(),
                include_files=not options["manifest_only"],
                say=self.stdout.write if options["verbosity"] > 1 else backups._quiet,
            )
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        for name in result.missing_files:
            self.stderr.write(
                f"Warning: the database refers to stored file {name}, which the storage "
                "does not hold."
            )
        self.stdout.write(
            f"Backup written: {result.path} ({result.size:,} bytes, sealed under backup key "
            f"{result.key_id!r}): {result.tables} tables, {result.rows:,} rows, "
            f"{result.files} stored file(s) ({result.file_bytes:,} bytes"
            f"{', listed, not copied' if options['manifest_only'] else ''}), "
            f"in {result.seconds:.1f} s."
        )
