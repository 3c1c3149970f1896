import uuid

from django.db import models
from django.db.models import Count, Sum
from django.utils import timezone

from bpij.models import User
from bpij.tenancy import TenantQuerySet
from grantees.calendar import Quarter
from grantees.models import Coalition, Grant
from reporting import figures, timeliness


class PeriodQuerySet(TenantQuerySet["ReportingPeriod"]):
    funder_visible = True

    def overdue(self, today) -> "PeriodQuerySet":
        """Past due with no version submitted yet."""
        return self.filter(due_date__lt=today).exclude(submissions__state__in=SENT_STATES)


class ReportingPeriod(models.Model):
    """One calendar quarter of a grant's period of performance (DATA-CONTRACT.md §1)."""

    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="periods")
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="periods")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    quarter = models.CharField(max_length=6)
    start_date = models.DateField()
    end_date = models.DateField()
    due_date = models.DateField()
    # Set when a version is certified, returned or accepted, in the same transaction: the
    # period's roll-up is owed from then until a roll-up computed after it clears it.
    # The sweeper (reporting.services.recovery) sends the owed ones to a worker again, so
    # a roll-up whose message was lost (Redis down at the time) is computed all the same.
    rollup_due_at = models.DateTimeField(null=True, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        ordering = ["coalition", "start_date"]
        constraints = [
            models.UniqueConstraint(fields=["grant", "quarter"], name="one_period_per_quarter")
        ]

    def __str__(self) -> str:
        return f"{self.coalition} {self.quarter}"

    @property
    def as_quarter(self) -> Quarter:
        return Quarter.parse(self.quarter)


class SubmissionState(models.TextChoices):
    DRAFT = "draft", "Draft"
    CHECKING = "checking", "Checking"
    NEEDS_FIXES = "needs_fixes", "Needs fixes"
    READY = "ready", "Ready to certify"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    RETURNED = "returned", "Returned for revision"
    ACCEPTED = "accepted", "Accepted"


# States in which the grantee is still working on the version.
OPEN_STATES = (
    SubmissionState.DRAFT,
    SubmissionState.CHECKING,
    SubmissionState.NEEDS_FIXES,
    SubmissionState.READY,
)
# States in which the version has been sent to JFF and is locked.
SENT_STATES = (
    SubmissionState.SUBMITTED,
    SubmissionState.IN_REVIEW,
    SubmissionState.RETURNED,
    SubmissionState.ACCEPTED,
)
# Sent versions that need nothing more from the grantee (a returned one does): no reminder
# is owed for their period.
SETTLED_STATES = (SubmissionState.SUBMITTED, SubmissionState.IN_REVIEW, SubmissionState.ACCEPTED)


class SubmissionQuerySet(TenantQuerySet["Submission"]):
    funder_visible = False


class Submission(models.Model):
    """One version of a coalition's quarterly report.

    Versions are never changed once sent, nor deleted: a returned version is followed by
    a new draft version that starts from it.
    """

    coalition = models.ForeignKey(Coalition, on_delete=models.PROTECT, related_name="submissions")
    period = models.ForeignKey(
        ReportingPeriod, on_delete=models.PROTECT, related_name="submissions"
    )
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.PositiveIntegerField()
    state = models.CharField(
        max_length=20, choices=SubmissionState.choices, default=SubmissionState.DRAFT
    )
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    narrative_progress = models.TextField(blank=True)
    narrative_challenges = models.TextField(blank=True)
    narrative_ta_needs = models.TextField(blank=True)
    certified_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    certifier_name = models.CharField(max_length=150, blank=True)
    certifier_title = models.CharField(max_length=150, blank=True)
    attestation = models.TextField(blank=True)
    certified_at = models.DateTimeField(null=True, blank=True)
    # Why a version certified after the period's due date is late, in the certifier's
    # words (required then, docs/reporting.md); empty when it was on time.
    late_reason = models.TextField(blank=True)
    # The warnings the certifier ticked to confirm (a file identical to the last accepted
    # quarter's, a file with no activity in the quarter): their plain-text messages.
    confirmed_warnings = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    review_started_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_reasons = models.JSONField(default=list, blank=True)
    return_note = models.TextField(blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    # The checks of the current files (reporting.services.recovery): when they were last
    # sent to a worker (None while `checking`: not sent, Redis was down; the sweeper sends
    # it), how many times a worker has started them, and when they were given up after
    # CHECK_MAX_ATTEMPTS (the version is back in draft, the page offers "Check again").
    check_queued_at = models.DateTimeField(null=True, blank=True)
    check_attempts = models.PositiveSmallIntegerField(default=0)
    check_failed_at = models.DateTimeField(null=True, blank=True)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["period", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["period", "version"], name="one_version_number"),
            models.UniqueConstraint(
                fields=["period"],
                condition=models.Q(state__in=[str(s) for s in OPEN_STATES]),
                name="one_open_version_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} v{self.version}"

    @property
    def report_label(self) -> str:
        """The version as the audit log names it: "2025Q3 report, version 2"."""
        return f"{self.period.quarter} report, version {self.version}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def receipt_number(self) -> str:
        """The confirmation number of a certified version: the quarter, the period's
        number and the version (``BPIJ-2025Q3-00042-V1``). Unique because a period has
        one version of each number; stable because none of them ever changes."""
        if not self.certified_at:
            return ""
        return f"BPIJ-{self.period.quarter}-{self.period_id:05d}-V{self.version}"


class UploadKind(models.TextChoices):
    PARTICIPANTS = "participants", "Participant file"
    PLACEMENTS = "placements", "Placement file"


class UploadStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    CHECKED = "checked", "Checked"
    REFUSED = "refused", "Refused"


class UploadQuerySet(TenantQuerySet["Upload"]):
    pass


def upload_path(upload: "Upload", filename: str) -> str:
    return f"uploads/{upload.coalition.code}/{upload.code}/{upload.kind}"


def annotated_path(upload: "Upload", filename: str) -> str:
    return f"uploads/{upload.coalition.code}/{upload.code}/{upload.kind}-annotated.xlsx"


class Upload(models.Model):
    """A file as the grantee sent it, stored unchanged with its SHA-256."""

    coalition = models.ForeignKey(Coalition, on_delete=models.PROTECT, related_name="uploads")
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="uploads")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=UploadKind.choices)
    file = models.FileField(upload_to=upload_path, max_length=300)
    # The grantee's file with its findings marked (SSN-shaped values masked, columns the
    # contract does not know emptied), built once when the checks finish.
    annotated_file = models.FileField(upload_to=annotated_path, max_length=300, blank=True)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    is_current = models.BooleanField(default=True)
    status = models.CharField(
        max_length=20, choices=UploadStatus.choices, default=UploadStatus.RECEIVED
    )
    data_rows = models.PositiveIntegerField(default=0)
    kept_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    # When the stored file was deleted under the retention rule (reporting.retention);
    # the row stays so the version's history still reads.
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = UploadQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "kind"],
                condition=models.Q(is_current=True),
                name="one_current_upload_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.kind})"


