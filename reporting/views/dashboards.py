from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from bpij.http import AuthedRequest
from reporting import permissions
from reporting.selectors import dashboards


def program_dashboard(request: AuthedRequest) -> HttpResponse:
    """Program-wide figures for staff (aggregates only, so the Federal Project Officer
    too): targets and pace, trends, breakdowns, WIOA-aligned indicators, data quality."""
    if not permissions.can_see_program(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    dashboard = dashboards.program_dashboard(
        user=request.user, quarter=request.GET.get("quarter", ""), today=today
    )
    return render(
        request,
        "reporting/program_dashboard.html",
        {"dashboard": dashboard, "today": today},
    )
