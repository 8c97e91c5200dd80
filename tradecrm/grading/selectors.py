"""Reads of grading: a customer's grade with the breakdown that explains it, the scoped list of
grades, the configuration, the runs. Every read of a customer's grade goes through the
customer's visibility (`company_get_for_user` / `companies_for_user`)."""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from tradecrm.core.paging import BadCursor, Sort, decode_cursor, encode_cursor
from tradecrm.customers.selectors import companies_for_user, company_get_for_user

from .config import DIMENSION_CODES, DIMENSION_LABELS, MORE_IS_BETTER, default_config
from .models import (
    CompanyGrade,
    GradeChange,
    GradingConfig,
    GradingRun,
    Lifecycle,
    RfmSegment,
    Tier,
    VetoRule,
)

GRADE_FIELDS = (
    "company_id", "tier", "computed_tier", "score", "capped_by", "override_tier", "override_reason",
    "override_until", "orders_count", "orders_total", "amount_base", "amount_total_base", "recency_days",
    "repeat_rate", "on_time_rate", "overdue_amount_base", "overdue_days", "satisfaction", "engagement",
    "potential", "points", "first_order_on", "last_order_on", "typical_interval_days", "rfm_segment",
    "lifecycle", "churn_risk", "computed_at", "run_id",
)  # fmt: skip


def config_current() -> tuple[dict, int]:
    cfg = GradingConfig.objects.filter(pk=1).first()
    return (cfg.data, cfg.version) if cfg else (default_config(), 0)


def tiers() -> list[Tier]:
    return list(Tier.objects.order_by("rank"))


def veto_rules() -> list[VetoRule]:
    return list(VetoRule.objects.order_by("id"))


def veto_get(rule_id: int) -> VetoRule:
    from django.http import Http404

    rule = VetoRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise Http404
    return rule


def grade_for_user(user, company_id):
    """(company, grade or None); Http404 when the customer is missing or not visible."""
    company = company_get_for_user(user, company_id)
    return company, CompanyGrade.objects.filter(company=company).first()


def history(company, limit: int = 20) -> list[GradeChange]:
    return list(GradeChange.objects.filter(company=company).select_related("changed_by")[:limit])


def _value_text(code: str, value) -> str:
    if value is None:
        return _("no data")
    if code == "frequency":
        return _("%(n)s orders in the window") % {"n": int(value)}
    if code == "amount":
        return _("%(amount)s in the window (base currency)") % {
            "amount": number_format(value, 0, force_grouping=True)
        }
    if code == "recency":
        return _("last order %(n)s days ago") % {"n": int(value)}
    if code == "repeat":
        return _("%(pct)s%% of order days were repeat purchases") % {"pct": round(float(value) * 100)}
    if code == "timeliness":
        return _("%(pct)s%% of the amount due arrived on time") % {"pct": round(float(value) * 100)}
    if code == "satisfaction":
        return _("average feedback %(v)s of 5") % {"v": round(float(value), 1)}
    if code == "engagement":
        return _("engagement %(v)s (messages from the customer, meetings ×2, samples ×2)") % {
            "v": round(float(value), 1)
        }
    return _("potential %(v)s of 100 (inquiries, customs records, size)") % {"v": round(float(value), 1)}


def breakdown(grade: CompanyGrade | None, config: dict | None = None) -> list[dict]:
    """Per dimension: label, the raw value in words, the points (0–100), the weight, and how many
    points of the score it contributes, with a sentence that says why."""
    if grade is None:
        return []
    config = config or config_current()[0]
    dims = config["dimensions"]
    total = sum(float(dims[c]["weight"]) for c in DIMENSION_CODES) or 1.0
    raw = {
        "frequency": grade.orders_count, "amount": grade.amount_base, "recency": grade.recency_days,
        "repeat": grade.repeat_rate, "timeliness": grade.on_time_rate, "satisfaction": grade.satisfaction,
        "engagement": grade.engagement, "potential": grade.potential,
    }  # fmt: skip
    out = []
    for code in DIMENSION_CODES:
        pts = (grade.points or {}).get(code, 0)
        weight = float(dims[code]["weight"])
        contribution = round(pts * weight / total, 1)
        value = raw[code]
        if value is None:
            why = _("No data yet: neutral %(p)s points.") % {"p": pts}
        else:
            reached = _threshold_reached(code, dims[code], float(value))
            if reached is None:
                why = _("Below the first threshold: 0 points.")
            elif MORE_IS_BETTER[code]:
                why = _("Reaches %(t)s: %(p)s points.") % {"t": _num(reached["value"]), "p": pts}
            else:
                why = _("Within %(t)s days: %(p)s points.") % {"t": _num(reached["value"]), "p": pts}
        out.append({"code": code, "label": str(DIMENSION_LABELS[code]), "value": _value_text(code, value),
                    "points": pts, "weight": weight, "contribution": contribution, "why": why,
                    "share": round(weight / total * 100)})  # fmt: skip
    return out


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _threshold_reached(code: str, dim: dict, value: float) -> dict | None:
    ts = dim["thresholds"]
    if MORE_IS_BETTER[code]:
        hit = [t for t in ts if value >= t["value"]]
        return hit[-1] if hit else None
    hit = [t for t in ts if value <= t["value"]]
    return hit[0] if hit else None


def grades_for_user(
    user,
    *,
    tier: str = "",
    segment: str = "",
    lifecycle: str = "",
    cursor: str | None = None,
    limit: int = 50,
):
    """A page of (visible) customers with a grade, filtered; rows in customer id order."""
    qs = companies_for_user(user).filter(grade__isnull=False)
    if tier:
        qs = qs.filter(grade__tier=tier)
    if segment:
        qs = qs.filter(grade__rfm_segment=segment)
    if lifecycle:
        qs = qs.filter(grade__lifecycle=lifecycle)
    fields = (
        "id",
        "name",
        "country",
        "owner_id",
        *(f"grade__{f}" for f in GRADE_FIELDS if f != "company_id"),
    )
    after = 0
    if cursor:
        try:
            direction, _value, after = decode_cursor(cursor, Sort("id", False))
        except BadCursor:
            raise
        if direction != "after":
            raise BadCursor("invalid cursor")
    rows = list(qs.filter(id__gt=after).order_by("id").values(*fields)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor("", rows[-1]["id"]) if more and rows else None
    return rows, nxt


def filter_errors(tier: str, segment: str, lifecycle: str) -> dict[str, str]:
    errors = {}
    codes = list(Tier.objects.values_list("code", flat=True))
    if tier and tier not in codes:
        errors["tier"] = _("Unknown tier “%(tier)s”: use one of %(known)s.") % {
            "tier": tier,
            "known": ", ".join(codes),
        }
    if segment and segment not in RfmSegment.values:
        errors["segment"] = _("Unknown RFM segment “%(s)s”.") % {"s": segment}
    if lifecycle and lifecycle not in Lifecycle.values:
        errors["lifecycle"] = _("Unknown lifecycle stage “%(s)s”.") % {"s": lifecycle}
    return errors


def runs(limit: int = 30) -> list[GradingRun]:
    return list(GradingRun.objects.select_related("actor").order_by("-id")[:limit])
