"""JFF's review of a submitted version: the state machine (start, comment, return,
accept), who may do what, races between two reviewers, the new draft after a return,
and what each step leaves behind (timeline, audit log, e-mail, roll-up)."""

import threading

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from bpij import tenancy
from bpij.models import AuditAction, AuditEvent, StaffRole
from reporting import permissions, services
from reporting.checks import synthetic
from reporting.models import (
    ReturnReason,
    Submission,
    SubmissionComment,
    SubmissionEvent,
    SubmissionState,
    Upload,
)
from tests import factories
from tests.builders import LATE_REASON, checked_version, period_of, submitted_version

REASONS = [ReturnReason.DATA_QUALITY, ReturnReason.NARRATIVE]


def with_unknown_column(csv: bytes) -> bytes:
    """The file with a column the contract does not know: an F03 warning, which does not
    stop a version from being certified."""
    lines = csv.decode().splitlines()
    return ("\n".join([lines[0] + ",notes", *(line + "," for line in lines[1:])]) + "\n").encode()


@pytest.fixture
def period(cast):
    return period_of(cast.coalition_a, "2025Q3")


@pytest.fixture
def submitted(cast, period) -> Submission:
    people, jobs = synthetic.generate_files(30, seed=4, period="2025Q3")
    submission = submitted_version(period, cast.admin_a, files=(with_unknown_column(people), jobs))
    submission.narrative_progress = "Enrolled 30."
    Submission.objects.filter(pk=submission.pk).update(narrative_progress="Enrolled 30.")
    # The checks e-mailed their results to the administrator, who sent the files with no
    # report page open (reporting.services.check_notices): not this module's e-mails.
    mail.outbox.clear()
    return submission


@pytest.fixture
def rollups(monkeypatch) -> list[int]:
    """The periods whose roll-up ran: the real task, queued on commit and run eagerly,
    calls the roll-up service, replaced here by a recorder."""
    ran: list[int] = []
    monkeypatch.setattr(services, "rollup_period", lambda *, period_id: ran.append(period_id))
    return ran


def in_state(submission: Submission, state: str) -> Submission:
    Submission.objects.filter(pk=submission.pk).update(state=state)
    submission.refresh_from_db()
    return submission


def audit_actions(submission: Submission) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            coalition_uuid=submission.coalition.code,
            action__in=[
                AuditAction.REVIEW_STARTED,
                AuditAction.SUBMISSION_COMMENTED,
                AuditAction.SUBMISSION_RETURNED,
                AuditAction.SUBMISSION_ACCEPTED,
            ],
        )
        .order_by("id")
        .values_list("action", flat=True)
    )


def kinds(submission: Submission) -> list[str]:
    return list(
        SubmissionEvent.objects.filter(submission=submission)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def other_coach():
    return factories.StaffFactory(email="coach2@jff.example", staff_role=StaffRole.COACH)


# -- Who may review ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "review", "accept"),
    [
        ("coach_a", True, False),
        ("officer", True, True),
        ("jff_admin", True, True),
        ("admin_a", False, False),
        ("reporter_a", False, False),
        ("viewer_a", False, False),
        ("outsider_b", False, False),
    ],
)
def test_reviewers_are_the_assigned_coach_and_program_staff_and_only_program_staff_accept(
    cast, who, review, accept
):
    a = cast.coalition_a
    assert permissions.can_review(cast[who], a) is review
    assert permissions.can_accept(cast[who], a) is accept
    assert permissions.can_review(other_coach(), a) is False


# -- Starting the review ------------------------------------------------------------------


def test_a_coach_takes_a_submitted_version_into_review(cast, submitted):
    services.submission_review_start(submission=submitted, actor=cast.coach_a)
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.IN_REVIEW
    assert submitted.reviewed_by == cast.coach_a
    assert submitted.review_started_at is not None
    event = SubmissionEvent.objects.filter(submission=submitted).latest("id")
    assert (event.kind, event.from_state, event.to_state, event.actor) == (
        "review_started", "submitted", "in_review", cast.coach_a,
    )  # fmt: skip
    assert audit_actions(submitted) == [AuditAction.REVIEW_STARTED]


@pytest.mark.parametrize("who", ["admin_a", "viewer_a", "outsider_b", "other_coach"])
def test_only_reviewers_start_a_review(cast, submitted, who):
    actor = other_coach() if who == "other_coach" else cast[who]
    with pytest.raises(PermissionDenied):
        services.submission_review_start(submission=submitted, actor=actor)
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED


@pytest.mark.parametrize("state", ["in_review", "returned", "accepted", "ready", "draft"])
def test_only_a_submitted_version_can_be_taken_into_review(cast, submitted, state):
    in_state(submitted, state)
    with pytest.raises(ValidationError, match="only a submitted version"):
        services.submission_review_start(submission=submitted, actor=cast.officer)


