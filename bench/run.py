"""The benchmark `make bench` runs: checking and ingesting seeded synthetic submissions,
against the goals of the issue, with a plain csv-module implementation of the same
rules (bench/baseline.py) as the yardstick. See bench/README.md.

    python bench/run.py              # medians of 5 runs, 10k and 100k participants
    python bench/run.py --quick      # medians of 3 runs, 2k and 20k (goals not judged)
    python bench/run.py --runs 7 --no-ingest

It prints a table and writes every measurement to bench/out/latest.json. It exits 0
even when a goal fails: it is a report, not a test.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import baseline, ingest  # noqa: E402

PERIOD = "2025Q3"
ERROR_RATE = 0.02
GOAL_ROWS = 100_000
GOALS = {
    "check_files_s": 2.0,  # whole command, 100k participants
    "speedup": 4.0,  # baseline command ÷ check_files command
    "ingest_s": 6.0,  # check + store + figures, 100k
    "peak_mb": 500.0,
}
OUT = ROOT / "bench" / "out" / "latest.json"
# Issue 11: the participant file alone, whole command, 100k rows, as grantees send it.
FORMAT_GOALS = {"csv": 0.45, "xlsx": 1.5}
# LibreOffice takes a while to convert 100k rows: its workbooks are kept here between runs.
CALC_CACHE = Path(tempfile.gettempdir()) / "bpij-bench-calc"


# Measuring ------------------------------------------------------------------------------


# A command is started by a small launcher process, which times it and reads its peak
# RSS from wait4: when a big process (this one, after the in-process runs) starts a child
# directly, the child's ru_maxrss counts the parent's pages it was forked from.
LAUNCHER = """
import json, os, subprocess, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
process = subprocess.Popen(argv)
_, status, usage = os.wait4(process.pid, 0)
seconds = time.perf_counter() - started
with open(report, "w") as out:
    json.dump({"seconds": seconds, "max_rss_kb": usage.ru_maxrss,
               "status": os.waitstatus_to_exitcode(status)}, out)
