"""Field rules for inquiries, opportunities, pipelines and samples, shared by the web forms, the API
and the CLI.

Each `clean_*` takes raw values (strings from a form, typed values from JSON) and returns clean ones,
or raises ValidationError({field: [messages]}) naming every bad field at once. Item lines are
checked as a whole and their messages name the line ("Quantity must be greater than zero (line 3).").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.accounts.access import scope_companies
from tradecrm.catalog.models import Product, Unit
from tradecrm.core import geo
from tradecrm.core.emails import normalize_email
from tradecrm.core.errors import Errors
from tradecrm.core.ids import parse_id
from tradecrm.customers.models import Company, Contact
from tradecrm.customers.validation import assignable_owner_error
from tradecrm.interactions.validation import parse_when, user_zone

from .models import (
    Courier,
    InquiryChannel,
    InquiryStatus,
    LossReason,
    Pipeline,
    SamplePaidBy,
    Stage,
    StageKind,
)

MAX_LINES = 200
TEXT_LONG = 20000
MAX_STALE_DAYS = 3650
FUTURE_TOLERANCE = dt.timedelta(days=1)

# (max digits, decimal places) of the model fields
QTY_DIGITS = (14, 3)
PRICE_DIGITS = (16, 4)
AMOUNT_DIGITS = (16, 2)
COST_DIGITS = (12, 2)


def incoterm_codes() -> set[str]:
    from tradecrm.documents.models import Incoterm

    return set(Incoterm.values)


def can_see_company(user, company: Company) -> bool:
    return scope_companies(Company.objects.filter(pk=company.pk), user).exists()


# --- small field readers ------------------------------------------------------------------------


def _text(data: dict, errors: Errors, field: str, limit: int, out: dict, *, required: bool = False,
          required_message: str | None = None) -> None:  # fmt: skip
    if field not in data:
        if required:
            errors.add(field, required_message or _("This field is required."))
        return
    value = data[field]
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, _("Enter text."))
        return
    value = value.strip()
    if required and not value:
        errors.add(field, required_message or _("This field is required."))
        return
    if "\x00" in value:
        errors.add(field, _("Null characters are not allowed."))
        return
    if len(value) > limit:
        errors.add(
            field,
            _("At most %(limit)d characters (this has %(length)d).") % {"limit": limit, "length": len(value)},
        )
        return
    out[field] = value


def _choice(data: dict, errors: Errors, field: str, values, out: dict, *, blank: bool = True) -> None:
    if field not in data:
        return
    value = data[field] if data[field] is not None else ""
    value = str(value)
    if (value == "" and blank) or value in {str(v) for v in values}:
        out[field] = value
        return
    errors.add(field, _("“%(value)s” is not one of the available choices.") % {"value": value})


def _code(data: dict, errors: Errors, field: str, valid, message: str, out: dict) -> None:
    if field not in data:
        return
    value = data[field] or ""
    if not isinstance(value, str):
        errors.add(field, _("Enter text."))
        return
    value = value.strip().upper()
    if value and value not in valid:
        errors.add(field, message % {"value": value})
        return
    out[field] = value


def _country(data: dict, errors: Errors, field: str, out: dict) -> None:
    _code(data, errors, field, geo.country_codes(),
          _("Unknown country code “%(value)s” (use ISO 3166 alpha-2, e.g. DE)."), out)  # fmt: skip


def _currency(data: dict, errors: Errors, field: str, out: dict) -> None:
    _code(data, errors, field, geo.currency_codes(),
          _("Unknown currency code “%(value)s” (use ISO 4217, e.g. USD)."), out)  # fmt: skip


def parse_decimal(value: Any) -> Decimal | None:
    """A Decimal from a Decimal, int, numeric string or JSON number; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | float):
        number = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text or len(text) > 40:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def _digits_error(number: Decimal, digits: tuple[int, int]) -> str | None:
    max_digits, places = digits
    exponent = number.as_tuple().exponent
    if (
        isinstance(exponent, int)
        and exponent < -places
        and number != number.quantize(Decimal(1).scaleb(-places))
    ):
        return _("At most %(places)d decimal places.") % {"places": places}
    if abs(number) >= Decimal(10) ** (max_digits - places):
        return _("This number is too large.")
    return None


