"""Writes of saved segments and market notes: one function per change, keyword-only, with the
actor, in one transaction with its audit event."""

from __future__ import annotations

import decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core import geo
from tradecrm.core.errors import ConcurrentEditError, Errors

from . import filtering
from .models import Competitor, MarketNote, SavedSegment
from .regions import REGIONS

MAX_TEXT = 20000
MAX_CERTIFICATIONS = 30


# --- segments ------------------------------------------------------------------------------------


def _text(errors: Errors, data: dict, key: str, limit: int, *, required: bool = False) -> str | None:
    if key not in data:
        return None
    value = data.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(key, _("Enter text."))
        return None
    value = value.replace("\x00", "").strip()
    if required and not value:
        errors.add(key, _("This field is required."))
    elif len(value) > limit:
        errors.add(
            key,
            _("At most %(limit)d characters (this has %(length)d).") % {"limit": limit, "length": len(value)},
        )
    return value


def clean_segment(data: dict, *, actor, partial: bool = False) -> dict:
    """Name, description, shared and the filters; every bad one named ("filters.tier" …)."""
    errors = Errors()
    clean: dict[str, Any] = {}
    if not partial and "name" not in data:
        errors.add("name", _("This field is required."))
    name = _text(errors, data, "name", 100, required=True)
    if name is not None:
        clean["name"] = name
    description = _text(errors, data, "description", 255)
    if description is not None:
        clean["description"] = description
    if "shared" in data:
        if not isinstance(data["shared"], bool):
            errors.add("shared", _("Enter true or false."))
        else:
            clean["shared"] = data["shared"]
    if "filters" in data or not partial:
        raw = data.get("filters") or {}
        if not isinstance(raw, dict):
            errors.add("filters", _("Enter a JSON object of filters."))
        else:
            filters, bad = filtering.read_filters(raw, actor, strict=True)
            for key, messages in bad.items():
                for message in messages:
                    errors.add(f"filters.{key}", message)
            clean["filters"] = filters
    errors.raise_if_any()
    return clean


def _check_name_free(owner_id: int, name: str, exclude: int | None = None) -> None:
    qs = SavedSegment.objects.filter(owner_id=owner_id, name__iexact=name)
    if exclude:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise filtering_error("name", _("You already have a segment named “%(name)s”.") % {"name": name})


def filtering_error(field: str, message: str):
    from django.core.exceptions import ValidationError

    return ValidationError({field: [message]})


def _check_segment_editable(actor, segment: SavedSegment) -> None:
    if not (actor.is_admin or segment.owner_id == actor.id):
        raise PermissionDenied(_("Only the owner of a segment or an administrator may change it."))


@transaction.atomic
def segment_create(*, actor, data: dict) -> SavedSegment:
    clean = clean_segment(data, actor=actor)
    _check_name_free(actor.pk, clean["name"])
    shared = clean.get("shared", False)
    segment = SavedSegment.objects.create(
        name=clean["name"],
        description=clean.get("description", ""),
        owner=actor,
        shared=shared,
        team_id=actor.team_id if shared else None,
        filters=clean["filters"],
    )
    audit_record(
        actor=actor,
        action="segment.create",
        obj=segment,
        changes={"name": segment.name, "shared": shared, "filters": segment.filters},
    )
    return segment


@transaction.atomic
def segment_update(*, actor, segment: SavedSegment, version: int, data: dict) -> SavedSegment:
    _check_segment_editable(actor, segment)
    clean = clean_segment(data, actor=actor, partial=True)
    if "name" in clean:
        _check_name_free(segment.owner_id, clean["name"], exclude=segment.pk)
    fields = dict(clean)
    if "shared" in clean:
        # Sharing goes to the owner's current team.
        fields["team_id"] = segment.owner.team_id if clean["shared"] else None
    now = timezone.now()
    if not SavedSegment.objects.filter(pk=segment.pk, version=version).update(
        **fields, version=F("version") + 1, updated_at=now
    ):
        current = SavedSegment.objects.get(pk=segment.pk)
        raise ConcurrentEditError(by="?", at=current.updated_at, current_version=current.version)
    before = {k: getattr(segment, k) for k in fields}
    for k, v in fields.items():
        setattr(segment, k, v)
    segment.version = version + 1
    segment.updated_at = now
    audit_record(
        actor=actor,
        action="segment.update",
        obj=segment,
        changes={k: [before[k], v] for k, v in fields.items() if before[k] != v},
    )
    return segment


