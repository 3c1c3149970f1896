"""Build reports the way grantees make them: real files through the real services.

Shared by the review, roll-up, board and reminder tests so every one of them starts from
a version that was uploaded, checked and certified, never from rows written by hand.
"""

import io
from datetime import date

from django.test import TestCase

from reporting import services
from reporting.checks import synthetic
from reporting.models import ReportingPeriod, Submission, SubmissionState


def period_of(coalition, quarter: str) -> ReportingPeriod:
    services.periods_ensure(grant=coalition.grants.get())
    return ReportingPeriod.objects.get(coalition=coalition, quarter=quarter)


def checked_version(
    period: ReportingPeriod,
    actor,
    *,
    participants: int = 40,
    seed: int = 1,
    error_rate: float = 0.0,
    files: tuple[bytes, bytes] | None = None,
) -> Submission:
    """The period's open version with synthetic files uploaded and checked (Celery runs
    eagerly in tests, so the check has finished when this returns)."""
    submission = services.submission_start(
        period=period, actor=actor, today=max(period.end_date, date(2023, 10, 2))
    )
    people, placements = files or synthetic.generate_files(
        participants, seed=seed, error_rate=error_rate, period=period.quarter
    )
    for kind, data in (("participants", people), ("placements", placements)):
        # The check is queued on commit; run it now, as a worker would after the commit.
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.upload_receive(
                submission=submission,
                kind=kind,
                stream=io.BytesIO(data),
                name=f"{kind}.csv",
                actor=actor,
            )
    submission.refresh_from_db()
    return submission


LATE_REASON = "Our data manager was on leave; the files were finished late."


def submitted_version(
    period: ReportingPeriod, admin, *, confirmed: bool = False, **kwargs
) -> Submission:
    """A version certified and submitted by a coalition administrator. The tests' quarters
    have ended, most of them long ago: like a grantee certifying late, the builder says
    why (kept only when the report is in fact late). ``confirmed`` ticks the box that
    confirms files with no activity in the quarter, or identical to the last accepted's."""
    submission = checked_version(period, admin, **kwargs)
    assert submission.state == SubmissionState.READY, submission.state
    services.submission_certify(
        submission=submission,
        actor=admin,
        name="Ada Admin",
        title="Director",
        agreed=True,
        late_reason=LATE_REASON,
        confirmed=confirmed,
    )
    submission.refresh_from_db()
    return submission
