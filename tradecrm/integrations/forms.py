"""Forms of the integrations pages. They only shape the input; the services validate it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EVENTS


class EndpointForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://erp.example.com/hooks/tradecrm"}),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(e, e) for e in EVENTS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    secret = forms.CharField(
        label=_("Signing secret"),
        max_length=128,
        required=False,
        help_text=_("Leave empty to keep it (or, for a new endpoint, to have one generated)."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class TelInput(forms.TextInput):
    input_type = "tel"  # the phone's number pad


class CaptureForm(forms.Form):
    """A business card, typed at a trade-show stand on a phone."""

    name = forms.CharField(
        label=_("Name"),
        max_length=240,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name", "autocapitalize": "words"}),
    )
    company = forms.CharField(
        label=_("Company"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    title = forms.CharField(
        label=_("Job title"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        widget=TelInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    country = forms.ChoiceField(label=_("Country"), required=False)
    show = forms.CharField(
        label=_("Trade show or source"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Canton Fair 2026, booth 12.1 C22")}),
    )
    note = forms.CharField(
        label=_("Note"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    photo = forms.FileField(
        label=_("Photo of the card"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )

    def __init__(self, *args, countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *countries]
