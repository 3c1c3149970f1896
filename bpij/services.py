from typing import Any

from bpij import auditing, observability
from bpij.models import AuditAction, AuditEvent, User


def audit_record(
    *,
    action: AuditAction,
    actor: User | None = None,
    actor_email: str = "",
    coalition: Any = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry to the audit log: ``actor`` did it (``actor_email`` names who
    tried when nobody is signed in: a failed sign-in), from where the audit context of the
    work in hand says (bpij.auditing: the request's address and browser, bound by the
    middleware; nothing for a command or a scheduled task). The detail gets the id of the request
    (or of the request that queued the task) that wrote it, to find its log lines.
    """
    where = auditing.current()
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_email=(actor.email if actor else actor_email)[:254],
        coalition_uuid=getattr(coalition, "code", None),
        coalition_name=getattr(coalition, "name", ""),
        target=target[:300],
        ip_address=where.ip_address,
        user_agent=where.user_agent,
        detail=observability.audit_detail(detail),
    )