"""


def run_command(argv: list[str], out: Path, env: dict | None = None) -> dict:
    """Wall time, peak RSS (of that process alone) and exit status of one command."""
    err, report = out.with_suffix(".err"), out.with_suffix(".run")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(report), *argv],
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
            env=env,
            check=True,
        )
    measured = json.loads(report.read_text())
    return {
        "seconds": measured["seconds"],
        "max_rss_mb": measured["max_rss_kb"] / 1024,
        "status": measured["status"],
        "stderr": err.read_text(errors="replace")[-2000:],
    }


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def cpu_yardstick() -> float:
    """Seconds for a fixed bit of pure-Python work: a machine that is slow for reasons
    the load average does not show (a busy host, a throttled CPU) shows here."""
    started = time.perf_counter()
    sum(range(30_000_000))
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float]) -> str:
    if not values:
        return "–"
    return f"{median(values):.2f} s ({min(values):.2f}–{max(values):.2f})"


def finding_keys(path: Path) -> Counter:
    output = json.loads(path.read_text())
    return Counter((f["code"], f["file"], f["row"], f["column"]) for f in output["findings"])


# The benchmark ----------------------------------------------------------------------------


def generate(directory: Path, rows: int) -> dict:
    from reporting.checks.synthetic import generate_files

    started = time.perf_counter()
    participants, placements = generate_files(rows, seed=rows, error_rate=ERROR_RATE, period=PERIOD)
    p_path, l_path = directory / f"participants-{rows}.csv", directory / f"placements-{rows}.csv"
    p_path.write_bytes(participants)
    l_path.write_bytes(placements)
    return {
        "rows": rows,
        "placement_rows": placements.count(b"\r\n") - 1,
        "participants": str(p_path),
        "placements": str(l_path),
        "bytes": len(participants) + len(placements),
        "generate_s": time.perf_counter() - started,
    }


def bench_checks(directory: Path, files: dict, runs: int) -> dict:
    from grantees.calendar import Quarter
    from reporting.checks import engine

    p, pl = files["participants"], files["placements"]
    python = sys.executable
    engine_cmd = [python, "manage.py", "check_files", "--participants", p, "--placements", pl]
    engine_cmd += ["--period", PERIOD, "--format", "json"]
    baseline_cmd = [python, "bench/baseline.py", p, pl, PERIOD]
    rows = files["rows"]
    engine_out, baseline_out = (
        directory / f"engine-{rows}.json",
        directory / f"baseline-{rows}.json",
    )

    commands: dict[str, list[dict]] = {"engine": [], "baseline": []}
    for _ in range(runs):  # interleaved, so that a change of load hits both alike
        commands["engine"].append(run_command(engine_cmd, engine_out))
        commands["baseline"].append(run_command(baseline_cmd, baseline_out))
    for name, results in commands.items():
        bad = [r for r in results if r["status"] not in (0, 1)]
        if bad:
            raise SystemExit(
                f"{name} command failed (status {bad[0]['status']}):\n{bad[0]['stderr']}"
            )
    engine_keys, baseline_keys = finding_keys(engine_out), finding_keys(baseline_out)

    period = Quarter.parse(PERIOD)
    engine.check_submission(p, pl, period=period)  # warm-up: imports, regex compilation
    in_process: dict[str, list[float]] = {"engine": [], "baseline": []}
    p_bytes, l_bytes = Path(p).read_bytes(), Path(pl).read_bytes()
    for _ in range(runs):
        seconds, _result = timed(lambda: engine.check_submission(p, pl, period=period))
        in_process["engine"].append(seconds)
        seconds, _result = timed(lambda: baseline.check_submission(p_bytes, l_bytes, PERIOD))
        in_process["baseline"].append(seconds)

    return {
        "rows": rows,
        "command_s": {name: [r["seconds"] for r in results] for name, results in commands.items()},
        "command_max_rss_mb": {
            name: [r["max_rss_mb"] for r in results] for name, results in commands.items()
        },
        "in_process_s": in_process,
        "findings": {"engine": sum(engine_keys.values()), "baseline": sum(baseline_keys.values())},
        "agree": engine_keys == baseline_keys,
        "only_engine": [list(k) for k in (engine_keys - baseline_keys)][:20],
        "only_baseline": [list(k) for k in (baseline_keys - engine_keys)][:20],
    }


def bench_startup(directory: Path, runs: int) -> dict:
    """What a command costs before it reads a byte: Django's start-up (manage.py
    check_files --help sets Django up and loads the command) and the baseline's."""
    help_command = [sys.executable, "manage.py", "check_files", "--help"]
    bare_command = [sys.executable, "bench/baseline.py"]  # usage, status 2
    django = [run_command(help_command, directory / "help.out") for _ in range(runs)]
    bare = [run_command(bare_command, directory / "bare.out") for _ in range(runs)]
    return {
        "django_s": [r["seconds"] for r in django],
        "baseline_s": [r["seconds"] for r in bare],
    }


def participant_workbooks(directory: Path, files: dict) -> dict[str, Path]:
    """The participant file of ``files`` as grantees send it: the CSV, the workbook the
    hub writes (its marked-up file, which a grantee fixes and sends back) and the
    workbook LibreOffice Calc saves when it opens the CSV (numbers typed as numbers)."""
    from grantees.calendar import Quarter
    from reporting import spreadsheets
    from reporting.checks import engine

    csv_path = Path(files["participants"])
    content = csv_path.read_bytes()
    found = engine.check_submission(csv_path, period=Quarter.parse(PERIOD), keep=False)
    hub = directory / f"participants-{files['rows']}-hub.xlsx"
    hub.write_bytes(
        spreadsheets.annotated_workbook(
            csv_path.name, content, found.participants.findings, kind="participants"
        )
    )
    made = {"csv": csv_path, "xlsx by the hub": hub}
    calc = _saved_by_calc(content, files["rows"])
    if calc is not None:
        made["xlsx by LibreOffice"] = calc
    return made


