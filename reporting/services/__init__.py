"""The reporting services, as views, the API, tasks and commands call them.

A façade only: each service lives in the module of its job (submissions, review,
exports, roll-ups, recovery, reminders, retention, notices) and is named here so callers
say ``services.submission_certify(...)``. Modules of this package import each other,
never this one (docs/decisions.md, "Structure")."""

from reporting.services.exports import export_render, export_request, provenance_for
from reporting.services.recovery import check_again as submission_check_again
from reporting.services.review import (
    submission_accept,
    submission_comment,
    submission_return,
    submission_review_start,
    submission_send_return_notice,
)
from reporting.services.rollups import rollup_period, rollup_program, rollup_rebuild
from reporting.services.submissions import (
    ATTESTATION,
    CHECK_FAILED_NOTE,
    MAX_LATE_REASON,
    audit_findings_viewed,
    audit_pii_access,
    last_accepted,
    periods_ensure,
    periods_ensure_all,
    start_from_workbook,
    submission_annotate,
    submission_certify,
    submission_check,
    submission_check_failed,
    submission_save_narrative,
    submission_start,
    upload_annotate,
    upload_annotation,
    upload_receive,
)

__all__ = [
    "ATTESTATION",
    "CHECK_FAILED_NOTE",
    "MAX_LATE_REASON",
    "audit_findings_viewed",
    "audit_pii_access",
    "export_render",
    "export_request",
    "last_accepted",
    "periods_ensure",
    "periods_ensure_all",
    "provenance_for",
    "rollup_period",
    "rollup_program",
    "rollup_rebuild",
    "start_from_workbook",
    "submission_accept",
    "submission_annotate",
    "submission_certify",
    "submission_check",
    "submission_check_again",
    "submission_check_failed",
    "submission_comment",
    "submission_return",
    "submission_review_start",
    "submission_save_narrative",
    "submission_send_return_notice",
    "submission_start",
    "upload_annotate",
    "upload_annotation",
    "upload_receive",
]
