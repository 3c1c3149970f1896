from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from bpij.http import AuthedRequest
from coaching import selectors
from reporting.selectors import review as review_selectors


def home(request: AuthedRequest) -> HttpResponse:
    """A coach's home: what waits for them (versions sent for review, returns the
    coalition answered; oldest first), who is at risk, open action items (overdue first),
    and the report that needs each coalition's attention now, soonest due first."""
    if not request.user.is_coach:
        raise PermissionDenied
    today = timezone.localdate()
    rows = selectors.coaching_rows(request.user, today=today, with_coaches=False)
    by_due = sorted(
        rows,
        key=lambda r: (r.report is None, r.report.days_to_due if r.report else 0),
    )
    return render(
        request,
        "coaching/home.html",
        {
            "rows": by_due,
            "at_risk": [r for r in rows if r.at_risk],
            "items": selectors.open_items_for(request.user),
            "waiting": review_selectors.waiting_for(request.user, today=today),
            "today": today,
        },
    )
