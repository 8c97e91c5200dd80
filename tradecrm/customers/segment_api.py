"""JSON API of saved segments (smart lists) and market notes, mounted at /api/v1/segments and
/api/v1/markets.

A segment's `filters` use the customer list's vocabulary (see `customers.filtering`):
`{"country": "DE", "tier": "A", "tag": [3], "product": [12], "hs": "8471",
"contact_before": "2026-01-01"}`. Its members are computed for whoever asks, so a shared segment
lists only the customers the caller may see. A segment you may not see is 404, like a missing one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from tradecrm.core.api import (
    DELETE,
    LIST,
    PATCH,
    READ,
    WRITE,
    Id,
    Text,
    Version,
    check_delete_version,
    created_response,
    json_response,
    object_response,
    page_response,
    required_version,
    user_ref,
)

from . import segment_selectors as sel
from . import segment_services as svc
from .api import _company_row
from .models import Competitor, MarketNote, SavedSegment
from .regions import REGIONS, region_name
from .schemas import CompanyPage, Input, PageQuery, UserRef
from .selectors import COMPANY_SORTS, company_list

segments = Router(tags=["segments"])
markets = Router(tags=["markets"])

FILTERS_DOC = (
    "Filters combined with AND: q, country (ISO code), owner (user id), tag (tag ids, any), source, status, "
    "business_type, tier (tier code), product (product ids, any bought), hs (HS code or its start, digits), "
    "contact_after / contact_before (YYYY-MM-DD; before includes never contacted), sort."
)


# --- schemas ------------------------------------------------------------------------------------


class TeamRef(Schema):
    id: int
    name: str


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    owner: UserRef
    shared: bool
    team: TeamRef | None
    filters: dict[str, Any] = Field(description=FILTERS_DOC)
    can_edit: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class SegmentList(Schema):
    items: list[SegmentOut]


class SegmentCreate(Input):
    name: Text = Field(max_length=1000)
    description: Text | None = Field(None, max_length=1000)
    shared: bool = Field(False, description="Share with your team (and the managers above it).")
    filters: dict[str, Any] = Field(default_factory=dict, description=FILTERS_DOC)


class SegmentPatch(Input):
    name: Text | None = Field(None, max_length=1000)
    description: Text | None = Field(None, max_length=1000)
    shared: bool | None = None
    filters: dict[str, Any] | None = Field(None, description=FILTERS_DOC)
    version: Version | None = None


class CountOut(Schema):
    id: int
    count: int


class MembersQuery(PageQuery):
    pass


class CompetitorOut(Schema):
    id: int
    market_id: int
    name: str
    website: str
    products: str
    price_currency: str
    price_min: str | None
    price_max: str | None
    price_notes: str
    version: int


class MarketOut(Schema):
    id: int
    code: str
    name: str
    is_region: bool
    notes: str
    regulations: str
    certifications: list[str]
    competitors: list[CompetitorOut]
    version: int
    updated_at: dt.datetime


class MarketList(Schema):
    items: list[MarketOut]


class MarketCreate(Input):
    code: Text = Field(
        max_length=20, description="A country code (DE) or a region (EU, GCC, ASEAN, LATAM …)."
    )
    notes: Text = Field("", max_length=100000)
    regulations: Text = Field("", max_length=100000)
    certifications: list[Text] = Field(default_factory=list, max_length=1000)


class MarketPatch(Input):
    code: Text | None = Field(None, max_length=20)
    notes: Text | None = Field(None, max_length=100000)
    regulations: Text | None = Field(None, max_length=100000)
    certifications: list[Text] | None = Field(None, max_length=1000)
    version: Version | None = None


class CompetitorCreate(Input):
    name: Text = Field(max_length=1000)
    website: Text | None = Field(None, max_length=1000)
    products: Text | None = Field(None, max_length=100000)
    price_currency: Text | None = Field(None, max_length=10)
    price_min: Text | None = Field(None, max_length=40, description='A decimal number, e.g. "12.50".')
    price_max: Text | None = Field(None, max_length=40)
    price_notes: Text | None = Field(None, max_length=100000)


class CompetitorPatch(CompetitorCreate):
    name: Text | None = Field(None, max_length=1000)
    version: Version | None = None


class RegionOut(Schema):
    code: str
    name: str
    countries: list[str]


# --- helpers ------------------------------------------------------------------------------------


def _segment_out(user, s: SavedSegment) -> dict:
    return {
        "id": s.pk, "name": s.name, "description": s.description, "owner": user_ref(s.owner),
        "shared": s.shared, "team": {"id": s.team_id, "name": s.team.name} if s.team_id else None,
        "filters": s.filters, "can_edit": sel.can_edit_segment(user, s), "version": s.version,
        "created_at": s.created_at, "updated_at": s.updated_at,
    }  # fmt: skip


def _competitor_out(c: Competitor) -> dict:
    return {
        "id": c.pk, "market_id": c.market_id, "name": c.name, "website": c.website, "products": c.products,
        "price_currency": c.price_currency,
        "price_min": None if c.price_min is None else str(c.price_min),
        "price_max": None if c.price_max is None else str(c.price_max),
        "price_notes": c.price_notes, "version": c.version,
    }  # fmt: skip


def _market_out(m: MarketNote, competitors: list[Competitor] | None = None) -> dict:
    if competitors is None:
        competitors = sel.market_competitors(m)
    return {
        "id": m.pk, "code": m.code, "name": region_name(m.code) if m.code in REGIONS else m.code,
        "is_region": m.code in REGIONS, "notes": m.notes, "regulations": m.regulations,
        "certifications": m.certifications, "competitors": [_competitor_out(c) for c in competitors],
        "version": m.version, "updated_at": m.updated_at,
    }  # fmt: skip


# --- segments -----------------------------------------------------------------------------------


@segments.get("", response={200: SegmentList, **LIST}, summary="List segments")
def list_segments(request: HttpRequest):
    """Your segments, then the ones shared with you."""
    user = request.auth
    return json_response({"items": [_segment_out(user, s) for s in sel.segment_list(user)]})


@segments.post("", response={201: SegmentOut, **WRITE}, summary="Create a segment")
def create_segment(request: HttpRequest, payload: SegmentCreate):
    segment = svc.segment_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    segment = sel.segment_get_for_user(request.auth, segment.pk)
    return created_response(_segment_out(request.auth, segment), "segments")


@segments.get("/{int:segment_id}", response={200: SegmentOut, **READ}, summary="Get a segment")
def get_segment(request: HttpRequest, segment_id: Id):
    segment = sel.segment_get_for_user(request.auth, segment_id)
    return object_response(_segment_out(request.auth, segment))


@segments.patch("/{int:segment_id}", response={200: SegmentOut, **PATCH}, summary="Change a segment")
def patch_segment(request: HttpRequest, segment_id: Id, payload: SegmentPatch):
    """The owner or an administrator; `filters`, when given, replaces all of them."""
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    segment = sel.segment_get_for_user(request.auth, segment_id)
    segment = svc.segment_update(actor=request.auth, segment=segment, version=version, data=data)
    return object_response(_segment_out(request.auth, sel.segment_get_for_user(request.auth, segment.pk)))


@segments.delete("/{int:segment_id}", response={204: None, **DELETE}, summary="Delete a segment")
def delete_segment(request: HttpRequest, segment_id: Id):
    segment = sel.segment_get_for_user(request.auth, segment_id)
    check_delete_version(request, segment)
    svc.segment_delete(actor=request.auth, segment=segment)
    return HttpResponse(status=204)


@segments.get(
    "/{int:segment_id}/count", response={200: CountOut, **READ}, summary="Count a segment's members"
)
def count_segment(request: HttpRequest, segment_id: Id):
    """How many of the segment's customers you can see."""
    segment = sel.segment_get_for_user(request.auth, segment_id)
    return json_response({"id": segment.pk, "count": sel.segment_count(request.auth, segment)})


