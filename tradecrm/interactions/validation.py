"""Field rules of the timeline, shared by the web forms, the API, the follow-ups and the importers.

`clean_interaction` takes raw values (strings from a form, typed values from JSON) and returns
clean ones, or raises ValidationError({field: [messages]}) naming every bad field at once.
The body is stored as safe HTML: HTML input is sanitized with nh3 (basic formatting and links),
plain text is escaped with its line breaks kept.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from zoneinfo import ZoneInfo

import nh3
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.core.errors import Errors
from tradecrm.core.ids import parse_id
from tradecrm.customers.models import Contact
from tradecrm.customers.validation import as_list

from .models import Direction, InteractionType

SUBJECT_LIMIT = 255
BODY_LIMIT = 200_000  # characters of input; a long e-mail thread fits, a pasted database does not
MAX_DURATION = 7 * 24 * 60
FUTURE_TOLERANCE = dt.timedelta(days=1)  # clocks and time zones differ; a week ahead is a typo

ALLOWED_TAGS = frozenset(
    "a b strong i em u s br p div span ul ol li blockquote pre code h1 h2 h3 h4 hr table thead tbody tr th td".split()
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
BODY_FORMATS = ("text", "html")

_TAG = re.compile(r"<[^>]*>")


def sanitize_html(raw: str) -> str:
    """Basic formatting and links only; scripts, styles, event handlers and javascript: URLs go."""
    return nh3.clean(
        raw,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    ).strip()


def text_to_html(raw: str) -> str:
    """Plain text as safe HTML: escaped, line breaks kept."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return html.escape(text).replace("\n", "<br>")


def html_to_text(body_html: str) -> str:
    """The words of a stored (already sanitized) body, for search and previews."""
    return html.unescape(_TAG.sub(" ", body_html))


def user_zone(user) -> ZoneInfo:
    try:
        return ZoneInfo(getattr(user, "timezone", "") or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def parse_when(value: Any, zone: ZoneInfo) -> dt.datetime:
    """A moment from an aware/naive datetime or an ISO string ("2026-11-23T09:30", with or without
    an offset). Naive values are read in `zone` (the actor's time zone). Raises ValueError."""
    if isinstance(value, str):
        raw = value.strip().replace(" ", "T", 1)
        if raw.endswith(("Z", "z")):
            raw = raw[:-1] + "+00:00"
        value = dt.datetime.fromisoformat(raw)
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(9, 0))
    if not isinstance(value, dt.datetime):
        raise ValueError("not a datetime")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


def _text(data: dict, errors: Errors, field: str, limit: int, out: dict) -> None:
    if field not in data:
        return
    value = data[field] if data[field] is not None else ""
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


def _choice(data: dict, errors: Errors, field: str, choices, out: dict, *, required: bool) -> None:
    if field not in data:
        if required:
            errors.add(field, _("This field is required."))
        return
    value = data[field] if data[field] is not None else ""
    if str(value) not in {str(c[0]) for c in choices}:
        errors.add(field, _("“%(value)s” is not one of the available choices.") % {"value": value})
        return
    out[field] = str(value)


def _ids(raw) -> list[int | None]:
    return [parse_id(i) for i in (raw if isinstance(raw, list | tuple) else as_list(raw))]


