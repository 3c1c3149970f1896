"""Every change to periods, submissions and uploads: starting a version, receiving its
files, checking them, the narrative and certification. Each is atomic and queues its side
effects on commit; the state changes themselves are reporting.services.transitions."""

import hashlib
from datetime import date
from functools import partial
from typing import IO

import polars as pl
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from bpij import services as platform
from bpij.models import AuditAction, User
from grantees.calendar import due_date
from grantees.models import Grant
from reporting import (
    checks,
    contract,
    findings,
    permissions,
    pii,
    records,
    selectors,
    spreadsheets,
)
from reporting.checks import engine, reading, values
from reporting.models import (
    OPEN_STATES,
    ReportingPeriod,
    Submission,
    SubmissionState,
    Upload,
    UploadKind,
    UploadStatus,
)
from reporting.selectors import certify as certify_selectors
from reporting.services import recovery, transitions

ATTESTATION = (
    "By submitting this report, I certify to the best of my knowledge and belief that the "
    "report is true, complete, and accurate. I am aware that any false, fictitious, or "
    "fraudulent information, or the omission of any material fact, may subject me to "
    "criminal, civil, or administrative penalties for fraud, false statements, false "
    "claims, or otherwise (U.S. Code Title 18, Section 1001 and Title 31, Sections "
    "3729–3730 and 3801–3812)."
)


@transaction.atomic
def periods_ensure(*, grant: Grant) -> list[ReportingPeriod]:
    """Create the grant's reporting periods (every quarter of its period of performance)
    that do not exist yet."""
    existing = set(ReportingPeriod.objects.filter(grant=grant).values_list("quarter", flat=True))
    new = [
        ReportingPeriod(
            coalition_id=grant.coalition_id,
            grant=grant,
            quarter=str(quarter),
            start_date=quarter.start,
            end_date=quarter.end,
            due_date=due_date(quarter),
        )
        for quarter in grant.quarters
        if str(quarter) not in existing
    ]
    ReportingPeriod.objects.bulk_create(new)
    if new:  # bulk_create sends no signal: the program dashboard lists the quarter's periods
        from reporting import pagecache

        pagecache.invalidate(pagecache.FIGURES)
    return new


def periods_ensure_all() -> int:
    """Every grant's periods; returns how many were created."""
    return sum(len(periods_ensure(grant=grant)) for grant in Grant.objects.all())


@transaction.atomic
def submission_start(
    *, period: ReportingPeriod, actor: User, today: date | None = None
) -> Submission:
    """The period's open version, starting a new draft if there is none.

    A new draft after a returned version starts from it (its files and narrative); an
    accepted or submitted period gets no new draft here.
    """
    # One start at a time per period: of eight "Start report" at once, the first makes
    # the draft and the others, waiting here, find it (no duplicate version number).
    ReportingPeriod.objects.select_for_update(of=("self",)).filter(pk=period.pk).first()
    open_version = Submission.objects.filter(period=period, state__in=OPEN_STATES).first()
    if open_version is not None:
        return open_version
    if not permissions.can_start_report(actor, period.coalition):
        raise PermissionDenied
    today = today or timezone.localdate()
    if period.start_date > today:
        raise ValidationError(
            f"{period.quarter} has not started yet; its report opens on "
            f"{period.start_date:%B %-d, %Y}."
        )
    latest = Submission.objects.filter(period=period).order_by("-version").first()
    if latest is not None and latest.state != SubmissionState.RETURNED:
        raise ValidationError(
            f"Version {latest.version} of the {period.quarter} report is "
            f"{latest.get_state_display().lower()}; a new version can be started only "
            "after JFF returns it for revision."
        )
    version = (
        Submission.objects.filter(period=period).aggregate(top=Max("version"))["top"] or 0
    ) + 1
    submission = Submission.objects.create(
        coalition_id=period.coalition_id,
        period=period,
        version=version,
        created_by=actor,
        previous=latest,
        narrative_progress=latest.narrative_progress if latest else "",
        narrative_challenges=latest.narrative_challenges if latest else "",
        narrative_ta_needs=latest.narrative_ta_needs if latest else "",
    )
    transitions.event(submission, "started", actor=actor, to_state=SubmissionState.DRAFT)
    if latest is not None:
        for upload in Upload.objects.filter(submission=latest, is_current=True):
            Upload.objects.create(
                coalition_id=upload.coalition_id,
                submission=submission,
                kind=upload.kind,
                file=upload.file.name,
                original_name=upload.original_name,
                size=upload.size,
                sha256=upload.sha256,
                uploaded_by=upload.uploaded_by,
                uploaded_at=upload.uploaded_at,
            )
        recovery.check_queue(submission, actor=actor)
    return submission


