"""Keyset pagination: pages are addressed by the last row's sort key, never by OFFSET, so page
20,000 of a million rows costs what page 1 costs."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Sort:
    field: str  # model field, never null
    descending: bool
    kind: str = "str"  # str | datetime | date


def encode_cursor(value, pk: int, direction: str = "after") -> str:
    if isinstance(value, dt.date):  # a datetime is a date too
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
        elif sort.kind == "date":
            value = dt.date.fromisoformat(value)
        elif not isinstance(value, str):
            raise ValueError
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadCursor("invalid cursor") from exc
    return direction, value, pk


def keyset_page(qs: QuerySet, sort: Sort, cursor: str | None, limit: int, fields: tuple[str, ...],
                branches: list[Q] | None = None):
    """Return (rows, next_cursor, prev_cursor) with rows as dicts from `.values(*fields)`.

    `branches`: the rows visible are those of qs matching any of these conditions (owner = me,
    followed by me, team = T…). Each branch is then paged on its own index and the pages merged
    (see `_union_page_ids`), instead of one OR that no index serves in sort order."""
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
    ids = _union_page_ids(qs, branches, order, limit + 1) if branches else None
    if ids is None:
        if branches:
            combined = Q()
            for b in branches:
                combined |= b
            qs = qs.filter(combined)
        rows = list(qs.order_by(*order).values(*fields)[: limit + 1])
    else:
        by_id = {r["id"]: r for r in qs.model._base_manager.filter(id__in=ids).values(*fields)}
        rows = [by_id[i] for i in ids if i in by_id]
    more = len(rows) > limit
    rows = rows[:limit]
    if not forward:
        rows.reverse()
    next_cursor = prev_cursor = None
    if rows:
        if more or not forward:
            next_cursor = encode_cursor(rows[-1][f], rows[-1]["id"], "after")
        if (forward and value is not None) or (not forward and more):
            prev_cursor = encode_cursor(rows[0][f], rows[0]["id"], "before")
    return rows, next_cursor, prev_cursor


MAX_UNION_PARAMS = 30000  # SQLite allows 32,766 bound parameters per statement


def _union_page_ids(qs: QuerySet, branches: list[Q], order: tuple[str, str], n: int) -> list[int] | None:
    """Ids of the first n rows in `order` over the union of the branches: each branch takes its
    own first n rows (walking its index, e.g. (owner_id, updated_at, id)), the database merges
    at most len(branches) * n rows. None when the statement would bind too many parameters."""
    field = order[0].lstrip("-")
    parts, params = [], []
    for i, branch in enumerate(branches):
        sub = qs.filter(branch).order_by(*order).values_list("id", field)[:n]
        try:
            sql, p = sub.query.sql_with_params()
        except EmptyResultSet:  # e.g. id IN () after a search without hits
            continue
        parts.append(f"SELECT * FROM ({sql}) AS b{i}")
        params.extend(p)
    if not parts:
        return []
    if len(params) > MAX_UNION_PARAMS:
        return None
    qn = connection.ops.quote_name
    direction = "DESC" if order[0].startswith("-") else "ASC"
    sql = (
        f"SELECT u.{qn('id')} FROM ({' UNION '.join(parts)}) AS u "
        f"ORDER BY u.{qn(field)} {direction}, u.{qn('id')} {direction} LIMIT {int(n)}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [r[0] for r in cur.fetchall()]
