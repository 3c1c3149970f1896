"""A version's state changes and its history: every service that moves a version
(submissions, review, recovery, retention) does it through ``transition``, one
conditional UPDATE of which exactly one of two simultaneous callers wins, and records
what happened with ``event``."""

from django.core.exceptions import ValidationError

from bpij.models import User
from reporting.models import Submission, SubmissionEvent


def event(
    submission: Submission,
    kind: str,
    *,
    actor: User | None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
) -> None:
    SubmissionEvent.objects.create(
        coalition_id=submission.coalition_id,
        submission=submission,
        actor=actor,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        note=note,
    )


def transition(
    submission: Submission,
    *,
    from_states: tuple[str, ...],
    to_state: str,
    actor: User | None,
    kind: str,
    note: str = "",
    **fields,
) -> bool:
    """Move the submission between states with one conditional UPDATE: of two people
    doing it at once, exactly one wins."""
    old_state = submission.state
    updated = Submission.objects.filter(pk=submission.pk, state__in=from_states).update(
        state=to_state, **fields
    )
    if not updated:
        return False
    submission.state = to_state
    for name, value in fields.items():
        setattr(submission, name, value)
    event(submission, kind, actor=actor, from_state=old_state, to_state=to_state, note=note)
    return True


def lost_race(submission: Submission) -> ValidationError:
    """What the loser of two simultaneous state changes is told (``transition`` said
    False): the version's state now, and to reload."""
    submission.refresh_from_db(fields=["state"])
    return ValidationError(
        f"Version {submission.version} is now {submission.get_state_display().lower()}: "
        "someone else acted on it first. Reload the page to see what changed."
    )
