"""Personal API tokens: create, revoke, and find the token a secret names.

A secret is ``bpij_`` + 8 characters (the prefix, shown in lists to tell tokens apart)
+ ``_`` + 43 random characters. Only its SHA-256 is stored, so a stolen database gives no
usable token; a secret is shown once, when it is made.
"""

import hashlib
import secrets
from datetime import timedelta

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from bpij import services as platform
from bpij.middleware import mfa_exempt
from bpij.models import ApiToken, AuditAction, User

SECRET_PREFIX = "bpij_"
PREFIX_LENGTH = len(SECRET_PREFIX) + 8
MAX_NAME = 100
MAX_EXPIRES_DAYS = 366
# last_used_at is written at most this often per token: not one write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def may_hold_tokens(user: User) -> bool:
    """Staff (JFF, DOL, operators) hold tokens only once they have set up a second factor:
    a token skips the sign-in, so it must not be a way round it."""
    if not user.is_active:
        return False
    if not user.needs_mfa or mfa_exempt(user):
        return True
    return Authenticator.objects.filter(user=user).exists()


STAFF_NEED_MFA = (
    "JFF and DOL staff must set up two-step sign-in before making an API token: sign in, "
    "add an authenticator app under Account, then make the token."
)


def token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


@transaction.atomic
def token_create(
    *,
    user: User,
    name: str,
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns it and its secret (never stored, shown once)."""
    if not may_hold_tokens(user):
        raise PermissionDenied(STAFF_NEED_MFA)
    name = name.strip()
    if not name:
        raise ValidationError(
            "Give the token a name that says where it is used, e.g. 'Apricot export'."
        )
    if len(name) > MAX_NAME:
        raise ValidationError(f"The name has {len(name)} characters; at most {MAX_NAME}.")
    days = settings.API_TOKEN_DEFAULT_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= MAX_EXPIRES_DAYS:
        raise ValidationError(
            f"A token may last from 1 to {MAX_EXPIRES_DAYS} days, not {days}: make a new "
            "one when it runs out."
        )
    secret = f"{SECRET_PREFIX}{secrets.token_urlsafe(6)}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        secret_hash=secret_hash(secret),
        expires_at=timezone.now() + timedelta(days=days),
    )
    platform.audit_record(
        action=AuditAction.API_TOKEN_CREATED,
        actor=user,
        target=f"API token {token.name!r} ({token.prefix}…)",
        detail={"token": str(token.code), "expires_at": token.expires_at.isoformat()},
    )
    return token, secret


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: User | None) -> ApiToken:
    """Revoke a token now; revoking one already revoked changes nothing."""
    if actor is not None and token.user_id != actor.pk:
        raise PermissionDenied
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db()
    if updated:
        platform.audit_record(
            action=AuditAction.API_TOKEN_REVOKED,
            actor=actor or token.user,
            target=f"API token {token.name!r} ({token.prefix}…) of {token.user.email}",
            detail={"token": str(token.code), "by_operator": actor is None},
        )
    return token


def token_authenticate(secret: str) -> ApiToken | None:
    """The usable token ``secret`` names, its use noted (the first use audited), or None."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.usable()
        .select_related("user")
        .filter(secret_hash=secret_hash(secret))
        .first()
    )
    if token is None or not token.user.is_active or not may_hold_tokens(token.user):
        return None
    now = timezone.now()
    # Of two first requests at once, one conditional UPDATE wins and audits the first use.
    first = bool(
        token.last_used_at is None
        and ApiToken.objects.filter(pk=token.pk, last_used_at__isnull=True).update(last_used_at=now)
    )
    if not first and (
        token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION
    ):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now if first or token.last_used_at is None else token.last_used_at
    if first:
        platform.audit_record(
            action=AuditAction.API_TOKEN_FIRST_USED,
            actor=token.user,
            target=f"API token {token.name!r} ({token.prefix}…)",
            detail={"token": str(token.code)},
        )
    return token
