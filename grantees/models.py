import hashlib
import secrets
import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from bpij.models import StaffRole, User
from bpij.tenancy import TenantQuerySet
from grantees import calendar


class Sector(models.TextChoices):
    RENEWABLE_ENERGY = "renewable_energy", "Renewable energy"
    BROADBAND = "broadband", "Broadband"
    TRANSPORTATION = "transportation", "Transportation"


class Track(models.TextChoices):
    DEVELOPMENT = "development", "Development"
    SCALING = "scaling", "Scaling"


class MemberRole(models.TextChoices):
    ADMIN = "grantee_admin", "Coalition administrator"
    REPORTER = "grantee_reporter", "Reporter"
    VIEWER = "grantee_viewer", "Viewer"


MEMBER_ROLE_HELP = {
    MemberRole.ADMIN: "Invites colleagues, uploads, and certifies the quarterly report.",
    MemberRole.REPORTER: "Uploads files, fixes findings and writes the narrative.",
    MemberRole.VIEWER: "Reads the coalition's reports; changes nothing.",
}

# USPS codes of the 50 states, DC and the territories (DATA-CONTRACT.md §2.1 state_code).
US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
    "NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota",
    "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming", "PR": "Puerto Rico",
    "GU": "Guam", "VI": "U.S. Virgin Islands", "AS": "American Samoa",
    "MP": "Northern Mariana Islands",
}  # fmt: skip


class CoalitionQuerySet(TenantQuerySet["Coalition"]):
    funder_visible = True

    def search(self, text: str) -> "CoalitionQuerySet":
        text = text.strip()
        if not text:
            return self
        return self.filter(
            models.Q(name__icontains=text)
            | models.Q(lead_organization__icontains=text)
            | models.Q(slug__icontains=text)
        )

    def in_state(self, state: str) -> "CoalitionQuerySet":
        # states_served is a JSON list; a plain text match on the quoted code works the
        # same on PostgreSQL and SQLite.
        return self.filter(states_served__icontains=f'"{state.upper()}"') if state else self

    def in_sector(self, sector: str) -> "CoalitionQuerySet":
        return self.filter(sectors__icontains=f'"{sector}"') if sector else self