class FindingQuerySet(TenantQuerySet["Finding"]):
    def counted_by(self, *fields: str) -> "models.QuerySet":
        """Findings counted per ``fields``: those stored, and those each stored one says
        were found like it but not kept (``omitted``)."""
        return self.values(*fields).annotate(count=Count("id") + Sum("omitted"))


class Finding(models.Model):
    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="+")
    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="findings")
    code = models.CharField(max_length=4)
    severity = models.CharField(max_length=7)
    file = models.CharField(max_length=12)
    row = models.PositiveIntegerField(null=True)
    column = models.CharField(max_length=64, blank=True)
    value = models.CharField(max_length=300, blank=True)
    message = models.TextField()
    # How many more findings of this rule and column the file has that were counted but
    # not stored: the checks keep the first 1,000 of each (set on the last one kept).
    omitted = models.PositiveIntegerField(default=0)

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["upload", "row", "id"]
        indexes = [models.Index(fields=["upload", "code"])]

    def __str__(self) -> str:
        return f"{self.code} row {self.row}"


EVENT_KINDS = [
    ("started", "started the version"),
    ("uploaded", "uploaded a file"),
    ("checking", "checks started"),
    ("checked", "checks finished"),
    ("warnings_confirmed", "confirmed the warnings before certifying"),
    ("certified", "certified and submitted"),
    ("returned", "returned for revision"),
    ("accepted", "accepted"),
    ("commented", "commented"),
    ("review_started", "started the review"),
    ("rolled_up", "figures rolled up"),
    ("files_purged", "stored files removed under the retention rule"),
    ("check_failed", "checks could not finish"),
    ("check_again", "asked to check the files again"),
]


