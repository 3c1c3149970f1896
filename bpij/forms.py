from datetime import datetime, time

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from bpij.models import AuditAction, AuditEvent


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "All actions"), *AuditAction.choices]
    )
    actor = forms.CharField(label="Person (e-mail contains)", required=False, max_length=254)
    coalition = forms.CharField(label="Coalition (name contains)", required=False, max_length=200)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date must be on or after the start date.")
        return cleaned

    def filter(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        data = self.cleaned_data
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["actor"]:
            events = events.filter(actor_email__icontains=data["actor"].strip())
        if data["coalition"]:
            events = events.filter(coalition_name__icontains=data["coalition"].strip())
        zone = timezone.get_current_timezone()
        if data["since"]:
            events = events.filter(at__gte=datetime.combine(data["since"], time.min, zone))
        if data["until"]:
            events = events.filter(at__lte=datetime.combine(data["until"], time.max, zone))
        return events


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="Where the token is used, e.g. 'Apricot quarterly export'.",
        error_messages={"required": "Give the token a name that says where it is used."},
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        max_value=366,
        initial=90,
        help_text="From 1 to 366 days; 90 unless you change it.",
    )