class Coalition(models.Model):
    """The tenant: one BPIJ grantee coalition."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    lead_organization = models.CharField(max_length=200)
    partner_organizations = models.JSONField(default=list, blank=True)
    states_served = models.JSONField(default=list, help_text="USPS codes")
    sectors = models.JSONField(default=list)
    track = models.CharField(max_length=20, choices=Track.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CoalitionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def sector_pairs(self) -> list[tuple[str, str]]:
        return [(s, Sector(s).label) for s in self.sectors]

    @property
    def state_names(self) -> list[str]:
        return [US_STATES.get(s, s) for s in self.states_served]

    def role_of(self, user: User) -> str | None:
        return user.coalition_roles.get(self.pk)


class GrantQuerySet(TenantQuerySet["Grant"]):
    funder_visible = True


class Grant(models.Model):
    coalition = models.ForeignKey(Coalition, on_delete=models.PROTECT, related_name="grants")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    award_number = models.CharField(max_length=40, unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    start_date = models.DateField("period of performance start")
    end_date = models.DateField("period of performance end")

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gt=models.F("start_date")),
                name="grant_ends_after_it_starts",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="grant_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.award_number

    @property
    def quarters(self) -> list[calendar.Quarter]:
        return calendar.quarters_between(self.start_date, self.end_date)

    def next_report(self, today: date | None = None) -> calendar.Quarter | None:
        return calendar.next_report(self.start_date, self.end_date, today or timezone.localdate())

    def elapsed_share(self, today: date | None = None) -> Decimal:
        """How much of the period of performance has passed, from 0 to 1."""
        today = today or timezone.localdate()
        total = (self.end_date - self.start_date).days
        done = min(max((today - self.start_date).days, 0), total)
        return Decimal(done) / Decimal(total)


class Measure(models.TextChoices):
    """Measures that carry grant-to-date targets (DATA-CONTRACT.md §5), keyed by the
    figure each is read from (§6)."""

    PARTICIPANTS_SERVED = "A-2", "Participants served"
    BEGAN_TRAINING = "C-1", "Began training"
    COMPLETED_TRAINING = "C-3", "Completed training"
    EARNED_CREDENTIAL = "C-4", "Earned a credential"
    ENTERED_EMPLOYMENT = "D-1", "Entered employment"
    TRAINING_RELATED_EMPLOYMENT = "D-2", "Entered training-related employment"
    INCUMBENT_ADVANCED = "D-5", "Incumbent workers advanced"


class TargetQuerySet(TenantQuerySet["Target"]):
    funder_visible = True


class Target(models.Model):
    """A negotiated grant-to-date target for one measure, with optional per-quarter
    milestones (``{"2025Q3": 120, ...}``, cumulative like the target)."""

    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="targets")
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="targets")
    measure = models.CharField(max_length=8, choices=Measure.choices)
    value = models.PositiveIntegerField()
    milestones = models.JSONField(default=dict, blank=True)

    objects = TargetQuerySet.as_manager()

    class Meta:
        ordering = ["grant", "measure"]
        constraints = [
            models.UniqueConstraint(
                fields=["coalition", "grant", "measure"], name="one_target_per_measure"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_measure_display()}: {self.value:,}"


class MembershipQuerySet(TenantQuerySet["Membership"]):
    def filers(self, coalition_id: int) -> "MembershipQuerySet":
        """The active people who file the coalition's reports (administrators and
        reporters): whom a return notice or a reminder is written to."""
        return self.filter(
            coalition_id=coalition_id,
            role__in=(MemberRole.ADMIN, MemberRole.REPORTER),
            user__is_active=True,
        )


class Membership(models.Model):
    coalition = models.ForeignKey(Coalition, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(max_length=32, choices=MemberRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["coalition", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.coalition}"


class CoachAssignmentQuerySet(TenantQuerySet["CoachAssignment"]):
    pass


class CoachAssignment(models.Model):
    """A JFF coach assigned to a coalition.

    It lives here rather than in ``coaching`` because it decides what a coach may see,
    and tenancy (``visible_to``) must not depend on an app above it.
    """

    coalition = models.ForeignKey(
        Coalition, on_delete=models.CASCADE, related_name="coach_assignments"
    )
    coach = models.ForeignKey(User, on_delete=models.CASCADE, related_name="coach_assignments")
    assigned_at = models.DateTimeField(auto_now_add=True)

    objects = CoachAssignmentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["coalition", "coach"], name="one_assignment_per_coach")
        ]

    def __str__(self) -> str:
        return f"{self.coach} coaches {self.coalition}"


class InvitationQuerySet(TenantQuerySet["Invitation"]):
    def pending(self) -> "InvitationQuerySet":
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )

    def visible_to(self, user):
        # Staff invitations have no coalition; only a JFF administrator sees them.
        if getattr(user, "is_jff_admin", False):
            return self
        return super().visible_to(user)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(models.Model):
    """An invitation to join a coalition (with a grantee role) or JFF (with a staff role).

    Only the SHA-256 of the token is stored: the link in the e-mail is the one copy.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    coalition = models.ForeignKey(
        Coalition, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=32, choices=MemberRole.choices + StaffRole.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    # Not stored: how its e-mail went once it committed (grantees.services, MAIL_*);
    # empty until then, or when the caller's transaction has not committed yet.
    mail: str = ""

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A grantee role needs a coalition; a staff role must not have one.
            models.CheckConstraint(
                condition=(
                    models.Q(coalition__isnull=False, role__in=MemberRole.values)
                    | models.Q(coalition__isnull=True, role__in=StaffRole.values)
                ),
                name="invitation_role_matches_coalition",
            ),
            models.UniqueConstraint(
                Lower("email"),
                "coalition",
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    @property
    def role_label(self) -> str:
        choices = dict(MemberRole.choices + StaffRole.choices)
        return str(choices.get(self.role, self.role))

    @property
    def is_staff_invitation(self) -> bool:
        return self.coalition_id is None

    @property
    def valid_for(self) -> int:
        return settings.INVITATION_VALID_DAYS
