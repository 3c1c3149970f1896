"""A hostile but legal file: the participant header, then N rows of `=1+1` in every cell
(200,000 rows, 37 MB, the contract's row limit). Every cell fails, so it is the worst a
grantee can send without being refused at the door (issue 9, "bounded work").

    python bench/hostile.py [--rows 200000] [--runs 3] [--no-upload]

Measured, each in a process of its own (peak RSS and CPU time from ``wait4``),
medians of ``--runs``:

- ``check_files``: ``manage.py check_files --participants F --period 2025Q3``;
- ``upload``: ``python bench/hostile.py upload F`` on PostgreSQL (``DATABASE_URL``, or
  postgres://postgres:postgres@127.0.0.1:5432/bpij_bench_hostile, made afresh) —
  ``services.upload_receive`` with the check task run eagerly on commit (store, check,
  store findings; then the tasks it queues, run eagerly too: the annotated workbook and
  the e-mail), then two downloads of the annotated workbook through the view. It
  prints the seconds of each part and the finding rows stored.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres:postgres@127.0.0.1:5432/bpij_bench_hostile"
PERIOD = "2025Q3"


def hostile_file(path: Path, rows: int) -> Path:
    from reporting import contract

    header = ",".join(column.name for column in contract.COLUMNS[contract.PARTICIPANTS])
    line = ",".join(["=1+1"] * len(contract.COLUMNS[contract.PARTICIPANTS]))
    with path.open("w") as out:
        out.write(header + "\n")
        for _ in range(rows):
            out.write(line + "\n")
    return path


def _environment() -> dict:
    env = dict(os.environ)
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    env["REDIS_URL"] = ""  # the check task runs eagerly, on commit, in the same process
    # The checks' e-mail (always sent for a file over 10,000 rows) is kept in memory: the
    # console backend would print it on the standard output, where the figures go.
    env["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    env.setdefault("DJANGO_SETTINGS_MODULE", "bpij.settings")
    return env


def prepare() -> None:
    os.environ.update(_environment())
    from bench import ingest

    ingest.prepare()


def upload(path: str) -> dict:
    """One upload through the service and two downloads of its annotated workbook."""
    os.environ.update(_environment())
    import django

    django.setup()
    import uuid
    from datetime import date
    from decimal import Decimal

    from django.test import RequestFactory

    from bpij.models import User
    from grantees.models import Coalition, Grant, MemberRole, Membership, Track
    from reporting import services, views
    from reporting.models import Finding, ReportingPeriod, Submission

    tag = uuid.uuid4().hex[:10]
    user = User.objects.create_user(email=f"hostile-{tag}@example.org")
    coalition = Coalition.objects.create(
        name=f"Hostile {tag}",
        slug=f"hostile-{tag}",
        lead_organization="Benchmark College",
        states_served=["CA"],
        sectors=["renewable_energy"],
        track=Track.DEVELOPMENT,
    )
    Membership.objects.create(coalition=coalition, user=user, role=MemberRole.ADMIN)
    grant = Grant.objects.create(
        coalition=coalition,
        award_number=f"HOSTILE-{tag}",
        amount=Decimal("1000000.00"),
        start_date=date(2023, 10, 1),
        end_date=date(2028, 6, 30),
    )
    services.periods_ensure(grant=grant)
    period = ReportingPeriod.objects.get(grant=grant, quarter=PERIOD)
    submission = services.submission_start(period=period, actor=user, today=date(2025, 10, 1))

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with open(path, "rb") as stream:
        created, _ = services.upload_receive(
            submission=submission,
            kind="participants",
            stream=stream,
            name=Path(path).name,
            actor=user,
        )
    seconds["upload_and_check"] = time.perf_counter() - started
    for download in ("download_1", "download_2"):
        request = RequestFactory().get("/")
        request.user = user
        request.htmx = False  # type: ignore[attr-defined]
        started = time.perf_counter()
        response = views.upload_annotated(request, created.code)
        size = (
            sum(len(chunk) for chunk in response) if response.streaming else len(response.content)
        )
        seconds[download] = time.perf_counter() - started
    submission = Submission.objects.get(pk=submission.pk)
    return {
        "parts": seconds,
        "state": submission.state,
        "errors": submission.error_count,
        "finding_rows": Finding.objects.filter(upload=created).count(),
        "annotated_bytes": size,
    }


# bench/run.py's launcher, also reporting the CPU time of the command: on a shared
# machine the wall time says as much about the neighbours as about the code.
LAUNCHER = """
import json, os, subprocess, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
process = subprocess.Popen(argv)
_, status, usage = os.wait4(process.pid, 0)
seconds = time.perf_counter() - started
with open(report, "w") as out:
    json.dump({"seconds": seconds, "max_rss_kb": usage.ru_maxrss,
               "cpu_seconds": usage.ru_utime + usage.ru_stime,
               "status": os.waitstatus_to_exitcode(status)}, out)