@transaction.atomic
def segment_delete(*, actor, segment: SavedSegment) -> None:
    _check_segment_editable(actor, segment)
    audit_record(actor=actor, action="segment.delete", obj=segment, changes={"name": segment.name})
    segment.delete()


# --- markets -------------------------------------------------------------------------------------


def can_edit_markets(user) -> bool:
    return bool(user.is_admin or user.is_manager)


def _check_markets_editable(actor) -> None:
    if not can_edit_markets(actor):
        raise PermissionDenied(_("Only managers and administrators may change market notes."))


def _certifications(errors: Errors, value) -> list[str] | None:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list | tuple):
        errors.add("certifications", _("Enter a list."))
        return None
    out: list[str] = []
    for i, item in enumerate(value, start=1):
        if not isinstance(item, str):
            errors.add("certifications", _("Item %(n)d: enter text.") % {"n": i})
            continue
        item = item.replace("\x00", "").strip()
        if not item:
            continue
        if len(item) > 200:
            errors.add("certifications", _("Item %(n)d: at most 200 characters.") % {"n": i})
        elif item not in out:
            out.append(item)
    if len(out) > MAX_CERTIFICATIONS:
        errors.add("certifications", _("At most %(limit)d certifications.") % {"limit": MAX_CERTIFICATIONS})
    return out


def clean_market(data: dict, *, partial: bool = False) -> dict:
    errors = Errors()
    clean: dict[str, Any] = {}
    if "code" in data or not partial:
        code = data.get("code")
        code = code.strip().upper() if isinstance(code, str) else ""
        if not code:
            errors.add("code", _("This field is required."))
        elif code not in REGIONS and code not in geo.country_codes():
            errors.add(
                "code",
                _("“%(code)s” is neither a two-letter country code (DE) nor a region: %(regions)s.")
                % {"code": code[:20], "regions": ", ".join(REGIONS)},
            )
        else:
            clean["code"] = code
    for key in ("notes", "regulations"):
        value = _text(errors, data, key, MAX_TEXT)
        if value is not None:
            clean[key] = value
    if "certifications" in data:
        certs = _certifications(errors, data["certifications"])
        if certs is not None:
            clean["certifications"] = certs
    errors.raise_if_any()
    return clean


def _check_code_free(code: str, exclude: int | None = None) -> None:
    qs = MarketNote.objects.filter(code=code)
    if exclude:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise filtering_error("code", _("There is a note for the market %(code)s already.") % {"code": code})


@transaction.atomic
def market_create(*, actor, data: dict) -> MarketNote:
    _check_markets_editable(actor)
    clean = clean_market(data)
    _check_code_free(clean["code"])
    market = MarketNote.objects.create(**clean, updated_by=actor)
    audit_record(actor=actor, action="market.create", obj=market, changes={"code": market.code})
    return market


@transaction.atomic
def market_update(*, actor, market: MarketNote, version: int, data: dict) -> MarketNote:
    _check_markets_editable(actor)
    clean = clean_market(data, partial=True)
    if "code" in clean:
        _check_code_free(clean["code"], exclude=market.pk)
    now = timezone.now()
    if not MarketNote.objects.filter(pk=market.pk, version=version).update(
        **clean, version=F("version") + 1, updated_at=now, updated_by=actor
    ):
        current = MarketNote.objects.select_related("updated_by").get(pk=market.pk)
        raise ConcurrentEditError(
            by=str(current.updated_by or "?"), at=current.updated_at, current_version=current.version
        )
    changed = {k: v for k, v in clean.items() if getattr(market, k) != v}
    for k, v in clean.items():
        setattr(market, k, v)
    market.version, market.updated_at, market.updated_by = version + 1, now, actor
    audit_record(
        actor=actor,
        action="market.update",
        obj=market,
        changes={k: "…" if k in ("notes", "regulations") else v for k, v in changed.items()},
    )
    return market


