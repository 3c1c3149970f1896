"""The demo's reporting history for ``manage.py seed_demo``: every demo coalition's
quarterly reports from the grant's first quarter (2023Q4) to the latest closed quarter,
in the states a real program is in on an ordinary day.

How it is made, and why it can be trusted:

- Each coalition gets a fixed population of invented participants with a whole life
  history (entry, training, credential, exit, placements, outcomes after exit). A
  quarter's files are that population as known at the quarter's end: everyone enrolled
  so far, with only what had happened by then — so the files are cumulative, as the
  contract wants, and the same person keeps the same id and entry date quarter after
  quarter.
- Every version is written through the services people use (``timeline.Writer``): the
  reporter starts it and uploads the files as CSV, the checks run as the worker runs
  them (``services.submission_check``), the administrator certifies, the coach reviews,
  comments and returns, the program officer accepts. Each step happens at its moment of
  the past (the services' clock set with time-machine), on dates around each quarter's
  due date, never after now; so states, timelines, findings, records and audit entries
  are the hub's own. Files are clean except where a version is broken on purpose
  (``needs_fixes``), so every accepted number comes from rows that passed the checks.
- Nothing is sent while the demo writes (``recovery.held``): no e-mail about a past that
  is over; the roll-ups are computed once at the end. The audit log's times are the
  database's own: they say when the demo was loaded.
- Coalitions differ: most are on pace with their targets, a few ahead, and six (the
  ``AT_RISK`` ones, which the coaching demo flags) are well behind and often late.

``seed()`` is idempotent: a period that already has a version is left alone, and a
roll-up is computed only where one is missing. The people are made in ``population``,
the versions written in ``timeline``; which state each period ends in is decided here.
"""

import random
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bpij.models import StaffRole, User
from grantees import demo as grantees_demo
from grantees.calendar import Quarter
from grantees.models import CoachAssignment, Coalition, Measure, Target
from reporting import services
from reporting.checks import synthetic
from reporting.demo import population, timeline
from reporting.demo.timeline import SeedReport
from reporting.models import (
    ReportingPeriod,
    ReturnReason,
    Rollup,
    Submission,
    SubmissionEvent,
    SubmissionState,
)
from reporting.services import recovery

S = SubmissionState

# How each coalition's latest closed quarter stands today: a board with something in
# every column. Coach 1 (coach1@jff.example, coalitions 0, 6, 12, 18, 24, 30 round-robin)
# has one of nearly every kind, so the walk-through needs a single sign-in.
LATEST: dict[str, str] = {
    "cascadia-clean-energy": S.SUBMITTED,
    "willamette-broadband": S.ACCEPTED,
    "golden-state-transit": S.IN_REVIEW,
    "sierra-solar": S.SUBMITTED,
    "high-desert-grid": S.NEEDS_FIXES,
    "sonoran-infrastructure": S.ACCEPTED,
    "rio-grande-energy": S.NEEDS_FIXES,
    "front-range-fiber": S.SUBMITTED,
    "wasatch-transit": S.ACCEPTED,
    "big-sky-broadband": "not_started",
    "northern-plains-wind": S.IN_REVIEW,
    "north-star-transit": S.RETURNED,
    "gulf-coast-energy": S.IN_REVIEW,
    "lone-star-broadband": S.READY,
    "red-river-roads": S.DRAFT,
    "bayou-grid": S.ACCEPTED,
    "prairie-state-ev": S.SUBMITTED,
    "great-lakes-fiber": S.ACCEPTED,
    "motor-city-mobility": "not_started",
    "buckeye-solar": S.IN_REVIEW,
    "keystone-infrastructure": S.SUBMITTED,
    "allegheny-energy": S.RETURNED,
    "empire-state-offshore": S.ACCEPTED,
    "hudson-valley-broadband": S.NEEDS_FIXES,
    "bay-state-transit": S.ACCEPTED,
    "peach-state-ev": S.SUBMITTED,
    "piedmont-broadband": S.IN_REVIEW,
    "carolina-clean-energy": S.READY,
    "old-dominion-offshore": S.ACCEPTED,
    "capital-region-transit": S.IN_REVIEW,
    "potomac-digital": S.RETURNED,
    "tennessee-valley-grid": S.SUBMITTED,
    "cumberland-broadband": S.DRAFT,
    "bluegrass-roads": "not_started",
}
# Well behind their targets, often late, with an unfinished or missing latest report.
AT_RISK = frozenset(
    {
        "high-desert-grid",
        "rio-grande-energy",
        "big-sky-broadband",
        "red-river-roads",
        "motor-city-mobility",
        "bluegrass-roads",
    }
)
# Ahead of their targets.
AHEAD = frozenset(
    {"cascadia-clean-energy", "gulf-coast-energy", "empire-state-offshore", "bayou-grid"}
)
# Reports of the quarter before the latest that JFF has not finished reviewing.
STILL_WITH_JFF: dict[str, str] = {
    "piedmont-broadband": S.IN_REVIEW,
    "capital-region-transit": S.SUBMITTED,
}
# Share of earlier quarters returned once before being accepted.
RETURN_RATE = 0.15
# Share of versions whose first participant file had mistakes the checks caught.
FIRST_TRY_RATE = 0.4

