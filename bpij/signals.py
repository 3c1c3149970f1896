"""Sign-in and second-factor events come from Django and allauth as signals, and Django
admin changes from the admin's own log (LogEntry); this is the only place the audit log
listens to signals. Everything else is audited by its service. The session also learns
here that its second factor was just set up, or removed."""

import time
from typing import cast

from allauth.account.internal.flows.login import record_authentication
from allauth.account.signals import password_changed, password_reset
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_save
from django.dispatch import receiver

from bpij import services
from bpij.adapters import SIGNED_IN_AT
from bpij.middleware import forget_second_factor
from bpij.models import AuditAction, User


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    # Remembered for AccountAdapter.is_reauthentication_required.
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = time.time()
    services.audit_record(action=AuditAction.LOGIN_SUCCEEDED, actor=user)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    attempted = str(credentials.get("email") or credentials.get("username") or "")
    services.audit_record(action=AuditAction.LOGIN_FAILED, actor_email=attempted.lower())


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        services.audit_record(action=AuditAction.LOGOUT, actor=user)


@receiver(authenticator_added)
def remember_second_factor_set_up(sender, request, user, authenticator, **kwargs):
    """Setting up an authenticator means entering a code from it, so this session has
    passed the second factor; allauth records that only for sign-in and reauthentication,
    so it is recorded here the same way (StaffMFARequiredMiddleware reads it)."""
    if request is not None and authenticator.type != Authenticator.Type.RECOVERY_CODES:
        record_authentication(
            request, user, "mfa", id=authenticator.pk, type=authenticator.type, set_up=True
        )


@receiver(authenticator_added)
def audit_mfa_added(sender, request, user, authenticator, **kwargs):
    services.audit_record(action=AuditAction.MFA_ADDED, actor=user, target=authenticator.type)


@receiver(authenticator_removed)
def audit_mfa_removed(sender, request, user, authenticator, **kwargs):
    forget_second_factor(request)
    services.audit_record(action=AuditAction.MFA_REMOVED, actor=user, target=authenticator.type)


@receiver(authenticator_reset)
def audit_mfa_reset(sender, request, user, authenticator, **kwargs):
    services.audit_record(action=AuditAction.MFA_RECOVERY_CODES_RESET, actor=user)


@receiver(password_changed)
def audit_password_changed(sender, request, user, **kwargs):
    services.audit_record(action=AuditAction.PASSWORD_CHANGED, actor=user)


@receiver(password_reset)
def audit_password_reset(sender, request, user, **kwargs):
    services.audit_record(action=AuditAction.PASSWORD_RESET, actor=user)


ADMIN_VERBS = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}


@receiver(post_save, sender=LogEntry)
def audit_admin_change(sender, instance: LogEntry, created: bool, raw: bool = False, **kwargs):
    # Every ModelAdmin, ours or a library's, writes its changes to LogEntry, one by one
    # (bpij.admin writes the multi-object deletions Django logs in bulk without signals).
    if not created or raw:
        return
    content_type = cast(ContentType | None, instance.content_type)
    model = content_type.model_class() if content_type else None
    label = model._meta.label if model else "unknown model"
    services.audit_record(
        action=AuditAction.ADMIN_CHANGED,
        actor=cast(User, instance.user),
        target=f"{label} {instance.object_repr}",
        detail={
            "model": label,
            "object_id": str(instance.object_id),
            "change": ADMIN_VERBS.get(instance.action_flag, str(instance.action_flag)),
            "message": instance.get_change_message(),
        },
    )
