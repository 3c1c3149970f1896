"""Reminders: each schedule point goes once, at most once even when beat runs twice or
a send fails, never after the report is sent; late ones copy the coach; staff can send
one by hand. Coalition A's 2025Q3 report is due on Friday, November 14, 2025."""

import smtplib
from datetime import date, timedelta
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives

from bpij.models import AuditAction, AuditEvent
from reporting import services, tasks
from reporting.models import Reminder, ReminderKind, ReminderStatus, SubmissionState
from reporting.services import reminders
from tests import builders, factories

DUE = date(2025, 11, 14)
POINTS = [
    (DUE - timedelta(days=14), ReminderKind.BEFORE_14),
    (DUE - timedelta(days=3), ReminderKind.BEFORE_3),
    (DUE, ReminderKind.DUE),
    (DUE + timedelta(days=1), ReminderKind.LATE_1),
    (DUE + timedelta(days=7), ReminderKind.LATE_7),
]
GRANTEES_WHO_SEND = ["admin@alpha.example", "reporter@alpha.example"]


def mails_to_a(outbox):
    return [m for m in outbox if "admin@alpha.example" in m.to]


def at_nine(day: date):
    """Beat's time: 9:00 in New York."""
    return time_machine.travel(f"{day.isoformat()} 09:00 -0500", tick=False)


@pytest.fixture
def period(cast, period_a):
    services.periods_ensure_all()  # coalition B's too
    assert period_a.due_date == DUE
    return period_a


@pytest.mark.parametrize(("day", "kind"), POINTS, ids=[str(k) for _, k in POINTS])
def test_each_schedule_point_sends_one_email_to_the_coalitions_admins_and_reporters(
    cast, period, mailoutbox, day, kind
):
    reminders.reminders_send_due(today=day)

    reminder = Reminder.objects.get(period=period)
    assert reminder.kind == kind
    assert reminder.status == ReminderStatus.SENT
    [mail] = mails_to_a(mailoutbox)
    assert sorted(mail.to) == GRANTEES_WHO_SEND  # not the viewer
    assert "viewer@alpha.example" not in mail.to + mail.cc
    assert reminder.recipients == GRANTEES_WHO_SEND
    assert mail.subject == reminder.subject
    assert "Alpha Wind Coalition (test)" in mail.subject
    assert "2025Q3" in mail.subject


@pytest.mark.parametrize(("day", "kind"), POINTS, ids=[str(k) for _, k in POINTS])
def test_only_the_late_reminders_copy_the_coach(cast, period, mailoutbox, day, kind):
    reminders.reminders_send_due(today=day)

    [mail] = mails_to_a(mailoutbox)
    late = kind in (ReminderKind.LATE_1, ReminderKind.LATE_7)
    assert mail.cc == (["coach@jff.example"] if late else [])
    assert Reminder.objects.get(period=period).cc == mail.cc


def test_two_beat_runs_on_the_same_day_send_one_email(cast, period, mailoutbox):
    with at_nine(DUE - timedelta(days=3)):
        tasks.send_due_reminders()
        tasks.send_due_reminders()

    assert len(mails_to_a(mailoutbox)) == 1
    assert Reminder.objects.filter(period=period).count() == 1


def test_a_missed_run_is_caught_up_until_the_next_point_and_only_the_latest_point_goes(
    cast, period, mailoutbox
):
    # Beat was down on November 11 (3 days before): the 12th catches it up; the 13th
    # has nothing new; the due date sends its own.
    for day in (date(2025, 11, 12), date(2025, 11, 13), DUE):
        reminders.reminders_send_due(today=day)

    kinds = list(Reminder.objects.filter(period=period).order_by("claimed_at", "pk"))
    assert [r.kind for r in kinds] == [ReminderKind.BEFORE_3, ReminderKind.DUE]
    assert len(mails_to_a(mailoutbox)) == 2


def test_a_run_first_made_on_the_due_date_sends_only_the_due_date_reminder(
    cast, period, mailoutbox
):
    reminders.reminders_send_due(today=DUE)

    assert list(Reminder.objects.filter(period=period).values_list("kind", flat=True)) == [
        ReminderKind.DUE
    ]


