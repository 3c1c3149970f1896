"""`manage.py check_files` without starting Django, for the common case.

Loading every app (django.setup) costs about a third of the command's time on a 100,000
row file, and checking files needs none of it: the checks are pure. ``manage.py``
therefore sends ``check_files`` here when it runs without ``--coalition`` (the history
rules read the database) and with no option but the four below; anything else goes
through Django as usual. Both paths share the argument definitions and the output, and
the tests run both.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grantees.calendar import Quarter
from reporting.checks import native

if TYPE_CHECKING:
    from reporting.checks import CheckResult, History

BAD_ARGUMENTS = 2
FOUND_ERRORS = 1
FAST_OPTIONS = ("--participants", "--placements", "--period", "--format")


class BadArguments(Exception):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
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


def can_run_without_django(argv: Sequence[str]) -> bool:
    """Only the plain case: every option one of FAST_OPTIONS (as ``--x v`` or ``--x=v``)."""
    options = [a.split("=", 1)[0] for a in argv if a.startswith("-")]
    return bool(options) and all(option in FAST_OPTIONS for option in options)


def check(options: dict, history: "History | None" = None) -> "tuple[str, CheckResult]":
    """The command's output for parsed options, and the result it came from."""
    try:
        period = Quarter.parse(options["period"])
    except ValueError as error:
        raise BadArguments(f"--period: {error}") from None
    for option in ("participants", "placements"):
        path = options.get(option)
        if path is not None and not Path(path).is_file():
            raise BadArguments(f"--{option} file not found: {path}")
    # Each file is read, and a CSV's text cut by the native reader on another core, while
    # the checks (and polars) load: native.py.
    # (Each option its own read, even of the same file: a read's columns are taken once.)
    paths = [options["participants"], options.get("placements")]
    read = [native.read_file(path) if path is not None else (None, None) for path in paths]
    from reporting.checks import engine
    from reporting.checks.reading import Source

    def source(path: str, data: bytes | None, read_ahead: native.CsvRead | None) -> "Source | str":
        if data is None:
            return path  # too large to read: refused by its size
        return Source(name=Path(path).name, data=data, read_ahead=read_ahead)

    participants = source(paths[0], *read[0])
    placements = None if paths[1] is None else source(paths[1], *read[1])
    result = engine.check_submission(
        participants,
        placements,
        period=period,
        history=history,
        ssn_hasher=_ssn_hasher(),
        keep=False,  # the output lists findings; the kept rows are for storing
    )
    if options.get("format") == "text":
        return as_text(result), result
    return json.dumps(as_json(result)), result


def errors_line(result: "CheckResult") -> str:
    return f"{result.errors} error(s) found; the files cannot be certified as they are"


def as_json(result: "CheckResult") -> dict:
    output = {
        "period": result.period,
        "summary": result.summary(),
        "findings": [finding.as_dict() for finding in result.findings],
    }
    # §6's shape is kept: the summary counts every finding, `findings` lists those kept
    # (the first 1,000 of a rule and column), and only a capped file gets this key,
    # saying per file, rule and column how many are listed of how many.
    capped = result.omitted()
    if capped:
        output["capped"] = capped
    return output


def as_text(result: "CheckResult") -> str:
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
        if f.omitted:
            lines.append(f"    … and {f.omitted:,} more like this ({f.code}{column})")
    return "\n".join(lines)


def _ssn_hasher():
    """The keyed hash stored SSNs are compared by (D02). It is imported only when an SSN
    repeats, which keeps the command's start-up short."""

    def keyed(ssn: str) -> str:
        from reporting import pii

        return pii.hash_ssn(ssn)

    return keyed


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # The same one line and status as the Django path (reporting.management.scripting).
        self.exit(BAD_ARGUMENTS, f"CommandError: {message}\n")


def main(argv: Sequence[str], prog: str = "manage.py check_files") -> int:
    parser = _Parser(prog=prog)
    add_arguments(parser)
    options = vars(parser.parse_args(list(argv)))
    try:
        output, result = check(options)
    except BadArguments as error:
        sys.stderr.write(f"CommandError: {error}\n")
        return BAD_ARGUMENTS
    sys.stdout.write(output + "\n")
    if result.errors:
        sys.stderr.write(f"CommandError: {errors_line(result)}\n")
        return FOUND_ERRORS
    return 0
