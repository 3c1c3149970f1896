import os

from django.conf import settings
from django.core.management.base import BaseCommand

from grantees import demo
from grantees.models import Coalition
from reporting import services as reporting_services


class Command(BaseCommand):
    """Gathers every app's demo data, the way bpij/urls.py gathers their URLs."""

    help = (
        "Create the 34 fictional demo coalitions, their grants and targets, and the demo "
        "sign-ins. Safe to run again: it creates only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Set every existing demo account's password back to the demo password.",
        )
        parser.add_argument("--quiet", action="store_true", help="Do not print the demo sign-ins.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Seed only when the database has no coalition yet (what `make run` uses); "
            "the sign-ins are printed either way.",
        )

    def handle(self, *args, reset_passwords=False, quiet=False, if_empty=False, **options):
        password = os.environ.get("DEMO_PASSWORD") or demo.DEFAULT_PASSWORD
        if if_empty and Coalition.objects.exists():
            self.stdout.write("The database already has coalitions; demo data not loaded again.")
            if not quiet:
                self._print_sign_ins(password)
            return
        result = demo.seed(password, reset_passwords=reset_passwords)
        periods = reporting_services.periods_ensure_all()

        for label, tally in result.tallies.items():
            line = f"{label:<18} {tally.created:>4} created  {tally.found:>4} found"
            if tally.updated:
                line += f"  {tally.updated:>4} brought back to the demo definition"
            self.stdout.write(line)
        self.stdout.write(f"{'reporting periods':<18} {periods:>4} created")
        if reset_passwords:
            self.stdout.write(f"Passwords reset for {result.passwords_reset} demo accounts.")
        for email in result.skipped_non_demo:
            self.stderr.write(f"{email} is not a demo account; its password was left alone.")
        if result.data_changed:
            self.stdout.write(self.style.SUCCESS("Demo data seeded."))
        elif result.passwords_reset:
            self.stdout.write("Demo data was already in place.")
        else:
            self.stdout.write("Demo data was already in place; nothing changed.")
        if not quiet:
            self._print_sign_ins(password)

    def _print_sign_ins(self, password: str) -> None:
        rows = demo.sign_in_table()
        width = max(len(role) for role, _ in rows)
        self.stdout.write(f"\nDemo sign-ins, all with the password {password}:")
        for role, email in rows:
            self.stdout.write(f"  {role:<{width}}  {email}")
        self.stdout.write(
            f"  <slug> is a coalition's slug, e.g. {demo.DEMO_COALITIONS[0]['slug']}."
        )
        if not settings.MFA_EXEMPT_DEMO_ACCOUNTS:
            self.stdout.write(
                "  JFF staff accounts set up two-step sign-in on first sign-in "
                "(MFA_EXEMPT_DEMO_ACCOUNTS is off)."
            )