@transaction.atomic
def market_delete(*, actor, market: MarketNote) -> None:
    _check_markets_editable(actor)
    audit_record(actor=actor, action="market.delete", obj=market, changes={"code": market.code})
    market.delete()


def _price(errors: Errors, data: dict, key: str) -> tuple[bool, decimal.Decimal | None]:
    if key not in data:
        return False, None
    value = data[key]
    if value is None or (isinstance(value, str) and not value.strip()):
        return True, None
    try:
        amount = decimal.Decimal(str(value).strip().replace(",", ""))
        if not amount.is_finite():
            raise decimal.InvalidOperation
    except (decimal.InvalidOperation, ValueError):
        errors.add(key, _("Enter a number."))
        return False, None
    if amount < 0:
        errors.add(key, _("A price cannot be negative."))
        return False, None
    if amount >= 10**12:
        errors.add(key, _("Enter a number below 1,000,000,000,000."))
        return False, None
    return True, amount.quantize(decimal.Decimal("0.01"))


def clean_competitor(data: dict, *, current: Competitor | None = None) -> dict:
    errors = Errors()
    clean: dict[str, Any] = {}
    if current is None and "name" not in data:
        errors.add("name", _("This field is required."))
    for key, limit, required in (
        ("name", 200, True),
        ("website", 255, False),
        ("products", MAX_TEXT, False),
        ("price_notes", MAX_TEXT, False),
    ):
        value = _text(errors, data, key, limit, required=required)
        if value is not None:
            clean[key] = value
    if "price_currency" in data:
        ccy = data.get("price_currency") or ""
        ccy = ccy.strip().upper() if isinstance(ccy, str) else None
        if ccy is None or (ccy and ccy not in geo.currency_codes()):
            errors.add("price_currency", _("Enter a three-letter currency code such as USD or EUR."))
        else:
            clean["price_currency"] = ccy
    for key in ("price_min", "price_max"):
        given, amount = _price(errors, data, key)
        if given:
            clean[key] = amount
    if not errors.by_field:
        merged = {
            k: getattr(current, k) if current is not None else None
            for k in ("price_currency", "price_min", "price_max")
        }
        merged.update({k: v for k, v in clean.items() if k in merged})
        lo, hi = merged["price_min"], merged["price_max"]
        if lo is not None and hi is not None and lo > hi:
            errors.add("price_max", _("The highest price must not be below the lowest price."))
        if (lo is not None or hi is not None) and not merged["price_currency"]:
            errors.add("price_currency", _("Give the currency of the prices."))
    errors.raise_if_any()
    return clean


@transaction.atomic
def competitor_create(*, actor, market: MarketNote, data: dict) -> Competitor:
    _check_markets_editable(actor)
    clean = clean_competitor(data)
    competitor = Competitor.objects.create(market=market, **clean)
    audit_record(
        actor=actor,
        action="competitor.create",
        obj=competitor,
        changes={"market": market.code, "name": competitor.name},
    )
    return competitor


@transaction.atomic
def competitor_update(*, actor, competitor: Competitor, version: int, data: dict) -> Competitor:
    _check_markets_editable(actor)
    clean = clean_competitor(data, current=competitor)
    now = timezone.now()
    if not Competitor.objects.filter(pk=competitor.pk, version=version).update(
        **clean, version=F("version") + 1, updated_at=now
    ):
        current = Competitor.objects.get(pk=competitor.pk)
        raise ConcurrentEditError(by="?", at=current.updated_at, current_version=current.version)
    for k, v in clean.items():
        setattr(competitor, k, v)
    competitor.version, competitor.updated_at = version + 1, now
    audit_record(
        actor=actor,
        action="competitor.update",
        obj=competitor,
        changes={
            k: str(v) if isinstance(v, decimal.Decimal) else v
            for k, v in clean.items()
            if k not in ("products", "price_notes")
        },
    )
    return competitor


@transaction.atomic
def competitor_delete(*, actor, competitor: Competitor) -> None:
    _check_markets_editable(actor)
    audit_record(actor=actor, action="competitor.delete", obj=competitor, changes={"name": competitor.name})
    competitor.delete()