def _amount(data: dict, errors: Errors, field: str, out: dict, digits: tuple[int, int], *,
            required: bool = False, positive: bool = False) -> None:  # fmt: skip
    if field not in data:
        if required:
            errors.add(field, _("This field is required."))
        return
    raw = data[field]
    if raw in (None, ""):
        if required:
            errors.add(field, _("This field is required."))
        else:
            out[field] = None
        return
    number = parse_decimal(raw)
    if number is None:
        errors.add(field, _("“%(value)s” is not a number.") % {"value": raw})
        return
    if positive and number <= 0:
        errors.add(field, _("Enter a number greater than zero."))
        return
    if number < 0:
        errors.add(field, _("Enter a number that is not negative."))
        return
    problem = _digits_error(number, digits)
    if problem:
        errors.add(field, problem)
        return
    out[field] = number


def _int_range(data: dict, errors: Errors, field: str, out: dict, low: int, high: int) -> None:
    if field not in data:
        return
    raw = data[field]
    if raw in (None, ""):
        out[field] = None
        return
    number = None
    if not isinstance(raw, bool):
        try:
            number = int(str(raw).strip())
        except (TypeError, ValueError):
            number = None
    if number is None or not low <= number <= high:
        errors.add(field, _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high})
        return
    out[field] = number


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _date(data: dict, errors: Errors, field: str, out: dict, *, not_future: bool = False,
          required: bool = False) -> None:  # fmt: skip
    if field not in data:
        if required:
            errors.add(field, _("This field is required."))
        return
    raw = data[field]
    if raw in (None, ""):
        if required:
            errors.add(field, _("This field is required."))
        else:
            out[field] = None
        return
    day = parse_date(raw)
    if day is None:
        errors.add(field, _("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": raw})
        return
    if not_future and day > timezone.localdate() + FUTURE_TOLERANCE:
        errors.add(field, _("This date is in the future."))
        return
    out[field] = day


def _bool(data: dict, errors: Errors, field: str, out: dict) -> None:
    if field not in data:
        return
    value = data[field]
    if isinstance(value, str):
        value = value.strip().lower() in ("1", "true", "on", "yes")
    if not isinstance(value, bool):
        errors.add(field, _("Enter true or false."))
        return
    out[field] = value


def _user(raw) -> Any:
    user_id = parse_id(getattr(raw, "pk", raw))
    return get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None


def _visible_company(raw, actor) -> Company | None:
    company_id = parse_id(getattr(raw, "pk", raw))
    if company_id is None:
        return None
    return scope_companies(Company.objects.filter(pk=company_id), actor).first()


def _contact_of(raw, company: Company | None) -> Contact | None:
    contact_id = parse_id(getattr(raw, "pk", raw))
    if contact_id is None or company is None:
        return None
    return Contact.objects.filter(pk=contact_id, company_id=company.pk).first()


# --- item lines ---------------------------------------------------------------------------------


