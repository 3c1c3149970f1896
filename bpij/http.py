from django.http import HttpRequest
from django.utils.http import content_disposition_header
from django_htmx.middleware import HtmxDetails

from bpij.models import User


class AuthedRequest(HttpRequest):
    """A request that LoginRequiredMiddleware has let through: ``user`` is a real User.

    Views annotate with it so that type checking knows what the middleware guarantees.
    """

    user: User
    htmx: HtmxDetails


class PublicRequest(HttpRequest):
    htmx: HtmxDetails


def attachment(filename: str) -> str:
    """A Content-Disposition for a download. Django quotes and escapes the name (and uses
    RFC 5987 for names beyond ASCII): a name someone chose is never formatted into the
    header by hand, where a quote in it would end the value."""
    return content_disposition_header(as_attachment=True, filename=filename) or "attachment"
