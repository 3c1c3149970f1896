"""Dashboards and the status board on the full demo: roll-up time, SQL queries per page,
and server time under 20 concurrent signed-in users (gunicorn on localhost).

    python bench/dashboards.py                       # seed, measure, print the table
    python bench/dashboards.py --participants 3000   # a heavier demo (default: 3,000)
    python bench/dashboards.py --no-seed             # reuse the database as it is
    python bench/dashboards.py --urls /board/ /program/   # other pages for the load run

Steps:

1. **Seed.** The database (``DATABASE_URL``, or postgres://…/bpij_bench_dashboards) is
   dropped, created and migrated (bench/ingest.py's ``prepare``), then
   ``manage.py seed_demo --participants N`` fills it: 34 coalitions, every quarter from
   2023Q4 to the latest closed one, roll-ups and the coaching record. Timed.
2. **Roll-up of one coalition-period**: ``services.rollup_period`` on the biggest
   coalition's latest counted period, median of 7 runs after one warm-up (the program
   roll-up it would queue is timed apart, once per quarter).
3. **Queries per page**: each page fetched once through Django's test client as the
   people who use it (program officer, a coach, a coalition administrator), counting
   every SQL statement, RLS scope statements included. Budget: 12.
4. **Load**: gunicorn (``--workers W`` sync workers, default 3: the pages are
   CPU-bound and the machine has 2 cores) serving the app with DEBUG off; 20 simulated
   users, each signed in with a session of their own (made with Django's SessionStore,
   MFA marked satisfied as the middleware records it), each requesting their pages in
   turn with a think time between requests (exponential, mean ``--think`` seconds; 0
   makes every user a tight loop). Response times are taken by the client on
   localhost (queueing included), and gunicorn's own request time (%(D)s in its access
   log) is the server time. Goals: median < 150 ms, p95 < 300 ms. The client runs on
   the same 2 CPUs as the server.
"""

import argparse
import base64
import http.client
import io
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres:postgres@127.0.0.1:5432/bpij_bench_dashboards"
QUERY_BUDGET = 12
MEDIAN_GOAL_MS, P95_GOAL_MS = 150, 300
# Production-like settings for the whole run: the seed and the server must share the
# PII keys (one random set per run: with DEBUG off, placeholders are refused), and DEBUG
# off is what production serves with.
BENCH_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "PII_ENCRYPTION_KEY": secrets.token_urlsafe(40),
    "ENCRYPTION_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    "PII_HASH_KEY": secrets.token_urlsafe(40),
    "SECURE_SSL_REDIRECT": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
}


def setup(database_url: str, media: Path, static: Path) -> None:
    os.environ.update(BENCH_ENV)
    os.environ["DATABASE_URL"] = database_url
    os.environ["MEDIA_ROOT"] = str(media)
    os.environ["STATIC_ROOT"] = str(static)
    os.environ.pop("REDIS_URL", None)  # tasks in-process: no worker to wait for
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- 1. Seed -------------------------------------------------------------------------


def seed(participants: int) -> dict:
    from bench import ingest

    prepared = ingest.prepare()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("seed_demo", participants=participants, quiet=True, stdout=io.StringIO())
    seconds = time.perf_counter() - started
    return {**prepared, "seed_s": seconds}


def data_size() -> dict:
    from reporting.models import ParticipantRecord, PlacementRecord, Rollup, Submission

    return {
        "submissions": Submission.objects.count(),
        "participant_records": ParticipantRecord.objects.count(),
        "placement_records": PlacementRecord.objects.count(),
        "rollups": Rollup.objects.count(),
    }


# --- 2. Roll-up ----------------------------------------------------------------------


