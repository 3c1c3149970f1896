"""`manage.py quarterly_figures`: the figures of DATA-CONTRACT.md §4 as the JSON of §6.

Reads the two files (checked first; only rows without errors count), or with
`--coalition` that coalition's latest accepted submission for the period. Exit status:
0 with the JSON on stdout; 2 on bad arguments, with one line on stderr.
"""

import json
from datetime import date
from pathlib import Path

import polars as pl

from bpij import tenancy
from grantees.calendar import Quarter
from reporting import figures
from reporting.checks import engine
from reporting.management.scripting import ScriptCommand, bad


class Command(ScriptCommand):
    help = (
        "Print the quarterly performance figures (DATA-CONTRACT.md §4) for the Current "
        "Quarter, Rolling 4 Quarters and Grant to Date windows as one JSON object."
    )

    def add_arguments(self, parser):
        parser.add_argument("--participants", metavar="P", help="participant file (CSV/XLSX)")
        parser.add_argument("--placements", metavar="L", help="placement file (CSV/XLSX)")
        parser.add_argument("--period", metavar="QUARTER", help="report quarter, e.g. 2025Q3")
        parser.add_argument(
            "--grant-start",
            metavar="DATE",
            help="first day of the grant's period of performance, e.g. 2023-10-01 "
            "(with --coalition, defaults to the stored grant's start)",
        )
        parser.add_argument(
            "--coalition",
            metavar="SLUG",
            help="use this coalition's latest accepted submission instead of files",
        )
        parser.add_argument("--format", default="json", help="output format: json (the only one)")

    @tenancy.system_scoped
    def handle(self, *args, **options):
        if options["format"] != "json":
            raise bad(f"--format {options['format']!r} is not supported: use --format json")
        period = _quarter(options["period"])
        grant_start = _grant_start(options["grant_start"], period)
        participants_path, placements_path = options["participants"], options["placements"]
        if options["coalition"]:
            if participants_path or placements_path:
                raise bad("pass either --coalition or --participants/--placements, not both")
            participants, placements, stored_start = _accepted(options["coalition"], period)
            grant_start = grant_start or _grant_start(stored_start, period)
        else:
            if not participants_path:
                raise bad("pass --participants P [--placements L], or --coalition SLUG")
            if grant_start is None:
                raise bad("--grant-start is required, e.g. --grant-start 2023-10-01")
            participants, placements = self._checked(participants_path, placements_path, period)
        if grant_start is None:
            raise bad("--grant-start is required, e.g. --grant-start 2023-10-01")
        result = figures.compute_figures(
            participants, placements, report_quarter=period, grant_start=grant_start
        )
        self.stdout.write(json.dumps(result))

    def _checked(
        self, participants_path: str, placements_path: str | None, period: Quarter
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The kept rows of the two files after every check of §3 (§6: rows with errors,
        and the placements of held-back participants, are not counted)."""
        for option, path in (
            ("--participants", participants_path),
            ("--placements", placements_path),
        ):
            if path is not None and not Path(path).is_file():
                raise bad(f"{option} file not found: {path}")

        checked = engine.check_submission(participants_path, placements_path, period=period)
        notes = []
        for kind, result in (
            ("participant", checked.participants),
            ("placement", checked.placements),
        ):
            if result is None:
                continue
            kept = 0 if result.kept is None else result.kept.height
            if not result.readable:
                notes.append(f"the {kind} file failed the format checks, so none of its rows count")
            elif result.data_rows > kept:
                held = result.data_rows - kept
                notes.append(f"{held} {kind} row{'s' if held != 1 else ''} held back")
        if notes:
            text = "; ".join(notes)
            self.stderr.write(
                f"{text[0].upper()}{text[1:]} (manage.py check_files lists the findings)."
            )
        participants = checked.participants.kept
        if participants is None:
            participants = pl.DataFrame(schema=figures.participants_schema())
        placements = checked.placements.kept if checked.placements is not None else None
        if placements is None:
            placements = figures.empty_placements()
        return participants, placements


def _quarter(text: str | None) -> Quarter:
    if not text:
        raise bad("--period is required, e.g. --period 2025Q3")
    try:
        return Quarter.parse(text)
    except ValueError:
        raise bad(f"--period {text!r} is not a quarter: write it like 2025Q3") from None


def _grant_start(value: str | date | None, period: Quarter) -> date | None:
    if value is None or isinstance(value, date):
        start = value
    else:
        try:
            start = date.fromisoformat(value.strip())
        except ValueError:
            raise bad(f"--grant-start {value!r} is not a date: write it like 2023-10-01") from None
    if start is not None and start > period.end:
        raise bad(f"--period {period} ends before the grant starts on {start}")
    return start


def _accepted(slug: str, period: Quarter) -> tuple[pl.DataFrame, pl.DataFrame, date | None]:
    """The kept rows of the coalition's latest accepted submission for the period, and
    its grant's start date."""
    # Imported here, so the files path starts without the ORM-backed selectors.
    from reporting import selectors

    frames = selectors.accepted_frames(slug, str(period))
    if frames is None:
        raise bad(f"coalition {slug!r} has no accepted submission for {period}")
    participants, placements, *rest = frames
    if placements is None:
        placements = figures.empty_placements()
    return participants, placements, rest[0] if rest else None