@segments.get(
    "/{int:segment_id}/companies", response={200: CompanyPage, **LIST}, summary="List a segment's customers"
)
def segment_members(request: HttpRequest, segment_id: Id, query: Query[MembersQuery]):
    """The segment's customers you can see, in its sort order, keyset paged like /companies."""
    user = request.auth
    segment = sel.segment_get_for_user(user, segment_id)
    f = sel.segment_filters(segment)
    if f.sort not in COMPANY_SORTS:
        f.sort = "-updated_at"
    rows, nxt, prev = company_list(user, f, cursor=query.cursor or None, limit=query.limit)
    return page_response([_company_row(r) for r in rows], nxt, prev)


# --- markets ------------------------------------------------------------------------------------


@markets.get("", response={200: MarketList, **LIST}, summary="List market notes")
def list_markets(request: HttpRequest):
    rows = list(MarketNote.objects.order_by("code"))
    by_market: dict[int, list[Competitor]] = {m.pk: [] for m in rows}
    for c in Competitor.objects.order_by("name", "id"):
        by_market[c.market_id].append(c)
    return json_response({"items": [_market_out(m, by_market[m.pk]) for m in rows]})


@markets.get("/regions", response={200: list[RegionOut], **READ}, summary="Regions and their countries")
def list_regions(request: HttpRequest):
    return json_response(
        [
            {"code": code, "name": str(name), "countries": list(members)}
            for code, (name, members) in REGIONS.items()
        ]
    )


