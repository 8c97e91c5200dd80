"""Demo inquiries, opportunities and samples: the front of the export deal flow, on demo customers.

Everything is written through the services, so every value is validated, audited, searchable and
on the stage history or timeline like a rep's input. The services stamp "now" on what happens;
`backdate` then moves those stamps (when the deal began, when each stage was entered, when the
buyer was answered) to the dates the demo story says, so the board shows days in stage, the
forecast spreads over months and the stale-deal scan has work. The documents and orders of the
same deals are in `documents.demo` and `orders.demo`; `orders.demo.demo_deal_flow` runs them all.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import OuterRef, Subquery

from tradecrm.catalog.models import Product
from tradecrm.customers.models import Company, Contact

from .models import (
    Inquiry,
    InquiryChannel,
    InquiryStatus,
    LossReason,
    Opportunity,
    OpportunityStageChange,
    OpportunityStatus,
    Sample,
    Stage,
    StageKind,
)
from .services import (
    inquiry_convert,
    inquiry_create,
    inquiry_reply,
    inquiry_set_status,
    opportunity_create,
    opportunity_move_stage,
    sample_create,
    sample_feedback,
    sample_mark_received,
    sample_mark_sent,
    sample_set_preparing,
)
from .validation import default_pipeline

# --- the deals ------------------------------------------------------------------------------------

# (stage the deal ends in, what documents it gets, how many of the 80 deals of a full demo). The
# documents decide most stages themselves (an issued quotation moves its deal to "quoted", an
# issued PI to "PI / contract", an order to "won"); the rest are moved by hand like a rep would.
# The kinds are listed most telling first: a small demo takes one of each from the top.
DEALS: tuple[tuple[str, str, int], ...] = (
    ("won", "order", 10),
    ("contract", "pi_issued", 3),
    ("quoted", "q_issued", 8),
    ("negotiation", "q_revised", 1),
    ("contract", "pi_draft", 3),
    ("inquiry", "q_draft", 4),
    ("lost", "q_rejected", 2),
    ("sample", "q_issued", 4),
    ("negotiation", "q_accepted", 2),
    ("lost", "q_expired", 1),
    ("negotiation", "q_issued", 3),
    ("negotiation", "q_draft", 1),
    ("inquiry", "", 16),
    ("quoted", "", 4),
    ("sample", "", 6),
    ("negotiation", "", 3),
    ("lost", "", 9),
)
FULL_DEALS = sum(n for _s, _d, n in DEALS)  # 80
FULL_INQUIRIES = 60  # the deals' own (every fourth deal began as one) and 40 more
FROM_INQUIRY = 4  # every FROM_INQUIRY-th deal began as an inquiry converted in one step


def deal_plan(n: int) -> list[tuple[str, str]]:
    """n (stage, documents) pairs: round-robin over DEALS, so any n ≥ len(DEALS) has every kind
    and n = FULL_DEALS has each kind as often as listed."""
    left = {i: count for i, (_s, _d, count) in enumerate(DEALS)}
    out: list[tuple[str, str]] = []
    while len(out) < n:
        progressed = False
        for i, (stage, docs, _count) in enumerate(DEALS):
            if len(out) >= n:
                break
            if left[i] > 0 or sum(left.values()) == 0:
                out.append((stage, docs))
                left[i] = max(left[i] - 1, 0)
                progressed = True
        if not progressed:  # pragma: no cover - every pass takes at least one
            break
    return out


@dataclass
class DemoCustomer:
    company: Company
    owner: Any  # the rep who owns the customer: every change on its deals is theirs
    contact_id: int | None
    contact_name: str

    @property
    def currency(self) -> str:
        """What the customer is quoted in: euros in the euro area, US dollars everywhere else."""
        return "EUR" if self.company.currency == "EUR" else "USD"


@dataclass
class DemoDeal:
    """One deal of the demo story and what became of it (filled in as the services run)."""

    customer: DemoCustomer
    stage: str  # the stage key it ends in
    # "", q_draft, q_issued, q_accepted, q_revised, q_rejected, q_expired, pi_draft, pi_issued, order
    docs: str
    start: dt.date  # the day the buyer first asked
    items: list[tuple[Product, Decimal]]  # products and quantities
    from_inquiry: bool = False
    order_story: tuple = ()  # for docs == "order": see orders.demo.ORDER_STORY
    inquiry: Inquiry | None = None
    opportunity: Opportunity | None = None
    dates: dict[str, dt.date] = field(default_factory=dict)  # quote, revision, pi, order
    # when the documents moved the deal (stage key: date), for the stage history
    stage_dates: dict[str, dt.date] = field(default_factory=dict)
    quotations: list = field(default_factory=list)
    proforma: Any = None
    order: Any = None

    @property
    def currency(self) -> str:
        return self.customer.currency


# --- reference tables ---------------------------------------------------------------------------

CHANNELS = (  # channel, weight
    (InquiryChannel.ALIBABA, 24), (InquiryChannel.MADE_IN_CHINA, 8), (InquiryChannel.GLOBAL_SOURCES, 4),
    (InquiryChannel.OTHER_B2B, 3), (InquiryChannel.WEBSITE, 13), (InquiryChannel.EMAIL, 14),
    (InquiryChannel.TRADE_SHOW, 12), (InquiryChannel.SOCIAL, 6), (InquiryChannel.WHATSAPP, 9),
    (InquiryChannel.PHONE, 3), (InquiryChannel.REFERRAL, 4),
)  # fmt: skip
SHOWS = ("Canton Fair, booth 12.1 D05", "Canton Fair, booth 9.2 F31", "Ambiente Frankfurt, hall 4.1 C88",
         "The Big 5 Dubai, booth Z3 B120", "Hong Kong Electronics Fair, 5B-D12", "NRA Show Chicago, booth 6451")  # fmt: skip
PAGES = ("/products/vacuum-flasks", "/products/led-panel-lights", "/contact", "/products/kitchenware",
         "/solar/hybrid-inverters", "/catalogue-download")  # fmt: skip
SOCIAL = ("LinkedIn message", "Facebook page", "Instagram DM", "YouTube comment")
REFERRERS = ("referred by Al Noor Trading", "referred by our agent in Lagos", "referred by Hamburg Home GmbH")
PORTS = {  # destination ports by country
    "US": ("Los Angeles", "Long Beach", "New York", "Savannah", "Houston"), "CA": ("Vancouver", "Toronto"),
    "GB": ("Felixstowe", "Southampton"), "DE": ("Hamburg", "Bremerhaven"), "FR": ("Le Havre", "Marseille"),
    "IT": ("Genoa", "La Spezia"), "ES": ("Valencia", "Barcelona"), "NL": ("Rotterdam",), "PL": ("Gdańsk",),
    "AE": ("Jebel Ali",), "SA": ("Jeddah", "Dammam"), "EG": ("Alexandria", "Port Said"), "TR": ("Mersin", "Ambarli"),
    "MX": ("Manzanillo", "Lázaro Cárdenas"), "BR": ("Santos", "Paranaguá"), "CL": ("San Antonio", "Valparaíso"),
    "CO": ("Buenaventura", "Cartagena"), "AR": ("Buenos Aires",), "VN": ("Ho Chi Minh City", "Hai Phong"),
    "TH": ("Laem Chabang",), "ID": ("Tanjung Priok", "Surabaya"), "MY": ("Port Klang", "Penang"),
    "SG": ("Singapore",), "PH": ("Manila",),
}  # fmt: skip
# buyers who wrote in but are no customers yet: (name, company, country, email domain, currency)
NEW_BUYERS = (
    ("Jason Miller", "Lakeside Home Goods LLC", "US", "lakesidehomegoods.com", "USD"),
    ("Emily Carter", "Northgate Supply Co.", "US", "northgatesupply.com", "USD"),
    ("Lukas Becker", "Becker Haushaltswaren GmbH", "DE", "becker-haushalt.de", "EUR"),
    ("Sophie Laurent", "Maison Laurent SAS", "FR", "maison-laurent.fr", "EUR"),
    ("Marco Bianchi", "Bianchi Forniture S.r.l.", "IT", "bianchiforniture.it", "EUR"),
    ("Ahmed Al Mansouri", "Al Mansouri General Trading LLC", "AE", "almansouri-trading.ae", "USD"),
    ("Khalid Al Harbi", "Al Harbi Electrical Est.", "SA", "alharbi-electrical.com.sa", "USD"),
    ("Carlos Ramírez", "Distribuidora Ramírez S.A. de C.V.", "MX", "disramirez.com.mx", "USD"),
    ("Ana Souza", "Casa Souza Utilidades Ltda.", "BR", "casasouza.com.br", "USD"),
    ("Nguyen Van An", "An Phat Trading Co., Ltd.", "VN", "anphat-trading.vn", "USD"),
    ("Siti Rahma", "PT Sinar Jaya Abadi", "ID", "sinarjaya.co.id", "USD"),
    ("Tan Wei Ming", "Mingtai Hardware Sdn. Bhd.", "MY", "mingtai.com.my", "USD"),
    ("Oliver Hughes", "Hughes Garden Centres Ltd", "GB", "hughesgarden.co.uk", "GBP"),
    ("Jan de Vries", "De Vries Keukens B.V.", "NL", "devrieskeukens.nl", "EUR"),
    ("Piotr Nowak", "Nowak Dom Sp. z o.o.", "PL", "nowakdom.pl", "EUR"),
    ("Mehmet Yılmaz", "Yılmaz Dış Ticaret A.Ş.", "TR", "yilmazdt.com.tr", "USD"),
    ("Valentina Rojas", "Rojas Importaciones SpA", "CL", "rojasimport.cl", "USD"),
    ("Mohamed Hassan", "Nile Star Trading Co.", "EG", "nilestar.com.eg", "USD"),
    ("Somchai Wongsa", "Siam Kitchen Supply Co., Ltd.", "TH", "siamkitchen.co.th", "USD"),
    ("Maria Santos", "Santos Home Depot Inc.", "PH", "santoshome.com.ph", "USD"),
)  # fmt: skip
SUBJECTS = (
    "Inquiry: {product}, {qty} {unit}",
    "RFQ {product} – {qty} {unit}",
    "Price request for {product}",
    "Need quotation: {product} to {port}",
    "{product} for our {season} program",
    "询价：{product_zh} {qty}",
)
MESSAGES = (
    "Please quote your best FOB price for {qty} {unit} of {product}. Destination {port}. Payment T/T 30/70.",
    "We are looking for a reliable supplier of {product}. Please send price list, MOQ and lead time.",
    "Hello, can you offer {product}, {qty} {unit}, CIF {port}? We need CE certificates and custom logo.",
    "We met at your booth. Please send the catalogue and prices for {product}; first order about {qty} {unit}.",
    "请报{product_zh}的价格，数量{qty}，目的港{port}，付款方式T/T。",
)
SEASONS = ("spring", "summer", "back-to-school", "holiday", "Ramadan", "Q3")
LOSS_KEYS = ("price", "competitor", "no_reply", "lead_time", "moq", "payment_terms", "quality")
FEEDBACK = (
    "Quality good, packing could be stronger. Logo print sharp. Will discuss the order quantity.",
    "Colour slightly darker than the approved sample; otherwise OK. Wants 3% better price.",
    "Passed their lab test (LFGB). Buyer happy, sending PO next week.",
)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def unit_price(product: Product, currency: str, quantity: Decimal, on: dt.date) -> Decimal:
    """The list price for the quantity (the demo price lists), else a cost-plus price."""
    from tradecrm.catalog.selectors import price_for

    price = price_for(product, currency, quantity, on)
    if price is None:
        usd = (product.purchase_cost_cny or Decimal("10")) / Decimal("7.1") * Decimal("1.25")
        price = usd * (Decimal("0.9") if currency == "EUR" else Decimal("1"))
    return Decimal(price).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def items_value(items: list[tuple[Product, Decimal]], currency: str, on: dt.date) -> Decimal:
    return _money(sum((q * unit_price(p, currency, q, on) for p, q in items), Decimal("0")))


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def _fill(text: str, deal_or_items, port: str, rng: random.Random) -> str:
    product, qty = deal_or_items[0]
    return text.format(
        product=product.name_en, product_zh=product.name_zh or product.name_en, qty=f"{qty:,.0f}",
        unit=product.get_unit_display(), port=port, season=rng.choice(SEASONS),
    )  # fmt: skip


# --- customers and products ---------------------------------------------------------------------


def customer_pool(limit: int) -> list[DemoCustomer]:
    """The newest customers with an active owner and no deal yet (reruns take the new ones)."""
    primary = Contact.objects.filter(company_id=OuterRef("pk")).order_by("-is_primary", "id")
    companies = list(
        Company.objects.filter(opportunities__isnull=True, owner__isnull=False, owner__is_active=True)
        .select_related("owner")
        .annotate(contact_pk=Subquery(primary.values("id")[:1]))
        .order_by("-id")[:limit]
    )
    contacts = {
        c.pk: c for c in Contact.objects.filter(pk__in=[c.contact_pk for c in companies if c.contact_pk])
    }
    out = []
    for company in companies:
        contact = contacts.get(company.contact_pk)
        out.append(
            DemoCustomer(
                company=company,
                owner=company.owner,
                contact_id=contact.pk if contact else None,
                contact_name=contact.full_name if contact else "",
            )
        )
    return out


def pick_items(rng: random.Random, products: list[Product], *, lines: int | None = None) -> list[tuple]:
    """1–3 products with export quantities: whole cartons, at least the MOQ."""
    chosen = rng.sample(products, min(lines or rng.choice((1, 1, 2, 2, 3)), len(products)))
    items = []
    for p in chosen:
        moq = int(p.moq or 100)
        per_carton = p.units_per_carton or 1
        quantity = max(moq, per_carton) * rng.choice((1, 2, 3, 5, 10))
        quantity = -(-quantity // per_carton) * per_carton  # full cartons
        items.append((p, Decimal(quantity)))
    return items


# --- inquiries and opportunities ----------------------------------------------------------------


def _channel(rng: random.Random) -> tuple[str, str]:
    channel = rng.choices([c for c, _w in CHANNELS], weights=[w for _c, w in CHANNELS])[0]
    detail = {
        InquiryChannel.ALIBABA: lambda: f"RFQ {rng.randrange(10**9, 10**10)}",
        InquiryChannel.MADE_IN_CHINA: lambda: f"Inquiry {rng.randrange(10**7, 10**8)}",
        InquiryChannel.GLOBAL_SOURCES: lambda: f"RFI {rng.randrange(10**6, 10**7)}",
        InquiryChannel.WEBSITE: lambda: rng.choice(PAGES),
        InquiryChannel.TRADE_SHOW: lambda: rng.choice(SHOWS),
        InquiryChannel.SOCIAL: lambda: rng.choice(SOCIAL),
        InquiryChannel.REFERRAL: lambda: rng.choice(REFERRERS),
    }.get(channel, lambda: "")()
    return channel, detail


def _inquiry_data(rng: random.Random, items, *, country: str, currency: str, received: dt.datetime) -> dict:
    channel, detail = _channel(rng)
    port = rng.choice(PORTS.get(country, ("",)))
    incoterm = rng.choice(("FOB", "FOB", "CIF", "CFR", ""))
    return {
        "channel": channel,
        "channel_detail": detail,
        "received_at": received,
        "subject": _fill(rng.choice(SUBJECTS), items, port, rng)[:255],
        "message": _fill(rng.choice(MESSAGES), items, port, rng),
        "destination_country": country,
        "destination_port": port,
        "target_currency": currency,
        "incoterm": incoterm,
        "items": [
            {"product": p.pk, "quantity": q, "unit": p.unit,
             "target_price": (unit_price(p, currency, q, received.date()) * Decimal(rng.choice(("0.88", "0.92", "0.95"))))
             .quantize(Decimal("0.01"))}
            for p, q in items
        ],
    }  # fmt: skip


def _close_date(rng: random.Random, stage: str, start: dt.date, today: dt.date) -> dt.date:
    if stage == "lost":
        return min(start + dt.timedelta(days=rng.randint(20, 45)), today)
    soon = {
        "inquiry": (30, 120),
        "quoted": (20, 90),
        "sample": (20, 75),
        "negotiation": (7, 45),
        "contract": (3, 21),
    }
    low, high = soon.get(stage, (10, 60))
    return today + dt.timedelta(days=rng.randint(low, high))


def create_deals(rng: random.Random, deals: list[DemoDeal], today: dt.date) -> None:
    """Open each deal's opportunity: as an inquiry from the customer converted in one step, or
    directly; name, value (Σ quantity × list price) and expected close date."""
    for deal in deals:
        c = deal.customer
        product, qty = deal.items[0]
        name = f"{product.name_en} – {qty:,.0f} {product.get_unit_display()}"
        if len(deal.items) > 1:
            name += f" + {len(deal.items) - 1}"
        data = {
            "name": name[:255],
            "amount": items_value(deal.items, deal.currency, today),
            "currency": deal.currency,
            "expected_close_date": _close_date(rng, deal.stage, deal.start, today),
            "contact": c.contact_id or "",
        }
        if deal.from_inquiry:
            received = _at(deal.start, rng.randint(1, 15), rng.randint(0, 59))
            inquiry_data = _inquiry_data(rng, deal.items, country=c.company.country, currency=deal.currency,
                                         received=received)  # fmt: skip
            inquiry_data.update(company=c.company.pk, contact=c.contact_id or "")
            deal.inquiry = inquiry_create(actor=c.owner, data=inquiry_data)
            data.pop("contact")
            deal.opportunity = inquiry_convert(
                actor=c.owner, inquiry=deal.inquiry, company=c.company,
                opportunity_data={"name": data["name"], "expected_close_date": data["expected_close_date"]},
            )  # fmt: skip
            deal.inquiry.refresh_from_db()
        else:
            deal.opportunity = opportunity_create(actor=c.owner, data={**data, "company": c.company.pk})


def create_inquiries(
    rng: random.Random, count: int, customers: list[DemoCustomer], products: list[Product], today: dt.date,
    *, owners: list,
) -> list[Inquiry]:  # fmt: skip
    """Inquiries that are not (yet) deals: from new buyers (about 60 %) and from customers, in every
    status a busy inbox has: new, replied, qualified, spam, closed."""
    made = []
    statuses = (InquiryStatus.NEW, InquiryStatus.NEW, InquiryStatus.REPLIED, InquiryStatus.REPLIED,
                InquiryStatus.QUALIFIED, InquiryStatus.CLOSED, InquiryStatus.SPAM)  # fmt: skip
    for i in range(count):
        received = _at(today - dt.timedelta(days=rng.choice((0, 1, 2, 3, 5, 8, 13, 21, 30, 45))),
                       rng.randint(0, 23), rng.randint(0, 59))  # fmt: skip
        items = pick_items(rng, products, lines=rng.choice((1, 1, 2)))
        customer = customers[i % len(customers)] if customers and i % 5 in (1, 3) else None
        if customer is not None:
            data = _inquiry_data(rng, items, country=customer.company.country, currency=customer.currency,
                                 received=received)  # fmt: skip
            data.update(company=customer.company.pk, contact=customer.contact_id or "")
            actor = customer.owner
        else:
            name, company, country, domain, currency = NEW_BUYERS[i % len(NEW_BUYERS)]
            data = _inquiry_data(rng, items, country=country, currency=currency, received=received)
            first = name.split()[0].lower().replace("ı", "i")
            data.update(buyer_name=name, buyer_company=company, buyer_country=country,
                        buyer_email=f"{first}@{domain}")  # fmt: skip
            actor = owners[i % len(owners)]
        status = statuses[i % len(statuses)]
        if status == InquiryStatus.SPAM:
            data.update(subject="Business proposal – urgent", message="Dear sir, we offer SEO and crypto "
                        "investment services with guaranteed returns.", items=[], destination_port="")  # fmt: skip
        inquiry = inquiry_create(actor=actor, data=data)
        if status == InquiryStatus.REPLIED:
            log = (
                {"body": "Sent the price list and asked for the destination port."}
                if inquiry.company_id
                else None
            )
            inquiry_reply(actor=actor, inquiry=inquiry, version=inquiry.version, log=log)
        elif status != InquiryStatus.NEW:
            inquiry_set_status(actor=actor, inquiry=inquiry, version=inquiry.version, status=status)
        made.append(inquiry)
    return made


# --- stages -------------------------------------------------------------------------------------


def settle_stages(rng: random.Random, deals: list[DemoDeal]) -> None:
    """Move each deal to the stage its story ends in, forwards only (the documents moved most of
    them already); a lost deal gets its reason."""
    reasons = {r.key: r for r in LossReason.objects.filter(active=True)}
    fallback = next(iter(reasons.values()), None)
    for deal in deals:
        opp = Opportunity.objects.select_related("stage").get(pk=deal.opportunity.pk)
        if opp.status != OpportunityStatus.OPEN:
            deal.opportunity = opp
            continue
        target = Stage.objects.filter(pipeline_id=opp.pipeline_id, key=deal.stage).first()
        if target is None or target.pk == opp.stage_id:
            deal.opportunity = opp
            continue
        if target.kind == StageKind.LOST:
            key = {"q_rejected": "price", "q_expired": "no_reply"}.get(deal.docs) or rng.choice(LOSS_KEYS)
            reason = reasons.get(key) or fallback
            note = {"price": "Buyer found a supplier in Vietnam about 6% cheaper.",
                    "no_reply": "No answer after three follow-ups."}.get(key, "")  # fmt: skip
            deal.opportunity = opportunity_move_stage(actor=deal.customer.owner, opportunity=opp, stage=target,
                                                      loss_reason=reason, loss_note=note)  # fmt: skip
        elif target.kind == StageKind.OPEN and target.position > opp.stage.position:
            deal.opportunity = opportunity_move_stage(
                actor=deal.customer.owner, opportunity=opp, stage=target
            )
        else:
            deal.opportunity = opp


# --- samples ------------------------------------------------------------------------------------

SAMPLE_STEPS = ("sent", "feedback", "requested", "preparing")  # sent first: a small demo has one


def create_samples(rng: random.Random, deals: list[DemoDeal], count: int, today: dt.date) -> list[Sample]:
    """Samples on deals in the sample and negotiation stages: one sent (on the customer's
    timeline), one with the buyer's feedback, one requested, one being prepared."""
    candidates = [d for d in deals if d.stage in ("sample", "negotiation")] or [
        d for d in deals if d.stage not in ("lost", "won")
    ]
    made = []
    for i, deal in enumerate(candidates[:count]):
        c = deal.customer
        step = SAMPLE_STEPS[i % len(SAMPLE_STEPS)]
        requested = min(deal.start + dt.timedelta(days=rng.randint(2, 6)), today)
        product = deal.items[0][0]
        sample = sample_create(
            actor=c.owner, company=c.company,
            data={
                "contact": c.contact_id or "", "opportunity": deal.opportunity.pk, "requested_on": requested,
                "ship_to": f"{c.contact_name or c.company.name}, {c.company.name}, {c.company.city}".strip(", "),
                "items": [{"product": product.pk, "quantity": 2, "unit": product.unit}]
                + ([{"description": "Printed carton with the buyer's logo", "quantity": 1, "unit": "pcs"}]
                   if step in ("sent", "feedback") else []),
            },
        )  # fmt: skip
        if step == "preparing":
            sample = sample_set_preparing(actor=c.owner, sample=sample, version=sample.version)
        if step in ("sent", "feedback"):
            sent = min(requested + dt.timedelta(days=2), today)
            sample = sample_mark_sent(
                actor=c.owner, sample=sample, version=sample.version,
                data={"courier": rng.choice(("dhl", "fedex", "ups", "sf")), "sent_on": sent,
                      "tracking_number": str(rng.randrange(10**9, 10**10)), "cost": "48.00",
                      "cost_currency": "USD", "paid_by": rng.choice(("us", "customer"))},
            )  # fmt: skip
        if step == "feedback":
            received = min(sample.sent_on + dt.timedelta(days=5), today)
            sample = sample_mark_received(actor=c.owner, sample=sample, version=sample.version,
                                          data={"received_on": received})  # fmt: skip
            sample = sample_feedback(actor=c.owner, sample=sample, version=sample.version,
                                     data={"feedback": rng.choice(FEEDBACK), "feedback_rating": rng.choice((4, 5))})  # fmt: skip
        made.append(sample)
    return made