def clean_items(raw: Any, errors: Errors, *, field: str = "items", quantity_required: bool = False,
                with_price: bool = True) -> list[dict]:  # fmt: skip
    """Item lines (inquiry or sample): product and/or description, quantity, unit, target price.
    Blank lines are dropped. Messages name the line (1-based, as the user counts them)."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list | tuple):
        errors.add(field, _("Enter a list of lines."))
        return []
    if len(raw) > MAX_LINES:
        errors.add(field, _("At most %(limit)d lines.") % {"limit": MAX_LINES})
        return []
    wanted_products = {parse_id(getattr(r.get("product"), "pk", r.get("product")))
                       for r in raw if isinstance(r, dict) and r.get("product") not in (None, "")}  # fmt: skip
    products = {p.pk: p for p in Product.objects.filter(pk__in=[p for p in wanted_products if p])}
    out: list[dict] = []
    line = 0
    for row in raw:
        if not isinstance(row, dict):
            line += 1
            errors.add(field, _("Line %(line)d is not a set of fields.") % {"line": line})
            continue
        keys = ("product", "description", "quantity", "target_price") if with_price else (
            "product", "description", "quantity")  # fmt: skip
        if all(row.get(k) in (None, "") for k in keys):
            continue  # an empty row of a form
        line += 1
        item: dict[str, Any] = {"position": line}
        raw_product = row.get("product")
        product = None
        if raw_product not in (None, ""):
            product = products.get(parse_id(getattr(raw_product, "pk", raw_product)) or 0)
            if product is None:
                errors.add(
                    field, _("No product with id %(id)s (line %(line)d).") % {"id": raw_product, "line": line}
                )
        item["product"] = product
        description = row.get("description") or ""
        if not isinstance(description, str):
            errors.add(field, _("Enter the description as text (line %(line)d).") % {"line": line})
            description = ""
        description = description.strip()
        if len(description) > 500:
            errors.add(
                field, _("The description has more than 500 characters (line %(line)d).") % {"line": line}
            )
        if not description and product is None and raw_product in (None, ""):
            errors.add(field, _("Enter a product or a description (line %(line)d).") % {"line": line})
        item["description"] = description or (product.name_en if product else "")
        qty_raw = row.get("quantity")
        if qty_raw in (None, ""):
            if quantity_required:
                errors.add(field, _("Enter the quantity (line %(line)d).") % {"line": line})
            item["quantity"] = None
        else:
            qty = parse_decimal(qty_raw)
            if qty is None:
                errors.add(
                    field,
                    _("“%(value)s” is not a quantity (line %(line)d).") % {"value": qty_raw, "line": line},
                )
            elif qty <= 0:
                errors.add(field, _("Quantity must be greater than zero (line %(line)d).") % {"line": line})
            elif problem := _digits_error(qty, QTY_DIGITS):
                errors.add(field, f"{problem} ({_('line %(line)d') % {'line': line}})")
            item["quantity"] = qty
        unit = row.get("unit") or (product.unit if product else (Unit.PCS if quantity_required else ""))
        if unit not in Unit.values and (unit or quantity_required):
            errors.add(field, _("“%(value)s” is not a unit (line %(line)d).") % {"value": unit, "line": line})
        item["unit"] = unit
        if with_price:
            price_raw = row.get("target_price")
            if price_raw in (None, ""):
                item["target_price"] = None
            else:
                price = parse_decimal(price_raw)
                if price is None:
                    errors.add(
                        field,
                        _("“%(value)s” is not a price (line %(line)d).") % {"value": price_raw, "line": line},
                    )
                elif price < 0:
                    errors.add(
                        field, _("The target price cannot be negative (line %(line)d).") % {"line": line}
                    )
                elif problem := _digits_error(price, PRICE_DIGITS):
                    errors.add(field, f"{problem} ({_('line %(line)d') % {'line': line}})")
                item["target_price"] = price
        out.append(item)
    return out


# --- inquiries ----------------------------------------------------------------------------------

INQUIRY_TEXTS = {
    "channel_detail": 255, "buyer_name": 255, "buyer_company": 255, "buyer_phone": 32, "subject": 255,
    "message": TEXT_LONG, "destination_port": 120,
}  # fmt: skip


def clean_inquiry(data: dict, *, actor, partial: bool = False, current=None) -> dict:
    """Clean values for an inquiry; `items` (when given) is the full list of lines."""
    errors = Errors()
    out: dict[str, Any] = {}
    if "channel" in data or not partial:
        value = data.get("channel") or ""
        if value not in InquiryChannel.values:
            if value:
                errors.add(
                    "channel", _("“%(value)s” is not one of the available choices.") % {"value": value}
                )
            else:
                errors.add("channel", _("Choose where the inquiry came from."))
        else:
            out["channel"] = value
    for field, limit in INQUIRY_TEXTS.items():
        _text(data, errors, field, limit, out)
    if "buyer_email" in data:
        try:
            out["buyer_email"] = normalize_email(str(data["buyer_email"] or ""))
        except ValidationError as exc:
            errors.add("buyer_email", exc.messages[0])
    _country(data, errors, "buyer_country", out)
    _country(data, errors, "destination_country", out)
    _currency(data, errors, "target_currency", out)
    _code(data, errors, "incoterm", incoterm_codes(),
          _("Unknown Incoterm “%(value)s” (use an Incoterms 2020 code, e.g. FOB)."), out)  # fmt: skip

    if "received_at" in data or not partial:
        value = data.get("received_at")
        if value in (None, ""):
            out["received_at"] = timezone.now()
        else:
            try:
                when = parse_when(value, user_zone(actor))
            except (ValueError, TypeError, OverflowError):
                errors.add(
                    "received_at",
                    _("“%(value)s” is not a date and time (use YYYY-MM-DD HH:MM).") % {"value": value},
                )
            else:
                if when > timezone.now() + FUTURE_TOLERANCE:
                    errors.add("received_at", _("This is more than a day in the future."))
                else:
                    out["received_at"] = when

    if "status" in data:
        value = data.get("status") or ""
        if value == InquiryStatus.CONVERTED and (
            current is None or current.status != InquiryStatus.CONVERTED
        ):
            errors.add("status", _("Use “Convert” to turn an inquiry into an opportunity."))
        elif (
            current is not None
            and current.status == InquiryStatus.CONVERTED
            and value != InquiryStatus.CONVERTED
        ):
            errors.add(
                "status", _("This inquiry was converted into an opportunity; its status stays “converted”.")
            )
        elif value not in InquiryStatus.values:
            errors.add("status", _("“%(value)s” is not one of the available choices.") % {"value": value})
        else:
            out["status"] = value

    company = current.company if current is not None else None
    if "company" in data:
        raw = data["company"]
        if raw in (None, ""):
            company = out["company"] = None
        else:
            company = _visible_company(raw, actor)
            if company is None:
                errors.add("company", _("No customer with id %(id)s.") % {"id": getattr(raw, "pk", raw)})
            elif current is not None and current.opportunity_id and company.pk != current.company_id:
                errors.add("company", _("This inquiry was converted; its customer cannot change any more."))
            else:
                out["company"] = company
    if "contact" in data or ("company" in out and current is not None and current.contact_id):
        raw = data.get("contact", current.contact_id if current is not None else None)
        if raw in (None, ""):
            out["contact"] = None
        else:
            contact = _contact_of(raw, company)
            if contact is None:
                if "contact" in data:
                    errors.add("contact", _("Pick a contact of this customer."))
                else:
                    out["contact"] = None  # the customer changed: its old contact goes
            else:
                out["contact"] = contact

    if "owner" in data or not partial:
        raw = data.get("owner")
        if raw in (None, ""):
            out["owner"] = actor if not partial else None
        else:
            owner = _user(raw)
            if owner is None:
                errors.add("owner", _("No active user with id %(id)s.") % {"id": getattr(raw, "pk", raw)})
            elif current is None or owner.pk != current.owner_id:
                message = assignable_owner_error(actor, owner)
                if message:
                    errors.add("owner", message)
                else:
                    out["owner"] = owner
            else:
                out["owner"] = owner

    if "items" in data:
        out["items"] = clean_items(data["items"], errors)

    if not partial:
        who = [out.get("buyer_name"), out.get("buyer_company"), out.get("buyer_email"), out.get("company")]
        if not any(who) and "company" not in errors.by_field:
            errors.add(
                "buyer_name",
                _("Enter who sent the inquiry: a customer, or the buyer's company, name or email."),
            )
    errors.raise_if_any()
    return out


# --- opportunities ------------------------------------------------------------------------------


def default_pipeline() -> Pipeline | None:
    return (
        Pipeline.objects.filter(active=True, is_default=True).first()
        or Pipeline.objects.filter(active=True).order_by("position", "id").first()
    )


def first_open_stage(pipeline: Pipeline) -> Stage | None:
    return pipeline.stages.filter(kind=StageKind.OPEN).order_by("position", "id").first()


def clean_opportunity(data: dict, *, actor, partial: bool = False, current=None) -> dict:
    """Clean values for an opportunity. On create: company (visible to the actor), pipeline and
    stage (default: the default pipeline's first open stage). Stage changes go through
    `opportunity_move_stage`, not through an update."""
    errors = Errors()
    out: dict[str, Any] = {}
    _text(data, errors, "name", 255, out, required=not partial or "name" in data,
          required_message=_("Give the opportunity a name."))  # fmt: skip
    _text(data, errors, "description", TEXT_LONG, out)
    _amount(data, errors, "amount", out, AMOUNT_DIGITS)
    if out.get("amount", 0) is None:
        out["amount"] = Decimal("0")
    if "currency" in data or not partial:
        value = str(data.get("currency") or "").strip().upper()
        if not value:
            errors.add("currency", _("Choose the currency of the expected value."))
        elif value not in geo.currency_codes():
            errors.add(
                "currency",
                _("Unknown currency code “%(value)s” (use ISO 4217, e.g. USD).") % {"value": value},
            )
        else:
            out["currency"] = value
    _int_range(data, errors, "probability", out, 0, 100)
    _date(data, errors, "expected_close_date", out)

    company = current.company if current is not None else None
    if "company" in data or not partial:
        raw = data.get("company")
        if raw in (None, ""):
            errors.add("company", _("Choose the customer."))
        else:
            found = _visible_company(raw, actor)
            if found is None:
                errors.add("company", _("No customer with id %(id)s.") % {"id": getattr(raw, "pk", raw)})
            else:
                company = out["company"] = found
    if "contact" in data:
        raw = data["contact"]
        if raw in (None, ""):
            out["contact"] = None
        elif company is not None:
            contact = _contact_of(raw, company)
            if contact is None:
                errors.add("contact", _("Pick a contact of this customer."))
            else:
                out["contact"] = contact
    elif current is not None and "company" in out and out["company"].pk != current.company_id:
        out["contact"] = None

    if current is not None:
        for field in ("pipeline", "stage"):
            if field in data and data[field] not in (None, ""):
                errors.add(field, _("Move the opportunity to another stage on the board (or with “move”)."))
    else:
        pipeline = None
        raw = data.get("pipeline")
        if raw in (None, ""):
            pipeline = default_pipeline()
            if pipeline is None:
                errors.add(
                    "pipeline", _("There is no active pipeline; an administrator must create one first.")
                )
        else:
            pid = parse_id(getattr(raw, "pk", raw))
            pipeline = Pipeline.objects.filter(pk=pid, active=True).first() if pid else None
            if pipeline is None:
                errors.add(
                    "pipeline", _("No active pipeline with id %(id)s.") % {"id": getattr(raw, "pk", raw)}
                )
        if pipeline is not None:
            out["pipeline"] = pipeline
            raw = data.get("stage")
            if raw in (None, ""):
                stage = first_open_stage(pipeline)
                if stage is None:
                    errors.add(
                        "stage", _("The pipeline “%(name)s” has no open stage.") % {"name": pipeline.name}
                    )
            else:
                sid = parse_id(getattr(raw, "pk", raw))
                stage = Stage.objects.filter(pk=sid).first() if sid else None
                if stage is None:
                    errors.add("stage", _("No stage with id %(id)s.") % {"id": getattr(raw, "pk", raw)})
                elif stage.pipeline_id != pipeline.pk:
                    errors.add("stage", _("This stage belongs to another pipeline."))
                    stage = None
                elif stage.kind != StageKind.OPEN:
                    errors.add("stage", _("A new opportunity starts in an open stage."))
                    stage = None
            if stage is not None:
                out["stage"] = stage

    if "owner" in data or not partial:
        raw = data.get("owner")
        owner = None
        if raw in (None, ""):
            if not partial:
                owner = actor
            else:
                out["owner"] = None
        else:
            owner = _user(raw)
            if owner is None:
                errors.add("owner", _("No active user with id %(id)s.") % {"id": getattr(raw, "pk", raw)})
        if owner is not None:
            if (
                company is not None
                and owner.pk != getattr(actor, "pk", None)
                and not can_see_company(owner, company)
            ):
                errors.add(
                    "owner",
                    _("%(user)s cannot see this customer; share it with them first or pick someone else.")
                    % {"user": owner},
                )
            else:
                out["owner"] = owner
    errors.raise_if_any()
    return out


def clean_loss(*, stage: Stage, loss_reason, loss_note: str) -> tuple[LossReason | None, str]:
    """The loss reason a move into `stage` needs (lost stages only) and the note."""
    errors = Errors()
    note = (loss_note or "").strip()
    if len(note) > TEXT_LONG:
        errors.add(
            "loss_note",
            _("At most %(limit)d characters (this has %(length)d).")
            % {"limit": TEXT_LONG, "length": len(note)},
        )
    reason = None
    if stage.kind == StageKind.LOST:
        if loss_reason in (None, ""):
            errors.add("loss_reason", _("Choose why the opportunity was lost."))
        else:
            rid = parse_id(getattr(loss_reason, "pk", loss_reason))
            reason = LossReason.objects.filter(pk=rid, active=True).first() if rid else None
            if reason is None:
                errors.add(
                    "loss_reason",
                    _("No loss reason with id %(id)s.") % {"id": getattr(loss_reason, "pk", loss_reason)},
                )
    errors.raise_if_any()
    return reason, (note if stage.kind == StageKind.LOST else "")


# --- pipelines and stages -----------------------------------------------------------------------


def clean_pipeline(data: dict, *, partial: bool = False, current: Pipeline | None = None) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    _text(data, errors, "name", 120, out, required=not partial or "name" in data,
          required_message=_("Give the pipeline a name."))  # fmt: skip
    _bool(data, errors, "is_default", out)
    _bool(data, errors, "active", out)
    if "name" in out:
        qs = Pipeline.objects.filter(name__iexact=out["name"])
        if current is not None:
            qs = qs.exclude(pk=current.pk)
        if qs.exists():
            errors.add("name", _("A pipeline named “%(name)s” exists already.") % {"name": out["name"]})
    if out.get("active") is False and (
        out.get("is_default")
        or (current is not None and current.is_default and out.get("is_default") is not False)
    ):
        errors.add(
            "active", _("The default pipeline cannot be switched off; make another one the default first.")
        )
    errors.raise_if_any()
    return out


def clean_stage(
    data: dict, *, pipeline: Pipeline, partial: bool = False, current: Stage | None = None
) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    _text(data, errors, "name", 80, out, required=not partial or "name" in data,
          required_message=_("Give the stage a name."))  # fmt: skip
    _int_range(data, errors, "probability", out, 0, 100)
    if out.get("probability", 0) is None:
        out["probability"] = 0
    _int_range(data, errors, "stale_days", out, 1, MAX_STALE_DAYS)
    if "kind" in data or not partial:
        value = data.get("kind") or StageKind.OPEN
        if value not in StageKind.values:
            errors.add("kind", _("“%(value)s” is not one of the available choices.") % {"value": value})
        elif current is not None and value != current.kind and current.opportunities.exists():
            errors.add("kind", _("This stage holds opportunities; its kind cannot change."))
        else:
            out["kind"] = value
    if "name" in out:
        qs = Stage.objects.filter(pipeline=pipeline, name__iexact=out["name"])
        if current is not None:
            qs = qs.exclude(pk=current.pk)
        if qs.exists():
            errors.add(
                "name", _("This pipeline has a stage named “%(name)s” already.") % {"name": out["name"]}
            )
    kind = out.get("kind", current.kind if current is not None else StageKind.OPEN)
    if kind != StageKind.OPEN:
        out["stale_days"] = None  # a closed deal cannot go stale
    errors.raise_if_any()
    return out


# --- samples ------------------------------------------------------------------------------------


def clean_sample(data: dict, *, actor, company: Company, partial: bool = False) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    _text(data, errors, "ship_to", 2000, out)
    _text(data, errors, "notes", TEXT_LONG, out)
    _text(data, errors, "tracking_number", 64, out)
    _text(data, errors, "courier_account", 64, out)
    _choice(data, errors, "courier", Courier.values, out)
    _choice(data, errors, "paid_by", SamplePaidBy.values, out)
    _amount(data, errors, "cost", out, COST_DIGITS)
    _currency(data, errors, "cost_currency", out)
    if out.get("cost") is not None and not (out.get("cost_currency") or data.get("cost_currency")):
        errors.add("cost_currency", _("Choose the currency of the cost."))
    if "requested_on" in data or not partial:
        if data.get("requested_on") in (None, "") and not partial:
            out["requested_on"] = timezone.localdate()
        else:
            _date(data, errors, "requested_on", out, not_future=True, required=True)
    if "contact" in data:
        raw = data["contact"]
        if raw in (None, ""):
            out["contact"] = None
        else:
            contact = _contact_of(raw, company)
            if contact is None:
                errors.add("contact", _("Pick a contact of this customer."))
            else:
                out["contact"] = contact
    if "opportunity" in data:
        raw = data["opportunity"]
        if raw in (None, ""):
            out["opportunity"] = None
        else:
            from .models import Opportunity

            oid = parse_id(getattr(raw, "pk", raw))
            opportunity = Opportunity.objects.filter(pk=oid, company_id=company.pk).first() if oid else None
            if opportunity is None:
                errors.add("opportunity", _("Pick an opportunity of this customer."))
            else:
                out["opportunity"] = opportunity
    if "owner" in data or not partial:
        raw = data.get("owner")
        if raw in (None, ""):
            if not partial:
                out["owner"] = actor
            else:
                out["owner"] = None
        else:
            owner = _user(raw)
            if owner is None:
                errors.add("owner", _("No active user with id %(id)s.") % {"id": getattr(raw, "pk", raw)})
            elif owner.pk != getattr(actor, "pk", None) and not can_see_company(owner, company):
                errors.add(
                    "owner",
                    _("%(user)s cannot see this customer; share it with them first or pick someone else.")
                    % {"user": owner},
                )
            else:
                out["owner"] = owner
    if "items" in data or not partial:
        out["items"] = clean_items(data.get("items"), errors, quantity_required=True, with_price=False)
        if not out["items"] and "items" not in errors.by_field:
            errors.add("items", _("Add at least one item to the sample."))
    errors.raise_if_any()
    return out


def clean_sent(data: dict) -> dict:
    """What marking a sample sent records: courier, tracking, date, cost and who pays."""
    errors = Errors()
    out: dict[str, Any] = {}
    if data.get("courier") in (None, ""):
        errors.add("courier", _("Choose the courier."))
    else:
        _choice(data, errors, "courier", Courier.values, out, blank=False)
    _text(data, errors, "tracking_number", 64, out)
    _text(data, errors, "courier_account", 64, out)
    if data.get("sent_on") in (None, ""):
        out["sent_on"] = timezone.localdate()
    else:
        _date(data, errors, "sent_on", out, not_future=True)
    _amount(data, errors, "cost", out, COST_DIGITS)
    _currency(data, errors, "cost_currency", out)
    if out.get("cost") is not None and not out.get("cost_currency"):
        errors.add("cost_currency", _("Choose the currency of the cost."))
    _choice(data, errors, "paid_by", SamplePaidBy.values, out)
    if out.get("paid_by") == SamplePaidBy.FREIGHT_COLLECT and not out.get("courier_account"):
        errors.add("courier_account", _("Enter the customer's courier account for freight collect."))
    errors.raise_if_any()
    return out


def clean_received(data: dict, *, sent_on: dt.date | None) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    if data.get("received_on") in (None, ""):
        out["received_on"] = timezone.localdate()
    else:
        _date(data, errors, "received_on", out, not_future=True)
    if sent_on and out.get("received_on") and out["received_on"] < sent_on:
        errors.add(
            "received_on",
            _("The sample cannot arrive before it was sent (%(date)s).") % {"date": sent_on.isoformat()},
        )
    errors.raise_if_any()
    return out


def clean_feedback(data: dict) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    _text(data, errors, "feedback", TEXT_LONG, out)
    _int_range(data, errors, "feedback_rating", out, 1, 5)
    if not out.get("feedback") and out.get("feedback_rating") is None and not errors.by_field:
        errors.add("feedback", _("Enter what the customer said, or a rating from 1 to 5."))
    errors.raise_if_any()
    return out
