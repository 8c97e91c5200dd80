"""Pages of saved segments (smart lists) and market notes. Thin: parse, call a selector or a
service, render. A segment the viewer may not see is 404, like a missing one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tradecrm.core import geo

from . import filtering
from . import segment_selectors as sel
from . import segment_services as svc
from .models import BusinessType, Source, Status
from .regions import REGIONS, region_name, regions_of
from .segment_forms import CompetitorForm, MarketForm, SegmentForm
from .selectors import company_get_for_user
from .views import _save_new, _save_versioned, form_status


def describe_filters(filters: dict, lang: str) -> list[tuple[str, str]]:
    """A segment's filters in words: [(label, value)]."""
    from tradecrm.accounts.models import User
    from tradecrm.catalog.models import Product
    from tradecrm.grading.models import Tier

    from .models import Tag

    out: list[tuple[str, str]] = []
    if filters.get("q"):
        out.append((_("Search"), f"“{filters['q']}”"))
    if filters.get("country"):
        out.append((_("Country"), geo.country_name(filters["country"], lang)))
    if filters.get("tier"):
        name = Tier.objects.filter(code=filters["tier"]).values_list("name", flat=True).first()
        out.append((_("Tier"), f"{filters['tier']} · {name}" if name else filters["tier"]))
    if filters.get("tag"):
        names = Tag.objects.filter(pk__in=filters["tag"]).order_by("name").values_list("name", flat=True)
        out.append((_("Tags (any)"), ", ".join(names) or "—"))
    for key, label, choices in (
        ("source", _("Source"), Source.choices),
        ("status", _("Status"), Status.choices),
        ("business_type", _("Business type"), BusinessType.choices),
    ):
        if filters.get(key):
            out.append((label, str(dict(choices).get(filters[key], filters[key]))))
    if filters.get("owner"):
        u = User.objects.filter(pk=filters["owner"]).first()
        out.append((_("Owner"), str(u) if u else "—"))
    if filters.get("product"):
        names = (
            Product.objects.filter(pk__in=filters["product"])
            .order_by("name_en")
            .values_list("name_en", flat=True)
        )
        out.append((_("Bought (any)"), ", ".join(names) or "—"))
    if filters.get("hs"):
        out.append((_("HS code"), _("starts with %(code)s") % {"code": filters["hs"]}))
    if filters.get("contact_after"):
        out.append((_("Last contact"), _("on or after %(date)s") % {"date": filters["contact_after"]}))
    if filters.get("contact_before"):
        out.append((_("Last contact"), _("before %(date)s, or never") % {"date": filters["contact_before"]}))
    return out


def _list_url(segment) -> str:
    return f"{reverse('customers:company_list')}?{urlencode({'segment': segment.pk})}"


# --- segments ------------------------------------------------------------------------------------


@login_required
def segment_list(request):
    user = request.user
    lang = get_language() or "en"
    rows = sel.segment_list(user)
    for s in rows:
        s.summary = describe_filters(s.filters, lang)
        s.mine = s.owner_id == user.id
        s.editable = sel.can_edit_segment(user, s)
        s.url = _list_url(s)
    return render(request, "customers/segment_list.html", {"nav": "segments", "segments": rows})


@login_required
def segment_count(request, pk: int):
    """The member count, loaded after the page (a count over many customers takes a moment)."""
    segment = sel.segment_get_for_user(request.user, pk)
    return render(
        request, "customers/_segment_count.html", {"count": sel.segment_count(request.user, segment)}
    )


def _request_filters(request) -> dict:
    """The filters a "save this view" request carries: the list's filter form (with the open
    segment's filters when the form states none)."""
    raw = filtering.query_dict(request.GET)
    segment = (
        sel.segment_get_for_user(request.user, request.GET["segment"]) if request.GET.get("segment") else None
    )
    clean, _errors = filtering.read_filters(raw, request.user, strict=False)
    return filtering.with_segment(segment.filters if segment is not None else None, raw, clean)


def _posted_filters(request, form) -> dict:
    raw = filtering.query_dict(QueryDict(form.data.get("filters") or ""))
    clean, _errors = filtering.read_filters(raw, request.user, strict=False)
    return clean


