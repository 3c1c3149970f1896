"""Roll-ups: the contract's figures per coalition and period, and program-wide.

Dashboards read nothing but these tables. A period's roll-up is computed from the
version that counts (the latest version sent to JFF and not returned) whenever a version
is submitted, returned or accepted; the program's roll-up for the quarter follows. Both
replace what was there, so running them again never counts anything twice.

Program-wide figures are combined from the coalitions' own figures, never averaged:
counts are summed, rates are recomputed from the summed numerators and denominators, and
the two medians (D-3 hourly wage, E-2 earnings) are taken again over the underlying
values of every coalition, read back from the records of the versions that count. The
result equals what the contract's figures give over all the records at once
(tests/reporting/test_rollups.py proves it), while each coalition keeps its own grant
start for Grant to Date.
"""

from collections import defaultdict
from datetime import date

import polars as pl
from django.db import connection, transaction
from django.db.models import Count, Min, Sum
from django.utils import timezone

from grantees.calendar import Quarter
from grantees.models import Coalition
from reporting import catalogue, figures, pagecache, records, timeliness
from reporting.models import (
    SENT_STATES,
    ProgramRollup,
    ReportingPeriod,
    Rollup,
    Submission,
    SubmissionEvent,
    SubmissionState,
    Upload,
    UploadStatus,
)
from reporting.services import recovery

# A version sent to JFF counts until it is returned; a returned version never does.
COUNTED_STATES = (SubmissionState.SUBMITTED, SubmissionState.IN_REVIEW, SubmissionState.ACCEPTED)
PROGRAM = "program"
# pg_advisory_xact_lock(namespace, quarter index): one program roll-up of a quarter at a
# time, so two coalitions submitting together cannot interleave delete and insert.
_PROGRAM_LOCK = 4_104_020


def counted_version(period: ReportingPeriod) -> Submission | None:
    """The version whose figures count for the period, or None."""
    latest = (
        Submission.objects.filter(period=period, state__in=SENT_STATES).order_by("-version").first()
    )
    if latest is None or latest.state not in COUNTED_STATES:
        return None
    return latest


def rollup_period(*, period_id: int, program: bool = True) -> Rollup | None:
    """Recompute the period's roll-up from the version that counts (or delete it when
    none counts), then queue the program's roll-up of that quarter unless ``program`` is
    False (the rebuild command and the demo seed do every quarter once at the end)."""
    with transaction.atomic():
        # Locking the period makes two runs for it (a retried task, say) take turns.
        period = (
            ReportingPeriod.objects.select_for_update(of=("self",))
            .select_related("grant")
            .get(pk=period_id)
        )
        # What was owed up to now is paid by this run (a certification still being
        # committed holds the period's row, so the lock above waited for it).
        since = timezone.now()
        rollup = _rollup_period(period)
        # The dashboards' cached figures are out of date (reporting.pagecache).
        pagecache.invalidate(pagecache.FIGURES)
        recovery.rollup_paid(period.pk, since=since)
        if program:
            recovery.send_on_commit("rollup_program", period.quarter)
    return rollup


