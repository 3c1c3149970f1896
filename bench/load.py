"""The status board, the program dashboard and a coalition dashboard under load: wrk with
20 connections and no think time, on each page in turn, while the machine is idle and
while a Celery worker runs 100,000-row checks back to back (issue 13, item 6).

    python bench/load.py                         # seed, run, print the table
    python bench/load.py --no-seed               # reuse the database as it is
    python bench/load.py --runs 5 --seconds 15   # more and longer runs
    python bench/load.py --app-dir /tmp/before   # serve another checkout (before/after)
    python bench/load.py --worker-nice 0         # the worker at the web's priority

Needs PostgreSQL (``DATABASE_URL``, default postgres://…/bpij_bench_load, dropped and
seeded afresh unless ``--no-seed``), Redis (``REDIS_URL``: the page cache, as in
production, and the worker's broker; its database is emptied at start) and ``wrk``
(Debian: ``apt-get install -y wrk``). Everything listens on 127.0.0.1 only.

Steps:

1. **Seed** the demo (bench/dashboards.py: 34 coalitions, every quarter, roll-ups), unless
   ``--no-seed``.
2. **Serve** the app with gunicorn (``--workers``, sync, DEBUG off, production settings
   with throwaway secrets; bench/settings_bench.py), from this checkout or ``--app-dir``.
3. **Sign in** the program officer: a session as allauth leaves it after the password
   and the TOTP code (bench/dashboards.session_cookie); every page is fetched once and
   must answer 200 (not the sign-in or second-factor page).
4. **Idle**: for each run, wrk ``-c20 -t2 -d<seconds>`` on each page in turn (a 2-second
   warm-up per page first, not counted). p50, p95 and requests per second come from
   wrk's own latency histogram (bench/wrk_report.lua).
5. **Busy**: a Celery worker (``--worker-concurrency``, at ``--worker-nice``: the
   WORKER_NICE setting, bpij/celery.py) is started on the same cores, and a feeder
   queues a 100,000-participant check (reporting.checks.synthetic, 2025Q3), waits for
   it to finish and queues it again, for as long as the runs last; the same runs.
6. **Report**: medians over the runs, min–max beside them, the CPU time gunicorn's
   processes spent per request (from /proc: what a page costs, which a busy machine
   changes far less than it changes latency), the checks done while measuring, the
   load average; JSON in bench/out/load.json.

The machine is shared: wrk, gunicorn, PostgreSQL, Redis and the worker all run on the
same cores, and so does anything else running at the time. Compare figures taken
one after the other under the same conditions (``--app-dir`` for the code before).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import dashboards  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres:postgres@127.0.0.1:5432/bpij_bench_load"
P95_GOAL_MS = 300
WRK_SCRIPT = ROOT / "bench" / "wrk_report.lua"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- The pages ------------------------------------------------------------------------


def pages(cast: dict) -> list[tuple[str, str]]:
    return [
        ("status board", cast["board"]),
        ("program dashboard", cast["program"]),
        ("coalition dashboard", cast["dashboard"](cast["coached"][0])),
    ]


def check_pages(port: int, cookie: str, urls: list[tuple[str, str]]) -> None:
    for label, url in urls:
        status, _, size = dashboards.fetch(port, url, cookie)
        if status != 200:
            raise RuntimeError(f"{label} ({url}) answered {status}, not 200: not signed in?")
        if size < 10_000:
            raise RuntimeError(f"{label} ({url}) is only {size} bytes: not the page itself?")


# --- gunicorn -------------------------------------------------------------------------


def start_gunicorn(app_dir: Path, port: int, workers: int, log: Path) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "bpij.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    env = {**os.environ, "PYTHONPATH": str(app_dir)}
    process = subprocess.Popen(
        command,
        cwd=app_dir,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _wait_for_port(port, process, log)
    return process


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped; see {log}:\n{log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    dashboards.stop_gunicorn(process)
    raise RuntimeError(f"gunicorn did not start; see {log}")


# --- wrk ------------------------------------------------------------------------------


def wrk(port: int, url: str, cookie: str, seconds: float, connections: int) -> dict:
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "30s",
        "-s",
        str(WRK_SCRIPT),
        "-H",
        f"Cookie: {cookie}",
        "-H",
        "Host: localhost",
        f"http://127.0.0.1:{port}{url}",
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("{"))
    result = json.loads(line)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


# --- The worker and the checks it runs -------------------------------------------------


def start_worker(app_dir: Path, concurrency: int, nice: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(app_dir), "WORKER_NICE": str(nice)}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "bpij",
            "worker",
            "-Q",
            "celery",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=app_dir,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the Celery worker did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)
    return process


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by the processes of a process group (the
    gunicorn master and its workers), from /proc."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def niceness_of_children(process: subprocess.Popen) -> list[int]:
    """The niceness of the worker's processes (main and pool), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, …; niceness is field 19 of stat(5).
        if int(fields[2]) == process.pid:  # same process group: the worker's own
            found.append(int(fields[16]))
    return found


