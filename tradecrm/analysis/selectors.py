"""Reads of customer analysis, always scoped to the viewer: RFM segments with their sizes and
averages, the customers of a segment / lifecycle stage / cluster, clusters of the latest run, the
win-back list with its suggested actions, and a customer's recommendations.

Grades come from `grading.CompanyGrade` (written by the grading run); a customer without a grade
row is simply absent from these pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Avg, Count, Max, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from tradecrm.accounts.access import company_visibility_q
from tradecrm.catalog.models import Product
from tradecrm.core.paging import Sort, keyset_page
from tradecrm.customers.models import Company
from tradecrm.grading.models import CompanyGrade, Lifecycle, RfmSegment

from .clustering import LABELS, latest_run
from .models import AssociationRule, CompanyCluster, ProductStat

WIN_BACK_STAGES = (Lifecycle.AT_RISK, Lifecycle.DORMANT, Lifecycle.LOST)

# the classic 8, with what each means and what to do (R: recent, F: frequent, M: high spend)
SEGMENT_INFO = {
    RfmSegment.IMPORTANT_VALUE: ("↑", "↑", "↑", _l("Recent, frequent, big spenders: keep them close.")),
    RfmSegment.IMPORTANT_DEVELOP: ("↑", "↓", "↑", _l("Recent big spenders who order seldom: grow the frequency.")),
    RfmSegment.IMPORTANT_KEEP: ("↓", "↑", "↑", _l("Frequent big spenders gone quiet: contact them before they leave.")),
    RfmSegment.IMPORTANT_WIN_BACK: ("↓", "↓", "↑", _l("Big spenders who order seldom and not lately: win them back.")),
    RfmSegment.GENERAL_VALUE: ("↑", "↑", "↓", _l("Recent, frequent, small orders: raise the order value.")),
    RfmSegment.GENERAL_DEVELOP: ("↑", "↓", "↓", _l("Recent, occasional, small: new buyers to develop.")),
    RfmSegment.GENERAL_KEEP: ("↓", "↑", "↓", _l("Frequent small buyers gone quiet: a reminder may do.")),
    RfmSegment.GENERAL_WIN_BACK: ("↓", "↓", "↓", _l("Occasional small buyers, not lately: low priority.")),
}  # fmt: skip


def grades_for_user(user) -> QuerySet:
    q = company_visibility_q(user, prefix="company__")
    qs = CompanyGrade.objects.all()
    return qs if q is None else qs.filter(q)


def _avg(value, places=1):
    return None if value is None else round(float(value), places)


# --- RFM segments -------------------------------------------------------------------------------


def segment_summary(user) -> dict:
    """{"segments": [{code, name, size, share, recency_days, orders, amount, r, f, m, advice}] in the
    classic order (empty segments included), "graded": customers with a segment, "lifecycle":
    [{code, name, size}]}. Two GROUP BY queries."""
    qs = grades_for_user(user)
    rows = {
        r["rfm_segment"]: r
        for r in qs.exclude(rfm_segment="").values("rfm_segment").annotate(
            size=Count("company_id"), recency=Avg("recency_days"), orders=Avg("orders_count"), amount=Avg("amount_base")
        )
    }  # fmt: skip
    total = sum(r["size"] for r in rows.values())
    segments = []
    for code, name in RfmSegment.choices:
        r = rows.get(code, {})
        arrows = SEGMENT_INFO[code]
        size = r.get("size", 0)
        segments.append({
            "code": code, "name": name, "size": size, "share": (size / total) if total else 0,
            "recency_days": _avg(r.get("recency")), "orders": _avg(r.get("orders"), 2),
            "amount": _avg(r.get("amount"), 2), "r": arrows[0], "f": arrows[1], "m": arrows[2], "advice": arrows[3],
        })  # fmt: skip
    life = dict(qs.exclude(lifecycle="").values_list("lifecycle").annotate(n=Count("company_id")))
    lifecycle = [{"code": c, "name": n, "size": life.get(c, 0)} for c, n in Lifecycle.choices]
    return {"segments": segments, "graded": total, "lifecycle": lifecycle}


# --- customer lists (a segment, a lifecycle stage, a cluster) ------------------------------------

LIST_FIELDS = (
    "id", "name", "country", "owner_id", "owner__username", "owner__first_name", "owner__last_name",
    "last_contact_at", "grade__tier", "grade__score", "grade__rfm_segment", "grade__lifecycle", "grade__churn_risk",
    "grade__recency_days", "grade__orders_count", "grade__amount_base", "grade__last_order_on",
    "grade__typical_interval_days",
)  # fmt: skip
LIST_SORTS = {
    "-last_order": Sort("grade__last_order_on", True, "date"),
    "last_order": Sort("grade__last_order_on", False, "date"),
    "name": Sort("name", False),
}


@dataclass
class ListFilters:
    segment: str = ""
    lifecycle: str = ""  # one stage; "winback" = at risk, dormant and lost
    cluster: int | None = None
    sort: str = "-last_order"


def filters_from_params(params) -> tuple[ListFilters, dict[str, str]]:
    """Filters of the customer lists from query parameters; a bad value is named, not applied."""
    f, errors = ListFilters(), {}
    seg = (params.get("segment") or "").strip()
    if seg:
        if seg in RfmSegment.values:
            f.segment = seg
        else:
            errors["segment"] = _("“%(value)s” is not an RFM segment.") % {"value": seg}
    life = (params.get("lifecycle") or "").strip()
    if life:
        if life in Lifecycle.values or life == "winback":
            f.lifecycle = life
        else:
            errors["lifecycle"] = _("“%(value)s” is not a lifecycle stage.") % {"value": life}
    cluster = (
        (params.get("cluster") or "").strip()
        if isinstance(params.get("cluster"), str)
        else params.get("cluster")
    )
    if cluster not in (None, ""):
        try:
            f.cluster = int(cluster)
            if not 0 <= f.cluster < 8:
                raise ValueError
        except (TypeError, ValueError):
            f.cluster = None
            errors["cluster"] = _("“%(value)s” is not a cluster number (0–7).") % {"value": cluster}
    sort = (params.get("sort") or "").strip()
    if sort:
        if sort in LIST_SORTS:
            f.sort = sort
        else:
            errors["sort"] = _("“%(value)s” is not one of the available choices.") % {"value": sort}
    return f, errors


def _companies(user, f: ListFilters) -> QuerySet:
    qs = Company.objects.filter(grade__isnull=False)
    q = company_visibility_q(user)
    if q is not None:
        qs = qs.filter(q)
    if f.segment:
        qs = qs.filter(grade__rfm_segment=f.segment)
    if f.lifecycle == "winback":
        qs = qs.filter(grade__lifecycle__in=WIN_BACK_STAGES)
    elif f.lifecycle:
        qs = qs.filter(grade__lifecycle=f.lifecycle)
    if f.cluster is not None:
        qs = qs.filter(id__in=CompanyCluster.objects.filter(cluster=f.cluster).values("company_id"))
    if f.sort != "name":
        qs = qs.filter(grade__last_order_on__isnull=False)
    return qs


def customer_list(user, f: ListFilters, *, cursor: str | None = None, limit: int = 50):
    """(rows, next_cursor, prev_cursor): one keyset page of the visible customers matching `f`."""
    return keyset_page(_companies(user, f), LIST_SORTS[f.sort], cursor, limit, LIST_FIELDS)


# --- win-back ----------------------------------------------------------------------------------


def _suggestion(code: str, text: str) -> dict:
    return {"code": code, "text": text}


def suggestions_for(rows: list[dict], *, today: dt.date) -> None:
    """Adds "suggestions" (rules-based, translated) and "overdue_days" to each win-back row. Two
    queries for the whole page: each customer's most bought product and its customs records
    since its last order."""
    from tradecrm.customs.models import CustomsRecord
    from tradecrm.orders.models import OrderLine, OrderStatus

    ids = [r["id"] for r in rows]
    top: dict[int, dict] = {}
    if ids:
        for r in (
            OrderLine.objects.filter(order__company_id__in=ids, product__isnull=False)
            .exclude(order__status=OrderStatus.CANCELLED)
            .values("order__company_id", "product_id", "product__name_en").annotate(n=Count("id"))
            .order_by("order__company_id", "-n", "product_id")
        ):  # fmt: skip
            top.setdefault(r["order__company_id"], r)
    customs: dict[int, dict] = {}
    since = {r["id"]: r["grade__last_order_on"] for r in rows if r["grade__last_order_on"]}
    if since:
        cond = Q()
        for cid, day in since.items():
            cond |= Q(company_id=cid, date__gt=day)
        for r in (
            CustomsRecord.objects.filter(cond).values("company_id")
            .annotate(n=Count("id"), last=Max("date"), supplier=Max("exporter_name"))
        ):  # fmt: skip
            customs[r["company_id"]] = r
    for row in rows:
        interval = row["grade__typical_interval_days"]
        recency = row["grade__recency_days"]
        row["overdue_days"] = round(recency - interval) if recency is not None and interval else None
        out = []
        stage = row["grade__lifecycle"]
        if stage == Lifecycle.AT_RISK:
            out.append(_suggestion("call_offer", _("Call the buyer and offer the new collection.")))
        c = customs.get(row["id"])
        if c:
            out.append(
                _suggestion(
                    "customs",
                    _(
                        "Check the customs records: %(n)s shipment(s) since their last order with us, latest on %(date)s "
                        "(e.g. from %(supplier)s) — a new supplier?"
                    )
                    % {
                        "n": c["n"],
                        "date": c["last"].isoformat(),
                        "supplier": c["supplier"] or _("an unnamed supplier"),
                    },
                )
            )
        p = top.get(row["id"])
        if p:
            out.append(
                _suggestion(
                    "sample",
                    _("Send a sample of %(product)s, which they used to buy.")
                    % {"product": p["product__name_en"]},
                )
            )
        contact = row["last_contact_at"]
        quiet = (today - contact.date()).days if contact else None
        if quiet is None or (interval and quiet > interval):
            out.append(
                _suggestion(
                    "reach_out",
                    _("No contact for %(days)s days: write with news and current prices.") % {"days": quiet}
                    if quiet is not None
                    else _("Never contacted: introduce yourself and ask about their next order."),
                )
            )
        if stage in (Lifecycle.DORMANT, Lifecycle.LOST) and row["grade__rfm_segment"].startswith("important"):
            out.append(
                _suggestion(
                    "offer", _("An important customer: ask your manager to approve a win-back offer.")
                )
            )
        if not out:
            out.append(_suggestion("call_offer", _("Call the buyer and offer the new collection.")))
        row["suggestions"] = out
    # fmt: skip


def win_back_list(user, f: ListFilters, *, today: dt.date, cursor: str | None = None, limit: int = 50):
    """The at-risk / dormant / lost customers (or one of those stages), with suggestions."""
    if f.lifecycle not in WIN_BACK_STAGES:
        f.lifecycle = "winback"
    rows, nxt, prev = customer_list(user, f, cursor=cursor, limit=limit)
    suggestions_for(rows, today=today)
    return rows, nxt, prev


def company_suggestions(company, *, today: dt.date) -> list[dict]:
    """The current win-back suggestions of one customer the caller checked the viewer sees (empty
    when it has no grade)."""
    rows = list(Company.objects.filter(pk=company.pk, grade__isnull=False).values(*LIST_FIELDS))
    if not rows:
        return []
    suggestions_for(rows, today=today)
    return rows[0]["suggestions"]


# --- clusters ----------------------------------------------------------------------------------


def cluster_summary(user) -> dict | None:
    """The latest finished run with its clusters: the run's centres (over every customer) and,
    per cluster, the viewer's visible members (count and averages; one GROUP BY)."""
    run = latest_run()
    if run is None:
        return None
    qs = CompanyCluster.objects.all()
    q = company_visibility_q(user, prefix="company__")
    if q is not None:
        qs = qs.filter(q)
    mine = {
        r["cluster"]: r
        for r in qs.values("cluster").annotate(
            n=Count("company_id"), recency=Avg("company__grade__recency_days"),
            orders=Avg("company__grade__orders_count"), amount=Avg("company__grade__amount_base"),
        )
    }  # fmt: skip
    clusters = []
    for c in run.clusters:
        name, explanation = LABELS.get(c["label"], LABELS["average"])
        m = mine.get(c["cluster"], {})
        clusters.append({
            **c, "name": name, "explanation": explanation, "visible": m.get("n", 0),
            "visible_average": {"recency_days": _avg(m.get("recency")), "orders": _avg(m.get("orders"), 2),
                                "amount": _avg(m.get("amount"), 2)},
        })  # fmt: skip
    return {"run": run, "clusters": clusters}


