from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from grantees.models import Coalition, Grant


def home(request: HttpRequest) -> HttpResponse:
    """A coach's home: the coalitions they coach, soonest report first."""
    if not request.user.is_coach:
        raise PermissionDenied
    today = timezone.localdate()
    coalitions = Coalition.objects.visible_to(request.user).prefetch_related(
        Prefetch("grants", queryset=Grant.objects.order_by("start_date"))
    )
    cards = []
    for coalition in coalitions:
        grants = list(coalition.grants.all())
        next_report = grants[0].next_report(today) if grants else None
        cards.append(
            {
                "coalition": coalition,
                "grant": grants[0] if grants else None,
                "next_report": next_report,
                "days_to_due": (next_report.due - today).days if next_report else None,
            }
        )
    cards.sort(key=lambda card: (card["next_report"] is None, card["days_to_due"] or 0))
    return render(request, "coaching/home.html", {"cards": cards, "today": today})