# -- Returning ----------------------------------------------------------------------------


def test_returning_a_submitted_version_records_the_review_and_tells_the_coalition(
    cast, submitted, rollups, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_return(
            submission=submitted,
            actor=cast.coach_a,
            reasons=[ReturnReason.NARRATIVE, ReturnReason.DATA_QUALITY],
            note="  Explain the drop in enrollment.  ",
        )
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.RETURNED
    assert submitted.return_reasons == ["data_quality", "narrative"]  # in the form's order
    assert submitted.return_note == "Explain the drop in enrollment."
    assert submitted.reviewed_by == cast.coach_a
    assert submitted.returned_at is not None
    assert submitted.review_started_at is not None
    # Returning a submitted version starts the review first: both steps are on record.
    assert kinds(submitted)[-2:] == ["review_started", "returned"]
    assert audit_actions(submitted) == [
        AuditAction.REVIEW_STARTED, AuditAction.SUBMISSION_RETURNED,
    ]  # fmt: skip
    assert rollups == [submitted.period_id]

    # The coalition's administrators and reporters are told, each in their own e-mail,
    # with the reasons, the note and a link; the viewer and other coalitions are not.
    # (The program officers' own e-mail: tests/reporting/test_staff_notices.py.)
    coalition_mail = [m for m in mail.outbox if "Your 2025Q3 report" in m.subject]
    assert sorted(m.to[0] for m in coalition_mail) == [
        "admin@alpha.example", "reporter@alpha.example",
    ]  # fmt: skip
    assert sorted(m.to[0] for m in mail.outbox if m not in coalition_mail) == [
        "officer@jff.example"
    ]
    message = coalition_mail[0]
    assert "2025Q3 report was returned" in message.subject
    for text in (message.body, message.alternatives[0][0]):
        assert "Narrative is missing or incomplete" in text
        assert "Data quality: records look wrong or incomplete" in text
        assert "Explain the drop in enrollment." in text
        assert f"/coalitions/{cast.coalition_a.code}/reports/2025Q3/" in text
        assert "start version 2" in text
    assert message.alternatives[0][1] == "text/html"


def test_a_version_in_review_is_returned_without_a_second_review_event(
    cast, submitted, rollups, django_capture_on_commit_callbacks
):
    services.submission_review_start(submission=submitted, actor=cast.coach_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_return(
            submission=submitted, actor=cast.officer, reasons=REASONS, note="Fix it."
        )
    assert kinds(submitted).count("review_started") == 1
    submitted.refresh_from_db()
    assert (submitted.state, submitted.reviewed_by) == ("returned", cast.officer)


@pytest.mark.parametrize(
    ("reasons", "note", "message"),
    [
        ([], "Fix it.", "at least one reason"),
        (["typo"], "Fix it.", "'typo' is not a return reason; use data_quality"),
        (REASONS, "   ", "Write a note"),
        (REASONS, "x" * 5001, "at most 5,000"),
    ],
)
def test_a_return_needs_reasons_and_a_note(cast, submitted, reasons, note, message):
    with pytest.raises(ValidationError, match=message):
        services.submission_return(
            submission=submitted, actor=cast.coach_a, reasons=reasons, note=note
        )
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED
    assert not SubmissionEvent.objects.filter(submission=submitted, kind="returned").exists()
    assert not mail.outbox


@pytest.mark.parametrize("who", ["admin_a", "reporter_a", "viewer_a", "other_coach"])
def test_only_reviewers_return_a_version(cast, submitted, who):
    actor = other_coach() if who == "other_coach" else cast[who]
    with pytest.raises(PermissionDenied):
        services.submission_return(submission=submitted, actor=actor, reasons=REASONS, note="x")


# -- Accepting ----------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["submitted", "in_review"])
def test_a_program_officer_accepts_a_submitted_or_in_review_version(
    cast, submitted, rollups, django_capture_on_commit_callbacks, start
):
    if start == "in_review":
        services.submission_review_start(submission=submitted, actor=cast.coach_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_accept(submission=submitted, actor=cast.officer)
    submitted.refresh_from_db()
    assert (submitted.state, submitted.accepted_by) == ("accepted", cast.officer)
    assert submitted.accepted_at is not None
    event = SubmissionEvent.objects.filter(submission=submitted).latest("id")
    assert (event.kind, event.from_state, event.to_state) == ("accepted", start, "accepted")
    assert audit_actions(submitted)[-1] == AuditAction.SUBMISSION_ACCEPTED
    assert rollups == [submitted.period_id]
    assert not mail.outbox


@pytest.mark.parametrize("who", ["coach_a", "admin_a", "viewer_a"])
def test_coaches_and_grantees_cannot_accept(cast, submitted, who):
    with pytest.raises(PermissionDenied):
        services.submission_accept(submission=submitted, actor=cast[who])
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED


@pytest.mark.parametrize("state", ["returned", "accepted", "ready", "needs_fixes"])
def test_only_a_submitted_or_in_review_version_is_decided(cast, submitted, state):
    in_state(submitted, state)
    with pytest.raises(ValidationError, match="only a submitted or in-review version"):
        services.submission_accept(submission=submitted, actor=cast.officer)
    with pytest.raises(ValidationError, match="only a submitted or in-review version"):
        services.submission_return(
            submission=submitted, actor=cast.officer, reasons=REASONS, note="x"
        )


def test_decided_versions_never_change(cast, submitted, period, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_accept(submission=submitted, actor=cast.officer)
    before = Submission.objects.values().get(pk=submitted.pk)
    uploads = list(Upload.objects.filter(submission=submitted).values())
    with pytest.raises(ValidationError):
        services.submission_return(
            submission=submitted, actor=cast.officer, reasons=REASONS, note="Too late."
        )
    with pytest.raises(ValidationError):
        services.submission_accept(submission=submitted, actor=cast.jff_admin)
    with pytest.raises(ValidationError):
        services.submission_review_start(submission=submitted, actor=cast.coach_a)
    with pytest.raises(ValidationError, match="locked"):
        services.submission_save_narrative(
            submission=submitted, actor=cast.admin_a, progress="x", challenges="", ta_needs=""
        )
    with pytest.raises(ValidationError, match="can be started only after JFF returns it"):
        services.submission_start(period=period, actor=cast.admin_a)
    assert Submission.objects.values().get(pk=submitted.pk) == before
    assert list(Upload.objects.filter(submission=submitted).values()) == uploads


# -- After a return: the next version -------------------------------------------------------


def test_the_new_draft_after_a_return_starts_from_the_returned_files_and_narrative(
    cast, submitted, period, rollups, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_return(
            submission=submitted, actor=cast.coach_a, reasons=REASONS, note="Fix it."
        )
    before = Submission.objects.values().get(pk=submitted.pk)
    returned_files = sorted(
        Upload.objects.filter(submission=submitted, is_current=True).values_list(
            "kind", "sha256", "file", "original_name"
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        second = services.submission_start(period=period, actor=cast.reporter_a)
    second.refresh_from_db()
    assert (second.version, second.previous_id, second.created_by) == (
        2, submitted.pk, cast.reporter_a,
    )  # fmt: skip
    assert second.narrative_progress == "Enrolled 30."
    assert (
        sorted(
            Upload.objects.filter(submission=second, is_current=True).values_list(
                "kind", "sha256", "file", "original_name"
            )
        )
        == returned_files
    )
    # The carried-over files were checked again and are ready to certify as they are.
    assert second.state == SubmissionState.READY
    assert second.participants.count() == submitted.participants.count()
    # The returned version itself is untouched, and stays in the record.
    assert Submission.objects.values().get(pk=submitted.pk) == before
    again = services.submission_certify(
        submission=second,
        actor=cast.admin_a,
        name="Ada Admin",
        title="",
        agreed=True,
        late_reason=LATE_REASON,  # 2025Q3 is long past due
    )
    assert again.state == SubmissionState.SUBMITTED


# -- Comments -----------------------------------------------------------------------------


def test_a_reviewers_comment_pinned_to_a_figure_starts_the_review(cast, submitted):
    comment = services.submission_comment(
        submission=submitted,
        actor=cast.coach_a,
        body="Participants served fell by half: why?",
        figure_key="A-2",
        figure_window="grant_to_date",
    )
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.IN_REVIEW
    assert (comment.figure_key, comment.figure_window, comment.parent) == (
        "A-2", "grant_to_date", None,
    )  # fmt: skip
    assert kinds(submitted)[-2:] == ["review_started", "commented"]
    event = SubmissionEvent.objects.filter(submission=submitted).latest("id")
    assert event.note == (
        "A-2 Participants served (Grant to date): Participants served fell by half: why?"
    )
    assert audit_actions(submitted) == [
        AuditAction.REVIEW_STARTED, AuditAction.SUBMISSION_COMMENTED,
    ]  # fmt: skip


def test_a_comment_can_be_pinned_to_one_of_the_versions_findings(cast, submitted):
    from reporting.selectors import review as review_selectors

    warnings = review_selectors.review_warnings(submitted)
    assert warnings, "the fixture's unknown column gives an F03 warning"
    key = warnings[0]["key"]
    comment = services.submission_comment(
        submission=submitted, actor=cast.officer, body="What is this column?", finding_key=key
    )
    assert comment.finding == warnings[0]["finding"]
    assert (
        review_selectors.comment_pin_label(comment)
        == "F03 Unknown column in participants row 1, column notes"
    )
    with pytest.raises(ValidationError, match="not one of this version's findings"):
        services.submission_comment(
            submission=submitted, actor=cast.officer, body="?", finding_key="participants:9:V01:sex"
        )


@pytest.mark.parametrize(
    ("pin", "message"),
    [
        ({"figure_key": "Z-9"}, "'Z-9' is not a figure of the report"),
        ({"figure_key": "A-2", "figure_window": "forever"}, "'forever' is not a window"),
        ({"figure_window": "grant_to_date"}, "Choose the figure"),
        ({"figure_key": "A-2", "finding_key": "participants:1:F03:notes"}, "not both"),
    ],
)
def test_a_pin_must_name_a_real_figure_and_window(cast, submitted, pin, message):
    with pytest.raises(ValidationError, match=message):
        services.submission_comment(submission=submitted, actor=cast.coach_a, body="?", **pin)
    assert not SubmissionComment.objects.exists()


def test_the_coalition_replies_in_the_thread_one_level_deep(cast, submitted):
    first = services.submission_comment(
        submission=submitted, actor=cast.coach_a, body="Why so few exits?"
    )
    reply = services.submission_comment(
        submission=submitted, actor=cast.reporter_a, body="A cohort ends in October.", parent=first
    )
    answer = services.submission_comment(
        submission=submitted, actor=cast.coach_a, body="Thanks.", parent=reply
    )
    assert reply.parent == first
    assert answer.parent == first  # a reply to a reply joins the thread
    assert kinds(submitted).count("commented") == 3
    # The grantee's reply does not move the version: only a reviewer starts the review.
    assert kinds(submitted).count("review_started") == 1


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("viewer_a", PermissionDenied),
        ("outsider_b", PermissionDenied),
        ("admin_a", ValidationError),
    ],
)
def test_grantees_only_reply_and_viewers_only_read(cast, submitted, who, error):
    with pytest.raises(error):
        services.submission_comment(submission=submitted, actor=cast[who], body="New thread")
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED


def test_a_comment_on_a_draft_is_refused_with_a_reason(cast, period):
    draft = checked_version(period, cast.admin_a, participants=5)
    with pytest.raises(ValidationError, match="has not been submitted"):
        services.submission_comment(submission=draft, actor=cast.coach_a, body="Early thoughts")


def test_an_empty_comment_is_refused_with_a_reason(cast, submitted):
    with pytest.raises(ValidationError, match="cannot be empty"):
        services.submission_comment(submission=submitted, actor=cast.coach_a, body=" \n ")
    submitted.refresh_from_db()
    assert submitted.state == SubmissionState.SUBMITTED


# -- Two reviewers at once ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_when_two_reviewers_decide_at_once_exactly_one_wins(cast):
    period = period_of(cast.coalition_a, "2025Q3")
    submission = submitted_version(period, cast.admin_a, participants=10)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(name, decide, actor):
        try:
            # Each thread is a request of its own: its own connection, its actor's scope.
            with tenancy.database_scope(tenancy.scope_for(actor)):
                # Both read the version as submitted before either acts, so both pass the
                # services' own state check and the conditional UPDATE alone decides.
                mine = Submission.objects.select_related("period", "coalition").get(
                    pk=submission.pk
                )
                barrier.wait(5)
                decide(mine)
            outcomes[name] = "won"
        except ValidationError as error:
            outcomes[name] = " ".join(error.messages)
        finally:
            connection.close()

    officer = type(cast.officer).objects.get(pk=cast.officer.pk)
    coach = type(cast.coach_a).objects.get(pk=cast.coach_a.pk)
    threads = [
        threading.Thread(
            target=act,
            args=(
                "accept",
                lambda s: services.submission_accept(submission=s, actor=officer),
                officer,
            ),
        ),
        threading.Thread(
            target=act,
            args=(
                "return",
                lambda s: services.submission_return(
                    submission=s, actor=coach, reasons=REASONS, note="Fix it."
                ),
                coach,
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert sorted(outcomes) == ["accept", "return"]
    assert list(outcomes.values()).count("won") == 1
    loser = next(v for v in outcomes.values() if v != "won")
    assert "someone else acted on it first" in loser
    submission.refresh_from_db()
    decided = SubmissionEvent.objects.filter(
        submission=submission, kind__in=["accepted", "returned"]
    )
    assert decided.count() == 1
    assert submission.state == decided.get().to_state
