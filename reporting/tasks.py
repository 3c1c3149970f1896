from bpij import tenancy
from bpij.celery import app


@app.task(acks_late=True)
def check_submission(submission_id: int) -> None:
    """Check a submission's current files and store what they give.

    At-least-once and idempotent: the work is done only while the submission is in
    `checking` with the same files it had when the check began, and a re-run replaces
    findings and records rather than adding to them.
    """
    from reporting import services

    with tenancy.as_owner():
        services.submission_check(submission_id=submission_id)


@app.task(acks_late=True)
def rollup_period(period_id: int) -> None:
    """Recompute the period's roll-up from the version that counts, then the program's
    for that quarter. At-least-once and idempotent: a re-run replaces the rows."""
    from reporting import services

    with tenancy.as_owner():
        services.rollup_period(period_id=period_id)
