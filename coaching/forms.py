from dataclasses import dataclass, field

from django import forms
from django.db.models import Q
from django.utils import timezone

from bpij.models import StaffRole, User
from coaching.models import ActionStatus, RiskLevel, SessionKind
from coaching.services import ItemInput
from grantees.models import CoachAssignment, Coalition, Target
from reporting import selectors as reporting_selectors
from reporting.checks import rules
from reporting.models import Finding

FINDING_CHOICES = 100


def _choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


@dataclass
class ItemChoices:
    """Who may own an item and what it may point at, read once per page (three queries)
    and shared by every item form on it, so a form with many items costs no more."""

    owners: dict[str, User] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    findings: dict[str, Finding] = field(default_factory=dict)

    @classmethod
    def for_coalition(cls, coalition: Coalition) -> "ItemChoices":
        coaches = CoachAssignment.objects.filter(coalition=coalition).values("coach")
        owners = User.objects.filter(is_active=True).filter(
            Q(memberships__coalition=coalition)
            | Q(staff_role__in=[StaffRole.PROGRAM_OFFICER, StaffRole.JFF_ADMIN])
            | Q(pk__in=coaches)
        )
        targets = Target.objects.filter(coalition=coalition).order_by("measure")
        findings = reporting_selectors.latest_findings(coalition, limit=FINDING_CHOICES)
        return cls(
            owners={str(u.uuid): u for u in owners.distinct().order_by("full_name", "email")},
            targets={str(t.pk): t for t in targets},
            findings={str(f.pk): f for f in findings},
        )

    def owner_choices(self) -> list[tuple[str, str]]:
        staff = [(k, u.display_name) for k, u in self.owners.items() if u.staff_role]
        members = [(k, u.display_name) for k, u in self.owners.items() if not u.staff_role]
        return [
            ("", "— Nobody in the hub (type a name below) —"),
            *[(k, f"{label} (coalition)") for k, label in members],
            *[(k, f"{label} (JFF)") for k, label in staff],
        ]

    def target_choices(self) -> list[tuple[str, str]]:
        return [("", "— None —"), *[(k, str(t)) for k, t in self.targets.items()]]

    def finding_choices(self) -> list[tuple[str, str]]:
        def label(f: Finding) -> str:
            where = f"{f.file} row {f.row}" if f.row else f.file
            return f"{rules.label(f.code)} ({f.severity}) · {where}: {f.message[:70]}"

        return [("", "— None —"), *[(k, label(f)) for k, f in self.findings.items()]]


class SessionForm(forms.Form):
    held_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(choices=SessionKind.choices)
    attendees = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, with organization.",
    )
    topics = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Staff-only unless you share the session.",
    )
    shared = forms.BooleanField(
        required=False, label="Share this session and its notes with the coalition's members"
    )

    def clean_held_on(self):
        held_on = self.cleaned_data["held_on"]
        if held_on > timezone.localdate():
            raise forms.ValidationError(
                "Log a session once it has happened; the date is in the future."
            )
        return held_on


class ItemForm(forms.Form):
    """One action item. In the session form, rows left untouched are skipped (the formset
    permits empty extra forms); a row with anything in it needs a title and a due date."""

    title = forms.CharField(
        max_length=200, label="Action", error_messages={"required": "Say what is to be done."}
    )
    owner = forms.ChoiceField(required=False, label="Owner in the hub")
    owner_name = forms.CharField(
        max_length=150, required=False, label="Or owner's name", help_text="A partner's staff."
    )
    due_on = forms.DateField(
        label="Due",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Give a due date, for example the next report's due date.",
        },
    )
    target = forms.ChoiceField(required=False, label="Linked target")
    finding = forms.ChoiceField(required=False, label="Linked finding (latest report)")
    shared = forms.BooleanField(required=False, label="Shared with the coalition")

    def __init__(self, *args, choices: ItemChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = choices
        _choices(self, "owner", choices.owner_choices())
        _choices(self, "target", choices.target_choices())
        _choices(self, "finding", choices.finding_choices())

    def clean(self):
        data = super().clean() or {}
        if data.get("owner") and data.get("owner_name", "").strip():
            self.add_error("owner_name", "Pick a hub user or type a name, not both.")
        return data

    def to_input(self) -> ItemInput:
        data = self.cleaned_data
        return ItemInput(
            title=data["title"],
            due_on=data["due_on"],
            owner=self.choices.owners.get(data["owner"]) if data["owner"] else None,
            owner_name=data["owner_name"],
            target=self.choices.targets.get(data["target"]) if data["target"] else None,
            finding=self.choices.findings.get(data["finding"]) if data["finding"] else None,
            shared=data["shared"],
        )


ItemFormSet = forms.formset_factory(ItemForm, extra=3, max_num=10, absolute_max=10)


class ItemStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionStatus.choices)


class RiskFlagForm(forms.Form):
    # The blank first choice is what a coalition never assessed shows: a select that
    # opened on "On track" would state a judgement nobody made. A flagged coalition's
    # form opens on its current level (the view passes it as the initial value).
    level = forms.ChoiceField(
        choices=[("", "- Select a level -"), *RiskLevel.choices], label="Risk level"
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=10,
        help_text="What puts the coalition at this level, and what would change it.",
    )


class OverviewFilterForm(forms.Form):
    risk = forms.ChoiceField(
        required=False,
        label="Risk level",
        choices=[("", "Any"), *RiskLevel.choices, ("none", "Not assessed")],
    )
    coach = forms.ChoiceField(required=False, label="Coach")

    def __init__(self, *args, coaches: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        _choices(
            self,
            "coach",
            [("", "Any"), ("none", "No coach"), *[(str(c.uuid), c.display_name) for c in coaches]],
        )


class AssignForm(forms.Form):
    coach = forms.ChoiceField(label="Coach")

    def __init__(self, *args, coaches: list[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.coaches = {str(c.uuid): c for c in coaches}
        _choices(
            self,
            "coach",
            [("", "— Choose a coach —"), *[(k, c.display_name) for k, c in self.coaches.items()]],
        )

    def clean_coach(self) -> User:
        return self.coaches[self.cleaned_data["coach"]]
