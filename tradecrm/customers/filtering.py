"""The customer list's filters as data: read from a query string (the list page, the export, the
API) or from a saved segment's JSON, validated with one message per bad filter.

One vocabulary everywhere, so a segment's JSON is the list page's query string:

    q              free text (name, email, phone …)
    country        ISO alpha-2 code
    owner          user id
    tag            tag ids (any of them)
    source, status, business_type   the Company choices
    tier           a grading tier code (the customer's current tier)
    product        product ids (bought in an order that was not cancelled; any of them)
    hs             HS code or its start, digits only (the customer's HS codes of interest, its order
                   lines, its customs records)
    contact_after  last contact on or after this date (YYYY-MM-DD, in the viewer's time zone)
    contact_before last contact before this date, or never contacted
    sort           the list's sort order
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from tradecrm.core import geo
from tradecrm.core.ids import parse_id

from .models import BusinessType, Source, Status

FILTER_KEYS = (
    "q", "country", "owner", "tag", "source", "status", "business_type", "tier", "product", "hs",
    "contact_after", "contact_before", "sort",
)  # fmt: skip
LIST_KEYS = frozenset({"tag", "product"})
MAX_LIST = 50  # tags or products in one filter


def _as_list(value: Any) -> list:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def normalise_hs(value: str) -> str:
    """ "8471.30" / "8471 30" → "847130"; anything but digits is an error for the caller."""
    return "".join(ch for ch in str(value) if ch not in " .-")


class FilterReader:
    """Reads filter values, collecting one message per bad key ({key: [message]})."""

    def __init__(self, user, *, strict: bool):
        self.user = user
        self.strict = strict  # refuse unknown keys (segments and the API); the list page ignores them
        self.errors: dict[str, list[str]] = {}

    def error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    def read(self, raw: Mapping[str, Any]) -> dict:
        """The clean filters (only the ones given), as JSON-ready values."""
        from .selectors import COMPANY_SORTS

        if self.strict:
            for key in raw:
                if key not in FILTER_KEYS:
                    self.error(
                        str(key)[:40],
                        _("Unknown filter “%(key)s”; the filters are: %(keys)s.")
                        % {"key": str(key)[:40], "keys": ", ".join(FILTER_KEYS)},
                    )
        out: dict[str, Any] = {}
        for key in FILTER_KEYS:
            value = raw.get(key)
            if key in LIST_KEYS:
                value = [v for v in _as_list(value) if v not in (None, "")]
                if value:
                    out[key] = value
            elif value not in (None, "") and not isinstance(value, list | dict):
                out[key] = str(value).replace("\x00", "").strip()
            elif isinstance(value, list | dict):
                self.error(key, _("Enter a single value."))
        clean: dict[str, Any] = {}
        if out.get("q"):
            clean["q"] = out["q"][:200]
        if "country" in out:
            code = out["country"].upper()
            if code not in geo.country_codes():
                self.error("country", _("Enter a two-letter country code such as DE or CN."))
            else:
                clean["country"] = code
        if "owner" in out:
            self._owner(out["owner"], clean)
        for key, choices in (
            ("source", Source.choices),
            ("status", Status.choices),
            ("business_type", BusinessType.choices),
        ):
            if key in out:
                valid = [c[0] for c in choices if c[0]]
                if out[key] not in valid:
                    self.error(
                        key,
                        _("“%(value)s” is not one of the available choices: %(choices)s.")
                        % {"value": out[key][:40], "choices": ", ".join(valid)},
                    )
                else:
                    clean[key] = out[key]
        if "tier" in out:
            self._tier(out["tier"], clean)
        if "tag" in out:
            self._tags(out["tag"], clean)
        if "product" in out:
            self._products(out["product"], clean)
        if "hs" in out:
            hs = normalise_hs(out["hs"])
            if not hs.isascii() or not hs.isdigit() or not 2 <= len(hs) <= 10:
                self.error("hs", _("Enter an HS code or its start: 2 to 10 digits, e.g. 8471 or 847130."))
            else:
                clean["hs"] = hs
        for key in ("contact_after", "contact_before"):
            if key in out:
                try:
                    clean[key] = dt.date.fromisoformat(out[key][:10]).isoformat()
                    if len(out[key]) != 10:
                        raise ValueError(out[key])
                except ValueError:
                    clean.pop(key, None)
                    self.error(key, _("Enter a date as YYYY-MM-DD."))
        if (
            "contact_after" in clean
            and "contact_before" in clean
            and clean["contact_before"] <= clean["contact_after"]
        ):
            self.error(
                "contact_before", _("“Last contact before” must be later than “last contact on or after”.")
            )
        if "sort" in out:
            if out["sort"] not in COMPANY_SORTS:
                self.error(
                    "sort",
                    _("“%(value)s” is not one of the available choices: %(choices)s.")
                    % {"value": out["sort"][:40], "choices": ", ".join(COMPANY_SORTS)},
                )
            elif out["sort"] != "-updated_at":
                clean["sort"] = out["sort"]
        return clean

    def _ids(self, key: str, values: list) -> list[int]:
        if len(values) > MAX_LIST:
            self.error(key, _("At most %(limit)d values.") % {"limit": MAX_LIST})
            values = values[:MAX_LIST]
        ids = []
        for v in values:
            number = parse_id(v) if isinstance(v, int | str) else None
            if number is None:
                self.error(key, _("“%(value)s” is not an id.") % {"value": str(v)[:40]})
            elif number not in ids:
                ids.append(number)
        return ids

    def _owner(self, value: str, clean: dict) -> None:
        from tradecrm.accounts.models import User

        number = parse_id(value)
        if number is None:
            self.error("owner", _("“%(value)s” is not an id.") % {"value": value[:40]})
        elif not User.objects.filter(pk=number).exists():
            self.error("owner", _("There is no user with id %(id)s.") % {"id": number})
        else:
            clean["owner"] = number

    def _tier(self, value: str, clean: dict) -> None:
        from tradecrm.grading.models import Tier

        codes = list(Tier.objects.order_by("rank").values_list("code", flat=True))
        if value not in codes:
            self.error(
                "tier",
                _("There is no tier “%(value)s”; the tiers are: %(codes)s.")
                % {"value": value[:40], "codes": ", ".join(codes) or "—"},
            )
        else:
            clean["tier"] = value

    def _tags(self, values: list, clean: dict) -> None:
        from .selectors import tags_for_user

        ids = self._ids("tag", values)
        if not ids:
            return
        found = set(tags_for_user(self.user).filter(pk__in=ids).values_list("pk", flat=True))
        missing = [i for i in ids if i not in found]
        if missing:
            self.error("tag", _("There is no tag with id %(ids)s.") % {"ids": ", ".join(map(str, missing))})
        if found:
            clean["tag"] = [i for i in ids if i in found]

    def _products(self, values: list, clean: dict) -> None:
        from tradecrm.catalog.models import Product

        ids = self._ids("product", values)
        if not ids:
            return
        found = set(Product.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [i for i in ids if i not in found]
        if missing:
            self.error(
                "product", _("There is no product with id %(ids)s.") % {"ids": ", ".join(map(str, missing))}
            )
        if found:
            clean["product"] = [i for i in ids if i in found]


def read_filters(raw: Mapping[str, Any], user, *, strict: bool = True) -> tuple[dict, dict[str, list[str]]]:
    """(clean filters, errors by key)."""
    reader = FilterReader(user, strict=strict)
    clean = reader.read(raw)
    return clean, reader.errors


def query_dict(querydict) -> dict:
    """A request's GET as the reader wants it: lists for the list keys, one value for the rest."""
    out: dict[str, Any] = {}
    for key in querydict:
        if key in LIST_KEYS:
            out[key] = [v.replace("\x00", "") for v in querydict.getlist(key)]
        else:
            out[key] = querydict.get(key)
    return out


