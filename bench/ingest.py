"""One full ingest of a submission on PostgreSQL, timed part by part; run by bench/run.py
in a subprocess of its own so that its peak memory is its own.

    python bench/ingest.py prepare                      # (re)create the database, migrate
    python bench/ingest.py run P.csv L.csv 2025Q3       # one timed ingest, JSON on stdout
    python bench/ingest.py run P.csv L.csv 2025Q3 --profile ingest.prof   # and cProfile it

``run`` creates a coalition, grant, periods, a submission in ``checking`` and its two
uploads (plain ORM, untimed), warms the process up on a small synthetic submission (as
a worker that has already run a task would be), then times
``reporting.services.submission_check`` (check + store findings and records by COPY)
and ``reporting.selectors.figures_for`` (records read back + figures), then, outside the
ingest's total, ``reporting.services.submission_annotate`` (the annotated workbooks,
which a task of their own builds after the check), and deletes everything it created.
The parts are timed by wrapping the functions the first two call
(engine.check_submission, findings.replace, records.store, records.participants_frame,
records.placements_frame, figures.compute_figures and the database connection's commit)
in this process only; a sampler thread notes the resident memory every 5 ms, so that the
peak can be put down to the part it happened in.

The database is ``DATABASE_URL``, or postgres://postgres:postgres@127.0.0.1:5432/bpij_bench.
As in production, DATABASE_URL may be the runtime login and DATABASE_OWNER_URL the owner
(which then creates the database, migrates and vacuums): the ingest is then timed as a
worker runs it, held to row-level security in the submission's coalition's scope.
"""

import cProfile
import hashlib
import json
import os
import resource
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal
from functools import wraps
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres:postgres@127.0.0.1:5432/bpij_bench"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def _setup_django() -> None:
    os.environ["DATABASE_URL"] = database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bpij.settings")
    import django

    django.setup()


def prepare() -> dict:
    """A database with the current schema: the benchmark's own (``bpij_bench…``) is
    dropped and created afresh, since migrations may still be edited in place before
    the first release; any other is created if missing and migrated."""
    import psycopg
    from psycopg import sql

    url = os.environ.get("DATABASE_OWNER_URL") or database_url()
    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    server = url.rsplit("/", 1)[0] + "/postgres"
    own = name.startswith("bpij_bench")
    with psycopg.connect(server, autocommit=True) as connection:
        if own:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _setup_django()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrated = time.perf_counter() - started
    # Autovacuum may be off (it is on the development server): start from clean tables.
    _vacuum()
    return {"database": name, "recreated": own, "migrate_s": migrated}


_VACUUMED = (
    "reporting_participantrecord",
    "reporting_placementrecord",
    "reporting_finding",
    "reporting_upload",
    "reporting_submissionevent",
    "reporting_submission",
)


def _vacuum() -> None:
    from django.conf import settings
    from django.db import connections

    # Only a table's owner may vacuum it, and never inside a transaction: a connection
    # holding a tenant scope wraps each statement in one (bpij/postgresql/base.py), so the
    # scope is put down for the VACUUM and taken up again after it.
    connection = connections["owner" if "owner" in settings.DATABASES else "default"]
    set_scope = getattr(connection, "set_tenant_scope", None)
    held = set_scope(None) if set_scope else None
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(_VACUUMED)}")
    finally:
        if set_scope:
            set_scope(held)


_timings: defaultdict[str, float] = defaultdict(float)
_phases: list[tuple[str, float, float]] = []  # (label, start, end) of every timed call


def _timed(module, name: str, label: str) -> None:
    function = getattr(module, name)

    @wraps(function)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            ended = time.perf_counter()
            _timings[label] += ended - started
            _phases.append((label, started, ended))

    setattr(module, name, wrapper)


class _MemorySampler(threading.Thread):
    """The process's resident memory every few milliseconds, so that the peak can be
    put down to the part of the ingest it happened in."""

    def __init__(self, interval: float = 0.005):
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, float]] = []  # (time, RSS in MB)
        self.running = True
        self.page_mb = os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)

    def run(self) -> None:
        with open("/proc/self/statm") as statm:
            while self.running:
                statm.seek(0)
                resident = int(statm.read().split()[1])
                self.samples.append((time.perf_counter(), resident * self.page_mb))
                time.sleep(self.interval)

    def stop(self) -> None:
        self.running = False
        self.join()

    def peaks(self, phases: list[tuple[str, float, float]], start: float, end: float) -> dict:
        """The highest RSS seen during each phase (by label), and during the rest."""
        found: dict[str, float] = {}
        for moment, rss in self.samples:
            if not start <= moment <= end:
                continue
            labels = [label for label, a, b in phases if a <= moment <= b] or ["other"]
            # The innermost phase: the one that started last.
            label = max(
                (p for p in phases if p[0] in labels and p[1] <= moment <= p[2]),
                key=lambda p: p[1],
                default=("other", 0, 0),
            )[0]
            found[label] = max(found.get(label, 0.0), rss)
        return found


def _instrument() -> None:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from reporting import figures, findings, records
    from reporting.checks import engine

    _timed(BaseDatabaseWrapper, "_commit", "commit")  # deferred constraints are checked here
    _timed(engine, "check_submission", "check")
    _timed(findings, "replace", "store_findings")
    _timed(records, "_participant_frame", "store_records_ssn")  # SSNs encrypted and hashed
    _timed(records, "store", "store_records")
    _timed(records, "participants_frame", "load_records")
    _timed(records, "placements_frame", "load_records")
    _timed(figures, "compute_figures", "compute_figures")