def bench_rollup(runs: int = 7) -> dict:
    from django.db.models import Count

    from reporting import services
    from reporting.models import ParticipantRecord, Rollup

    biggest = (
        ParticipantRecord.objects.values("submission_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    rollup = Rollup.objects.filter(submission_id=biggest["submission_id"]).first() or (
        Rollup.objects.order_by("-participant_rows").first()
    )
    period_id = rollup.period_id
    services.rollup_period(period_id=period_id, program=False)  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        services.rollup_period(period_id=period_id, program=False)
        times.append(time.perf_counter() - started)
    program = []
    for _ in range(3):
        started = time.perf_counter()
        services.rollup_program(quarter=rollup.quarter)
        program.append(time.perf_counter() - started)
    return {
        "period": f"{rollup.coalition.slug} {rollup.quarter}",
        "participants": rollup.participant_rows,
        "placements": rollup.placement_rows,
        "period_s": times,
        "program_quarter": rollup.quarter,
        "program_s": program,
    }


# --- 3. Queries per page -------------------------------------------------------------


def people() -> dict:
    """The people whose pages are measured, and their pages."""
    from django.urls import reverse

    from bpij.models import StaffRole, User
    from grantees.models import CoachAssignment, MemberRole, Membership

    officer = User.objects.get(staff_role=StaffRole.PROGRAM_OFFICER, email="officer@jff.example")
    coach = User.objects.get(email="coach1@jff.example")
    coached = list(
        CoachAssignment.objects.filter(coach=coach)
        .select_related("coalition")
        .order_by("coalition__slug")
    )
    admins = list(
        Membership.objects.filter(role=MemberRole.ADMIN, user__email__startswith="admin@")
        .select_related("user", "coalition")
        .order_by("coalition__slug")
    )

    def dashboard(coalition) -> str:
        return reverse("coaching:coalition-dashboard", kwargs={"coalition_code": coalition.code})

    return {
        "officer": officer,
        "coach": coach,
        "coached": [a.coalition for a in coached],
        "admins": [(m.user, m.coalition) for m in admins],
        "dashboard": dashboard,
        "board": reverse("reporting:board"),
        "program": reverse("reporting:program-dashboard"),
    }


def page_plan(cast: dict) -> list[tuple[str, object, str]]:
    first_admin, first_coalition = cast["admins"][0]
    return [
        ("status board (program officer)", cast["officer"], cast["board"]),
        ("status board (coach)", cast["coach"], cast["board"]),
        ("program dashboard (program officer)", cast["officer"], cast["program"]),
        (
            "coalition dashboard (program officer)",
            cast["officer"],
            cast["dashboard"](cast["coached"][0]),
        ),
        ("coalition dashboard (coach)", cast["coach"], cast["dashboard"](cast["coached"][0])),
        (
            "coalition dashboard (grantee admin)",
            first_admin,
            cast["dashboard"](first_coalition),
        ),
    ]


def bench_queries(cast: dict) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out = []
    for label, user, url in page_plan(cast):
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        session = client.session
        record_second_factor(session, user)
        session.save()
        client.get(url, secure=True)  # warm-up: caches
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            seconds = time.perf_counter() - started
        out.append(
            {
                "page": label,
                "url": url,
                "status": response.status_code,
                "queries": len(queries.captured_queries),
                "bytes": len(response.content),
                "ms": seconds * 1000,
            }
        )
    return out


# --- 4. Load -------------------------------------------------------------------------


def record_second_factor(session, user) -> None:
    """The records allauth leaves in a session after a password and a TOTP code, which
    StaffMFARequiredMiddleware reads."""
    from allauth.account.internal.flows.login import record_authentication
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = session
    record_authentication(request, user, "password", email=user.email)
    record_authentication(request, user, "mfa", type="totp")


def session_cookie(user) -> str:
    """A signed-in session, as allauth's sign-in plus the MFA step would leave it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    record_second_factor(store, user)
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def users_for_load(cast: dict, count: int, urls: list[str] | None) -> list[dict]:
    """``count`` users: program officers see the board, the program dashboard and a
    coalition's; coaches their board and their coalitions' dashboards; coalition
    administrators their own dashboard."""
    plans, coached = [], cast["coached"]
    for i in range(count):
        kind = ("officer", "coach", "coach", "grantee")[i % 4]
        if urls:
            user = cast["officer"]
            pages = [("custom", url) for url in urls]
        elif kind == "officer":
            user = cast["officer"]
            pages = [
                ("status board", cast["board"]),
                ("program dashboard", cast["program"]),
                ("coalition dashboard", cast["dashboard"](coached[i % len(coached)])),
            ]
        elif kind == "coach":
            user = cast["coach"]
            pages = [("status board", cast["board"])] + [
                ("coalition dashboard", cast["dashboard"](c)) for c in cast["coached"][:2]
            ]
        else:
            user, coalition = cast["admins"][(i * 7) % len(cast["admins"])]
            pages = [("coalition dashboard", cast["dashboard"](coalition))]
        plans.append({"kind": kind, "cookie": session_cookie(user), "pages": pages})
    return plans


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: int, log: Path, access_log: Path) -> subprocess.Popen:
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
        # %(D)s: the time gunicorn's worker spent on the request, in microseconds —
        # the server time, without the wait in the listen queue the client also sees.
        "--access-logfile",
        str(access_log),
        "--access-logformat",
        "%(s)s %(D)s %(U)s",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    stop_gunicorn(process)
    raise RuntimeError(f"gunicorn did not start; see {log}")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def fetch(port: int, url: str, cookie: str) -> tuple[int, float, int]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", url, headers={"Cookie": cookie, "Host": "localhost"})
        response = connection.getresponse()
        body = response.read()
        return response.status, time.perf_counter() - started, len(body)
    finally:
        connection.close()


def warm(port: int, plans: list[dict], workers: int) -> None:
    """Every page a few times per worker first: a fresh worker's first requests import
    and compile what a running server has long had ready."""
    pages = {url: plan["cookie"] for plan in plans for _, url in plan["pages"]}
    for _ in range(3 * workers):
        for url, cookie in pages.items():
            fetch(port, url, cookie)


def server_times(access_log: Path, start: int, end: int) -> list[float]:
    """Milliseconds per 200 response from gunicorn's access log lines in [start, end)."""
    with access_log.open("rb") as handle:
        handle.seek(start)
        chunk = handle.read(end - start).decode()
    times = []
    for line in chunk.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "200":
            times.append(int(parts[1]) / 1000)
    return times


def load(
    port: int, plans: list[dict], seconds: float, think: float, warmup: float, access_log: Path
) -> dict:
    results: dict[str, list[float]] = defaultdict(list)
    offsets: dict[str, int] = {}
    statuses: dict[int, int] = defaultdict(int)
    lock = threading.Lock()
    begin = time.monotonic()
    measure_from = begin + warmup
    stop_at = measure_from + seconds

    def user(plan: dict, seed: int) -> None:
        rng = random.Random(seed)
        step = rng.randrange(len(plan["pages"]))
        time.sleep(rng.uniform(0, max(think, 0.2)))  # users do not all start together
        while time.monotonic() < stop_at:
            label, url = plan["pages"][step % len(plan["pages"])]
            step += 1
            started = time.monotonic()
            status, elapsed, _ = fetch(port, url, plan["cookie"])
            if started >= measure_from:
                with lock:
                    statuses[status] += 1
                    if status == 200:
                        results[label].append(elapsed * 1000)
            if think:
                time.sleep(rng.expovariate(1 / think))

    def mark(name: str) -> None:
        offsets[name] = access_log.stat().st_size

    threads = [
        threading.Thread(target=user, args=(plan, i), daemon=True) for i, plan in enumerate(plans)
    ]
    marks = [
        threading.Timer(warmup, mark, ["start"]),
        threading.Timer(warmup + seconds, mark, ["end"]),
    ]
    for thread in [*threads, *marks]:
        thread.start()
    for thread in [*threads, *marks]:
        thread.join()
    everything = [ms for values in results.values() for ms in values]
    server = server_times(access_log, offsets["start"], offsets["end"])
    return {
        "users": len(plans),
        "think_s": think,
        "seconds": seconds,
        "requests": sum(statuses.values()),
        "statuses": dict(statuses),
        "throughput": sum(statuses.values()) / seconds,
        "by_page": {
            label: {
                "n": len(values),
                "median_ms": median(values),
                "p95_ms": percentile(values, 0.95),
            }
            for label, values in sorted(results.items())
        },
        "all": {
            "n": len(everything),
            "median_ms": median(everything),
            "p95_ms": percentile(everything, 0.95),
        },
        "server": {
            "n": len(server),
            "median_ms": median(server),
            "p95_ms": percentile(server, 0.95),
        },
    }


# --- Report --------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(results: dict) -> str:
    lines = []
    add = lines.append
    add(f"BPIJ Reporting Hub — dashboards benchmark, {results['when']}, code {results['code']}")
    add(
        f"{os.cpu_count()} CPUs; load average at start {results['load_start']}, "
        f"at end {results['load_end']}"
    )
    if "seed" in results:
        seed_info, size = results["seed"], results["size"]
        add("")
        add(
            f"Demo: seed_demo --participants {results['participants']} into "
            f"{seed_info['database']}: {seed_info['seed_s']:.1f} s"
        )
    size = results["size"]
    add(
        f"  {size['submissions']:,} versions, {size['participant_records']:,} participant "
        f"and {size['placement_records']:,} placement records, {size['rollups']:,} roll-ups"
    )
    r = results["rollup"]
    add("")
    add(f"Roll-up of one coalition-period ({r['period']}: {r['participants']:,} participants,")
    add(f"{r['placements']:,} placements), median of {len(r['period_s'])} runs:")
    add(
        f"  rollup_period   {median(r['period_s']):.3f} s "
        f"({min(r['period_s']):.3f}–{max(r['period_s']):.3f})   goal < 1 s: "
        f"{verdict(median(r['period_s']) < 1)}"
    )
    add(
        f"  rollup_program  {median(r['program_s']):.3f} s for {r['program_quarter']} "
        "(every segment; runs once per quarter after the period's)"
    )
    add("")
    add(f"SQL queries per page (budget {QUERY_BUDGET}), one request after a warm-up")
    add(f"  {'page':<40} {'status':>6} {'queries':>8} {'time':>9} {'size':>9}")
    for q in results["queries"]:
        within = q["queries"] <= QUERY_BUDGET and q["status"] == 200
        add(
            f"  {q['page']:<40} {q['status']:>6} {q['queries']:>8} {q['ms']:>7.0f}ms "
            f"{q['bytes'] / 1024:>7.0f}kB  {verdict(within)}"
        )
    for run in results["load"]:
        add("")
        add(
            f"Load: {run['users']} users, think time {run['think_s']:g} s (exponential mean), "
            f"{run['seconds']:g} s measured, gunicorn {results['workers']} sync workers"
        )
        add(
            f"  {run['requests']:,} requests, {run['throughput']:.1f}/s, statuses "
            f"{json.dumps(run['statuses'])}"
        )
        add("  response time at the client (queueing in gunicorn included)")
        add(f"  {'page':<24} {'requests':>9} {'median':>9} {'p95':>9}")
        for label, stats in run["by_page"].items():
            add(
                f"  {label:<24} {stats['n']:>9,} {stats['median_ms']:>7.0f}ms "
                f"{stats['p95_ms']:>7.0f}ms"
            )
        for label, every in (("all pages", run["all"]), ("server time (gunicorn)", run["server"])):
            add(
                f"  {label:<24} {every['n']:>9,} {every['median_ms']:>7.0f}ms "
                f"{every['p95_ms']:>7.0f}ms   median < {MEDIAN_GOAL_MS} ms: "
                f"{verdict(every['median_ms'] < MEDIAN_GOAL_MS)}, p95 < {P95_GOAL_MS} ms: "
                f"{verdict(every['p95_ms'] < P95_GOAL_MS)}"
            )
    return "\n".join(lines)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def code_version() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        return commit + ("+changes" if dirty else "")
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=3000)
    parser.add_argument("--no-seed", action="store_true", help="reuse the database as it is")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument(
        "--think",
        type=float,
        nargs="+",
        default=[1.0, 0.0],
        help="think times to run, in seconds (0: no pause between requests)",
    )
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--urls", nargs="+", help="pages for the load run instead of the usual")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bpij-bench-dashboards-"))
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    media = Path(os.environ.get("BENCH_MEDIA_ROOT", work / "media"))
    (work / "static").mkdir()
    setup(database_url, media, work / "static")
    results: dict = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "code": code_version(),
        "load_start": load_average(),
        "participants": args.participants,
        "workers": args.workers,
    }
    try:
        if args.no_seed:
            import django

            django.setup()
        else:
            results["seed"] = seed(args.participants)
        results["size"] = data_size()
        results["rollup"] = bench_rollup()
        cast = people()
        results["queries"] = bench_queries(cast)
        from django.db import connections

        connections.close_all()
        port = free_port()
        access_log = work / "access.log"
        server = start_gunicorn(port, args.workers, work / "gunicorn.log", access_log)
        try:
            results["load"] = []
            for think in args.think:
                plans = users_for_load(cast, args.users, args.urls)
                connections.close_all()
                warm(port, plans, args.workers)
                results["load"].append(
                    load(port, plans, args.seconds, think, args.warmup, access_log)
                )
        finally:
            stop_gunicorn(server)
        results["load_end"] = load_average()
        text = report(results)
        print(text)
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / "dashboards.json").write_text(json.dumps(results, indent=2, default=str))
        (out / "dashboards.txt").write_text(text + "\n")
    finally:
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
