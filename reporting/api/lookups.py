"""The objects an API address names, found as the pages find them: through
``visible_to`` (another coalition's object is a 404), with the same role checks."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from bpij.models import User
from bpij.tenancy import get_visible_or_404
from grantees.models import Coalition
from reporting import permissions
from reporting.models import Export, ReportingPeriod, Submission, Upload


def coalition(user: User, code) -> Coalition:
    return get_visible_or_404(Coalition.objects, user, code=code)


def reports_coalition(user: User, code) -> Coalition:
    """A coalition whose reports are read: the Federal Project Officer reads no
    submissions (drafts, narratives, files), so for them these do not exist."""
    if not Submission.objects.table_visible_to(user):
        raise Http404
    return coalition(user, code)


def period(user: User, code, quarter: str) -> ReportingPeriod:
    return get_visible_or_404(
        ReportingPeriod.objects.select_related("coalition", "grant"),
        user,
        coalition=reports_coalition(user, code),
        quarter=quarter.upper(),
    )


def submission(user: User, code) -> Submission:
    return get_visible_or_404(
        Submission.objects.select_related("period__coalition", "period__grant", "coalition"),
        user,
        code=code,
    )


def editable_submission(user: User, code) -> Submission:
    found = submission(user, code)
    if not permissions.can_edit_submission(user, found):
        raise PermissionDenied
    return found


def upload(user: User, code) -> Upload:
    return get_visible_or_404(
        Upload.objects.select_related("submission__period", "coalition"), user, code=code
    )


def export(user: User, code) -> Export:
    found = get_visible_or_404(
        Export.objects.select_related("coalition", "requested_by"), user, code=code
    )
    if not permissions.can_download(user, found):
        raise PermissionDenied
    return found
