"""JFF's staff are e-mailed when a report moves (docs/review.md, "Who is told"): a
certified version tells the coalition's coaches and the program officers, a returned one
tells the program officers; one e-mail per person and event, with a link to the review
page and no participant data."""

import pytest
from django.core import mail

from bpij.models import StaffRole
from reporting import services, tasks
from reporting.checks import synthetic
from reporting.models import (
    NotificationSetting,
    ReturnReason,
    ReviewReminder,
    StaffNotice,
    Submission,
)
from reporting.services import staff_notices
from tests import factories
from tests.builders import LATE_REASON, checked_version, period_of, submitted_version


@pytest.fixture
def rollups(monkeypatch) -> list[int]:
    ran: list[int] = []
    monkeypatch.setattr(services, "rollup_period", lambda *, period_id: ran.append(period_id))
    return ran


@pytest.fixture
def period(cast):
    return period_of(cast.coalition_a, "2025Q3")


def addressed(subject_part: str) -> list[str]:
    return sorted(m.to[0] for m in mail.outbox if subject_part in m.subject)


def test_certifying_emails_the_coalitions_coach_and_the_program_officers_once_each(
    cast, period, rollups, django_capture_on_commit_callbacks
):
    # Someone who is gone is not written to; another coalition's coach is not told.
    factories.StaffFactory(
        email="gone@jff.example", staff_role=StaffRole.PROGRAM_OFFICER, is_active=False
    )
    other_coach = factories.StaffFactory(email="coach-b@jff.example", staff_role=StaffRole.COACH)
    factories.CoachAssignmentFactory(coalition=cast.coalition_b, coach=other_coach)
    submission = checked_version(period, cast.admin_a)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_certify(
            submission=submission,
            actor=cast.admin_a,
            name="Ada Admin",
            title="Director",
            agreed=True,
            late_reason=LATE_REASON,
        )
    subject = "Alpha Wind Coalition (test) certified its 2025Q3 report (version 1)"
    assert addressed(subject) == ["coach@jff.example", "officer@jff.example"]
    message = next(m for m in mail.outbox if subject in m.subject)
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    for text in (message.body, html):
        assert f"/submissions/{submission.code}/review/" in text
        assert text.count("http://") + text.count("https://") >= 1
        assert "Ada Admin" in text
    # The receipt still goes to the certifier, and nobody else is written to.
    assert sorted({m.to[0] for m in mail.outbox}) == [
        "admin@alpha.example", "coach@jff.example", "officer@jff.example",
    ]  # fmt: skip


def test_a_coachs_return_emails_the_program_officers_and_the_coalition(
    cast, period, rollups, django_capture_on_commit_callbacks
):
    submission = submitted_version(period, cast.admin_a)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_return(
            submission=submission,
            actor=cast.coach_a,
            reasons=[ReturnReason.NARRATIVE],
            note="Explain the drop in enrollment.",
        )
    assert addressed("was returned") == [
        "admin@alpha.example", "officer@jff.example", "reporter@alpha.example",
    ]  # fmt: skip
    officers = [m for m in mail.outbox if m.to == ["officer@jff.example"]]
    assert len(officers) == 1
    message = officers[0]
    assert "Alpha Wind Coalition (test)'s 2025Q3 report (version 1) was returned" in message.subject
    for text in (message.body, message.alternatives[0][0]):
        assert "Narrative is missing or incomplete" in text
        assert f"/submissions/{submission.code}/review/" in text
    # The coach who returned it is not told of their own decision.
    assert not [m for m in mail.outbox if m.to == ["coach@jff.example"]]


def test_an_officer_who_returns_a_report_is_not_emailed_about_it(cast, period, rollups):
    other = factories.StaffFactory(email="other@jff.example", staff_role=StaffRole.PROGRAM_OFFICER)
    submission = submitted_version(period, cast.admin_a)
    services.submission_return(
        submission=submission, actor=cast.officer, reasons=[ReturnReason.OTHER], note="See."
    )
    mail.outbox.clear()
    assert staff_notices.submission_notify_staff(submission_id=submission.pk, event="returned") == 1
    assert [m.to for m in mail.outbox] == [[other.email]]


def test_staff_emails_carry_no_participant_data(cast, period, rollups):
    people, jobs = synthetic.generate_files(30, seed=4, period="2025Q3")
    submission = submitted_version(period, cast.admin_a, files=(people, jobs))
    services.submission_return(
        submission=submission, actor=cast.coach_a, reasons=[ReturnReason.OTHER], note="See."
    )
    mail.outbox.clear()
    staff_notices.submission_notify_staff(submission_id=submission.pk, event="certified")
    staff_notices.submission_notify_staff(submission_id=submission.pk, event="returned")
    assert mail.outbox
    header, *rows = people.decode().splitlines()
    columns = header.split(",")
    values = [
        row.split(",")[columns.index(column)]
        for row in rows
        for column in ("ssn", "participant_id", "date_of_birth")
        if row.split(",")[columns.index(column)]
    ]
    assert len(values) > 60
    assert all(len(v) > 4 for v in values)
    for message in mail.outbox:
        for text in (message.subject, message.body, message.alternatives[0][0]):
            for value in values:
                assert value not in text