class ReturnReason(models.TextChoices):
    """Why a reviewer sends a version back; at least one is required, with a note."""

    DATA_QUALITY = "data_quality", "Data quality: records look wrong or incomplete"
    FIGURES = "figures", "Figures look inconsistent with earlier quarters or the narrative"
    TARGETS = "targets", "Progress against targets or milestones needs explaining"
    NARRATIVE = "narrative", "Narrative is missing or incomplete"
    CERTIFICATION = "certification", "Certification details are wrong"
    OTHER = "other", "Other (explained in the note)"


class SubmissionEventQuerySet(TenantQuerySet["SubmissionEvent"]):
    pass


class SubmissionEvent(models.Model):
    """The submission's history: every upload, check, certification and state change."""

    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=40, choices=EVENT_KINDS)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)

    objects = SubmissionEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.submission} {self.kind}"


class RecordQuerySet(TenantQuerySet):
    pass


class ParticipantRecord(models.Model):
    """A participant row kept from a checked upload (DATA-CONTRACT.md §2.1).

    Personally identifiable: never shown outside the coalition and the staff allowed to
    see it. The SSN is stored encrypted (``reporting.pii``), compared by keyed hash,
    shown only as its last four digits.
    """

    # Records are loaded 100,000 at a time with COPY: no foreign-key constraints (their
    # deferred checks doubled the commit) and no index but the unique one below, which
    # starts with the submission. The ORM still cascades deletes.
    coalition = models.ForeignKey(
        Coalition,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    submission = models.ForeignKey(
        Submission,
        on_delete=models.CASCADE,
        related_name="participants",
        db_constraint=False,
        db_index=False,
    )
    row = models.PositiveIntegerField()
    participant_id = models.CharField(max_length=12)
    ssn_encrypted = models.TextField(blank=True)
    ssn_hash = models.CharField(max_length=64, blank=True)
    ssn_last4 = models.CharField(max_length=4, blank=True)
    state_code = models.CharField(max_length=2)
    zip_code = models.CharField(max_length=10, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1)
    disability = models.CharField(max_length=1)
    hispanic_latino = models.CharField(max_length=1)
    race_american_indian = models.CharField(max_length=1)
    race_asian = models.CharField(max_length=1)
    race_black = models.CharField(max_length=1)
    race_pacific_islander = models.CharField(max_length=1)
    race_white = models.CharField(max_length=1)
    veteran = models.CharField(max_length=1)
    employment_status_at_entry = models.CharField(max_length=1)
    highest_education = models.CharField(max_length=1)
    low_income = models.CharField(max_length=1)
    incumbent_worker = models.CharField(max_length=1)
    entry_date = models.DateField()
    exit_date = models.DateField(null=True)
    other_exit_reason = models.CharField(max_length=2)
    received_training = models.CharField(max_length=1)
    training_start_date = models.DateField(null=True)
    training_type = models.CharField(max_length=2, blank=True)
    training_onet = models.CharField(max_length=10, blank=True)
    training_completed = models.CharField(max_length=1, blank=True)
    training_end_date = models.DateField(null=True)
    credential_type = models.CharField(max_length=1)
    credential_date = models.DateField(null=True)
    msg_training_milestone_date = models.DateField(null=True)
    msg_skills_progression_date = models.DateField(null=True)
    employed_q2_after_exit = models.CharField(max_length=1, blank=True)
    wages_q2_after_exit = models.PositiveIntegerField(null=True)
    employed_q4_after_exit = models.CharField(max_length=1, blank=True)
    wages_q4_after_exit = models.PositiveIntegerField(null=True)
    incumbent_retained = models.CharField(max_length=1, blank=True)
    incumbent_advanced = models.CharField(max_length=1, blank=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["submission", "row"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "participant_id"], name="one_record_per_participant"
            )
        ]

    def __str__(self) -> str:
        return self.participant_id


class PlacementRecord(models.Model):
    """A placement row kept from a checked upload (DATA-CONTRACT.md §2.2)."""

    # Records are loaded 100,000 at a time with COPY: no foreign-key constraints (their
    # deferred checks doubled the commit) and no index but the unique one below, which
    # starts with the submission. The ORM still cascades deletes.
    coalition = models.ForeignKey(
        Coalition,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="placements")
    row = models.PositiveIntegerField()
    participant_id = models.CharField(max_length=12)
    employer_name = models.CharField(max_length=200)
    start_date = models.DateField()
    job_title = models.CharField(max_length=200, blank=True)
    onet_code = models.CharField(max_length=10, blank=True)
    naics_code = models.CharField(max_length=6, blank=True)
    hourly_wage_cents = models.PositiveIntegerField()
    hours_per_week = models.DecimalField(max_digits=5, decimal_places=2)
    training_related = models.CharField(max_length=1)
    registered_apprenticeship = models.CharField(max_length=1)

    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["submission", "row"]
        indexes = [models.Index(fields=["submission"], name="placement_by_submission")]

    def __str__(self) -> str:
        return f"{self.participant_id} at {self.employer_name}"


