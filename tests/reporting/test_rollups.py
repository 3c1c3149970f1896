"""Roll-ups: a period's figures from the version that counts, replaced on every run, and
program-wide figures derived correctly — counts summed, rates from summed numerators and
denominators, medians from the underlying values (never averaged)."""

from datetime import UTC, date, datetime

import polars as pl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from grantees.calendar import Quarter
from reporting import catalogue, figures, records, selectors, services
from reporting.checks import engine, synthetic
from reporting.models import (
    ProgramRollup,
    Rollup,
    Submission,
    SubmissionEvent,
    SubmissionState,
    Upload,
)
from reporting.services import rollups
from tests import builders, factories
from tests.reporting.test_figures import jobs, people

RQ = Quarter.parse("2025Q3")
GRANT_START = date(2023, 10, 1)
CQ, R4, GTD = figures.WINDOW_NAMES


def part(participants: pl.DataFrame, placements: pl.DataFrame) -> catalogue.Part:
    result = figures.compute_figures(
        participants, placements, report_quarter=RQ, grant_start=GRANT_START
    )
    return catalogue.Part(
        windows=result["windows"],
        medians=rollups.median_values(
            participants, placements, report_quarter=RQ, grant_start=GRANT_START
        ),
    )


# -- Hand-computed program arithmetic (no database) -----------------------------------

# Coalition A: two people placed this quarter at $10 and $20 an hour; both exited in
# 2024Q3 (the E-1/E-2 cohort of 2025Q3, four quarters back) and were employed with
# $8,000 and $9,000.
COALITION_A = (
    people(
        {"exit_date": "20240815", "employed_q2_after_exit": "1", "wages_q2_after_exit": 8000},
        {"exit_date": "20240901", "employed_q2_after_exit": "1", "wages_q2_after_exit": 9000},
    ),
    jobs(
        {"participant_id": "P2", "start_date": "20250815", "hourly_wage_cents": 1000},
        {"participant_id": "P3", "start_date": "20250820", "hourly_wage_cents": 2000},
    ),
)
# Coalition B: one person placed at $30; five 2024Q3 exiters: one employed ($4,000),
# one employed with $0 reported (in E-1, not in E-2's median), two not employed and one
# not yet known (in neither). Its ids are the same as A's: they must not merge.
COALITION_B = (
    people(
        {"exit_date": "20240710", "employed_q2_after_exit": "1", "wages_q2_after_exit": 4000},
        {"exit_date": "20240711", "employed_q2_after_exit": "0", "wages_q2_after_exit": 0},
        {"exit_date": "20240712", "employed_q2_after_exit": "0"},
        {"exit_date": "20240713", "employed_q2_after_exit": "1", "wages_q2_after_exit": 0},
        {"exit_date": "20240714", "employed_q2_after_exit": "9"},
    ),
    jobs({"participant_id": "P2", "start_date": "20250810", "hourly_wage_cents": 3000}),
)


def test_program_medians_are_taken_over_every_value_not_averaged_across_coalitions():
    a, b = part(*COALITION_A), part(*COALITION_B)
    assert (a.windows[CQ]["D-3"], b.windows[CQ]["D-3"]) == ("15.00", "30.00")
    program = catalogue.combine([a, b], period="2025Q3")["windows"][CQ]
    # Wages 10, 20 and 30: the median is 20.00, not the mean of 15.00 and 30.00.
    assert program["D-3"] == "20.00"
    # Earnings 8,000 and 9,000 in A, 4,000 in B (its $0 is no earnings): 8,000, not the
    # mean of 8,500 and 4,000.
    assert (a.windows[CQ]["E-2"], b.windows[CQ]["E-2"]) == (8500, 4000)
    assert program["E-2"] == 8000


def test_program_rates_come_from_summed_numerators_and_denominators():
    a, b = part(*COALITION_A), part(*COALITION_B)
    assert a.windows[CQ]["E-1"]["rate"] == 100.0
    assert b.windows[CQ]["E-1"] == {"numerator": 2, "denominator": 4, "rate": 50.0}
    program = catalogue.combine([a, b], period="2025Q3")["windows"][CQ]
    # 4 employed of 6 exiters with a known outcome: 66.7%, not the mean of 100% and 50%.
    assert program["E-1"] == {"numerator": 4, "denominator": 6, "rate": 66.7}