class Feeder(threading.Thread):
    """Queues a 100,000-participant check, waits until the worker has done it, puts the
    version back in `checking` and queues it again, until stopped."""

    def __init__(self, participants: int):
        super().__init__(daemon=True)
        self.participants = participants
        self.stopping = threading.Event()
        self.done: list[float] = []  # seconds per check, as the feeder saw them
        self.error: BaseException | None = None
        self.submission_id: int | None = None

    def prepare(self) -> None:
        from bench import ingest
        from bpij import tenancy
        from reporting.checks.synthetic import generate_files

        people, jobs = generate_files(self.participants, seed=7, error_rate=0.02, period="2025Q3")
        files = {"participants": ("participants.csv", people), "placements": ("l.csv", jobs)}
        with tenancy.system_scope():
            submission = ingest._submission(uuid.uuid4().hex[:10], files, "2025Q3")
        self.submission_id = submission.pk

    def run(self) -> None:
        from django.db import connection

        from bpij import tenancy
        from reporting import tasks
        from reporting.models import Submission, SubmissionState

        try:
            while not self.stopping.is_set():
                with tenancy.system_scope():
                    # Fresh attempts each time: after CHECK_MAX_ATTEMPTS starts the worker
                    # gives a version's checks up at once (reporting.services.recovery),
                    # and the feeder would be timing that instead of a check.
                    Submission.objects.filter(pk=self.submission_id).update(
                        state=SubmissionState.CHECKING, check_attempts=0, check_failed_at=None
                    )
                started = time.monotonic()
                tasks.check_submission.delay(self.submission_id)
                while not self.stopping.is_set():
                    time.sleep(0.5)
                    with tenancy.system_scope():
                        state = (
                            Submission.objects.filter(pk=self.submission_id)
                            .values_list("state", flat=True)
                            .get()
                        )
                    if state != SubmissionState.CHECKING:
                        self.done.append(time.monotonic() - started)
                        break
        except BaseException as error:  # reported by the main thread
            self.error = error
        finally:
            connection.close()

    def cleanup(self) -> None:
        from bench import ingest
        from bpij import tenancy
        from reporting.models import Submission

        if self.submission_id is None:
            return
        with tenancy.system_scope():
            submission = Submission.objects.filter(pk=self.submission_id).first()
            if submission is not None:
                ingest._delete(submission)


# --- Runs -----------------------------------------------------------------------------


def measure(
    port: int,
    cookie: str,
    urls: list[tuple[str, str]],
    *,
    server: int,
    runs: int,
    seconds: float,
    c: int,
) -> dict[str, list[dict]]:
    """``runs`` rounds of wrk on each page in turn. Beside wrk's figures, the CPU time
    gunicorn's processes (process group ``server``) spent per request: what a page
    costs, which a busy machine changes far less than the latency."""
    results: dict[str, list[dict]] = {label: [] for label, _ in urls}
    for _, url in urls:
        wrk(port, url, cookie, 2, c)  # warm-up: every worker has the page ready
    for _ in range(runs):
        for label, url in urls:
            before = group_cpu_seconds(server)
            result = wrk(port, url, cookie, seconds, c)
            spent = group_cpu_seconds(server) - before
            result["server_cpu_ms"] = 1000 * spent / max(result["requests"], 1)
            results[label].append(result)
    return results


