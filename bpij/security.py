"""Response headers, session lifetimes and request-size limits (docs/security.md).

The MFA and database-scope middlewares live in bpij.middleware; these are the pieces
that apply to every request whatever its role or tenant.
"""

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers

from bpij.adapters import SIGNED_IN_AT

LAST_ACTIVITY = "bpij_last_activity"
# The session is written when the person acts, but not more often than this: a page
# that loads several fragments costs one write, not one per fragment. The browser's
# timer is set from what the server says is left (EXPIRES_IN_HEADER), never its own guess.
ACTIVITY_RESOLUTION = 15
EXPIRES_IN_HEADER = "X-Session-Expires-In"
TOO_LARGE_ATTRIBUTE = "_bpij_body_too_large"

Middleware = Callable[[HttpRequest], HttpResponse]


# -- Cache-Control ------------------------------------------------------------------------


class SignedInNoStoreMiddleware:
    """Nothing shown to a signed-in person is kept by a browser or a proxy cache: every
    page of the hub may carry personal data, and one rule is easier to keep true than a
    list of pages. Static files never get here (WhiteNoise answers them first)."""

    def __init__(self, get_response: Middleware):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if signed_in or request.user.is_authenticated:
            add_never_cache_headers(response)
            patch_vary_headers(response, ["Cookie"])
        return response


# -- Idle and absolute session timeouts --------------------------------------------------


def passive(view):
    """Mark a view whose requests do not count as the person's activity: the htmx polls
    that run while a page is open, and the browser asking how long its session has left.
    Without this, an open status page would keep a session alive forever."""
    view.session_passive = True
    return view


def idle_timeout(user) -> int:
    if user.staff_role or user.is_staff:
        return settings.SESSION_IDLE_TIMEOUT_STAFF
    return settings.SESSION_IDLE_TIMEOUT_GRANTEE


def _left(request: HttpRequest, now: float) -> tuple[float, float]:
    """Seconds left before the idle timeout, and before the absolute limit."""
    session = request.session
    signed_in_at = session.get(SIGNED_IN_AT, now)
    last_activity = session.get(LAST_ACTIVITY, signed_in_at)
    idle_left = last_activity + idle_timeout(request.user) - now
    absolute_left = signed_in_at + settings.SESSION_ABSOLUTE_TIMEOUT - now
    return idle_left, absolute_left


def seconds_left(request: HttpRequest) -> int:
    """Seconds until the session ends, whichever limit comes first."""
    return int(min(_left(request, time.time())))


def session_touch(request: HttpRequest, *, force: bool = False) -> None:
    now = time.time()
    session = request.session
    session.setdefault(SIGNED_IN_AT, now)
    last_activity = session.get(LAST_ACTIVITY, session[SIGNED_IN_AT])
    if force or now - last_activity >= ACTIVITY_RESOLUTION:
        session[LAST_ACTIVITY] = now


def _signed_out(request: HttpRequest, absolute: bool) -> HttpResponse:
    minutes = idle_timeout(request.user) // 60
    next_path = request.get_full_path() if request.method == "GET" else ""
    if request.htmx:  # type: ignore[attr-defined]
        # A fragment's page, not the fragment, is where the person comes back to.
        next_path = request.htmx.current_url_abs_path or ""  # type: ignore[attr-defined]
    logout(request)
    if absolute:
        hours = settings.SESSION_ABSOLUTE_TIMEOUT // 3600
        text = f"You were signed out because you signed in more than {hours} hours ago."
    else:
        text = f"You were signed out after {minutes} minutes without activity."
    messages.info(request, f"{text} Sign in again to carry on.")
    sign_in = reverse("account_login")
    if next_path:
        sign_in += "?" + urlencode({"next": next_path})
    if request.path == reverse("session"):
        return JsonResponse({"expires_in": 0, "sign_in": sign_in}, status=401)
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Redirect"] = sign_in
        return response
    return redirect(sign_in)


class SessionTimeoutMiddleware:
    """Ends a session idle longer than the person's role allows (15 minutes for JFF staff
    and the Federal Project Officer, 30 for coalition staff, by default), or older than the
    absolute limit however active, on the server: the browser's warning is a courtesy."""

    def __init__(self, get_response: Middleware):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.get_response(request)
        idle_left, absolute_left = _left(request, time.time())
        if min(idle_left, absolute_left) <= 0:
            return _signed_out(request, absolute=absolute_left <= idle_left)
        response = self.get_response(request)
        if request.user.is_authenticated:
            response[EXPIRES_IN_HEADER] = str(max(seconds_left(request), 0))
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        if not request.user.is_authenticated:
            return
        if not getattr(view_func, "session_passive", False):
            session_touch(request)
        request.session_expires_in = seconds_left(request)  # type: ignore[attr-defined]


# -- Request size -------------------------------------------------------------------------


class UploadLimitHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: counts each file's bytes as they arrive and stops
    reading the request as soon as one passes the limit, so an oversized file is never
    spooled to disk whole (RequestBodyLimitMiddleware turns the stop into a 413)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received = start + len(raw_data)
        if self.received > settings.UPLOAD_MAX_FILE_BYTES:
            setattr(self.request, TOO_LARGE_ATTRIBUTE, True)
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _too_large(request: HttpRequest) -> HttpResponse:
    limit_mb = settings.UPLOAD_MAX_FILE_BYTES // (1024 * 1024)
    if request.path.startswith("/api/"):
        # The API's error shape (bpij/api/errors.py), with the page's words.
        response: HttpResponse = JsonResponse(
            {
                "code": "file_too_large",
                "detail": f"That was too large to send: files may be at most {limit_mb} MB, "
                "and nothing of this one was kept. Send the whole cumulative file as CSV "
                "UTF-8, which is smaller than the same data as .xlsx, and remove columns that "
                "are not in the template.",
                "fields": {"file": [f"At most {limit_mb} MB."]},
            },
            status=413,
        )
        response["Connection"] = "close"
        return response
    response = render(request, "413.html", {"limit_mb": limit_mb}, status=413)
    response["Connection"] = "close"
    return response


class RequestBodyLimitMiddleware:
    """Refuses a request body larger than the hub ever needs (one file at the upload
    limit plus the form around it) before reading it: from Content-Length when it says so,
    and, for multipart bodies, while the file streams in (UploadLimitHandler). Other
    bodies are held to Django's DATA_UPLOAD_MAX_MEMORY_SIZE."""

    def __init__(self, get_response: Middleware):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.REQUEST_BODY_MAX_BYTES:
            return _too_large(request)
        if request.method == "POST" and request.content_type == "multipart/form-data":
            # Parsed here, before any view or CSRF check reads it, so that a stopped
            # upload is answered as what it is rather than as a form with no file.
            request.POST  # noqa: B018
            if getattr(request, TOO_LARGE_ATTRIBUTE, False):
                return _too_large(request)
        return self.get_response(request)