def _rollup_period(period: ReportingPeriod) -> Rollup | None:
    version = counted_version(period)
    if version is None:
        Rollup.objects.filter(period=period).delete()
        return None
    result = figures.compute_figures(
        records.participants_frame(version),
        records.placements_frame(version),
        report_quarter=period.as_quarter,
        grant_start=period.grant.start_date,
    )
    # Data quality over every file checked for the period, whichever version it was
    # sent with: it is how much checking the quarter took, not only the final result.
    quality = Upload.objects.filter(
        submission__period=period, status__in=(UploadStatus.CHECKED, UploadStatus.REFUSED)
    ).aggregate(rows=Sum("data_rows"), errors=Sum("error_count"), warnings=Sum("warning_count"))
    sent = Submission.objects.filter(period=period, submitted_at__isnull=False).aggregate(
        first=Min("submitted_at"), versions=Count("id")
    )
    counted = {
        p.kind: p.kept_rows
        for p in Upload.objects.filter(submission=version, is_current=True).only(
            "kind", "kept_rows"
        )
    }
    accepted = version.state == SubmissionState.ACCEPTED
    before = Rollup.objects.filter(period=period).values_list("submission_id", "accepted").first()
    rollup, _ = Rollup.objects.update_or_create(
        period=period,
        defaults={
            "coalition_id": period.coalition_id,
            "submission": version,
            "quarter": period.quarter,
            "accepted": accepted,
            "figures": result,
            "participant_rows": counted.get("participants", 0),
            "placement_rows": counted.get("placements", 0),
            "rows_checked": quality["rows"] or 0,
            "errors_found": quality["errors"] or 0,
            "warnings_found": quality["warnings"] or 0,
            "versions": sent["versions"] or 1,
            "due_date": period.due_date,
            # On time means the coalition first sent the quarter's report by its due
            # date; a later corrected version does not make it late.
            "submitted_at": sent["first"] or version.submitted_at or timezone.now(),
            "computed_at": timezone.now(),
        },
    )
    if before != (version.pk, accepted):
        # Once per version and state in the timeline: a plain re-run adds nothing.
        SubmissionEvent.objects.create(
            coalition_id=version.coalition_id,
            submission=version,
            kind="rolled_up",
            note=(
                f"Figures rolled up for the dashboards ({rollup.participant_rows:,} "
                f"participants{', accepted' if accepted else ''})."
            ),
        )
    return rollup


# -- Program-wide ---------------------------------------------------------------------


def segments_of(coalition: Coalition) -> list[str]:
    """The segments a coalition counts in: the program, each of its sectors and states
    (a coalition with several counts in each), and its track."""
    return [
        PROGRAM,
        *(f"sector:{sector}" for sector in coalition.sectors),
        f"track:{coalition.track}",
        *(f"state:{state}" for state in coalition.states_served),
    ]


def median_values(
    participants: pl.DataFrame,
    placements: pl.DataFrame,
    *,
    report_quarter: Quarter,
    grant_start: date,
) -> dict[str, dict[str, list[int]]]:
    """The values the two medians are taken over, per window: D-3 the hourly wages (in
    cents) of kept placements starting in the window, E-2 the second-quarter earnings
    above $0 of the E-1 numerator (DATA-CONTRACT.md §4 E). Pure: the same readings as
    ``figures.compute_figures``, which the tests hold it to."""
    kept = participants.lazy().select("participant_id")
    jobs = placements.lazy().join(kept, on="participant_id", how="semi")
    wanted = []
    for window in figures.windows(report_quarter, grant_start):
        started = pl.col("start_date").is_between(window.first, window.last, closed="both")
        wanted.append(
            jobs.filter(started.fill_null(False))
            .select(pl.col("hourly_wage_cents").drop_nulls().implode().alias("values"))
            .with_columns(pl.lit(f"{window.name}/D-3").alias("name"))
        )
        wanted.append(
            participants.lazy()
            .filter(figures.earnings_counted(window.name, report_quarter))
            .select(pl.col("wages_q2_after_exit").cast(pl.Int64).implode())
            .rename({"wages_q2_after_exit": "values"})
            .with_columns(pl.lit(f"{window.name}/E-2").alias("name"))
        )
    values: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for frame in pl.collect_all(wanted):
        name = frame.get_column("name")[0]
        window_name, key = name.split("/")
        values[window_name][key] = [int(v) for v in frame.get_column("values")[0]]
    return dict(values)


def rollup_program(*, quarter: str) -> list[ProgramRollup]:
    """Recompute the quarter's program-wide roll-up for every segment from the
    coalitions' period roll-ups, replacing the quarter's rows in one transaction."""
    report_quarter = Quarter.parse(quarter)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [_PROGRAM_LOCK, report_quarter.index]
                )
        rows = _program_rows(report_quarter)
        ProgramRollup.objects.filter(quarter=str(report_quarter)).delete()
        created = ProgramRollup.objects.bulk_create(rows)
        pagecache.invalidate(pagecache.FIGURES)
        return created