# --- dates --------------------------------------------------------------------------------------


def backdate(rng: random.Random, deals: list[DemoDeal], inquiries: list[Inquiry], now: dt.datetime) -> None:
    """Move the stamps the services set to "now" to the story's dates: each opportunity starts on
    its deal's first day; a stage a document moved it to is entered on that document's date, any
    other move falls between the previous one and now. Time in stage follows. Inquiries are
    answered a few hours after they arrived."""
    opps, changes = [], []
    pipeline = default_pipeline()
    keys = dict(Stage.objects.filter(pipeline=pipeline).values_list("id", "key")) if pipeline else {}
    for deal in deals:
        opp = Opportunity.objects.get(pk=deal.opportunity.pk)
        rows = list(OpportunityStageChange.objects.filter(opportunity=opp).order_by("changed_at", "id"))
        start = _at(deal.start, rng.randint(1, 9), rng.randint(0, 59))
        if deal.inquiry is not None:
            start = max(start, deal.inquiry.received_at + dt.timedelta(hours=rng.randint(1, 20)))
        start = min(start, now - dt.timedelta(hours=1))
        when = start
        for i, row in enumerate(rows):
            if i:
                day = deal.stage_dates.get(keys.get(row.to_stage_id, ""))
                if day is not None:
                    target = _at(day, rng.randint(2, 9), rng.randint(0, 59))
                else:
                    target = when + (now - when) * rng.uniform(0.2, 0.7)
                target = min(max(target, when + dt.timedelta(minutes=30)), now)
                row.seconds_in_from = int((target - when).total_seconds())
                when = target
            row.changed_at = when
            changes.append(row)
        opp.created_at = start
        opp.stage_entered_at = when
        if opp.status != OpportunityStatus.OPEN:
            opp.closed_at = when
        opp.updated_at = when
        opps.append(opp)
    OpportunityStageChange.objects.bulk_update(changes, ["changed_at", "seconds_in_from"], batch_size=500)
    Opportunity.objects.bulk_update(opps, ["created_at", "stage_entered_at", "closed_at", "updated_at"],
                                    batch_size=500)  # fmt: skip
    answered = list(Inquiry.objects.filter(pk__in=[i.pk for i in inquiries], replied_at__isnull=False))
    for inquiry in answered:
        inquiry.replied_at = min(inquiry.received_at + dt.timedelta(hours=rng.randint(1, 14)), now)
    Inquiry.objects.bulk_update(answered, ["replied_at"], batch_size=500)
