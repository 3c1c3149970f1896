"""The one way to read tenant data.

Every tenant-owned model has a ``coalition`` foreign key and a manager built from
``TenantQuerySet``; ``Model.objects.visible_to(user)`` is the only entry point views,
serializers, tasks and admin actions use to fetch such rows by a user-supplied id. Rows
outside the user's scope simply do not exist for them (404, never 403).
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Self, TypeVar, cast

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DatabaseError, connections, models
from django.http import Http404

from bpij.models import StaffRole, User

M = TypeVar("M", bound=models.Model)


def coalition_scope(user: Any, *, funder_visible: bool) -> models.Q | None:
    """A filter on Coalition for the coalitions ``user`` may see; ``None`` means all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return models.Q(pk__in=[])
    if user.staff_role in (StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN):
        return None
    if user.staff_role == StaffRole.FUNDER_VIEWER:
        return None if funder_visible else models.Q(pk__in=[])
    if user.staff_role == StaffRole.COACH:
        return models.Q(coach_assignments__coach=user)
    return models.Q(memberships__user=user)


class TenantQuerySet(models.QuerySet[M]):
    # Federal Project Officers see aggregates only: a model opts in when its rows carry
    # nothing about individual people.
    funder_visible = False

    def visible_to(self, user: Any) -> Self:
        scope = coalition_scope(user, funder_visible=self.funder_visible)
        if scope is None:
            return self
        is_coalition = self.model._meta.model_name == "coalition"
        coalition_model: Any = (
            self.model if is_coalition else self.model._meta.get_field("coalition").related_model
        )
        # A subquery on the coalition id, rather than a join through memberships or coach
        # assignments, never repeats a row and leaves the outer query free to annotate.
        visible_ids = coalition_model._default_manager.filter(scope).values("pk")
        return self.filter(**{"pk__in" if is_coalition else "coalition_id__in": visible_ids})


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
# Underneath visible_to(), PostgreSQL enforces the same scope: tenant tables have a
# policy for the role settings.DB_APP_ROLE, which owns no table, and every request (and
# every task that reads tenant rows) runs as that role with its scope in two settings,
# bpij.scope ('all', 'list' or unset) and bpij.coalitions (ids). A query that forgets
# its filter therefore sees nothing outside the scope instead of another coalition's
# rows. Migrations, management commands and the shell run as the owner, unrestricted.

SCOPE_ALL = "all"
SCOPE_LIST = "list"
SCOPE_NONE = "none"


def scope_for(user: Any) -> tuple[str, list[int]]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return SCOPE_NONE, []
    if user.is_superuser or user.staff_role in (
        StaffRole.PROGRAM_OFFICER,
        StaffRole.JFF_ADMIN,
        StaffRole.FUNDER_VIEWER,
    ):
        return SCOPE_ALL, []
    if user.staff_role == StaffRole.COACH:
        return SCOPE_LIST, sorted(user.assigned_coalition_ids)
    if user.staff_role:
        return SCOPE_NONE, []
    return SCOPE_LIST, sorted(user.coalition_roles)


def rls_enabled(using: str = "default") -> bool:
    return bool(settings.DB_APP_ROLE) and connections[using].vendor == "postgresql"


@contextmanager
def database_scope(
    scope: str, coalition_ids: Sequence[int] = (), using: str = "default"
) -> Iterator[None]:
    """Run the block as the application role, seeing only ``coalition_ids`` (or all)."""
    if not rls_enabled(using):
        yield
        return
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('bpij.scope', %s, false), "
            "set_config('bpij.coalitions', %s, false), set_config('role', %s, false)",
            [scope, ",".join(str(i) for i in coalition_ids), settings.DB_APP_ROLE],
        )
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET ROLE; RESET bpij.scope; RESET bpij.coalitions")
        except DatabaseError:
            # Never hand a connection still wearing this scope to the next request.
            if not connection.in_atomic_block:
                connection.close()


def unrestricted(view: Callable) -> Callable:
    """Mark a view whose authority is not the signed-in user (an invitation's secret
    token): it runs with the whole database in scope and must do its own checks."""
    view.database_scope_all = True  # type: ignore[attr-defined]
    return view


@contextmanager
def as_owner(using: str = "default") -> Iterator[None]:
    """Run the block as the database owner, like a Celery worker does.

    Tasks are trusted code that set their own scope from their arguments; on the
    embedded default and in tests they run in-process, inside a request already held to
    the person's scope, so they step out of it here (and back in afterwards). Loading
    records with COPY, for one, is refused to a role under row-level security.
    """
    if not rls_enabled(using):
        yield
        return
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, current_setting('bpij.scope', true), "
            "current_setting('bpij.coalitions', true)"
        )
        role, scope, coalitions = cursor.fetchone()
    if role != settings.DB_APP_ROLE:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('bpij.scope', %s, false), "
                "set_config('bpij.coalitions', %s, false), set_config('role', %s, false)",
                [scope or "", coalitions or "", role],
            )
