"""Do the baseline and the engine find the same things? Compared as multisets of
(code, file, row, column), on seeded synthetic submissions.

    python bench/agreement.py                      # seeds 1–5, 2k–10k rows, error_rate 0.05
    python bench/agreement.py --rows 3000 --seeds 7 8 --error-rate 0.2

Exit status 0 when every comparison agrees, 1 otherwise (the differences are printed).
"""

import argparse
import csv
import io
import random
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import baseline  # noqa: E402
from grantees.calendar import Quarter  # noqa: E402
from reporting import contract  # noqa: E402
from reporting.checks import engine  # noqa: E402
from reporting.checks.synthetic import generate_files  # noqa: E402

Key = tuple[str, str, int | None, str | None]


@dataclass
class Comparison:
    engine: Counter
    baseline: Counter

    @property
    def only_engine(self) -> Counter:
        return self.engine - self.baseline

    @property
    def only_baseline(self) -> Counter:
        return self.baseline - self.engine

    @property
    def agree(self) -> bool:
        return self.engine == self.baseline

    def describe(self, limit: int = 10) -> str:
        lines = [
            f"engine {sum(self.engine.values())} findings, baseline "
            f"{sum(self.baseline.values())}: " + ("identical" if self.agree else "DIFFERENT")
        ]
        for label, extra in (
            ("engine only", self.only_engine),
            ("baseline only", self.only_baseline),
        ):
            for key, count in sorted(extra.items(), key=_order)[:limit]:
                lines.append(f"  {label}: {key}" + (f" ×{count}" if count > 1 else ""))
            if len(extra) > limit:
                lines.append(f"  {label}: … {len(extra) - limit} more")
        return "\n".join(lines)


def _order(item: tuple[Key, int]):
    code, file, row, column = item[0]
    return (file, row if row is not None else -1, code, column or "")


def engine_keys(participants: bytes, placements: bytes | None, period: str) -> Counter:
    result = engine.check_submission(
        ("participants.csv", participants),
        ("placements.csv", placements) if placements is not None else None,
        period=Quarter.parse(period),
    )
    return Counter((f.code, f.file, f.row, f.column) for f in result.findings)


def baseline_keys(participants: bytes, placements: bytes | None, period: str) -> Counter:
    return Counter(baseline.check_submission(participants, placements, period).keys())


def compare(participants: bytes, placements: bytes | None, period: str = "2025Q3") -> Comparison:
    return Comparison(
        engine_keys(participants, placements, period),
        baseline_keys(participants, placements, period),
    )


def compare_synthetic(
    rows: int, seed: int, error_rate: float, period: str = "2025Q3"
) -> Comparison:
    participants, placements = generate_files(rows, seed=seed, error_rate=error_rate, period=period)
    return compare(participants, placements, period)


# Fuzzing: the synthetic files break few rules on purpose (no D02, D03, L02, L03, L05–L12,
# L14–L16, F0x). Here every cell of a share of rows may take a tricky value of its kind,
# and some rows are made blank, ragged, padded with spaces or repeated.

_TRICKY: dict[contract.Kind, tuple[str, ...]] = {
    contract.Kind.DATE: (
        "",
        " ",
        "20240115",
        "2024-01-15",
        "20240230",
        "18991231",
        "19000101",
        "20251001",
        "20250930",
        "2025-09-30",
        "2024/01/15",
        "2024-1-15",
    ),
    contract.Kind.CODE: ("", "0", "1", "2", "3", "9", "00", "01", "05", "09", "10", "x", "13"),
    contract.Kind.DOLLARS: (
        "",
        "0",
        "1200",
        "1200.00",
        "1200.0",
        "1200.5",
        "$900",
        "12,000",
        "-5",
        "999999",
        "1000000",
        "0.00",
    ),
    contract.Kind.HOURLY_WAGE: (
        "",
        "7.24",
        "7.25",
        "0.01",
        "0",
        "500",
        "500.01",
        "18.255",
        "$18",
        ".5",
        "18.",
        "25.5",
        "0.00",
    ),
    contract.Kind.HOURS: ("", "0", "1", "80", "80.5", "37.5", "forty", "1e1", ".5", "0.99"),
    contract.Kind.PARTICIPANT_ID: (
        "",
        "123456789",
        "123-45-6789",
        "P 1",
        "TOO-LONG-ID-123",
        "abc",
        "P-1",
    ),
    contract.Kind.SSN: (
        "",
        "123-45-6789",
        "123456789",
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "123-00-4567",
        "123-45-0000",
        "12345",
        "123 45 6789",
    ),
    contract.Kind.STATE: ("", "ca", "CA", "XX", "Calif.", "pr", " ny "),
    contract.Kind.ZIP: ("", "12345", "1234", "12345-6789", "12345-678", "ABCDE"),
    contract.Kind.ONET: ("", "47-2111.00", "47211100", "47-2111", "x"),
    contract.Kind.NAICS: ("", "237130", "23713", "23713A"),
    contract.Kind.TEXT: ("", "Acme", "ACME WIND, INC.", "x" * 201, 'a "quoted", name', "Zed\nCo"),
}


