"""Input and output serializers of the API (HackSoft style: explicit, one per purpose,
no business rule: the services decide)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from grantees.models import Measure, MemberRole
from reporting.checks import rules
from reporting.models import (
    ExportKind,
    ExportStatus,
    ReturnReason,
    SubmissionState,
    UploadKind,
    UploadStatus,
)

# -- Output ---------------------------------------------------------------------------


def figures_field(help_text: str) -> serializers.Field:
    """window → figure key → a count, a string amount, null, or {numerator, denominator,
    rate} (DATA-CONTRACT.md §6)."""
    return serializers.DictField(
        child=serializers.DictField(child=serializers.JSONField(allow_null=True)),
        help_text=help_text,
    )


class TargetOut(serializers.Serializer):
    measure = serializers.ChoiceField(choices=Measure.choices)
    label = serializers.CharField(source="get_measure_display")  # type: ignore[assignment]
    value = serializers.IntegerField()
    milestones = serializers.DictField(child=serializers.IntegerField(), required=False)


class GrantOut(serializers.Serializer):
    code = serializers.UUIDField()
    award_number = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    targets = TargetOut(many=True, source="targets.all")


class CoalitionOut(serializers.Serializer):
    code = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    lead_organization = serializers.CharField()
    states_served = serializers.ListField(child=serializers.CharField())
    sectors = serializers.ListField(child=serializers.CharField())
    track = serializers.CharField()
    your_role = serializers.SerializerMethodField(
        help_text="Your role in this coalition (administrator, reporter, viewer), or null."
    )

    @extend_schema_field(serializers.ChoiceField(choices=MemberRole.choices, allow_null=True))
    def get_your_role(self, coalition: Any) -> str | None:
        return coalition.role_of(self.context["user"])


class CoalitionDetailOut(CoalitionOut):
    partner_organizations = serializers.ListField(child=serializers.CharField())
    grants = GrantOut(many=True, source="grants.all")


class VersionRef(serializers.Serializer):
    code = serializers.UUIDField()
    version = serializers.IntegerField()
    state = serializers.ChoiceField(choices=SubmissionState.choices)


class PeriodOut(serializers.Serializer):
    quarter = serializers.CharField(source="period.quarter")
    start_date = serializers.DateField(source="period.start_date")
    end_date = serializers.DateField(source="period.end_date")
    due_date = serializers.DateField(source="period.due_date")
    state = serializers.CharField(
        source="status_key",
        help_text="not_started, overdue, or the latest version's state.",
    )
    status = serializers.CharField(help_text="The state in words, as the reports page says it.")
    overdue = serializers.BooleanField()
    days_to_due = serializers.IntegerField()
    latest = VersionRef(allow_null=True)


class SubmissionOut(serializers.Serializer):
    code = serializers.UUIDField()
    coalition = serializers.UUIDField(source="coalition.code")
    quarter = serializers.CharField(source="period.quarter")
    version = serializers.IntegerField()
    state = serializers.ChoiceField(choices=SubmissionState.choices)
    state_label = serializers.CharField(source="get_state_display")
    created_at = serializers.DateTimeField()
    checked_at = serializers.DateTimeField(allow_null=True)
    error_count = serializers.IntegerField()
    warning_count = serializers.IntegerField()
    certified_at = serializers.DateTimeField(allow_null=True)
    certifier_name = serializers.CharField()
    certifier_title = serializers.CharField()
    receipt_number = serializers.SerializerMethodField()
    returned_at = serializers.DateTimeField(allow_null=True)
    return_reasons = serializers.ListField(child=serializers.CharField())
    return_note = serializers.CharField()
    accepted_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_receipt_number(self, submission: Any) -> str | None:
        return submission.receipt_number if submission.certified_at else None


class UploadOut(serializers.Serializer):
    code = serializers.UUIDField()
    submission = serializers.UUIDField(source="submission.code")
    kind = serializers.ChoiceField(choices=UploadKind.choices)
    original_name = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    is_current = serializers.BooleanField()
    status = serializers.ChoiceField(choices=UploadStatus.choices)
    data_rows = serializers.IntegerField()
    kept_rows = serializers.IntegerField()
    error_count = serializers.IntegerField()
    warning_count = serializers.IntegerField()


class UploadStatusOut(UploadOut):
    submission_state = serializers.ChoiceField(
        choices=SubmissionState.choices, source="submission.state"
    )
    checking = serializers.SerializerMethodField(
        help_text="True while the version's checks run: poll until it is false."
    )

    def get_checking(self, upload: Any) -> bool:
        return bool(upload.submission.state == SubmissionState.CHECKING)


class UploadReceivedOut(serializers.Serializer):
    upload = UploadStatusOut()
    new = serializers.BooleanField(
        help_text="False: the same file (same SHA-256) as the current one; not stored again."
    )


class EventOut(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    what = serializers.CharField(source="get_kind_display")
    actor = serializers.SerializerMethodField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    note = serializers.CharField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: Any) -> str | None:
        return event.actor.display_name if event.actor else None


class FindingCountOut(serializers.Serializer):
    rule = serializers.CharField(source="code")
    title = serializers.SerializerMethodField()
    file = serializers.CharField()
    severity = serializers.CharField()
    count = serializers.IntegerField()

    def get_title(self, row: dict) -> str:
        return rules.title(row["code"])


class FindingTotalsOut(serializers.Serializer):
    errors = serializers.IntegerField()  # type: ignore[assignment]
    warnings = serializers.IntegerField()
    by_rule = FindingCountOut(many=True)


class SubmissionDetailOut(SubmissionOut):
    narrative_progress = serializers.CharField()
    narrative_challenges = serializers.CharField()
    narrative_ta_needs = serializers.CharField()
    uploads = UploadOut(many=True, source="current_files")
    finding_totals = FindingTotalsOut()
    history = EventOut(many=True)


class FindingOut(serializers.Serializer):
    rule = serializers.CharField(source="code")
    severity = serializers.CharField()
    file = serializers.CharField()
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField()
    value = serializers.CharField(help_text="As stored: SSNs masked to their last four digits.")
    message = serializers.CharField()
    omitted = serializers.IntegerField(
        help_text="Further rows with the same finding not listed one by one."
    )


class FiguresOut(serializers.Serializer):
    period = serializers.CharField()
    windows = figures_field("DATA-CONTRACT.md §6: window → figure key → value.")


class RollupOut(serializers.Serializer):
    quarter = serializers.CharField()
    accepted = serializers.BooleanField()
    figures = FiguresOut(help_text="DATA-CONTRACT.md §6: the period and its three windows.")
    participant_rows = serializers.IntegerField()
    placement_rows = serializers.IntegerField()
    rows_checked = serializers.IntegerField()
    errors_found = serializers.IntegerField()
    warnings_found = serializers.IntegerField()
    versions = serializers.IntegerField()
    due_date = serializers.DateField()
    submitted_at = serializers.DateTimeField()
    on_time = serializers.BooleanField()
    computed_at = serializers.DateTimeField()


class ProgramRollupOut(serializers.Serializer):
    quarter = serializers.CharField()
    segment = serializers.CharField(help_text="program, sector:<code>, track:<code>, state:<USPS>")
    figures = FiguresOut(help_text="DATA-CONTRACT.md §6: the period and its three windows.")
    coalitions_reported = serializers.IntegerField()
    coalitions_total = serializers.IntegerField()
    participant_rows = serializers.IntegerField()
    rows_checked = serializers.IntegerField()
    errors_found = serializers.IntegerField()
    warnings_found = serializers.IntegerField()
    submitted_on_time = serializers.IntegerField()
    computed_at = serializers.DateTimeField()


class CommentOut(serializers.Serializer):
    code = serializers.UUIDField()
    parent = serializers.UUIDField(source="parent.code", allow_null=True, default=None)  # type: ignore[assignment]
    author = serializers.CharField(source="author.display_name")
    created_at = serializers.DateTimeField()
    body = serializers.CharField()
    figure_key = serializers.CharField()
    figure_window = serializers.CharField()


class ExportOut(serializers.Serializer):
    code = serializers.UUIDField()
    coalition = serializers.UUIDField(source="coalition.code", allow_null=True, default=None)
    kind = serializers.ChoiceField(choices=ExportKind.choices)
    quarter = serializers.CharField()
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    filename = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    requested_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()


# -- Input ----------------------------------------------------------------------------


class FindingFilterIn(serializers.Serializer):
    rule = serializers.CharField(required=False, max_length=4, help_text="e.g. L01")
    file = serializers.ChoiceField(choices=UploadKind.choices, required=False)
    severity = serializers.ChoiceField(choices=["error", "warning"], required=False)
    column = serializers.CharField(required=False, max_length=64, help_text="e.g. exit_date")


class UploadIn(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=UploadKind.choices,
        error_messages={
            "invalid_choice": '"{input}" is not a file kind: use participants or placements.'
        },
    )
    file = serializers.FileField(
        help_text="The cumulative participant or placement file, CSV or XLSX, unchanged.",
        allow_empty_file=True,
    )


class CertifyIn(serializers.Serializer):
    name = serializers.CharField(
        max_length=150, help_text="Your full name: your signature.", allow_blank=True
    )
    title = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    agreed = serializers.BooleanField(
        help_text="True: you certify the report as the attestation states (GET the attestation "
        "at /api/v1/attestation/)."
    )
    late_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000
    )
    confirmed = serializers.BooleanField(
        required=False,
        default=False,
        help_text="True: you have looked at the warnings and these are the files you mean to send.",
    )


class AttestationOut(serializers.Serializer):
    attestation = serializers.CharField()


class CommentIn(serializers.Serializer):
    body = serializers.CharField(max_length=5000)
    parent = serializers.UUIDField(required=False, allow_null=True, default=None)  # type: ignore[assignment]
    figure_key = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    figure_window = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=24
    )
    finding = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class ReturnIn(serializers.Serializer):
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=ReturnReason.choices), allow_empty=True
    )
    note = serializers.CharField(max_length=5000, allow_blank=True)


class ExportIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExportKind.choices)
    quarter = serializers.CharField(max_length=6, help_text="e.g. 2025Q3")
    coalition = serializers.UUIDField(
        required=False, allow_null=True, default=None,
        help_text="The coalition's code for its report; none for the program-wide exports.",
    )  # fmt: skip


class ProgramRollupFilterIn(serializers.Serializer):
    quarter = serializers.CharField(required=False, max_length=6, help_text="e.g. 2025Q3")
