"""`manage.py check_files`: the checks of DATA-CONTRACT.md §3 on two files, as the JSON
of §6.

Exit status: 0 when no error was found, 1 when any was (the JSON is printed either way),
2 on bad arguments, with one line on stderr. The database is not touched unless
`--coalition` asks for the history rules (H01, H02). Without `--coalition`, manage.py
runs the same code without starting Django (reporting/checks/cli.py).
"""

from django.core.management.base import CommandError

from bpij import tenancy
from grantees.calendar import Quarter
from reporting.checks import History, cli
from reporting.management.scripting import ScriptCommand, bad


class Command(ScriptCommand):
    help = (
        "Check a participant file (and its placement file) against the data contract and "
        "print every finding as one JSON object."
    )

    def add_arguments(self, parser):
        cli.add_arguments(parser)

    @tenancy.system_scoped
    def handle(self, *args, **options):
        history = None
        if options["coalition"]:
            try:
                period = Quarter.parse(options["period"])
            except ValueError as error:
                raise bad(f"--period: {error}") from None
            history = _history(options["coalition"], period)
        try:
            output, result = cli.check(options, history)
        except cli.BadArguments as error:
            raise bad(str(error)) from None
        self.stdout.write(output)
        if result.errors:
            raise CommandError(cli.errors_line(result), returncode=cli.FOUND_ERRORS)


def _history(coalition_slug: str, period: Quarter) -> History | None:
    from grantees.models import Coalition

    if not Coalition.objects.filter(slug=coalition_slug).exists():
        raise bad(f"--coalition: there is no coalition {coalition_slug!r}")
    from reporting import selectors

    return selectors.previous_accepted_history(coalition_slug, str(period))