"""


def run_command(argv: list[str], out: Path, env: dict | None = None) -> dict:
    err, report = out.with_suffix(".err"), out.with_suffix(".run")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(report), *argv],
            cwd=ROOT, stdout=stdout, stderr=stderr, env=env, check=True,
        )  # fmt: skip
    measured = json.loads(report.read_text())
    return {
        "seconds": measured["seconds"],
        "cpu_seconds": measured["cpu_seconds"],
        "max_rss_mb": measured["max_rss_kb"] / 1024,
        "status": measured["status"],
        "stderr": err.read_text(errors="replace")[-2000:],
    }


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):7.1f} (min {min(values):.1f}, max {max(values):.1f})"


def main(argv: list[str]) -> int:
    if argv[:1] == ["prepare"]:
        prepare()
        return 0
    if argv[:1] == ["upload"] and len(argv) == 2:
        print(json.dumps(upload(argv[1])))
        return 0
    parser = argparse.ArgumentParser(prog="bench/hostile.py")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-upload", action="store_true")
    options = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bpij-hostile-"))
    path = hostile_file(work / "hostile.csv", options.rows)
    size_mb = path.stat().st_size / 1024 / 1024
    print(f"{options.rows:,} rows of =1+1, {size_mb:.1f} MB; medians of {options.runs} runs")
    print(f"load average at the start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")

    checks = [
        run_command(
            [
                sys.executable,
                "manage.py",
                "check_files",
                "--participants",
                str(path),
                "--period",
                PERIOD,
                "--format",
                "json",
            ],
            work / f"check-{run}.json",
        )
        for run in range(options.runs)
    ]
    output = json.loads((work / "check-0.json").read_text())
    json_mb = (work / "check-0.json").stat().st_size / 1e6
    print(
        f"check_files   seconds {_median([c['seconds'] for c in checks])}   "
        f"CPU seconds {_median([c['cpu_seconds'] for c in checks])}   "
        f"peak RSS MB {_median([c['max_rss_mb'] for c in checks])}   "
        f"findings listed {len(output['findings']):,}, errors counted "
        f"{output['summary']['errors']:,}, JSON {json_mb:.1f} MB"
    )
    if options.no_upload:
        print(f"load average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
        return 0

    env = _environment()
    run_command([sys.executable, "bench/hostile.py", "prepare"], work / "prepare.out", env=env)
    uploads = []
    for run in range(options.runs):
        measured = run_command(
            [sys.executable, "bench/hostile.py", "upload", str(path)],
            work / f"upload-{run}.json",
            env=env,
        )
        if measured["status"]:
            print(measured["stderr"])
            return 1
        measured |= json.loads((work / f"upload-{run}.json").read_text())
        uploads.append(measured)
    parts = uploads[0]["parts"]
    print(
        f"upload        seconds {_median([u['seconds'] for u in uploads])}   "
        f"CPU seconds {_median([u['cpu_seconds'] for u in uploads])}   "
        f"peak RSS MB {_median([u['max_rss_mb'] for u in uploads])}   "
        f"finding rows stored {uploads[0]['finding_rows']:,}, errors counted "
        f"{uploads[0]['errors']:,}"
    )
    for part in parts:
        print(f"  {part:<17} seconds {_median([u['parts'][part] for u in uploads])}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
