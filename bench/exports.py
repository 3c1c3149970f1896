"""The two DOL-ready PDFs on the full demo: render time and peak memory of a coalition's
quarterly performance report and of the 34-coalition program-wide summary.

    python bench/exports.py                      # seed the demo, measure, print the table
    python bench/exports.py --no-seed            # reuse the database as it is
    python bench/exports.py --participants 3000  # a heavier demo (default: the demo's own)
    python bench/exports.py --runs 7

Steps:

1. **Seed** (unless ``--no-seed``): the database (``DATABASE_URL``, or
   postgres://…/bpij_bench_pdf) is dropped, created and migrated, then
   ``manage.py seed_demo`` fills it: 34 coalitions, every quarter from 2023Q4 to the
   latest closed one, with their roll-ups (bench/dashboards.py's ``seed``).
2. **Render**: for each PDF, one child process (started by a small launcher that reads
   its peak RSS with ``wait4``, so the parent's pages are not counted) sets Django up
   as an exports worker does, renders the PDF ``--runs`` times and reports each run's
   seconds. The first run of a process also loads WeasyPrint's fonts and caches; the
   goal is judged on the median of the runs after it (a worker renders many exports),
   and the first run is printed beside it. Peak RSS is the whole child's: Django,
   WeasyPrint, every run.

The coalition report is that of the coalition with the most participants in the latest
quarter with roll-ups; the program summary is that quarter's. Goals: < 5 s and < 10 s,
both under 400 MB.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres:postgres@127.0.0.1:5432/bpij_bench_pdf"
GOALS = {"coalition_report": 5.0, "program_summary": 10.0}
PEAK_MB_GOAL = 400.0
OUT = ROOT / "bench" / "out" / "exports.json"


def provenance(rollups) -> dict:
    """The stamp an export of these roll-ups would carry, from the service that makes it,
    for an export that is never saved."""
    from django.utils import timezone

    from bpij.models import User
    from reporting.models import Export
    from reporting.services import exports

    requester = User(email="bench@jff.example", full_name="Benchmark")
    return exports.provenance_for(
        export=Export(requested_by=requester), rollups=rollups, generated_at=timezone.now()
    )


def child(kind: str, runs: int, report: Path) -> None:
    """Render one PDF ``runs`` times in this process and write the timings."""
    import django

    django.setup()
    from bpij import tenancy
    from reporting import pdf
    from reporting.models import ReportingPeriod, Rollup

    with tenancy.system_scope():
        latest = Rollup.objects.order_by("-quarter").values_list("quarter", flat=True).first()
        rollups = list(
            Rollup.objects.filter(quarter=latest).select_related("coalition", "submission")
        )
        biggest = max(rollups, key=lambda r: r.participant_rows)
        seconds, size = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            if kind == "coalition_report":
                data = pdf.coalition_report_pdf(
                    period_id=biggest.period_id, provenance=provenance([biggest])
                )
            else:
                data = pdf.program_summary_pdf(quarter=latest, provenance=provenance(rollups))
            seconds.append(time.perf_counter() - started)
            size = len(data)
    report.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "bytes": size,
                "quarter": latest,
                "coalition": biggest.coalition.slug if kind == "coalition_report" else None,
                "participants": biggest.participant_rows
                if kind == "coalition_report"
                else sum(r.participant_rows for r in rollups),
                "coalitions": ReportingPeriod.objects.filter(quarter=latest).count(),
                "reporting": len(rollups),
            }
        )
    )


def measure(kind: str, runs: int, env: dict) -> dict:
    from bench.run import run_command

    with tempfile.TemporaryDirectory(prefix="bench-exports-") as folder:
        out = Path(folder) / f"{kind}.out"
        report = Path(folder) / f"{kind}.json"
        argv = [sys.executable, str(Path(__file__)), "--child", kind, str(runs), str(report)]
        process = run_command(argv, out, env=env)
        if process["status"] != 0:
            raise SystemExit(f"{kind} failed:\n{process['stderr']}")
        return {**json.loads(report.read_text()), "max_rss_mb": process["max_rss_mb"]}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--participants", type=int, default=None)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()

    from bench import dashboards

    media = Path(tempfile.mkdtemp(prefix="bench-exports-media-"))
    static = Path(tempfile.mkdtemp(prefix="bench-exports-static-"))
    dashboards.setup(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL), media, static)
    env = dict(os.environ)
    if not options.no_seed:
        import django

        django.setup()
        from django.core.management import call_command

        from bench import ingest

        ingest.prepare()
        started = time.perf_counter()
        arguments = {"quiet": True}
        if options.participants:
            arguments["participants"] = options.participants
        call_command("seed_demo", **arguments)
        print(f"seeded in {time.perf_counter() - started:.0f} s")

    results = {}
    for kind in GOALS:
        results[kind] = measure(kind, options.runs, env)
    print(f"{'PDF':<18}{'first s':>9}{'median s':>10}{'goal':>7}{'peak MB':>9}  what")
    for kind, result in results.items():
        seconds = result["seconds"]
        warm = seconds[1:] or seconds
        result["median_s"] = statistics.median(warm)
        result["met"] = result["median_s"] < GOALS[kind] and result["max_rss_mb"] < PEAK_MB_GOAL
        what = (
            f"{result['coalition']} ({result['participants']:,} participants)"
            if result["coalition"]
            else f"{result['coalitions']} coalitions, {result['reporting']} reporting "
            f"({result['participants']:,} participants)"
        )
        print(
            f"{kind:<18}{seconds[0]:>9.2f}{result['median_s']:>10.2f}{GOALS[kind]:>7.0f}"
            f"{result['max_rss_mb']:>9.0f}  {result['quarter']} {what}"
            f"{'' if result['met'] else '  GOAL MISSED'}"
        )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
