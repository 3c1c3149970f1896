"""Delete stored upload files past the retention rule (docs/security.md, Retention).

    python manage.py purge_uploads --dry-run   # say what would go, change nothing
    python manage.py purge_uploads             # delete, mark the uploads, audit

Beat runs the same every night (reporting.tasks.purge_uploads).
"""

from django.core.management.base import BaseCommand

from reporting.services import retention


class Command(BaseCommand):
    help = "Delete stored upload files past the retention rule; the uploads are kept, marked."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list, change nothing")

    def handle(self, *args, dry_run=False, **options):
        purge = retention.uploads_expired() if dry_run else retention.uploads_purge()
        for upload in purge.uploads:
            self.stdout.write(
                f"{upload.coalition.slug}\t{upload.submission}\t{upload.kind}\t"
                f"{upload.original_name}\tuploaded {upload.uploaded_at:%Y-%m-%d}"
            )
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{len(purge.uploads)} upload(s) past retention; {len(purge.files)} stored "
            f"file(s) {verb} deleted."
        )