@login_required
@require_http_methods(["GET", "POST"])
def segment_create(request):
    initial = (
        {} if request.method == "POST" else {"filters": urlencode(_request_filters(request), doseq=True)}
    )
    form = SegmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        segment = _save_new(request, form, svc.segment_create)
        if segment is not None:
            messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
            return redirect(_list_url(segment))
    filters = _posted_filters(request, form) if form.is_bound else _request_filters(request)
    ctx = {
        "nav": "segments",
        "form": form,
        "segment": None,
        "summary": describe_filters(filters, get_language() or "en"),
    }
    return render(request, "customers/segment_form.html", ctx, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def segment_edit(request, pk: int):
    segment = sel.segment_get_for_user(request.user, pk)
    if not sel.can_edit_segment(request.user, segment):
        raise PermissionDenied(_("Only the owner of a segment or an administrator may change it."))
    initial = {
        "name": segment.name,
        "description": segment.description,
        "shared": segment.shared,
        "version": segment.version,
    }
    if request.method == "GET" and request.GET:
        initial["filters"] = urlencode(_request_filters(request), doseq=True)
    form = SegmentForm(request.POST or None, segment=segment, initial=initial)
    stale = False
    if request.method == "POST" and form.is_valid():
        saved, stale = _save_versioned(request, form, svc.segment_update, segment=segment)
        if saved:
            messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
            return redirect(_list_url(segment))
    replacing = bool(form.data.get("filters") if form.is_bound else request.GET)
    if not replacing:
        filters = segment.filters
    else:
        filters = _posted_filters(request, form) if form.is_bound else _request_filters(request)
    ctx = {
        "nav": "segments",
        "form": form,
        "segment": segment,
        "stale": stale,
        "replacing": replacing,
        "summary": describe_filters(filters, get_language() or "en"),
    }
    return render(
        request, "customers/segment_form.html", ctx, status=form_status(form, stale)
    )


@login_required
@require_http_methods(["GET", "POST"])
def segment_delete(request, pk: int):
    segment = sel.segment_get_for_user(request.user, pk)
    if not sel.can_edit_segment(request.user, segment):
        raise PermissionDenied(_("Only the owner of a segment or an administrator may change it."))
    if request.method == "POST":
        svc.segment_delete(actor=request.user, segment=segment)
        messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
        return redirect("segments:list")
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": "segments",
            "title": _("Delete segment"),
            "question": _("Delete the segment “%(name)s”? The customers in it are not touched.")
            % {"name": segment.name},
            "cancel_url": reverse("segments:list"),
        },
    )


# --- markets -------------------------------------------------------------------------------------


def market_label(code: str, lang: str) -> str:
    return region_name(code) if code in REGIONS else geo.country_name(code, lang)


def _require_editor(user) -> None:
    if not svc.can_edit_markets(user):
        raise PermissionDenied(_("Only managers and administrators may change market notes."))


@login_required
def market_list(request):
    lang = get_language() or "en"
    markets = sel.market_list()
    for m in markets:
        m.label = market_label(m.code, lang)
        m.is_region = m.code in REGIONS
    return render(
        request,
        "customers/market_list.html",
        {"nav": "markets", "markets": markets, "can_edit": svc.can_edit_markets(request.user)},
    )


