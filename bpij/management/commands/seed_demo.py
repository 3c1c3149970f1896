import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bpij import tenancy
from coaching import demo as coaching_demo
from grantees import demo
from grantees.models import Coalition
from reporting import demo as reporting_demo
from reporting import services as reporting_services


class Command(BaseCommand):
    """Gathers every app's demo data, the way bpij/urls.py gathers their URLs."""

    help = (
        "Create the 34 fictional demo coalitions, their grants and targets, the demo "
        "sign-ins, every quarter's reports up to the latest closed quarter (with their "
        "roll-ups) and the coaching record. Safe to run again: it creates only what is "
        "missing."
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
        parser.add_argument(
            "--participants",
            type=int,
            metavar="N",
            help="People served by an average coalition at the latest closed quarter "
            "(default: what each coalition's targets call for by now, times its pace; "
            "about 400). Larger values make a heavier demo, e.g. 3000 for benchmarks.",
        )
        parser.add_argument(
            "--coalition",
            action="append",
            dest="coalitions",
            metavar="SLUG",
            help="Seed reports and coaching for this demo coalition only (repeatable).",
        )
        parser.add_argument(
            "--no-reports",
            action="store_true",
            help="Seed coalitions and sign-ins only: no quarterly reports, roll-ups or "
            "coaching record.",
        )

    @tenancy.system_scoped
    def handle(
        self,
        *args,
        reset_passwords=False,
        quiet=False,
        if_empty=False,
        participants=None,
        coalitions=None,
        no_reports=False,
        **options,
    ):
        if participants is not None and participants < 1:
            raise CommandError(
                f"--participants must be at least 1, not {participants}: it is the number "
                "of people an average coalition has served by the latest closed quarter.",
                returncode=2,
            )
        known = {spec["slug"] for spec in demo.DEMO_COALITIONS}
        unknown = sorted(set(coalitions or ()) - known)
        if unknown:
            raise CommandError(
                f"{', '.join(unknown)} is not a demo coalition: use a slug such as "
                f"{demo.DEMO_COALITIONS[0]['slug']} (the demo's 34 are in grantees/demo.py).",
                returncode=2,
            )
        password = os.environ.get("DEMO_PASSWORD") or demo.DEFAULT_PASSWORD
        if if_empty and Coalition.objects.exists():
            self.stdout.write(
                "Demo data already there (the database has coalitions): not loaded again."
            )
            if not quiet:
                self._print_sign_ins(password)
            return
        # Loading takes a minute or so on SQLite: say so before, not only after.
        what = "coalitions and sign-ins"
        if not no_reports:
            what = "coalitions, sign-ins, quarterly reports and coaching record"
        self.stdout.write(f"Loading the demo data ({what}); this takes a minute or so…")
        result = demo.seed(password, reset_passwords=reset_passwords)
        periods = reporting_services.periods_ensure_all()
        reports = None
        if not no_reports:
            started = time.monotonic()
            reports = reporting_demo.seed(
                participants=participants,
                slugs=coalitions,
                progress=None if quiet else lambda line: self.stdout.write(f"  {line}"),
            )
            coaching = coaching_demo.seed(slugs=coalitions)
            seconds = time.monotonic() - started

        for label, tally in result.tallies.items():
            line = f"{label:<18} {tally.created:>4} created  {tally.found:>4} found"
            if tally.updated:
                line += f"  {tally.updated:>4} brought back to the demo definition"
            self.stdout.write(line)
        self.stdout.write(f"{'reporting periods':<18} {periods:>4} created")
        if reports is not None:
            states = ", ".join(f"{n} {state}" for state, n in sorted(reports.by_state.items()))
            self.stdout.write(
                f"{'quarterly reports':<18} {reports.periods:>4} periods filled, "
                f"{reports.versions} versions ({states or 'none new'}), "
                f"{reports.participant_records:,} participant records, "
                f"{reports.rollups} period roll-ups, {reports.program_quarters} program "
                f"quarters, in {seconds:.1f} s"
            )
            self.stdout.write(
                f"{'coaching record':<18} {coaching.sessions:>4} sessions, {coaching.items} "
                f"action items, {coaching.flags} risk flags"
            )
        if reset_passwords:
            self.stdout.write(f"Passwords reset for {result.passwords_reset} demo accounts.")
        for email in result.skipped_non_demo:
            self.stderr.write(f"{email} is not a demo account; its password was left alone.")
        if result.data_changed or (reports is not None and reports.periods):
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
                "  Staff and FPO accounts set up two-step sign-in on first sign-in "
                "(MFA_EXEMPT_DEMO_ACCOUNTS is off)."
            )
