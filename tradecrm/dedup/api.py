"""JSON API of the duplicate check: check while typing, candidate groups from the sweep, dismiss.

POST /api/v1/duplicates/check           {"entity", "values", "exclude_id"} → candidates + policy
GET  /api/v1/duplicates/groups          ?entity=companies&threshold=0.85&limit=&offset=
POST /api/v1/duplicates/groups/dismiss  {"entity", "ids"}: "Not duplicates" for every pair among ids
POST /api/v1/duplicates/pairs/{id}/dismiss
"""

from __future__ import annotations

from typing import Literal

from django.http import Http404, HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tradecrm.core.api import LIST, READ, WRITE, Id, Text, json_response
from tradecrm.core.errors import ValidationError

from . import selectors
from .sweep import pairs_dismiss

duplicates = Router(tags=["duplicates"])

Entity = Literal["companies", "contacts"]


class CheckValues(Schema):
    name: Text | None = None
    name_local: Text | None = None
    country: Text | None = None
    email: Text | None = None
    email_domains: list[Text] | None = None
    website: Text | None = None
    phones: list[Text] | Text | None = None
    tax_id: Text | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    emails: list[Text] | Text | None = None
    whatsapp: Text | None = None
    company_id: Id | None = None


class CheckIn(Schema):
    entity: Entity = "companies"
    values: CheckValues
    exclude_id: Id | None = Field(None, description="The record being edited, left out of the answer.")
    limit: int = Field(5, ge=1, le=20)


class Candidate(Schema):
    id: int
    name: str
    score: float
    likely: bool = Field(description="Score at or above the duplicate threshold.")
    reasons: list[str]
    owner: str | None
    team: str | None
    pool: Literal["owned", "public"]
    pool_name: str | None = Field(None, description="The public pool it is in, when nobody owns it.")
    visible: bool = Field(description="Whether you may open the record.")
    company_id: int | None = None
    company: str | None = None


class CheckOut(Schema):
    candidates: list[Candidate]
    policy: Literal["block", "warn", "allow"] = Field(
        description="What creating it through the API would do."
    )
    threshold: float


class GroupRecord(Schema):
    id: int
    name: str


class GroupOut(Schema):
    ids: list[int] = Field(description="The group's records (the first 20 of a bigger group).")
    size: int = Field(description="How many records the group has.")
    score: float
    reasons: list[str]
    records: list[GroupRecord]
    merge_url: str | None


class GroupPage(Schema):
    items: list[GroupOut]
    total: int
    limit: int
    offset: int


class GroupQuery(Schema):
    entity: Entity = "companies"
    threshold: float | None = Field(None, ge=0, le=1)
    limit: int = Field(50, ge=1, le=500)
    # bounded: a 2**100 offset cannot be echoed back as JSON (was a 500)
    offset: int = Field(0, ge=0, le=2**31 - 1)


class DismissIn(Schema):
    entity: Entity = "companies"
    ids: list[Id] = Field(min_length=2, max_length=200)


class DismissOut(Schema):
    dismissed: int


def _candidate(c: dict) -> dict:
    keys = (
        "id",
        "name",
        "score",
        "likely",
        "reasons",
        "owner",
        "team",
        "pool",
        "pool_name",
        "visible",
        "company_id",
        "company",
    )
    return {k: c.get(k) for k in keys}


@duplicates.post("/check", response={200: CheckOut, **WRITE}, summary="Check for duplicates")
def check(request: HttpRequest, payload: CheckIn):
    """Existing records like the given values, best first, with the score and the reasons —
    including records you cannot open (`visible: false`: owner, team and pool are shown so you
    can ask them). Nothing is stored."""
    values = payload.values.model_dump(exclude_none=True)
    if payload.entity == "companies":
        found = selectors.check_company(
            request.auth, values, exclude_id=payload.exclude_id, limit=payload.limit
        )
    else:
        found = selectors.check_contact(
            request.auth, values, exclude_id=payload.exclude_id, limit=payload.limit
        )
    return json_response(
        {
            "candidates": [_candidate(c) for c in found],
            "policy": selectors.policy_for("api"),
            "threshold": selectors.threshold(),
        }
    )


def merge_url(entity: str, ids: list[int]) -> str | None:
    try:
        base = reverse("merge:companies" if entity == "companies" else "merge:contacts")
    except NoReverseMatch:  # the merge screens are another part's; the list works without them
        return None
    return base + "?ids=" + ",".join(map(str, ids))


def _group_row(g: dict, entity: str) -> dict:
    if entity == "companies":
        records = [{"id": r["id"], "name": r["name"] or r["name_local"]} for r in g["records"]]
    else:
        records = [
            {"id": r["id"], "name": f"{r['first_name']} {r['last_name']}".strip() or r["name_local"]}
            for r in g["records"]
        ]
    return {
        "ids": g["ids"],
        "size": g["size"],
        "score": g["score"],
        "reasons": g["reasons"],
        "records": records,
        "merge_url": merge_url(entity, g["ids"]) if g["size"] <= selectors.SHOW_RECORDS else None,
    }


@duplicates.get("/groups", response={200: GroupPage, **LIST}, summary="List duplicate groups")
def groups(request: HttpRequest, query: Query[GroupQuery]):
    """Groups of records the last sweep found alike (pairs connected into groups), best first.
    Only groups whose every record you can see are listed."""
    page, total = selectors.duplicate_groups_for_user(
        request.auth, query.entity, threshold=query.threshold, limit=query.limit, offset=query.offset
    )
    return json_response(
        {
            "items": [_group_row(g, query.entity) for g in page],
            "total": total,
            "limit": query.limit,
            "offset": query.offset,
        }
    )


def _check_visible(user, entity: str, ids: list[int]) -> None:
    ids_set = set(ids)
    seen = (
        selectors.visible_company_ids(user, ids_set)
        if entity == "companies"
        else selectors.visible_contact_ids(user, ids_set)
    )
    if seen != ids_set:
        raise Http404


@duplicates.post(
    "/groups/dismiss", response={200: DismissOut, **WRITE}, summary="Mark records as not duplicates"
)
def dismiss_group(request: HttpRequest, payload: DismissIn):
    """Every open pair among `ids` becomes "Not duplicates" and stays so in later sweeps.
    404 unless you can see every record."""
    _check_visible(request.auth, payload.entity, payload.ids)
    n = pairs_dismiss(actor=request.auth, entity=payload.entity, ids=payload.ids)
    if not n:
        raise ValidationError({"ids": [_("These records have no open duplicate pair.")]})
    return json_response({"dismissed": n})


@duplicates.post(
    "/pairs/{int:pair_id}/dismiss", response={200: DismissOut, **READ}, summary="Dismiss one pair"
)
def dismiss_pair(request: HttpRequest, pair_id: Id):
    pair = selectors.pair_get_for_user(request.auth, pair_id)
    entity = "companies" if pair.entity == "company" else "contacts"
    return json_response(
        {"dismissed": pairs_dismiss(actor=request.auth, entity=entity, ids=[pair.a_id, pair.b_id])}
    )
