"""JSON API of customer grades, tiers and grading runs, mounted at /api/v1/grading.

A customer's grade is read through the customer's visibility (404 for "missing" and "not
yours" alike); the list shows only customers you can see. Overrides: managers and
administrators. Configuration, tiers, veto rules and runs: administrators."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tradecrm.core.api import LIST, READ, WRITE, Id, Text, json_response, page_response
from tradecrm.core.errors import ValidationError

from . import selectors, services
from .models import VetoRule

grading = Router(tags=["grading"])


# --- schemas ------------------------------------------------------------------------------------


class DimensionOut(Schema):
    code: str
    label: str
    value: str = Field(description="The raw value in words.")
    points: float = Field(description="0–100 from the dimension's thresholds.")
    weight: float
    contribution: float = Field(description="Points of the score this dimension contributes.")
    why: str


class GradeOut(Schema):
    company_id: int
    company_name: str
    graded: bool
    tier: str
    tier_name: str
    computed_tier: str
    score: float | None
    capped_by: str
    override_tier: str
    override_reason: str
    override_until: dt.date | None
    orders_count: int
    orders_total: int
    amount_base: str
    amount_total_base: str
    recency_days: int | None
    repeat_rate: float | None
    on_time_rate: float | None
    overdue_amount_base: str
    overdue_days: int | None
    satisfaction: float | None
    engagement: float
    potential: float
    first_order_on: dt.date | None
    last_order_on: dt.date | None
    typical_interval_days: float | None
    rfm_segment: str
    lifecycle: str
    churn_risk: float | None
    computed_at: dt.datetime | None
    breakdown: list[DimensionOut]


class GradeRow(Schema):
    company_id: int
    company_name: str
    country: str
    tier: str
    score: float
    rfm_segment: str
    lifecycle: str
    churn_risk: float | None
    recency_days: int | None
    orders_total: int
    amount_base: str
    override_tier: str
    capped_by: str


class GradePage(Schema):
    items: list[GradeRow]
    next_cursor: str | None
    prev_cursor: str | None


class GradeQuery(Schema):
    tier: Text = Field("", max_length=16)
    segment: Text = Field("", max_length=24, description="RFM segment, e.g. important_value.")
    lifecycle: Text = Field(
        "", max_length=12, description="acquisition, nurture, active, at_risk, dormant, lost, win_back"
    )
    cursor: Text | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


class OverrideIn(Schema):
    tier: Text = Field(max_length=16)
    reason: Text = Field(max_length=1000)
    until: Text = Field(max_length=10, description="Last day the manual tier holds (YYYY-MM-DD).")


class TierIO(Schema):
    code: str
    name: str
    min_score: float
    color: str = "#206bc4"
    followup_days: int | None = None
    requires_account_manager: bool = False
    checklist: list[str] = []


class TiersIn(Schema):
    tiers: list[dict[str, Any]]


class ConfigOut(Schema):
    version: int
    config: dict[str, Any]
    tiers: list[TierIO]
    vetoes: list[dict[str, Any]]


class ConfigIn(Schema):
    config: dict[str, Any]
    version: int | None = Field(None, description="The `version` you last read (refused when stale).")


class VetoIn(Schema):
    name: Text = Field(max_length=200)
    kind: Literal["country", "overdue_amount", "overdue_days", "credit_rating"]
    cap_tier: Text = Field(max_length=16)
    countries: list[str] = []
    ratings: list[str] = []
    threshold: float | None = None
    active: bool = True


class RunOut(Schema):
    id: int
    status: str
    trigger: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    phases: dict[str, float]
    counts: dict[str, int]
    error: str


class Queued(Schema):
    queued: bool


# --- helpers ------------------------------------------------------------------------------------


def _admin(request: HttpRequest) -> None:
    if not request.auth.is_admin:
        raise PermissionDenied(_("Only an administrator may change the grading configuration."))


def _s(v):
    return None if v is None else str(v)


def grade_out(company, grade) -> dict:
    names = {t.code: t.name for t in selectors.tiers()}
    g = grade
    base = {"company_id": company.pk, "company_name": company.name, "graded": g is not None}
    if g is None:
        return {**base, "tier": "", "tier_name": "", "computed_tier": "", "score": None, "capped_by": "",
                "override_tier": "", "override_reason": "", "override_until": None, "orders_count": 0,
                "orders_total": 0, "amount_base": "0", "amount_total_base": "0", "recency_days": None,
                "repeat_rate": None, "on_time_rate": None, "overdue_amount_base": "0", "overdue_days": None,
                "satisfaction": None, "engagement": 0, "potential": 0, "first_order_on": None, "last_order_on": None,
                "typical_interval_days": None, "rfm_segment": "", "lifecycle": "", "churn_risk": None,
                "computed_at": None, "breakdown": []}  # fmt: skip
    return {
        **base, "tier": g.tier, "tier_name": names.get(g.tier, ""), "computed_tier": g.computed_tier,
        "score": g.score, "capped_by": g.capped_by, "override_tier": g.override_tier,
        "override_reason": g.override_reason, "override_until": g.override_until, "orders_count": g.orders_count,
        "orders_total": g.orders_total, "amount_base": str(g.amount_base), "amount_total_base": str(g.amount_total_base),
        "recency_days": g.recency_days, "repeat_rate": g.repeat_rate, "on_time_rate": g.on_time_rate,
        "overdue_amount_base": str(g.overdue_amount_base), "overdue_days": g.overdue_days,
        "satisfaction": g.satisfaction, "engagement": g.engagement, "potential": g.potential,
        "first_order_on": g.first_order_on, "last_order_on": g.last_order_on,
        "typical_interval_days": g.typical_interval_days, "rfm_segment": g.rfm_segment, "lifecycle": g.lifecycle,
        "churn_risk": g.churn_risk, "computed_at": g.computed_at,
        "breakdown": [{k: d[k] for k in ("code", "label", "value", "points", "weight", "contribution", "why")}
                      for d in selectors.breakdown(g)],
    }  # fmt: skip


def _tier_out(t) -> dict:
    return {"code": t.code, "name": t.name, "min_score": t.min_score, "color": t.color,
            "followup_days": t.followup_days, "requires_account_manager": t.requires_account_manager,
            "checklist": list(t.checklist or [])}  # fmt: skip


def _veto_out(v: VetoRule) -> dict:
    return {"id": v.pk, "name": v.name, "kind": v.kind, "cap_tier": v.cap_tier, "countries": v.countries,
            "ratings": v.ratings, "threshold": _s(v.threshold), "active": v.active, "version": v.version}  # fmt: skip


def _config_out() -> dict:
    data, version = selectors.config_current()
    return {"version": version, "config": data, "tiers": [_tier_out(t) for t in selectors.tiers()],
            "vetoes": [_veto_out(v) for v in selectors.veto_rules()]}  # fmt: skip


def _run_out(r) -> dict:
    return {"id": r.pk, "status": r.status, "trigger": r.trigger, "started_at": r.started_at,
            "finished_at": r.finished_at, "phases": r.phases or {}, "counts": r.counts or {}, "error": r.error}  # fmt: skip


# --- endpoints ----------------------------------------------------------------------------------


@grading.get("/grades", response={200: GradePage, **LIST}, summary="List customer grades")
def list_grades(request: HttpRequest, query: Query[GradeQuery]):
    """Graded customers you can see, in customer id order, filtered by tier / RFM segment /
    lifecycle stage."""
    errors = selectors.filter_errors(query.tier, query.segment, query.lifecycle)
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    rows, nxt = selectors.grades_for_user(request.auth, tier=query.tier, segment=query.segment,
                                          lifecycle=query.lifecycle, cursor=query.cursor, limit=query.limit)  # fmt: skip
    items = [{
        "company_id": r["id"], "company_name": r["name"], "country": r["country"], "tier": r["grade__tier"],
        "score": r["grade__score"], "rfm_segment": r["grade__rfm_segment"], "lifecycle": r["grade__lifecycle"],
        "churn_risk": r["grade__churn_risk"], "recency_days": r["grade__recency_days"],
        "orders_total": r["grade__orders_total"], "amount_base": str(r["grade__amount_base"]),
        "override_tier": r["grade__override_tier"], "capped_by": r["grade__capped_by"],
    } for r in rows]  # fmt: skip
    return page_response(items, nxt, None)


@grading.get("/grades/{int:company_id}", response={200: GradeOut, **READ}, summary="A customer's grade")
def get_grade(request: HttpRequest, company_id: Id):
    """Tier, score, the per-dimension breakdown that explains it, the veto cap and the manual tier."""
    company, grade = selectors.grade_for_user(request.auth, company_id)
    return json_response(grade_out(company, grade))


@grading.post(
    "/grades/{int:company_id}/override", response={200: GradeOut, **WRITE}, summary="Set a manual tier"
)
def set_override(request: HttpRequest, company_id: Id, payload: OverrideIn):
    """Managers and administrators: the customer holds `tier` until `until` (inclusive), with the
    reason; the first run after that day ends it."""
    company, _grade = selectors.grade_for_user(request.auth, company_id)
    services.override_set(actor=request.auth, company=company, tier=payload.tier, reason=payload.reason,
                          until=payload.until)  # fmt: skip
    company, grade = selectors.grade_for_user(request.auth, company_id)
    return json_response(grade_out(company, grade))


@grading.delete(
    "/grades/{int:company_id}/override", response={200: GradeOut, **WRITE}, summary="End a manual tier"
)
def clear_override(request: HttpRequest, company_id: Id):
    company, _grade = selectors.grade_for_user(request.auth, company_id)
    services.override_clear(actor=request.auth, company=company)
    company, grade = selectors.grade_for_user(request.auth, company_id)
    return json_response(grade_out(company, grade))


@grading.get("/config", response={200: ConfigOut, **READ, 403: WRITE[403]}, summary="Grading configuration")
def get_config(request: HttpRequest):
    _admin(request)
    return json_response(_config_out())


@grading.put("/config", response={200: ConfigOut, **WRITE}, summary="Replace the grading configuration")
def put_config(request: HttpRequest, payload: ConfigIn):
    """Weights and thresholds per dimension, the window, the lifecycle ratios. Refused with the
    field and the reason: negative weights, all weights zero, thresholds that do not rise."""
    services.config_update(actor=request.auth, data=payload.config, version=payload.version)
    return json_response(_config_out())


@grading.get("/tiers", response={200: list[TierIO], **READ}, summary="Tiers")
def get_tiers(request: HttpRequest):
    """Everyone may read the tiers (their names, colours and service strategy)."""
    return json_response([_tier_out(t) for t in selectors.tiers()])


@grading.put("/tiers", response={200: list[TierIO], **WRITE}, summary="Replace the tiers")
def put_tiers(request: HttpRequest, payload: TiersIn):
    """Best tier first; minimum scores must fall strictly (no overlapping thresholds)."""
    out = services.tiers_update(actor=request.auth, tiers=payload.tiers)
    return json_response([_tier_out(t) for t in out])


@grading.post("/vetoes", response={201: dict, **WRITE}, summary="Create a veto rule")
def create_veto(request: HttpRequest, payload: VetoIn):
    rule = services.veto_create(actor=request.auth, data=payload.model_dump())
    return json_response(_veto_out(rule), status=201)


@grading.put("/vetoes/{int:rule_id}", response={200: dict, **WRITE}, summary="Change a veto rule")
def update_veto(request: HttpRequest, rule_id: Id, payload: VetoIn):
    _admin(request)
    rule = services.veto_update(
        actor=request.auth, rule=selectors.veto_get(rule_id), data=payload.model_dump()
    )
    return json_response(_veto_out(rule))


@grading.delete("/vetoes/{int:rule_id}", response={204: None, **WRITE}, summary="Delete a veto rule")
def delete_veto(request: HttpRequest, rule_id: Id):
    _admin(request)
    services.veto_delete(actor=request.auth, rule=selectors.veto_get(rule_id))
    return 204, None


@grading.post("/runs", response={202: Queued, **WRITE}, summary="Recalculate now")
def start_run(request: HttpRequest):
    """Administrators: queue a recalculation in the worker."""
    services.request_run(actor=request.auth, trigger="api")
    return json_response({"queued": True}, status=202)


@grading.get("/runs", response={200: list[RunOut], **READ, 403: WRITE[403]}, summary="Grading runs")
def list_runs(request: HttpRequest):
    """The latest runs with the seconds per phase and what they counted."""
    _admin(request)
    return json_response([_run_out(r) for r in selectors.runs()])