def test_program_counts_are_summed_even_where_coalitions_use_the_same_ids():
    program = catalogue.combine([part(*COALITION_A), part(*COALITION_B)], period="2025Q3")
    current, to_date = program["windows"][CQ], program["windows"][GTD]
    assert to_date["A-2"] == 7  # 2 + 5 participants served
    assert to_date["A-1"] == 7  # all of them exited in 2024Q3
    assert current["A-1"] == 0
    assert current["D-1"] == 3  # P2 and P3 of A, P2 of B: three people, not two ids


def test_a_program_median_of_an_even_count_is_the_half_up_mean_of_the_middle_two():
    assert catalogue.median([1000, 2001]) == 1501
    assert catalogue.median([3, 1, 2]) == 2
    assert catalogue.median([]) is None


def test_without_any_report_rates_are_not_available_and_medians_empty():
    current = catalogue.combine([], period="2025Q3")["windows"][CQ]
    assert current["A-2"] == 0
    assert current["E-1"] == {"numerator": 0, "denominator": 0, "rate": None}
    assert current["D-3"] is None
    assert current["E-2"] is None


def kept_frames(participants: int, seed: int, prefix: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    files = synthetic.generate_files(participants, seed=seed, period="2025Q3")
    result = engine.check_submission(("p.csv", files[0]), ("l.csv", files[1]), period=RQ)
    assert result.errors == 0
    assert result.placements is not None
    kept = result.participants.kept
    placements = result.placements.kept
    assert kept is not None
    assert placements is not None
    rename = pl.lit(prefix) + pl.col("participant_id")
    return (
        kept.with_columns(rename.alias("participant_id")),
        placements.with_columns(rename.alias("participant_id")),
    )


def test_combined_figures_equal_the_figures_of_all_records_taken_together():
    """The method's proof: every figure of every window of the combination equals the
    contract's figures computed over the coalitions' records concatenated (ids kept
    apart by a prefix), for coalitions that share a grant start."""
    coalitions = [kept_frames(300, seed, f"{seed}-") for seed in (11, 12, 13)]
    combined = catalogue.combine([part(*c) for c in coalitions], period="2025Q3")
    together = figures.compute_figures(
        pl.concat([c[0] for c in coalitions]),
        pl.concat([c[1] for c in coalitions]),
        report_quarter=RQ,
        grant_start=GRANT_START,
    )
    assert combined == together
    assert together["windows"][GTD]["D-3"] is not None
    assert together["windows"][GTD]["E-2"] is not None


def test_median_inputs_give_the_coalitions_own_medians():
    participants, placements = kept_frames(400, 21, "")
    own = part(participants, placements)
    for window in figures.WINDOW_NAMES:
        alone = catalogue.combine([own], period="2025Q3")["windows"][window]
        assert alone["D-3"] == own.windows[window]["D-3"]
        assert alone["E-2"] == own.windows[window]["E-2"]


# -- Period roll-ups through the real services ----------------------------------------


@pytest.fixture
def period_a(cast):
    return builders.period_of(cast.coalition_a, "2025Q3")


def test_a_submitted_version_rolls_up_the_figures_of_its_records_in_all_three_windows(
    cast, period_a
):
    version = builders.submitted_version(period_a, cast.admin_a, participants=60, seed=3)
    rollup = services.rollup_period(period_id=period_a.pk, program=False)
    assert rollup is not None
    assert rollup.submission == version
    assert rollup.figures == selectors.figures_for(version)
    assert set(rollup.figures["windows"]) == set(figures.WINDOW_NAMES)
    assert rollup.figures["windows"][GTD]["A-2"] >= rollup.figures["windows"][CQ]["A-2"] > 0
    assert rollup.participant_rows == records.participants_frame(version).height
    assert rollup.accepted is False
    assert rollup.quarter == "2025Q3"
    assert rollup.due_date == period_a.due_date


def test_data_quality_counts_every_file_checked_for_the_period(cast, period_a):
    first = builders.checked_version(
        period_a, cast.admin_a, participants=50, seed=4, error_rate=0.2
    )
    assert first.state == SubmissionState.NEEDS_FIXES
    fixed = builders.submitted_version(period_a, cast.admin_a, participants=50, seed=4)
    assert fixed.pk == first.pk  # the fixed files replace the bad ones in the same version
    uploads = list(Upload.objects.filter(submission__period=period_a))
    assert len(uploads) == 4  # two bad files, two fixed
    rollup = services.rollup_period(period_id=period_a.pk, program=False)
    assert rollup.rows_checked == sum(u.data_rows for u in uploads)
    assert rollup.errors_found == sum(u.error_count for u in uploads) > 0
    assert rollup.warnings_found == sum(u.warning_count for u in uploads)


def test_running_a_roll_up_again_replaces_it_and_logs_it_once(cast, period_a):
    version = builders.submitted_version(period_a, cast.admin_a, participants=30)
    first = services.rollup_period(period_id=period_a.pk, program=False)
    second = services.rollup_period(period_id=period_a.pk, program=False)
    assert Rollup.objects.filter(period=period_a).count() == 1
    assert second.pk == first.pk
    assert second.figures == first.figures
    events = SubmissionEvent.objects.filter(submission=version, kind="rolled_up")
    assert events.count() == 1


def test_acceptance_is_recorded_in_the_roll_up(cast, period_a):
    version = builders.submitted_version(period_a, cast.admin_a, participants=30)
    services.rollup_period(period_id=period_a.pk, program=False)
    Submission.objects.filter(pk=version.pk).update(state=SubmissionState.ACCEPTED)
    rollup = services.rollup_period(period_id=period_a.pk, program=False)
    assert rollup.accepted is True
    assert SubmissionEvent.objects.filter(submission=version, kind="rolled_up").count() == 2


def test_a_returned_version_no_longer_counts_and_the_next_sent_one_does(cast, period_a):
    first = builders.submitted_version(period_a, cast.admin_a, participants=30, seed=5)
    services.rollup_period(period_id=period_a.pk, program=False)
    Submission.objects.filter(pk=first.pk).update(state=SubmissionState.RETURNED)
    assert services.rollup_period(period_id=period_a.pk, program=False) is None
    assert not Rollup.objects.filter(period=period_a).exists()

    second = builders.submitted_version(period_a, cast.admin_a, participants=35, seed=6)
    assert second.version == 2
    rollup = services.rollup_period(period_id=period_a.pk, program=False)
    assert rollup.submission == second
    assert rollup.figures == selectors.figures_for(second)
    assert rollup.versions == 2
    # On time or not is decided by when the quarter's report was first sent.
    assert rollup.submitted_at == first.submitted_at


def test_a_draft_or_a_version_being_checked_counts_for_nothing(cast, period_a):
    builders.checked_version(period_a, cast.admin_a, participants=20)
    assert services.rollup_period(period_id=period_a.pk, program=False) is None
    assert not Rollup.objects.exists()


def test_certifying_queues_the_period_and_program_roll_ups(
    cast, period_a, django_capture_on_commit_callbacks
):
    version = builders.checked_version(period_a, cast.admin_a, participants=25)
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_certify(
            submission=version,
            actor=cast.admin_a,
            name="Ada Admin",
            title="",
            agreed=True,
            late_reason=builders.LATE_REASON,  # 2025Q3 is long past due
        )
    rollup = Rollup.objects.get(period=period_a)
    assert rollup.submission_id == version.pk
    program = ProgramRollup.objects.get(quarter="2025Q3", segment="program")
    assert program.coalitions_reported == 1
    assert program.figures["windows"][GTD]["A-2"] == rollup.figures["windows"][GTD]["A-2"]


# -- Program roll-ups through the real services ---------------------------------------


@pytest.fixture
def three_reports(cast):
    """Alpha (renewable energy, OR, development) and Bravo (broadband, TX, development)
    report 2025Q3; Charlie (both sectors, OR and WA, scaling) has a period but no report."""
    alpha = builders.submitted_version(
        builders.period_of(cast.coalition_a, "2025Q3"), cast.admin_a, participants=60, seed=7
    )
    bravo = builders.submitted_version(
        builders.period_of(cast.coalition_b, "2025Q3"), cast.outsider_b, participants=45, seed=8
    )
    charlie = factories.GrantFactory(
        coalition__slug="charlie",
        coalition__sectors=["renewable_energy", "broadband"],
        coalition__states_served=["OR", "WA"],
        coalition__track="scaling",
    ).coalition
    builders.period_of(charlie, "2025Q3")
    for version in (alpha, bravo):
        services.rollup_period(period_id=version.period_id, program=False)
    return alpha, bravo


def segment(name: str) -> ProgramRollup:
    return ProgramRollup.objects.get(quarter="2025Q3", segment=name)


def test_program_roll_up_sums_the_coalitions_and_recomputes_rates_and_medians(three_reports):
    alpha, bravo = three_reports
    # Alpha sent its report before the due date (Nov 14, 2025); Bravo only now, late.
    Submission.objects.filter(pk=alpha.pk).update(
        submitted_at=datetime(2025, 11, 3, 15, tzinfo=UTC)
    )
    services.rollup_period(period_id=alpha.period_id, program=False)
    services.rollup_program(quarter="2025Q3")
    program = segment("program")
    assert (program.coalitions_reported, program.coalitions_total) == (2, 3)
    a = Rollup.objects.get(submission=alpha)
    b = Rollup.objects.get(submission=bravo)
    for window in figures.WINDOW_NAMES:
        got, fa, fb = (r.figures["windows"][window] for r in (program, a, b))
        for key in ("A-1", "A-2", "A-3", "B-veteran", "C-1", "C-3", "C-4", "D-1", "D-2", "D-5"):
            assert got[key] == fa[key] + fb[key], (window, key)
        for key in figures.RATE_KEYS:
            numerator = fa[key]["numerator"] + fb[key]["numerator"]
            denominator = fa[key]["denominator"] + fb[key]["denominator"]
            assert got[key] == catalogue.rate(numerator, denominator), (window, key)
    # The medians are those of every placement of both coalitions taken together.
    wages = pl.concat([records.placements_frame(alpha), records.placements_frame(bravo)]).filter(
        pl.col("start_date") <= RQ.end
    )
    assert program.figures["windows"][GTD]["D-3"] == "{}.{:02d}".format(
        *divmod(catalogue.median(wages["hourly_wage_cents"].to_list()), 100)
    )
    assert program.participant_rows == a.participant_rows + b.participant_rows
    assert program.rows_checked == a.rows_checked + b.rows_checked
    assert program.submitted_on_time == 1


def test_segments_follow_sector_state_and_track_and_a_coalition_counts_in_each_of_its_own(
    three_reports,
):
    alpha, bravo = three_reports
    services.rollup_program(quarter="2025Q3")
    a = Rollup.objects.get(submission=alpha).figures["windows"][GTD]["A-2"]
    b = Rollup.objects.get(submission=bravo).figures["windows"][GTD]["A-2"]
    expected = {
        "program": (2, 3, a + b),
        "sector:renewable_energy": (1, 2, a),  # Alpha and Charlie, only Alpha reported
        "sector:broadband": (1, 2, b),  # Bravo and Charlie
        "state:OR": (1, 2, a),
        "state:TX": (1, 1, b),
        "state:WA": (0, 1, 0),
        "track:development": (2, 2, a + b),
        "track:scaling": (0, 1, 0),
    }
    got = {
        row.segment: (
            row.coalitions_reported,
            row.coalitions_total,
            row.figures["windows"][GTD]["A-2"],
        )
        for row in ProgramRollup.objects.filter(quarter="2025Q3")
    }
    assert got == expected


def test_running_the_program_roll_up_again_replaces_its_rows(three_reports):
    services.rollup_program(quarter="2025Q3")
    before = {r.segment: r.figures for r in ProgramRollup.objects.filter(quarter="2025Q3")}
    services.rollup_program(quarter="2025Q3")
    after = {r.segment: r.figures for r in ProgramRollup.objects.filter(quarter="2025Q3")}
    assert after == before
    assert ProgramRollup.objects.filter(quarter="2025Q3").count() == len(before)


def test_the_rollup_command_rebuilds_a_quarter(three_reports, capsys):
    Rollup.objects.all().delete()
    call_command("rollup", quarter="2025q3")
    assert Rollup.objects.filter(quarter="2025Q3").count() == 2
    assert segment("program").coalitions_reported == 2
    assert "Rolled up 2 period(s)" in capsys.readouterr().out


def test_the_rollup_command_rebuilds_one_coalition(three_reports, cast):
    Rollup.objects.all().delete()
    call_command("rollup", coalition="alpha")
    assert list(Rollup.objects.values_list("coalition__slug", flat=True)) == ["alpha"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"quarter": "2025-3"}, "'2025-3' is not a quarter: write it like 2025Q3."),
        ({"coalition": "nobody"}, "No coalition has the slug 'nobody'"),
    ],
)
def test_the_rollup_command_says_what_is_wrong_with_its_arguments(cast, options, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("rollup", **options)
