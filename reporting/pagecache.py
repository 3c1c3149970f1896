"""What the dashboards and the status board compute per quarter, kept in Django's cache
(Redis in production, local memory in the embedded default) so that twenty people
reloading a page do not each rebuild the same figures, charts and tables
(docs/operations.md, "Load").

A cached piece is found under a key made of

- **what was asked**: the page, the quarter, the coalition, the filters and sort…;
- **who asks**, as far as it decides what they may see (``viewer``): the staff role and
  the database scope (tenancy.scope_for). People who see every coalition share pieces
  by role (a program officer's are never a Federal Project Officer's); a coach or a
  coalition's member has pieces of their own, keyed by their coalitions as well;
and is used only if it was built from data as fresh as now, told one of two ways:

  * a **generation** for what is computed from the roll-up tables: a counter in the
    cache, raised when roll-ups are recomputed (reporting.services.rollups) and when a
    coalition, grant, target or reporting period is saved or deleted (signals below).
    Raised at once *and* again when the transaction commits, so a piece built from
    the old rows in between is never used;
  * a **stamp** for what shows live states (the board): one query that reads the row
    count and the row versions (PostgreSQL's ``xmin``, new on every insert and update)
    of the rows the page is built from, as the database shows them to the viewer
    (row-level security narrows them). Any change,
    whatever code made it (a service, a queryset ``update()``, the sweeper, a shell),
    gives another stamp, so the board is never stale and needs no list of places to
    invalidate from.

Each piece is one entry, holding the generation or stamp it was built at (a new one
replaces it; nothing piles up while checks change the board every few seconds), in the
shared cache and, in front of it, in this process's memory. Nothing that belongs to one
request (the CSRF token, messages, the person's name) is in a cached piece: pieces are
rendered without the request.
``PAGE_CACHE_SECONDS`` bounds how long a piece is kept (0 turns the cache off).
"""

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction

from bpij import tenancy

T = TypeVar("T")

FIGURES = "figures"
_PREFIX = "pagecache"


def enabled() -> bool:
    return settings.PAGE_CACHE_SECONDS > 0


def _generation_key(name: str) -> str:
    return f"{_PREFIX}:generation:{name}"


def generation(name: str = FIGURES) -> int:
    """The current generation of ``name``. A counter lost from the cache (evicted, Redis
    emptied) starts again from the clock, never from a number used before."""
    key = _generation_key(name)
    value = cache.get(key)
    if value is None:
        cache.add(key, time.time_ns(), timeout=None)
        value = cache.get(key, 0)
    return int(value)


def _raise(name: str) -> None:
    key = _generation_key(name)
    try:
        cache.incr(key)
    except ValueError:  # not there (yet, or any more)
        cache.set(key, time.time_ns(), timeout=None)


def invalidate(name: str = FIGURES) -> None:
    """Every piece of generation ``name`` is out of date: raised now, and again once the
    current transaction commits (a request that read the old rows meanwhile and cached
    what it built has used the intermediate generation)."""
    _raise(name)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: _raise(name))


def viewer(user: Any) -> str:
    """What decides what ``user`` may see, for a key: role and database scope; a
    person, not a role, when the scope is a list of coalitions (coaches, members)."""
    scope = tenancy.scope_for(user)
    role = getattr(user, "staff_role", "") or "member"
    if scope.kind == tenancy.SCOPE_LIST:
        # A member's role in each coalition too (what they may export, for one).
        roles = sorted(getattr(user, "coalition_roles", {}).items())
        return f"{role}:user{user.pk}:{scope.kind}:{scope.coalitions}:{roles}"
    return f"{role}:{scope.kind}"


def key(page: str, *parts: object) -> str:
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"{_PREFIX}:{page}:{digest}"


class _Recent:
    """The pieces this process used last, in front of the shared cache: a piece found
    here is not unpickled again (the board's rows took longer to unpickle than to
    render). Safe across processes because an entry holds the generation or stamp it
    was built at, compared with the one every process reads from the shared cache or
    the database."""

    def __init__(self, size: int = 128):
        self.size = size
        self.items: OrderedDict[str, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, name: str) -> Any:
        with self.lock:
            value = self.items.get(name)
            if value is not None:
                self.items.move_to_end(name)
            return value

    def put(self, name: str, value: Any) -> None:
        with self.lock:
            self.items[name] = value
            self.items.move_to_end(name)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_recent = _Recent()


def clear_local() -> None:
    """Forget this process's recent pieces (tests clear the cache between tests)."""
    _recent.clear()


def cached(page: str, parts: Iterable[object], build: Callable[[], T], *, fresh: object) -> T:
    """The piece ``page`` for ``parts`` (what was asked and by whom) as of ``fresh`` (a
    generation or a stamp; None: not cached), built and kept if neither this process
    nor the shared cache has it as of ``fresh``. One entry per piece, holding the
    ``fresh`` it was built at: a stamp that changes every few seconds (checks running)
    replaces the entry rather than leaving one behind each time. Callers must not
    change what they get (copy first)."""
    if not enabled() or fresh is None:
        return build()
    name = key(page, *parts)
    entry = _recent.get(name)
    if entry is None or entry[0] != fresh:
        entry = cache.get(name)
        if entry is None or entry[0] != fresh:
            entry = (fresh, build())
            cache.set(name, entry, timeout=settings.PAGE_CACHE_SECONDS)
        _recent.put(name, entry)
    return entry[1]


def stamp(*sources: tuple[type[models.Model], str, Sequence[Any]]) -> str | None:
    """One query: for each (model, SQL condition on its table, parameters), the number
    of rows and the sum of their row versions (``xmin``) that the current database
    scope sees. Another insert, update or delete among them gives another stamp. The
    SQL is written out, not compiled from querysets, because it runs on every request.
    None (nothing is cached) on a database without row versions (SQLite, the embedded
    default) or with the cache off."""
    if connection.vendor != "postgresql" or not enabled():
        return None
    selects: list[str] = []
    params: list[Any] = []
    for model, where, where_params in sources:
        table = connection.ops.quote_name(model._meta.db_table)
        selects.append(
            f"(SELECT count(*)::text || '.' || coalesce(sum(xmin::text::bigint), 0)"
            f" FROM {table}{f' WHERE {where}' if where else ''})"
        )
        params.extend(where_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(selects)}", params)
        row = cursor.fetchone()
    return "/".join(row)


def _figures_changed(sender: type[models.Model], **kwargs: Any) -> None:
    invalidate(FIGURES)


def connect_signals() -> None:
    """What the dashboards' figures are read with beside the roll-ups: a coalition's
    name, segments and due dates, its grant's dates, its targets."""
    from django.db.models.signals import post_delete, post_save

    from grantees.models import Coalition, Grant, Target
    from reporting.models import ReportingPeriod

    for model in (Coalition, Grant, Target, ReportingPeriod):
        for signal in (post_save, post_delete):
            signal.connect(
                _figures_changed,
                sender=model,
                dispatch_uid=f"pagecache.{signal is post_save}.{model._meta.label}",
            )
