"""The one way to read tenant data.

Every tenant-owned model has a ``coalition`` foreign key and a manager built from
``TenantQuerySet``; ``Model.objects.visible_to(user)`` is the only entry point views,
serializers, tasks and admin actions use to fetch such rows by a user-supplied id. Rows
outside the user's scope simply do not exist for them (404, never 403).
"""

from collections.abc import Callable
from typing import Any, Self, TypeVar, cast

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models
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
