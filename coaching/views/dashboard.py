from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from bpij.http import AuthedRequest
from bpij.models import StaffRole
from bpij.tenancy import get_visible_or_404
from coaching import selectors as coaching_selectors
from reporting.selectors import dashboards


def coalition_dashboard(request: AuthedRequest, code) -> HttpResponse:
    """One coalition at a glance: progress to each target with pace, trends, the latest
    report and its findings, the indicators, and coaching (notes cut to what the reader
    may see). For the coalition's own people, its coaches, program officers and admins."""
    coalition = get_visible_or_404(
        dashboards.coalitions_with_latest_submission(), request.user, code=code
    )
    if request.user.staff_role == StaffRole.FUNDER_VIEWER:
        # Coaching notes and findings are not aggregates; the program dashboard is theirs.
        raise PermissionDenied
    today = timezone.localdate()
    dashboard = dashboards.coalition_dashboard(
        coalition=coalition, quarter=request.GET.get("quarter", ""), today=today
    )
    context = {
        "coalition": coalition,
        "dashboard": dashboard,
        "coaching": coaching_selectors.coalition_coaching(coalition=coalition, user=request.user),
        "today": today,
    }
    return render(request, "coaching/coalition_dashboard.html", context)
