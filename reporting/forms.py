import uuid
from typing import cast

from django import forms
from django.core.exceptions import ValidationError

from grantees.calendar import Quarter
from grantees.forms import CoalitionFacetsForm
from grantees.models import Coalition
from reporting import catalogue
from reporting.models import ReminderKind, ReminderStatus, UploadKind
from reporting.selectors import board as board_selectors


class UploadFileField(forms.FileField):
    """Names the file when it is empty: Django's own message does not, and a person who
    did choose a file must not be told to choose one."""

    def to_python(self, data):
        if data and getattr(data, "name", "") and not getattr(data, "size", 0):
            raise ValidationError(
                "%(name)s is empty (0 bytes), so there is nothing to check. Open it in your "
                "spreadsheet program, check that it holds the header row and your rows, save "
                "it again and choose it again. Nothing was changed on the report.",
                code="empty",
                params={"name": data.name},
            )
        return super().to_python(data)


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=UploadKind.choices)
    file = UploadFileField(
        label="File",
        error_messages={"required": "Choose a CSV or XLSX file to upload."},
        help_text="CSV (UTF-8) or XLSX, up to 50 MB and 200,000 rows; the whole cumulative file.",
    )


class NarrativeForm(forms.Form):
    progress = forms.CharField(
        label="Progress this quarter",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=10000,
        help_text="What the coalition achieved: enrollment, training, placements, partners.",
    )
    challenges = forms.CharField(
        label="Challenges",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=10000,
        help_text="What slowed you down, and what you are doing about it.",
    )
    ta_needs = forms.CharField(
        label="Technical assistance needs",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=10000,
        help_text="Where JFF could help next quarter.",
    )


class CertifyForm(forms.Form):
    """The attestation. ``late_reason`` is asked for only when the report is late and
    ``confirmed`` only when there are warnings to confirm (the service enforces both,
    with the message that says what is missing)."""

    name = forms.CharField(label="Your full name (your signature)", max_length=150)
    title = forms.CharField(label="Your title", max_length=150, required=False)
    late_reason = forms.CharField(
        label="Why is the report late?",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="JFF reads the reason with the report, and it is printed in the quarterly "
        "report PDF. At most 2,000 characters.",
        error_messages={
            "max_length": "The reason for the late report may have at most 2,000 characters "
            "(it has %(show_value)d)."
        },
    )
    confirmed = forms.BooleanField(
        label="I have looked at the warnings above: these are the files I mean to send.",
        required=False,
    )
    agreed = forms.BooleanField(
        label="I certify this report as stated above.",
        error_messages={"required": "Tick the box to certify the report."},
    )

    def __init__(self, *args, late: bool = True, warnings: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not late:
            del self.fields["late_reason"]
        if not warnings:
            del self.fields["confirmed"]


class FindingFilterForm(forms.Form):
    file = forms.ChoiceField(
        required=False, choices=[("", "Both files"), *UploadKind.choices], label="File"
    )
    severity = forms.ChoiceField(
        required=False,
        choices=[("", "Errors and warnings"), ("error", "Errors"), ("warning", "Warnings")],
        label="Severity",
    )
    code = forms.CharField(required=False, max_length=4, label="Rule")
    column = forms.CharField(required=False, max_length=64, label="Column")


# -- Review (issue 4) -------------------------------------------------------------------

from reporting.models import ReturnReason  # noqa: E402


class ReturnForm(forms.Form):
    reasons = forms.MultipleChoiceField(
        label="Reasons",
        choices=ReturnReason.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one reason, so the coalition knows what to fix."
        },
    )
    note = forms.CharField(
        label="Note to the coalition",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="What to change, in plain words. The coalition reads it with the reasons.",
        error_messages={"required": "Write a note saying what to change."},
    )


def _figure_choices() -> list[tuple[str, str]]:
    return [("", "No figure"), *((f.key, f"{f.key} {f.label}") for f in catalogue.FIGURES)]


def _window_choices() -> list[tuple[str, str]]:
    return [("", "Any window"), *catalogue.WINDOWS]


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        error_messages={"required": "Write the comment first: it cannot be empty."},
    )
    parent = forms.UUIDField(required=False, widget=forms.HiddenInput)
    figure_key = forms.ChoiceField(
        label="Figure",
        required=False,
        choices=_figure_choices,
        widget=forms.Select(attrs={"class": "usa-select"}),
    )
    figure_window = forms.ChoiceField(
        label="Window",
        required=False,
        choices=_window_choices,
        widget=forms.Select(attrs={"class": "usa-select"}),
    )
    finding = forms.CharField(label="Finding", required=False, max_length=100)


from reporting.models import NotificationKind, NotificationMode  # noqa: E402


class NotificationSettingsForm(forms.Form):
    """One choice per kind of staff e-mail: each e-mail, a daily digest, or off."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            self.fields[kind] = forms.ChoiceField(
                label=label,
                choices=NotificationMode.choices,
                widget=forms.RadioSelect,
                error_messages={
                    "required": f"Choose how to hear that {label[0].lower()}{label[1:]}: "
                    "each e-mail, daily digest or off.",
                    "invalid_choice": f"“%(value)s” is not a choice for “{label}”: choose "
                    "each e-mail, daily digest or off.",
                },
            )


class BoardFilterForm(CoalitionFacetsForm):
    field_order = ["quarter", "status", "coach", "state", "sector", "track", "sort"]

    quarter = forms.CharField(label="Quarter", required=False, max_length=10)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All statuses"), *board_selectors.STATES]
    )
    coach = forms.CharField(label="Coach", required=False, max_length=40)
    sort = forms.CharField(required=False, max_length=20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].label = "State served"

    def clean_quarter(self) -> Quarter | None:
        text = self.cleaned_data["quarter"]
        if not text:
            return None
        try:
            return Quarter.parse(text)
        except ValueError as error:
            raise ValidationError(str(error)) from error

    def clean_coach(self) -> str:
        coach = self.cleaned_data["coach"]
        if coach and coach != board_selectors.NO_COACH:
            try:
                uuid.UUID(coach)
            except ValueError as error:
                raise ValidationError(
                    "Choose a coach from the list (or “No coach assigned”)."
                ) from error
        return coach

    def clean_sort(self) -> str:
        sort = self.cleaned_data["sort"]
        return sort if sort.lstrip("-") in board_selectors.SORTS else board_selectors.DEFAULT_SORT


class ReminderFilterForm(forms.Form):
    coalition = forms.ChoiceField(label="Coalition", required=False)
    quarter = forms.CharField(label="Quarter", required=False, max_length=10)
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "All kinds"), *ReminderKind.choices]
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *ReminderStatus.choices]
    )

    def __init__(self, *args, coalitions: list[Coalition], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["coalition"]).choices = [
            ("", "All coalitions"),
            *((str(c.code), c.name) for c in coalitions),
        ]

    def clean_quarter(self) -> str:
        text = self.cleaned_data["quarter"].strip()
        if not text:
            return ""
        try:
            return str(Quarter.parse(text))
        except ValueError as error:
            raise ValidationError(str(error)) from error