# -- Settings and the daily digest --------------------------------------------------------

SETTINGS_URL = "/notifications/"


def certified(cast, period):
    submission = submitted_version(period, cast.admin_a)
    mail.outbox.clear()
    return submission


def test_a_person_chooses_per_kind_and_the_choice_is_kept(cast, client_for):
    client = client_for(cast.officer)
    page = client.get(SETTINGS_URL).content.decode()
    # Never chosen: each e-mail, for every kind.
    assert page.count('value="each" checked') == 3
    response = client.post(
        SETTINGS_URL, {"certified": "digest", "returned": "off", "review_waiting": "each"}
    )
    assert response.status_code == 302
    assert staff_notices.modes_of(cast.officer) == {
        "certified": "digest", "returned": "off", "review_waiting": "each",
    }  # fmt: skip
    page = client.get(SETTINGS_URL).content.decode()
    assert "Your notification settings are saved." in page
    assert 'value="digest" checked' in page
    assert 'value="off" checked' in page
    # Another person's settings are their own.
    assert staff_notices.modes_of(cast.coach_a) == {
        "certified": "each", "returned": "each", "review_waiting": "each",
    }  # fmt: skip


def test_a_bad_choice_is_refused_with_what_would_be_right_and_nothing_saved(cast, client_for):
    client = client_for(cast.coach_a)
    response = client.post(SETTINGS_URL, {"certified": "weekly"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not a choice for “A report is certified”" in page
    assert "each e-mail, daily digest or off" in page
    assert "Choose how to hear that a report is returned" in page
    assert not NotificationSetting.objects.filter(user=cast.coach_a).exists()


def test_grantees_and_the_fpo_have_no_settings_page(cast, client_for):
    fpo = factories.StaffFactory(email="fpo@dol.example", staff_role=StaffRole.FUNDER_VIEWER)
    for person in (cast.admin_a, fpo):
        assert client_for(person).get(SETTINGS_URL).status_code == 403


def test_the_navigation_links_the_settings_page_for_staff_only(cast, client_for):
    assert 'href="/notifications/"' in client_for(cast.coach_a).get("/reviews/").content.decode()
    page = client_for(cast.admin_a).get(f"/coalitions/{cast.coalition_a.code}/reports/")
    assert 'href="/notifications/"' not in page.content.decode()


def test_off_sends_nothing_and_digest_keeps_the_event_for_the_days_digest(cast, period, rollups):
    NotificationSetting.objects.create(user=cast.coach_a, kind="certified", mode="off")
    NotificationSetting.objects.create(user=cast.officer, kind="certified", mode="digest")
    submission = certified(cast, period)
    assert (
        staff_notices.submission_notify_staff(submission_id=submission.pk, event="certified") == 0
    )
    # A redelivered task keeps the event once.
    staff_notices.submission_notify_staff(submission_id=submission.pk, event="certified")
    assert not mail.outbox
    assert StaffNotice.objects.filter(user=cast.officer, digested_at=None).count() == 1

    services.submission_return(
        submission=submission, actor=cast.coach_a, reasons=[ReturnReason.TARGETS], note="See."
    )
    # The return: each e-mail (never chosen otherwise).
    assert staff_notices.submission_notify_staff(submission_id=submission.pk, event="returned") == 1
    mail.outbox.clear()

    assert tasks.send_staff_digests.delay().get() == 1
    [digest] = mail.outbox
    assert digest.to == ["officer@jff.example"]
    assert "Daily digest: 1 report event" in digest.subject
    for text in (digest.body, digest.alternatives[0][0]):
        assert "Alpha Wind Coalition (test) certified its 2025Q3 report (version 1)" in text
        assert f"/submissions/{submission.code}/review/" in text
        assert "/notifications/" in text
    # Each event at most once: the next run has nothing to send.
    mail.outbox.clear()
    assert tasks.send_staff_digests.delay().get() == 0
    assert not mail.outbox


def test_the_digest_runs_from_celery_beat_daily():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["send-staff-digests"]
    assert entry["task"] == "reporting.tasks.send_staff_digests"
    assert entry["schedule"].hour == {17}


# -- Reviewer reminders -------------------------------------------------------------------


def waited(submission, days: float):
    from datetime import timedelta

    from django.utils import timezone

    Submission.objects.filter(pk=submission.pk).update(
        submitted_at=timezone.now() - timedelta(days=days)
    )


def reminders_to() -> list[str]:
    return sorted(m.to[0] for m in mail.outbox if "for review" in m.subject)


def test_a_report_waiting_in_review_reminds_the_coach_then_the_officers_once_each(
    cast, period, rollups, settings
):
    settings.REVIEW_REMINDER_DAYS = 5
    settings.REVIEW_ESCALATION_DAYS = 10
    submission = certified(cast, period)
    waited(submission, 4.9)
    assert tasks.send_review_reminders.delay().get() == 0
    assert not mail.outbox

    waited(submission, 6)
    assert tasks.send_review_reminders.delay().get() == 1
    assert reminders_to() == ["coach@jff.example"]
    [message] = mail.outbox
    assert "Alpha Wind Coalition (test)'s 2025Q3 report (version 1) has waited 6 days" in (
        message.subject
    )
    for text in (message.body, message.alternatives[0][0]):
        assert f"/submissions/{submission.code}/review/" in text
        assert "not yet taken up" in text
    # Once per version: the next day's run does not remind the coach again.
    mail.outbox.clear()
    waited(submission, 7)
    assert tasks.send_review_reminders.delay().get() == 0
    assert not mail.outbox

    # Taken into review but still undecided past the second threshold: the officers.
    services.submission_review_start(submission=submission, actor=cast.coach_a)
    waited(submission, 11)
    assert tasks.send_review_reminders.delay().get() == 1
    assert reminders_to() == ["officer@jff.example"]
    assert "in review" in mail.outbox[0].body
    mail.outbox.clear()
    assert tasks.send_review_reminders.delay().get() == 0
    assert not mail.outbox
    assert sorted(
        ReviewReminder.objects.filter(submission=submission).values_list("stage", "recipients")
    ) == [("coach", ["coach@jff.example"]), ("officers", ["officer@jff.example"])]


def test_a_decided_report_reminds_nobody(cast, period, rollups, settings):
    settings.REVIEW_REMINDER_DAYS = 5
    settings.REVIEW_ESCALATION_DAYS = 10
    submission = certified(cast, period)
    services.submission_return(
        submission=submission, actor=cast.coach_a, reasons=[ReturnReason.OTHER], note="See."
    )
    waited(submission, 30)
    mail.outbox.clear()
    assert tasks.send_review_reminders.delay().get() == 0
    assert not mail.outbox


def test_a_long_wait_found_late_sends_both_and_the_setting_is_read(cast, period, rollups, settings):
    settings.REVIEW_REMINDER_DAYS = 2
    settings.REVIEW_ESCALATION_DAYS = 3
    submission = certified(cast, period)
    waited(submission, 3.5)
    assert tasks.send_review_reminders.delay().get() == 2
    assert reminders_to() == ["coach@jff.example", "officer@jff.example"]


def test_a_reviewer_reminder_follows_the_persons_setting(cast, period, rollups, settings):
    settings.REVIEW_REMINDER_DAYS = 5
    NotificationSetting.objects.create(user=cast.coach_a, kind="review_waiting", mode="digest")
    submission = certified(cast, period)
    waited(submission, 6)
    tasks.send_review_reminders.delay().get()
    assert not mail.outbox
    assert tasks.send_staff_digests.delay().get() == 1
    assert "has waited 6 days for review" in mail.outbox[0].body


def test_reviewer_reminders_run_from_celery_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["send-review-reminders"]
    assert entry["task"] == "reporting.tasks.send_review_reminders"


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_remind_the_coach_once_and_digest_each_event_once(cast, settings):
    """Beat's reminder run and a second one (a redelivery, a second beat) at the same
    moment: the claim row decides, so the coach is reminded once; two digest runs at
    once put the event in one digest."""
    import threading

    from django.db import connection

    from bpij import tenancy

    settings.REVIEW_REMINDER_DAYS = 5
    period = period_of(cast.coalition_a, "2025Q3")
    submission = submitted_version(period, cast.admin_a, participants=10)
    NotificationSetting.objects.create(user=cast.officer, kind="certified", mode="digest")
    staff_notices.submission_notify_staff(submission_id=submission.pk, event="certified")
    waited(submission, 6)
    mail.outbox.clear()

    def twice(run) -> list[int]:
        barrier = threading.Barrier(2)
        results: list[int] = []

        def act():
            try:
                with tenancy.system_scope():
                    barrier.wait(5)
                    results.append(run())
            finally:
                connection.close()

        threads = [threading.Thread(target=act) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
        return sorted(results)

    assert twice(lambda: len(staff_notices.review_reminders_send())) == [0, 1]
    assert reminders_to() == ["coach@jff.example"]
    mail.outbox.clear()
    assert twice(staff_notices.digests_send) == [0, 1]
    assert [m.to for m in mail.outbox] == [["officer@jff.example"]]