def summary(runs: list[dict]) -> dict:
    def spread(key: str, scale: float = 1.0) -> dict:
        values = [run[key] * scale for run in runs]
        return {"median": median(values), "min": min(values), "max": max(values)}

    return {
        "p50_ms": spread("p50_us", 1e-3),
        "p95_ms": spread("p95_us", 1e-3),
        "p99_ms": spread("p99_us", 1e-3),
        "rps": spread("rps"),
        "server_cpu_ms": spread("server_cpu_ms"),
        "requests": sum(run["requests"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
    }


def report(results: dict) -> str:
    lines = []
    add = lines.append
    add(f"BPIJ Reporting Hub — pages under load, {results['when']}, code {results['code']}")
    add(
        f"served from {results['app_dir']}; {os.cpu_count()} CPUs; gunicorn "
        f"{results['workers']} sync workers; wrk -c{results['connections']} -t2, no think "
        f"time, {results['seconds']:g} s per page per run, {results['runs']} runs (medians, "
        "min–max in brackets)"
    )
    add(f"load average at start {results['load_start']}, at end {results['load_end']}")
    for scenario in ("idle", "busy"):
        if scenario not in results["scenarios"]:
            continue
        block = results["scenarios"][scenario]
        add("")
        if scenario == "idle":
            add("Idle (nothing else of the hub's running)")
        else:
            w = block["worker"]
            add(
                f"While a worker runs {results['check_participants']:,}-participant checks back "
                f"to back (concurrency {w['concurrency']}, WORKER_NICE={w['nice']}, niceness "
                f"seen {w['niceness_seen']}; {w['checks_done']} checks done while measuring, "
                f"median {w['check_s']:.1f} s each)"
            )
        add(
            f"  {'page':<20} {'p50 ms':>15} {'p95 ms':>17} {'req/s':>14} "
            f"{'CPU ms/req':>14}  p95 ≤ {P95_GOAL_MS} ms"
        )
        for label, stats in block["pages"].items():
            p50, p95, rps = stats["p50_ms"], stats["p95_ms"], stats["rps"]
            cpu = stats["server_cpu_ms"]
            add(
                f"  {label:<20} {p50['median']:>5.0f} ({p50['min']:.0f}–{p50['max']:.0f}) "
                f"{p95['median']:>6.0f} ({p95['min']:.0f}–{p95['max']:.0f}) "
                f"{rps['median']:>5.1f} ({rps['min']:.0f}–{rps['max']:.0f}) "
                f"{cpu['median']:>5.1f} ({cpu['min']:.0f}–{cpu['max']:.0f})  "
                f"{'PASS' if p95['median'] <= P95_GOAL_MS else 'FAIL'}"
                + (f"  {stats['errors']} errors" if stats["errors"] else "")
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=3000, help="seed_demo's size")
    parser.add_argument("--no-seed", action="store_true", help="reuse the database as it is")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--worker-concurrency", type=int, default=1)
    parser.add_argument("--worker-nice", type=int, default=10, help="WORKER_NICE of the worker")
    parser.add_argument("--check-participants", type=int, default=100_000)
    parser.add_argument("--only", choices=("idle", "busy"), help="one scenario only")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout to serve")
    args = parser.parse_args(argv)

    if not shutil.which("wrk"):
        parser.error("wrk is not installed (Debian: apt-get install -y wrk)")
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        parser.error("REDIS_URL must name a Redis database of this benchmark's own")
    work = Path(tempfile.mkdtemp(prefix="bpij-bench-load-"))
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    media = Path(os.environ.get("BENCH_MEDIA_ROOT", work / "media"))
    (work / "static").mkdir()
    dashboards.setup(database_url, media, work / "static")
    # As production: the page cache in Redis, tasks through it to a real worker.
    os.environ["REDIS_URL"] = redis_url
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    import redis

    redis.Redis.from_url(redis_url).flushdb()

    results: dict = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "code": dashboards.code_version(),
        "app_dir": str(args.app_dir),
        "load_start": dashboards.load_average(),
        "workers": args.workers,
        "connections": args.connections,
        "seconds": args.seconds,
        "runs": args.runs,
        "check_participants": args.check_participants,
        "scenarios": {},
    }
    feeder = None
    try:
        if args.no_seed:
            import django

            django.setup()
        else:
            results["seed"] = dashboards.seed(args.participants)
        from bpij import tenancy

        with tenancy.system_scope():
            cast = dashboards.people()
            cookie = dashboards.session_cookie(cast["officer"])
        urls = pages(cast)
        from django.db import connections

        connections.close_all()
        port = dashboards.free_port()
        server = start_gunicorn(args.app_dir, port, args.workers, work / "gunicorn.log")
        try:
            check_pages(port, cookie, urls)
            common = {
                "server": server.pid,  # its own process group (start_new_session)
                "runs": args.runs,
                "seconds": args.seconds,
                "c": args.connections,
            }
            if args.only in (None, "idle"):
                raw = measure(port, cookie, urls, **common)
                results["scenarios"]["idle"] = {
                    "pages": {label: summary(runs) for label, runs in raw.items()},
                    "raw": raw,
                }
            if args.only in (None, "busy"):
                feeder = Feeder(args.check_participants)
                feeder.prepare()
                connections.close_all()
                worker = start_worker(
                    args.app_dir, args.worker_concurrency, args.worker_nice, work / "worker.log"
                )
                try:
                    feeder.start()
                    time.sleep(3)  # the first check under way
                    before = len(feeder.done)
                    niceness = niceness_of_children(worker)
                    raw = measure(port, cookie, urls, **common)
                    checks_done = len(feeder.done) - before
                finally:
                    feeder.stopping.set()
                    feeder.join(timeout=120)
                    stop_process(worker)
                if feeder.error:
                    raise RuntimeError("the feeder failed") from feeder.error
                results["scenarios"]["busy"] = {
                    "pages": {label: summary(runs) for label, runs in raw.items()},
                    "raw": raw,
                    "worker": {
                        "concurrency": args.worker_concurrency,
                        "nice": args.worker_nice,
                        "niceness_seen": sorted(set(niceness)),
                        "checks_done": checks_done,
                        "check_s": median(feeder.done),
                    },
                }
        finally:
            dashboards.stop_gunicorn(server)
        results["load_end"] = dashboards.load_average()
        text = report(results)
        print(text)
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / "load.json").write_text(json.dumps(results, indent=2, default=str))
        (out / "load.txt").write_text(text + "\n")
    finally:
        if feeder is not None:
            feeder.cleanup()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
