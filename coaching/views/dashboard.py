import copy

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from bpij.http import AuthedRequest
from bpij.models import StaffRole
from bpij.tenancy import get_visible_or_404
from coaching import selectors as coaching_selectors
from grantees.models import Coalition
from reporting import pagecache
from reporting.selectors import dashboards, exports


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
    asked = request.GET.get("quarter", "")

    # The figures, charts and tables from the roll-ups come from the page cache until
    # roll-ups are recomputed; the latest report, its findings and coaching are live.
    parts = (coalition.pk, asked.strip().upper(), today, pagecache.viewer(request.user))
    fresh = pagecache.generation(pagecache.FIGURES)

    def build_figures() -> tuple[dashboards.CoalitionDashboard, list[str]]:
        # "Export the quarter's report" only where the exports page offers that quarter
        # to this person (the Federal Project Officer: accepted reports only).
        exportable = (
            exports.exportable_quarters(request.user, coalition=coalition)
            if exports.kinds_for(request.user, coalition=coalition)
            else []
        )
        figures = dashboards.coalition_figures(coalition=coalition, quarter=asked, today=today)
        return figures, exportable

    figures, exportable = pagecache.cached("coalition-figures", parts, build_figures, fresh=fresh)
    dashboard = copy.copy(figures)  # the cached one is shared: live parts on a copy
    dashboard.coalition = coalition
    dashboard.latest = None if aggregates_only else dashboards.latest_submission(coalition)

    def render_sections() -> dict[str, str]:
        return {
            "progress": render_to_string(
                "reporting/_dashboard.html#progress",
                {"dashboard": dashboard, "show_milestones": True},
            ),
            "figures": render_to_string(
                "coaching/_coalition_dashboard_figures.html", {"dashboard": dashboard}
            ),
        }

    sections = pagecache.cached("coalition-sections", parts, render_sections, fresh=fresh)
    coaching, coaching_html = None, ""
    if not aggregates_only:
        # Coaching is cut to what the reader may see: kept per person (or role, for
        # those who see every coalition) until a flag, session or item changes.
        def build_coaching() -> tuple[coaching_selectors.CoalitionCoaching, str]:
            found = coaching_selectors.coalition_coaching(coalition=coalition, user=request.user)
            return found, render_to_string("coaching/_coalition_coaching.html", {"coaching": found})

        coaching, coaching_html = pagecache.cached(
            "coalition-coaching",
            (coalition.pk, today, pagecache.viewer(request.user)),
            build_coaching,
            fresh=coaching_selectors.coaching_stamp(coalition),
        )
    context = {
        "coalition": coalition,
        "dashboard": dashboard,
        "sections": sections,
        "aggregates_only": aggregates_only,
        "coaching": coaching,
        "coaching_html": coaching_html,
        "exportable": exportable,
        "today": today,
    }
    return render(request, "coaching/coalition_dashboard.html", context)