def _saved_by_calc(content: bytes, rows: int) -> Path | None:
    """The CSV opened and saved as .xlsx by LibreOffice (cached by the CSV's digest)."""
    import hashlib

    soffice = shutil.which("soffice")
    if soffice is None:
        return None
    digest = hashlib.sha256(content).hexdigest()[:16]
    cached = CALC_CACHE / f"participants-{rows}-{digest}.xlsx"
    if cached.is_file():
        return cached
    work = Path(tempfile.mkdtemp(prefix="bpij-calc-"))
    try:
        source = work / cached.with_suffix(".csv").name
        source.write_bytes(content)
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={(work / 'profile').as_uri()}",
                "--headless",
                "--convert-to",
                "xlsx",
                "--outdir",
                str(work),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=900,
        )
        CALC_CACHE.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source.with_suffix(".xlsx")), cached)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return cached


def bench_formats(directory: Path, files: dict, runs: int) -> dict:
    """``check_files`` on the participant file alone, as CSV and as the two workbooks,
    interleaved: whole-command wall time and peak RSS."""
    made = participant_workbooks(directory, files)
    python = sys.executable
    results: dict[str, list[dict]] = {name: [] for name in made}
    outputs = {name: directory / f"format-{index}.json" for index, name in enumerate(made)}
    for _ in range(runs):
        for name, path in made.items():
            command = [python, "manage.py", "check_files", "--participants", str(path)]
            command += ["--period", PERIOD, "--format", "json"]
            results[name].append(run_command(command, outputs[name]))
    for name, runs_of in results.items():
        bad = [r for r in runs_of if r["status"] not in (0, 1)]
        if bad:
            raise SystemExit(f"check_files on {name} failed:\n{bad[0]['stderr']}")
    keys = {name: finding_keys(path) for name, path in outputs.items()}
    return {
        "rows": files["rows"],
        "bytes": {name: path.stat().st_size for name, path in made.items()},
        "command_s": {name: [r["seconds"] for r in runs_of] for name, runs_of in results.items()},
        "command_max_rss_mb": {
            name: [r["max_rss_mb"] for r in runs_of] for name, runs_of in results.items()
        },
        "findings": {name: sum(found.values()) for name, found in keys.items()},
        "same_as_csv": {name: found == keys["csv"] for name, found in keys.items()},
    }


def bench_ingest(directory: Path, files: dict, runs: int) -> dict:
    env = dict(os.environ, DATABASE_URL=ingest.database_url(), MEDIA_ROOT=str(directory / "media"))
    script = [sys.executable, "bench/ingest.py"]
    prepared = run_command([*script, "prepare"], directory / "prepare.json", env)
    if prepared["status"] != 0:
        return {"skipped": "database not ready: " + prepared["stderr"].strip().splitlines()[-1]}
    results = []
    for index in range(runs):
        out = directory / f"ingest-{index}.json"
        command = [*script, "run", files["participants"], files["placements"], PERIOD]
        result = run_command(command, out, env)
        if result["status"] != 0:
            return {"skipped": "ingest failed:\n" + result["stderr"]}
        measured = json.loads(out.read_text())
        measured["process_max_rss_mb"] = result["max_rss_mb"]
        results.append(measured)
    parts = sorted({name for r in results for name in r["seconds"]})
    return {
        "database": ingest.database_url().rsplit("/", 1)[1],
        "seconds": {name: [r["seconds"].get(name, 0.0) for r in results] for name in parts},
        "max_rss_mb": [r["process_max_rss_mb"] for r in results],
        "peak_rss_mb_by_part": {
            part: max(r["facts"]["peak_rss_mb_by_part"].get(part, 0.0) for r in results)
            for part in results[0]["facts"]["peak_rss_mb_by_part"]
        },
        "facts": results[0]["facts"],
    }


# Reporting --------------------------------------------------------------------------------


def code_version() -> str:
    """The commit measured, and whether the code measured differs from it."""

    def git(*arguments: str) -> str:
        done = subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "reporting", "grantees", "bpij", "manage.py")
    return commit + (" + uncommitted changes" if changed else "")


def verdict(ok: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "not judged"}[ok]


