"""HTML forms for the customer archive.

The forms only carry raw values: every rule lives in `validation.py` and runs inside the services.
A view calls the service and hands its ValidationError to `apply_errors`, which puts each message
on its field. So the browser, the API and the importer give the same messages.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tradecrm.accounts.access import visible_team_ids
from tradecrm.core import geo
from tradecrm.core.phones import display_phone

from .models import (
    BusinessType,
    Company,
    CompanySize,
    Contact,
    CreditRating,
    PurchaseBand,
    Seniority,
    Source,
    Status,
    Tag,
)
from .selectors import tags_for_user
from .widgets import FastSelect

BLANK = [("", "—")]


def _label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


def _text(model, name: str, widget=None, **kw) -> forms.CharField:
    return forms.CharField(
        label=kw.pop("label", None) or _label(model, name),
        required=False,
        strip=True,
        widget=widget or forms.TextInput,
        **kw,
    )


def _select(model, name: str, choices=(), multiple: bool = False, **kw) -> forms.Field:
    widget = FastSelect(choices=choices, multiple=multiple)
    field_cls = MultiValueField if multiple else forms.CharField
    return field_cls(label=kw.pop("label", None) or _label(model, name), required=False, widget=widget, **kw)


class MultiValueField(forms.Field):
    """A list of raw strings; the service decides which are valid."""

    def to_python(self, value):
        if not value:
            return []
        return [str(v) for v in (value if isinstance(value, list | tuple) else [value])]


class ServiceForm(forms.Form):
    """A form whose validation is done by a service; see `apply_errors`."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    sections: list[tuple[object, list[str]]] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            w = field.widget
            if isinstance(w, forms.HiddenInput):
                continue
            base = (
                "form-check-input"
                if isinstance(w, forms.CheckboxInput)
                else ("form-select" if isinstance(w, forms.Select) else "form-control")
            )
            w.attrs["class"] = base

    def apply_errors(self, exc: ValidationError) -> None:
        """Put a service's ValidationError({field: [messages]}) onto the form's fields."""
        if hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, exc.messages)
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["class"] += " is-invalid"

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data

    def grouped(self):
        for title, names in self.sections:
            yield title, [self[n] for n in names if n in self.fields]


def _user_choices(users) -> list[tuple[str, str]]:
    return [(str(u.pk), str(u)) for u in users]


def assignable_users(user, extra_ids=()):
    """Users this user may pick as owner or follower: everyone for an admin, the teams a manager
    manages, the own team for sales; plus `extra_ids` (current values) so saving keeps them."""
    qs = get_user_model().objects.filter(is_active=True)
    if not user.is_admin:
        team_ids = list(visible_team_ids(user) or [])
        if user.team_id:
            team_ids.append(user.team_id)
        qs = qs.filter(Q(team_id__in=team_ids) | Q(pk=user.pk) | Q(pk__in=list(extra_ids)))
    return list(qs.only("id", "username", "first_name", "last_name").order_by("first_name", "username"))


