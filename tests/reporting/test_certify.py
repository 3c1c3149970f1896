"""Certifying what cannot be right (issue 11): no certification before the quarter has
ended; a file identical to the last accepted quarter's, or with no activity in the
quarter, is confirmed in so many words; a late report says why; and every certified
version has a receipt, on the page and by e-mail."""

import io
import re

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.urls import reverse

from bpij.models import AuditAction, AuditEvent
from reporting import services
from reporting.models import Submission, SubmissionEvent, SubmissionState, Upload
from reporting.selectors import certify as certify_selectors
from tests.builders import period_of
from tests.reporting.checks.cases import csv_bytes, job, person

# 2025Q3 runs July 1 – September 30, 2025 and is due November 14, 2025.
# A participant who exits in the quarter: the participant file holds 2025Q3 activity.
CURRENT = [person(1), person(2, exit_date="20250910"), person(3)]
# person()'s newest date is the credential of June 15, 2024: nothing in 2025Q3.
STALE = [person(1), person(2), person(3)]
JOBS = [job(1), job(2, start_date="20250815")]
OLD_JOBS = [job(1), job(2)]


def ready(period, actor, people=CURRENT, jobs=JOBS, names=("people.csv", "jobs.csv")):
    """The period's version with both files uploaded and checked, ready to certify."""
    submission = services.submission_start(period=period, actor=actor, today=period.end_date)
    for kind, rows, name in (("participants", people, names[0]), ("placements", jobs, names[1])):
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.upload_receive(
                submission=submission,
                kind=kind,
                stream=io.BytesIO(rows if isinstance(rows, bytes) else csv_bytes(rows)),
                name=name,
                actor=actor,
            )
    submission.refresh_from_db()
    assert submission.state == SubmissionState.READY, submission.state
    return submission


def certify(submission, actor, **kwargs):
    arguments = {"name": "Ada Admin", "title": "Director", "agreed": True} | kwargs
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.submission_certify(submission=submission, actor=actor, **arguments)


def certified_audit(submission) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            coalition_uuid=submission.coalition.code,
            action=AuditAction.SUBMISSION_CERTIFIED,
            target=f"{submission.period.quarter} report, version {submission.version}",
        )
    )


def unchanged(submission, uploads: int) -> None:
    submission.refresh_from_db()
    assert submission.state == SubmissionState.READY
    assert submission.certified_at is None
    assert Upload.objects.filter(submission=submission, is_current=True).count() == uploads
    kinds = set(
        SubmissionEvent.objects.filter(submission=submission).values_list("kind", flat=True)
    )
    assert not kinds & {"certified", "warnings_confirmed"}
    assert not certified_audit(submission)


@pytest.fixture
def q3(cast):
    return period_of(cast.coalition_a, "2025Q3")


# -- Not before the quarter has ended --------------------------------------------------


def test_a_report_cannot_be_certified_before_its_quarter_ends(cast, q3):
    # 11:30 p.m. on September 30 in the program's time zone (3:30 a.m. UTC, October 1).
    with time_machine.travel("2025-09-30 23:30 -0400", tick=False):
        submission = ready(q3, cast.admin_a)
        with pytest.raises(ValidationError) as refused:
            certify(submission, cast.admin_a)
        assert (
            "The 2025Q3 quarter runs until September 30, 2025, so its report can be certified "
            "from October 1, 2025." in refused.value.messages[0]
        )
        unchanged(submission, uploads=2)
    with time_machine.travel("2025-10-01 00:05 -0400", tick=False):
        certify(submission, cast.admin_a)
    submission.refresh_from_db()
    assert submission.state == SubmissionState.SUBMITTED
    assert submission.late_reason == ""


# -- Late reports say why --------------------------------------------------------------


def test_a_late_report_needs_a_reason_which_is_kept_with_the_version(cast, q3):
    with time_machine.travel("2025-11-17 10:00 -0500", tick=False):
        submission = ready(q3, cast.admin_a)
        with pytest.raises(ValidationError, match=r"due on November 14, 2025 and is 3 days late"):
            certify(submission, cast.admin_a)
        with pytest.raises(ValidationError, match=r"2,001 characters; at most 2,000"):
            certify(submission, cast.admin_a, late_reason="x" * 2001)
        with pytest.raises(ValidationError, match="3 days late"):
            certify(submission, cast.admin_a, late_reason="   ")
        unchanged(submission, uploads=2)
        certify(submission, cast.admin_a, late_reason="  Our data manager was on leave.  ")
    submission.refresh_from_db()
    assert submission.state == SubmissionState.SUBMITTED
    assert submission.late_reason == "Our data manager was on leave."
    event = SubmissionEvent.objects.get(submission=submission, kind="certified")
    assert event.note == (
        "Certified by Ada Admin, Director. 3 days late: Our data manager was on leave."
    )
    (audit,) = certified_audit(submission)
    assert audit.detail["days_late"] == 3
    assert audit.detail["late_reason"] == "Our data manager was on leave."


