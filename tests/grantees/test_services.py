"""Membership and staff-role services: the rules that keep a coalition workable."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from grantees import services
from grantees.models import CoachAssignment, MemberRole, Membership
from tests import factories


def test_the_last_coalition_admin_cannot_be_demoted_or_removed(cast):
    membership = cast.admin_a.memberships.get()
    with pytest.raises(ValidationError, match="only administrator"):
        services.membership_change_role(
            membership=membership, role=MemberRole.VIEWER, actor=cast.admin_a
        )
    with pytest.raises(ValidationError, match="only administrator"):
        services.membership_remove(membership=membership, actor=cast.admin_a)
    assert Membership.objects.get(pk=membership.pk).role == MemberRole.ADMIN


def test_with_a_second_admin_the_first_may_step_down(cast):
    services.membership_change_role(
        membership=cast.reporter_a.memberships.get(), role=MemberRole.ADMIN, actor=cast.admin_a
    )
    services.membership_change_role(
        membership=cast.admin_a.memberships.get(), role=MemberRole.VIEWER, actor=cast.admin_a
    )
    assert cast.admin_a.memberships.get().role == MemberRole.VIEWER


def test_a_reporter_cannot_change_roles(cast):
    with pytest.raises(PermissionDenied):
        services.membership_change_role(
            membership=cast.viewer_a.memberships.get(), role=MemberRole.ADMIN, actor=cast.reporter_a
        )


def test_a_jff_admin_cannot_demote_themselves(cast):
    with pytest.raises(ValidationError, match="your own"):
        services.user_set_staff_role(user=cast.jff_admin, staff_role="coach", actor=cast.jff_admin)


def test_a_coach_who_changes_role_loses_their_assignments(cast):
    services.user_set_staff_role(
        user=cast.coach_a, staff_role="program_officer", actor=cast.jff_admin
    )
    assert not CoachAssignment.objects.filter(coach=cast.coach_a).exists()


def test_coalition_roles_are_not_changed_through_staff_roles(cast):
    with pytest.raises(ValidationError, match="Members page"):
        services.user_set_staff_role(user=cast.viewer_a, staff_role="coach", actor=cast.jff_admin)


def test_a_deactivated_account_cannot_sign_in(cast, client):
    services.user_set_active(user=cast.viewer_a, active=False, actor=cast.jff_admin)
    response = client.post(
        "/accounts/login/", {"login": cast.viewer_a.email, "password": factories.PASSWORD}
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 302)
    assert client.get("/").status_code == 302


def test_only_officers_and_admins_assign_coaches(cast):
    coach = factories.StaffFactory(staff_role="coach")
    with pytest.raises(PermissionDenied):
        services.coach_assign(coalition=cast.coalition_b, coach=coach, actor=cast.coach_a)
    services.coach_assign(coalition=cast.coalition_b, coach=coach, actor=cast.officer)
    assert CoachAssignment.objects.filter(coalition=cast.coalition_b, coach=coach).exists()
    with pytest.raises(ValidationError, match="not a coach"):
        services.coach_assign(coalition=cast.coalition_b, coach=cast.viewer_a, actor=cast.officer)
