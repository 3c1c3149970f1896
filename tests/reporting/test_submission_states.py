"""The submission state machine: versions, locks, and one winner when two act at once."""

import threading
from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from bpij import tenancy
from reporting import services
from reporting.models import ReportingPeriod, Submission, SubmissionEvent, SubmissionState


@pytest.fixture(autouse=True)
def october_2025():
    """2025Q3 has ended and its report (due November 14) is not late yet."""
    with time_machine.travel("2025-10-20 10:00 -0400", tick=True):
        yield


def ready_submission(period, actor) -> Submission:
    submission = services.submission_start(period=period, actor=actor, today=date(2025, 10, 1))
    Submission.objects.filter(pk=submission.pk).update(state=SubmissionState.READY)
    submission.refresh_from_db()
    return submission


def test_every_quarter_of_the_grant_is_a_period_due_45_days_after(cast):
    services.periods_ensure(grant=cast.coalition_a.grants.get())
    periods = ReportingPeriod.objects.filter(coalition=cast.coalition_a).order_by("start_date")
    assert periods.count() == 19
    q3 = periods.get(quarter="2025Q3")
    assert (q3.start_date, q3.end_date, q3.due_date) == (
        date(2025, 7, 1), date(2025, 9, 30), date(2025, 11, 14),
    )  # fmt: skip
    services.periods_ensure(grant=cast.coalition_a.grants.get())
    assert ReportingPeriod.objects.filter(coalition=cast.coalition_a).count() == 19


def test_starting_twice_gives_the_same_open_version(cast, period_a):
    first = services.submission_start(
        period=period_a, actor=cast.reporter_a, today=date(2025, 10, 1)
    )
    again = services.submission_start(period=period_a, actor=cast.admin_a, today=date(2025, 10, 1))
    assert first.pk == again.pk
    assert (first.version, first.state) == (1, SubmissionState.DRAFT)


def test_a_viewer_cannot_start_a_report(cast, period_a):
    with pytest.raises(PermissionDenied):
        services.submission_start(period=period_a, actor=cast.viewer_a, today=date(2025, 10, 1))


def test_a_future_quarter_cannot_be_started(cast):
    services.periods_ensure(grant=cast.coalition_a.grants.get())
    future = ReportingPeriod.objects.get(coalition=cast.coalition_a, quarter="2027Q1")
    with pytest.raises(ValidationError, match="has not started yet"):
        services.submission_start(period=future, actor=cast.admin_a, today=date(2025, 10, 1))


def test_certifying_locks_the_version_and_records_who_and_when(cast, period_a):
    submission = ready_submission(period_a, cast.admin_a)
    services.submission_certify(
        submission=submission, actor=cast.admin_a, name="Ada Admin", title="Director", agreed=True
    )
    submission.refresh_from_db()
    assert submission.state == SubmissionState.SUBMITTED
    assert (submission.certified_by, submission.certifier_name) == (cast.admin_a, "Ada Admin")
    assert submission.certified_at is not None
    assert submission.attestation == services.ATTESTATION
    assert SubmissionEvent.objects.filter(submission=submission, kind="certified").exists()
    with pytest.raises(ValidationError, match="locked"):
        services.submission_save_narrative(
            submission=submission, actor=cast.admin_a, progress="x", challenges="", ta_needs=""
        )


@pytest.mark.parametrize("who", ["reporter_a", "viewer_a"])
def test_only_a_coalition_administrator_certifies(cast, period_a, who):
    submission = ready_submission(period_a, cast.admin_a)
    with pytest.raises(PermissionDenied):
        services.submission_certify(
            submission=submission, actor=cast[who], name="Someone", title="", agreed=True
        )


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (SubmissionState.NEEDS_FIXES, "only a version with zero errors"),
        (SubmissionState.CHECKING, "still being checked"),
        (SubmissionState.DRAFT, "Upload the participant"),
    ],
)
def test_a_version_with_errors_or_unchecked_cannot_be_certified(cast, period_a, state, reason):
    submission = services.submission_start(
        period=period_a, actor=cast.admin_a, today=date(2025, 10, 1)
    )
    Submission.objects.filter(pk=submission.pk).update(state=state, error_count=3)
    submission.refresh_from_db()
    with pytest.raises(ValidationError, match=reason):
        services.submission_certify(
            submission=submission, actor=cast.admin_a, name="Ada", title="", agreed=True
        )


def test_the_attestation_must_be_ticked_and_signed(cast, period_a):
    submission = ready_submission(period_a, cast.admin_a)
    with pytest.raises(ValidationError, match="Tick"):
        services.submission_certify(
            submission=submission, actor=cast.admin_a, name="Ada", title="", agreed=False
        )
    with pytest.raises(ValidationError, match="full name"):
        services.submission_certify(
            submission=submission, actor=cast.admin_a, name="  ", title="", agreed=True
        )


def test_a_returned_version_is_followed_by_a_new_draft_and_kept_unchanged(cast, period_a):
    first = ready_submission(period_a, cast.admin_a)
    first.narrative_progress = "Enrolled 40."
    first.save(update_fields=["narrative_progress"])
    services.submission_certify(
        submission=first, actor=cast.admin_a, name="Ada", title="", agreed=True
    )
    with pytest.raises(ValidationError, match="returns it"):
        services.submission_start(period=period_a, actor=cast.admin_a, today=date(2025, 10, 2))
    Submission.objects.filter(pk=first.pk).update(state=SubmissionState.RETURNED)
    second = services.submission_start(period=period_a, actor=cast.admin_a, today=date(2025, 10, 2))
    assert (second.version, second.previous_id) == (2, first.pk)
    assert second.narrative_progress == "Enrolled 40."
    first.refresh_from_db()
    assert (first.state, first.certifier_name) == (SubmissionState.RETURNED, "Ada")


@pytest.mark.django_db(transaction=True)
def test_two_administrators_certifying_at_once_exactly_one_wins(cast):
    services.periods_ensure(grant=cast.coalition_a.grants.get())
    period = ReportingPeriod.objects.get(coalition=cast.coalition_a, quarter="2025Q3")
    second_admin = cast.reporter_a
    second_admin.memberships.update(role="grantee_admin")
    submission = ready_submission(period, cast.admin_a)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def certify(actor, name):
        try:
            barrier.wait(5)
            # Each thread is a request of its own: its own connection, its actor's scope.
            actor = type(actor).objects.get(pk=actor.pk)
            with tenancy.database_scope(tenancy.scope_for(actor)):
                services.submission_certify(
                    submission=Submission.objects.get(pk=submission.pk),
                    actor=actor,
                    name=name,
                    title="",
                    agreed=True,
                )
            outcomes.append("won")
        except ValidationError:
            outcomes.append("lost")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=certify, args=(cast.admin_a, "Ada")),
        threading.Thread(target=certify, args=(second_admin, "Bea")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["lost", "won"]
    assert SubmissionEvent.objects.filter(submission=submission, kind="certified").count() == 1
    submission.refresh_from_db()
    assert submission.state == SubmissionState.SUBMITTED
