from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

SESSION_KEY = "bpij_mfa_ok"
# Pages a staff member without a second factor may still open: everything under
# /accounts/ (sign-out, password, the MFA set-up itself) and static files.
OPEN_PREFIXES = ("/accounts/", "/static/", "/healthz")


def forget_mfa_ok(request: HttpRequest | None) -> None:
    if request is not None and hasattr(request, "session"):
        request.session.pop(SESSION_KEY, None)


def mfa_exempt(user) -> bool:
    return bool(settings.MFA_EXEMPT_DEMO_ACCOUNTS and user.is_demo)


class StaffMFARequiredMiddleware:
    """JFF staff reach no coalition data until they have set up a second factor.

    Having one is remembered in the session (forgotten when an authenticator is
    removed), so a staff member costs one query per session, not one per page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.needs_mfa
            and not request.path.startswith(OPEN_PREFIXES)
            and not request.session.get(SESSION_KEY)
            and not mfa_exempt(user)
        ):
            if Authenticator.objects.filter(user=user).exists():
                request.session[SESSION_KEY] = True
            else:
                messages.info(
                    request,
                    "JFF staff must set up two-step sign-in before seeing coalition data. "
                    "Scan the code with an authenticator app, then enter the six digits.",
                )
                return redirect("mfa_activate_totp")
        return self.get_response(request)
