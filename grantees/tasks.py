from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from bpij.celery import app
from grantees.models import Invitation


def invitation_email(invitation_id: int, token: str) -> EmailMultiAlternatives | None:
    """The e-mail with an invitation's link; None for a replaced or used invitation."""
    invitation = (
        Invitation.objects.select_related("coalition", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if invitation is None:
        return None
    context = {
        "invitation": invitation,
        "link": settings.SITE_URL + reverse("grantees:invitation-accept", args=[token]),
        "site_url": settings.SITE_URL,
    }
    where = invitation.coalition.name if invitation.coalition else "Jobs for the Future"
    message = EmailMultiAlternatives(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}You are invited to join {where}",
        body=render_to_string("email/invitation.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(render_to_string("email/invitation.html", context), "text/html")
    return message


@app.task(acks_late=True)
def send_invitation(invitation_id: int, token: str) -> None:
    """E-mail an invitation link. At-least-once: a redelivered task sends the same link
    again, which is harmless; a replaced or used invitation is not sent."""
    message = invitation_email(invitation_id, token)
    if message is not None:
        message.send()