def to_company_filters(clean: dict, **extra):
    """The selector's dataclass from clean filters."""
    from .selectors import CompanyFilters

    return CompanyFilters(
        q=clean.get("q", ""),
        country=clean.get("country", ""),
        owner=clean.get("owner"),
        tags=list(clean.get("tag", [])),
        source=clean.get("source", ""),
        status=clean.get("status", ""),
        business_type=clean.get("business_type", ""),
        tier=clean.get("tier", ""),
        products=list(clean.get("product", [])),
        hs=clean.get("hs", ""),
        contact_after=dt.date.fromisoformat(clean["contact_after"]) if clean.get("contact_after") else None,
        contact_before=dt.date.fromisoformat(clean["contact_before"])
        if clean.get("contact_before")
        else None,
        sort=clean.get("sort", "-updated_at"),
        **extra,
    )


def merge(base: dict, override: dict) -> dict:
    """A segment's filters with a request's on top (a key given in the request wins)."""
    return {**base, **override}


def gives_filters(raw) -> bool:
    """Whether a request states the filters itself. The list's filter form always sends every
    field (empty ones too) and starts filled with the open segment's filters, so once it was
    submitted it is the whole truth; a bare "?segment=5" means the segment's own filters."""
    return any(key in raw for key in FILTER_KEYS if key != "sort")


def with_segment(segment_filters: dict | None, raw, clean: dict) -> dict:
    if segment_filters is None or gives_filters(raw):
        return clean
    return merge(segment_filters, clean)


EXPORT_KEYS = ("tier", "product", "hs", "contact_after", "contact_before")


def export_filters(p, base):
    """The companies export's filters: the list's basic ones already read by the export (`base`,
    a CompanyFilters), the smart-list ones, and `segment` (a segment id the user may see; 404
    otherwise) whose filters apply when the request states none of its own."""
    from .segment_selectors import segment_get_for_user

    raw_in = p.raw
    raw = query_dict(raw_in) if hasattr(raw_in, "getlist") else dict(raw_in)
    extra = {k: raw[k] for k in EXPORT_KEYS if k in raw}
    clean, errors = read_filters(extra, p.user, strict=False)
    for key, messages in errors.items():
        for message in messages:
            p.error(key, message)
    for key, value in clean.items():
        p.used[key] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    basics = {
        "q": base.q,
        "country": base.country,
        "owner": base.owner,
        "source": base.source,
        "status": base.status,
        "business_type": base.business_type,
        "tag": [base.tag] if base.tag else [],
    }
    clean.update({k: v for k, v in basics.items() if v})
    segment_id = p.id("segment")
    segment = segment_get_for_user(p.user, segment_id) if segment_id is not None else None
    return to_company_filters(with_segment(segment.filters if segment is not None else None, raw, clean))