@markets.get("/for-country/{code}", response={200: MarketList, **LIST}, summary="A country's market notes")
def markets_for_country(request: HttpRequest, code: str):
    """The notes of the country and of every region it belongs to (what a customer there links to)."""
    notes = sel.markets_for_country(code.upper()[:2]) if len(code) == 2 else []
    return json_response({"items": [_market_out(m) for m in notes]})


@markets.post("", response={201: MarketOut, **WRITE}, summary="Create market notes")
def create_market(request: HttpRequest, payload: MarketCreate):
    """Managers and administrators."""
    market = svc.market_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return created_response(_market_out(market, []), "markets")


@markets.get("/{int:market_id}", response={200: MarketOut, **READ}, summary="Get market notes")
def get_market(request: HttpRequest, market_id: Id):
    return object_response(_market_out(sel.market_get(market_id)))


@markets.patch("/{int:market_id}", response={200: MarketOut, **PATCH}, summary="Change market notes")
def patch_market(request: HttpRequest, market_id: Id, payload: MarketPatch):
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    market = sel.market_get(market_id)
    market = svc.market_update(actor=request.auth, market=market, version=version, data=data)
    return object_response(_market_out(market))


@markets.delete("/{int:market_id}", response={204: None, **DELETE}, summary="Delete market notes")
def delete_market(request: HttpRequest, market_id: Id):
    market = sel.market_get(market_id)
    check_delete_version(request, market)
    svc.market_delete(actor=request.auth, market=market)
    return HttpResponse(status=204)


@markets.post(
    "/{int:market_id}/competitors", response={201: CompetitorOut, **WRITE}, summary="Add a competitor"
)
def create_competitor(request: HttpRequest, market_id: Id, payload: CompetitorCreate):
    market = sel.market_get(market_id)
    competitor = svc.competitor_create(
        actor=request.auth, market=market, data=payload.model_dump(exclude_unset=True)
    )
    response = object_response(_competitor_out(competitor), status=201)
    response["Location"] = f"/api/v1/markets/competitors/{competitor.pk}"
    return response


@markets.get(
    "/competitors/{int:competitor_id}", response={200: CompetitorOut, **READ}, summary="Get a competitor"
)
def get_competitor(request: HttpRequest, competitor_id: Id):
    return object_response(_competitor_out(sel.competitor_get(competitor_id)))


@markets.patch(
    "/competitors/{int:competitor_id}", response={200: CompetitorOut, **PATCH}, summary="Change a competitor"
)
def patch_competitor(request: HttpRequest, competitor_id: Id, payload: CompetitorPatch):
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    competitor = sel.competitor_get(competitor_id)
    competitor = svc.competitor_update(actor=request.auth, competitor=competitor, version=version, data=data)
    return object_response(_competitor_out(competitor))


@markets.delete(
    "/competitors/{int:competitor_id}", response={204: None, **DELETE}, summary="Delete a competitor"
)
def delete_competitor(request: HttpRequest, competitor_id: Id):
    competitor = sel.competitor_get(competitor_id)
    check_delete_version(request, competitor)
    svc.competitor_delete(actor=request.auth, competitor=competitor)
    return HttpResponse(status=204)
