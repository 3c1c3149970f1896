import copy
from typing import Any

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
    people, and no link to the report pages they may not open.

    The page's content is rendered without the request and kept in the page cache
    (reporting.pagecache) per coalition, quarter asked, day and viewer (role and scope),
    as of the figures' generation (raised by every roll-up) and its live stamp
    (coaching.selectors.dashboard_stamp): a warm request reads the coalition (the
    access check), the generation and one stamp, and renders the page's frame around
    the kept content."""
    aggregates_only = request.user.staff_role == StaffRole.FUNDER_VIEWER
    coalition = get_visible_or_404(Coalition.objects.all(), request.user, code=coalition_code)
    today = timezone.localdate()
    asked = request.GET.get("quarter", "")
    parts = (coalition.pk, asked.strip().upper(), today, pagecache.viewer(request.user))
    generation = pagecache.generation(pagecache.FIGURES)

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

    def build_page() -> tuple[dashboards.CoalitionDashboard, Any, str]:
        # The figures, charts and tables from the roll-ups are kept on their own until
        # roll-ups are recomputed: a new version or a coaching note rebuilds the page
        # around them without recomputing them.
        figures, exportable = pagecache.cached(
            "coalition-figures", parts, build_figures, fresh=generation
        )
        dashboard = copy.copy(figures)  # the cached one is shared: live parts on a copy
        dashboard.coalition = coalition
        dashboard.latest = None
        if not aggregates_only:
            annotated = dashboards.coalitions_with_latest_submission().get(pk=coalition.pk)
            dashboard.latest = dashboards.latest_submission(annotated)

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

        sections = pagecache.cached("coalition-sections", parts, render_sections, fresh=generation)
        coaching, coaching_html = None, ""
        if not aggregates_only:
            # Cut to what the reader may see (the viewer in the key: a person, or a role
            # for those who see every coalition).
            coaching = coaching_selectors.coalition_coaching(coalition=coalition, user=request.user)
            coaching_html = render_to_string(
                "coaching/_coalition_coaching.html", {"coaching": coaching}
            )
        content = render_to_string(
            "coaching/_coalition_dashboard_page.html",
            {
                "coalition": coalition,
                "dashboard": dashboard,
                "sections": sections,
                "aggregates_only": aggregates_only,
                "coaching": coaching,
                "coaching_html": coaching_html,
                "exportable": exportable,
                "today": today,
            },
        )
        return dashboard, coaching, content

    stamp = coaching_selectors.dashboard_stamp(coalition, aggregates_only=aggregates_only)
    dashboard, coaching, content = pagecache.cached(
        "coalition-page",
        parts,
        build_page,
        # Without a stamp (SQLite, the embedded default) the page is built each time,
        # from the figures kept by generation.
        fresh=None if stamp is None else (generation, stamp),
    )
    context = {
        "coalition": coalition,
        "dashboard": dashboard,
        "aggregates_only": aggregates_only,
        "coaching": coaching,
        "content": content,
        "today": today,
    }
    return render(request, "coaching/coalition_dashboard.html", context)
