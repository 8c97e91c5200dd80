"""Alerts from a customer's customs records, as notifications to the customer's owner.

What a sales rep wants to hear about their buyer, from the records dated in the last
`TRADECRM_CUSTOMS_ALERT_DAYS` days (90 by default: older history is not news, and importing five
years of records must not flood anyone):

- new supplier: the buyer's first record from an exporter it had not bought from before (and it
  has older records: a buyer's very first record is no "new" supplier) — maybe a competitor;
- new HS code: the first record under a 6-digit HS heading the buyer had not imported before;
- volume surge: a month whose weight (or number of shipments, when the records carry no weights)
  is at least twice the monthly average of the six months before, with a real difference
  (≥ 1,000 kg or ≥ 3 shipments) and at least three months of history;
- sample-size purchase: a shipment of at most 50 kg (or a value of at most 500 in USD/EUR/GBP
  when no weight is given) that is also at most a tenth of the buyer's usual (median) shipment, or
  the buyer has fewer than three other records — a buyer testing a supplier.

Each alert is one notification with a key (the customer and the supplier / HS heading / month /
record), so running the scan again — nightly, and after every import for the customers it
touched — never repeats one. Records not linked to a customer, and customers without an active
owner, raise nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import statistics
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.core import geo
from tradecrm.customers.models import Company
from tradecrm.followups.models import Notification

from .models import CustomsRecord

NEW_SUPPLIER = "customs_new_supplier"
NEW_HS_CODE = "customs_new_hs_code"
VOLUME_SURGE = "customs_volume_surge"
SAMPLE_PURCHASE = "customs_sample_purchase"
KINDS = (NEW_SUPPLIER, NEW_HS_CODE, VOLUME_SURGE, SAMPLE_PURCHASE)

DEFAULT_DAYS = 90
SURGE_FACTOR = Decimal(2)
SURGE_BASELINE_MONTHS = 6
SURGE_HISTORY_MONTHS = 3
SURGE_MIN_KG = Decimal(1000)
SURGE_MIN_SHIPMENTS = 3
SAMPLE_MAX_KG = Decimal(50)
SAMPLE_MAX_VALUE = Decimal(500)
SAMPLE_VALUE_CURRENCIES = ("USD", "EUR", "GBP")
SAMPLE_RATIO = Decimal("0.1")
SAMPLE_MIN_HISTORY = 3
COMPANY_CHUNK = 500
FIELDS = (
    "id", "company_id", "date", "exporter_key", "exporter_name", "exporter_country", "hs_code",
    "product_description", "weight_kg", "value", "currency", "quantity", "quantity_unit",
)  # fmt: skip


def alert_days() -> int:
    return int(getattr(settings, "TRADECRM_CUSTOMS_ALERT_DAYS", DEFAULT_DAYS))


def _month(day: dt.date) -> tuple[int, int]:
    return day.year, day.month


def _shift(month: tuple[int, int], n: int) -> tuple[int, int]:
    index = month[0] * 12 + month[1] - 1 + n
    return index // 12, index % 12 + 1


def _plain(d: Decimal) -> str:
    text = format(d.quantize(Decimal("0.1")).normalize(), "f")
    return text


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


def _record_url(record_id: int) -> str:
    return reverse("customs:detail", args=[record_id])


def _company_alerts(company: dict, records: list[dict], start: dt.date) -> list[dict]:
    """The alerts one customer's records (oldest first) raise, as notification fields."""
    cid = company["id"]
    base = {"company": company["name"], "company_id": cid}
    alerts: list[dict] = []
    window = [r for r in records if r["date"] >= start]
    if not window:
        return alerts
    first_date = records[0]["date"]

    first_by_supplier: dict[str, dict] = {}
    first_by_heading: dict[str, dict] = {}
    for r in records:  # oldest first: the first seen is the first
        if r["exporter_key"]:
            first_by_supplier.setdefault(r["exporter_key"], r)
        if r["hs_code"]:
            first_by_heading.setdefault(r["hs_code"][:6], r)
    for key, r in first_by_supplier.items():
        if r["date"] >= start and r["date"] > first_date:
            alerts.append({
                "kind": NEW_SUPPLIER, "key": f"customs_supplier:{cid}:{_digest(key)}", "record": r["id"],
                "params": {**base, "supplier": r["exporter_name"], "country": r["exporter_country"],
                           "date": r["date"].isoformat(), "hs": r["hs_code"], "record": r["id"]},
            })  # fmt: skip
    for heading, r in first_by_heading.items():
        if r["date"] >= start and r["date"] > first_date:
            alerts.append({
                "kind": NEW_HS_CODE, "key": f"customs_hs:{cid}:{heading}", "record": r["id"],
                "params": {**base, "hs": heading, "product": _short(r["product_description"]),
                           "supplier": r["exporter_name"], "date": r["date"].isoformat(), "record": r["id"]},
            })  # fmt: skip

    alerts += _sample_alerts(base, records, window)
    alerts += _surge_alerts(base, records, window)
    return alerts


