from typing import Any

from django.conf import settings
from django.http import HttpRequest

from bpij import observability
from bpij.models import AuditAction, AuditEvent, User


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    if settings.BEHIND_PROXY:
        # The proxy appends the address it saw; anything before it came from the client
        # and cannot be trusted.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: AuditAction,
    request: HttpRequest | None = None,
    actor: User | None = None,
    actor_email: str = "",
    coalition: Any = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry to the audit log.

    ``actor`` defaults to the request's signed-in user; ``actor_email`` names who tried
    when nobody is signed in (a failed sign-in). The detail gets the id of the request
    (or of the request that queued the task) that wrote it, to find its log lines.
    """
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_email=(actor.email if actor else actor_email)[:254],
        coalition_uuid=getattr(coalition, "code", None),
        coalition_name=getattr(coalition, "name", ""),
        target=target[:300],
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:300],
        detail=observability.audit_detail(detail),
    )
