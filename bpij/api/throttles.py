from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from bpij.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """API_THROTTLE_RATE requests per token (a session: per person; anonymous: per
    address), counted in the default cache (Redis on a server, so every worker process
    shares the count). Over it: 429 with Retry-After."""

    scope = "api"

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
