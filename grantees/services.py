"""Every change to coalitions, people and roles. Views, commands and the admin call these."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone

from bpij import services as platform
from bpij.models import AuditAction, StaffRole, User
from grantees import permissions, tasks
from grantees.models import (
    CoachAssignment,
    Coalition,
    Invitation,
    MemberRole,
    Membership,
    hash_token,
    new_token,
)

logger = logging.getLogger(__name__)


def _ensure_not_last_admin(membership: Membership, *, new_role: str | None) -> None:
    if membership.role != MemberRole.ADMIN or new_role == MemberRole.ADMIN:
        return
    other_admins = (
        Membership.objects.filter(coalition=membership.coalition, role=MemberRole.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    )
    if not other_admins:
        raise ValidationError(
            f"{membership.user.display_name} is the coalition's only administrator. "
            "Make someone else an administrator first, so the coalition can still "
            "certify its reports and invite colleagues."
        )


@transaction.atomic
def invitation_create(
    *,
    invited_by: User,
    email: str,
    role: str,
    coalition: Coalition | None = None,
    full_name: str = "",
) -> Invitation:
    """Invite someone to a coalition (grantee role) or to JFF (staff role) and e-mail them
    the link. Inviting the same person again replaces their open invitation."""
    email = email.strip().lower()
    if not permissions.can_invite(invited_by, coalition, role):
        raise PermissionDenied
    if (coalition is None) != (role in StaffRole.values):
        raise ValidationError(
            "A coalition role needs a coalition, and a JFF staff role must not have one."
        )
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        if coalition is None:
            raise ValidationError(
                f"{email} already has an account. Change their role on the Users page instead."
            )
        if existing.staff_role:
            raise ValidationError(
                f"{email} is a JFF staff account and cannot also be a coalition member."
            )
        if Membership.objects.filter(coalition=coalition, user=existing).exists():
            raise ValidationError(f"{email} is already a member of {coalition}.")

    now = timezone.now()
    Invitation.objects.filter(
        email__iexact=email, coalition=coalition, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = new_token()
    invitation = Invitation.objects.create(
        coalition=coalition,
        email=email,
        full_name=full_name.strip(),
        role=role,
        token_hash=hash_token(token),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    platform.audit_record(
        action=AuditAction.INVITATION_CREATED,
        actor=invited_by,
        coalition=coalition,
        target=email,
        detail={"role": role},
    )
    # The token goes to the worker with the task because only its hash is stored; the
    # broker keeps it no longer than delivery takes.
    transaction.on_commit(lambda: _invitation_deliver(invitation, token))
    return invitation


# How an invitation's e-mail went (``Invitation.mail``), once the invitation committed.
MAIL_QUEUED = "queued"  # the worker sends it
MAIL_SENT_HERE = "sent"  # the broker was down: sent from this process
MAIL_NOT_SENT = "not_sent"  # the broker and the mail server both failed


def _invitation_deliver(invitation: Invitation, token: str) -> None:
    """The invitation has committed: hand its e-mail to the worker. With the broker down
    or stalled (its short timeouts, settings.CELERY_BROKER_TRANSPORT_OPTIONS) the e-mail
    is sent from this process instead: the link exists only here, as the token is stored
    hashed, so it cannot wait for the broker to come back. If the mail server fails too,
    ``invitation.mail`` says so and the page tells the inviter to send it again; the
    invitation stands either way (never a 500 for what committed)."""
    if tasks.send_invitation.app.conf.task_always_eager:
        tasks.send_invitation.delay(invitation.pk, token)
        invitation.mail = MAIL_QUEUED
        return
    try:
        tasks.send_invitation.delay(invitation.pk, token)
    except Exception as error:
        logger.warning(
            "Could not send the e-mail of invitation %s to the broker (%s: %s); sending it "
            "from the web process",
            invitation.pk,
            type(error).__name__,
            error,
        )
    else:
        invitation.mail = MAIL_QUEUED
        return
    try:
        message = tasks.invitation_email(invitation.pk, token)
        if message is not None:
            message.connection = get_connection(timeout=settings.INVITATION_MAIL_TIMEOUT)
            message.send()
    except Exception:
        logger.exception("Could not e-mail invitation %s either", invitation.pk)
        invitation.mail = MAIL_NOT_SENT
    else:
        invitation.mail = MAIL_SENT_HERE


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: User) -> Invitation:
    """Send a fresh link with a new expiry; the old link stops working."""
    if invitation.status == "accepted":
        raise ValidationError(f"{invitation.email} has already joined.")
    return invitation_create(
        invited_by=actor,
        email=invitation.email,
        role=invitation.role,
        coalition=invitation.coalition,
        full_name=invitation.full_name,
    )


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> None:
    updated = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    if not updated:
        raise ValidationError("That invitation has already been used or withdrawn.")
    platform.audit_record(
        action=AuditAction.INVITATION_REVOKED,
        actor=actor,
        coalition=invitation.coalition,
        target=invitation.email,
    )


class InvitationUnusable(Exception):
    """The link cannot be used; the message tells the person what to do instead."""


def invitation_for_token(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("coalition", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None:
        raise InvitationUnusable(
            "This invitation link is not valid. Check that you opened the whole link from "
            "the e-mail, or ask the person who invited you to send a new one."
        )
    inviter = invitation.invited_by.display_name
    status = invitation.status
    if status == "accepted":
        raise InvitationUnusable(
            "This invitation has already been used. Sign in with the e-mail address it "
            "was sent to, or reset your password if you have forgotten it."
        )
    if status == "revoked":
        raise InvitationUnusable(
            f"This invitation was withdrawn or replaced by a newer one. Look for a later "
            f"e-mail, or ask {inviter} to invite you again."
        )
    if status == "expired":
        raise InvitationUnusable(
            f"This invitation expired on {timezone.localtime(invitation.expires_at):%B %-d, %Y}. "
            f"Invitations last {invitation.valid_for} days; ask {inviter} to send a new one."
        )
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    invitation: Invitation,
    user: User | None,
    full_name: str = "",
    password: str = "",
) -> User:
    """Join the coalition (or JFF) the invitation names.

    ``user`` is the signed-in person, if any: an invitation for an address that already
    has an account must be accepted by that account. A new person gives their name and a
    password, and their account is created here. Two tabs accepting at once: one wins.
    """
    existing = User.objects.filter(email=invitation.email.lower()).first()
    if existing is not None and (user is None or user.pk != existing.pk):
        raise InvitationUnusable(
            f"This invitation is for {invitation.email}, which already has an account. "
            f"Sign in as {invitation.email}, then open the link again."
        )
    if existing is None and user is not None and user.is_authenticated:
        raise InvitationUnusable(
            f"This invitation is for {invitation.email}, but you are signed in as "
            f"{user.email}. Sign out, then open the link again."
        )

    claimed = Invitation.objects.filter(
        pk=invitation.pk,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).update(accepted_at=timezone.now())
    if not claimed:
        raise InvitationUnusable("This invitation has just been used or withdrawn.")

    if existing is None:
        staff_role = invitation.role if invitation.is_staff_invitation else ""
        member = User.objects.create_user(
            email=invitation.email,
            password=password,
            full_name=full_name.strip() or invitation.full_name,
            staff_role=staff_role,
        )
    else:
        member = existing
    if invitation.coalition is not None:
        try:
            with transaction.atomic():
                Membership.objects.create(
                    coalition=invitation.coalition, user=member, role=invitation.role
                )
        except IntegrityError as exc:
            raise InvitationUnusable(
                f"You are already a member of {invitation.coalition}."
            ) from exc
    Invitation.objects.filter(pk=invitation.pk).update(accepted_by=member)
    platform.audit_record(
        action=AuditAction.INVITATION_ACCEPTED,
        actor=member,
        coalition=invitation.coalition,
        target=invitation.email,
        detail={"role": invitation.role},
    )
    return member


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor: User) -> Membership:
    if role not in MemberRole.values:
        raise ValidationError(f"{role!r} is not a coalition role.")
    if not permissions.can_manage_members(actor, membership.coalition):
        raise PermissionDenied
    if role == membership.role:
        return membership
    _ensure_not_last_admin(membership, new_role=role)
    old_role = membership.role
    Membership.objects.filter(pk=membership.pk).update(role=role)
    membership.role = role
    platform.audit_record(
        action=AuditAction.ROLE_CHANGED,
        actor=actor,
        coalition=membership.coalition,
        target=membership.user.email,
        detail={"from": old_role, "to": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    if not permissions.can_manage_members(actor, membership.coalition):
        raise PermissionDenied
    _ensure_not_last_admin(membership, new_role=None)
    membership.delete()
    platform.audit_record(
        action=AuditAction.MEMBER_REMOVED,
        actor=actor,
        coalition=membership.coalition,
        target=membership.user.email,
        detail={"role": membership.role},
    )


def _require_jff_admin(actor: User) -> None:
    if not actor.is_jff_admin:
        raise PermissionDenied


@transaction.atomic
def user_set_staff_role(*, user: User, staff_role: str, actor: User) -> User:
    _require_jff_admin(actor)
    if staff_role not in StaffRole.values:
        raise ValidationError(f"{staff_role!r} is not a JFF staff role.")
    if not user.staff_role:
        raise ValidationError(
            f"{user.email} is a coalition member; coalition roles are changed on the "
            "coalition's Members page."
        )
    if user.pk == actor.pk and staff_role != StaffRole.JFF_ADMIN:
        raise ValidationError("You cannot take away your own administrator role.")
    old = user.staff_role
    if old == staff_role:
        return user
    User.objects.filter(pk=user.pk).update(staff_role=staff_role)
    user.staff_role = staff_role
    if old == StaffRole.COACH:
        CoachAssignment.objects.filter(coach=user).delete()
    platform.audit_record(
        action=AuditAction.ROLE_CHANGED,
        actor=actor,
        target=user.email,
        detail={"from": old, "to": staff_role},
    )
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, actor: User) -> User:
    _require_jff_admin(actor)
    if user.pk == actor.pk:
        raise ValidationError("You cannot deactivate your own account.")
    User.objects.filter(pk=user.pk).update(is_active=active)
    user.is_active = active
    platform.audit_record(
        action=AuditAction.USER_REACTIVATED if active else AuditAction.USER_DEACTIVATED,
        actor=actor,
        target=user.email,
    )
    return user


@transaction.atomic
def coach_assign(*, coalition: Coalition, coach: User, actor: User) -> CoachAssignment:
    if actor.staff_role not in (StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN):
        raise PermissionDenied
    if coach.staff_role != StaffRole.COACH:
        raise ValidationError(f"{coach.email} is not a coach.")
    assignment, created = CoachAssignment.objects.get_or_create(coalition=coalition, coach=coach)
    if created:
        platform.audit_record(
            action=AuditAction.COACH_ASSIGNED,
            actor=actor,
            coalition=coalition,
            target=coach.email,
        )
    return assignment


@transaction.atomic
def coach_unassign(*, coalition: Coalition, coach: User, actor: User) -> None:
    if actor.staff_role not in (StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN):
        raise PermissionDenied
    deleted, _ = CoachAssignment.objects.filter(coalition=coalition, coach=coach).delete()
    if deleted:
        platform.audit_record(
            action=AuditAction.COACH_UNASSIGNED,
            actor=actor,
            coalition=coalition,
            target=coach.email,
        )
