from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from tradecrm.core import geo
from tradecrm.customers.widgets import FastSelect


class SignInForm(AuthenticationForm):
    """Django's sign-in form with Tabler classes on the inputs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username")
        self.fields["password"].label = _("Password")
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"
        self.fields["username"].widget.attrs["autocomplete"] = "username"
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"


class PreferencesForm(forms.Form):
    """The signed-in user's own settings: interface language, the time zone their clock uses, their
    working hours (for "best time to reach") and the daily digest email."""

    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    language = forms.ChoiceField(
        label=_("Interface language"), choices=[("en", "English"), ("zh-hans", "简体中文")]
    )
    timezone = forms.ChoiceField(label=_("Your time zone"))
    work_start = forms.TimeField(
        label=_("My working day starts"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    work_end = forms.TimeField(
        label=_("My working day ends"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    daily_digest = forms.BooleanField(
        label=_("Daily digest email"),
        required=False,
        help_text=_("At 08:00 your time: overdue and due follow-ups and unread notifications."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zones = sorted(geo.timezone_names())
        self.fields["timezone"].choices = [(z, z.replace("_", " ")) for z in zones]
        self.fields["timezone"].widget = FastSelect(
            choices=self.fields["timezone"].choices, cache_key=("tz",)
        )
        self.fields["timezone"].widget.attrs["data-search"] = "1"
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select"
            else:
                field.widget.attrs["class"] = "form-control"

    def clean(self):
        data = super().clean()
        start, end = data.get("work_start"), data.get("work_end")
        if start is not None and end is not None and end <= start:
            self.add_error("work_end", _("The end of your working day must be after its start."))
        return data
