"""HTML forms of the exchange-rate pages. They carry raw values: the rules live in
fx_validation.py and run inside the services, whose ValidationError lands on the fields."""

from __future__ import annotations

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from tradecrm.core.models import ExchangeRate
from tradecrm.core.money import currency_choices
from tradecrm.customers.forms import ServiceForm
from tradecrm.customers.widgets import FastSelect


def _currency_field(label, css: str = "") -> forms.CharField:
    # a CharField: the service says what is wrong with a code, in the same words as the API
    attrs = {"data-search": "1"} | ({"class": css} if css else {})
    return forms.CharField(label=label, required=False, widget=FastSelect(attrs=attrs))


def _currency_options(form: forms.Form, *names: str, blank: str = "") -> None:
    """The options (commonly traded currencies first) built once per language and reused."""
    language = translation.get_language() or "en"
    choices = ([("", blank)] if blank else []) + currency_choices(language)
    for name in names:
        widget = form.fields[name].widget
        widget.choices = choices
        widget.cache_key = ("fx-currency", language, bool(blank))


class RateForm(ServiceForm):
    base = _currency_field(_("Base currency"))
    quote = _currency_field(_("Quote currency"))
    date = forms.CharField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    rate = forms.CharField(
        label=_("Rate"),
        required=False,
        max_length=40,
        help_text=_("How much 1 unit of the base currency is worth in the quote currency, e.g. 7.1234."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    source = forms.CharField(
        label=_("Source"),
        required=False,
        max_length=200,
        help_text=_("Where the rate comes from: manual, ECB, PBOC, your bank…"),
    )

    def __init__(self, *args, rate: ExchangeRate | None = None, **kwargs):
        if rate is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "base": rate.base, "quote": rate.quote, "date": rate.date.isoformat(),
                "rate": f"{rate.rate.normalize():f}", "source": rate.source, "version": rate.version,
            }  # fmt: skip
        super().__init__(*args, **kwargs)
        _currency_options(self, "base", "quote")
        self.initial.setdefault("source", "manual")


class ConvertForm(forms.Form):
    """Read by the view with fx_validation (not cleaned here): the same messages as the API."""

    amount = forms.CharField(
        label=_("Amount"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "form-control", "id": "fx-amount"}),
    )
    frm = _currency_field(_("From"), "form-select")
    to = _currency_field(_("To"), "form-select")
    date = forms.CharField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _currency_options(self, "frm", "to")


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".csv,.txt,text/csv,text/plain"}
        ),
    )
    base = _currency_field(_("Rates are quoted against"), "form-select")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base"].help_text = _(
            "Needed when the file has one column per currency (EUR for the ECB reference rates) or no "
            "“base” column; leave empty when every row names its base currency."
        )
        _currency_options(self, "base", blank=str(_("(named in the file)")))
