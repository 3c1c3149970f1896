from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from bpij.http import AuthedRequest
from bpij.models import StaffRole
from bpij.tenancy import get_visible_or_404
from coaching import selectors as coaching_selectors
from grantees.models import Coalition
from reporting.selectors import dashboards
from reporting.services import exports


def coalition_dashboard(request: AuthedRequest, coalition_code) -> HttpResponse:
    """One coalition at a glance: progress to each target with pace, trends, the latest
    report and its findings, the indicators, and coaching (notes cut to what the reader
    may see). For the coalition's own people, its coaches, program officers and admins;
    the Federal Project Officer reads the aggregates only (targets, pace, trends,
    indicators, data quality from the roll-ups): no report, findings, coaching, risk or
    people, and no link to the report pages they may not open."""
    aggregates_only = request.user.staff_role == StaffRole.FUNDER_VIEWER
    coalition = get_visible_or_404(
        Coalition.objects.all()
        if aggregates_only
        else dashboards.coalitions_with_latest_submission(),
        request.user,
        code=coalition_code,
    )
    today = timezone.localdate()
    dashboard = dashboards.coalition_dashboard(
        coalition=coalition, quarter=request.GET.get("quarter", ""), today=today
    )
    # "Export the quarter's report" only where the exports page offers that quarter to
    # this person (the Federal Project Officer: accepted reports only).
    exportable = (
        exports.exportable_quarters(request.user, coalition=coalition)
        if exports.kinds_for(request.user, coalition=coalition)
        else []
    )
    context = {
        "coalition": coalition,
        "dashboard": dashboard,
        "aggregates_only": aggregates_only,
        "coaching": None
        if aggregates_only
        else coaching_selectors.coalition_coaching(coalition=coalition, user=request.user),
        "exportable": exportable,
        "today": today,
    }
    return render(request, "coaching/coalition_dashboard.html", context)
