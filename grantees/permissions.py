"""Who may do what with a coalition's people (docs/access.md, "Members and invitations"):
the one place pages and services ask."""

from bpij.models import StaffRole, User
from grantees.models import Coalition, MemberRole


def can_invite(user: User, coalition: Coalition | None, role: str) -> bool:
    if user.is_jff_admin:
        return True
    return (
        coalition is not None
        and role in MemberRole.values
        and coalition.role_of(user) == MemberRole.ADMIN
    )


def can_manage_members(user: User, coalition: Coalition) -> bool:
    """Invite, change roles, remove: the coalition's administrators and JFF administrators."""
    return user.is_jff_admin or coalition.role_of(user) == MemberRole.ADMIN


def can_see_members(user: User, coalition: Coalition) -> bool:
    """The member list: everyone who reads the coalition but the Federal Project Officer
    (aggregates only)."""
    return user.staff_role != StaffRole.FUNDER_VIEWER
