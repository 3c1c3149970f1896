"""Who may open and change what: the access matrix of STYLE.md for every view so far.

A's users are allowed, the outsider from B gets 404 for A's objects, and a user who may
see but not change gets 403 on a change.
"""

import pytest
from django.urls import reverse

from tests import factories

CAST = ["admin_a", "reporter_a", "viewer_a", "coach_a", "officer", "jff_admin", "outsider_b"]


def expect(**codes):
    return [pytest.param(who, codes[who], id=who) for who in CAST]


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=200, reporter_a=200, viewer_a=200, coach_a=200, officer=200, jff_admin=200,
        outsider_b=404,
    ),
)  # fmt: skip
@pytest.mark.parametrize("view", ["grantees:coalition-detail", "grantees:member-list"])
def test_coalition_pages_are_visible_to_its_people_only(cast, client_for, who, status, view):
    response = client_for(cast[who]).get(reverse(view, args=[cast.coalition_a.code]))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=302, reporter_a=403, viewer_a=403, coach_a=403, officer=403, jff_admin=302,
        outsider_b=404,
    ),
)  # fmt: skip
def test_only_the_coalition_admin_or_jff_admin_invites(cast, client_for, who, status):
    response = client_for(cast[who]).post(
        reverse("grantees:member-invite", args=[cast.coalition_a.code]),
        {"email": "new.person@alpha.example", "role": "grantee_reporter"},
    )
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=302, reporter_a=403, viewer_a=403, coach_a=403, officer=403, jff_admin=302,
        outsider_b=404,
    ),
)  # fmt: skip
@pytest.mark.parametrize("action", ["member-role", "member-remove"])
def test_only_the_coalition_admin_or_jff_admin_changes_members(
    cast, client_for, who, status, action
):
    membership = cast.viewer_a.memberships.get()
    response = client_for(cast[who]).post(
        reverse(f"grantees:{action}", args=[cast.coalition_a.code, membership.code]),
        {"role": "grantee_reporter"},
    )
    assert response.status_code == status
    remaining = list(cast.viewer_a.memberships.values_list("role", flat=True))
    if status != 302:
        assert remaining == ["grantee_viewer"]
    elif action == "member-role":
        assert remaining == ["grantee_reporter"]
    else:
        assert remaining == []


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=302, reporter_a=403, viewer_a=403, coach_a=403, officer=403, jff_admin=302,
        outsider_b=404,
    ),
)  # fmt: skip
@pytest.mark.parametrize("action", ["invitation-resend", "invitation-revoke"])
def test_only_the_coalition_admin_or_jff_admin_manages_invitations(
    cast, client_for, who, status, action, django_capture_on_commit_callbacks
):
    from grantees import services

    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(
            invited_by=cast.admin_a,
            coalition=cast.coalition_a,
            email="pending@alpha.example",
            role="grantee_viewer",
        )
    response = client_for(cast[who]).post(
        reverse(f"grantees:{action}", args=[cast.coalition_a.code, invitation.code])
    )
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=403, officer=403, jff_admin=200,
        outsider_b=403,
    ),
)  # fmt: skip
def test_user_management_is_for_jff_admins(cast, client_for, who, status):
    assert client_for(cast[who]).get(reverse("grantees:user-list")).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=403, officer=403, jff_admin=302,
        outsider_b=403,
    ),
)  # fmt: skip
@pytest.mark.parametrize("action", ["user-role", "user-active"])
def test_only_jff_admins_change_accounts(cast, client_for, who, status, action):
    target = factories.StaffFactory(staff_role="coach")
    response = client_for(cast[who]).post(
        reverse(f"grantees:{action}", args=[target.uuid]),
        {"role": "program_officer", "active": "0"},
    )
    assert response.status_code == status
    target.refresh_from_db()
    assert (target.staff_role, target.is_active) == (
        ("program_officer", True) if action == "user-role" and status == 302 else
        ("coach", False) if status == 302 else ("coach", True)
    )  # fmt: skip


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=403, officer=200, jff_admin=200,
        outsider_b=403,
    ),
)  # fmt: skip
def test_the_audit_log_is_for_program_officers_and_admins(cast, client_for, who, status):
    assert client_for(cast[who]).get(reverse("audit-log")).status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    expect(
        admin_a=403, reporter_a=403, viewer_a=403, coach_a=200, officer=403, jff_admin=403,
        outsider_b=403,
    ),
)  # fmt: skip
def test_the_coach_home_is_for_coaches(cast, client_for, who, status):
    assert client_for(cast[who]).get(reverse("coaching:home")).status_code == status


def test_the_coalition_list_shows_each_person_only_their_coalitions(cast, client_for):
    a, b = cast.coalition_a.name, cast.coalition_b.name
    for who, sees_a, sees_b in [
        ("admin_a", True, False),
        ("coach_a", True, False),
        ("officer", True, True),
        ("outsider_b", False, True),
    ]:
        page = client_for(cast[who]).get(reverse("grantees:coalition-list")).content.decode()
        assert (a in page, b in page) == (sees_a, sees_b), who


@pytest.mark.parametrize(
    ("who", "lands_on"),
    [
        ("admin_a", "coalition-detail"),
        ("viewer_a", "coalition-detail"),
        ("coach_a", "coaching-home"),
        ("officer", "coalition-list"),
        ("jff_admin", "coalition-list"),
    ],
)
def test_home_sends_each_role_to_its_own_page(cast, client_for, who, lands_on):
    targets = {
        "coalition-detail": reverse("grantees:coalition-detail", args=[cast.coalition_a.code]),
        "coaching-home": reverse("coaching:home"),
        "coalition-list": reverse("grantees:coalition-list"),
    }
    response = client_for(cast[who]).get("/")
    assert response.status_code == 302
    assert response["Location"] == targets[lands_on]


def test_someone_without_a_role_is_told_so(client_for, db):
    response = client_for(factories.UserFactory()).get("/")
    assert response.status_code == 200
    assert "no coalition yet" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    ["/", "/coalitions/", "/staff/users/", "/audit/", "/coaching/"],
)
def test_every_page_needs_a_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_malformed_or_unknown_id_is_404_not_500(cast, client_for):
    client = client_for(cast.officer)
    assert client.get("/coalitions/not-a-uuid/").status_code == 404
    assert client.get("/coalitions/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_changes_refuse_get(cast, client_for):
    url = reverse("grantees:member-invite", args=[cast.coalition_a.code])
    assert client_for(cast.admin_a).get(url).status_code == 405
