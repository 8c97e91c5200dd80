"""The campaign report: delivered, bounced, clicked (unique), replied, unsubscribed — per A/B
variant — the opportunities and orders of the recipients' companies created within the
attribution window after the send (count and amount in the base currency), opens (labelled
unreliable: mail clients pre-fetch or block images), and the effect compared with the owner's
previous campaigns.

Winner of the A/B test: the variant with the higher rate of the campaign's metric (unique clicks or
replies per delivered mail) when each variant has at least 30 delivered mails and a two-proportion
z-test gives |z| ≥ 1.96 (about 95 % confidence); otherwise no winner is shown."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q

from tradecrm.core.fx import MissingRate, RateBook, base_currency
from tradecrm.mailbox.models import TrackingEvent, TrackingKind

from .models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus

MIN_PER_VARIANT = 30
Z_95 = 1.96
PREVIOUS = 5
RATE_KEYS = ("delivery_rate", "click_rate", "reply_rate", "bounce_rate", "unsubscribe_rate")


def _rate(n: int, d: int) -> float | None:
    return round(100.0 * n / d, 2) if d else None


def counts(campaign: Campaign) -> dict:
    """{"all": {...}, "a": {...}, "b": {...}} of recipient counts."""
    base = CampaignRecipient.objects.filter(campaign=campaign)
    sent_q = Q(status__in=[RecipientStatus.SENT, RecipientStatus.BOUNCED], sent_at__isnull=False)
    rows = base.values("variant").annotate(
        recipients=Count("id", filter=~Q(status=RecipientStatus.SKIPPED)),
        skipped=Count("id", filter=Q(status=RecipientStatus.SKIPPED)),
        queued=Count("id", filter=Q(status=RecipientStatus.QUEUED)),
        sent=Count("id", filter=sent_q),
        bounced=Count("id", filter=Q(status=RecipientStatus.BOUNCED)),
        failed=Count("id", filter=Q(status=RecipientStatus.FAILED)),
        cancelled=Count("id", filter=Q(status=RecipientStatus.CANCELLED)),
        clicked=Count("id", filter=Q(message__clicked_at__isnull=False)),
        replied=Count("id", filter=Q(message__replied_at__isnull=False)),
        opened=Count("id", filter=Q(message__opened_at__isnull=False)),
    )
    unsub = dict(
        TrackingEvent.objects.filter(kind=TrackingKind.UNSUBSCRIBE, message__campaign_recipient__campaign=campaign)
        .values("message__campaign_recipient__variant").annotate(n=Count("message_id", distinct=True))
        .values_list("message__campaign_recipient__variant", "n")
    )  # fmt: skip
    keys = (
        "recipients",
        "skipped",
        "queued",
        "sent",
        "bounced",
        "failed",
        "cancelled",
        "clicked",
        "replied",
        "opened",
    )
    out = {"all": dict.fromkeys(keys, 0)}
    out["all"]["unsubscribed"] = 0
    for r in rows:
        v = r["variant"] or ""
        if v in ("a", "b"):
            out[v] = {k: r[k] for k in keys}
            out[v]["unsubscribed"] = unsub.get(v, 0)
        for k in keys:
            out["all"][k] += r[k]
    out["all"]["unsubscribed"] = sum(unsub.values())
    for d in out.values():
        d["delivered"] = d["sent"] - d["bounced"]
        d["delivery_rate"] = _rate(d["delivered"], d["sent"])
        d["click_rate"] = _rate(d["clicked"], d["delivered"])
        d["reply_rate"] = _rate(d["replied"], d["delivered"])
        d["bounce_rate"] = _rate(d["bounced"], d["sent"])
        d["unsubscribe_rate"] = _rate(d["unsubscribed"], d["delivered"])
        d["open_rate_unreliable"] = _rate(d["opened"], d["delivered"])
    return out


def winner(campaign: Campaign, c: dict) -> dict:
    """{"variant": "a"|"b"|None, "z": float|None, "reason": str} by the rule in the module doc."""
    if not campaign.ab_test or "a" not in c or "b" not in c:
        return {"variant": None, "z": None, "reason": "no_test"}
    key = "clicked" if campaign.winner_metric == "clicks" else "replied"
    a, b = c["a"], c["b"]
    na, nb = a["delivered"], b["delivered"]
    if na < MIN_PER_VARIANT or nb < MIN_PER_VARIANT:
        return {"variant": None, "z": None, "reason": "too_few"}
    pa, pb = a[key] / na, b[key] / nb
    pooled = (a[key] + b[key]) / (na + nb)
    se = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    if se == 0:
        return {"variant": None, "z": 0.0, "reason": "no_difference"}
    z = (pb - pa) / se
    if abs(z) < Z_95:
        return {"variant": None, "z": round(z, 2), "reason": "no_difference"}
    return {"variant": "b" if z > 0 else "a", "z": round(z, 2), "reason": "significant"}


def attribution(campaign: Campaign) -> dict:
    """Opportunities and orders of the companies mailed, created within `attribution_days` after
    the company's first sent mail of the campaign, per variant of that mail."""
    from tradecrm.orders.models import Order
    from tradecrm.sales.models import Opportunity

    first: dict[int, tuple] = {}
    for company_id, sent, variant in (
        CampaignRecipient.objects.filter(campaign=campaign, sent_at__isnull=False)
        .order_by("sent_at", "id")
        .values_list("company_id", "sent_at", "variant")
    ):
        first.setdefault(company_id, (sent, variant))
    days = dt.timedelta(days=campaign.attribution_days)
    cur = base_currency()
    out = {v: {"opportunities": 0, "opportunity_amount": Decimal("0"), "orders": 0, "order_amount": Decimal("0"),
               "unconverted": 0} for v in ("all", "a", "b")}  # fmt: skip
    if not first:
        return {"currency": cur, **out}
    lo = min(f[0] for f in first.values())
    hi = max(f[0] for f in first.values()) + days
    book = RateBook()
    ids = list(first)
    for i in range(0, len(ids), 2000):
        part = ids[i : i + 2000]
        opps = Opportunity.objects.filter(
            company_id__in=part, created_at__gte=lo, created_at__lte=hi
        ).values_list("company_id", "created_at", "amount", "currency")
        orders = Order.objects.filter(company_id__in=part, created_at__gte=lo, created_at__lte=hi).exclude(
            status="cancelled").values_list("company_id", "created_at", "total_amount", "currency", "fx_rate",
                                            "base_currency")  # fmt: skip
        for kind, rows in (("opportunit", opps), ("order", orders)):
            for row in rows:
                company_id, created, amount, currency = row[:4]
                sent, variant = first[company_id]
                if not sent <= created <= sent + days:
                    continue
                try:
                    if kind == "order" and row[4] and row[5] == cur:
                        value = (amount * row[4]).quantize(Decimal("0.01"))
                    else:
                        value = book.to_base(amount, currency, created.date())
                except MissingRate:
                    value = None
                for v in ("all", variant) if variant in ("a", "b") else ("all",):
                    d = out[v]
                    n_key, a_key = (
                        ("opportunities", "opportunity_amount")
                        if kind == "opportunit"
                        else ("orders", "order_amount")
                    )
                    d[n_key] += 1
                    if value is None:
                        d["unconverted"] += 1
                    else:
                        d[a_key] += value
    return {"currency": cur, **out}