def _random_date(rng: random.Random) -> str:
    day = date(2023, 1, 1) + timedelta(days=rng.randint(0, 1200))
    return f"{day:%Y%m%d}" if rng.random() < 0.8 else f"{day:%Y-%m-%d}"


def _tricky(rng: random.Random, column: contract.Column, rows: list[dict], key: str) -> str:
    if column.kind is contract.Kind.DATE and rng.random() < 0.5:
        if column.name == "date_of_birth":
            day = date(1920, 1, 1) + timedelta(days=rng.randint(0, 32000))
            return f"{day:%Y%m%d}"
        return _random_date(rng)
    if column.kind in (contract.Kind.PARTICIPANT_ID, contract.Kind.SSN) and rng.random() < 0.5:
        return rng.choice(rows)[key]  # repeat another row's value
    if column.kind is contract.Kind.CODE and column.codes and rng.random() < 0.6:
        return rng.choice(list(column.codes))
    return rng.choice(_TRICKY[column.kind])


def _fuzz_rows(rng: random.Random, kind: str, rows: list[dict], share: float) -> None:
    columns = contract.COLUMNS[kind]
    for row in rows:
        if rng.random() < share:
            for column in rng.sample(columns, rng.randint(1, 6)):
                row[column.name] = _tricky(rng, column, rows, column.name)
    for _ in range(max(1, int(len(rows) * share / 10))):  # exact repeats (D01/D03)
        row = dict(rng.choice(rows))
        if "employer_name" in row and rng.random() < 0.5:
            row["employer_name"] = " " + row["employer_name"].upper() + " "
        rows.insert(rng.randrange(len(rows) + 1), row)


def _write(rng: random.Random, rows: list[dict], header: list[str], share: float) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        cells = [row.get(name, "") for name in header]
        roll = rng.random()
        if roll < share / 20:
            cells = [""] * len(header) if rng.random() < 0.5 else [" "] * len(header)
        elif roll < share / 10:
            cells = cells[:-1] if rng.random() < 0.5 else [*cells, "extra"]
        elif roll < share / 5:
            cells = [f" {cell} " if cell else cell for cell in cells]
        writer.writerow(cells)
    return out.getvalue().encode()


def _records(data: bytes) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(data.decode(), newline=""))
    return list(reader.fieldnames or []), list(reader)


def fuzz_files(
    rows: int, seed: int, share: float = 0.3, period: str = "2025Q3"
) -> tuple[bytes, bytes]:
    """A participant and a placement file with every rule within reach."""
    rng = random.Random(seed)
    participants, placements = generate_files(rows, seed=seed, error_rate=0.05, period=period)
    p_header, people = _records(participants)
    l_header, jobs = _records(placements)
    ids = [row["participant_id"] for row in people]
    for job in jobs:  # placements of people whose rows will be tricky too
        if rng.random() < share / 3:
            job["participant_id"] = rng.choice(ids)
    _fuzz_rows(rng, contract.PARTICIPANTS, people, share)
    _fuzz_rows(rng, contract.PLACEMENTS, jobs, share)
    return _write(rng, people, p_header, share), _write(rng, jobs, l_header, share)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2000, 4000, 6000, 8000, 10000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--error-rate", type=float, default=0.05)
    parser.add_argument("--period", default="2025Q3")
    parser.add_argument(
        "--fuzz", action="store_true", help="tricky values in every column (fuzz_files)"
    )
    options = parser.parse_args(argv)
    rows = options.rows * len(options.seeds) if len(options.rows) == 1 else options.rows
    failures = 0
    for seed, count in zip(options.seeds, rows, strict=False):
        if options.fuzz:
            comparison = compare(*fuzz_files(count, seed, period=options.period), options.period)
        else:
            comparison = compare_synthetic(count, seed, options.error_rate, options.period)
        codes = Counter(key[0] for key in comparison.engine.elements())
        what = "fuzzed" if options.fuzz else f"error_rate {options.error_rate}"
        print(f"seed {seed}, {count} participants, {what}: ", end="")
        print(comparison.describe())
        print(f"  codes: {dict(sorted(codes.items()))}")
        failures += not comparison.agree
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