def _check_table(results: dict, checks: list[dict], add) -> None:
    width = 26
    head = f"{'check_files':<40}" + "".join(f"{c['rows']:>{width},}" for c in checks)
    add(head)
    add("-" * len(head))

    def row(label: str, cells: list[str]) -> None:
        add(f"{label:<40}" + "".join(f"{cell:>{width}}" for cell in cells))

    row("engine: manage.py check_files (whole)", [spread(c["command_s"]["engine"]) for c in checks])
    row(
        "  Django start-up (check_files --help)",
        [spread(results["startup"]["django_s"])] * len(checks),
    )
    row(
        "engine: check_submission in-process", [spread(c["in_process_s"]["engine"]) for c in checks]
    )
    row("baseline: bench/baseline.py (whole)", [spread(c["command_s"]["baseline"]) for c in checks])
    row("baseline: in-process", [spread(c["in_process_s"]["baseline"]) for c in checks])
    row(
        "speed-up, whole command",
        [
            f"{median(c['command_s']['baseline']) / median(c['command_s']['engine']):.1f}×"
            for c in checks
        ],
    )
    row(
        "speed-up, in-process",
        [
            f"{median(c['in_process_s']['baseline']) / median(c['in_process_s']['engine']):.1f}×"
            for c in checks
        ],
    )
    row(
        "peak RSS, check_files",
        [f"{max(c['command_max_rss_mb']['engine']):.0f} MB" for c in checks],
    )
    row(
        "peak RSS, baseline", [f"{max(c['command_max_rss_mb']['baseline']):.0f} MB" for c in checks]
    )
    row(
        "findings: engine = baseline?",
        [
            (f"identical ({c['findings']['engine']:,})" if c["agree"] else "DIFFERENT")
            for c in checks
        ],
    )
    for c in checks:
        if not c["agree"]:
            add(f"  {c['rows']:,}: engine only {c['only_engine']}")
            add(f"  {c['rows']:,}: baseline only {c['only_baseline']}")
    add("")


def _check_goals(largest: dict, ingest_result: dict | None, judged: bool) -> list[dict]:
    command = median(largest["command_s"]["engine"])
    speedup = median(largest["command_s"]["baseline"]) / command
    command_rss = max(largest["command_max_rss_mb"]["engine"])
    goals = [
        {
            "goal": f"check_files on {GOAL_ROWS:,} rows < {GOALS['check_files_s']:.0f} s",
            "measured": f"{command:.2f} s",
            "ok": command < GOALS["check_files_s"] if judged else None,
        },
        {
            "goal": f"check_files ≥ {GOALS['speedup']:.0f}× the csv-module baseline",
            "measured": f"{speedup:.1f}×",
            "ok": speedup >= GOALS["speedup"] if judged else None,
        },
    ]
    if ingest_result and "skipped" not in ingest_result:
        total = median(ingest_result["seconds"]["total"])
        goals.append(
            {
                "goal": f"full ingest of {GOAL_ROWS:,} rows < {GOALS['ingest_s']:.0f} s",
                "measured": f"{total:.2f} s",
                "ok": total < GOALS["ingest_s"] if judged else None,
            }
        )
    goals.append(
        {
            "goal": f"peak memory of check_files < {GOALS['peak_mb']:.0f} MB",
            "measured": f"{command_rss:.0f} MB",
            "ok": command_rss < GOALS["peak_mb"] if judged else None,
        }
    )
    if ingest_result and "skipped" not in ingest_result:
        ingest_rss = max(ingest_result["max_rss_mb"])
        goals.append(
            {
                "goal": f"peak memory of the ingest < {GOALS['peak_mb']:.0f} MB",
                "measured": f"{ingest_rss:.0f} MB",
                "ok": ingest_rss < GOALS["peak_mb"] if judged else None,
            }
        )
    return goals


