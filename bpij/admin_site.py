"""Django admin behind the hub's one door.

Admin has no sign-in form of its own (its form would be a second door, password only):
its login page sends people to the hub's sign-in, which asks staff for their second
factor. Opening admin takes ``is_staff`` and a session that has passed the second factor,
whatever MFA_EXEMPT_DEMO_ACCOUNTS says. Admin is routed only when ADMIN_ENABLED is on
(bpij/urls.py).
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from bpij import middleware


class HubAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and middleware.passed_second_factor(request)

    @login_not_required
    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        index = reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated:
            # Signed in through the hub but not allowed in admin: sending them to sign in
            # again would only bring them back here.
            if self.has_permission(request):
                return HttpResponseRedirect(index)
            raise PermissionDenied
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = index
        return redirect_to_login(next_url, settings.LOGIN_URL)
