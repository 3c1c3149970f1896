import threading
import uuid
from functools import cached_property
from typing import Any, ClassVar, cast

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import connections, models, router, transaction
from django.db.models.functions import Cast, Now
from django.utils import timezone

from bpij import audit


def rls_enabled(using: str = "default") -> bool:
    """Whether row-level security holds this connection: PostgreSQL with the runtime
    login (settings.DB_APP_ROLE), whose connection sets a tenant scope (bpij.db)."""
    return bool(settings.DB_APP_ROLE) and hasattr(connections[using], "set_tenant_scope")


class StaffRole(models.TextChoices):
    COACH = "coach", "JFF coach"
    PROGRAM_OFFICER = "program_officer", "JFF program officer"
    JFF_ADMIN = "jff_admin", "JFF administrator"
    FUNDER_VIEWER = "funder_viewer", "Federal Project Officer (read-only)"


JFF_STAFF_ROLES = frozenset({StaffRole.COACH, StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN})
# Roles that see more than one coalition's data, and so must sign in with a second factor:
# JFF's staff and the Federal Project Officer.
MFA_REQUIRED_ROLES = JFF_STAFF_ROLES | {StaffRole.FUNDER_VIEWER}
# Roles that see every coalition rather than a list of them.
PROGRAM_WIDE_ROLES = frozenset(
    {StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN, StaffRole.FUNDER_VIEWER}
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        extra.setdefault("staff_role", StaffRole.JFF_ADMIN)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address.

    Staff roles (JFF, DOL) live here; a coalition member's role lives on their
    grantees.Membership, because it belongs to one coalition.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    staff_role = models.CharField(max_length=32, choices=StaffRole.choices, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May open the Django admin site (operators only)."
    )
    is_demo = models.BooleanField(
        default=False, help_text="Created by seed_demo; never a real person."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    @property
    def is_jff_staff(self) -> bool:
        return self.staff_role in JFF_STAFF_ROLES

    @property
    def is_program_wide(self) -> bool:
        return self.staff_role in PROGRAM_WIDE_ROLES

    @property
    def is_coach(self) -> bool:
        return self.staff_role == StaffRole.COACH

    @property
    def is_jff_admin(self) -> bool:
        return self.staff_role == StaffRole.JFF_ADMIN

    @property
    def needs_mfa(self) -> bool:
        # Whoever may open Django admin counts as staff here, whatever their staff_role.
        return self.staff_role in MFA_REQUIRED_ROLES or self.is_staff or self.is_superuser

    @cached_property
    def _coalition_links(self) -> list[tuple[int, str, bool]]:
        """(coalition id, grantee role or '', coached) for each membership and coach
        assignment: what bpij.tenancy.scope_for() is made from, in one read.

        Read before any scope is held, so on PostgreSQL through bpij_person_coalitions(),
        a function that may read these two tables whatever the scope, and only them."""
        if rls_enabled():
            with connections["default"].cursor() as cursor:
                cursor.execute(
                    "SELECT coalition_id, role, coached FROM bpij_person_coalitions(%s)",
                    [self.pk],
                )
                return [tuple(row) for row in cursor.fetchall()]
        return [
            *((c, role, False) for c, role in self.memberships.values_list("coalition_id", "role")),
            *((c, "", True) for c in self.coach_assignments.values_list("coalition_id", flat=True)),
        ]

    @cached_property
    def coalition_roles(self) -> dict[int, str]:
        """{coalition id: grantee role} for this user's memberships, read once per request."""
        return {c: role for c, role, coached in self._coalition_links if not coached}

    @cached_property
    def assigned_coalition_ids(self) -> frozenset[int]:
        if not self.is_coach:
            return frozenset()
        return frozenset(c for c, _, coached in self._coalition_links if coached)


class AuditAction(models.TextChoices):
    LOGIN_SUCCEEDED = "login_succeeded", "Signed in"
    LOGIN_FAILED = "login_failed", "Sign-in failed"
    LOGOUT = "logout", "Signed out"
    MFA_ADDED = "mfa_added", "Second factor added"
    MFA_REMOVED = "mfa_removed", "Second factor removed"
    MFA_RECOVERY_CODES_RESET = "mfa_recovery_codes_reset", "Recovery codes regenerated"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    PASSWORD_RESET = "password_reset", "Password reset by e-mail link"
    INVITATION_CREATED = "invitation_created", "Invitation sent"
    INVITATION_RESENT = "invitation_resent", "Invitation sent again"
    INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
    INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
    ROLE_CHANGED = "role_changed", "Role changed"
    MEMBER_REMOVED = "member_removed", "Member removed"
    USER_DEACTIVATED = "user_deactivated", "Account deactivated"
    USER_REACTIVATED = "user_reactivated", "Account reactivated"
    COACH_ASSIGNED = "coach_assigned", "Coach assigned"
    COACH_UNASSIGNED = "coach_unassigned", "Coach unassigned"
    PII_UPLOADED = "pii_uploaded", "Participant data uploaded"
    PII_VIEWED = "pii_viewed", "Participant data viewed"
    PII_DOWNLOADED = "pii_downloaded", "Participant data downloaded"
    SUBMISSION_CERTIFIED = "submission_certified", "Report certified and submitted"
    REVIEW_STARTED = "review_started", "Review started"
    SUBMISSION_COMMENTED = "submission_commented", "Review comment posted"
    SUBMISSION_RETURNED = "submission_returned", "Report returned for revision"
    SUBMISSION_ACCEPTED = "submission_accepted", "Report accepted"
    COACHING_SESSION_LOGGED = "coaching_session_logged", "Coaching session logged"
    COACHING_SESSION_CHANGED = "coaching_session_changed", "Coaching session changed"
    ACTION_ITEM_CREATED = "action_item_created", "Action item added"
    ACTION_ITEM_CHANGED = "action_item_changed", "Action item changed"
    RISK_FLAG_SET = "risk_flag_set", "Risk flag set"
    REMINDER_SENT = "reminder_sent", "Reminder sent"
    BOARD_EXPORTED = "board_exported", "Status board exported"
    EXPORT_REQUESTED = "export_requested", "Export requested"
    EXPORT_DOWNLOADED = "export_downloaded", "Export downloaded"
    FILES_PURGED = "files_purged", "Stored files purged under the retention rule"
    ACCESS_DENIED = "access_denied", "Access refused (403 or 404)"
    ADMIN_CHANGED = "admin_changed", "Changed in the Django admin"
    API_TOKEN_CREATED = "api_token_created", "API token created"
    API_TOKEN_FIRST_USED = "api_token_first_used", "API token used for the first time"
    API_TOKEN_REVOKED = "api_token_revoked", "API token revoked"
    API_WRITE = "api_write", "Change made through the API"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs):
        raise AuditLogIsAppendOnly

    def delete(self):
        raise AuditLogIsAppendOnly

    def chain(self) -> "models.QuerySet[AuditEvent, dict[str, Any]]":
        """Every event in chain order with the fields its hash covers (see bpij.audit)."""
        return (
            self.annotate(detail_text=Cast("detail", models.TextField()))
            .order_by("seq")
            .values(*audit.CHAIN_FIELDS, "id", "hash")
        )


# Serialises writers of the chain on SQLite (the embedded default runs in one process);
# PostgreSQL serialises them with an advisory lock in its trigger instead.
_PYTHON_CHAIN_LOCK = threading.Lock()


class AuditLogIsAppendOnly(Exception):
    def __str__(self) -> str:
        return "The audit log is append-only: entries are never changed or deleted."


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit log.

    Who and which coalition are copied as text as well as linked, so an entry still reads
    right after a person or a coalition is renamed or removed. The database, not the
    writer, sets ``at`` and the chain fields (``seq``, ``prev_hash``, ``hash``; see
    bpij.audit): on PostgreSQL a BEFORE INSERT trigger, which also refuses UPDATE, DELETE
    and TRUNCATE; on SQLite ``save()``. Their ``db_default`` makes Django read back what
    the trigger wrote.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    seq = models.BigIntegerField(
        unique=True, db_default=0, editable=False, help_text="Place in the hash chain."
    )
    at = models.DateTimeField(db_default=Now(), db_index=True, editable=False)
    action = models.CharField(max_length=40, choices=AuditAction.choices, db_index=True)
    # People are deactivated, never deleted, so their trail stays linked.
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True, db_index=True)
    coalition_uuid = models.UUIDField(null=True, blank=True, db_index=True)
    coalition_name = models.CharField(max_length=200, blank=True)
    target = models.CharField(
        max_length=300, blank=True, help_text="What the action was done to, in words."
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, db_default="", editable=False)
    hash = models.CharField(max_length=64, db_default="", editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email or 'anonymous'} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        if connections[using].vendor == "postgresql":
            super().save(*args, **kwargs)
            return
        with _PYTHON_CHAIN_LOCK, transaction.atomic(using=using):
            head = (
                type(self)._default_manager.using(using).order_by("-seq").values("seq", "hash")
            ).first()
            self.seq = head["seq"] + 1 if head else 1
            self.prev_hash = head["hash"] if head else audit.GENESIS
            self.at = timezone.now()
            self.hash = audit.event_hash(self._as_stored(using))
            super().save(*args, **kwargs)

    def _as_stored(self, using: str) -> dict[str, Any]:
        # The values as the database will hand them back to verification.
        connection = connections[using]

        def field(name: str) -> models.Field:
            return cast(models.Field, self._meta.get_field(name))

        return {
            "seq": self.seq,
            "uuid": self.uuid,
            "at": self.at,
            "action": self.action,
            "actor_id": self.actor_id,
            "actor_email": self.actor_email,
            "coalition_uuid": self.coalition_uuid,
            "coalition_name": self.coalition_name,
            "target": self.target,
            "ip_address": field("ip_address").get_db_prep_value(self.ip_address, connection),
            "user_agent": self.user_agent,
            "detail_text": field("detail").get_db_prep_value(self.detail, connection),
            "prev_hash": self.prev_hash,
        }

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A personal API token (docs/api.md). It acts as its owner, with the owner's role and
    scope. Only the SHA-256 of the secret is stored; ``prefix`` (the secret's first
    characters, no secret in itself) is what the token list shows to tell tokens apart."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
