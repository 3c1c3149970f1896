"""Who acts from where, for the audit log, without an HttpRequest.

Services take who acts (``actor``) as an argument and read *where from* — the client's
address, its browser and the request id — from the audit context of the work in hand:
``RequestIdMiddleware`` binds it for every request (pages and the API alike), and a task
or a command that wants its entries marked binds its own with ``bound()``. Outside any of
them the context is empty (an entry with no address), which is what a command run by an
operator or a scheduled task is. So pages, API views, tasks and commands call the same
services the same way (issue 15: services do not take an HttpRequest).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest


@dataclass(frozen=True)
class AuditContext:
    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request: HttpRequest) -> "AuditContext":
        return cls(
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        )


NOWHERE = AuditContext()
_current: ContextVar[AuditContext] = ContextVar("bpij_audit_context", default=NOWHERE)


def client_ip(request: HttpRequest) -> str | None:
    if settings.BEHIND_PROXY:
        # The proxy appends the address it saw; anything before it came from the client
        # and cannot be trusted.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def current() -> AuditContext:
    return _current.get()


def begin(context: AuditContext) -> None:
    """Bind ``context`` for the rest of this request (the middleware; ``end`` when the
    request has finished, so entries written after the view returned still carry it)."""
    _current.set(context)


def end() -> None:
    _current.set(NOWHERE)


@contextmanager
def bound(context: AuditContext) -> Iterator[AuditContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