def _sample_alerts(base: dict, records: list[dict], window: list[dict]) -> list[dict]:
    weights = [r["weight_kg"] for r in records if r["weight_kg"] is not None]
    values: dict[str, list[Decimal]] = defaultdict(list)
    for r in records:
        if r["weight_kg"] is None and r["value"] is not None:
            values[r["currency"]].append(r["value"])
    out = []
    for r in window:
        if r["weight_kg"] is not None:
            amount, pool, limit = r["weight_kg"], weights, SAMPLE_MAX_KG
            shown = _("%(n)s kg") % {"n": _plain(amount)}
        elif r["value"] is not None and r["currency"] in SAMPLE_VALUE_CURRENCIES:
            amount, pool, limit = r["value"], values[r["currency"]], SAMPLE_MAX_VALUE
            shown = f"{r['currency']} {_plain(amount)}"
        else:
            continue
        if amount > limit:
            continue
        others = list(pool)
        others.remove(amount)
        if len(others) >= SAMPLE_MIN_HISTORY and amount > statistics.median(others) * SAMPLE_RATIO:
            continue  # small, but this buyer always buys small lots
        out.append({
            "kind": SAMPLE_PURCHASE, "key": f"customs_sample:{r['id']}", "record": r["id"],
            "params": {**base, "amount": shown, "supplier": r["exporter_name"], "hs": r["hs_code"],
                       "product": _short(r["product_description"]), "date": r["date"].isoformat(), "record": r["id"]},
        })  # fmt: skip
    return out


def _surge_alerts(base: dict, records: list[dict], window: list[dict]) -> list[dict]:
    cid = base["company_id"]
    with_weight = sum(1 for r in records if r["weight_kg"] is not None)
    by_weight = with_weight >= 0.8 * len(records)
    totals: dict[tuple[int, int], Decimal] = defaultdict(lambda: Decimal(0))
    for r in records:
        if by_weight:
            totals[_month(r["date"])] += r["weight_kg"] or Decimal(0)
        else:
            totals[_month(r["date"])] += 1
    first_month = _month(records[0]["date"])
    out = []
    for month in sorted({_month(r["date"]) for r in window}):
        if _shift(first_month, SURGE_HISTORY_MONTHS) > month:
            continue  # too little history to call anything a surge
        baseline = sum((totals.get(_shift(month, -i), Decimal(0)) for i in range(1, SURGE_BASELINE_MONTHS + 1)),
                       Decimal(0)) / SURGE_BASELINE_MONTHS  # fmt: skip
        total = totals[month]
        minimum = SURGE_MIN_KG if by_weight else SURGE_MIN_SHIPMENTS
        if baseline <= 0 or total < baseline * SURGE_FACTOR or total - baseline < minimum:
            continue
        label = f"{month[0]:04d}-{month[1]:02d}"
        out.append({
            "kind": VOLUME_SURGE, "key": f"customs_surge:{cid}:{label}", "record": None,
            "month": month,
            "params": {**base, "month": label, "metric": "weight" if by_weight else "shipments",
                       "amount": _plain(total), "average": _plain(baseline), "factor": _plain(total / baseline)},
        })  # fmt: skip
    return out


def _surge_url(company_id: int, month: tuple[int, int]) -> str:
    first = dt.date(month[0], month[1], 1)
    nxt = _shift(month, 1)
    last = dt.date(nxt[0], nxt[1], 1) - dt.timedelta(days=1)
    return f"{reverse('customs:list')}?company={company_id}&date_from={first}&date_to={last}"


def _chunks(ids: list[int], n: int):
    for i in range(0, len(ids), n):
        yield ids[i : i + n]


