"""The submission receipt (issue 11): what a certified version sent, with its
confirmation number, shown on the page after certifying and e-mailed to the certifier."""

from django.conf import settings
from django.urls import reverse

from reporting.models import SENT_STATES, Submission
from reporting.selectors import certify as certify_selectors
from reporting.services import mail


def submission_send_receipt(*, submission_id: int) -> int:
    """E-mail the certifier the receipt of a sent version. Returns how many e-mails were
    sent: none if the version was not certified or the certifier has no address."""
    submission = (
        Submission.objects.select_related("coalition", "period", "certified_by")
        .filter(pk=submission_id, state__in=SENT_STATES, certified_by__isnull=False)
        .first()
    )
    if submission is None or not submission.certified_by or not submission.certified_by.email:
        return 0
    receipt = certify_selectors.receipt_for(submission)
    context = {
        "person": submission.certified_by,
        "receipt": receipt,
        "submission": submission,
        "period": submission.period,
        "coalition": submission.coalition,
        "link": settings.SITE_URL + reverse("reporting:submission-receipt", args=[submission.code]),
    }
    mail.templated(
        "submission_receipt",
        f"Receipt {receipt.number}: your {submission.period.quarter} report was submitted",
        submission.certified_by.email,
        context,
    ).send()
    return 1
