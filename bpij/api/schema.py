"""drf-spectacular hooks: what every operation shares, said once."""

from typing import Any

RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before sending again.",
    }
}
WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "schema": {"type": "string"},
        "description": 'Bearer realm="api": send a personal token.',
    }
}


def response_headers(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every 429 carries Retry-After, every 401 WWW-Authenticate."""
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.get("responses", {})
            if "429" in responses:
                responses["429"].setdefault("headers", {}).update(RETRY_AFTER)
            if "401" in responses:
                responses["401"].setdefault("headers", {}).update(WWW_AUTHENTICATE)
    return result