def previous(campaign: Campaign, n: int = PREVIOUS) -> list[Campaign]:
    """The owner's (or, with a team, the team's) last `n` campaigns launched before this one."""
    if campaign.launched_at is None:
        return []
    qs = Campaign.objects.filter(
        launched_at__lt=campaign.launched_at,
        status__in=[CampaignStatus.SENDING, CampaignStatus.DONE, CampaignStatus.PAUSED],
    )
    qs = qs.filter(team_id=campaign.team_id) if campaign.team_id else qs.filter(owner_id=campaign.owner_id)
    return list(qs.exclude(pk=campaign.pk).order_by("-launched_at", "-id")[:n])


def effect(campaign: Campaign, mine: dict) -> dict:
    """The campaign's rates next to the average of the previous ones, with the delta in points."""
    prev = previous(campaign)
    rows = {k: [] for k in RATE_KEYS}
    for p in prev:
        c = counts(p)["all"]
        for k in RATE_KEYS:
            if c[k] is not None:
                rows[k].append(c[k])
    out = {"previous": [{"id": p.pk, "name": p.name} for p in prev], "rates": {}}
    for k in RATE_KEYS:
        avg = round(sum(rows[k]) / len(rows[k]), 2) if rows[k] else None
        this = mine.get(k)
        out["rates"][k] = {
            "this": this,
            "previous_average": avg,
            "delta_points": round(this - avg, 2) if this is not None and avg is not None else None,
        }
    return out


def report(campaign: Campaign) -> dict:
    c = counts(campaign)
    by_variant = defaultdict(dict)
    attr = attribution(campaign)
    for v in ("all", "a", "b"):
        if v in c:
            by_variant[v] = {
                **c[v],
                **{k: (str(x) if isinstance(x, Decimal) else x) for k, x in attr[v].items()},
            }
    return {
        "campaign": campaign.pk,
        "status": campaign.status,
        "currency": attr["currency"],
        "totals": by_variant["all"],
        "variants": {v: by_variant[v] for v in ("a", "b") if v in by_variant and campaign.ab_test},
        "winner": winner(campaign, c),
        "effect": effect(campaign, c["all"]),
        "launch": campaign.launch_counts,
        "opens_note": "unreliable",
    }


def chart(rep: dict, labels: dict) -> dict:
    """The ECharts spec (tradecrm/reports/static/reports/charts.js) of the report: a bar per
    measure, one series per variant (or the totals)."""
    keys = ("delivered", "clicked", "replied", "bounced", "unsubscribed", "opportunities", "orders")
    series_src = rep["variants"] or {"all": rep["totals"]}
    return {"type": "bar", "categories": [labels[k] for k in keys],
            "series": [{"name": labels.get(v, v), "data": [series_src[v].get(k, 0) for k in keys]}
                       for v in series_src]}  # fmt: skip
