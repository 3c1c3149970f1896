"""Who may do what in coaching (docs/access.md, "Coaching"): the one place pages and
services ask. Reading coaching records is the querysets' ``visible_to``; these decide
writes."""

from bpij.models import StaffRole, User
from coaching.models import ActionItem
from grantees.models import Coalition


def can_coach(user: User, coalition: Coalition) -> bool:
    """May ``user`` write coaching records for ``coalition``?"""
    if not user.is_active:
        return False
    if user.staff_role in (StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN):
        return True
    return user.is_coach and coalition.pk in user.assigned_coalition_ids


def can_close_item(user: User, item: ActionItem) -> bool:
    if can_coach(user, item.coalition):
        return True
    # Shared or not: an owner who can read their item (models.ActionItemQuerySet) may
    # close it.
    return item.owner_id == user.pk and item.coalition_id in user.coalition_roles
