from django import forms
from django.contrib.auth import password_validation

from bpij.models import StaffRole, User
from grantees.models import US_STATES, MemberRole, Sector, Track


class CoalitionFacetsForm(forms.Form):
    """The facets coalitions are filtered by, wherever a list of them is: the coalition
    list and the status board."""

    state = forms.ChoiceField(
        label="State",
        required=False,
        choices=[("", "All states"), *sorted(US_STATES.items(), key=lambda item: item[1])],
    )
    sector = forms.ChoiceField(
        label="Sector", required=False, choices=[("", "All sectors"), *Sector.choices]
    )
    track = forms.ChoiceField(
        label="Track", required=False, choices=[("", "All tracks"), *Track.choices]
    )

    FACETS = ("state", "sector", "track")

    def facet_fields(self) -> list[forms.BoundField]:
        """The facets' bound fields, for ``grantees/_facet_selects.html``."""
        return [self[name] for name in self.FACETS]


class CoalitionFilterForm(CoalitionFacetsForm):
    field_order = ["q", "state", "sector", "track"]

    q = forms.CharField(label="Search", required=False, max_length=100)


class MemberInviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    full_name = forms.CharField(label="Full name", required=False, max_length=150)
    role = forms.ChoiceField(label="Role", choices=MemberRole.choices, initial=MemberRole.REPORTER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=MemberRole.choices)


class StaffInviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    full_name = forms.CharField(label="Full name", required=False, max_length=150)
    role = forms.ChoiceField(label="Role", choices=StaffRole.choices, initial=StaffRole.COACH)


class StaffRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=StaffRole.choices)


class UserFilterForm(forms.Form):
    q = forms.CharField(label="Search by name or e-mail", required=False, max_length=100)
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[
            ("", "Everyone"),
            ("staff", "JFF and DOL staff"),
            ("grantee", "Coalition members"),
        ],
    )


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(label="Your full name", max_length=150)
    password1 = forms.CharField(
        label="Choose a password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common password, and not all numbers.",
    )
    password2 = forms.CharField(
        label="Type the password again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords are not the same; type them again.")
        elif first:
            probe = User(email=self.email, full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(first, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
