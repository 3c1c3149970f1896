"""The base of every API view: the person's database scope once DRF has authenticated
them, and the audit entry of every write."""

from typing import Any

from django.http import HttpRequest
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bpij import services as platform
from bpij import tenancy
from bpij.models import ApiToken, AuditAction, User


def hold_person_scope(request: HttpRequest, user: Any) -> None:
    """Hold the rest of the request to ``user``'s scope at the database (RLS).

    DatabaseScopeMiddleware took on the scope of whoever the session named before the
    view ran; a token is read only now, inside the view (DRF authenticates lazily), so its
    owner's scope is taken on here, in the request's transaction, until it ends."""
    if not tenancy.rls_enabled():
        return
    stack = getattr(request, "_database_scope", None)
    if stack is None:
        raise RuntimeError("API views run behind bpij.middleware.DatabaseScopeMiddleware")
    stack.enter_context(tenancy.database_scope(tenancy.scope_for(user)))


class ApiView(APIView):
    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        hold_person_scope(request._request, request.user)

    @property
    def actor(self) -> User:
        return self.request.user  # type: ignore[return-value]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        user = getattr(request, "_user", None)
        if (
            request.method not in SAFE_METHODS
            and user is not None
            and user.is_authenticated
            and response.status_code < 500
        ):
            token = request.auth if isinstance(request.auth, ApiToken) else None
            platform.audit_record(
                action=AuditAction.API_WRITE,
                actor=user,
                target=f"{request.method} {request.path}"[:300],
                detail={
                    "status": response.status_code,
                    "token": str(token.code) if token else None,
                    "token_prefix": token.prefix if token else None,
                },
            )
        return response