class CompanyForm(ServiceForm):
    name = _text(Company, "name", widget=forms.TextInput(attrs={"autofocus": True}))
    name_local = _text(Company, "name_local")
    business_type = _select(Company, "business_type", BLANK + BusinessType.choices)
    industry = _text(Company, "industry")
    tax_id = _text(Company, "tax_id", help_text=_("Checked against the country's format when it is known."))
    company_size = _select(Company, "company_size", BLANK + CompanySize.choices)
    annual_purchase = _select(Company, "annual_purchase", BLANK + PurchaseBand.choices)
    status = _select(Company, "status", Status.choices)
    credit_rating = _select(Company, "credit_rating", CreditRating.choices)
    country = _select(Company, "country")
    city = _text(Company, "city")
    address = _text(Company, "address", widget=forms.Textarea(attrs={"rows": 2}))
    timezone = _select(
        Company, "timezone", help_text=_("Leave empty to infer it from the country, city or phone.")
    )
    office_start = _text(Company, "office_start", widget=forms.TimeInput(attrs={"type": "time"}))
    office_end = _text(Company, "office_end", widget=forms.TimeInput(attrs={"type": "time"}))
    website = _text(Company, "website")
    email = _text(Company, "email", widget=forms.EmailInput)
    email_domains = _text(Company, "email_domains", help_text=_("Separate several with commas."))
    phones = _text(
        Company,
        "phones",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line: with +country code, or in the local format of the country."),
    )
    main_products = _text(Company, "main_products", widget=forms.Textarea(attrs={"rows": 2}))
    hs_codes = _text(Company, "hs_codes", help_text=_("4 to 10 digits each, separated by commas."))
    currency = _select(Company, "currency")
    preferred_language = _select(Company, "preferred_language")
    source = _select(Company, "source", BLANK + Source.choices)
    source_detail = _text(Company, "source_detail")
    cooperation_since = _text(Company, "cooperation_since", widget=forms.DateInput(attrs={"type": "date"}))
    owner = _select(Company, "owner")
    followers = _select(Company, "followers", multiple=True, label=_("Followers"))
    tags = _select(Company, "tags", multiple=True, label=_("Tags"))
    notes = _text(Company, "notes", widget=forms.Textarea(attrs={"rows": 3}))

    sections = [
        (
            _("Company"),
            [
                "name",
                "name_local",
                "business_type",
                "industry",
                "tax_id",
                "company_size",
                "annual_purchase",
                "status",
                "credit_rating",
            ],
        ),
        (
            _("Location and contact"),
            [
                "country",
                "city",
                "address",
                "timezone",
                "office_start",
                "office_end",
                "website",
                "email",
                "email_domains",
                "phones",
            ],
        ),
        (
            _("Trade"),
            [
                "main_products",
                "hs_codes",
                "currency",
                "preferred_language",
                "source",
                "source_detail",
                "cooperation_since",
            ],
        ),
        (_("Ownership"), ["owner", "followers", "tags", "notes"]),
    ]

    def __init__(self, *args, user, company: Company | None = None, **kwargs):
        saved = company is not None and company.pk
        follower_ids = list(company.followers.values_list("pk", flat=True)) if saved else []
        current_tags = list(company.tags.values_list("pk", flat=True)) if saved else []
        if company is not None and "initial" not in kwargs:
            kwargs["initial"] = company_initial(company, follower_ids, current_tags)
        super().__init__(*args, **kwargs)
        lang = get_language() or "en"
        geo_selects = {
            "country": (BLANK + geo.country_choices(lang), ("country", lang)),
            "currency": (BLANK + geo.currency_choices(lang), ("currency", lang)),
            "timezone": (BLANK + [(z, z.replace("_", " ")) for z in sorted(geo.timezone_names())], ("tz",)),
            "preferred_language": (BLANK + geo.language_choices(lang), ("lang", lang)),
        }
        for name, (choices, key) in geo_selects.items():
            w = self.fields[name].widget
            w.choices, w.cache_key = choices, key
            w.attrs["data-search"] = "1"
        owner_id = company.owner_id if company is not None else None
        people = assignable_users(user, [*follower_ids, *([owner_id] if owner_id else [])])
        self.fields["followers"].widget.choices = _user_choices(people)
        self.fields["followers"].widget.attrs["data-search"] = "1"
        if user.is_admin or user.is_manager:
            self.fields["owner"].widget.choices = _user_choices(people)
            if company is None:
                self.initial.setdefault("owner", str(user.pk))
        else:
            del self.fields["owner"]  # sales own what they create; reassigning is a manager's call
        tags = Tag.objects.filter(
            Q(pk__in=tags_for_user(user).values("pk")) | Q(pk__in=current_tags)
        ).order_by("name")
        self.fields["tags"].widget.choices = [(str(t.pk), t.name) for t in tags]
        self.fields["tags"].widget.attrs["data-search"] = "1"
        if company is None:
            self.initial.setdefault("status", Status.LEAD)
        self._user, self._company = user, company

    def clean(self):
        """The duplicate policy of the web form (TRADECRM_DEDUP_POLICY["form"]): "block" refuses a
        likely duplicate of an existing customer; "warn" shows it while typing and lets the user save."""
        data = super().clean()
        from tradecrm.dedup.selectors import check_company, likely_duplicates, policy_for

        if policy_for("form") == "block" and data.get("name") and not self.errors:
            values = {f: data.get(f) for f in ("name", "name_local", "country", "email", "website", "tax_id")}
            values["phones"] = data.get("phones") or ""
            exclude = self._company.pk if self._company is not None else None
            found = likely_duplicates(check_company(self._user, values, exclude_id=exclude))
            if found:
                names = ", ".join(c["name"] for c in found[:3])
                self.add_error(
                    None, _("A customer like this is already in the archive: %(names)s.") % {"names": names}
                )
        return data


