from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import include, path

from bpij import views as platform_views
from bpij.http import AuthedRequest
from grantees.models import Coalition


def home(request: AuthedRequest) -> HttpResponse:
    """Send each person to their role's home page."""
    user = request.user
    if user.is_coach:
        return redirect("coaching:home")
    if user.is_program_wide:
        return redirect("grantees:coalition-list")
    coalitions = list(Coalition.objects.visible_to(user).values_list("code", flat=True)[:2])
    if len(coalitions) == 1:
        return redirect("grantees:coalition-detail", coalition_code=coalitions[0])
    if coalitions:
        return redirect("grantees:coalition-list")
    return render(request, "home_no_access.html")


urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("audit/", platform_views.audit_log, name="audit-log"),
    path("healthz", platform_views.healthz, name="healthz"),
    path("readyz", platform_views.readyz, name="readyz"),
    path("session/", platform_views.session, name="session"),
    path("api/", include("bpij.api.urls")),
    # Off by default (ADMIN_ENABLED): the hub's own pages do its work; one door fewer.
    *([path("admin/", admin.site.urls)] if settings.ADMIN_ENABLED else []),
    path("", include("grantees.urls")),
    path("", include("reporting.urls")),
    path("coaching/", include("coaching.urls")),
]

handler403 = "bpij.errors.permission_denied"
handler404 = "bpij.errors.page_not_found"
handler500 = "bpij.errors.server_error"
