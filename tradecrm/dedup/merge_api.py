"""JSON API of merges: preview, merge companies or contacts, list merges, get one, undo.

Thin: every record named is loaded for the caller (404 alike for missing and not visible), the
services in `merge.py` do the work and answer 422 naming the field, 403 when a sales rep may not
merge a record, 409 when a record changed since the `versions` the caller sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from tradecrm.core.api import LIST, READ, WRITE, Id, Text, json_response, page_response, text, user_ref
from tradecrm.core.paging import Sort, keyset_page
from tradecrm.customers.schemas import PageQuery, UserRef

from . import merge
from .models import MergeRecord

merges = Router(tags=["merges"])

EntityText = text(enum=["companies", "contacts"], description="What to merge.")


class MergeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    entity: EntityText = "companies"  # type: ignore[valid-type]
    keep: Id = Field(description="The record that survives.")
    merge: list[Id] = Field(description="The records merged into it (deleted; undo brings them back).")
    chosen: dict[str, int] = Field(
        default_factory=dict,
        description="Per field, the id of the record whose value survives (default: the kept record's "
        "value, else the first non-empty one). 0 combines the texts (notes, main products).",
    )
    versions: dict[str, int] | None = Field(
        None, description="{id: version} you last read; a record changed since is refused with 409."
    )


class Ref(Schema):
    id: int
    label: str


class KeptRef(Ref):
    exists: bool


class ChosenOut(Schema):
    field: str
    label: str
    source: int = Field(description="The record the value came from (0: the texts of all records combined).")
    source_label: str


class CountOut(Schema):
    key: str = Field(description="app.model.field (moved) or app.model (removed).")
    label: str
    count: int


class MergeOut(Schema):
    id: int
    entity: str
    kept: KeptRef
    merged: list[Ref]
    chosen: list[ChosenOut] = Field(description="The fields whose value came from another record.")
    moved: list[CountOut] = Field(description="Rows moved to the kept record, per relation.")
    removed: list[CountOut] = Field(
        description="Rows deleted because they would have been duplicates on the kept record (kept for undo)."
    )
    actor: UserRef | None
    created_at: dt.datetime
    undone_at: dt.datetime | None
    undone_by: UserRef | None
    version: int


class UndoOut(MergeOut):
    result: dict = Field(
        description="restored (rows re-inserted), moved_back, gone (moved rows that no longer are on the kept "
        "record), skipped (rows that could not come back, with the reason), fields_kept (fields of the kept "
        "record changed since the merge, left as they are)."
    )


class MergePage(Schema):
    items: list[MergeOut]
    next_cursor: str | None
    prev_cursor: str | None


class PreviewValue(Schema):
    id: int
    value: Any = Field(description="The stored value (dates as ISO text).")
    display: str = Field(description="As shown on the screen, in your language.")


class PreviewField(Schema):
    name: str
    label: str
    values: list[PreviewValue] = Field(description="One per record, in the order of `records`.")
    default: int | None = Field(description="The record whose value survives unless you choose another.")
    differs: bool
    combinable: bool = Field(description="0 may be sent for this field to keep the texts of all records.")


class PreviewRecord(Schema):
    id: int
    label: str
    version: int
    owner: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    company_id: int | None = Field(description="Contacts: their customer.")


class PreviewUnion(Schema):
    name: str
    label: str
    value: list
    display: str


class PreviewRelated(Schema):
    key: str = Field(description="app.model.field")
    label: str
    counts: dict[str, int] = Field(description="{record id: rows}")


class PreviewOut(Schema):
    entity: str
    keep: int | None = Field(description="The proposed record to keep (the first of `records`).")
    records: list[PreviewRecord]
    fields: list[PreviewField]
    union: list[PreviewUnion] = Field(description="List fields: the kept record gets the values of all.")
    related: list[PreviewRelated]
    can_merge: bool
    reason: str = Field(description="Why not, when `can_merge` is false.")
    warnings: list[str]


class PreviewQuery(Schema):
    entity: EntityText = "companies"  # type: ignore[valid-type]
    ids: Text = Field(description="Comma-separated ids, e.g. 12,57.", max_length=400)
    keep: int | None = Field(None, description="The record to keep (default: the one with the most history).")


class MergeListQuery(PageQuery):
    entity: EntityText | None = None  # type: ignore[valid-type]


def merge_out(record: MergeRecord) -> dict:
    out = merge.merge_summary(record)
    out["actor"] = user_ref(out["actor"])
    out["undone_by"] = user_ref(out["undone_by"])
    return out


def _entity(value: str) -> str:
    if value not in ("companies", "contacts"):
        raise ValidationError({"entity": [_("Choose “companies” or “contacts”.")]})
    return value


@merges.get("/preview", response={200: PreviewOut, **LIST}, summary="Compare records before merging them")
def preview(request: HttpRequest, query: Query[PreviewQuery]):
    """The records side by side: every field with each record's value and the default choice, the
    unioned lists (phones, email domains, HS codes, emails), and per relation how many rows each
    record has. `can_merge` is false (with `reason`) when you may not merge them."""
    raw = [p.strip() for p in query.ids.split(",") if p.strip()]
    if len(raw) < 2:
        raise ValidationError({"ids": [_("Name at least two records, e.g. “12,57”.")]})
    data = merge.merge_preview(request.auth, entity=_entity(query.entity), ids=raw, keep=query.keep)
    for rel in data["related"]:
        rel["counts"] = {str(pk): n for pk, n in rel["counts"].items()}  # JSON object keys are text
    return json_response(data)


@merges.post("", response={201: MergeOut, **WRITE, 409: dict}, summary="Merge records")
def create_merge(request: HttpRequest, payload: MergeIn):
    """Merge `merge` into `keep`: each field gets the chosen record's value, list fields are
    unioned, every related row (contacts, interactions, follow-ups, inquiries, opportunities,
    samples, quotations, proforma invoices, orders, receivables, payments, tags, followers, customs
    records, notifications…) moves to the kept record, rows that would be duplicates there are
    removed, and the merged records are deleted. Undo with `POST /merges/{id}/undo`. A sales rep may
    merge only records owned by themselves or their team (403 otherwise)."""
    service = merge.company_merge if _entity(payload.entity) == "companies" else merge.contact_merge
    record = service(actor=request.auth, keep_id=payload.keep, merge_ids=payload.merge, chosen=payload.chosen,
                     versions=payload.versions)  # fmt: skip
    return json_response(merge_out(record), status=201, headers={"Location": f"/api/v1/merges/{record.pk}"})


@merges.get("", response={200: MergePage, **LIST}, summary="List merges")
def list_merges(request: HttpRequest, query: Query[MergeListQuery]):
    """Merges you did or whose kept record you can see, newest first (keyset paged)."""
    qs = merge.merges_for_user(request.auth)
    if query.entity:
        qs = qs.filter(entity=merge.ENTITY_NAMES[_entity(query.entity)])
    rows, nxt, prev = keyset_page(
        qs, Sort("created_at", True, "datetime"), query.cursor or None, query.limit, ("id", "created_at")
    )
    records = MergeRecord.objects.select_related("actor", "undone_by").in_bulk([r["id"] for r in rows])
    return page_response([merge_out(records[r["id"]]) for r in rows], nxt, prev)


@merges.get("/{int:merge_id}", response={200: MergeOut, **READ}, summary="Get a merge")
def get_merge(request: HttpRequest, merge_id: Id):
    return json_response(merge_out(merge.merge_get_for_user(request.auth, merge_id)))


@merges.post("/{int:merge_id}/undo", response={200: UndoOut, **WRITE}, summary="Undo a merge")
def undo_merge(request: HttpRequest, merge_id: Id):
    """The merged records come back with their ids and every moved row still on the kept record
    goes back; the kept record's fields return to their values before the merge, except those
    someone changed since (listed in `result.fields_kept`). 422 when it cannot be undone (undone
    already, or the kept record was merged away since: undo that merge first)."""
    record = merge.merge_get_for_user(request.auth, merge_id)
    result = merge.merge_undo(actor=request.auth, record=record)
    record.refresh_from_db()
    return json_response({**merge_out(record), "result": result})
