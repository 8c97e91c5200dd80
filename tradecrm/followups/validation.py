"""Field rules for follow-ups and reminder rules, shared by the web forms, the API and the CLI.

`clean_followup` / `clean_rule` take raw values (strings from a form, typed values from JSON) and
return clean ones, or raise ValidationError({field: [messages]}) naming every bad field at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from tradecrm.accounts.access import scope_companies
from tradecrm.core.errors import Errors
from tradecrm.core.ids import parse_id
from tradecrm.customers.models import Company, Contact, Status

from .models import CadenceRule, Priority, Recurrence, RuleKind

TITLE_MAX = 255
NOTES_MAX = 20000
MAX_INTERVAL_DAYS = 366


def user_zone(user) -> ZoneInfo:
    try:
        return ZoneInfo(getattr(user, "timezone", "") or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def parse_due(value: Any, tz: ZoneInfo, default_time: dt.time = dt.time(9, 0)) -> dt.datetime | None:
    """A due time from a datetime, an ISO string ("2026-03-09T09:00", with or without offset) or a
    date ("2026-03-09", at `default_time`). Naive values are wall-clock time in `tz`. None when
    the value cannot be read."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, default_time)
    elif isinstance(value, str):
        text = value.strip()
        if not text or "\x00" in text or len(text) > 40:
            return None
        try:
            if len(text) == 10:
                moment = dt.datetime.combine(dt.date.fromisoformat(text), default_time)
            else:
                moment = dt.datetime.fromisoformat(text.replace(" ", "T", 1).replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def can_see_company(user, company: Company) -> bool:
    return scope_companies(Company.objects.filter(pk=company.pk), user).exists()


def _text(data: dict, errors: Errors, field: str, limit: int, out: dict, *, required: bool = False) -> None:
    if field not in data:
        if required:
            errors.add(field, _("This field is required."))
        return
    value = data[field]
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, _("Enter text."))
        return
    value = value.strip()
    if required and not value:
        errors.add(field, _("This field is required."))
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


def _priority(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number in Priority.values else None


def clean_followup(data: dict, *, actor, company: Company, partial: bool = False, current=None) -> dict:
    """Clean values for a follow-up of `company`. `current` is the follow-up being changed (its
    recurrence is kept when only the interval changes, and so on)."""
    errors = Errors()
    out: dict[str, Any] = {}
    _text(data, errors, "title", TITLE_MAX, out, required=not partial or "title" in data)
    _text(data, errors, "notes", NOTES_MAX, out)

    if "due_at" in data or not partial:
        value = data.get("due_at")
        if value in (None, ""):
            errors.add("due_at", _("Enter when the follow-up is due."))
        else:
            due = parse_due(value, user_zone(actor), getattr(actor, "work_start", None) or dt.time(9, 0))
            if due is None:
                errors.add("due_at", _("Enter a date and time, e.g. 2026-03-09 09:00."))
            else:
                out["due_at"] = due

    if "priority" in data and data["priority"] not in (None, ""):
        priority = _priority(data["priority"])
        if priority is None:
            errors.add(
                "priority",
                _("“%(value)s” is not one of the available choices.") % {"value": data["priority"]},
            )
        else:
            out["priority"] = priority

    if "contact" in data:
        raw = data["contact"]
        if raw in (None, ""):
            out["contact"] = None
        else:
            contact_id = parse_id(raw.pk if isinstance(raw, Contact) else raw)
            contact = (
                Contact.objects.filter(pk=contact_id, company_id=company.pk).first() if contact_id else None
            )
            if contact is None:
                errors.add("contact", _("Pick a contact of this customer."))
            else:
                out["contact"] = contact

    if "assignee" in data or not partial:
        raw = data.get("assignee")
        if raw in (None, ""):
            out["assignee"] = actor
        else:
            user_id = parse_id(getattr(raw, "pk", raw))
            user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None
            if user is None:
                errors.add("assignee", _("No active user with id %(id)s.") % {"id": raw})
            elif not can_see_company(user, company):
                errors.add(
                    "assignee",
                    _("%(user)s cannot see this customer; share it with them first or pick someone else.")
                    % {"user": user},
                )
            else:
                out["assignee"] = user

    recurrence = current.recurrence if current is not None else ""
    if "recurrence" in data:
        raw = data["recurrence"] or ""
        if raw not in Recurrence.values:
            errors.add("recurrence", _("“%(value)s” is not one of the available choices.") % {"value": raw})
        else:
            recurrence = out["recurrence"] = raw
    if "recurrence_interval" in data or "recurrence" in data:
        raw = data.get("recurrence_interval")
        if recurrence == Recurrence.EVERY_N_DAYS:
            number = parse_id(raw) if raw not in (None, "") else None
            if number is None or number > MAX_INTERVAL_DAYS:
                errors.add(
                    "recurrence_interval",
                    _("Enter a number of days from 1 to %(max)d.") % {"max": MAX_INTERVAL_DAYS},
                )
            else:
                out["recurrence_interval"] = number
        else:
            out["recurrence_interval"] = None
    elif current is None:
        out.setdefault("recurrence", "")
        out["recurrence_interval"] = None
    errors.raise_if_any()
    return out


def _number(data: dict, errors: Errors, field: str, out: dict, maximum: int) -> None:
    if field not in data:
        return
    raw = data[field]
    if raw in (None, ""):
        out[field] = None
        return
    number = parse_id(raw)
    if number is None or number > maximum:
        errors.add(field, _("Enter a whole number from 1 to %(max)d.") % {"max": maximum})
    else:
        out[field] = number


def clean_rule(data: dict, *, partial: bool = False, current: CadenceRule | None = None) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    _text(data, errors, "name", 100, out, required=not partial or "name" in data)
    if "kind" in data or not partial:
        kind = data.get("kind") or ""
        if kind not in RuleKind.values:
            errors.add("kind", _("“%(value)s” is not one of the available choices.") % {"value": kind})
        else:
            out["kind"] = kind
    if "status" in data:
        status = data["status"] or ""
        if status and status not in Status.values:
            errors.add("status", _("“%(value)s” is not one of the available choices.") % {"value": status})
        else:
            out["status"] = status
    _text(data, errors, "tier", 16, out)
    _number(data, errors, "days", out, 3650)
    _number(data, errors, "hours", out, 24 * 365)
    if "priority" in data and data["priority"] not in (None, ""):
        priority = _priority(data["priority"])
        if priority is None:
            errors.add(
                "priority",
                _("“%(value)s” is not one of the available choices.") % {"value": data["priority"]},
            )
        else:
            out["priority"] = priority
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors.add("active", _("Enter true or false."))
        else:
            out["active"] = data["active"]
    if errors.by_field:
        errors.raise_if_any()

    # the period the kind needs
    kind = out.get("kind", current.kind if current else "")
    days = out["days"] if "days" in out else (current.days if current else None)
    hours = out["hours"] if "hours" in out else (current.hours if current else None)
    if kind == RuleKind.UNANSWERED:
        if not hours:
            errors.add("hours", _("Enter after how many hours an unanswered inquiry raises an alert."))
    elif kind and not days:
        errors.add("days", _("Enter the number of days."))
    errors.raise_if_any()
    return out
