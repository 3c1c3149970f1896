from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from bpij.http import AuthedRequest
from reporting import pagecache, permissions
from reporting.selectors import dashboards


def program_dashboard(request: AuthedRequest) -> HttpResponse:
    """Program-wide figures for staff (aggregates only, so the Federal Project Officer
    too): targets and pace, trends, breakdowns, WIOA-aligned indicators, data quality.
    The figures and their rendering are kept in the page cache until roll-ups are
    recomputed (reporting.pagecache)."""
    if not permissions.can_see_program(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    asked = request.GET.get("quarter", "")

    def build() -> tuple[dashboards.ProgramDashboard, str]:
        dashboard = dashboards.program_dashboard(user=request.user, quarter=asked, today=today)
        body = render_to_string(
            "reporting/_program_dashboard_body.html", {"dashboard": dashboard, "today": today}
        )
        return dashboard, body

    dashboard, body = pagecache.cached(
        "program-dashboard",
        (asked.strip().upper(), today, pagecache.viewer(request.user)),
        build,
        fresh=pagecache.generation(pagecache.FIGURES),
    )
    return render(
        request,
        "reporting/program_dashboard.html",
        {"dashboard": dashboard, "body": body, "today": today},
    )
