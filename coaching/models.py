import uuid

from django.db import models
from django.utils import timezone

from bpij.models import User
from bpij.tenancy import TenantQuerySet
from grantees.models import Coalition, Target
from reporting.models import Finding


class SessionKind(models.TextChoices):
    CALL = "call", "Call"
    SITE_VISIT = "site_visit", "Site visit"
    PEER_LEARNING = "peer_learning", "Peer learning"
    OFFICE_HOURS = "office_hours", "Office hours"


class CoachingQuerySet(TenantQuerySet):
    def shared_or_staff(self, user: User):
        """Coaching notes are staff-only unless marked shared with the coalition."""
        return self if user.is_jff_staff else self.filter(shared=True)


class CoachingSession(models.Model):
    coalition = models.ForeignKey(
        Coalition, on_delete=models.CASCADE, related_name="coaching_sessions"
    )
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    held_on = models.DateField()
    kind = models.CharField(max_length=20, choices=SessionKind.choices)
    attendees = models.TextField(help_text="One per line, with organization.")
    topics = models.TextField()
    notes = models.TextField(blank=True)
    shared = models.BooleanField(
        default=False, help_text="Let the coalition's members read this session."
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = CoachingQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} with {self.coalition} on {self.held_on}"


class ActionItemQuerySet(CoachingQuerySet):
    def shared_or_staff(self, user: User):
        """A coalition member reads the items shared with the coalition and, shared or
        not, every item they own: giving someone a task is telling them about it
        (docs/coaching.md)."""
        if user.is_jff_staff:
            return self
        return self.filter(models.Q(shared=True) | models.Q(owner_id=user.pk))


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"


class ActionItem(models.Model):
    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="action_items")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        CoachingSession,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="action_items",
    )
    title = models.CharField(max_length=200)
    # The owner is a hub user where there is one, else a name (a partner's staff member).
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="action_items"
    )
    owner_name = models.CharField(max_length=150, blank=True)
    due_on = models.DateField()
    status = models.CharField(max_length=8, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    target = models.ForeignKey(
        Target, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shared = models.BooleanField(default=False)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["status", "due_on", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def owner_label(self) -> str:
        if self.owner_id and self.owner:
            return self.owner.display_name
        return self.owner_name


class RiskLevel(models.TextChoices):
    LOW = "low", "On track"
    MEDIUM = "medium", "Watch"
    HIGH = "high", "At risk"


class RiskFlagQuerySet(TenantQuerySet["RiskFlag"]):
    pass


class RiskFlag(models.Model):
    """A coach's judgement of a coalition's risk. Rows are never changed: a new flag
    supersedes the last, so the history is kept; the latest is the current level."""

    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="risk_flags")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    level = models.CharField(max_length=8, choices=RiskLevel.choices)
    reason = models.TextField()
    set_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    objects = RiskFlagQuerySet.as_manager()

    class Meta:
        ordering = ["-set_at", "-id"]
        indexes = [models.Index(fields=["coalition", "-set_at"], name="risk_by_coalition")]

    def __str__(self) -> str:
        return f"{self.coalition}: {self.get_level_display()}"
