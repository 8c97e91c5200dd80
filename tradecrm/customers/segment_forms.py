"""HTML forms of saved segments, market notes and competitors: raw values only; the services
validate (see `forms.ServiceForm`)."""

from __future__ import annotations

from django import forms
from django.http import QueryDict
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tradecrm.core import geo

from . import filtering
from .forms import BLANK, ServiceForm
from .models import Competitor, MarketNote, SavedSegment
from .regions import region_choices


class SegmentForm(ServiceForm):
    name = forms.CharField(
        label=_("Name"),
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"autofocus": True, "maxlength": 100}),
    )
    description = forms.CharField(
        label=_("Description"), required=False, strip=True, widget=forms.TextInput(attrs={"maxlength": 255})
    )
    shared = forms.BooleanField(label=_("Share with my team"), required=False)
    # The list's query string the segment keeps ("country=DE&tier=A"); empty on edit keeps the filters.
    filters = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, segment: SavedSegment | None = None, **kwargs):
        self._creating = segment is None
        if segment is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": segment.name,
                "description": segment.description,
                "shared": segment.shared,
                "version": segment.version,
            }
        super().__init__(*args, **kwargs)

    def service_data(self) -> dict:
        data = super().service_data()
        qs = data.pop("filters", "")
        if qs or self._creating:
            raw = filtering.query_dict(QueryDict(qs))
            for key in ("cursor", "segment", "csrfmiddlewaretoken"):
                raw.pop(key, None)
            data["filters"] = raw
        return data


class MarketForm(ServiceForm):
    code = forms.CharField(
        label=_("Market"),
        required=False,
        help_text=_("A country, or a region whose notes apply to all its countries."),
    )
    notes = forms.CharField(label=_("Market notes"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    regulations = forms.CharField(
        label=_("Regulations"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    certifications = forms.CharField(
        label=_("Required certifications"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. CE marking."),
    )

    def __init__(self, *args, market: MarketNote | None = None, **kwargs):
        if market is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "code": market.code,
                "notes": market.notes,
                "regulations": market.regulations,
                "certifications": "\n".join(market.certifications),
                "version": market.version,
            }
        super().__init__(*args, **kwargs)
        lang = get_language() or "en"
        self.fields["code"].widget = forms.Select(
            choices=BLANK
            + [(str(_("Regions")), region_choices()), (str(_("Countries")), geo.country_choices(lang))],
            attrs={"class": "form-select", "data-search": "1"},
        )


class CompetitorForm(ServiceForm):
    name = forms.CharField(label=_("Name"), required=False, widget=forms.TextInput(attrs={"autofocus": True}))
    website = forms.CharField(label=_("Website"), required=False)
    products = forms.CharField(label=_("Products"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    price_currency = forms.CharField(label=_("Price currency"), required=False)
    price_min = forms.CharField(label=_("Lowest price"), required=False)
    price_max = forms.CharField(label=_("Highest price"), required=False)
    price_notes = forms.CharField(
        label=_("Price notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Terms, MOQ, Incoterm, where the prices were seen."),
    )

    def __init__(self, *args, competitor: Competitor | None = None, **kwargs):
        if competitor is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": competitor.name,
                "website": competitor.website,
                "products": competitor.products,
                "price_currency": competitor.price_currency,
                "price_notes": competitor.price_notes,
                "price_min": "" if competitor.price_min is None else str(competitor.price_min),
                "price_max": "" if competitor.price_max is None else str(competitor.price_max),
                "version": competitor.version,
            }
        super().__init__(*args, **kwargs)
        lang = get_language() or "en"
        self.fields["price_currency"].widget = forms.Select(
            choices=BLANK + geo.currency_choices(lang), attrs={"class": "form-select", "data-search": "1"}
        )
