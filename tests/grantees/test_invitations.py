"""Invitations end to end: sent by the right people, accepted once, within their time,
by the right person, into the right coalition."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bpij.models import AuditEvent, User
from grantees import services
from grantees.models import Invitation, Membership

LINK = re.compile(r"/invitations/([A-Za-z0-9_\-]+)/")
NEW_PASSWORD = "Solar-Panel-Installer-2026"


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Post the Members page's invite form and return the token e-mailed to the person."""

    def send(client, coalition, email="new.reporter@alpha.example", role="grantee_reporter"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("grantees:member-invite", args=[coalition.code]),
                {"email": email, "full_name": "Nia Reporter", "role": role},
            )
        assert response.status_code == 302, response.content.decode()[:2000]
        return LINK.search(mail.outbox[-1].body).group(1)

    return send


@pytest.fixture
def admin_client(cast, client_for):
    return client_for(cast.admin_a)


def test_an_invited_person_sets_a_password_and_lands_in_their_coalition(
    cast, admin_client, client, invite
):
    token = invite(admin_client, cast.coalition_a)
    message = mail.outbox[-1]
    assert message.to == ["new.reporter@alpha.example"]
    assert cast.coalition_a.name in message.subject
    assert message.alternatives, "the e-mail has an HTML part too"
    client.logout()

    page = client.get(f"/invitations/{token}/")
    assert page.status_code == 200
    assert "Join Alpha Wind Coalition" in page.content.decode()
    response = client.post(
        f"/invitations/{token}/",
        {"full_name": "Nia Reporter", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    member = User.objects.get(email="new.reporter@alpha.example")
    assert member.full_name == "Nia Reporter"
    assert member.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=member).role == "grantee_reporter"
    assert client.get("/").headers["Location"] == reverse(
        "grantees:coalition-detail", args=[cast.coalition_a.code]
    )
    assert AuditEvent.objects.filter(action="invitation_accepted", actor=member).exists()


def test_an_invitation_link_works_once(cast, admin_client, client, invite):
    token = invite(admin_client, cast.coalition_a)
    client.logout()
    form = {"full_name": "Nia", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    assert client.post(f"/invitations/{token}/", form).status_code == 302
    client.logout()
    again = client.post(f"/invitations/{token}/", form)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert User.objects.filter(email="new.reporter@alpha.example").count() == 1


def test_an_expired_invitation_says_when_it_expired_and_whom_to_ask(
    cast, admin_client, client, invite
):
    token = invite(admin_client, cast.coalition_a)
    client.logout()
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = client.get(f"/invitations/{token}/")
        posted = client.post(
            f"/invitations/{token}/",
            {"full_name": "Late", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )
    assert response.status_code == 410
    text = response.content.decode()
    assert "expired on" in text
    assert cast.admin_a.full_name in text
    assert posted.status_code == 410
    assert not User.objects.filter(email="new.reporter@alpha.example").exists()


def test_a_day_before_expiry_the_link_still_works(cast, admin_client, client, invite):
    token = invite(admin_client, cast.coalition_a)
    client.logout()
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assert client.get(f"/invitations/{token}/").status_code == 200


def test_sending_again_replaces_the_old_link(cast, admin_client, client, invite):
    old = invite(admin_client, cast.coalition_a)
    new = invite(admin_client, cast.coalition_a)
    client.logout()
    assert client.get(f"/invitations/{old}/").status_code == 410
    assert client.get(f"/invitations/{new}/").status_code == 200
    assert Invitation.objects.pending().filter(email="new.reporter@alpha.example").count() == 1


def test_a_withdrawn_invitation_cannot_be_used(cast, admin_client, client, invite):
    token = invite(admin_client, cast.coalition_a)
    invitation = Invitation.objects.get(email="new.reporter@alpha.example")
    admin_client.post(
        reverse("grantees:invitation-revoke", args=[cast.coalition_a.code, invitation.code])
    )
    client.logout()
    response = client.get(f"/invitations/{token}/")
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


def test_a_bogus_token_gets_a_clear_message(client, db):
    response = client.get("/invitations/not-a-real-token/")
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_a_grantee_admin_cannot_invite_into_another_coalition(cast, client_for):
    response = client_for(cast.admin_a).post(
        reverse("grantees:member-invite", args=[cast.coalition_b.code]),
        {"email": "sneaky@bravo.example", "role": "grantee_admin"},
    )
    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_a_grantee_admin_cannot_hand_out_staff_roles(cast):
    with pytest.raises(services.PermissionDenied):
        services.invitation_create(
            invited_by=cast.admin_a, email="boss@jff.example", role="jff_admin", coalition=None
        )
    with pytest.raises(services.PermissionDenied):
        services.invitation_create(
            invited_by=cast.admin_a,
            email="x@alpha.example",
            role="program_officer",
            coalition=cast.coalition_a,
        )


def test_an_invitation_for_an_existing_account_must_be_accepted_by_that_account(
    cast, client_for, invite
):
    """The outsider from B is invited into A: the link works only when signed in as them."""
    token = invite(client_for(cast.admin_a), cast.coalition_a, email=cast.outsider_b.email)

    as_someone_else = client_for(cast.viewer_a).post(f"/invitations/{token}/")
    assert as_someone_else.status_code == 409
    assert cast.outsider_b.email in as_someone_else.content.decode()
    assert not Membership.objects.filter(user=cast.outsider_b, coalition=cast.coalition_a).exists()

    accepted = client_for(cast.outsider_b).post(f"/invitations/{token}/")
    assert accepted.status_code == 302
    assert Membership.objects.filter(user=cast.outsider_b, coalition=cast.coalition_a).exists()


def test_inviting_an_existing_member_or_staff_is_refused_with_a_reason(cast, client_for):
    client = client_for(cast.admin_a)
    for email, reason in [
        (cast.viewer_a.email, "already a member"),
        (cast.officer.email, "JFF staff account"),
    ]:
        response = client.post(
            reverse("grantees:member-invite", args=[cast.coalition_a.code]),
            {"email": email, "role": "grantee_viewer"},
        )
        assert response.status_code == 400
        assert reason in response.content.decode()
    assert not Invitation.objects.exists()


def test_mismatched_passwords_and_weak_passwords_are_explained(cast, admin_client, client, invite):
    token = invite(admin_client, cast.coalition_a)
    client.logout()
    mismatch = client.post(
        f"/invitations/{token}/",
        {"full_name": "Nia", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"},
    )
    assert "not the same" in mismatch.content.decode()
    weak = client.post(
        f"/invitations/{token}/", {"full_name": "Nia", "password1": "12345", "password2": "12345"}
    )
    assert "too short" in weak.content.decode()
    assert not User.objects.filter(email="new.reporter@alpha.example").exists()
    assert client.get(f"/invitations/{token}/").status_code == 200, "the link still works"


def test_a_jff_admin_invites_staff_who_join_with_their_staff_role(
    cast, client_for, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast.jff_admin).post(
            reverse("grantees:staff-invite"), {"email": "new.coach@jff.example", "role": "coach"}
        )
    assert response.status_code == 302
    token = LINK.search(mail.outbox[-1].body).group(1)
    client.logout()
    client.post(
        f"/invitations/{token}/",
        {"full_name": "New Coach", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    coach = User.objects.get(email="new.coach@jff.example")
    assert coach.staff_role == "coach"
    assert not coach.memberships.exists()
    # A new coach must set up a second factor before anything else.
    assert client.get(reverse("coaching:home")).headers["Location"] == reverse("mfa_activate_totp")


def test_two_tabs_accepting_at_once_make_one_account(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(
            invited_by=cast.admin_a,
            coalition=cast.coalition_a,
            email="twice@alpha.example",
            role="grantee_viewer",
        )
    invitation = Invitation.objects.get(email="twice@alpha.example")
    stale_copy = Invitation.objects.get(pk=invitation.pk)
    services.invitation_accept(invitation=invitation, user=None, password=NEW_PASSWORD)
    with pytest.raises(services.InvitationUnusable):
        # The second tab read the invitation before the first one accepted it.
        services.invitation_accept(invitation=stale_copy, user=None, password=NEW_PASSWORD)
    assert User.objects.filter(email="twice@alpha.example").count() == 1
