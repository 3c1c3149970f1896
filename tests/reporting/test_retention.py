"""The retention rule: superseded files and those of versions never sent go after
UPLOAD_RETENTION_DAYS; sent versions' files stay until the grant's record retention ends
(three years after closeout); every purge is audited and the history still reads."""

import io
from datetime import date

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models import Q
from django.test import TestCase
from django.urls import reverse

from bpij.models import AuditAction, AuditEvent
from reporting import services, tasks
from reporting.checks import synthetic
from reporting.models import Upload
from reporting.services import retention
from tests.builders import checked_version, period_of


def replace_people(submission, actor, *, seed: int) -> Upload:
    people, _ = synthetic.generate_files(40, seed=seed, period=submission.period.quarter)
    with TestCase.captureOnCommitCallbacks(execute=True):
        upload, _ = services.upload_receive(
            submission=submission,
            kind="participants",
            stream=io.BytesIO(people),
            name=f"people-{seed}.csv",
            actor=actor,
        )
    return upload


def stored(upload: Upload) -> bool:
    """The original, and the annotated workbook where the checks stored one beside it."""
    names = [upload.file.name, upload.annotated_file.name]
    return bool(names[0]) and all(default_storage.exists(name) for name in names if name)


def stored_any(upload: Upload) -> bool:
    return any(
        f.name and default_storage.exists(f.name) for f in (upload.file, upload.annotated_file)
    )


