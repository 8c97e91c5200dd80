"""Field validation shared by the web forms, the API, the CLI and (later) the importer.

`clean_company` / `clean_contact` / `clean_tag` take raw values (strings from a form, typed values
from JSON) and return clean ones, or raise ValidationError({field: [messages]}) naming every bad
field at once, in the user's language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tradecrm.accounts.access import tag_visibility_q, visible_team_ids
from tradecrm.core import geo
from tradecrm.core.emails import normalize_domain, normalize_email
from tradecrm.core.errors import Errors
from tradecrm.core.ids import parse_id
from tradecrm.core.phones import normalize_phone

from .models import BusinessType, CompanySize, CreditRating, PurchaseBand, Seniority, Source, Status, Tag

_SPLIT = re.compile(r"[,;\n\r]+")
_HS = re.compile(r"^\d{4,10}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

COMPANY_TEXT_LIMITS = {
    "name": 255,
    "name_local": 255,
    "city": 120,
    "address": 5000,
    "website": 255,
    "industry": 120,
    "main_products": 5000,
    "source_detail": 255,
    "notes": 20000,
}
CONTACT_TEXT_LIMITS = {
    "first_name": 120,
    "last_name": 120,
    "name_local": 120,
    "title": 120,
    "whatsapp": 32,
    "wechat": 64,
    "linkedin": 255,
    "skype": 64,
    "notes": 20000,
}


def as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: Iterable = _SPLIT.split(value)
    elif isinstance(value, list | tuple):
        items = value
    else:
        items = [value]
    return [str(v).strip() for v in items if str(v).strip()]


def _text(data: dict, errors: Errors, field: str, limit: int, out: dict) -> None:
    if field not in data:
        return
    value = data[field]
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, _("Enter text."))
        return
    value = value.strip()
    if len(value) > limit:
        errors.add(
            field,
            _("At most %(limit)d characters (this has %(length)d).") % {"limit": limit, "length": len(value)},
        )
        return
    out[field] = value


def _choice(data: dict, errors: Errors, field: str, choices, out: dict) -> None:
    if field not in data:
        return
    value = data[field] if data[field] is not None else ""
    valid = {str(c[0]) for c in choices}
    if str(value) not in valid:
        errors.add(field, _("“%(value)s” is not one of the available choices.") % {"value": value})
        return
    out[field] = str(value)


def _code(
    data: dict,
    errors: Errors,
    field: str,
    valid: frozenset[str] | set[str],
    upper: bool,
    message: str,
    out: dict,
) -> None:
    if field not in data:
        return
    value = data[field] or ""
    if not isinstance(value, str):
        errors.add(field, _("Enter text."))
        return
    value = value.strip()
    value = value.upper() if upper else value
    if value and value not in valid:
        errors.add(field, message % {"value": value})
        return
    out[field] = value


def _date(data: dict, errors: Errors, field: str, out: dict, *, not_future: bool = True) -> None:
    if field not in data:
        return
    value = data[field]
    if value in (None, ""):
        out[field] = None
        return
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            errors.add(field, _("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": value})
            return
    if not isinstance(value, dt.date):
        errors.add(field, _("Enter a date."))
        return
    if not_future and value > timezone.localdate():
        errors.add(field, _("This date is in the future."))
        return
    out[field] = value


def _time(data: dict, errors: Errors, field: str, out: dict) -> None:
    if field not in data:
        return
    value = data[field]
    if value in (None, ""):
        out[field] = None
        return
    if isinstance(value, str):
        try:
            value = dt.time.fromisoformat(value.strip())
        except ValueError:
            errors.add(field, _("“%(value)s” is not a time of day (use HH:MM).") % {"value": value})
            return
    if not isinstance(value, dt.time):
        errors.add(field, _("Enter a time of day."))
        return
    out[field] = value


def _each(
    data: dict, errors: Errors, field: str, fn: Callable[[str], str], out: dict, limit: int = 20
) -> None:
    if field not in data:
        return
    items = as_list(data[field])
    if len(items) > limit:
        errors.add(field, _("At most %(limit)d entries.") % {"limit": limit})
        return
    clean: list[str] = []
    for item in items:
        try:
            value = fn(item)
        except ValidationError as exc:
            for m in exc.messages:
                errors.add(field, m)
            continue
        if value and value not in clean:
            clean.append(value)
    out[field] = clean


def _hs_code(raw: str) -> str:
    digits = raw.replace(".", "").replace(" ", "")
    if not _HS.match(digits):
        raise ValidationError(_("“%(value)s” is not an HS code (4 to 10 digits).") % {"value": raw})
    return digits


def _website(raw: str) -> str:
    url = raw if "://" in raw else f"https://{raw}"
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(_("“%(value)s” is not a web address.") % {"value": raw}) from None
    return url


def _users(data: dict, errors: Errors, field: str, out: dict) -> None:
    if field not in data:
        return
    raw = data[field]
    parsed = [parse_id(i) for i in (as_list(raw) if not isinstance(raw, list) else raw)]
    if None in parsed:
        errors.add(field, _("Enter user ids."))
        return
    ids = sorted(set(parsed))
    found = set(get_user_model().objects.filter(id__in=ids, is_active=True).values_list("id", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        errors.add(field, _("No active user with id %(ids)s.") % {"ids": ", ".join(map(str, missing))})
        return
    out[field] = ids


def _tax_id(data: dict, errors: Errors, out: dict, *, country: str) -> None:
    """A tax / VAT number, checked with python-stdnum when the country has a known format and
    stored in its compact form (DE 136.695.976 → DE136695976)."""
    from tradecrm.dedup.normalize import normalize_tax_id, tax_id_checkable

    raw = data["tax_id"]
    if raw in (None, ""):
        out["tax_id"] = ""
        return
    if not isinstance(raw, str):
        errors.add("tax_id", _("Enter text."))
        return
    raw = raw.strip()
    if len(raw) > 40:
        errors.add(
            "tax_id",
            _("At most %(limit)d characters (this has %(length)d).") % {"limit": 40, "length": len(raw)},
        )
        return
    compact, valid = normalize_tax_id(raw, country)
    if country and tax_id_checkable(country):
        if not valid:
            errors.add(
                "tax_id",
                _(
                    "“%(value)s” is not a valid tax / VAT number for %(country)s (check the digits and the format)."
                )
                % {"value": raw, "country": geo.country_name(country, get_language() or "en")},
            )
            return
        out["tax_id"] = compact
        return
    out["tax_id"] = raw


def assignable_owner_error(actor, owner) -> str | None:
    """Sales may own their customers themselves only; managers assign within their teams."""
    if actor.is_admin or owner.id == actor.id:
        return None
    if actor.is_manager and owner.team_id in (visible_team_ids(actor) or []):
        return None
    return _("You may not assign customers to %(user)s.") % {"user": owner}


def clean_company(data: dict, *, actor, partial: bool = False, region: str = "") -> dict:
    """`region` is the country already on record, used to read phones when `data` has none."""
    errors = Errors()
    out: dict[str, Any] = {}
    if not partial or "name" in data:
        if not str(data.get("name") or "").strip():
            errors.add("name", _("The company name is required."))
    for field, limit in COMPANY_TEXT_LIMITS.items():
        _text(data, errors, field, limit, out)
    _code(
        data,
        errors,
        "country",
        geo.country_codes(),
        True,
        _("Unknown country code “%(value)s” (use ISO 3166 alpha-2, e.g. DE)."),
        out,
    )
    _code(
        data,
        errors,
        "currency",
        geo.currency_codes(),
        True,
        _("Unknown currency code “%(value)s” (use ISO 4217, e.g. USD)."),
        out,
    )
    _code(
        data,
        errors,
        "timezone",
        geo.timezone_names(),
        False,
        _("Unknown time zone “%(value)s” (use an IANA name, e.g. Europe/Berlin)."),
        out,
    )
    _code(
        data,
        errors,
        "preferred_language",
        set(geo.LANGUAGE_CODES),
        False,
        _("Unknown language code “%(value)s”."),
        out,
    )
    _choice(data, errors, "business_type", [("", "")] + BusinessType.choices, out)
    _choice(data, errors, "company_size", [("", "")] + CompanySize.choices, out)
    _choice(data, errors, "annual_purchase", [("", "")] + PurchaseBand.choices, out)
    _choice(data, errors, "source", [("", "")] + Source.choices, out)
    _choice(data, errors, "credit_rating", CreditRating.choices, out)
    if not partial or "status" in data:
        _choice({"status": data.get("status") or Status.LEAD}, errors, "status", Status.choices, out)
    _date(data, errors, "cooperation_since", out)
    _time(data, errors, "office_start", out)
    _time(data, errors, "office_end", out)
    if out.get("office_start") and out.get("office_end") and out["office_start"] >= out["office_end"]:
        errors.add("office_end", _("The office must close after it opens."))
    if "email" in data:
        try:
            out["email"] = normalize_email(str(data["email"] or ""))
        except ValidationError as exc:
            errors.add("email", exc.messages[0])
    if "website" in data and out.get("website"):
        try:
            out["website"] = _website(out["website"])
        except ValidationError as exc:
            errors.add("website", exc.messages[0])
    region = out["country"] if "country" in out else ("" if "country" in data else region)
    _each(data, errors, "phones", lambda v: normalize_phone(v, region), out)
    _each(data, errors, "email_domains", normalize_domain, out)
    _each(data, errors, "hs_codes", _hs_code, out, limit=50)
    if "tax_id" in data:
        _tax_id(data, errors, out, country=out["country"] if "country" in out else region)
    _users(data, errors, "followers", out)
    if "tags" in data:
        out["tags"] = clean_tag_ids(data["tags"], actor=actor, errors=errors)
    if "owner" in data and data["owner"] not in (None, ""):
        try:
            owner = get_user_model().objects.get(pk=parse_id(data["owner"]) or 0, is_active=True)
        except get_user_model().DoesNotExist:
            errors.add("owner", _("No active user with id %(ids)s.") % {"ids": data["owner"]})
        else:
            msg = assignable_owner_error(actor, owner)
            if msg:
                errors.add("owner", msg)
            else:
                out["owner"] = owner
    errors.raise_if_any()
    return out


def clean_tag_ids(raw, *, actor, errors: Errors) -> list[int]:
    parsed = [parse_id(i) for i in (as_list(raw) if not isinstance(raw, list) else raw)]
    if None in parsed:
        errors.add("tags", _("Enter tag ids."))
        return []
    ids = sorted(set(parsed))
    qs = Tag.objects.filter(id__in=ids)
    q = tag_visibility_q(actor)
    if q is not None:
        qs = qs.filter(q)
    found = set(qs.values_list("id", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        errors.add("tags", _("No tag with id %(ids)s.") % {"ids": ", ".join(map(str, missing))})
    return [i for i in ids if i in found]


def clean_contact(data: dict, *, region: str = "", partial: bool = False) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    for field, limit in CONTACT_TEXT_LIMITS.items():
        _text(data, errors, field, limit, out)
    if not partial or {"first_name", "last_name", "name_local"} & data.keys():
        names = [str(data.get(f) or "").strip() for f in ("first_name", "last_name", "name_local")]
        if not any(names):
            errors.add("first_name", _("Enter at least a first name, a last name or a name in local script."))
    _choice(data, errors, "seniority", [("", "")] + Seniority.choices, out)
    _code(
        data,
        errors,
        "preferred_language",
        set(geo.LANGUAGE_CODES),
        False,
        _("Unknown language code “%(value)s”."),
        out,
    )
    _date(data, errors, "birthday", out)
    _each(data, errors, "emails", normalize_email, out)
    _each(data, errors, "phones", lambda v: normalize_phone(v, region), out)
    if out.get("whatsapp"):
        try:
            out["whatsapp"] = normalize_phone(out["whatsapp"], region)
        except ValidationError as exc:
            errors.add("whatsapp", exc.messages[0])
    if "is_primary" in data:
        value = data["is_primary"]
        if isinstance(value, str):
            value = value.lower() in ("1", "true", "on", "yes")
        out["is_primary"] = bool(value)
    errors.raise_if_any()
    return out


def clean_tag(data: dict, *, partial: bool = False) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    if not partial or "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            errors.add("name", _("The tag name is required."))
        elif len(name) > 50:
            errors.add(
                "name",
                _("At most %(limit)d characters (this has %(length)d).") % {"limit": 50, "length": len(name)},
            )
        else:
            out["name"] = name
    if "color" in data:
        color = str(data.get("color") or "").strip()
        if not _COLOR.match(color):
            errors.add("color", _("“%(value)s” is not a colour (use #RRGGBB).") % {"value": color})
        else:
            out["color"] = color.lower()
    errors.raise_if_any()
    return out
