"""JSON API for notifications (mounted under /api/v1/notifications).

Every call is scoped to the caller: a notification of someone else answers 404, like a missing
one. `text` is rendered in the caller's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tradecrm.core.api import READ, Error, Id, Text, ValidationErrors, json_response

from . import notifications as notes

notifications = Router(tags=["notifications"])

LIST = {400: Error, 401: Error, 422: ValidationErrors}


class NotificationOut(Schema):
    id: int
    kind: str = Field(
        description="followup_due, followup_assigned, unanswered_inquiry, review_due, cadence_created, …"
    )
    text: str = Field(description="The notification rendered in your language.")
    params: dict[str, Any]
    url: str = Field(description="Where the notification points in the web UI (a path), or empty.")
    company_id: int | None
    followup_id: int | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    prev_cursor: str | None
    unread_count: int


class NotificationQuery(Schema):
    unread: bool = Field(False, description="Only unread notifications.")
    cursor: Text | None = Field(
        None, max_length=1000, description="`next_cursor` or `prev_cursor` of a previous page."
    )
    limit: int = Field(30, ge=1, le=100, description="Rows per page (at most 100).")


class ReadAllOut(Schema):
    marked: int = Field(description="How many notifications were unread and are now read.")
    unread_count: int


def _row(r: dict) -> dict:
    return {
        "id": r["id"],
        "kind": r["kind"],
        "text": r["text"],
        "params": r["params"] or {},
        "url": r["url"],
        "company_id": r["company_id"],
        "followup_id": r["followup_id"],
        "created_at": r["created_at"],
        "read_at": r["read_at"],
    }


@notifications.get("", response={200: NotificationPage, **LIST}, summary="List your notifications")
def list_notifications(request: HttpRequest, query: Query[NotificationQuery]):
    """Your notifications, newest first. Follow `next_cursor` for older ones."""
    rows, nxt, prev = notes.notification_page(
        request.auth, unread=query.unread, cursor=query.cursor or None, limit=query.limit
    )
    return json_response(
        {
            "items": [_row(r) for r in rows],
            "next_cursor": nxt,
            "prev_cursor": prev,
            "unread_count": notes.unread_count(request.auth),
        }
    )


@notifications.post(
    "/read-all", response={200: ReadAllOut, 401: Error}, summary="Mark all your notifications read"
)
def read_all(request: HttpRequest):
    marked = notes.mark_read(request.auth, "all")
    return json_response({"marked": marked, "unread_count": 0})


@notifications.post(
    "/{int:notification_id}/read", response={200: NotificationOut, **READ}, summary="Mark one read"
)
def read_one(request: HttpRequest, notification_id: Id):
    n = notes.notification_get_for_user(request.auth, notification_id)
    notes.mark_read(request.auth, [n.id])
    n.refresh_from_db(fields=["read_at"])
    return json_response(
        _row(
            {
                "id": n.id,
                "kind": n.kind,
                "text": notes.render(n),
                "params": n.params,
                "url": n.url,
                "company_id": n.company_id,
                "followup_id": n.followup_id,
                "created_at": n.created_at,
                "read_at": n.read_at,
            }
        )
    )
