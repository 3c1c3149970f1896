"""Every API error is JSON of one shape: ``{"code": ..., "detail": ..., "fields": {...}}``.

``code`` is stable (scripts branch on it), ``detail`` is the sentence the pages would
show (what is wrong and what would be right), ``fields`` maps a request field to its
problems (empty when the problem is not one field's).
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# The words of the pages (templates/403.html, templates/404.html).
NOT_FOUND = (
    "We could not find that: the address may be mistyped, or it belongs to a coalition "
    "your account does not have access to."
)
FORBIDDEN = (
    "Your role does not allow this, and nothing was changed: your account does not have a "
    "role that allows it. A coalition's administrator changes the roles of its members "
    "(for example, from viewer to reporter, to send files)."
)
NOT_AUTHENTICATED = (
    "Send a personal API token as 'Authorization: Bearer <token>'; make one on the API "
    "tokens page (/api/tokens/) or with `manage.py api_token create`."
)


def body(code: str, detail: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"code": code, "detail": detail, "fields": fields or {}}


def _messages(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [m for item in value for m in _messages(item)]
    if isinstance(value, dict):
        return [f"{key}: {m}" for key, item in value.items() for m in _messages(item)]
    return [str(value)]


def _validation(detail: Any) -> tuple[str, dict[str, list[str]]]:
    if isinstance(detail, dict):
        fields = {
            str(name): _messages(problems)
            for name, problems in detail.items()
            if name != "non_field_errors"
        }
        general = _messages(detail.get("non_field_errors", []))
        sentences = general + [f"{name}: {' '.join(msgs)}" for name, msgs in fields.items()]
        return " ".join(sentences), fields
    return " ".join(_messages(detail)), {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        # A service refused: its message is the page's.
        fields = (
            {name: list(msgs) for name, msgs in exc.message_dict.items() if name != "__all__"}
            if hasattr(exc, "error_dict")
            else {}
        )
        return Response(body("invalid", " ".join(exc.messages), fields), status=400)
    if isinstance(exc, DjangoPermissionDenied):
        text = str(exc) if exc.args and str(exc) else FORBIDDEN
        return Response(body("permission_denied", text), status=403)
    if isinstance(exc, Http404):
        return Response(body("not_found", NOT_FOUND), status=404)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    code = exc.get_codes() if not isinstance(exc, exceptions.ValidationError) else "invalid"
    code = code if isinstance(code, str) else exc.default_code
    if isinstance(exc, exceptions.ValidationError):
        detail, fields = _validation(exc.detail)
        response.data = body("invalid", detail, fields)
    elif isinstance(exc, exceptions.NotFound):
        response.data = body("not_found", NOT_FOUND)
    elif isinstance(exc, exceptions.PermissionDenied):
        text = str(exc.detail)
        response.data = body(
            "permission_denied",
            FORBIDDEN if text == exceptions.PermissionDenied.default_detail else text,
        )
    elif isinstance(exc, exceptions.NotAuthenticated):
        response.data = body("not_authenticated", NOT_AUTHENTICATED)
    elif isinstance(exc, exceptions.Throttled):
        wait = int(getattr(exc, "wait", None) or 1)
        response.data = body(
            "throttled",
            f"Too many requests from this token: wait {wait} second{'s' if wait != 1 else ''} "
            "(the Retry-After header) and send it again.",
        )
    else:
        response.data = body(code, " ".join(_messages(exc.detail)))
    return response


def json_error(request: HttpRequest, code: str, detail: str, status_code: int) -> JsonResponse:
    """An error answered before any API view runs (an unknown /api/ address, a body too
    large), in the same shape."""
    return JsonResponse(body(code, detail), status=status_code)


class ErrorSerializer(serializers.Serializer):
    """What every error answer holds (documented on each operation)."""

    code = serializers.CharField(help_text="Stable: not_found, permission_denied, invalid, …")
    detail = serializers.CharField(help_text="What is wrong and what would be right.")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per request field, its problems; empty when not one field's.",
    )