def _submission(tag: str, files: dict[str, tuple[str, bytes]], period: str):
    """A coalition with a grant and a submission in `checking` holding ``files``."""
    from django.core.files.base import ContentFile

    from bpij.models import User
    from grantees.models import Coalition, Grant, Track
    from reporting import services
    from reporting.models import ReportingPeriod, Submission, SubmissionState, Upload

    user = User.objects.create_user(email=f"bench-{tag}@example.org")
    coalition = Coalition.objects.create(
        name=f"Benchmark coalition {tag}",
        slug=f"bench-{tag}",
        lead_organization="Benchmark College",
        states_served=["CA"],
        sectors=["renewable_energy"],
        track=Track.DEVELOPMENT,
    )
    grant = Grant.objects.create(
        coalition=coalition,
        award_number=f"BENCH-{tag}",
        amount=Decimal("1000000.00"),
        start_date=date(2023, 10, 1),
        end_date=date(2028, 6, 30),
    )
    services.periods_ensure(grant=grant)
    reporting_period = ReportingPeriod.objects.get(grant=grant, quarter=period)
    submission = Submission.objects.create(
        coalition=coalition,
        period=reporting_period,
        version=1,
        created_by=user,
        state=SubmissionState.CHECKING,
    )
    for kind, (name, data) in files.items():
        upload = Upload(
            coalition=coalition,
            submission=submission,
            kind=kind,
            original_name=name,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=user,
        )
        upload.file.save(name, ContentFile(data), save=False)
        upload.save()
    return submission


def _delete(submission) -> None:
    """Everything ``_submission`` created, children first (most links are PROTECT)."""
    from bpij.models import User
    from grantees.models import Coalition, Grant
    from reporting.models import (
        Finding,
        ParticipantRecord,
        PlacementRecord,
        ReportingPeriod,
        Submission,
        SubmissionEvent,
        Upload,
    )

    coalition_id = submission.coalition_id
    user_id = submission.created_by_id
    for model in (ParticipantRecord, PlacementRecord, Finding, SubmissionEvent, Upload, Submission):
        model.objects.filter(coalition_id=coalition_id).delete()
    ReportingPeriod.objects.filter(coalition_id=coalition_id).delete()
    Grant.objects.filter(coalition_id=coalition_id).delete()
    Coalition.objects.filter(pk=coalition_id).delete()
    User.objects.filter(pk=user_id).delete()
    _vacuum()  # as autovacuum would between two uploads (untimed)


def _ingest(
    files: dict[str, tuple[str, bytes]], period: str, profile: str | None = None
) -> tuple[dict, dict]:
    from bpij import tenancy
    from reporting import selectors, services
    from reporting.models import Submission

    with tenancy.system_scope():
        submission = _submission(uuid.uuid4().hex[:10], files, period)
    try:
        _timings.clear()
        _phases.clear()
        sampler = _MemorySampler()
        sampler.start()
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        with tenancy.for_coalition(submission.coalition_id):
            started = time.perf_counter()
            services.submission_check(submission_id=submission.pk)
            checked = time.perf_counter()
            submission = Submission.objects.select_related("period__grant").get(pk=submission.pk)
            figures = selectors.figures_for(submission)
            done = time.perf_counter()
            # The annotated workbooks: a task of their own after the check, not the ingest.
            services.submission_annotate(submission_id=submission.pk)
            annotated = time.perf_counter()
        sampler.stop()
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        phases = [*_phases, ("figures_for", checked, done), ("annotate", done, annotated)]
        peaks = sampler.peaks(phases, started, annotated)
        parts = dict(_timings)
        parts |= {
            "submission_check": checked - started,
            "figures_for": done - checked,
            "total": done - started,
            "annotate": annotated - done,
        }
        with tenancy.for_coalition(submission.coalition_id):
            records = (submission.participants.count(), submission.placements.count())
        facts = {
            "state": submission.state,
            "errors": submission.error_count,
            "warnings": submission.warning_count,
            "participant_records": records[0],
            "placement_records": records[1],
            "a2_grant_to_date": figures["windows"]["grant_to_date"]["A-2"],
        }
        facts["peak_rss_mb_by_part"] = peaks
        return parts, facts
    finally:
        with tenancy.system_scope():
            _delete(submission)


def run(participants: str, placements: str, period: str, profile: str | None = None) -> dict:
    _setup_django()
    _instrument()
    from reporting.checks.synthetic import generate_files

    small = generate_files(200, seed=1, error_rate=0.05, period=period)
    _ingest({"participants": ("p.csv", small[0]), "placements": ("l.csv", small[1])}, period)
    files = {
        "participants": (Path(participants).name, Path(participants).read_bytes()),
        "placements": (Path(placements).name, Path(placements).read_bytes()),
    }
    parts, facts = _ingest(files, period, profile)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": parts, "facts": facts, "max_rss_mb": peak_kb / 1024}


def main(argv: list[str]) -> int:
    if argv[:1] == ["prepare"]:
        print(json.dumps(prepare()))
        return 0
    if argv[:1] == ["run"] and len(argv) in (4, 6) and argv[4:5] in ([], ["--profile"]):
        print(json.dumps(run(*argv[1:4], profile=argv[5] if len(argv) == 6 else None)))
        return 0
    sys.stderr.write(
        "usage: ingest.py prepare | ingest.py run P.csv L.csv QUARTER [--profile OUT.prof]\n"
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
