"""Reads of customs records, always scoped to the user.

A record linked to a customer is visible iff that customer is (`accounts.access`); a record linked
to nobody (a forwarder or "TO ORDER" consignee, or an importer not matched to a customer) is market
data visible to managers and administrators only. Loads by id go through
`customs_record_get_for_user`: "missing" and "not yours" are the same 404.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils.translation import gettext as _

from tradecrm.accounts.access import company_visibility_q
from tradecrm.accounts.models import Role
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import Sort, keyset_page

from .models import CustomsRecord

ZERO = Decimal(0)
KG = Decimal("0.001")
CENT = Decimal("0.01")


def can_see_unlinked(user) -> bool:
    """Records linked to no customer are market data: managers and administrators see them."""
    return bool(user.is_authenticated and (user.is_admin or user.role == Role.MANAGER))


def can_link(user) -> bool:
    """Linking a record to a customer (or unlinking it) needs to see the unlinked ones."""
    return can_see_unlinked(user)


def customs_records_for_user(user) -> QuerySet:
    qs = CustomsRecord.objects.all()
    if user.is_admin:
        return qs
    q = company_visibility_q(user, prefix="company__")
    if can_see_unlinked(user):
        q = q | Q(company__isnull=True)
    return qs.filter(q)


def customs_record_get_for_user(user, record_id) -> CustomsRecord:
    record_id = parse_id(record_id)
    if record_id is None:
        raise Http404
    record = (
        customs_records_for_user(user)
        .select_related("company", "company__owner", "import_job")
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        raise Http404
    return record


def same_importer_q(record: CustomsRecord) -> Q:
    """The records that show the same buyer as `record`: the same importer (normalised name); when
    the consignee is not a buyer ("TO ORDER", a forwarder — the same for thousands of buyers), the
    same consignee and notify party; with no notify party, the record alone."""
    if not record.importer_key:
        return Q(pk=record.pk)
    if record.is_forwarder:
        if not record.notify_party:
            return Q(pk=record.pk)
        return Q(pk=record.pk) | Q(importer_key=record.importer_key, notify_party=record.notify_party)
    return Q(pk=record.pk) | Q(importer_key=record.importer_key)


# --- the list ----------------------------------------------------------------------------------

SORTS = {
    "-date": Sort("date", True, "date"),
    "date": Sort("date", False, "date"),
}
LIST_FIELDS = (
    "id", "date", "importer_name", "importer_country", "exporter_name", "exporter_country", "notify_party",
    "is_forwarder", "hs_code", "product_description", "quantity", "quantity_unit", "weight_kg", "value",
    "currency", "port_of_loading", "port_of_discharge", "bl_number", "origin_country", "company_id",
    "company__name", "import_job_id",
)  # fmt: skip
LINKED_CHOICES = ("linked", "unlinked", "forwarder")


@dataclass
class CustomsFilters:
    hs: str = ""  # an HS code or its start ("8471" finds 84713000)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    country: str = ""  # importer's country
    origin: str = ""  # country of origin
    company: int | None = None
    customer: str = ""  # part of the linked customer's name
    supplier: str = ""  # part of the exporter's name
    importer: str = ""  # part of the importer's name
    q: str = ""  # free text: product description, B/L number, importer, exporter
    linked: str = ""  # "" | linked | unlinked | forwarder
    job: int | None = None
    sort: str = "-date"


def _date(raw: str) -> dt.date:
    return dt.date.fromisoformat(raw.strip())


def filters_from_params(params) -> tuple[CustomsFilters, dict[str, str]]:
    """The list's filters from query parameters (the page, the API, the export all read the same
    names: hs, date_from, date_to, country, origin, company, customer, supplier, importer, q, linked, job,
    sort). Returns (filters, {parameter: message}) — a bad value is left out and named."""
    from .importing import parse_country

    errors: dict[str, str] = {}
    f = CustomsFilters()
    hs = "".join((params.get("hs") or "").split()).replace(".", "").replace("-", "")
    if hs:
        if hs.isascii() and hs.isdigit() and len(hs) <= 10:
            f.hs = hs
        else:
            errors["hs"] = _("“%(value)s” is not an HS code or its start (digits).") % {
                "value": params.get("hs")
            }
    for name in ("date_from", "date_to"):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                setattr(f, name, _date(raw))
            except ValueError:
                errors[name] = _("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": raw}
    for name in ("country", "origin"):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                setattr(f, name, parse_country(raw))
            except ValueError as exc:
                errors[name] = str(exc)
    for name in ("company", "job"):
        raw = (params.get(name) or "").strip()
        if raw:
            value = parse_id(raw)
            if value is None:
                errors[name] = _("“%(value)s” is not an id.") % {"value": raw}
            setattr(f, name, value)
    for name in ("customer", "supplier", "importer", "q"):
        setattr(f, name, (params.get(name) or "").strip()[:100])
    linked = (params.get("linked") or "").strip()
    if linked:
        if linked in LINKED_CHOICES:
            f.linked = linked
        else:
            errors["linked"] = _("“%(value)s” is not one of the available choices.") % {"value": linked}
    sort = (params.get("sort") or "").strip()
    if sort:
        if sort in SORTS:
            f.sort = sort
        else:
            errors["sort"] = _("“%(value)s” is not one of the available choices.") % {"value": sort}
    return f, errors


def customs_record_queryset(user, f: CustomsFilters) -> QuerySet:
    """The records the user sees that match the filters, unordered (the export streams it)."""
    return _filtered(user, f)


def _filtered(user, f: CustomsFilters) -> QuerySet:
    qs = customs_records_for_user(user)
    if f.hs:
        qs = qs.filter(hs_code__startswith=f.hs)
    if f.date_from is not None:
        qs = qs.filter(date__gte=f.date_from)
    if f.date_to is not None:
        qs = qs.filter(date__lte=f.date_to)
    if f.country:
        qs = qs.filter(importer_country=f.country)
    if f.origin:
        qs = qs.filter(origin_country=f.origin)
    if f.company is not None:
        qs = qs.filter(company_id=f.company)
    if f.customer:
        qs = qs.filter(company__name__icontains=f.customer)
    if f.supplier:
        qs = qs.filter(exporter_name__icontains=f.supplier)
    if f.importer:
        qs = qs.filter(importer_name__icontains=f.importer)
    if f.q:
        term = f.q
        qs = qs.filter(
            Q(product_description__icontains=term) | Q(bl_number__icontains=term)
            | Q(importer_name__icontains=term) | Q(exporter_name__icontains=term)
        )  # fmt: skip
    if f.linked == "linked":
        qs = qs.filter(company__isnull=False)
    elif f.linked == "unlinked":
        qs = qs.filter(company__isnull=True)
    elif f.linked == "forwarder":
        qs = qs.filter(is_forwarder=True)
    if f.job is not None:
        qs = qs.filter(import_job_id=f.job)
    return qs


def customs_record_list(user, f: CustomsFilters, *, cursor: str | None = None, limit: int = 50):
    """(rows, next_cursor, prev_cursor): one keyset page of the records the user sees, as dicts."""
    sort = SORTS.get(f.sort, SORTS["-date"])
    return keyset_page(_filtered(user, f), sort, cursor, limit, LIST_FIELDS)


# --- a customer's import history (the customer page's panel, the API summary) -------------------


def _month_key(day) -> str:
    return day.strftime("%Y-%m")


def _months_back(last: dt.date, n: int) -> list[str]:
    year, month = last.year, last.month
    out = []
    for _i in range(n):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def _kg(value) -> Decimal:
    return (value or ZERO).quantize(KG)


def _money(by_currency: dict[str, Decimal]) -> list[dict]:
    # SQLite sums decimals as floats: round back to the columns' places
    return [
        {"currency": c, "amount": v.quantize(CENT)}
        for c, v in sorted(by_currency.items(), key=lambda kv: -kv[1])
    ]


def company_customs_summary(company, *, months: int = 24, latest: int = 10, top: int = 10) -> dict:
    """What the customer's customs records show (the caller checked that the user sees `company`):
    {"count", "first_date", "last_date", "forwarder_count",
     "hs_codes": [{hs_code, count, weight_kg, value: [{currency, amount}], last_date}] by weight,
     "suppliers": [{name, key, country, count, weight_kg, first_date, last_date, hs_codes}] by count,
     "trend": [{month "YYYY-MM", count, weight_kg}] for the `months` months up to the last record,
     "latest": [records as dicts], "hs_total", "supplier_total"}. A few grouped queries, whatever
    the number of records."""
    qs = CustomsRecord.objects.filter(company_id=getattr(company, "pk", company))
    head = qs.aggregate(
        count=Count("id"), first_date=Min("date"), last_date=Max("date"),
        forwarder_count=Count("id", filter=Q(is_forwarder=True)),
    )  # fmt: skip
    out = {
        **head,
        "hs_codes": [],
        "suppliers": [],
        "trend": [],
        "latest": [],
        "hs_total": 0,
        "supplier_total": 0,
    }
    if not head["count"]:
        return out

    hs: dict[str, dict] = {}
    for r in qs.values("hs_code", "currency").annotate(
        n=Count("id"), w=Sum("weight_kg"), v=Sum("value"), last=Max("date")
    ):
        row = hs.setdefault(
            r["hs_code"],
            {"hs_code": r["hs_code"], "count": 0, "weight_kg": ZERO, "value": defaultdict(lambda: ZERO),
             "last_date": r["last"]},
        )  # fmt: skip
        row["count"] += r["n"]
        row["weight_kg"] += _kg(r["w"])
        if r["v"] is not None:
            row["value"][r["currency"]] += r["v"]
        row["last_date"] = max(row["last_date"], r["last"])
    hs_rows = sorted(hs.values(), key=lambda r: (-r["weight_kg"], -r["count"], r["hs_code"]))
    for r in hs_rows:
        r["value"] = _money(r["value"])
    out["hs_total"] = len(hs_rows)
    out["hs_codes"] = hs_rows[:top]

    suppliers: dict[str, dict] = {}
    for r in qs.values("exporter_key").annotate(
        n=Count("id"), w=Sum("weight_kg"), first=Min("date"), last=Max("date"), name=Max("exporter_name"),
        country=Max("exporter_country"),
    ):  # fmt: skip
        suppliers[r["exporter_key"]] = {
            "key": r["exporter_key"], "name": r["name"] or "", "country": r["country"] or "", "count": r["n"],
            "weight_kg": _kg(r["w"]), "first_date": r["first"], "last_date": r["last"], "hs_codes": [],
        }  # fmt: skip
    for key, code in qs.exclude(hs_code="").values_list("exporter_key", "hs_code").distinct():
        if key in suppliers and len(suppliers[key]["hs_codes"]) < 5:
            suppliers[key]["hs_codes"].append(code)
    supplier_rows = sorted(suppliers.values(), key=lambda r: (-r["count"], -r["weight_kg"], r["name"]))
    for r in supplier_rows:
        r["hs_codes"].sort()
    out["supplier_total"] = len(supplier_rows)
    out["suppliers"] = supplier_rows[:top]

    month_list = _months_back(head["last_date"], months)
    since = dt.date.fromisoformat(month_list[0] + "-01")
    per_month = {
        _month_key(r["month"]): r
        for r in qs.filter(date__gte=since)
        .annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(n=Count("id"), w=Sum("weight_kg"))
    }
    out["trend"] = [
        {"month": m, "count": per_month[m]["n"] if m in per_month else 0,
         "weight_kg": _kg(per_month[m]["w"]) if m in per_month else ZERO.quantize(KG)}
        for m in month_list
    ]  # fmt: skip
    out["latest"] = list(qs.order_by("-date", "-id").values(*LIST_FIELDS)[:latest])
    return out


def trend_chart(trend: list[dict], *, width: int = 480, height: int = 90) -> dict:
    """Bar geometry for the inline SVG of the monthly trend: by weight when the records carry
    weights, else by number of shipments. {"metric", "bars": [{x, y, w, h, month, count, weight_kg}],
    "max", "width", "height"}."""
    by_weight = any(t["weight_kg"] for t in trend)
    values = [t["weight_kg"] if by_weight else Decimal(t["count"]) for t in trend]
    top = max(values, default=ZERO) or Decimal(1)
    n = max(len(trend), 1)
    slot = width / n
    bars = []
    for i, (t, v) in enumerate(zip(trend, values, strict=True)):
        h = float(v / top) * (height - 4)
        bars.append({"x": round(i * slot + 1, 1), "w": round(max(slot - 2, 1), 1), "h": round(h, 1),
                     "y": round(height - h, 1), "month": t["month"], "count": t["count"],
                     "weight_kg": t["weight_kg"]})  # fmt: skip
    return {"metric": "weight" if by_weight else "count", "bars": bars, "max": top, "width": width,
            "height": height}  # fmt: skip
