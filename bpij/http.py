from django.http import HttpRequest
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
