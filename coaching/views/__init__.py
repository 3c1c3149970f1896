from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from bpij.http import AuthedRequest
from grantees import selectors


def home(request: AuthedRequest) -> HttpResponse:
    """A coach's home: the coalitions they coach, soonest report first."""
    if not request.user.is_coach:
        raise PermissionDenied
    today = timezone.localdate()
    rows = selectors.coalition_rows(request.user, today=today)
    rows.sort(key=lambda row: (row.next_report is None, row.days_to_due or 0))
    return render(request, "coaching/home.html", {"rows": rows, "today": today})