def test_no_before_the_due_date_reminder_is_ever_sent_after_it():
    kinds = {
        offset: reminders.scheduled_kind(DUE, DUE + timedelta(days=offset))
        for offset in range(-30, 31)
    }
    assert kinds[-15] is None
    assert kinds[-14] == kinds[-4] == ReminderKind.BEFORE_14
    assert kinds[-3] == kinds[-1] == ReminderKind.BEFORE_3
    assert kinds[0] == ReminderKind.DUE
    assert kinds[1] == kinds[6] == ReminderKind.LATE_1
    assert kinds[7] == kinds[13] == ReminderKind.LATE_7
    assert kinds[14] is None
    after = {kinds[offset] for offset in range(0, 31)}
    assert ReminderKind.BEFORE_14 not in after
    assert ReminderKind.BEFORE_3 not in after


def test_a_submitted_report_gets_no_reminder(cast, period, mailoutbox):
    version = builders.submitted_version(period, cast.admin_a, participants=12)
    assert version.state == SubmissionState.SUBMITTED
    # The checks' result e-mails (check_notices: the files were sent with no report page
    # open) are not reminders.
    mailoutbox.clear()

    for day, _ in POINTS:
        reminders.reminders_send_due(today=day)

    assert not Reminder.objects.filter(period=period).exists()
    assert mails_to_a(mailoutbox) == []
    # Coalition B has not sent its report: its reminders go as usual.
    assert Reminder.objects.filter(coalition=cast.coalition_b).count() == len(POINTS)


def test_a_failed_send_leaves_a_failed_row_and_is_never_sent_again(cast, period, mailoutbox):
    day = DUE - timedelta(days=3)
    refused = smtplib.SMTPRecipientsRefused({"admin@alpha.example": (550, b"no such user")})
    with mock.patch.object(EmailMultiAlternatives, "send", side_effect=refused) as send:
        reminders.reminders_send_due(today=day)
        calls = send.call_count
        reminders.reminders_send_due(today=day)
        assert send.call_count == calls  # the second run claims nothing

    reminder = Reminder.objects.get(period=period)
    assert reminder.status == ReminderStatus.FAILED
    assert "The mail server refused it" in reminder.error
    assert reminder.recipients == GRANTEES_WHO_SEND
    assert not AuditEvent.objects.filter(
        action=AuditAction.REMINDER_SENT, coalition_uuid=cast.coalition_a.code
    ).exists()


def test_a_reminder_claimed_by_another_run_is_not_sent_again(cast, period, mailoutbox):
    Reminder.objects.create(coalition=cast.coalition_a, period=period, kind=ReminderKind.BEFORE_3)

    reminders.reminders_send_due(today=DUE - timedelta(days=3))

    assert mails_to_a(mailoutbox) == []
    assert Reminder.objects.filter(period=period).count() == 1


def test_a_reminder_taken_for_sending_is_not_sent_twice(cast, period, mailoutbox):
    [reminder] = [
        r for r in reminders.reminders_send_due(today=DUE) if r.coalition_id == cast.coalition_a.pk
    ]

    assert reminders.reminder_deliver(reminder_id=reminder.pk) is None
    assert len(mails_to_a(mailoutbox)) == 1


def test_a_coalition_without_admins_or_reporters_gets_a_failed_row_saying_why(
    cast, period, mailoutbox
):
    cast.admin_a.is_active = False
    cast.admin_a.save()
    cast.reporter_a.is_active = False
    cast.reporter_a.save()

    reminders.reminders_send_due(today=DUE)

    reminder = Reminder.objects.get(period=period)
    assert reminder.status == ReminderStatus.FAILED
    assert "no active administrator or reporter" in reminder.error
    assert mails_to_a(mailoutbox) == []


def test_a_sent_reminder_is_in_the_audit_log(cast, period, mailoutbox):
    reminders.reminders_send_due(today=DUE)

    event = AuditEvent.objects.get(
        action=AuditAction.REMINDER_SENT, coalition_uuid=cast.coalition_a.code
    )
    assert event.actor is None
    assert event.detail["kind"] == "due"
    assert event.detail["to"] == GRANTEES_WHO_SEND