def company_initial(c: Company, follower_ids: list[int], tag_ids: list[int]) -> dict:
    simple = [
        "name",
        "name_local",
        "business_type",
        "industry",
        "tax_id",
        "company_size",
        "annual_purchase",
        "status",
        "credit_rating",
        "country",
        "city",
        "address",
        "timezone",
        "website",
        "email",
        "main_products",
        "currency",
        "preferred_language",
        "source",
        "source_detail",
        "notes",
    ]
    data = {n: getattr(c, n) for n in simple}
    data.update(
        office_start=c.office_start.strftime("%H:%M") if c.office_start else "",
        office_end=c.office_end.strftime("%H:%M") if c.office_end else "",
        cooperation_since=c.cooperation_since.isoformat() if c.cooperation_since else "",
        email_domains=", ".join(c.email_domains),
        hs_codes=", ".join(c.hs_codes),
        phones="\n".join(display_phone(p) for p in c.phones),
        owner=str(c.owner_id or ""),
        followers=[str(i) for i in follower_ids],
        tags=[str(i) for i in tag_ids],
        version=c.version,
    )
    return data


class ContactForm(ServiceForm):
    first_name = _text(Contact, "first_name")
    last_name = _text(Contact, "last_name")
    name_local = _text(Contact, "name_local")
    title = _text(Contact, "title")
    seniority = _select(Contact, "seniority", BLANK + Seniority.choices)
    is_primary = forms.BooleanField(label=_label(Contact, "is_primary"), required=False)
    emails = _text(Contact, "emails", widget=forms.Textarea(attrs={"rows": 2}), help_text=_("One per line."))
    phones = _text(
        Contact,
        "phones",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line: with +country code, or in the local format of the company's country."),
    )
    whatsapp = _text(Contact, "whatsapp")
    wechat = _text(Contact, "wechat")
    linkedin = _text(Contact, "linkedin")
    skype = _text(Contact, "skype")
    birthday = _text(Contact, "birthday", widget=forms.DateInput(attrs={"type": "date"}))
    preferred_language = _select(Contact, "preferred_language")
    notes = _text(Contact, "notes", widget=forms.Textarea(attrs={"rows": 3}))

    sections = [
        (
            _("Person"),
            [
                "first_name",
                "last_name",
                "name_local",
                "title",
                "seniority",
                "is_primary",
                "preferred_language",
                "birthday",
            ],
        ),
        (_("Reach"), ["emails", "phones", "whatsapp", "wechat", "linkedin", "skype", "notes"]),
    ]

    def __init__(self, *args, contact: Contact | None = None, **kwargs):
        if contact is not None and "initial" not in kwargs:
            kwargs["initial"] = contact_initial(contact)
        super().__init__(*args, **kwargs)
        lang = get_language() or "en"
        w = self.fields["preferred_language"].widget
        w.choices, w.cache_key = BLANK + geo.language_choices(lang), ("lang", lang)


def contact_initial(c: Contact) -> dict:
    simple = [
        "first_name",
        "last_name",
        "name_local",
        "title",
        "seniority",
        "is_primary",
        "whatsapp",
        "wechat",
        "linkedin",
        "skype",
        "preferred_language",
        "notes",
    ]
    data = {n: getattr(c, n) for n in simple}
    data.update(
        emails="\n".join(c.emails),
        phones="\n".join(display_phone(p) for p in c.phones),
        whatsapp=display_phone(c.whatsapp) if c.whatsapp.startswith("+") else c.whatsapp,
        birthday=c.birthday.isoformat() if c.birthday else "",
        version=c.version,
    )
    return data


class TagForm(ServiceForm):
    name = _text(Tag, "name", widget=forms.TextInput(attrs={"autofocus": True, "maxlength": 50}))
    color = _text(Tag, "color", widget=forms.TextInput(attrs={"type": "color"}))
    shared = forms.BooleanField(label=_("Shared by all teams"), required=False)

    def __init__(self, *args, user, tag: Tag | None = None, **kwargs):
        if tag is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": tag.name, "color": tag.color, "version": tag.version}
        super().__init__(*args, **kwargs)
        self.initial.setdefault("color", "#206bc4")
        self.fields["color"].widget.attrs["class"] = "form-control form-control-color"
        if tag is not None or not user.is_admin:
            del self.fields["shared"]
