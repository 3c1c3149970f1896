"""`manage.py check_files`: the checks of DATA-CONTRACT.md §3 on two files, as the JSON
of §6.

Exit status: 0 when no error was found, 1 when any was (the JSON is printed either way),
2 on bad arguments, with one line on stderr. The database is not touched unless
`--coalition` asks for the history rules (H01, H02).
"""

import json
from pathlib import Path

from django.core.management.base import CommandError

from grantees.calendar import Quarter
from reporting.checks import CheckResult, History, engine
from reporting.management.scripting import ScriptCommand, bad

FOUND_ERRORS = 1


class Command(ScriptCommand):
    help = (
        "Check a participant file (and its placement file) against the data contract and "
        "print every finding as one JSON object."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--participants", metavar="P", required=True, help="participant file (CSV/XLSX)"
        )
        parser.add_argument("--placements", metavar="L", help="placement file (CSV/XLSX)")
        parser.add_argument(
            "--period", metavar="QUARTER", required=True, help="report quarter, e.g. 2025Q3"
        )
        parser.add_argument(
            "--coalition",
            metavar="SLUG",
            help="also run the history rules against this coalition's previous accepted "
            "submission (reads the database)",
        )
        parser.add_argument(
            "--format",
            default="json",
            choices=["json", "text"],
            help="json (the default; §6) or text (a table for people)",
        )

    def handle(self, *args, **options):
        try:
            period = Quarter.parse(options["period"])
        except ValueError as error:
            raise bad(f"--period: {error}") from None
        for option in ("participants", "placements"):
            path = options[option]
            if path is not None and not Path(path).is_file():
                raise bad(f"--{option} file not found: {path}")
        history = _history(options["coalition"], period) if options["coalition"] else None

        result = engine.check_submission(
            options["participants"],
            options["placements"],
            period=period,
            history=history,
            ssn_hasher=_ssn_hasher(),
        )
        if options["format"] == "text":
            self.stdout.write(_as_text(result))
        else:
            self.stdout.write(json.dumps(as_json(result)))
        if result.errors:
            raise CommandError(
                f"{result.errors} error(s) found; the files cannot be certified as they are",
                returncode=FOUND_ERRORS,
            )


def as_json(result: CheckResult) -> dict:
    return {
        "period": result.period,
        "summary": result.summary(),
        "findings": [finding.as_dict() for finding in result.findings],
    }


def _history(coalition_slug: str, period: Quarter) -> History | None:
    from grantees.models import Coalition

    if not Coalition.objects.filter(slug=coalition_slug).exists():
        raise bad(f"--coalition: there is no coalition {coalition_slug!r}")
    from reporting import selectors

    return selectors.previous_accepted_history(coalition_slug, str(period))


def _ssn_hasher():
    """The keyed hash stored SSNs are compared by (D02). It is imported only when an SSN
    repeats, which keeps the command's start-up short."""

    def keyed(ssn: str) -> str:
        from reporting import pii

        return pii.hash_ssn(ssn)

    return keyed


def _as_text(result: CheckResult) -> str:
    summary = result.summary()
    lines = [
        f"{result.period}: {summary['errors']} error(s), {summary['warnings']} warning(s) — "
        f"{summary['participant_rows']} participant row(s), {summary['placement_rows']} "
        f"placement row(s), {summary['rows_with_errors']} row(s) with errors",
    ]
    for f in result.findings:
        where = f"{f.file} row {f.row if f.row is not None else '-'}"
        column = f" {f.column}" if f.column else ""
        lines.append(f"{f.code} {f.severity:<7} {where}{column}: {f.message}")
    return "\n".join(lines)