def test_everything_missing_is_said_at_once(cast, q3):
    with time_machine.travel("2025-11-17 10:00 -0500", tick=False):
        submission = ready(q3, cast.admin_a, people=STALE)
        with pytest.raises(ValidationError) as refused:
            certify(submission, cast.admin_a)
        first, second = refused.value.messages
        assert "holds no activity in 2025Q3" in first
        assert first.endswith("or upload up-to-date files.")
        assert "due on November 14, 2025 and is 3 days late" in second
        unchanged(submission, uploads=2)


def test_on_the_due_date_no_reason_is_asked_nor_kept(cast, q3):
    with time_machine.travel("2025-11-14 23:30 -0500", tick=False):
        submission = ready(q3, cast.admin_a)
        certify(submission, cast.admin_a, late_reason="Not late at all.")
    submission.refresh_from_db()
    assert submission.state == SubmissionState.SUBMITTED
    assert submission.late_reason == ""


# -- Files that were not brought up to date ---------------------------------------------


def test_a_file_identical_to_the_last_accepted_quarters_must_be_confirmed(cast):
    q2 = period_of(cast.coalition_a, "2025Q2")
    with time_machine.travel("2025-07-10 10:00 -0400", tick=False):
        accepted = ready(q2, cast.admin_a, people=STALE, jobs=OLD_JOBS)
        certify(accepted, cast.admin_a, confirmed=True)
        services.submission_accept(submission=accepted, actor=cast.officer)
    q3 = period_of(cast.coalition_a, "2025Q3")
    with time_machine.travel("2025-10-20 10:00 -0400", tick=False):
        # The same bytes under other names: the SHA-256 is what counts.
        submission = ready(q3, cast.admin_a, people=STALE, jobs=OLD_JOBS, names=("q3.csv", "j.csv"))
        warnings = certify_selectors.certify_warnings(submission)
        assert warnings == [
            "The participant file q3.csv is the same file, byte for byte (same SHA-256), as "
            "the one in the accepted 2025Q2 report: nothing in it changed since then.",
            "The participant file q3.csv holds no activity in 2025Q3: its newest date is "
            "June 15, 2024, before the quarter began on July 1, 2025.",
            "The placement file j.csv is the same file, byte for byte (same SHA-256), as the "
            "one in the accepted 2025Q2 report: nothing in it changed since then.",
            "The placement file j.csv holds no activity in 2025Q3: its newest date is July 1, "
            "2024, before the quarter began on July 1, 2025.",
        ]
        with pytest.raises(ValidationError) as refused:
            certify(submission, cast.admin_a)
        assert refused.value.messages[0].startswith(warnings[0])
        assert refused.value.messages[0].endswith(
            "Tick the box to confirm the files are the ones you mean to send, or upload "
            "up-to-date files."
        )
        unchanged(submission, uploads=2)
        certify(submission, cast.admin_a, confirmed=True)
    submission.refresh_from_db()
    assert submission.state == SubmissionState.SUBMITTED
    assert submission.confirmed_warnings == warnings
    events = list(
        SubmissionEvent.objects.filter(
            submission=submission, kind__in=["warnings_confirmed", "certified"]
        )
        .order_by("at", "id")
        .values_list("kind", "actor", "note")
    )
    assert events == [
        ("warnings_confirmed", cast.admin_a.pk, " ".join(warnings)),
        ("certified", cast.admin_a.pk, "Certified by Ada Admin, Director"),
    ]
    (audit,) = certified_audit(submission)
    assert audit.detail["confirmed_warnings"] == warnings