def scan(company_ids: Iterable[int] | None = None, *, today: dt.date | None = None) -> int:
    """Create the alerts not created yet for these customers (all with recent records when None);
    returns how many notifications were created."""
    today = today or timezone.localdate()
    start = today - dt.timedelta(days=alert_days())
    recent = CustomsRecord.objects.filter(date__gte=start, company__isnull=False)
    if company_ids is not None:
        wanted = sorted({int(c) for c in company_ids if c})
        ids: list[int] = []
        for chunk in _chunks(wanted, COMPANY_CHUNK):
            ids += recent.filter(company_id__in=chunk).values_list("company_id", flat=True).distinct()
    else:
        ids = list(recent.values_list("company_id", flat=True).distinct())
    created = 0
    for chunk in _chunks(sorted(set(ids)), COMPANY_CHUNK):
        created += _scan_chunk(chunk, start)
    return created


def _scan_chunk(company_ids: list[int], start: dt.date) -> int:
    companies = {
        c["id"]: c
        for c in Company.objects.filter(
            id__in=company_ids, owner__isnull=False, owner__is_active=True
        ).values("id", "name", "owner_id")
    }
    if not companies:
        return 0
    records: dict[int, list[dict]] = defaultdict(list)
    for r in (
        CustomsRecord.objects.filter(company_id__in=list(companies))
        .order_by("company_id", "date", "id")
        .values(*FIELDS)
        .iterator(chunk_size=5000)
    ):
        records[r["company_id"]].append(r)
    now = timezone.now()
    pending: list[Notification] = []
    for cid, company in companies.items():
        for a in _company_alerts(company, records.get(cid, []), start):
            if a["kind"] == VOLUME_SURGE:
                url = _surge_url(cid, a["month"])
            else:
                url = _record_url(a["record"])
            pending.append(Notification(user_id=company["owner_id"], kind=a["kind"], params=a["params"],
                                        url=url[:255], company_id=cid, key=a["key"][:128], created_at=now))  # fmt: skip
    if not pending:
        return 0
    existing = set()
    users = {n.user_id for n in pending}
    keys = [n.key for n in pending]
    for chunk in _chunks(keys, 2000):
        existing.update(
            Notification.objects.filter(user_id__in=users, key__in=chunk).values_list("user_id", "key")
        )
    fresh = [n for n in pending if (n.user_id, n.key) not in existing]
    with transaction.atomic():
        # ignore_conflicts: a scan running at the same time may have created some already
        Notification.objects.bulk_create(fresh, batch_size=500, ignore_conflicts=True)
    return len(fresh)


# --- texts (in the reader's language) -----------------------------------------------------------


class _P(dict):
    def __missing__(self, key):
        return ""


def _country(code: str) -> str:
    from django.utils.translation import get_language

    return geo.country_name(code, get_language() or "en") if code else ""


def render_new_supplier(p: dict) -> str:
    values = _P(p)
    values["country"] = _country(p.get("country", ""))
    if values["country"]:
        return _("%(company)s bought from a new supplier: %(supplier)s (%(country)s), on %(date)s") % values
    return _("%(company)s bought from a new supplier: %(supplier)s, on %(date)s") % values


def render_new_hs_code(p: dict) -> str:
    if p.get("product"):
        return _("%(company)s imported under a new HS code %(hs)s (%(product)s) on %(date)s") % p
    return _("%(company)s imported under a new HS code %(hs)s on %(date)s") % p


def render_volume_surge(p: dict) -> str:
    if p.get("metric") == "weight":
        return (
            _(
                "%(company)s imported %(amount)s kg in %(month)s, %(factor)s× the monthly average of the 6 months before"
            )
            % p
        )
    return (
        _(
            "%(company)s had %(amount)s shipments in %(month)s, %(factor)s× the monthly average of the 6 months before"
        )
        % p
    )


def render_sample_purchase(p: dict) -> str:
    return _("%(company)s bought a sample-size lot (%(amount)s) from %(supplier)s on %(date)s") % p


RENDERERS = {
    NEW_SUPPLIER: render_new_supplier,
    NEW_HS_CODE: render_new_hs_code,
    VOLUME_SURGE: render_volume_surge,
    SAMPLE_PURCHASE: render_sample_purchase,
}