@pytest.mark.parametrize("kind", [k for k, _ in ReminderKind.choices])
def test_every_kind_of_reminder_has_a_text_and_an_html_part_that_say_what_is_missing(
    cast, period, mailoutbox, kind, django_capture_on_commit_callbacks
):
    version = builders.checked_version(period, cast.admin_a, participants=15, error_rate=0.3)
    assert version.state == SubmissionState.NEEDS_FIXES
    # The checks' result e-mails (check_notices: the files were sent with no report page
    # open) are not reminders.
    mailoutbox.clear()
    day = {k: d for d, k in POINTS}.get(kind, DUE - timedelta(days=5))
    with at_nine(day):
        if kind == ReminderKind.MANUAL:
            with django_capture_on_commit_callbacks(execute=True):
                reminders.reminder_send_manual(period=period, actor=cast.coach_a)
        else:
            reminders.reminders_send_due(today=day)

    [mail] = mails_to_a(mailoutbox)
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html"
    link = f"/coalitions/{cast.coalition_a.code}/reports/2025Q3/"
    errors = f"Version 1 has {version.error_count} error"
    for part in (mail.body, html):
        assert "Alpha Wind Coalition (test)" in part
        assert "2025Q3" in part
        assert "November 14, 2025" in part
        assert link in part
        assert errors in part
        assert "{{" not in part
        assert "{%" not in part
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "&lt;" not in mail.body  # the text part is not HTML-escaped


def test_the_text_says_how_many_days_are_left_or_late(cast, period, mailoutbox):
    reminders.reminders_send_due(today=DUE - timedelta(days=3))
    reminders.reminders_send_due(today=DUE + timedelta(days=7))

    first, second = mails_to_a(mailoutbox)
    assert "due in 3 days" in first.body
    assert "7 days late" in second.body
    assert "Nobody has started the report yet." in first.body


def test_staff_send_a_manual_reminder_copied_to_themselves(
    cast, period, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reminder = reminders.reminder_send_manual(period=period, actor=cast.coach_a)

    reminder.refresh_from_db()
    assert reminder.kind == ReminderKind.MANUAL
    assert reminder.status == ReminderStatus.SENT
    assert reminder.sent_by == cast.coach_a
    [mail] = mailoutbox
    assert sorted(mail.to) == GRANTEES_WHO_SEND
    assert mail.cc == ["coach@jff.example"]
    assert mail.reply_to == ["coach@jff.example"]
    assert AuditEvent.objects.get(action=AuditAction.REMINDER_SENT).actor == cast.coach_a


def test_manual_reminders_are_not_limited_to_one_per_period(
    cast, period, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminder_send_manual(period=period, actor=cast.officer)
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminder_send_manual(period=period, actor=cast.officer)

    assert Reminder.objects.filter(period=period, kind=ReminderKind.MANUAL).count() == 2
    assert len(mailoutbox) == 2


def test_a_manual_reminder_about_a_report_already_sent_is_refused(cast, period):
    builders.submitted_version(period, cast.admin_a, participants=12)

    with pytest.raises(ValidationError) as refused:
        reminders.reminder_send_manual(period=period, actor=cast.officer)

    assert "has already sent its 2025Q3 report (version 1 is submitted)" in str(refused.value)
    assert not Reminder.objects.exists()


@pytest.mark.parametrize("who", ["admin_a", "reporter_a", "viewer_a", "outsider_b"])
def test_grantees_cannot_send_manual_reminders(cast, period, who):
    with pytest.raises(PermissionDenied):
        reminders.reminder_send_manual(period=period, actor=cast[who])


def test_a_coach_cannot_remind_a_coalition_they_do_not_coach(cast):
    period_b = builders.period_of(cast.coalition_b, "2025Q3")

    with pytest.raises(PermissionDenied):
        reminders.reminder_send_manual(period=period_b, actor=cast.coach_a)


def test_a_manual_reminder_for_a_report_sent_meanwhile_is_not_sent(
    cast, period, mailoutbox, django_capture_on_commit_callbacks
):
    reminder = reminders.reminder_send_manual(period=period, actor=cast.officer)
    builders.submitted_version(period, cast.admin_a, participants=12)
    # The checks' result e-mails (check_notices: the files were sent with no report page
    # open) are not reminders.
    mailoutbox.clear()

    reminders.reminder_deliver(reminder_id=reminder.pk)

    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.FAILED
    assert "sent before this reminder went out" in reminder.error
    assert mailoutbox == []


def test_the_daily_run_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["send-due-reminders"]
    assert entry["task"] == "reporting.tasks.send_due_reminders"
    assert entry["task"] in tasks.app.tasks
    assert entry["schedule"].hour == {9}


def test_other_coalitions_are_reminded_on_their_own(cast, period, mailoutbox):
    other = factories.GrantFactory(coalition__slug="charlie").coalition
    factories.MembershipFactory(coalition=other, role="grantee_admin", user__email="c@c.example")
    services.periods_ensure_all()

    reminders.reminders_send_due(today=DUE)

    assert {tuple(m.to) for m in mailoutbox} >= {("c@c.example",)}
    assert Reminder.objects.filter(coalition=other, kind=ReminderKind.DUE).count() == 1