def test_an_updated_file_from_the_same_quarter_as_last_time_draws_no_identical_warning(cast):
    """Only the last *accepted* quarter counts: a returned one's files are not compared."""
    q2 = period_of(cast.coalition_a, "2025Q2")
    with time_machine.travel("2025-07-10 10:00 -0400", tick=False):
        sent = ready(q2, cast.admin_a, people=STALE, jobs=OLD_JOBS)
        certify(sent, cast.admin_a, confirmed=True)
    q3 = period_of(cast.coalition_a, "2025Q3")
    with time_machine.travel("2025-10-20 10:00 -0400", tick=False):
        submission = ready(q3, cast.admin_a, people=CURRENT, jobs=OLD_JOBS)
        assert certify_selectors.certify_warnings(submission) == [
            "The placement file jobs.csv holds no activity in 2025Q3: its newest date is July "
            "1, 2024, before the quarter began on July 1, 2025."
        ]


@pytest.mark.parametrize(
    "changes",
    [
        {"exit_date": "20250701"},  # the quarter's first day counts
        {"exit_date": "20250930"},  # and its last
        {"msg_skills_progression_date": "20250815"},
    ],
    ids=["exit on the first day", "exit on the last day", "skill gain"],
)
def test_one_dated_activity_in_the_quarter_is_enough(cast, q3, changes):
    with time_machine.travel("2025-10-20 10:00 -0400", tick=False):
        submission = ready(q3, cast.admin_a, people=[person(1), person(2, **changes)])
        assert certify_selectors.certify_warnings(submission) == []
        certify(submission, cast.admin_a)
    submission.refresh_from_db()
    assert (submission.state, submission.confirmed_warnings) == (SubmissionState.SUBMITTED, [])
    assert not SubmissionEvent.objects.filter(submission=submission, kind="warnings_confirmed")


# -- The receipt ---------------------------------------------------------------------------


def test_certifying_e_mails_the_certifier_a_receipt_of_what_was_sent(cast, q3, settings):
    settings.SITE_URL = "https://hub.example"
    with time_machine.travel("2025-11-20 10:00 -0500", tick=False):
        submission = ready(q3, cast.admin_a)
        Submission.objects.filter(pk=submission.pk).update(narrative_progress="Three enrolled.")
        submission.refresh_from_db()
        certify(submission, cast.admin_a, late_reason="The files were finished late.")
    submission.refresh_from_db()
    number = f"BPIJ-2025Q3-{q3.pk:05d}-V1"
    assert submission.receipt_number == number
    # The checks' own result e-mails go out too (no page was watching): take the receipt.
    (message,) = receipts()
    assert message.to == [cast.admin_a.email]
    assert message.subject.endswith(f"Receipt {number}: your 2025Q3 report was submitted")
    html = message.alternatives[0][0]
    uploads = {u.kind: u for u in Upload.objects.filter(submission=submission, is_current=True)}
    link = "https://hub.example" + reverse("reporting:submission-receipt", args=[submission.code])
    for body in (message.body, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))):
        assert f"Confirmation number: {number}" in body
        assert "Participant file: people.csv, 3 rows" in body
        assert "Placement file: jobs.csv, 2 rows" in body
        assert f"SHA-256 {uploads['participants'].sha256}" in body
        assert f"SHA-256 {uploads['placements'].sha256}" in body
        assert "Ada Admin, Director" in body
        assert "November 20, 2025, 10:00 a.m. EST" in body
        assert "The files were finished late." in body
        # No SSN, in full or in part beyond what the page shows: the receipt has none.
        for row in CURRENT:
            assert row["ssn"] not in body
            assert row["ssn"].replace("-", "") not in body
    assert "Narrative: included" in message.body
    assert link in message.body
    assert f'href="{link}"' in html


def test_a_receipt_number_is_unique_per_version_and_stable(cast, q3):
    with time_machine.travel("2025-10-20 10:00 -0400", tick=False):
        first = ready(q3, cast.admin_a)
        certify(first, cast.admin_a)
        Submission.objects.filter(pk=first.pk).update(state=SubmissionState.RETURNED)
        with TestCase.captureOnCommitCallbacks(execute=True):  # the carried files' checks
            second = services.submission_start(period=q3, actor=cast.admin_a)
        second.refresh_from_db()
        assert second.receipt_number == ""  # not certified yet
        certify(second, cast.admin_a)
    numbers = [s.receipt_number for s in Submission.objects.filter(period=q3).order_by("version")]
    assert numbers == [f"BPIJ-2025Q3-{q3.pk:05d}-V1", f"BPIJ-2025Q3-{q3.pk:05d}-V2"]
    assert len(receipts()) == 2


