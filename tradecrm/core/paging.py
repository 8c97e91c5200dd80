"""Keyset pagination: pages are addressed by the last row's sort key, never by OFFSET, so page
20,000 of a million rows costs what page 1 costs."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

from django.db.models import Q, QuerySet


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Sort:
    field: str  # model field, never null
    descending: bool
    kind: str = "str"  # str | datetime


def encode_cursor(value, pk: int, direction: str = "after") -> str:
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    raw = json.dumps([direction, value, pk], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[str, object, int]:
    try:
        pad = "=" * (-len(cursor) % 4)
        direction, value, pk = json.loads(base64.urlsafe_b64decode(cursor + pad))
        if direction not in ("after", "before") or not isinstance(pk, int):
            raise ValueError
        if sort.kind == "datetime":
            value = dt.datetime.fromisoformat(value)
        elif not isinstance(value, str):
            raise ValueError
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadCursor("invalid cursor") from exc
    return direction, value, pk


def keyset_page(qs: QuerySet, sort: Sort, cursor: str | None, limit: int, fields: tuple[str, ...]):
    """Return (rows, next_cursor, prev_cursor) with rows as dicts from `.values(*fields)`."""
    f = sort.field
    direction, value, pk = ("after", None, None) if not cursor else decode_cursor(cursor, sort)
    forward = direction == "after"
    desc = sort.descending if forward else not sort.descending
    if value is not None:
        # "field <= v AND (field < v OR id < pk)": the first term bounds the index range scan.
        if desc:
            qs = qs.filter(Q(**{f"{f}__lte": value}) & (Q(**{f"{f}__lt": value}) | Q(id__lt=pk)))
        else:
            qs = qs.filter(Q(**{f"{f}__gte": value}) & (Q(**{f"{f}__gt": value}) | Q(id__gt=pk)))
    order = (f"-{f}", "-id") if desc else (f, "id")
    rows = list(qs.order_by(*order).values(*fields)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if not forward:
        rows.reverse()
    next_cursor = prev_cursor = None
    if rows:
        if more or not forward:
            next_cursor = encode_cursor(rows[-1][f], rows[-1]["id"], "after") if (more or not forward) else None
        if (forward and value is not None) or (not forward and more):
            prev_cursor = encode_cursor(rows[0][f], rows[0]["id"], "before")
    return rows, next_cursor, prev_cursor