class CommentQuerySet(TenantQuerySet["SubmissionComment"]):
    pass


class SubmissionComment(models.Model):
    """A review comment on a submitted version, optionally pinned to one figure (and
    window) or one finding. Replies point at the thread's first comment. Comments are
    part of the review conversation, so the coalition sees them."""

    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="comments")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies"
    )
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    body = models.TextField()
    figure_key = models.CharField(max_length=32, blank=True)
    figure_window = models.CharField(max_length=24, blank=True)
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment on {self.submission}"


class RollupQuerySet(TenantQuerySet["Rollup"]):
    funder_visible = True


class Rollup(models.Model):
    """The contract's figures (DATA-CONTRACT.md §4, all three windows) for one
    coalition and period, from the version that counts: the latest version sent and
    not returned. ``accepted`` says whether that version has been accepted yet.

    Also the period's data-quality figures, so dashboards read nothing but rollups.
    Re-running a roll-up replaces the row (one per period).
    """

    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="rollups")
    period = models.OneToOneField(ReportingPeriod, on_delete=models.CASCADE, related_name="rollup")
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="+")
    quarter = models.CharField(max_length=6)
    accepted = models.BooleanField(default=False)
    # {"current_quarter": {...}, "rolling_4_quarters": {...}, "grant_to_date": {...}}
    figures = models.JSONField()
    participant_rows = models.PositiveIntegerField(default=0)
    placement_rows = models.PositiveIntegerField(default=0)
    # Over every file checked for the period, all versions: rows read and findings.
    rows_checked = models.PositiveIntegerField(default=0)
    errors_found = models.PositiveIntegerField(default=0)
    warnings_found = models.PositiveIntegerField(default=0)
    versions = models.PositiveIntegerField(default=1)
    due_date = models.DateField()
    submitted_at = models.DateTimeField()
    computed_at = models.DateTimeField(default=timezone.now)

    objects = RollupQuerySet.as_manager()

    class Meta:
        ordering = ["coalition", "quarter"]
        indexes = [models.Index(fields=["quarter"], name="rollup_by_quarter")]

    def __str__(self) -> str:
        return f"rollup {self.coalition} {self.quarter}"

    @property
    def on_time(self) -> bool:
        """First certified by the due date (reporting.timeliness)."""
        return timeliness.status(self.submitted_at, self.due_date) == timeliness.ON_TIME


class ProgramRollup(models.Model):
    """Program-wide figures for one quarter and one segment (``program``, or
    ``sector:<code>``, ``track:<code>``, ``state:<USPS>``), derived from the records of
    the coalitions' counted versions: counts summed, rates from summed numerators and
    denominators, medians from the underlying values. Aggregates across coalitions
    only; it carries no coalition, and only staff read it."""

    quarter = models.CharField(max_length=6)
    segment = models.CharField(max_length=40)
    figures = models.JSONField()
    coalitions_reported = models.PositiveIntegerField(default=0)
    coalitions_total = models.PositiveIntegerField(default=0)
    participant_rows = models.PositiveIntegerField(default=0)
    rows_checked = models.PositiveIntegerField(default=0)
    errors_found = models.PositiveIntegerField(default=0)
    warnings_found = models.PositiveIntegerField(default=0)
    submitted_on_time = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["quarter", "segment"]
        constraints = [
            models.UniqueConstraint(fields=["quarter", "segment"], name="one_program_rollup")
        ]

    def __str__(self) -> str:
        return f"{self.segment} {self.quarter}"


class ReminderKind(models.TextChoices):
    BEFORE_14 = "before_14", "14 days before the due date"
    BEFORE_3 = "before_3", "3 days before the due date"
    DUE = "due", "On the due date"
    LATE_1 = "late_1", "1 day late"
    LATE_7 = "late_7", "7 days late"
    MANUAL = "manual", "Sent by JFF staff"


class ReminderStatus(models.TextChoices):
    CLAIMED = "claimed", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class ReminderQuerySet(TenantQuerySet["Reminder"]):
    pass