def receipts() -> list:
    return [message for message in mail.outbox if "Receipt BPIJ-" in message.subject]


# -- The pages -----------------------------------------------------------------------------


def page_text(response) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r" ([.,:;])", r"\1", text)


def test_the_report_page_says_when_certification_opens_and_refuses_it_before(cast, client_for, q3):
    with time_machine.travel("2025-09-20 10:00 -0400", tick=True):
        client = client_for(cast.admin_a)
        submission = ready(q3, cast.admin_a)
        page = client.get(
            reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"])
        )
        text = page_text(page)
        assert (
            "The files are ready, but the 2025Q3 quarter runs until September 30, 2025: its "
            "report can be certified from October 1, 2025." in text
        )
        assert 'name="agreed"' not in page.content.decode()
        refused = client.post(
            reverse("reporting:certify", args=[submission.code]),
            {"name": "Ada Admin", "title": "", "agreed": "on"},
        )
    assert refused.status_code == 400
    assert "its report can be certified from October 1, 2025" in page_text(refused)
    unchanged(submission, uploads=2)


def test_a_late_report_asks_why_and_keeps_what_was_typed_when_refused(cast, client_for, q3):
    with time_machine.travel("2025-11-20 10:00 -0500", tick=True):
        client = client_for(cast.admin_a)
        submission = ready(q3, cast.admin_a, people=STALE)
        detail = reverse("reporting:period-detail", args=[cast.coalition_a.code, "2025Q3"])
        page = page_text(client.get(detail))
        assert "The report was due on November 14, 2025 and is 6 days late: say why below." in page
        assert "Why is the report late?" in page
        assert "holds no activity in 2025Q3" in page
        assert (
            "Every row passed every check. Before you certify, read the warning under Certify "
            "and submit: the files may not be up to date for 2025Q3." in page
        )
        assert "I have looked at the warnings above: these are the files I mean to send." in page
        certify_url = reverse("reporting:certify", args=[submission.code])
        typed = {"name": "Ada Admin", "title": "Director", "agreed": "on"}
        # The warning not confirmed: refused, and the reason typed is still there.
        refused = client.post(certify_url, typed | {"late_reason": "Staff were out sick."})
        assert refused.status_code == 400
        assert "Tick the box to confirm the files" in page_text(refused)
        assert ">Staff were out sick.</textarea>" in refused.content.decode()
        # No reason: refused.
        refused = client.post(certify_url, typed | {"confirmed": "on"})
        assert refused.status_code == 400
        assert "is 6 days late: say why in a few words" in page_text(refused)
        unchanged(submission, uploads=2)
        sent = client.post(
            certify_url, typed | {"confirmed": "on", "late_reason": "Staff were out sick."}
        )
        receipt_url = reverse("reporting:submission-receipt", args=[submission.code])
        assert (sent.status_code, sent.url) == (302, receipt_url)
        receipt = page_text(client.get(receipt_url))
        number = f"BPIJ-2025Q3-{q3.pk:05d}-V1"
        assert f"Confirmation number {number}" in receipt
        uploads = Upload.objects.filter(submission=submission, is_current=True)
        for upload in uploads:
            assert f"{upload.original_name} {upload.data_rows}" in receipt
            assert upload.sha256 in receipt
        assert "Reason the report is late Staff were out sick." in receipt
        assert "Narrative Not included (left empty)" in receipt
        assert "holds no activity in 2025Q3" in receipt  # what was confirmed
        # And from the report page, again.
        report = client.get(detail).content.decode()
        assert f'href="{receipt_url}"' in report
        assert f"Receipt {number}" in report


def test_jff_reads_the_late_reason_and_the_confirmed_warnings(cast, client_for, q3):
    with time_machine.travel("2025-11-20 10:00 -0500", tick=False):
        submission = ready(q3, cast.admin_a, people=STALE)
        certify(submission, cast.admin_a, confirmed=True, late_reason="Staff were out sick.")
    coach = client_for(cast.coach_a)
    review = page_text(coach.get(reverse("reporting:submission-review", args=[submission.code])))
    assert "Why late Staff were out sick." in review
    assert "Confirmed when certifying The participant file people.csv holds no activity" in review
    assert f"Receipt BPIJ-2025Q3-{q3.pk:05d}-V1" in review
    queue = page_text(coach.get(reverse("reporting:review-queue")))
    assert "Why late: Staff were out sick." in queue
    assert "1 warning confirmed when certifying" in queue
