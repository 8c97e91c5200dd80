"""Reads of the audit trail: administrators only (anyone else gets 404, as if it did not exist)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.http import Http404
from django.utils.translation import gettext as _

from tradecrm.core.ids import parse_id
from tradecrm.core.paging import Sort, keyset_page

from .context import Source
from .models import AuditEvent

SORT = Sort("at", True, "datetime")
LIST_FIELDS = ("id", "at", "actor_id", "actor_name", "action", "object_type", "object_id", "source", "ip",
               "seq", "hash")  # fmt: skip


def can_view(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_admin)


def require_viewer(user) -> None:
    if not can_view(user):
        raise Http404


@dataclass
class AuditFilters:
    actor: str = ""  # a user id or a username
    action: str = ""  # exact, or a prefix ending in "." ("company.")
    object_type: str = ""
    object_id: int | None = None
    source: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def filters_from_params(params) -> tuple[AuditFilters, dict[str, str]]:
    """Filters from query parameters (page and API read the same names). Returns (filters,
    {parameter: message}); a bad value is left out and named."""
    errors: dict[str, str] = {}
    f = AuditFilters()
    f.actor = (params.get("actor") or "").strip()[:150]
    f.action = (params.get("action") or "").strip()[:64]
    f.object_type = (params.get("object_type") or "").strip().lower()[:64]
    raw = (params.get("object_id") or "").strip()
    if raw:
        f.object_id = parse_id(raw)
        if f.object_id is None:
            errors["object_id"] = _("“%(value)s” is not an id.") % {"value": raw}
    source = (params.get("source") or "").strip()
    if source:
        if source in Source.ALL:
            f.source = source
        else:
            errors["source"] = _("“%(value)s” is not a source; use one of %(choices)s.") % {
                "value": source, "choices": ", ".join(Source.ALL)}  # fmt: skip
    for name in ("date_from", "date_to"):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                setattr(f, name, dt.date.fromisoformat(raw))
            except ValueError:
                errors[name] = _("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": raw}
    if f.date_from and f.date_to and f.date_to < f.date_from:
        errors["date_to"] = _("The end date is before the start date.")
        f.date_to = None
    return f, errors


def _tz(user) -> dt.tzinfo:
    try:
        return ZoneInfo(getattr(user, "timezone", "") or "UTC")
    except (ValueError, KeyError):
        return dt.UTC


def events_for_user(user, f: AuditFilters):
    require_viewer(user)
    qs = AuditEvent.objects.all()
    if f.actor:
        actor_id = parse_id(f.actor)
        qs = qs.filter(actor_id=actor_id) if actor_id is not None else qs.filter(actor_name=f.actor)
    if f.action:
        qs = qs.filter(action__startswith=f.action) if f.action.endswith(".") else qs.filter(action=f.action)
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    if f.object_id is not None:
        qs = qs.filter(object_id=f.object_id)
    if f.source:
        qs = qs.filter(source=f.source)
    tz = _tz(user)
    if f.date_from:
        qs = qs.filter(at__gte=dt.datetime.combine(f.date_from, dt.time.min, tzinfo=tz))
    if f.date_to:
        qs = qs.filter(at__lt=dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs


def event_list(user, f: AuditFilters, *, cursor: str | None = None, limit: int = 50):
    """Newest first, keyset paged on (at, id)."""
    return keyset_page(events_for_user(user, f), SORT, cursor, limit, LIST_FIELDS)


def event_get_for_user(user, pk: int) -> AuditEvent:
    require_viewer(user)
    event = AuditEvent.objects.select_related("actor").filter(pk=pk).first()
    if event is None:
        raise Http404
    return event


def change_rows(changes) -> tuple[list[dict], dict]:
    """Split `changes` into field-level rows ({"field": [before, after]} as services store
    updates) and the other details of the event."""
    rows, other = [], {}
    if isinstance(changes, dict):
        for key, value in changes.items():
            if isinstance(value, list) and len(value) == 2:
                rows.append({"field": key, "before": value[0], "after": value[1]})
            else:
                other[key] = value
    return rows, other