@login_required
def market_detail(request, pk: int):
    lang = get_language() or "en"
    market = sel.market_get(pk)
    market.label = market_label(market.code, lang)
    members = []
    if market.code in REGIONS:
        members = sorted(geo.country_name(c, lang) for c in REGIONS[market.code][1])
    else:
        members = [region_name(r) for r in regions_of(market.code)]
    return render(
        request,
        "customers/market_detail.html",
        {
            "nav": "markets",
            "market": market,
            "competitors": sel.market_competitors(market),
            "members": members,
            "is_region": market.code in REGIONS,
            "can_edit": svc.can_edit_markets(request.user),
            "customers_url": f"{reverse('customers:company_list')}?country={market.code}"
            if market.code not in REGIONS
            else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def market_create(request):
    _require_editor(request.user)
    form = MarketForm(request.POST or None, initial={"code": request.GET.get("code", "").upper()[:8]})
    if request.method == "POST" and form.is_valid():
        market = _save_new(request, form, svc.market_create)
        if market is not None:
            messages.success(request, _("Market notes for %(market)s saved.") % {"market": market.code})
            return redirect("segments:market_detail", pk=market.pk)
    return render(
        request,
        "customers/market_form.html",
        {"nav": "markets", "form": form, "market": None},
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def market_edit(request, pk: int):
    market = sel.market_get(pk)
    _require_editor(request.user)
    form = MarketForm(request.POST or None, market=market)
    stale = False
    if request.method == "POST" and form.is_valid():
        saved, stale = _save_versioned(request, form, svc.market_update, market=market)
        if saved:
            messages.success(request, _("Market notes for %(market)s saved.") % {"market": market.code})
            return redirect("segments:market_detail", pk=market.pk)
    return render(
        request,
        "customers/market_form.html",
        {"nav": "markets", "form": form, "market": market, "stale": stale},
        status=form_status(form, stale),
    )


@login_required
@require_http_methods(["GET", "POST"])
def market_delete(request, pk: int):
    market = sel.market_get(pk)
    _require_editor(request.user)
    if request.method == "POST":
        svc.market_delete(actor=request.user, market=market)
        messages.success(request, _("Market notes for %(market)s deleted.") % {"market": market.code})
        return redirect("segments:market_list")
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": "markets",
            "title": _("Delete market notes"),
            "question": _("Delete the notes for %(market)s with their %(count)d competitor(s)?")
            % {"market": market.code, "count": market.competitors.count()},
            "cancel_url": reverse("segments:market_detail", args=[market.pk]),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def competitor_create(request, market_pk: int):
    market = sel.market_get(market_pk)
    _require_editor(request.user)
    form = CompetitorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        competitor = _save_new(request, form, svc.competitor_create, market=market)
        if competitor is not None:
            messages.success(request, _("Competitor “%(name)s” added.") % {"name": competitor.name})
            return redirect("segments:market_detail", pk=market.pk)
    return render(
        request,
        "customers/competitor_form.html",
        {"nav": "markets", "form": form, "market": market, "competitor": None},
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def competitor_edit(request, pk: int):
    competitor = sel.competitor_get(pk)
    _require_editor(request.user)
    form = CompetitorForm(request.POST or None, competitor=competitor)
    stale = False
    if request.method == "POST" and form.is_valid():
        saved, stale = _save_versioned(request, form, svc.competitor_update, competitor=competitor)
        if saved:
            messages.success(request, _("Competitor “%(name)s” saved.") % {"name": competitor.name})
            return redirect("segments:market_detail", pk=competitor.market_id)
    return render(
        request,
        "customers/competitor_form.html",
        {
            "nav": "markets",
            "form": form,
            "market": competitor.market,
            "competitor": competitor,
            "stale": stale,
        },
        status=form_status(form, stale),
    )


@login_required
@require_http_methods(["GET", "POST"])
def competitor_delete(request, pk: int):
    competitor = sel.competitor_get(pk)
    _require_editor(request.user)
    if request.method == "POST":
        svc.competitor_delete(actor=request.user, competitor=competitor)
        messages.success(request, _("Competitor “%(name)s” deleted.") % {"name": competitor.name})
        return redirect("segments:market_detail", pk=competitor.market_id)
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": "markets",
            "title": _("Delete competitor"),
            "question": _("Delete the competitor “%(name)s”?") % {"name": competitor.name},
            "cancel_url": reverse("segments:market_detail", args=[competitor.market_id]),
        },
    )


@login_required
def company_market_panel(request, company_pk: int):
    """The customer page's market card body: the notes of its country and of its regions."""
    lang = get_language() or "en"
    company = company_get_for_user(request.user, company_pk)
    markets = sel.markets_for_company(company)
    for m in markets:
        m.label = market_label(m.code, lang)
    missing = [
        c
        for c in ([company.country, *regions_of(company.country)] if company.country else [])
        if c not in {m.code for m in markets}
    ]
    return render(
        request,
        "customers/_market_panel_body.html",
        {
            "company": company,
            "markets": markets,
            "country_name": geo.country_name(company.country, lang),
            "can_edit": svc.can_edit_markets(request.user),
            "missing": missing,
        },
    )
