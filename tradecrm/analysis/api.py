"""JSON API of customer analysis (RFM segments, clusters, win-back list, recommendations),
mounted at /api/v1/analysis. Everything is limited to the customers you can see; a customer you
cannot see is 404, as if missing."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tradecrm.core.api import LIST, READ, WRITE, Id, Text, json_response, page_response
from tradecrm.core.errors import ValidationError
from tradecrm.customers.selectors import company_get_for_user

from . import selectors, services
from .clustering import K_DEFAULT, K_MAX, K_MIN
from .models import ClusterRun

analysis = Router(tags=["analysis"])


# --- schemas ------------------------------------------------------------------------------------


class SegmentRow(Schema):
    code: str
    name: str
    size: int
    share: float
    recency_days: float | None = Field(description="Average days since the last order.")
    orders: float | None = Field(description="Average orders in the grading window.")
    amount: float | None = Field(description="Average amount in the base currency in the grading window.")
    r: str
    f: str
    m: str
    advice: str


class StageRow(Schema):
    code: str
    name: str
    size: int


class SegmentsOut(Schema):
    graded: int
    segments: list[SegmentRow]
    lifecycle: list[StageRow]


class CustomerRow(Schema):
    id: int
    name: str
    country: str
    owner_id: int | None
    tier: str
    score: float
    rfm_segment: str
    lifecycle: str
    churn_risk: float | None
    recency_days: int | None
    typical_interval_days: float | None
    orders: int
    amount_base: str
    last_order_on: dt.date | None
    last_contact_at: dt.datetime | None


class Suggestion(Schema):
    code: str = Field(description="call_offer, customs, sample, reach_out or offer.")
    text: str


class WinBackRow(CustomerRow):
    overdue_days: int | None = Field(description="Days since the last order beyond the typical interval.")
    suggestions: list[Suggestion]


class CustomerPage(Schema):
    items: list[CustomerRow]
    next_cursor: str | None
    prev_cursor: str | None


class WinBackPage(Schema):
    items: list[WinBackRow]
    next_cursor: str | None
    prev_cursor: str | None


class ListQuery(Schema):
    segment: Text = Field("", max_length=24, description="An RFM segment code.")
    lifecycle: Text = Field("", max_length=12, description="A lifecycle stage, or “winback”.")
    cluster: int | None = Field(None, ge=0, le=7, description="A cluster number of the latest run (0-based).")
    sort: Literal["-last_order", "last_order", "name"] = "-last_order"
    cursor: Text | None = Field(None, max_length=1000)
    limit: int = Field(50, ge=1, le=200)


class WinBackQuery(Schema):
    lifecycle: Literal["", "at_risk", "dormant", "lost"] = ""
    cursor: Text | None = Field(None, max_length=1000)
    limit: int = Field(50, ge=1, le=200)


class Centre(Schema):
    recency_days: float | None
    orders: float | None
    amount: float | None


class ClusterRow(Schema):
    cluster: int
    label: str
    name: str
    explanation: str
    size: int
    visible: int = Field(description="Customers of this cluster you can see.")
    centroid: Centre = Field(description="The cluster centre in real units (over all customers).")
    average: Centre = Field(description="Averages of all members.")
    visible_average: Centre = Field(description="Averages of the members you can see.")


class RunOut(Schema):
    id: int
    status: str
    k: int
    method: str
    customers: int
    inertia: float | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    phases: dict[str, float]
    error: str


class ClustersOut(Schema):
    run: RunOut | None
    pending: RunOut | None
    clusters: list[ClusterRow]


class ClusterIn(Schema):
    k: int = Field(K_DEFAULT, description=f"Number of clusters, {K_MIN}–{K_MAX}.")


class FollowUpIn(Schema):
    suggestion: Text = Field(
        max_length=20, description="The code of one of the customer's current suggestions."
    )
    due: dt.date | None = Field(None, description="Due date (default tomorrow).")


class FollowUpOut(Schema):
    id: int
    title: str
    due_at: dt.datetime
    assignee_id: int


class CrossSell(Schema):
    antecedent_id: int
    antecedent_name: str
    product_id: int
    product_name: str
    sku: str
    confidence: float
    lift: float
    support: float
    customers: int
    reason: str


class UpSell(Schema):
    from_product_id: int
    product_id: int
    product_name: str
    sku: str
    avg_unit_price_base: str
    buyers: int
    reason: str


class RecommendationsOut(Schema):
    company_id: int
    products_bought: int
    cross_sell: list[CrossSell]
    up_sell: list[UpSell]


class RuleRunOut(Schema):
    id: int
    status: str


# --- helpers ------------------------------------------------------------------------------------


def _customer(r: dict) -> dict:
    return {
        "id": r["id"], "name": r["name"], "country": r["country"], "owner_id": r["owner_id"],
        "tier": r["grade__tier"], "score": r["grade__score"], "rfm_segment": r["grade__rfm_segment"],
        "lifecycle": r["grade__lifecycle"], "churn_risk": r["grade__churn_risk"], "recency_days": r["grade__recency_days"],
        "typical_interval_days": r["grade__typical_interval_days"], "orders": r["grade__orders_count"],
        "amount_base": str(r["grade__amount_base"]), "last_order_on": r["grade__last_order_on"],
        "last_contact_at": r["last_contact_at"],
    }  # fmt: skip


def _run(run: ClusterRun | None) -> dict | None:
    if run is None:
        return None
    return {"id": run.pk, "status": run.status, "k": run.k, "method": run.method, "customers": run.customers,
            "inertia": run.inertia, "created_at": run.created_at, "finished_at": run.finished_at,
            "phases": run.phases, "error": run.error}  # fmt: skip


def _filters(params: dict):
    f, errors = selectors.filters_from_params({k: ("" if v is None else str(v)) for k, v in params.items()})
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    return f


# --- endpoints ----------------------------------------------------------------------------------


@analysis.get("/segments", response={200: SegmentsOut, **LIST}, summary="RFM segments and lifecycle stages")
def segments(request: HttpRequest):
    """The classic 8 RFM segments with size and averages, and the customers per lifecycle stage,
    over the graded customers you can see."""
    s = selectors.segment_summary(request.auth)
    return json_response(s)


@analysis.get(
    "/customers", response={200: CustomerPage, **LIST}, summary="Customers of a segment, stage or cluster"
)
def customers(request: HttpRequest, query: Query[ListQuery]):
    f = _filters(query.model_dump(exclude={"cursor", "limit"}))
    rows, nxt, prev = selectors.customer_list(request.auth, f, cursor=query.cursor or None, limit=query.limit)
    return page_response([_customer(r) for r in rows], nxt, prev)


@analysis.get("/clusters", response={200: ClustersOut, **READ}, summary="Clusters of the latest run")
def clusters(request: HttpRequest):
    s = selectors.cluster_summary(request.auth)
    pending = ClusterRun.objects.exclude(status="done").first()
    out = {"run": _run(s["run"]) if s else None, "pending": _run(pending), "clusters": []}
    if s:
        out["clusters"] = [{k: c[k] for k in ClusterRow.model_fields} for c in s["clusters"]]
    return json_response(out)


@analysis.post("/clusters", response={202: RunOut, **WRITE}, summary="Start a clustering run")
def start_clusters(request: HttpRequest, payload: ClusterIn):
    """Managers and administrators: queue a k-means run; poll GET /clusters for the result."""
    run = services.cluster_run_start(actor=request.auth, k=payload.k, trigger="api")
    run.refresh_from_db()
    return json_response(_run(run), status=202)


@analysis.get("/win-back", response={200: WinBackPage, **LIST}, summary="Win-back list")
def win_back(request: HttpRequest, query: Query[WinBackQuery]):
    """Customers at risk, dormant or lost that you can see, the most recent lapse first, with the
    typical interval between their orders and suggested actions."""
    f = selectors.ListFilters(lifecycle=query.lifecycle or "winback")
    rows, nxt, prev = selectors.win_back_list(
        request.auth, f, today=timezone.localdate(), cursor=query.cursor or None, limit=query.limit
    )
    items = [
        {**_customer(r), "overdue_days": r["overdue_days"], "suggestions": r["suggestions"]} for r in rows
    ]
    return page_response(items, nxt, prev)


@analysis.post("/win-back/{int:company_id}/followups", response={201: FollowUpOut, **WRITE},
               summary="Plan a follow-up from a suggestion")  # fmt: skip
def win_back_followup(request: HttpRequest, company_id: Id, payload: FollowUpIn):
    company = company_get_for_user(request.auth, company_id)
    suggestions = selectors.company_suggestions(company, today=timezone.localdate())
    followup = services.winback_followup_create(
        actor=request.auth,
        company=company,
        suggestion=payload.suggestion,
        suggestions=suggestions,
        due=payload.due,
    )
    return json_response({"id": followup.pk, "title": followup.title, "due_at": followup.due_at,
                          "assignee_id": followup.assignee_id}, status=201)  # fmt: skip


@analysis.get("/companies/{int:company_id}/recommendations", response={200: RecommendationsOut, **READ},
              summary="Cross-sell and up-sell for a customer")  # fmt: skip
def recommendations(request: HttpRequest, company_id: Id):
    company = company_get_for_user(request.auth, company_id)
    r = selectors.company_recommendations(company)
    return json_response({
        "company_id": company.pk, "products_bought": r["bought"],
        "cross_sell": [{"antecedent_id": x["antecedent_id"], "antecedent_name": x["antecedent__name_en"],
                        "product_id": x["consequent_id"], "product_name": x["consequent__name_en"],
                        "sku": x["consequent__sku"], "confidence": x["confidence"], "lift": x["lift"],
                        "support": x["support"], "customers": x["pair_count"], "reason": x["reason"]}
                       for x in r["cross_sell"]],
        "up_sell": [{"from_product_id": x["from_product_id"], "product_id": x["product_id"],
                     "product_name": x["product__name_en"], "sku": x["product__sku"],
                     "avg_unit_price_base": str(x["avg_unit_price_base"]), "buyers": x["buyers"], "reason": x["reason"]}
                    for x in r["up_sell"]],
    })  # fmt: skip


@analysis.post("/recommendations/run", response={202: RuleRunOut, **WRITE}, summary="Recompute the rules")
def start_rules(request: HttpRequest):
    if not services.can_run_analysis(request.auth):
        raise PermissionDenied(_("Only managers and administrators may recompute the recommendations."))
    run = services.rule_run_start(actor=request.auth, trigger="api")
    run.refresh_from_db()
    return json_response({"id": run.pk, "status": run.status}, status=202)
