"""`manage.py export_report`: render a coalition's quarterly performance report or the
program-wide summary (or a data pack) to a file, for scripted quarterly runs.

It goes through the same services as the exports page: the export is recorded (and
audited) under the person given with `--as`, by default the first active JFF
administrator, and an identical earlier export is reused rather than rendered again.
Exit status: 0 with the path, size and SHA-256 on stdout; 2 on bad arguments and 1 when
the rendering fails, with one line on stderr.
"""

import hashlib
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from bpij import tenancy
from bpij.models import StaffRole, User
from grantees.models import Coalition
from reporting.management.scripting import ScriptCommand, bad
from reporting.models import Export, ExportKind, ExportStatus
from reporting.services import exports

FORMATS = {"pdf": None, "xlsx": ExportKind.DATA_PACK_XLSX, "csv": ExportKind.DATA_PACK_CSV}


class Command(ScriptCommand):
    help = (
        "Write a coalition's quarterly performance report (--coalition SLUG) or the "
        "program-wide summary (--program) for a quarter to a file; --format xlsx or csv "
        "writes the data pack instead (CSV files in a zip)."
    )

    def add_arguments(self, parser):
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--coalition", metavar="SLUG", help="the coalition's slug")
        scope.add_argument("--program", action="store_true", help="every coalition")
        parser.add_argument("--period", metavar="QUARTER", help="report quarter, e.g. 2025Q3")
        parser.add_argument("--out", metavar="FILE", help="where to write the file")
        parser.add_argument(
            "--format", default="pdf", help="pdf (the report), xlsx or csv (the data pack)"
        )
        parser.add_argument(
            "--accepted-only",
            action="store_true",
            help="with --program: the summary made for DOL, counting accepted reports only",
        )
        parser.add_argument(
            "--as",
            dest="as_email",
            metavar="EMAIL",
            help="who the export is recorded as requested by (default: the first active "
            "JFF administrator)",
        )

    @tenancy.system_scoped
    def handle(self, *args, **options):
        if options["format"] not in FORMATS:
            raise bad(f"--format {options['format']!r} is not supported: use pdf, xlsx or csv")
        if not options["coalition"] and not options["program"]:
            raise bad("pass --coalition SLUG or --program")
        if options["accepted_only"] and (not options["program"] or options["format"] != "pdf"):
            raise bad(
                "--accepted-only is for the program summary PDF: pass it with --program "
                "(and no --format, or --format pdf)"
            )
        if not options["period"]:
            raise bad("--period is required, e.g. --period 2025Q3")
        if not options["out"]:
            raise bad("--out is required, e.g. --out report.pdf")
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise bad(f"--out {out}: the directory {out.parent} does not exist")
        coalition = None
        if options["coalition"]:
            coalition = Coalition.objects.filter(slug=options["coalition"]).first()
            if coalition is None:
                raise bad(
                    f"--coalition {options['coalition']!r} is not a coalition's slug "
                    "(the list of coalitions shows them)"
                )
        kind = FORMATS[options["format"]] or (
            ExportKind.COALITION_REPORT if coalition else ExportKind.PROGRAM_SUMMARY
        )
        actor = _actor(options["as_email"])
        try:
            export = exports.export_request(
                actor=actor,
                kind=kind,
                quarter=options["period"],
                coalition=coalition,
                enqueue=False,
                accepted_only=options["accepted_only"],
            )
        except ValidationError as error:
            raise bad(" ".join(error.messages).replace("\n", " ")) from None
        except PermissionDenied:
            raise bad(
                f"{actor.email} may not make this export; pass --as a program officer"
            ) from None
        reused = export.status == ExportStatus.READY
        export = _rendered(export)
        # Copied as it is decrypted, a block at a time, from whichever storage holds it.
        digest, size = hashlib.sha256(), 0
        with export.file.open("rb") as handle, out.open("wb") as target:
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(block)
                size += len(block)
                target.write(block)
        self.stdout.write(
            f"{out}\t{size} bytes\tsha256 {digest.hexdigest()}\texport {export.code}"
            + (" (reused: the same figures were exported before)" if reused else "")
        )


def _actor(email: str | None) -> User:
    if email:
        user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
        if user is None:
            raise bad(f"--as {email!r} is not an active account's e-mail address")
        return user
    user = (
        User.objects.filter(staff_role=StaffRole.JFF_ADMIN, is_active=True)
        .order_by("email")
        .first()
    )
    if user is None:
        raise bad(
            "there is no active JFF administrator to record the export under; pass --as EMAIL"
        )
    return user


def _rendered(export: Export) -> Export:
    """Render it here, or wait for the worker that already has it."""
    if export.status == ExportStatus.QUEUED:
        exports.export_render(export_id=export.pk)
    deadline = time.monotonic() + settings.EXPORT_TIME_LIMIT + 30
    export.refresh_from_db()
    while export.status in (ExportStatus.QUEUED, ExportStatus.RENDERING):
        if time.monotonic() > deadline:
            raise CommandError(f"export {export.code} is still {export.status}; try again later")
        time.sleep(0.5)
        export.refresh_from_db()
        if export.status == ExportStatus.QUEUED:
            exports.export_render(export_id=export.pk)
    if export.status == ExportStatus.FAILED:
        raise CommandError(export.error.replace("\n", " "), returncode=1)
    return export