__all__ = ["AHEAD", "AT_RISK", "LATEST", "SeedReport", "latest_closed_quarter", "seed"]


def _files(rows: list[dict], jobs: list[dict]) -> timeline.Files:
    people = synthetic._csv(synthetic.PARTICIPANT_HEADER, rows)
    # With nobody placed yet a grantee sends no placement file (it is optional).
    placements = synthetic._csv(synthetic.PLACEMENT_HEADER, jobs) if jobs else None
    return timeline.Files(people, placements)


def latest_closed_quarter(today: date) -> Quarter:
    return Quarter.containing(today) - 1


def _cast(
    coalition: Coalition, users: dict[str, User], coaches: dict[int, User], officer: User
) -> timeline.Cast:
    return timeline.Cast(
        admin=users[grantees_demo.member_email("admin", coalition.slug)],
        reporter=users[grantees_demo.member_email("reporter", coalition.slug)],
        coach=coaches.get(coalition.pk, officer),
        officer=officer,
    )


def _plan(slug: str, quarter: Quarter, latest: Quarter, rng: random.Random) -> list[tuple]:
    """The versions of one period: (final state, files, reasons)."""
    if quarter == latest:
        state = LATEST.get(slug, S.ACCEPTED)
    elif quarter == latest - 1 and slug in STILL_WITH_JFF:
        state = STILL_WITH_JFF[slug]
    else:
        state = "returned_then_accepted" if rng.random() < RETURN_RATE else S.ACCEPTED
    if state == "returned_then_accepted" or (
        state == S.ACCEPTED and slug in AT_RISK and rng.random() < 0.3
    ):
        reason = rng.choice(
            [
                ReturnReason.NARRATIVE,
                ReturnReason.DATA_QUALITY,
                ReturnReason.TARGETS if slug in AT_RISK else ReturnReason.FIGURES,
            ]
        )
        files = "short" if reason == ReturnReason.DATA_QUALITY else "clean"
        return [(S.RETURNED, files, [reason]), (S.ACCEPTED, "clean", None)]
    if state == "not_started":
        return []
    if state == S.DRAFT:
        return [(S.DRAFT, None, None)]
    if state == S.NEEDS_FIXES:
        return [(S.NEEDS_FIXES, "broken", None)]
    if state == S.RETURNED:
        reason = ReturnReason.TARGETS if slug in AT_RISK else ReturnReason.NARRATIVE
        return [(S.RETURNED, "clean", [reason])]
    return [(state, "clean", None)]


