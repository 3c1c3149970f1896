"""The hub's e-mails: a plain-text body and an HTML alternative rendered from one pair of
templates (``templates/email/<name>.txt`` and ``.html``) with the same context, and the
site's subject prefix."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def templated(name: str, subject: str, to: str, context: dict) -> EmailMultiAlternatives:
    """The message, not yet sent: send it, or hand several to one connection."""
    message = EmailMultiAlternatives(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject,
        body=render_to_string(f"email/{name}.txt", context),
        to=[to],
    )
    message.attach_alternative(render_to_string(f"email/{name}.html", context), "text/html")
    return message
