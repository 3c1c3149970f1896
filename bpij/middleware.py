from collections.abc import Callable
from contextlib import ExitStack

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from bpij import tenancy

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
    """Hold each view to the signed-in person's scope at the database (RLS).

    The scope is taken on once the view is known (a view marked ``unrestricted`` gets
    'all'), and the view, its template and everything it queries run in one transaction
    that carries it (``set_config(..., true)``: nothing outlives the transaction). An
    unexpected error rolls the transaction back; a 404 or 403 does not, so what was
    written about the refusal stays.
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
        if getattr(view_func, "database_scope_all", False):
            scope = tenancy.Scope(tenancy.SCOPE_ALL)
        else:
            scope = tenancy.scope_for(request.user)
        stack: ExitStack = request._database_scope  # type: ignore[attr-defined]
        # The scope first, then the transaction: the scope is written as it begins.
        stack.enter_context(tenancy.database_scope(scope))
        if not transaction.get_connection().in_atomic_block:
            stack.enter_context(transaction.atomic())
            request._database_transaction = True  # type: ignore[attr-defined]

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if getattr(request, "_database_transaction", False) and not isinstance(
            exception, Http404 | PermissionDenied
        ):
            transaction.set_rollback(True)