class Reminder(models.Model):
    """One reminder e-mail about a period's report. Scheduled kinds are claimed by
    inserting this row (one per period and kind), then sent: at most once."""

    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="reminders")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=12, choices=ReminderKind.choices)
    status = models.CharField(
        max_length=8, choices=ReminderStatus.choices, default=ReminderStatus.CLAIMED
    )
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipients = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-claimed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "kind"],
                condition=~models.Q(kind="manual"),
                name="one_scheduled_reminder_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.period}"


class ExportKind(models.TextChoices):
    COALITION_REPORT = "coalition_report", "Quarterly performance report (PDF)"
    PROGRAM_SUMMARY = "program_summary", "Program-wide summary (PDF)"
    DATA_PACK_XLSX = "data_pack_xlsx", "Data pack (XLSX)"
    DATA_PACK_CSV = "data_pack_csv", "Data pack (CSV files, zipped)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Waiting"
    RENDERING = "rendering", "Rendering"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ExportQuerySet(TenantQuerySet["Export"]):
    funder_visible = True


def export_path(export: "Export", filename: str) -> str:
    return f"exports/{export.code}/{filename}"


class Export(models.Model):
    """A rendered export, kept unchanged with its SHA-256 once ready.

    ``request_key`` is a digest of what the export is made from (kind, scope, quarter and
    the exact versions and roll-ups it reads), so an identical request reuses the stored
    file, and a request made after the data changed gets a new one. Program-wide exports
    have no coalition: only program-wide staff see them.
    """

    coalition = models.ForeignKey(
        Coalition, null=True, blank=True, on_delete=models.PROTECT, related_name="exports"
    )
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=ExportKind.choices)
    quarter = models.CharField(max_length=6)
    request_key = models.CharField(max_length=64)
    # Submission versions used, generated at, by whom: printed in the file's footer.
    provenance = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    file = models.FileField(upload_to=export_path, max_length=300, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # When it was last sent to the exports worker (None: not sent, Redis was down; the
    # sweeper sends it), and how many times a worker has started rendering it.
    queued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Written by the rendering worker every EXPORT_HEARTBEAT_INTERVAL seconds while it
    # renders: older than EXPORT_HEARTBEAT_STALE, its worker has died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = ExportQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_key"],
                condition=~models.Q(status="failed"),
                name="one_live_export_per_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quarter}"

    @property
    def figures_definitions(self) -> str:
        return figures.definitions_of(self.provenance)


class NotificationKind(models.TextChoices):
    """The e-mails JFF's staff can choose how to receive (docs/review.md, "Who is told")."""

    CERTIFIED = "certified", "A report is certified"
    RETURNED = "returned", "A report is returned"
    REVIEW_WAITING = "review_waiting", "A report waits too long for review"


class NotificationMode(models.TextChoices):
    EACH = "each", "Each e-mail"
    DIGEST = "digest", "Daily digest"
    OFF = "off", "Off"


class NotificationSetting(models.Model):
    """How one person wants one kind of staff e-mail. No row: the default, "each e-mail"
    (reporting.services.staff_notices.DEFAULT_MODE). A person's own setting, not a
    coalition's, so not under row-level security."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_settings")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    mode = models.CharField(max_length=10, choices=NotificationMode.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_notification_setting")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} {self.mode}"


class StaffNoticeQuerySet(TenantQuerySet["StaffNotice"]):
    pass


class StaffNotice(models.Model):
    """An event kept for a person's daily digest: one row per person, kind and version,
    so an event is in at most one digest (claimed by setting ``digested_at`` before the
    digest is sent)."""

    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    digested_at = models.DateTimeField(null=True, blank=True)

    objects = StaffNoticeQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "submission"], name="one_staff_notice_per_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} {self.submission}"


class ReviewReminderStage(models.TextChoices):
    COACH = "coach", "To the coalition's coaches"
    OFFICERS = "officers", "To the program officers"


class ReviewReminderQuerySet(TenantQuerySet["ReviewReminder"]):
    pass


class ReviewReminder(models.Model):
    """A reminder that a version has waited in review too long (docs/reminders.md,
    "Reviewer reminders"). Claimed by inserting this row — one per version and stage —
    before anything is sent: at most once, like the grantee reminders."""

    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=10, choices=ReviewReminderStage.choices)
    claimed_at = models.DateTimeField(default=timezone.now)
    recipients = models.JSONField(default=list)

    objects = ReviewReminderQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "stage"], name="one_review_reminder_per_stage"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} about {self.submission}"
