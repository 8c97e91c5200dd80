"""Demo timelines: a few months of realistic export correspondence on demo customers, so a new
install shows what a working timeline, "last contact" and the reminder scan look like."""

from __future__ import annotations

import datetime as dt
import random
from html import escape

from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from tradecrm.customers.models import Company, Contact

from .models import CONTACT_TYPES, Direction, Interaction, InteractionSource, InteractionType
from .services import interaction_search_text

# (type, direction, subject, body): what export reps and their buyers exchange
SCRIPT = [
    (
        InteractionType.EMAIL,
        Direction.INBOUND,
        "Inquiry: {product}, {qty} pcs, FOB Ningbo",
        "Please quote your best price for {qty} pcs {product}, delivery to {city}. Payment T/T 30/70.",
    ),
    (
        InteractionType.EMAIL,
        Direction.OUTBOUND,
        "Quotation for {product}",
        "Dear {name},\nattached our quotation, valid 30 days. Lead time 35 days after deposit.",
    ),
    (
        InteractionType.CALL,
        Direction.OUTBOUND,
        "Follow-up call on the quotation",
        "Buyer compares with two other suppliers; target price 8% lower. Will decide next week.",
    ),
    (
        InteractionType.WHATSAPP,
        Direction.INBOUND,
        "Sample request",
        "Can you send 2 samples of {product} by DHL? We pay the courier.",
    ),
    (
        InteractionType.SAMPLE,
        Direction.OUTBOUND,
        "Samples sent by DHL",
        "2 pcs {product}, DHL tracking 1234567890, ETA 5 days.",
    ),
    (
        InteractionType.VIDEO,
        Direction.INTERNAL,
        "Video call: factory tour",
        "Showed the production line and QC station; buyer asked for the BSCI audit report.",
    ),
    (
        InteractionType.TRADE_SHOW,
        Direction.INTERNAL,
        "Met at the Canton Fair, booth 12.1 D05",
        "Interested in the new {product} series; exchanged cards; wants the catalogue in Spanish.",
    ),
    (
        InteractionType.WECHAT,
        Direction.INBOUND,
        "询价：{product}",
        "请报{qty}件{product}的CIF价格，目的港{city}。",
    ),
    (
        InteractionType.MEETING,
        Direction.INTERNAL,
        "Visit to our showroom",
        "Checked packing and shipping marks; agreed on carton labels in the buyer's language.",
    ),
    (
        InteractionType.NOTE,
        Direction.INTERNAL,
        "Credit check",
        "Bank reference OK; suggest 30% deposit, balance against B/L copy.",
    ),
]
PRODUCTS = [
    "LED panel lights",
    "solar inverters",
    "stainless steel cookware",
    "PVC garden hoses",
    "ceramic tiles",
    "bamboo cutting boards",
    "hydraulic fittings",
    "cotton towels",
]


def demo_timelines(*, seed: int, limit: int = 2000, now: dt.datetime | None = None) -> int:
    """Add 0–6 entries over the last 120 days to up to `limit` of the newest customers that have
    no timeline yet; returns how many entries were added."""
    rng = random.Random(seed)
    now = now or timezone.now()
    companies = list(
        Company.objects.filter(interactions__isnull=True)
        .order_by("-id")
        .values("id", "name", "city", "owner_id")[:limit]
    )
    contacts: dict[int, tuple[int, str]] = {}
    for c in Contact.objects.filter(company_id__in=[c["id"] for c in companies]).order_by(
        "-is_primary", "id"
    ):
        contacts.setdefault(c.company_id, (c.pk, c.full_name))
    rows = []
    for company in companies:
        product, qty = rng.choice(PRODUCTS), rng.choice([500, 1000, 2000, 5000, 10000])
        contact_id, contact_name = contacts.get(company["id"], (None, ""))
        when = now - dt.timedelta(days=rng.randint(10, 120), hours=rng.randint(0, 23))
        for kind, direction, subject, body in SCRIPT[: rng.randint(0, 6)]:
            fill = {"product": product, "qty": qty, "city": company["city"] or "Hamburg",
                    "name": contact_name or company["name"]}  # fmt: skip
            subject, text = subject.format(**fill), body.format(**fill)
            body_html = escape(text).replace("\n", "<br>")
            rows.append(
                Interaction(
                    company_id=company["id"],
                    contact_id=contact_id,
                    type=kind,
                    direction=direction,
                    occurred_at=when,
                    subject=subject,
                    body=body_html,
                    source=InteractionSource.MANUAL,
                    owner_id=company["owner_id"],
                    search_text=interaction_search_text(subject, body_html, contact_name),
                )  # fmt: skip
            )
            when = min(when + dt.timedelta(days=rng.randint(1, 12), hours=rng.randint(1, 8)), now)
    Interaction.objects.bulk_create(rows, batch_size=1000)
    latest = (
        Interaction.objects.filter(company_id=OuterRef("pk"), type__in=CONTACT_TYPES)
        .values("company_id")
        .annotate(m=Max("occurred_at"))
        .values("m")
    )
    Company.objects.filter(pk__in=[c["id"] for c in companies]).update(last_contact_at=Subquery(latest))
    return len(rows)
