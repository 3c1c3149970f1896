from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render


@login_not_required
def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


@login_not_required
def page_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        # A script asked: the API's error shape, not a page (bpij/api/errors.py).
        from bpij.api.errors import NOT_FOUND, json_error

        return json_error(request, "not_found", NOT_FOUND, 404)
    return render(request, "404.html", status=404)


@login_not_required
def server_error(request):
    # Rendered without the request context: whatever failed may be in it.
    return render(None, "500.html", status=500)