def _sha256(stream: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    stream.seek(0)
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


@transaction.atomic
def upload_receive(
    *,
    submission: Submission,
    kind: str,
    stream: IO[bytes],
    name: str,
    actor: User,
) -> tuple[Upload, bool]:
    """Store a participant or placement file unchanged and queue the checks.

    Returns the upload and whether it is new: the same file sent again (same SHA-256 as
    the current one of its kind) is recognised and not stored twice.
    """
    if kind not in UploadKind.values:
        raise ValidationError(f"{kind!r} is not a file kind: use participants or placements.")
    if not permissions.can_edit_submission(actor, submission):
        raise PermissionDenied
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if not submission.is_open:
        raise ValidationError(
            f"Version {submission.version} is {submission.get_state_display().lower()} and "
            "locked; files can be changed only in a draft version."
        )
    sha256, size = _sha256(stream)
    if size > contract.MAX_FILE_BYTES:
        raise ValidationError(
            f"{name} is {size / 1024 / 1024:.1f} MB; files may be at most "
            f"{contract.MAX_FILE_BYTES // 1024 // 1024} MB. Remove columns that are not in "
            "the template, or split nothing: send the whole cumulative file as CSV, which "
            "is smaller than XLSX."
        )
    if size == 0:
        raise ValidationError(f"{name} is empty: choose the file again.")
    current = Upload.objects.filter(submission=submission, kind=kind, is_current=True).first()
    unchecked = (
        # Its checks failed (submission_check_failed): the same file sent again is stored
        # again (the stored copy may be what failed) and checked again.
        current is not None
        and submission.state == SubmissionState.DRAFT
        and current.status == UploadStatus.RECEIVED
        and kind == UploadKind.PARTICIPANTS
    )
    if current is not None and current.sha256 == sha256 and not unchecked:
        return current, False
    Upload.objects.filter(submission=submission, kind=kind, is_current=True).update(
        is_current=False
    )
    upload = Upload(
        coalition_id=submission.coalition_id,
        submission=submission,
        kind=kind,
        original_name=name[:255],
        size=size,
        sha256=sha256,
        uploaded_by=actor,
    )
    upload.file.save(name, File(stream), save=False)
    upload.save()
    platform.audit_record(
        action=AuditAction.PII_UPLOADED,
        actor=actor,
        coalition=submission.coalition,
        target=f"{name} ({kind}, {submission.period.quarter} v{submission.version})",
        detail={"upload": str(upload.code), "sha256": sha256},
    )
    transitions.event(
        submission,
        "uploaded",
        actor=actor,
        note=f"{UploadKind(kind).label}: {name} ({size:,} bytes, SHA-256 {sha256[:12]}…)",
    )
    recovery.check_queue(submission, actor=actor)
    return upload, True


@transaction.atomic
def submission_save_narrative(
    *, submission: Submission, actor: User, progress: str, challenges: str, ta_needs: str
) -> Submission:
    if not permissions.can_edit_submission(actor, submission):
        raise PermissionDenied
    updated = Submission.objects.filter(pk=submission.pk, state__in=OPEN_STATES).update(
        narrative_progress=progress.strip(),
        narrative_challenges=challenges.strip(),
        narrative_ta_needs=ta_needs.strip(),
    )
    if not updated:
        raise ValidationError("This version is locked; the narrative can no longer change.")
    submission.narrative_progress = progress.strip()
    submission.narrative_challenges = challenges.strip()
    submission.narrative_ta_needs = ta_needs.strip()
    return submission


MAX_LATE_REASON = 2000


@transaction.atomic
def submission_certify(
    *,
    submission: Submission,
    actor: User,
    name: str,
    title: str,
    agreed: bool,
    late_reason: str = "",
    confirmed: bool = False,
) -> Submission:
    """Certify and submit: a coalition administrator attests the report; the version is
    locked. Only a checked version with zero errors (state `ready`) can be sent, and
    only once its quarter has ended; the placement file and the narrative are optional
    (docs/reporting.md). A version with warnings to confirm (``certify_warnings``) needs
    ``confirmed``; one certified after the due date needs a ``late_reason``. Refused,
    nothing changes: the version, its files and narrative stay as they were."""
    if not permissions.can_certify(actor, submission.coalition):
        raise PermissionDenied
    if not agreed:
        raise ValidationError("Tick the certification box to attest the report.")
    if not name.strip():
        raise ValidationError("Type your full name as your signature.")
    if submission.state != SubmissionState.READY:
        raise ValidationError(_not_ready_reason(submission))
    now = timezone.now()
    today = timezone.localdate(now)
    period = submission.period
    opens = certify_selectors.certify_opens(period)
    if today < opens:
        raise ValidationError(
            f"The {period.quarter} quarter runs until {period.end_date:%B %-d, %Y}, so its "
            f"report can be certified from {opens:%B %-d, %Y}. Everything you have done "
            "is kept: come back then to certify."
        )
    # Everything missing is said at once: a grantee filing late at night fixes it in one go.
    problems = []
    warnings = certify_selectors.certify_warnings(submission)
    if warnings and not confirmed:
        problems.append(
            " ".join(warnings)
            + " Tick the box to confirm the files are the ones you mean to send, or "
            "upload up-to-date files."
        )
    late = certify_selectors.days_late(period, today)
    late_reason = late_reason.strip() if late else ""
    if late and not late_reason:
        problems.append(
            f"The {period.quarter} report was due on {period.due_date:%B %-d, %Y} and is "
            f"{late} day{'s' if late != 1 else ''} late: say why in a few words "
            "(JFF reads the reason with the report)."
        )
    if len(late_reason) > MAX_LATE_REASON:
        problems.append(
            f"The reason for the late report has {len(late_reason):,} characters; at most "
            f"{MAX_LATE_REASON:,} are allowed."
        )
    if problems:
        raise ValidationError(problems)
    if warnings:
        # Before the certification in the history; rolled back with it if it loses.
        transitions.event(submission, "warnings_confirmed", actor=actor, note=" ".join(warnings))
    signed = name.strip() + (f", {title.strip()}" if title.strip() else "")
    won = transitions.transition(
        submission,
        from_states=(SubmissionState.READY,),
        to_state=SubmissionState.SUBMITTED,
        actor=actor,
        kind="certified",
        note=f"Certified by {signed}"
        + (f". {late} day{'s' if late != 1 else ''} late: {late_reason}" if late else ""),
        certified_by=actor,
        certifier_name=name.strip()[:150],
        certifier_title=title.strip()[:150],
        attestation=ATTESTATION,
        certified_at=now,
        submitted_at=now,
        late_reason=late_reason,
        confirmed_warnings=warnings,
    )
    if not won:
        raise transitions.lost_race(submission)
    platform.audit_record(
        action=AuditAction.SUBMISSION_CERTIFIED,
        actor=actor,
        coalition=submission.coalition,
        target=submission.report_label,
        detail={
            "receipt": submission.receipt_number,
            "days_late": late,
            "late_reason": late_reason,
            "confirmed_warnings": warnings,
        },
    )
    # Committed whatever the broker does: the roll-up is owed on the period (the sweeper
    # computes it if this message is lost); the e-mails are sent if Redis takes them.
    recovery.rollup_owed(submission.period_id)
    recovery.send_on_commit("send_receipt", submission.pk)
    recovery.send_on_commit("notify_staff", submission.pk, "certified")
    return submission


def _not_ready_reason(submission: Submission) -> str:
    if submission.state == SubmissionState.CHECKING:
        return "The files are still being checked; certify once the checks finish."
    if submission.state == SubmissionState.NEEDS_FIXES:
        return (
            f"The files have {submission.error_count} error(s). Fix them and upload again; "
            "only a version with zero errors can be certified."
        )
    if submission.state == SubmissionState.DRAFT:
        return "Upload the participant and placement files first."
    return (
        f"Version {submission.version} is {submission.get_state_display().lower()}; it "
        "can no longer be certified."
    )


def audit_pii_access(
    *,
    actor: User,
    upload: Upload,
    what: str,
    action: AuditAction = AuditAction.PII_DOWNLOADED,
) -> None:
    """Every view and download of participant-level data is written to the audit log."""
    platform.audit_record(
        action=action,
        actor=actor,
        coalition=upload.coalition,
        target=f"{upload.original_name} ({what})",
        detail={"upload": str(upload.code), "what": what},
    )


def last_accepted(period: ReportingPeriod) -> Submission | None:
    """The report the next cumulative file starts from (``selectors.accepted_before``)."""
    return selectors.accepted_before(period)


def _file_rows(submission: Submission, kind: str) -> pl.DataFrame:
    """The version's stored rows of ``kind`` as the file's text: dates as YYYYMMDD,
    hourly wages in dollars, and each SSN masked to its last four digits (the checks
    restore a masked SSN from the stored one, docs/reporting.md)."""
    if kind == UploadKind.PARTICIPANTS:
        frame = records.participants_frame(submission)
        last4 = records.stored_ssns([submission]).select("participant_id", "ssn_last4")
        frame = frame.join(last4, on="participant_id", how="left", maintain_order="left")
        frame = frame.with_columns(
            pl.when(pl.col("ssn_last4").fill_null("") != "")
            .then(pl.lit("***-**-") + pl.col("ssn_last4"))
            .alias("ssn")
        ).drop("ssn_last4")
    else:
        frame = records.placements_frame(submission).with_columns(
            (pl.col("hourly_wage_cents") / 100).round(2).alias("hourly_wage")
        )
    frame = frame.sort("row")
    return frame.select(
        pl.col(name).dt.strftime("%Y%m%d") if dtype == pl.Date() else pl.col(name).cast(pl.String)
        for name, dtype in frame.schema.items()
    )


def start_from_workbook(
    *,
    period: ReportingPeriod,
    kind: str,
    actor: User,
) -> tuple[Submission, bytes]:
    """The ``kind`` template holding the rows of the coalition's last accepted report
    before ``period``, its SSNs masked: the start of this quarter's cumulative file.
    Audited as a download of participant-level data."""
    if kind not in UploadKind.values:
        raise ValidationError(f"{kind!r} is not a file kind: use participants or placements.")
    if not permissions.can_download_originals(actor, period.coalition):
        raise PermissionDenied
    accepted = last_accepted(period)
    if accepted is None:
        raise ValidationError(
            "There is no accepted report before this quarter yet, so there is no file to "
            "start from: use the blank template."
        )
    workbook = spreadsheets.prefilled_template(kind, _file_rows(accepted, kind))
    platform.audit_record(
        action=AuditAction.PII_DOWNLOADED,
        actor=actor,
        coalition=period.coalition,
        target=(
            f"{UploadKind(kind).label} of the accepted {accepted.period.quarter} report, "
            f"version {accepted.version} (start-from workbook for {period.quarter})"
        ),
        detail={"submission": str(accepted.code), "what": f"start-from {kind}"},
    )
    return accepted, workbook


def _stored_ssns(submission: Submission) -> pl.DataFrame:
    """The SSNs a masked one in a re-uploaded marked-up workbook may stand for, as
    ``records.stored_ssns`` gives them, first found first: the version's own records
    (the rows its last check kept), the participant file it replaced (the rows that
    check held back: the very rows the grantee was asked to fix), then the coalition's
    latest accepted version."""
    own = records.stored_ssns([submission]).with_columns(pl.lit(None, pl.Utf8).alias("ssn"))
    replaced = _replaced_file_ssns(submission, known=own.get_column("participant_id"))
    latest_accepted = (
        Submission.objects.filter(
            coalition_id=submission.coalition_id, state=SubmissionState.ACCEPTED
        )
        .exclude(pk=submission.pk)
        .order_by("-period__start_date", "-version")
        .first()
    )
    accepted = records.stored_ssns([latest_accepted] if latest_accepted else []).with_columns(
        pl.lit(None, pl.Utf8).alias("ssn")
    )
    return pl.concat([own, replaced, accepted]).unique(
        "participant_id", keep="first", maintain_order=True
    )


def _replaced_file_ssns(submission: Submission, *, known: pl.Series) -> pl.DataFrame:
    """The valid SSNs of the participant file the current one replaced, for the
    participant_ids not in ``known``: their last four, and the digits in ``ssn`` for
    ``_as_stored`` to encrypt should a masked SSN stand for one."""
    empty = records.stored_ssns([]).with_columns(pl.lit(None, pl.Utf8).alias("ssn"))
    replaced = (
        Upload.objects.filter(submission=submission, kind=UploadKind.PARTICIPANTS, is_current=False)
        .order_by("-uploaded_at")
        .first()
    )
    if replaced is None:
        return empty
    try:
        with replaced.file.open("rb") as handle:
            content = handle.read()
    except (FileNotFoundError, OSError):
        return empty  # removed by retention: the other sources still count
    table = reading.read_table(
        checks.Source(name=replaced.original_name, data=content), contract.PARTICIPANTS
    )
    if not table.readable or "ssn" not in table.positions:
        return empty
    found = (
        table.frame.lazy()
        .select("participant_id", values.valid_ssn().alias("ssn"))
        # An id on two rows (D01) is ambiguous: neither row's SSN is kept.
        .filter(pl.col("participant_id").is_unique())
        .filter(pl.col("ssn").is_not_null() & ~pl.col("participant_id").is_in(known.implode()))
        .collect()
    )
    # Encrypted and hashed later, and only for the SSNs a masked one stands for.
    return found.select(
        "participant_id",
        pl.lit(None, pl.Utf8).alias("ssn_encrypted"),
        pl.lit(None, pl.Utf8).alias("ssn_hash"),
        pl.col("ssn").str.slice(5, 4).alias("ssn_last4"),
        "ssn",
    )


def _as_stored(ssns: pl.DataFrame) -> pl.DataFrame:
    """``_stored_ssns`` rows with every SSN encrypted and hashed, the clear ones dropped."""
    clear = ssns.get_column("ssn").to_list()
    encrypted = [pii.encrypt_ssn(s) if s else None for s in clear]
    hashed = [pii.hash_ssn(s) if s else None for s in clear]
    return ssns.select(
        "participant_id",
        pl.coalesce(pl.Series(encrypted, dtype=pl.Utf8), "ssn_encrypted").alias("ssn_encrypted"),
        pl.coalesce(pl.Series(hashed, dtype=pl.Utf8), "ssn_hash").alias("ssn_hash"),
        "ssn_last4",
    )


def submission_check(*, submission_id: int) -> bool:
    """Run every check on the submission's current files, then, in one transaction,
    store findings, counts and kept records and move to `needs_fixes` or `ready`.
    Returns whether this run stored a result: the annotated workbooks are then built by
    a task of their own (``submission_annotate``) and the person who sent the files
    may be told (reporting.services.check_notices)."""
    submission = Submission.objects.select_related("period", "coalition").get(pk=submission_id)
    if submission.state != SubmissionState.CHECKING:
        return False
    uploads = {u.kind: u for u in Upload.objects.filter(submission=submission, is_current=True)}
    fingerprint = sorted((kind, u.sha256) for kind, u in uploads.items())
    if UploadKind.PARTICIPANTS not in uploads:
        with transaction.atomic():
            transitions.transition(
                submission,
                from_states=(SubmissionState.CHECKING,),
                to_state=SubmissionState.DRAFT,
                actor=None,
                kind="checked",
                note="Waiting for the participant file.",
            )
        return False

    def source(upload: Upload) -> tuple[str, bytes]:
        with upload.file.open("rb") as handle:
            return upload.original_name, handle.read()

    previous = selectors.previous_accepted(submission)
    history = checks.History(records.history_frame(previous)) if previous else None
    stored: list[pl.DataFrame] = []

    def stored_last4() -> dict[str, str]:
        # Read only when the file holds a masked SSN (a re-uploaded marked-up workbook).
        stored.append(_stored_ssns(submission))
        return dict(stored[0].select("participant_id", "ssn_last4").iter_rows())

    result = engine.check_submission(
        source(uploads[UploadKind.PARTICIPANTS]),
        source(uploads[UploadKind.PLACEMENTS]) if UploadKind.PLACEMENTS in uploads else None,
        period=submission.period.as_quarter,
        history=history,
        ssn_hasher=pii.hash_ssn,
        stored_ssns=stored_last4,
    )
    carried = None
    if stored and result.participants.ssn_carried:
        ids = pl.Series(result.participants.ssn_carried, dtype=pl.String)
        carried = _as_stored(stored[0].filter(pl.col("participant_id").is_in(ids.implode())))
    return _store_check(submission, uploads, fingerprint, result, carried)


def submission_annotate(*, submission_id: int) -> int:
    """Build and store the annotated workbook of each of the submission's current files
    that its checks have finished with and that has none yet; returns how many were built.

    The workbooks are built once, after the check, and served as stored files: a hostile
    file's workbook took a minute and gigabytes when it was rebuilt on every download.
    A task of its own (reporting.tasks.annotate_submission) after the check's commit, so
    that the findings, the figures and the e-mail saying the file was checked wait for no
    workbook (3 s of a 100,000-row submission). A workbook not built yet (the task still
    queued, or lost) is built by its first download (``upload_annotate``)."""
    built = 0
    for upload in Upload.objects.filter(
        submission_id=submission_id,
        is_current=True,
        status__in=(UploadStatus.CHECKED, UploadStatus.REFUSED),
        annotated_file="",
        purged_at__isnull=True,
    ).order_by("kind"):
        upload_annotate(upload=upload)
        built += 1
    return built


CHECK_FAILED_NOTE = recovery.CHECK_GAVE_UP_NOTE


def submission_check_failed(*, submission_id: int) -> bool:
    """A check that raised: the version leaves `checking` for `draft` with the note the
    grantee reads (``recovery.check_give_up``), so its page stops waiting and "Check
    again", or the same file sent again, checks it again (``upload_receive``). The
    person who sent the files is e-mailed. Returns whether the version was moved."""
    return recovery.check_give_up(submission_id=submission_id)


@transaction.atomic
def _store_check(
    submission: Submission,
    uploads: dict[str, Upload],
    fingerprint: list[tuple[str, str]],
    result: checks.CheckResult,
    carried: pl.DataFrame | None = None,
) -> bool:
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    current = sorted(
        Upload.objects.filter(submission=submission, is_current=True).values_list("kind", "sha256")
    )
    if locked.state != SubmissionState.CHECKING or current != fingerprint:
        return False  # A newer file arrived; its own check will do the work.
    for kind, file_result in (
        (UploadKind.PARTICIPANTS, result.participants),
        (UploadKind.PLACEMENTS, result.placements),
    ):
        upload = uploads.get(kind)
        if upload is None or file_result is None:
            continue
        findings.replace(upload, file_result.findings)
        if upload.annotated_file:
            # A workbook marked with the findings just replaced (a file checked again):
            # gone with the commit, and built again from the new ones (submission_annotate).
            stale = upload.annotated_file
            transaction.on_commit(partial(stale.storage.delete, stale.name))
        Upload.objects.filter(pk=upload.pk).update(
            annotated_file="",
            status=UploadStatus.CHECKED if file_result.readable else UploadStatus.REFUSED,
            data_rows=file_result.data_rows,
            kept_rows=file_result.kept.height if file_result.kept is not None else 0,
            # Every finding counted, those not kept (over 1,000 a rule and column) too.
            error_count=sum(1 + f.omitted for f in file_result.findings if f.severity == "error"),
            warning_count=sum(
                1 + f.omitted for f in file_result.findings if f.severity == "warning"
            ),
        )
    kept_people = result.participants.kept
    kept_jobs = result.placements.kept if result.placements else None
    records.store(
        submission,
        kept_people if kept_people is not None else records.empty(contract.PARTICIPANTS),
        kept_jobs if kept_jobs is not None else records.empty(contract.PLACEMENTS),
        carried=carried,
    )
    errors, warnings = result.errors, result.warnings
    transitions.transition(
        submission,
        from_states=(SubmissionState.CHECKING,),
        to_state=SubmissionState.NEEDS_FIXES if errors else SubmissionState.READY,
        actor=None,
        kind="checked",
        note=f"{errors} error(s), {warnings} warning(s).",
        error_count=errors,
        warning_count=warnings,
        checked_at=timezone.now(),
    )
    return True


def upload_annotation(
    *, upload: Upload, content: bytes | None = None, found: list[checks.Finding] | None = None
) -> bytes:
    """The upload's annotated workbook, built from its stored findings (or ``found``)."""
    if content is None:
        with upload.file.open("rb") as handle:
            content = handle.read()
    if found is None:
        found = selectors.check_findings(upload)
    return spreadsheets.annotated_workbook(upload.original_name, content, found, kind=upload.kind)


def upload_annotate(*, upload: Upload) -> Upload:
    """Build the upload's annotated workbook from its stored findings and store it, unless
    another build (the task, or a download that came first) stored one meanwhile: then
    this one is dropped and that one kept, so that no stored file is left behind unnamed.
    A check that stores new findings clears the workbook of the old ones (``_store_check``)."""
    workbook = upload_annotation(upload=upload)
    field = upload.annotated_file
    field.save("annotated.xlsx", ContentFile(workbook), save=False)
    if Upload.objects.filter(pk=upload.pk, annotated_file="").update(annotated_file=field.name):
        return upload
    field.storage.delete(field.name)
    return Upload.objects.get(pk=upload.pk)


def audit_findings_viewed(
    *, actor: User, submission: Submission, query: str = "", htmx: bool = False
) -> None:
    """``query``: the filters the person asked the findings page for; ``htmx``: a part
    of the page they changed in place rather than the whole page."""
    platform.audit_record(
        action=AuditAction.PII_VIEWED,
        actor=actor,
        coalition=submission.coalition,
        target=f"findings of the {submission.report_label}",
        detail={
            "submission": str(submission.code),
            "query": query[:500],
            "htmx": htmx,
        },
    )


# Services of the other reporting capabilities, each in its own module, re-exported so
# callers keep writing services.<entity>_<verb>(...).