@pytest.fixture
def history(cast, time_machine):
    """2023Q4 accepted after its participant file was replaced once; 2024Q1 left a draft
    with a file, never sent; 2024Q3 with a file replaced recently."""
    admin = cast.admin_a
    time_machine.move_to("2024-01-20 10:00 -0500")
    period = period_of(cast.coalition_a, "2023Q4")
    first_people = replace_people(
        services.submission_start(period=period, actor=admin), admin, seed=2
    )
    accepted = checked_version(period, admin, seed=1)
    services.submission_certify(
        submission=accepted, actor=admin, name="Ada Admin", title="Director", agreed=True
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.submission_accept(submission=accepted, actor=cast.officer)

    time_machine.move_to("2024-04-20 10:00 -0400")
    draft = services.submission_start(period=period_of(cast.coalition_a, "2024Q1"), actor=admin)
    abandoned = replace_people(draft, admin, seed=3)

    time_machine.move_to("2024-10-20 10:00 -0400")
    recent = checked_version(period_of(cast.coalition_a, "2024Q3"), admin, seed=4)
    recently_replaced = Upload.objects.get(submission=recent, kind="participants")
    replace_people(recent, admin, seed=5)
    return {
        "superseded": first_people,
        "accepted": Upload.objects.filter(submission=accepted, is_current=True),
        "abandoned": abandoned,
        "recently_replaced": recently_replaced,
    }


def test_purge_deletes_only_files_past_retention_and_keeps_accepted_versions_files(
    history, time_machine, cast
):
    time_machine.move_to("2025-06-01 03:00 -0400")
    dry = io.StringIO()
    call_command("purge_uploads", "--dry-run", stdout=dry)
    assert "2 upload(s) past retention; 4 stored file(s) would be deleted" in dry.getvalue()
    assert stored(history["superseded"])
    assert stored(history["abandoned"])
    assert not AuditEvent.objects.filter(action=AuditAction.FILES_PURGED).exists()

    out = io.StringIO()
    call_command("purge_uploads", stdout=out)
    assert "4 stored file(s) were deleted" in out.getvalue()
    for gone in (history["superseded"], history["abandoned"]):
        gone.refresh_from_db()
        assert not stored_any(gone)
        assert gone.purged_at is not None
        assert gone.sha256  # the row, and the history it belongs to, stay
    assert all(stored(u) for u in history["accepted"])
    assert stored(history["recently_replaced"])
    assert not Upload.objects.filter(purged_at__isnull=False).exclude(
        pk__in=[history["superseded"].pk, history["abandoned"].pk]
    )
    event = AuditEvent.objects.get(action=AuditAction.FILES_PURGED)
    assert event.coalition_uuid == cast.coalition_a.code
    assert sorted(event.detail["uploads"]) == sorted(
        [str(history["superseded"].code), str(history["abandoned"].code)]
    )

    call_command("purge_uploads", stdout=io.StringIO())
    assert AuditEvent.objects.filter(action=AuditAction.FILES_PURGED).count() == 1


def test_accepted_versions_files_stay_until_three_years_after_closeout(history, time_machine, cast):
    grant = cast.coalition_a.grants.get()
    # Period of performance ends 2028-06-30; final reports 120 days later; then 3 years.
    assert retention.record_retention_ends(grant) == date(2031, 10, 28)
    time_machine.move_to("2031-10-28 12:00 -0400")
    retention.uploads_purge()
    assert all(stored(u) for u in history["accepted"])
    time_machine.move_to("2031-10-30 12:00 -0400")
    retention.uploads_purge()
    assert not any(stored(u) for u in history["accepted"])


def test_a_purged_file_is_said_to_be_removed_instead_of_failing(
    history, time_machine, cast, client_for
):
    time_machine.move_to("2025-06-01 03:00 -0400")
    retention.uploads_purge()
    client = client_for(cast.admin_a)
    abandoned = history["abandoned"]
    for view in ("reporting:upload-original", "reporting:upload-annotated"):
        response = client.get(reverse(view, args=[abandoned.code]))
        assert response.status_code == 410
        assert b"removed under the retention rule" in response.content
    # The draft lost its only file: it is back to draft, waiting for a new upload, and its
    # history says why.
    draft = abandoned.submission
    draft.refresh_from_db()
    assert draft.state == "draft"
    assert not draft.uploads.filter(is_current=True).exists()
    event = draft.events.latest("id")
    assert (event.kind, event.from_state, event.to_state) == ("files_purged", "ready", "draft")
    page = client.get(reverse("reporting:period-detail", args=[cast.coalition_a.code, "2024Q1"]))
    assert page.status_code == 200
    assert b"removed under the retention rule" in page.content


def test_a_sent_versions_purged_file_is_said_to_be_removed_on_its_period_page(
    history, time_machine, cast, client_for
):
    time_machine.move_to("2031-11-01 12:00 -0400")
    retention.uploads_purge()
    client = client_for(cast.admin_a)
    page = client.get(reverse("reporting:period-detail", args=[cast.coalition_a.code, "2023Q4"]))
    assert b"The stored file was removed on" in page.content


def test_a_file_a_returned_version_still_holds_is_not_deleted_with_its_draft_copy(
    cast, time_machine
):
    admin = cast.admin_a
    time_machine.move_to("2024-01-20 10:00 -0500")
    period = period_of(cast.coalition_a, "2023Q4")
    sent = checked_version(period, admin, seed=1)
    services.submission_certify(
        submission=sent, actor=admin, name="Ada Admin", title="Director", agreed=True
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.submission_return(
            submission=sent, actor=cast.officer, reasons=["data_quality"], note="Fix it."
        )
    draft = services.submission_start(period=period, actor=admin)
    copies = Upload.objects.filter(submission=draft)
    assert copies.count() == 2

    time_machine.move_to("2025-06-01 03:00 -0400")
    purge = retention.uploads_purge()
    assert {u.pk for u in purge.uploads} == {u.pk for u in copies}
    assert purge.files == []
    assert all(stored(u) for u in Upload.objects.filter(submission=sent))


def test_beat_purges_every_day(settings, db):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-uploads"]
    assert entry["task"] == "reporting.tasks.purge_uploads"
    assert entry["schedule"].hour == {2}
    assert tasks.purge_uploads.delay().get() == 0


def test_retention_days_come_from_the_settings(history, time_machine, settings):
    settings.UPLOAD_RETENTION_DAYS = 30
    time_machine.move_to("2024-12-01 03:00 -0500")
    expired = retention.uploads_expired().uploads
    assert history["recently_replaced"] in expired
    assert not Upload.objects.filter(Q(purged_at__isnull=False)).exists()


def test_purge_deletes_the_objects_of_an_s3_bucket(s3_bucket, history, time_machine):
    before = set(s3_bucket.objects())
    time_machine.move_to("2025-06-01 03:00 -0400")

    purge = retention.uploads_purge()

    gone = {name for _storage, name in purge.files}
    assert len(gone) == 4
    assert gone <= before
    assert set(s3_bucket.objects()) == before - gone
    assert all(stored(u) for u in history["accepted"])
