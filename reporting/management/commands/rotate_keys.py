"""Move everything sealed under an older key of ENCRYPTION_KEYS to the current (first) one.

    python manage.py rotate_keys                       # files, SSNs, second-factor secrets
    python manage.py rotate_keys --encrypt-plaintext   # and seal files stored before encryption

Put the new key first in ENCRYPTION_KEYS and keep the old one after it, restart, run
this, then remove the old key (docs/security.md, Keys and rotation). The site stays up
throughout; running it again finishes a run that stopped and otherwise changes nothing.
"""

from django.core.management.base import BaseCommand, CommandError

from bpij import keys
from reporting.services import rotation


class Command(BaseCommand):
    help = "Re-wrap stored files and re-encrypt SSNs and MFA secrets under the current key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--encrypt-plaintext",
            action="store_true",
            help="also encrypt, in place, files stored before encryption at rest",
        )
        parser.add_argument("--batch-size", type=int, default=2000, help="SSNs per transaction")

    def handle(self, *args, encrypt_plaintext=False, batch_size=2000, **options):
        current = keys.current_kid()
        self.stdout.write(f"Current key: {current}")
        try:
            files = rotation.files_rewrap(encrypt_plaintext=encrypt_plaintext)
            ssns = rotation.ssns_reseal(batch_size=batch_size)
            secrets = rotation.mfa_secrets_reseal()
        except keys.UnknownKey as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Files: {files.rewrapped} re-wrapped, {files.current} already under {current}, "
            f"{files.encrypted} encrypted from plaintext, {files.plaintext} still plaintext, "
            f"{len(files.missing)} missing"
        )
        self.stdout.write(f"SSNs re-encrypted: {ssns}")
        self.stdout.write(f"Second-factor secrets re-sealed: {secrets}")
        if files.plaintext:
            self.stdout.write(
                "Run again with --encrypt-plaintext to encrypt the files stored before "
                "encryption at rest."
            )
