from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from bpij import security
from bpij.forms import AuditFilterForm
from bpij.http import AuthedRequest
from bpij.models import AuditEvent, StaffRole


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
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_http_methods(["GET", "POST"])
@security.passive
def session(request: AuthedRequest) -> JsonResponse:
    """How long the browser's session has left (asking is not activity); a POST is the
    person choosing to stay signed in from the warning, which is."""
    if request.method == "POST":
        security.session_touch(request, force=True)
    return JsonResponse({"expires_in": max(security.seconds_left(request), 0)})