def accepted_program_rows(*, quarter: str) -> list[ProgramRollup]:
    """The quarter's program-wide roll-up of the coalitions whose report is **accepted**
    (not stored): the summary made for DOL counts accepted reports only, combined exactly
    as the stored roll-up combines every report that counts (docs/exports.md)."""
    return _program_rows(Quarter.parse(quarter), accepted_only=True)


def _program_rows(report_quarter: Quarter, *, accepted_only: bool = False) -> list[ProgramRollup]:
    quarter = str(report_quarter)
    periods = ReportingPeriod.objects.filter(quarter=quarter).select_related("coalition", "grant")
    members: dict[str, list[int]] = defaultdict(list)
    for period in periods:
        for segment in segments_of(period.coalition):
            members[segment].append(period.coalition_id)
    parts: dict[int, catalogue.Part] = {}
    rollups: dict[int, Rollup] = {}
    counted = Rollup.objects.filter(quarter=quarter)
    if accepted_only:
        counted = counted.filter(accepted=True)
    for rollup in counted.select_related("submission", "period__grant"):
        version = rollup.submission
        parts[rollup.coalition_id] = catalogue.Part(
            windows=rollup.figures["windows"],
            medians=median_values(
                records.participants_frame(version),
                records.placements_frame(version),
                report_quarter=report_quarter,
                grant_start=rollup.period.grant.start_date,
            ),
        )
        rollups[rollup.coalition_id] = rollup
    # Timeliness is about every report due, not only those that count now: a report
    # certified on time and then returned was still sent on time (reporting.timeliness).
    first_certified = dict(
        Submission.objects.filter(
            period__quarter=quarter, state__in=SENT_STATES, submitted_at__isnull=False
        )
        .order_by()
        .values("period__coalition_id")
        .annotate(first=Min("submitted_at"))
        .values_list("period__coalition_id", "first")
    )
    due = {period.coalition_id: period.due_date for period in periods}
    now = timezone.now()
    out = []
    for segment, coalition_ids in sorted(members.items()):
        reported = [rollups[c] for c in coalition_ids if c in rollups]
        on_time = timeliness.count((first_certified.get(c), due[c]) for c in coalition_ids)
        out.append(
            ProgramRollup(
                quarter=quarter,
                segment=segment,
                figures=catalogue.combine(
                    [parts[r.coalition_id] for r in reported], period=quarter
                ),
                coalitions_reported=len(reported),
                coalitions_total=len(coalition_ids),
                participant_rows=sum(r.participant_rows for r in reported),
                rows_checked=sum(r.rows_checked for r in reported),
                errors_found=sum(r.errors_found for r in reported),
                warnings_found=sum(r.warnings_found for r in reported),
                submitted_on_time=on_time.on_time,
                computed_at=now,
            )
        )
    return out


def rollup_rebuild(
    *, quarter: str | None = None, coalition_slug: str | None = None
) -> tuple[int, list[str]]:
    """Recompute every period roll-up (of one quarter, one coalition, or all) and then
    the program roll-ups of the quarters touched. Returns (periods, quarters)."""
    periods = ReportingPeriod.objects.all()
    if quarter:
        periods = periods.filter(quarter=str(Quarter.parse(quarter)))
    if coalition_slug:
        periods = periods.filter(coalition__slug=coalition_slug)
    # Only periods with a version sent, or a roll-up to remove, can change.
    ids = list(
        periods.filter(submissions__state__in=SENT_STATES)
        .values_list("pk", flat=True)
        .union(periods.filter(rollup__isnull=False).values_list("pk", flat=True))
    )
    for period_id in ids:
        rollup_period(period_id=period_id, program=False)
    quarters = sorted(
        set(ReportingPeriod.objects.filter(pk__in=ids).values_list("quarter", flat=True))
        | ({str(Quarter.parse(quarter))} if quarter else set())
    )
    for each in quarters:
        rollup_program(quarter=each)
    return len(ids), quarters
