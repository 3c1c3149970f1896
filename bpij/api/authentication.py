"""``Authorization: Bearer <secret>``: a personal token acting as its owner."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from bpij.api import tokens

KEYWORD = "Bearer"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """A request that sends no Authorization header is left to the next class (the
    session); one that sends a Bearer header must carry a usable token, or it is 401."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <token>', with the token and "
                "nothing after it."
            )
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(
                "The token has characters no token has; copy it again."
            ) from error
        token = tokens.token_authenticate(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(
                "This token is unknown, revoked or expired: make a new one on the API "
                "tokens page (/api/tokens/) and send it as 'Authorization: Bearer <token>'."
            )
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{KEYWORD} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "bpij.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (docs/api.md): Authorization: Bearer <token>.",
        }
