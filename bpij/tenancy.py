"""The one way to read tenant data.

Every tenant-owned model has a ``coalition`` foreign key and a manager built from
``TenantQuerySet``; ``Model.objects.visible_to(user)`` is the only entry point views,
serializers, tasks and admin actions use to fetch such rows by a user-supplied id. Rows
outside the user's scope simply do not exist for them (404, never 403).
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import wraps
from typing import Any, NamedTuple, Self, TypeVar, cast

from django.core import checks
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connections, models
from django.http import Http404

from bpij.models import StaffRole, User, rls_enabled

M = TypeVar("M", bound=models.Model)


# --- Who sees what -------------------------------------------------------------------
#
# scope_for() is the one rule. Both layers read the Scope it returns the same way:
# visible_to() as a filter in the ORM, and bpij_visible() (bpij/db.py) in the row-level
# security policies of PostgreSQL, from the scope the request or task carries.

SCOPE_NONE = "none"  # no tenant rows
SCOPE_LIST = "list"  # the rows of the listed coalitions
SCOPE_AGGREGATES = "aggregates"  # every coalition's aggregate tables; nothing about people
SCOPE_ALL = "all"  # every row (program officers, JFF administrators)
SCOPE_SYSTEM = "system"  # every row, entered only by trusted code: tasks, commands


class Scope(NamedTuple):
    kind: str
    coalitions: list[int] = []

    def sees_every_row(self, *, aggregate: bool) -> bool:
        """Whether the scope sees every row of a table (``aggregate``: a table whose rows
        carry nothing about individual people) rather than some or none."""
        return self.kind in (SCOPE_ALL, SCOPE_SYSTEM) or (
            self.kind == SCOPE_AGGREGATES and aggregate
        )

    def sees_some_rows(self, *, aggregate: bool) -> bool:
        return self.kind == SCOPE_LIST or self.sees_every_row(aggregate=aggregate)


def scope_for(user: Any) -> Scope:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(SCOPE_NONE)
    if user.staff_role in (StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN):
        return Scope(SCOPE_ALL)
    if user.staff_role == StaffRole.FUNDER_VIEWER:
        # Federal Project Officers see aggregates only.
        return Scope(SCOPE_AGGREGATES)
    if user.staff_role == StaffRole.COACH:
        return Scope(SCOPE_LIST, sorted(user.assigned_coalition_ids))
    if user.staff_role:
        return Scope(SCOPE_NONE)
    return Scope(SCOPE_LIST, sorted(user.coalition_roles))


class TenantQuerySet(models.QuerySet[M]):
    # A table whose rows carry nothing about individual people opts in: the Federal
    # Project Officer's aggregates scope sees all of its rows (and the policy agrees:
    # EnableRowLevelSecurity(..., aggregate=True)).
    funder_visible = False

    def visible_to(self, user: Any) -> Self:
        return self.within(scope_for(user))

    def within(self, scope: Scope) -> Self:
        if scope.sees_every_row(aggregate=self.funder_visible):
            return self
        if scope.kind != SCOPE_LIST:
            return self.none()
        is_coalition = self.model._meta.model_name == "coalition"
        return self.filter(**{"pk__in" if is_coalition else "coalition_id__in": scope.coalitions})

    def table_visible_to(self, user: Any) -> bool:
        """Whether ``user`` may read rows of this table at all (the aggregates scope reads
        none of a table about people): a page made of such rows is a 404 otherwise."""
        return scope_for(user).sees_some_rows(aggregate=self.funder_visible)


def get_visible_or_404(
    queryset: "models.QuerySet[M] | models.Manager[M]", user: User, **lookup: Any
) -> M:
    tenant_rows = cast(TenantQuerySet[M], queryset.all())
    try:
        return tenant_rows.visible_to(user).get(**lookup)
    except (ObjectDoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc


def get_editable_or_404(
    queryset: "models.QuerySet[M] | models.Manager[M]",
    user: User,
    can_edit: Callable[[User, M], bool],
    **lookup: Any,
) -> M:
    obj = get_visible_or_404(queryset, user, **lookup)
    if not can_edit(user, obj):
        raise PermissionDenied
    return obj


# --- Row-level security (PostgreSQL) -------------------------------------------------
#
# The application logs in as DB_APP_ROLE, which is no superuser, owns no table and may
# not SET ROLE to anyone else: the tenant tables' policies hold it on every statement.
# The scope travels with each transaction (bpij/postgresql/base.py): a request carries
# the person's scope (bpij.middleware.DatabaseScopeMiddleware), a task the scope of the
# coalition its arguments name, and trusted code that spans coalitions (beat, commands,
# roll-ups of the program) enters system_scope(). With no scope, a query sees no tenant
# row. Only migrations run as the owner (DATABASE_OWNER_URL).


@checks.register(checks.Tags.database)
def check_runtime_login(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list:
    """`manage.py check --database default`: the runtime login must be held by the
    policies (a superuser, a BYPASSRLS role or the tables' owner is not)."""
    if not databases or "default" not in databases or not rls_enabled():
        return []
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper OR rolbypassrls OR EXISTS (SELECT FROM pg_tables "
            "WHERE tableowner = current_user AND schemaname = 'public') "
            "FROM pg_roles WHERE rolname = current_user"
        )
        (unheld,) = cursor.fetchone()
    if not unheld:
        return []
    return [
        checks.Warning(
            "DATABASE_URL logs in as a superuser, a BYPASSRLS role or the tables' owner: "
            "row-level security does not hold it.",
            hint=(
                "Log in as the runtime login (DB_APP_ROLE); see docs/security.md, 'Database roles'."
            ),
            id="bpij.W101",
        )
    ]


@contextmanager
def database_scope(scope: Scope, using: str = "default") -> Iterator[None]:
    """Hold the block's statements to ``scope`` at the database, then the scope before."""
    if not rls_enabled(using):
        yield
        return
    connection = cast(Any, connections[using])
    previous = connection.set_tenant_scope((scope.kind, ",".join(str(i) for i in scope.coalitions)))
    try:
        yield
    finally:
        connection.set_tenant_scope(previous)


def for_coalition(coalition_id: int | None) -> AbstractContextManager[None]:
    return database_scope(Scope(SCOPE_LIST, [coalition_id] if coalition_id else []))


def system_scope() -> AbstractContextManager[None]:
    """Every row, for trusted code only: a task or command that spans coalitions. No
    request enters it (a request's scope is its person's, or a marked view's 'all')."""
    return database_scope(Scope(SCOPE_SYSTEM))


# The name tasks and commands have always used; it no longer changes the login.
as_owner = system_scope


def system_scoped(handle: Callable) -> Callable:
    """A management command's ``handle`` (trusted code, run by an operator) in the
    system scope."""

    @wraps(handle)
    def run(*args: Any, **kwargs: Any) -> Any:
        with system_scope():
            return handle(*args, **kwargs)

    return run


def aggregates_scope() -> AbstractContextManager[None]:
    """The Federal Project Officer's scope: every coalition's aggregate tables, no row
    about a person. For program-wide sums shown to people whose own scope is narrower."""
    return database_scope(Scope(SCOPE_AGGREGATES))


def coalition_of(model: type[models.Model], pk: Any) -> int | None:
    """The coalition of one row, read by trusted code (a task naming a row by id) to
    take on that coalition's scope; None if there is no such row."""
    with system_scope():
        return cast(
            int | None,
            model._default_manager.filter(pk=pk).values_list("coalition_id", flat=True).first(),
        )


def aggregates_scope_for(user: Any) -> AbstractContextManager[None]:
    """Where program-wide sums are shown to every staff role: hold the block to the
    aggregates scope (every coalition's aggregate rows, nothing about people) unless the
    user's own scope already sees all of them. Never for rows about people."""
    if scope_for(user).sees_every_row(aggregate=True):
        return nullcontext()
    return aggregates_scope()


def unrestricted(view: Callable) -> Callable:
    """Mark a view whose authority is not the signed-in user (an invitation's secret
    token): it runs with the whole database in scope and must do its own checks."""
    view.database_scope_all = True  # type: ignore[attr-defined]
    return view
