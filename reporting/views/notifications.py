"""A person's notification settings (docs/review.md, "Who is told"): per kind of staff
e-mail, each e-mail, a daily digest, or off."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from bpij.http import AuthedRequest
from reporting.forms import NotificationSettingsForm
from reporting.models import NotificationKind
from reporting.services import staff_notices

DESCRIPTIONS = {
    NotificationKind.CERTIFIED: (
        "A coalition you coach (or, for program officers, any coalition) certifies and "
        "submits a version of its quarterly report."
    ),
    NotificationKind.RETURNED: (
        "A reviewer returns a version for revision (program officers; not the one who returned it)."
    ),
    NotificationKind.REVIEW_WAITING: (
        "A report has waited in review more than the set number of days: coaches are "
        "reminded first, program officers some days later (once per version each)."
    ),
}


@require_http_methods(["GET", "POST"])
def notification_settings(request: AuthedRequest) -> HttpResponse:
    if not staff_notices.may_choose(request.user):
        raise PermissionDenied
    status = 200
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if form.is_valid():
            staff_notices.settings_save(user=request.user, modes=form.cleaned_data)
            messages.success(request, "Your notification settings are saved.")
            return redirect("reporting:notification-settings")
        status = 400
    else:
        form = NotificationSettingsForm(initial=staff_notices.modes_of(request.user))
    kinds = [
        {"field": form[kind], "description": DESCRIPTIONS[NotificationKind(kind)]}
        for kind in NotificationKind.values
    ]
    return render(
        request,
        "reporting/notification_settings.html",
        {"form": form, "kinds": kinds},
        status=status,
    )