def clean_interaction(data: dict, *, actor, company, partial: bool = False) -> dict:
    """Clean values for an interaction of `company`. Returns model fields plus the M2M id lists
    `contacts` and `participants` (when given); `contact` is a Contact or None."""
    errors = Errors()
    out: dict[str, Any] = {}
    _choice(data, errors, "type", InteractionType.choices, out, required=not partial)
    _choice(data, errors, "direction", Direction.choices, out, required=False)
    _text(data, errors, "subject", SUBJECT_LIMIT, out)

    if "occurred_at" in data or not partial:
        value = data.get("occurred_at")
        if value in (None, ""):
            errors.add("occurred_at", _("Enter when it happened."))
        else:
            try:
                when = parse_when(value, user_zone(actor))
            except (ValueError, TypeError, OverflowError):
                errors.add(
                    "occurred_at",
                    _("“%(value)s” is not a date and time (use YYYY-MM-DD HH:MM).") % {"value": value},
                )
            else:
                if when > timezone.now() + FUTURE_TOLERANCE:
                    errors.add("occurred_at", _("This is more than a day in the future."))
                else:
                    out["occurred_at"] = when

    if "duration_minutes" in data:
        value = data["duration_minutes"]
        if value in (None, ""):
            out["duration_minutes"] = None
        else:
            try:
                minutes = int(value)
                if isinstance(value, float) and value != minutes:
                    raise ValueError
            except (TypeError, ValueError, OverflowError):
                errors.add("duration_minutes", _("Enter a whole number."))
            else:
                if not 0 <= minutes <= MAX_DURATION:
                    errors.add(
                        "duration_minutes",
                        _("Enter a number of minutes between 0 and %(limit)d.") % {"limit": MAX_DURATION},
                    )
                else:
                    out["duration_minutes"] = minutes

    fmt = data.get("body_format") or "text"
    if fmt not in BODY_FORMATS:
        errors.add("body_format", _("“%(value)s” is not one of the available choices.") % {"value": fmt})
    elif "body" in data:
        raw = data["body"] if data["body"] is not None else ""
        if not isinstance(raw, str):
            errors.add("body", _("Enter text."))
        elif len(raw) > BODY_LIMIT:
            errors.add(
                "body",
                _("At most %(limit)d characters (this has %(length)d).")
                % {"limit": BODY_LIMIT, "length": len(raw)},
            )
        else:
            out["body"] = sanitize_html(raw) if fmt == "html" else text_to_html(raw)

    wanted: dict[str, list[int]] = {}
    if "contact" in data:
        raw = data["contact"]
        if isinstance(raw, Contact):
            raw = raw.pk
        if raw in (None, ""):
            out["contact"] = None
        else:
            cid = parse_id(raw)
            if cid is None:
                errors.add("contact", _("Enter a contact id."))
            else:
                wanted["contact"] = [cid]
    if "contacts" in data:
        ids = _ids(data["contacts"])
        if None in ids:
            errors.add("contacts", _("Enter contact ids."))
        elif len(ids) > 50:
            errors.add("contacts", _("At most %(limit)d entries.") % {"limit": 50})
        else:
            wanted["contacts"] = sorted(set(ids))  # type: ignore[type-var]
    if wanted:
        all_ids = {i for ids in wanted.values() for i in ids}
        found = {c.pk: c for c in Contact.objects.filter(company_id=company.pk, pk__in=all_ids)}
        for field, ids in wanted.items():
            missing = [i for i in ids if i not in found]
            if missing:
                errors.add(
                    field,
                    _("No contact of this customer with id %(ids)s.") % {"ids": ", ".join(map(str, missing))},
                )
            elif field == "contact":
                out["contact"] = found[ids[0]]
            else:
                out["contacts"] = ids

    if "participants" in data:
        ids = _ids(data["participants"])
        if None in ids:
            errors.add("participants", _("Enter user ids."))
        elif len(ids) > 50:
            errors.add("participants", _("At most %(limit)d entries.") % {"limit": 50})
        else:
            uniq = sorted(set(ids))  # type: ignore[type-var]
            active = set(
                get_user_model().objects.filter(pk__in=uniq, is_active=True).values_list("pk", flat=True)
            )
            missing = [i for i in uniq if i not in active]
            if missing:
                errors.add(
                    "participants",
                    _("No active user with id %(ids)s.") % {"ids": ", ".join(map(str, missing))},
                )
            else:
                out["participants"] = uniq

    errors.raise_if_any()
    return out


def file_error(message: str) -> ValidationError:
    return ValidationError({"file": [message]})
