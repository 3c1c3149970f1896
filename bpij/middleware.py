from collections.abc import Callable
from contextlib import ExitStack

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from bpij import services, tenancy
from bpij.models import AuditAction

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


class DatabaseScopeMiddleware:
    """Run each view as the application role with the signed-in person's scope (RLS).

    The scope is entered once the view is known (a view marked ``unrestricted`` gets the
    whole database) and left when the response is complete, whatever happened.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with ExitStack() as stack:
            request._database_scope = stack  # type: ignore[attr-defined]
            return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        if not tenancy.rls_enabled():
            return
        ids: list[int]
        if getattr(view_func, "database_scope_all", False):
            scope, ids = tenancy.SCOPE_ALL, []
        else:
            scope, ids = tenancy.scope_for(request.user)
        request._database_scope.enter_context(tenancy.database_scope(scope, ids))  # type: ignore[attr-defined]


# Requests whose refusal says nothing about who may see what: files and the browser's
# own probes.
UNAUDITED_PREFIXES = ("/static/", "/media/", "/favicon.ico", "/robots.txt", "/.well-known/")


class AccessDeniedAuditMiddleware:
    """Write every 403 and 404 a signed-in person meets to the audit log: another
    coalition's object is a 404 (ARCHITECTURE.md), so probing shows up as a run of them.

    Anonymous requests are not written (sign-in is required everywhere else, so they
    reach only public pages and would let anyone fill the log), nor are static files and
    browser probes. Innermost, so it sees the response the view's own exception became.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code in (403, 404)
            and request.user.is_authenticated
            and not request.path.startswith(UNAUDITED_PREFIXES)
        ):
            match = request.resolver_match
            services.audit_record(
                action=AuditAction.ACCESS_DENIED,
                request=request,
                target=f"{request.method} {request.path}"[:300],
                detail={
                    "status": response.status_code,
                    "method": request.method,
                    "path": request.path,
                    "view": match.view_name if match else "",
                    "htmx": bool(request.headers.get("HX-Request")),
                },
            )
        return response