def report(results: dict) -> tuple[str, list[dict]]:
    lines: list[str] = []
    add = lines.append
    machine = results["machine"]
    add(f"BPIJ Reporting Hub benchmark — {results['started']}, code {results['code']}")
    add(
        f"{machine['cpus']} CPUs, Python {machine['python']}, polars {machine['polars']}; "
        f"medians of {results['runs']} runs (min–max in brackets)"
    )
    load = machine["load_at_start"]
    add(
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min); "
        f"at end: {machine['load_at_end'][0]:.2f}"
        + ("  ← busy machine: figures are noisy" if load[0] >= 1.5 else "")
    )
    add(
        f"CPU yardstick (sum(range(30_000_000))): {machine['cpu_yardstick_s_at_start']:.2f} s "
        f"at start, {machine['cpu_yardstick_s_at_end']:.2f} s at end (lower is faster)"
    )
    add("")
    add(f"Files: seeded synthetic (reporting.checks.synthetic), error_rate {ERROR_RATE}, {PERIOD}")
    for files in results["files"]:
        add(
            f"  {files['rows']:>7,} participants + {files['placement_rows']:,} placements, "
            f"{files['bytes'] / 1e6:.1f} MB"
        )
    add("")
    checks = results.get("checks") or []
    if checks:
        _check_table(results, checks, add)
    formats = results.get("formats")
    if formats:
        add(
            f"check_files on the participant file alone ({formats['rows']:,} rows), "
            "as grantees send it"
        )
        add("-" * 78)
        add(f"  {'file':<22}{'size':>9}{'whole command':>24}{'peak RSS':>10}{'findings':>13}")
        for name, seconds in formats["command_s"].items():
            size = formats["bytes"][name] / 1e6
            peak = max(formats["command_max_rss_mb"][name])
            same = "" if name == "csv" else (" =csv" if formats["same_as_csv"][name] else "")
            add(
                f"  {name:<22}{size:>6.1f} MB{spread(seconds):>24}{peak:>7.0f} MB"
                f"{formats['findings'][name]:>8,}{same}"
            )
        if "xlsx by LibreOffice" not in formats["command_s"]:
            add("  xlsx by LibreOffice: not measured (soffice is not installed)")
        add("")

    ingest_result = results.get("ingest")
    if ingest_result and "skipped" not in ingest_result:
        largest = checks[-1]
        s = ingest_result["seconds"]
        commit = s.get("commit", [0.0] * len(s["total"]))
        rest = [
            total - sum(parts)
            for total, *parts in zip(
                s["submission_check"],
                s["check"],
                s["store_findings"],
                s["store_records"],
                commit,
                strict=True,
            )
        ]
        database = ingest_result["database"]
        add(f"Full ingest of {largest['rows']:,} participants (PostgreSQL database {database})")
        add("-" * 66)
        peaks = ingest_result.get("peak_rss_mb_by_part", {})
        ingest_rows = [
            ("check (engine.check_submission)", s["check"], "check"),
            ("store findings (findings.replace, COPY)", s["store_findings"], "store_findings"),
            ("store records (records.store, COPY)", s["store_records"], "store_records"),
            ("  of which SSNs encrypted + hashed", s["store_records_ssn"], "store_records_ssn"),
            ("COMMIT (deferred constraint checks)", commit, "commit"),
            ("rest: files read, queries, state change", rest, "other"),
            ("submission_check, total", s["submission_check"], None),
            ("figures_for: records read back", s["load_records"], "load_records"),
            ("figures_for: compute_figures", s["compute_figures"], "compute_figures"),
            ("figures_for, total", s["figures_for"], None),
            ("ingest total", s["total"], None),
            ("annotated workbooks, a task of its own", s["annotate"], "annotate"),
        ]
        add(f"  {'':<42}{'time':>24}{'peak RSS':>12}")
        for label, values, part in ingest_rows:
            peak = f"{peaks[part]:.0f} MB" if part in peaks else ""
            add(f"  {label:<42}{spread(values):>24}{peak:>12}")
        add(f"  {'peak RSS of the ingest process':<42}{max(ingest_result['max_rss_mb']):>21.0f} MB")
        facts = ingest_result["facts"]
        add(
            f"  stored {facts['participant_records']:,} participant and "
            f"{facts['placement_records']:,} placement records, {facts['errors']:,} errors"
        )
    elif checks:
        reason = ingest_result["skipped"] if ingest_result else "--no-ingest"
        add(f"Full ingest: not measured ({reason})")
    add("")

    goals: list[dict] = []
    judged = max(files["rows"] for files in results["files"]) >= GOAL_ROWS
    if checks:
        goals += _check_goals(checks[-1], ingest_result, judged)
    if formats:
        format_judged = formats["rows"] >= GOAL_ROWS
        for name, seconds in formats["command_s"].items():
            goal = FORMAT_GOALS["csv" if name == "csv" else "xlsx"]
            goals.append(
                {
                    "goal": f"participants only, {name} ≤ {goal:.2f} s",
                    "measured": f"{median(seconds):.2f} s",
                    "ok": median(seconds) <= goal if format_judged else None,
                }
            )
    add(
        "Goals"
        + ("" if judged else f" (not judged: the largest file has fewer than {GOAL_ROWS:,} rows)")
    )
    add("-" * 66)
    for goal in goals:
        add(f"  {goal['goal']:<46}{goal['measured']:>10}  {verdict(goal['ok'])}")
    return "\n".join(lines), goals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 runs, 2k and 20k participants")
    parser.add_argument("--runs", type=int, help="runs per measurement (default 5, quick 3)")
    parser.add_argument("--sizes", type=int, nargs="+", help="participants per file")
    parser.add_argument("--no-ingest", action="store_true", help="skip the PostgreSQL ingest")
    parser.add_argument(
        "--no-xlsx", action="store_true", help="skip the participant file as CSV and XLSX"
    )
    parser.add_argument(
        "--formats-only",
        action="store_true",
        help="only the participant file as CSV and XLSX (no baseline, no ingest)",
    )
    parser.add_argument("--out", type=Path, default=OUT, help="where the JSON goes")
    options = parser.parse_args(argv)
    runs = options.runs or (3 if options.quick else 5)
    sizes = options.sizes or ([2_000, 20_000] if options.quick else [10_000, GOAL_ROWS])

    import compileall

    import polars

    # The commands run the hub's modules compiled, as the image has them (Dockerfile:
    # compileall; PYTHONDONTWRITEBYTECODE would otherwise have each run compile them).
    for package in ("bpij", "grantees", "reporting", "coaching"):
        compileall.compile_dir(ROOT / package, quiet=1)

    results: dict = {
        "started": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "runs": runs,
        "code": code_version(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "polars": polars.__version__,
            "load_at_start": os.getloadavg(),
            "cpu_yardstick_s_at_start": cpu_yardstick(),
        },
    }
    directory = Path(tempfile.mkdtemp(prefix="bpij-bench-"))
    try:
        print(f"generating {', '.join(f'{n:,}' for n in sizes)} participants …", flush=True)
        results["files"] = [generate(directory, rows) for rows in sizes]
        if not options.formats_only:
            print("Django and baseline start-up …", flush=True)
            results["startup"] = bench_startup(directory, runs)
            results["checks"] = []
            for files in results["files"]:
                print(f"checking {files['rows']:,} participants, {runs} runs …", flush=True)
                results["checks"].append(bench_checks(directory, files, runs))
        if not options.no_xlsx:
            largest = results["files"][-1]
            print(
                f"the {largest['rows']:,}-row participant file as CSV and XLSX, {runs} runs "
                "(LibreOffice's workbook is made once and cached) …",
                flush=True,
            )
            results["formats"] = bench_formats(directory, largest, runs)
        if not options.no_ingest and not options.formats_only:
            print(
                f"ingesting {sizes[-1]:,} participants into PostgreSQL, {runs} runs …", flush=True
            )
            results["ingest"] = bench_ingest(directory, results["files"][-1], runs)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    results["machine"]["load_at_end"] = os.getloadavg()
    results["machine"]["cpu_yardstick_s_at_end"] = cpu_yardstick()

    table, goals = report(results)
    results["goals"] = goals
    results["table"] = table
    print()
    print(table)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    shown = options.out.relative_to(ROOT) if options.out.is_relative_to(ROOT) else options.out
    print(f"\n(written to {shown})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