def seed(
    *,
    participants: int | None = None,
    slugs: Iterable[str] | None = None,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Fill every demo coalition's quarters up to the latest closed one.

    ``participants``: people served by an average coalition at the latest closed
    quarter (default: what its targets call for by now, times its pace). ``slugs``
    limits the coalitions (tests).
    """
    today = today or timezone.localdate()
    latest = latest_closed_quarter(today)
    report = SeedReport()
    wanted = (
        list(slugs) if slugs is not None else [s["slug"] for s in grantees_demo.DEMO_COALITIONS]
    )
    coalitions = {c.slug: c for c in Coalition.objects.filter(slug__in=wanted)}
    numbers = {s["slug"]: i for i, s in enumerate(grantees_demo.DEMO_COALITIONS)}
    emails = [
        grantees_demo.member_email(p, slug) for slug in coalitions for p in ("admin", "reporter")
    ]
    users = {u.email: u for u in User.objects.filter(email__in=emails)}
    officer = (
        User.objects.filter(email="officer@jff.example").first()
        or User.objects.filter(staff_role=StaffRole.PROGRAM_OFFICER).order_by("pk").first()
    )
    if officer is None:
        raise RuntimeError("The demo needs a program officer: run grantees.demo.seed first.")
    coaches = {
        a.coalition_id: a.coach
        for a in CoachAssignment.objects.filter(coalition__in=coalitions.values())
        .select_related("coach")
        .order_by("pk")
    }
    served_targets = dict(
        Target.objects.filter(
            coalition__in=coalitions.values(), measure=Measure.PARTICIPANTS_SERVED
        ).values_list("coalition_id", "value")
    )
    now = timezone.now()
    counted: list[int] = []
    for slug in wanted:
        coalition = coalitions.get(slug)
        if coalition is None:
            continue
        periods = {
            p.quarter: p
            for p in ReportingPeriod.objects.filter(coalition=coalition, end_date__lte=latest.end)
            .select_related("grant")
            .order_by("start_date")
        }
        started = set(
            Submission.objects.filter(period__in=periods.values()).values_list(
                "period__quarter", flat=True
            )
        )
        todo = [q for q in periods if q not in started]
        if not todo:
            continue
        grant = next(iter(periods.values())).grant
        elapsed = (latest.end - grant.start_date).days / (grant.end_date - grant.start_date).days
        pace = population.pace(
            slug,
            served_targets.get(coalition.pk, 400),
            elapsed,
            participants,
            behind=slug in AT_RISK,
            ahead=slug in AHEAD,
        )
        people = population.people(coalition, numbers.get(slug, 0), pace, latest.end)
        cast = _cast(coalition, users, coaches, officer)
        rng = random.Random(f"states:{slug}")
        writer = timeline.Writer(coalition, cast, timeline.Clock(rng, now), rng, report)
        filled = 0
        with transaction.atomic(), recovery.held():
            for code, period in periods.items():
                quarter = Quarter.parse(code)
                plan = _plan(slug, quarter, latest, rng)
                rows, jobs = population.files(people, quarter)
                if code in todo and plan:
                    _period(writer, period, quarter, plan, rows, jobs, slug)
                    report.periods += 1
                    filled += 1
                    if any(state in (S.SUBMITTED, S.IN_REVIEW, S.ACCEPTED) for state, _, _ in plan):
                        counted.append(period.pk)
        if progress:
            progress(f"{slug}: {filled} quarters filled, {pace.served:,} participants by {latest}")
    report.rollups, report.program_quarters = _rollups(counted, latest, bool(report.versions))
    return report


def _period(
    writer: timeline.Writer,
    period: ReportingPeriod,
    quarter: Quarter,
    plan: list[tuple],
    rows: list[dict],
    jobs: list[dict],
    slug: str,
) -> None:
    rng, clock = writer.rng, writer.clock
    late = slug in AT_RISK and rng.random() < 0.5
    due = period.due_date
    begin = quarter.end + timedelta(days=rng.randint(6, 22) + (12 if late else 0))
    submit_on = (
        due + timedelta(days=rng.randint(2, 24))
        if late
        else due - timedelta(days=rng.randint(0, 12))
    )
    started = clock.at(min(begin, submit_on - timedelta(days=3)))
    behind = slug in AT_RISK
    narrative = timeline.narrative(rows, jobs, quarter, behind)
    previous = None
    at = started
    clean: timeline.Files | None = None
    for index, (final, kind, reasons) in enumerate(plan):
        files = None
        if kind == "clean":
            clean = files = clean or _files(rows, jobs)
        elif kind == "short":
            # Returned for data quality: the first version missed the quarter's newest
            # placements; the second brings them.
            start = f"{quarter.start:%Y%m%d}"
            recent = [j for j in jobs if j["start_date"] >= start]
            dropped = {id(j) for j in recent[: max(1, len(recent) // 2)]}
            files = _files(rows, [j for j in jobs if id(j) not in dropped])
        elif kind == "broken":
            broken_rows, broken_jobs = population.broken(rows, jobs, f"broken:{slug}:{quarter}")
            files = _files(broken_rows, broken_jobs)
        if index > 0:
            at = clock.at(at.date() + timedelta(days=rng.randint(1, 4)), earliest=at)
            submit_on = at.date() + timedelta(days=rng.randint(1, 5))
        # Most grantees need a try or two: a first participant file with mistakes,
        # checked and replaced, before the version is clean.
        first_try = None
        if kind == "clean" and index == 0 and rng.random() < FIRST_TRY_RATE:
            tried_rows, tried_jobs = population.broken(rows, jobs, f"first:{slug}:{quarter}")
            first_try = _files(tried_rows, tried_jobs)
        text = narrative
        if reasons and ReturnReason.NARRATIVE in reasons:
            text = (narrative[0], "", narrative[2])
        previous, at = writer.version(
            period,
            final=final,
            files=files,
            started=at,
            previous=previous,
            submit_on=submit_on,
            reasons=reasons,
            narrative=text,
            first_try=first_try,
        )


def _rollups(counted: list[int], latest: Quarter, changed: bool) -> tuple[int, int]:
    """Roll up the periods whose counted version has none yet, then the program for
    every quarter (when anything was added): what the roll-up tasks do on submission."""
    missing = list(
        ReportingPeriod.objects.filter(
            submissions__state__in=(S.SUBMITTED, S.IN_REVIEW, S.ACCEPTED),
            end_date__lte=latest.end,
        )
        .exclude(pk__in=Rollup.objects.values("period_id"))
        .values_list("pk", flat=True)
        .distinct()
    )
    started = timezone.now()
    todo = sorted(set(missing) | set(counted))
    for pk in todo:
        services.rollup_period(period_id=pk, program=False)
    _backdate_rollup_events(todo, since=started)
    quarters = 0
    if changed or missing:
        first = Quarter.containing(grantees_demo.PERIOD_START)
        for index in range(latest.index - first.index + 1):
            services.rollup_program(quarter=str(first + index))
            quarters += 1
    return len(todo), quarters


def _backdate_rollup_events(period_ids: list[int], *, since: datetime) -> None:
    """The roll-up job runs minutes after a version is sent or accepted; the seed runs
    them all today, so their timeline entries are moved to when the job would have run."""
    events = list(
        SubmissionEvent.objects.filter(
            kind="rolled_up", submission__period_id__in=period_ids, at__gte=since
        ).select_related("submission")
    )
    for event in events:
        version = event.submission
        last = version.accepted_at or version.review_started_at or version.submitted_at
        if last is not None:
            event.at = last + timedelta(minutes=2)
    SubmissionEvent.objects.bulk_update(events, ["at"], batch_size=1000)
