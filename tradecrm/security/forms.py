from django import forms
from django.utils.translation import gettext_lazy as _

from .scopes import AREAS
from .services import MAX_TOKEN_DAYS


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=40,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "one-time-code",
                                      "inputmode": "numeric", "autofocus": True}),
    )  # fmt: skip


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("e.g. ERP sync")}),
    )
    days = forms.IntegerField(label=_("Expires after (days)"), min_value=1, max_value=MAX_TOKEN_DAYS, required=False,
                              initial=90, help_text=_("Leave empty for a token that does not expire."),
                              widget=forms.NumberInput(attrs={"class": "form-control"}))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("No access")), ("read", _("Read")), ("write", _("Read and write"))]
        for area, label in AREAS.items():
            self.fields[f"area_{area}"] = forms.ChoiceField(
                label=label, choices=choices, required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )  # fmt: skip

    def area_fields(self):
        return [self[f"area_{area}"] for area in AREAS]

    def scopes(self) -> list[str]:
        return [
            f"{area}:{self.cleaned_data[f'area_{area}']}"
            for area in AREAS
            if self.cleaned_data.get(f"area_{area}")
        ]
