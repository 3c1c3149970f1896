from collections.abc import Callable
from contextlib import ExitStack

from allauth.account.authentication import (
    AUTHENTICATION_METHODS_SESSION_KEY,
    get_authentication_records,
)
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.signals import request_finished
from django.db import transaction
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from bpij import auditing, observability, services, tenancy
from bpij.models import AuditAction

# Pages a staff member may open before passing the second factor: everything under
# /accounts/ (sign-out, password, the second factor itself) and static files.
OPEN_PREFIXES = ("/accounts/", "/static/", "/healthz", "/readyz")


def passed_second_factor(request: HttpRequest) -> bool:
    """Whether this session, not merely this person, has passed the second factor.

    allauth keeps the authentication methods used in the session; a code entered at
    sign-in or at reauthentication adds an "mfa" record, and so does setting up an
    authenticator (bpij.signals). A session made any other way (a password alone, a
    password reset) has none.
    """
    user = getattr(request, "user", None)
    records = get_authentication_records(request, user) if user is not None else []
    return any(record.get("method") == "mfa" for record in records)


def forget_second_factor(request: HttpRequest | None) -> None:
    if request is None or not hasattr(request, "session"):
        return
    records = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY)
    if isinstance(records, list):
        request.session[AUTHENTICATION_METHODS_SESSION_KEY] = [
            record for record in records if record.get("method") != "mfa"
        ]


def mfa_exempt(user) -> bool:
    return bool(settings.MFA_EXEMPT_DEMO_ACCOUNTS and user.is_demo)


class StaffMFARequiredMiddleware:
    """Staff roles and the Federal Project Officer reach no coalition data until this
    session has passed the second factor.

    Someone without an authenticator is sent to set one up; someone with one whose session
    has not used it (signed in by a door that skipped it) is asked for a code. A session
    that has passed costs no query.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.needs_mfa
            and not request.path.startswith(OPEN_PREFIXES)
            and not mfa_exempt(user)
            and not passed_second_factor(request)
        ):
            if Authenticator.objects.filter(user=user).exists():
                messages.info(
                    request,
                    "Enter a code from your authenticator app to see coalition data: "
                    "this sign-in has not used it yet.",
                )
                return redirect_to_login(request.get_full_path(), reverse("mfa_reauthenticate"))
            messages.info(
                request,
                "JFF and DOL staff must set up two-step sign-in before seeing coalition data. "
                "Scan the code with an authenticator app, then enter the six digits.",
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class RequestIdMiddleware:
    """Give each request an id: the proxy's X-Request-ID when it is a sane token, a new
    one otherwise. It is on every log line written while the request is handled (Django's
    own "Not Found" and error lines, written after the middleware has returned, too: the
    id is dropped only when the request finishes), in the audit entries it writes, in the
    headers of the tasks it queues (so their log lines carry it too, bpij.celery) and in
    the response's X-Request-ID."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = observability.request_id_from(
            request.headers.get(observability.REQUEST_ID_HEADER)
        )
        request.request_id = request_id  # type: ignore[attr-defined]
        observability.request_id_begin(request_id)
        auditing.begin(auditing.AuditContext.of(request))
        response = self.get_response(request)
        response[observability.REQUEST_ID_HEADER] = request_id
        return response


@receiver(request_finished, dispatch_uid="bpij.middleware.forget_request_id")
def _forget_request_id(**kwargs) -> None:
    observability.request_id_end()
    auditing.end()


def outside_request_transaction(view: Callable) -> Callable:
    """Mark a probe view (/healthz, /readyz) that opens no transaction and takes no
    scope: it must answer even when the database does not, and say so itself."""
    view.outside_request_transaction = True  # type: ignore[attr-defined]
    return view


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
        if not tenancy.rls_enabled() or getattr(view_func, "outside_request_transaction", False):
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
                actor=request.user,
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
