"""Reads of saved segments (smart lists) and market notes.

Who sees a segment: its owner; when it is shared, the owner's team and the managers above that
team (a segment shared by someone without a team, i.e. an administrator, is seen by everyone);
administrators see all. Anything else is 404, like a missing one. Market notes are read by
everyone."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from tradecrm.accounts.access import scope_companies, visible_team_ids
from tradecrm.core.ids import parse_id

from . import filtering
from .models import Company, Competitor, MarketNote, SavedSegment
from .regions import regions_of
from .selectors import _company_filter


def segment_visibility_q(user) -> Q | None:
    if user.is_admin:
        return None
    team_ids = list(visible_team_ids(user) or [])
    if user.team_id:
        team_ids.append(user.team_id)
    return Q(owner_id=user.id) | Q(shared=True, team_id__in=team_ids) | Q(shared=True, team__isnull=True)


def segments_for_user(user) -> QuerySet:
    qs = SavedSegment.objects.all()
    q = segment_visibility_q(user)
    return qs if q is None else qs.filter(q)


def segment_get_for_user(user, segment_id) -> SavedSegment:
    segment_id = parse_id(segment_id)
    if segment_id is None:
        raise Http404
    try:
        return segments_for_user(user).select_related("owner", "team").get(pk=segment_id)
    except SavedSegment.DoesNotExist:
        raise Http404 from None


def segment_list(user) -> list[SavedSegment]:
    """Mine first, then the ones shared with me, each by name."""
    rows = list(segments_for_user(user).select_related("owner", "team").order_by("name", "id"))
    return sorted(rows, key=lambda s: (s.owner_id != user.id, s.name.lower(), s.id))


def can_edit_segment(user, segment: SavedSegment) -> bool:
    return bool(user.is_admin or segment.owner_id == user.id)


def segment_filters(segment: SavedSegment, **extra):
    """The selector's CompanyFilters for a segment (its stored, validated JSON)."""
    return filtering.to_company_filters(segment.filters or {}, **extra)


def segment_companies(user, segment: SavedSegment) -> QuerySet:
    """The segment's members the viewer may see: for campaigns, exports and the member count."""
    return scope_companies(_company_filter(segment_filters(segment)), user)


def segment_count(user, segment: SavedSegment) -> int:
    return segment_companies(user, segment).count()


# --- markets -------------------------------------------------------------------------------------


def market_list() -> list[MarketNote]:
    return list(MarketNote.objects.annotate(competitor_count=Count("competitors")).order_by("code"))


def market_get(market_id) -> MarketNote:
    market_id = parse_id(market_id)
    if market_id is None:
        raise Http404
    try:
        return MarketNote.objects.select_related("updated_by").get(pk=market_id)
    except MarketNote.DoesNotExist:
        raise Http404 from None


def competitor_get(competitor_id) -> Competitor:
    competitor_id = parse_id(competitor_id)
    if competitor_id is None:
        raise Http404
    try:
        return Competitor.objects.select_related("market").get(pk=competitor_id)
    except Competitor.DoesNotExist:
        raise Http404 from None


def market_competitors(market: MarketNote) -> list[Competitor]:
    return list(market.competitors.order_by("name", "id"))


def markets_for_country(country: str) -> list[MarketNote]:
    """The notes of a customer's market: its country first, then the regions it belongs to."""
    if not country:
        return []
    codes = [country, *regions_of(country)]
    found = {
        m.code: m
        for m in MarketNote.objects.filter(code__in=codes).annotate(competitor_count=Count("competitors"))
    }
    return [found[c] for c in codes if c in found]


def markets_for_company(company: Company) -> list[MarketNote]:
    return markets_for_country(company.country)
