"""Rebuild the dashboards' roll-ups from the versions that count.

    python manage.py rollup                      # every period and quarter
    python manage.py rollup --quarter 2025Q3     # one quarter (and its program roll-up)
    python manage.py rollup --coalition alpha    # one coalition's periods

Operators run it after changing data by hand or after a fix to the figures; the roll-up
services replace rows, so running it twice changes nothing.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from bpij import tenancy
from grantees.calendar import Quarter
from grantees.models import Coalition
from reporting import services


class Command(BaseCommand):
    help = "Recompute period and program roll-ups (dashboards read only these)."

    def add_arguments(self, parser):
        parser.add_argument("--quarter", help="only this quarter, written like 2025Q3")
        parser.add_argument("--coalition", help="only this coalition (its slug)")

    @tenancy.system_scoped
    def handle(self, *args, quarter=None, coalition=None, **options):
        if quarter:
            try:
                quarter = str(Quarter.parse(quarter))
            except ValueError as error:
                raise CommandError(str(error)) from error
        if coalition and not Coalition.objects.filter(slug=coalition).exists():
            raise CommandError(
                f"No coalition has the slug {coalition!r}; the coalition list shows each "
                "coalition's slug (e.g. alpha-wind)."
            )
        started = time.perf_counter()
        periods, quarters = services.rollup_rebuild(quarter=quarter, coalition_slug=coalition)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Rolled up {periods} period(s) and the program for {len(quarters)} quarter(s)"
            f"{' (' + ', '.join(quarters) + ')' if quarters else ''} in {elapsed:.2f} s."
        )