# --- recommendations ---------------------------------------------------------------------------


def company_recommendations(company, *, limit: int = 5, upsell_limit: int = 3) -> dict:
    """Cross-sell (rules whose antecedent the customer buys and whose consequent it does not) and
    up-sell (a product of the same category with a higher average unit price, bought by many)
    for one customer (the caller checked that the viewer sees it). A few indexed queries."""
    from tradecrm.orders.models import OrderLine, OrderStatus

    bought = set(
        OrderLine.objects.filter(order__company_id=company.pk, product__isnull=False)
        .exclude(order__status=OrderStatus.CANCELLED).values_list("product_id", flat=True).distinct()
    )  # fmt: skip
    cross: list[dict] = []
    if bought:
        seen = set()
        for r in (
            AssociationRule.objects.filter(antecedent_id__in=bought).exclude(consequent_id__in=bought)
            .order_by("-confidence", "-lift", "consequent_id")
            .values("antecedent_id", "antecedent__name_en", "consequent_id", "consequent__name_en",
                    "consequent__sku", "confidence", "lift", "support", "pair_count")[: limit * 10]
        ):  # fmt: skip
            if r["consequent_id"] in seen:
                continue
            seen.add(r["consequent_id"])
            r["reason"] = _("Bought %(a)s; %(pct)s%% of %(a)s buyers also buy %(b)s.") % {
                "a": r["antecedent__name_en"],
                "b": r["consequent__name_en"],
                "pct": round(r["confidence"] * 100),
            }
            cross.append(r)
            if len(cross) >= limit:
                break
    up: list[dict] = []
    if bought:
        mine = list(
            ProductStat.objects.filter(product_id__in=bought, avg_unit_price_base__isnull=False)
            .exclude(product__category="").values("product_id", "product__name_en", "product__category",
                                                  "avg_unit_price_base")
        )  # fmt: skip
        seen = set()
        for m in mine:
            for r in (
                ProductStat.objects.filter(product__category=m["product__category"], product__active=True,
                                           avg_unit_price_base__gt=m["avg_unit_price_base"], buyers__gt=0)
                .exclude(product_id__in=bought).order_by("-buyers", "product_id")
                .values("product_id", "product__name_en", "product__sku", "avg_unit_price_base", "buyers")[:2]
            ):  # fmt: skip
                if r["product_id"] in seen:
                    continue
                seen.add(r["product_id"])
                more = round((r["avg_unit_price_base"] / m["avg_unit_price_base"] - 1) * 100)
                r["from_product_id"] = m["product_id"]
                r["reason"] = _(
                    "Buys %(a)s; %(b)s in the same category (%(category)s) costs %(pct)s%% more per unit "
                    "and %(n)s customers buy it."
                ) % {"a": m["product__name_en"], "b": r["product__name_en"], "category": m["product__category"],
                     "pct": more, "n": r["buyers"]}  # fmt: skip
                up.append(r)
        up.sort(key=lambda r: (-r["buyers"], r["product_id"]))
        up = up[:upsell_limit]
    return {"bought": len(bought), "cross_sell": cross, "up_sell": up}


def product_names(ids) -> dict[int, str]:
    return dict(Product.objects.filter(id__in=list(ids)).values_list("id", "name_en"))
