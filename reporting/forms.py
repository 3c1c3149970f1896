from django import forms

from reporting.models import UploadKind


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=UploadKind.choices)
    file = forms.FileField(
        label="File",
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
    name = forms.CharField(label="Your full name (your signature)", max_length=150)
    title = forms.CharField(label="Your title", max_length=150, required=False)
    agreed = forms.BooleanField(
        label="I certify this report as stated above.",
        error_messages={"required": "Tick the box to certify the report."},
    )


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
