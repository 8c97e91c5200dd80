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


class UserAdminForm(forms.Form):
    """An administrator changes a user's role, team, the reps an assistant acts for, the export
    grant and whether the account is active (accounts.services.user_update validates)."""

    role = forms.ChoiceField(label=_("Role"))
    team = forms.ChoiceField(label=_("Team"), required=False)
    acts_for = forms.MultipleChoiceField(
        label=_("Acts for"), required=False,
        help_text=_("Only for sales assistants: the reps whose customers they see and work on."),
    )  # fmt: skip
    can_export = forms.BooleanField(label=_("May export lists"), required=False,
                                    help_text=_("An extra grant on top of the role's permissions."))  # fmt: skip
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, user, **kwargs):
        from .models import Role, Team, User

        if "initial" not in kwargs:
            kwargs["initial"] = {
                "role": user.role, "team": str(user.team_id or ""), "can_export": user.can_export,
                "is_active": user.is_active, "acts_for": [str(i) for i in user.acts_for.values_list("id", flat=True)],
            }  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = Role.choices
        self.fields["team"].choices = [("", "—"), *((str(t.pk), t.name) for t in Team.objects.order_by("name"))]
        reps = User.objects.filter(is_active=True).exclude(pk=user.pk).order_by("first_name", "username")
        self.fields["acts_for"].choices = [(str(u.pk), f"{u} ({u.username})") for u in reps]
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"
            else:
                field.widget.attrs["class"] = "form-select"

    def service_data(self) -> dict:
        d = self.cleaned_data
        return {"role": d["role"], "team": d["team"] or None, "acts_for": [int(i) for i in d["acts_for"]],
                "can_export": d["can_export"], "is_active": d["is_active"]}  # fmt: skip


class OffboardForm(forms.Form):
    to = forms.ChoiceField(label=_("Hand over to"), required=False)
    pool = forms.ChoiceField(label=_("Or put the customers into the pool"), required=False)
    deactivate = forms.BooleanField(label=_("Deactivate the account afterwards"), required=False, initial=True)

    def __init__(self, *args, targets, pools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [("", "—"), *((str(u.pk), f"{u} ({u.username})") for u in targets)]
        self.fields["pool"].choices = [("", "—"), *((str(p.pk), p.name) for p in pools)]
        self.fields["to"].widget.attrs["class"] = self.fields["pool"].widget.attrs["class"] = "form-select"
        self.fields["deactivate"].widget.attrs["class"] = "form-check-input"
