import logging

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from bpij import observability, security
from bpij.forms import AuditFilterForm
from bpij.http import AuthedRequest
from bpij.middleware import outside_request_transaction
from bpij.models import AuditEvent, StaffRole

logger = logging.getLogger(__name__)


def audit_log(request: AuthedRequest) -> HttpResponse:
    """The audit log, for JFF administrators and program officers."""
    if request.user.staff_role not in (StaffRole.JFF_ADMIN, StaffRole.PROGRAM_OFFICER):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    events: QuerySet[AuditEvent] = AuditEvent.objects.select_related("actor")
    if form.is_valid():
        events = form.filter(events)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": Paginator(events, 50).get_page(request.GET.get("page")),
        "query_string": query.urlencode(),
    }
    template = "bpij/audit_list.html#results" if request.htmx else "bpij/audit_list.html"
    return render(request, template, context)


@login_not_required
@outside_request_transaction
@require_http_methods(["GET", "HEAD"])
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers requests. Nothing else is asked (a database or Redis
    outage must not get every web process restarted); /readyz asks them."""
    return _probe_response({"status": "ok"}, status=200)


@login_not_required
@outside_request_transaction
@require_http_methods(["GET", "HEAD"])
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database, Redis, storage and a worker's heartbeat, each named, and
    503 naming those that failed (docs/operations.md, "Monitoring")."""
    ready, checks = observability.readiness()
    body = {
        "status": "ok" if ready else "fail",
        "failed": [name for name, check in checks.items() if not check.ok],
        "checks": {name: check.as_json() for name, check in checks.items()},
    }
    response = _probe_response(body, status=200 if ready else 503)
    if not ready:
        # One line naming what failed, instead of Django's bare "Service Unavailable"
        # error on every probe.
        logger.warning(
            "Not ready: %s",
            "; ".join(f"{name}: {checks[name].detail}" for name in body["failed"]),
        )
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _probe_response(body: dict, *, status: int) -> JsonResponse:
    response = JsonResponse(body, status=status)
    # A probe's answer is about this moment: never kept by a proxy or a browser.
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
@security.passive
def session(request: AuthedRequest) -> JsonResponse:
    """How long the browser's session has left (asking is not activity); a POST is the
    person choosing to stay signed in from the warning, which is."""
    if request.method == "POST":
        security.session_touch(request, force=True)
    return JsonResponse({"expires_in": max(security.seconds_left(request), 0)})
