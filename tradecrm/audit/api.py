"""JSON API of the audit trail, mounted at /api/v1/audit-events: administrators only (anyone
else gets 404, as if it did not exist). Newest first, keyset paged."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tradecrm.core.api import LIST, READ, Id, Text, json_response, page_response
from tradecrm.core.errors import ValidationError

from . import selectors

audit_events = Router(tags=["audit trail"])


class EventOut(Schema):
    id: int
    at: dt.datetime
    actor_id: int | None
    actor: str = Field(description="The username at the time of the event.")
    action: str
    object_type: str
    object_id: int | None
    source: str = Field(description="ui, api, cli, import or task.")
    ip: str | None
    seq: int | None = Field(description="Position in the hash chain; null until sealed (within a minute).")
    hash: str


class EventDetailOut(EventOut):
    changes: dict[str, Any] = Field(description="For updates: {field: [before, after]}.")


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None
    prev_cursor: str | None


class EventQuery(Schema):
    actor: Text = Field("", max_length=150, description="A user id or username.")
    action: Text = Field("", max_length=64, description="An action, or a prefix ending in a dot: “company.”.")
    object_type: Text = Field("", max_length=64, description="e.g. customers.company")
    object_id: Id | None = None
    source: Text = Field("", max_length=8, description="ui, api, cli, import or task.")
    date_from: Text = Field("", max_length=10, description="On or after (YYYY-MM-DD, your time zone).")
    date_to: Text = Field("", max_length=10, description="On or before (YYYY-MM-DD, your time zone).")
    cursor: Text | None = Field(
        None, max_length=1000, description="`next_cursor` or `prev_cursor` of a page."
    )
    limit: int = Field(50, ge=1, le=200, description="Rows per page (at most 200).")


def _out(r: dict) -> dict:
    return {
        "id": r["id"], "at": r["at"], "actor_id": r["actor_id"], "actor": r["actor_name"], "action": r["action"],
        "object_type": r["object_type"], "object_id": r["object_id"], "source": r["source"],
        "ip": r["ip"] or None, "seq": r["seq"], "hash": r["hash"],
    }  # fmt: skip


@audit_events.get("", response={200: EventPage, **LIST}, summary="List audit events")
def list_events(request: HttpRequest, query: Query[EventQuery]):
    """Administrators: every audit event, newest first. Filters combine with AND."""
    selectors.require_viewer(request.auth)
    params = query.model_dump()
    params["object_id"] = str(query.object_id or "")
    f, errors = selectors.filters_from_params(params)
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    rows, nxt, prev = selectors.event_list(request.auth, f, cursor=query.cursor or None, limit=query.limit)
    return page_response([_out(r) for r in rows], nxt, prev)


@audit_events.get("/{int:event_id}", response={200: EventDetailOut, **READ}, summary="Get an audit event")
def get_event(request: HttpRequest, event_id: Id):
    e = selectors.event_get_for_user(request.auth, event_id)
    r = {name: getattr(e, name) for name in selectors.LIST_FIELDS}
    return json_response(
        {**_out(r), "changes": e.changes if isinstance(e.changes, dict) else {"value": e.changes}}
    )
