"""The retention rule for stored upload files (docs/security.md, Retention).

- A superseded file (replaced by a newer one) and the files of a version never sent are
  kept ``UPLOAD_RETENTION_DAYS`` (365 by default), then deleted.
- The files of a version that was sent (submitted, in review, returned, accepted) are
  records of the award: they are kept until the grant's record-retention period ends,
  three years after closeout (2 CFR 200.334). Closeout is counted as the day the final
  reports are due, 120 days after the period of performance ends (2 CFR 200.344(b)).

Purging deletes the stored files, every FileField of the upload (the original and any
copy made from it), and keeps the rows with ``purged_at`` set, so the version's history
still reads. A file shared by several rows (a new version starts from the files of the
one returned) is deleted only when every row that names it is past retention.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from bpij import services as platform
from bpij.models import AuditAction
from grantees.models import Grant
from reporting.models import OPEN_STATES, SENT_STATES, SubmissionState, Upload
from reporting.services import transitions

RECORD_RETENTION_YEARS = 3
CLOSEOUT_DAYS = 120


def record_retention_ends(grant: Grant) -> date:
    closeout = grant.end_date + timedelta(days=CLOSEOUT_DAYS)
    try:
        return closeout.replace(year=closeout.year + RECORD_RETENTION_YEARS)
    except ValueError:  # 29 February
        return closeout.replace(year=closeout.year + RECORD_RETENTION_YEARS, day=28)


def _file_fields() -> list[models.FileField]:
    return [f for f in Upload._meta.get_fields() if isinstance(f, models.FileField)]


def _expired(now: datetime) -> "models.QuerySet[Upload]":
    cutoff = now - timedelta(days=settings.UPLOAD_RETENTION_DAYS)
    closed_grants = [
        grant.pk
        for grant in Grant.objects.filter(end_date__lt=now.date())
        if record_retention_ends(grant) < now.date()
    ]
    superseded = models.Q(is_current=False, uploaded_at__lt=cutoff)
    never_sent = models.Q(
        submission__state__in=OPEN_STATES,
        submission__created_at__lt=cutoff,
        uploaded_at__lt=cutoff,
    )
    past_grant_retention = models.Q(submission__period__grant__in=closed_grants)
    return Upload.objects.filter(purged_at=None).filter(
        superseded | never_sent | past_grant_retention
    )


@dataclass
class Purge:
    uploads: list[Upload] = field(default_factory=list)
    # (storage, name) of each stored file to delete.
    files: list[tuple[object, str]] = field(default_factory=list)


def uploads_expired(*, now: datetime | None = None) -> Purge:
    """What the retention rule removes now: the uploads past it, and the stored files
    that no upload still inside its retention names."""
    expired = list(_expired(now or timezone.now()).select_related("coalition", "submission"))
    purge = Purge(uploads=expired)
    for file_field in _file_fields():
        names = {getattr(u, file_field.attname).name or "" for u in expired} - {""}
        kept = set(
            Upload.objects.filter(purged_at=None, **{f"{file_field.attname}__in": names})
            .exclude(pk__in=[u.pk for u in expired])
            .values_list(file_field.attname, flat=True)
        )
        purge.files += [(file_field.storage, name) for name in sorted(names - kept)]
    return purge


def _record_in_histories(uploads: list[Upload]) -> None:
    """Say so in each version's history. A version still open loses the purged files as
    its current ones and goes back to draft, so the grantee uploads again rather than a
    check or a certification reaching for a file that is gone."""
    by_submission: dict[int, list[Upload]] = defaultdict(list)
    for upload in uploads:
        by_submission[upload.submission_id].append(upload)
    for group in by_submission.values():
        submission = group[0].submission
        note = "Past the retention rule: " + ", ".join(sorted(u.original_name for u in group))
        if submission.state in OPEN_STATES:
            Upload.objects.filter(pk__in=[u.pk for u in group]).update(is_current=False)
            moved = transitions.transition(
                submission,
                from_states=OPEN_STATES,
                to_state=SubmissionState.DRAFT,
                actor=None,
                kind="files_purged",
                note=note,
            )
            if moved:
                continue
        transitions.event(submission, "files_purged", actor=None, note=note)


def uploads_purge(*, now: datetime | None = None) -> Purge:
    """Delete the stored files past retention and mark their uploads; one audit event per
    coalition purged. Idempotent: a run that stopped after deleting files but before
    marking the rows deletes nothing new and marks them the next time."""
    now = now or timezone.now()
    purge = uploads_expired(now=now)
    for storage, name in purge.files:
        storage.delete(name)  # type: ignore[attr-defined]
    by_coalition: dict[int, list[Upload]] = defaultdict(list)
    for upload in purge.uploads:
        by_coalition[upload.coalition_id].append(upload)
    for uploads in by_coalition.values():
        with transaction.atomic():
            Upload.objects.filter(pk__in=[u.pk for u in uploads], purged_at=None).update(
                purged_at=now
            )
            _record_in_histories(uploads)
            platform.audit_record(
                action=AuditAction.FILES_PURGED,
                coalition=uploads[0].coalition,
                target=f"{len(uploads)} uploaded file(s) past the retention rule",
                detail={
                    "uploads": [str(u.code) for u in uploads],
                    "names": sorted(u.original_name for u in uploads),
                    "sent_versions": sum(u.submission.state in SENT_STATES for u in uploads),
                },
            )
    return purge
