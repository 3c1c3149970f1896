"""Who may do what in reporting: every rule of docs/access.md that is not a queryset's
visibility (``visible_to``) is here, as Hypha keeps its permissions, so pages, the API,
tasks and commands ask the same functions.

These answer questions about people and objects already in scope; they read the user's
cached roles (``User.coalition_roles``, ``assigned_coalition_ids``) and, for exports, at
most one roll-up row."""

from bpij.models import StaffRole, User
from grantees.models import Coalition, MemberRole
from reporting.models import (
    SENT_STATES,
    Export,
    ExportKind,
    ReportingPeriod,
    Rollup,
    Submission,
    SubmissionState,
    Upload,
    UploadKind,
    UploadStatus,
)

# The coalition's people who send files: they start, upload, write the narrative, reply to
# reviewers and take the originals back.
UPLOAD_ROLES = (MemberRole.ADMIN, MemberRole.REPORTER)
# Who decides on a report (acceptance) and sees every coalition's review.
DECIDERS = (StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN)
# Who exports everything, program-wide exports included.
PROGRAM_WIDE = (StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN)
# Who sees the status board.
BOARD_ROLES = (StaffRole.COACH, StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN)
# Who sends a reminder by hand from the status board.
STAFF_WHO_REMIND = (StaffRole.COACH, StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN)


# -- A coalition's report ------------------------------------------------------------------


def can_start_report(user: User, coalition: Coalition) -> bool:
    """Start a quarter's report (a new draft): the coalition's administrators and reporters."""
    return coalition.role_of(user) in UPLOAD_ROLES


def can_edit_submission(user: User, submission: Submission) -> bool:
    """Upload files and write the narrative: the coalition's administrators and reporters."""
    return submission.coalition.role_of(user) in UPLOAD_ROLES


def can_certify(user: User, coalition: Coalition) -> bool:
    """Certify and send a report: the coalition's administrators only."""
    return coalition.role_of(user) == MemberRole.ADMIN


def can_download_originals(user: User, coalition: Coalition) -> bool:
    """The files as sent (full SSNs) and the start-from workbook of the last accepted
    report: the coalition's people who send files (docs/access.md)."""
    return coalition.role_of(user) in UPLOAD_ROLES


def can_check_again(user: User, submission: Submission) -> bool:
    """Those who may edit the version, once its files were sent but not checked (the
    checks gave up, or never ran): a draft with a participant file still `received`."""
    return (
        submission.state == SubmissionState.DRAFT
        and can_edit_submission(user, submission)
        and Upload.objects.filter(
            submission=submission,
            kind=UploadKind.PARTICIPANTS,
            is_current=True,
            status=UploadStatus.RECEIVED,
        ).exists()
    )


# -- JFF's review --------------------------------------------------------------------------


def _coalition_id(target: Submission | Coalition) -> int:
    return target.pk if isinstance(target, Coalition) else target.coalition_id


def can_see_review_queue(user: User) -> bool:
    """The queue of versions waiting for JFF: coaches (their coalitions'), program
    officers and JFF administrators (everyone's)."""
    return user.is_coach or user.staff_role in DECIDERS


def can_review(user: User, target: Submission | Coalition) -> bool:
    """Start a review, comment as JFF, return for revision: a coach assigned to the
    coalition, a program officer or a JFF administrator."""
    if not user.is_active:
        return False
    if user.staff_role in DECIDERS:
        return True
    return user.is_coach and _coalition_id(target) in user.assigned_coalition_ids


def can_accept(user: User, target: Submission | Coalition) -> bool:
    """Acceptance is the program officer's decision (or a JFF administrator's)."""
    return user.is_active and user.staff_role in DECIDERS


def can_comment(user: User, submission: Submission) -> bool:
    """Reviewers comment; the coalition's administrators and reporters reply. Only sent
    versions have a review conversation."""
    if submission.state not in SENT_STATES:
        return False
    return can_review(user, submission) or can_reply(user, submission)


def can_reply(user: User, submission: Submission) -> bool:
    """The grantee side of the conversation: answering a reviewer's thread."""
    return submission.coalition.role_of(user) in UPLOAD_ROLES


# -- Reminders, dashboards, exports --------------------------------------------------------


def can_see_board(user: User) -> bool:
    """The status board shows every coalition's report states and coaches: JFF's staff.
    Grantees and Federal Project Officers have none (403, as the page is not one
    coalition's object)."""
    return user.staff_role in BOARD_ROLES


def can_see_operations(user: User) -> bool:
    """The operations page (the whole hub's work in progress, docs/operations.md): the
    roles that see every coalition and run the program; coaches, grantees and the
    Federal Project Officer get 403."""
    return user.staff_role in PROGRAM_WIDE


def can_remind(user: User) -> bool:
    return user.is_active and user.staff_role in STAFF_WHO_REMIND


def can_see_program(user: User) -> bool:
    """Every staff role, the Federal Project Officer included (aggregates only)."""
    return bool(user.staff_role)


def can_export(
    user: User,
    *,
    kind: str,
    coalition: Coalition | None,
    period: ReportingPeriod | None = None,
    rollup: Rollup | None = None,
) -> bool:
    """Program officers and JFF administrators: everything. Coaches: their assigned
    coalitions' reports and data packs (not the program-wide exports). A coalition's
    members (administrators, reporters and viewers alike): their own coalition's report
    for a quarter whose counted version is submitted, in review or accepted. Federal
    Project Officers: accepted reports and the program summary (aggregates only).

    Without ``period`` this answers whether the role may export that kind for that
    scope at all; with it, for that quarter (``rollup`` saves a query when known)."""
    if not user.is_active:
        return False
    if user.staff_role in PROGRAM_WIDE:
        return True
    if kind not in ExportKind.values:
        return False
    if coalition is None:
        return user.staff_role == StaffRole.FUNDER_VIEWER and kind == ExportKind.PROGRAM_SUMMARY
    if kind == ExportKind.PROGRAM_SUMMARY:
        return False
    if user.is_coach:
        return coalition.pk in user.assigned_coalition_ids
    if kind != ExportKind.COALITION_REPORT:
        return False
    funder = user.staff_role == StaffRole.FUNDER_VIEWER
    if not funder and coalition.role_of(user) is None:
        return False
    if period is None:
        return True
    if rollup is None:
        rollup = Rollup.objects.filter(period=period).first()
    # A roll-up exists exactly while a version counts (submitted, in review, accepted).
    return rollup is not None and (rollup.accepted or not funder)


def can_download(user: User, export: Export) -> bool:
    """The person may take this stored file: the same rule as asking for it. A Federal
    Project Officer's coalition reports must have been made from accepted versions."""
    if not can_export(user, kind=export.kind, coalition=export.coalition):
        return False
    if user.staff_role == StaffRole.FUNDER_VIEWER and export.coalition_id is not None:
        used = export.provenance.get("submissions", [])
        return bool(used) and all(s.get("state") == SubmissionState.ACCEPTED for s in used)
    return True
