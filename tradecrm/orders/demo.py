"""Demo orders with their shipments, receivables and payments, and `demo_deal_flow`, which runs the
whole demo deal flow on the demo customers:

    products (catalog.demo) → exchange rates, letterhead and bank accounts (documents.demo)
    → inquiries and opportunities (sales.demo) → quotations and proforma invoices (documents.demo)
    → orders, shipments, payments (here) → samples, final stages and dates (sales.demo)

Everything goes through the services, in one transaction (a failure leaves nothing half made). The
amounts are a fixed story (about 60 inquiries, 80 opportunities, 40 quotations, 15 PIs, 10 orders
for 100 customers or more, fewer for a smaller demo), so the time does not grow with the archive:
`tradecrm demo --companies 2000` spends a few seconds on it.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from tradecrm.core import fx

from .models import Order, OrderStatus, Receivable, ReceivableKind, ShipmentStatus
from .services import order_from_proforma, order_set_status, payment_record, shipment_create
from .validation import container_check_digit

# the orders of the story: (how far the order has got, how many days ago it was placed, whether
# the deposit has come in: one order in production still waits for it, now overdue)
ORDER_STORY = (
    (OrderStatus.COMPLETED, 48, True), (OrderStatus.SHIPPED, 30, True), (OrderStatus.IN_PRODUCTION, 12, False),
    (OrderStatus.DELIVERED, 44, True), (OrderStatus.CONFIRMED, 3, False), (OrderStatus.CUSTOMS_CLEARED, 40, True),
    (OrderStatus.READY, 22, True), (OrderStatus.SHIPPED, 27, True), (OrderStatus.IN_PRODUCTION, 8, True),
    (OrderStatus.IN_PRODUCTION, 15, True),
)  # fmt: skip
# days from the previous step to this one (low, high)
STEP_DAYS = {
    OrderStatus.IN_PRODUCTION: (1, 2), OrderStatus.READY: (14, 17), OrderStatus.SHIPPED: (2, 3),
    OrderStatus.CUSTOMS_CLEARED: (13, 16), OrderStatus.DELIVERED: (2, 3), OrderStatus.COMPLETED: (1, 2),
}  # fmt: skip
# share of the balance received, by how far the order has got
BALANCE_PAID = {
    OrderStatus.READY: Decimal("0.5"), OrderStatus.SHIPPED: Decimal("0.4"),
    OrderStatus.CUSTOMS_CLEARED: Decimal("0.7"), OrderStatus.DELIVERED: Decimal("1"),
    OrderStatus.COMPLETED: Decimal("1"),
}  # fmt: skip
# (shipping line, B/L prefix, container owner code, vessels)
CARRIERS = (
    ("COSCO Shipping Lines", "COSU", "CSNU", ("COSCO SHIPPING ARIES", "COSCO SHIPPING TAURUS")),
    ("Maersk", "MAEU", "MSKU", ("MAERSK ESSEN", "MAERSK EDMONTON")),
    ("CMA CGM", "CMDU", "CMAU", ("CMA CGM MARCO POLO", "CMA CGM JACQUES SAADE")),
    ("MSC", "MEDU", "MSCU", ("MSC GULSUN", "MSC OSCAR")),
    ("Evergreen", "EGLV", "EGHU", ("EVER ACE", "EVER ALOT")),
)
FORWARDERS = (
    "Ningbo Sunrise International Logistics",
    "Shanghai Oceanlink Freight",
    "Shenzhen Bluewave Forwarding",
)
HQ_CBM = Decimal("68")  # what a 40HQ takes in practice


def container_number(owner: str, serial: int) -> str:
    """An ISO 6346 number: owner code (ending in U), six digits and the check digit."""
    first_ten = f"{owner}{serial:06d}"
    return f"{first_ten}{container_check_digit(first_ten)}"


def _chain(rng: random.Random, placed: dt.date, target: str, today: dt.date) -> list[tuple[str, dt.date]]:
    """The status steps after "confirmed" up to `target`, dated forwards and never after today."""
    steps, day = [], placed
    for status in (OrderStatus.IN_PRODUCTION, OrderStatus.READY, OrderStatus.SHIPPED,
                   OrderStatus.CUSTOMS_CLEARED, OrderStatus.DELIVERED, OrderStatus.COMPLETED):  # fmt: skip
        if target == OrderStatus.CONFIRMED:
            break
        low, high = STEP_DAYS[status]
        day = min(day + dt.timedelta(days=rng.randint(low, high)), today)
        steps.append((status, day))
        if status == target:
            break
    return steps


def _shipment_data(rng: random.Random, order: Order, dates: dict, today: dt.date) -> dict:
    carrier, bl_prefix, owner, vessels = rng.choice(CARRIERS)
    hq = max(1, math.ceil(order.total_cbm / HQ_CBM)) if order.total_cbm else 1
    data = {
        "carrier": carrier, "forwarder": rng.choice(FORWARDERS), "vessel": rng.choice(vessels),
        "voyage": f"{rng.randint(10, 99):03d}{rng.choice('EW')}", "booking_number": f"{bl_prefix[:3]}{rng.randrange(10**8, 10**9)}",
        "port_of_loading": order.port_of_loading or "Ningbo", "port_of_discharge": order.port_of_destination or "",
    }  # fmt: skip
    shipped = dates.get(OrderStatus.SHIPPED)
    if shipped is None:  # ready: space booked, sailing soon
        etd = today + dt.timedelta(days=rng.randint(3, 8))
        return {**data, "status": ShipmentStatus.BOOKED, "etd": etd, "eta": etd + dt.timedelta(days=28)}
    containers = [{"number": container_number(owner, rng.randrange(10**5, 10**6)), "type": "40HQ",
                   "seal": f"{bl_prefix[:2]}{rng.randrange(10**6, 10**7)}"} for _ in range(hq)]  # fmt: skip
    data.update(
        bl_number=f"{bl_prefix}{rng.randrange(10**9, 10**10)}", containers=containers, etd=shipped, atd=shipped,
        eta=shipped + dt.timedelta(days=rng.randint(24, 30)), status=ShipmentStatus.DEPARTED,
    )  # fmt: skip
    cleared = dates.get(OrderStatus.CUSTOMS_CLEARED)
    if cleared is not None:
        arrived = max(cleared - dt.timedelta(days=1), shipped)
        data.update(ata=arrived, eta=arrived, status=ShipmentStatus.ARRIVED)
    if OrderStatus.DELIVERED in dates:
        data["status"] = ShipmentStatus.DELIVERED
    return data


def _pay(actor, order: Order, amount: Decimal, on: dt.date, rng: random.Random, *, currency: str | None = None,
         charges: Decimal = Decimal("0")) -> None:  # fmt: skip
    reference = f"TT{on:%y%m%d}{rng.randrange(1000, 10000)}"
    payment_record(actor=actor, order=order, amount=amount - charges, currency=currency or order.currency,
                   received_on=on, reference=reference, bank_charges=charges)  # fmt: skip


def demo_orders(rng: random.Random, deals: list, *, today: dt.date) -> dict:
    """The orders of the deals whose story ends in one: from the issued PI, moved along the status
    chain with their dates, a shipment (booked, sailing or arrived), and payments: the deposit of
    all but one order in production, part or all of the balance as the goods move. One euro
    deposit arrives in US dollars (an FX difference) and some wires lose bank charges."""
    counts = {"orders": 0, "shipments": 0, "payments": 0}
    paid_in_usd = False
    for deal in deals:
        if deal.docs != "order" or deal.proforma is None:
            continue
        actor = deal.customer.owner
        status, _days, deposit_in = deal.order_story
        placed = deal.dates["order"]
        order = order_from_proforma(actor=actor, proforma=deal.proforma, document_date=placed,
                                    customer_po=f"PO{placed:%y%m}-{rng.randint(100, 999)}")  # fmt: skip
        Order.objects.filter(pk=order.pk).update(
            issued_at=dt.datetime.combine(placed, dt.time(5), tzinfo=dt.UTC)
        )
        deal.order = order
        deal.stage_dates["won"] = placed
        counts["orders"] += 1
        steps = _chain(rng, placed, status, today)
        dates = dict(steps)
        for step, on in steps:
            if step in (OrderStatus.READY, OrderStatus.SHIPPED) and not order.shipments.exists():
                # booked when the goods are ready; what became of it (sailed, arrived) is in `dates`
                shipment_create(actor=actor, order=order, data=_shipment_data(rng, order, dates, today))
                counts["shipments"] += 1
            order = order_set_status(actor=actor, order=order, status=step, effective_on=on)
        # money: the deposit shortly after the order (one order in production still waits for it)
        receivables = {r.kind: r for r in Receivable.objects.filter(order=order)}
        deposit = receivables.get(ReceivableKind.DEPOSIT)
        if deposit is not None and deposit_in:
            on = min(placed + dt.timedelta(days=rng.randint(1, 4)), today)
            if order.currency == "EUR" and not paid_in_usd:
                usd = fx.convert(deposit.amount, "EUR", "USD", on)
                _pay(actor, order, usd, on, rng, currency="USD")
                paid_in_usd = True
            else:
                charges = Decimal("25.00") if rng.random() < 0.4 else Decimal("0")
                _pay(actor, order, deposit.amount, on, rng, charges=charges)
            counts["payments"] += 1
        balance = receivables.get(ReceivableKind.BALANCE)
        share = BALANCE_PAID.get(status)
        if balance is not None and share:
            order.refresh_from_db()
            open_amount = sum((r.amount - r.paid_amount for r in Receivable.objects.filter(order=order)),
                              Decimal("0"))  # fmt: skip
            amount = min(
                (balance.amount * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), open_amount
            )
            on = dates.get(OrderStatus.SHIPPED) or dates.get(OrderStatus.READY) or today
            on = min(on + dt.timedelta(days=rng.randint(0, 3)), today)
            if amount > 0:
                _pay(actor, order, amount, on, rng)
                counts["payments"] += 1
    return counts


# --- the whole deal flow ------------------------------------------------------------------------


@dataclass
class DealFlowResult:
    products: int = 0
    rates: int = 0
    inquiries: int = 0
    opportunities: int = 0
    quotations: int = 0
    proformas: int = 0
    orders: int = 0
    shipments: int = 0
    payments: int = 0
    samples: int = 0

    def summary(self) -> str:
        return (
            f"{self.products:,} products, {self.rates:,} exchange rates, {self.inquiries:,} inquiries, "
            f"{self.opportunities:,} opportunities, {self.quotations:,} quotations, {self.proformas:,} proforma "
            f"invoices, {self.orders:,} orders ({self.shipments:,} shipments, {self.payments:,} payments), "
            f"{self.samples:,} samples"
        )


def _deal_dates(rng: random.Random, docs: str, stage: str, placed_days: int, today: dt.date) -> dict:
    """The story's dates of one deal: when the buyer asked, quoted, revised, got the PI, ordered."""

    def ago(low: int, high: int) -> dt.date:
        return today - dt.timedelta(days=rng.randint(low, high))

    d: dict[str, dt.date] = {}
    if docs == "order":
        d["order"] = today - dt.timedelta(days=placed_days)
        d["pi"] = d["order"] - dt.timedelta(days=rng.randint(2, 4))
        d["quote"] = d["pi"] - dt.timedelta(days=rng.randint(3, 6))
    elif docs in ("pi_issued", "pi_draft"):
        d["pi"] = ago(1, 12)
        d["quote"] = d["pi"] - dt.timedelta(days=rng.randint(3, 8))
    elif docs == "q_revised":
        d["revision"] = ago(2, 9)
        d["quote"] = d["revision"] - dt.timedelta(days=rng.randint(7, 14))
    elif docs:
        span = {"q_accepted": (5, 20), "q_rejected": (12, 35), "q_expired": (35, 50), "q_draft": (0, 3)}
        low, high = span.get(docs, (15, 40) if stage == "sample" else (2, 30))
        d["quote"] = ago(low, high)
    if "quote" in d:
        d["start"] = d["quote"] - dt.timedelta(days=rng.randint(1, 5))
    else:
        low, high = {"inquiry": (0, 20), "quoted": (5, 30), "sample": (15, 45), "negotiation": (15, 50)}.get(
            stage, (20, 60)
        )
        d["start"] = ago(low, high)
    return d


def demo_deal_flow(*, seed: int, companies: int, deals: int | None = None, today: dt.date | None = None,
                   products: int = 40) -> DealFlowResult:  # fmt: skip
    """The demo deal flow on the newest customers without deals: scaled to `companies` (the full
    story from 100 customers on), or exactly `deals` deals (one of each kind from 17 on). Products,
    rates and letterhead are added when missing, so a rerun adds deals to the new customers."""
    from tradecrm.accounts.models import User
    from tradecrm.catalog.demo import demo_product_data, demo_products
    from tradecrm.catalog.models import Product
    from tradecrm.documents import demo as documents_demo
    from tradecrm.sales import demo as sales_demo

    rng = random.Random(seed)
    today = today or timezone.localdate()
    factor = min(1.0, max(companies, 0) / 100)
    if deals is None:
        deals = max(1, round(sales_demo.FULL_DEALS * factor)) if companies > 0 else 0
    result = DealFlowResult()
    with transaction.atomic():
        result.products = demo_products(products)
        result.rates = documents_demo.demo_exchange_rates(today=today)
        seller, accounts = documents_demo.demo_seller()
        skus = [data["sku"] for data, _usd in demo_product_data(products)]
        catalogue = list(Product.objects.filter(sku__in=skus, active=True).order_by("sku"))
        customers = sales_demo.customer_pool(max(1, math.ceil(deals * 0.75))) if deals else []
        if not customers or not catalogue:
            return result
        rng.shuffle(customers)
        plan = sales_demo.deal_plan(deals)
        story: list = []
        orders_seen = 0
        for i, (stage, docs) in enumerate(plan):
            placed_days = ORDER_STORY[orders_seen % len(ORDER_STORY)][1] if docs == "order" else 0
            dates = _deal_dates(rng, docs, stage, placed_days, today)
            deal = sales_demo.DemoDeal(
                customer=customers[i % len(customers)], stage=stage, docs=docs, start=dates.pop("start"),
                items=sales_demo.pick_items(rng, catalogue), dates=dates,
                from_inquiry=i % sales_demo.FROM_INQUIRY == 1,
            )  # fmt: skip
            if docs == "order":
                deal.order_story = ORDER_STORY[orders_seen % len(ORDER_STORY)]
                orders_seen += 1
            story.append(deal)
        owners = list({c.owner.pk: c.owner for c in customers}.values())
        approver = User.objects.filter(is_active=True, role__in=("manager", "admin")).order_by("id").first()

        sales_demo.create_deals(rng, story, today)
        extra = round((sales_demo.FULL_INQUIRIES - sales_demo.FULL_DEALS / sales_demo.FROM_INQUIRY) * deals
                      / sales_demo.FULL_DEALS)  # fmt: skip
        inquiries = sales_demo.create_inquiries(rng, extra, customers, catalogue, today, owners=owners)
        documents = documents_demo.demo_documents(rng, story, seller=seller, accounts=accounts, today=today,
                                                  approver=approver)  # fmt: skip
        made = demo_orders(rng, story, today=today)
        samples = sales_demo.create_samples(
            rng, story, max(1, round(4 * deals / sales_demo.FULL_DEALS)), today
        )
        sales_demo.settle_stages(rng, story)
        sales_demo.backdate(rng, story, inquiries + [d.inquiry for d in story if d.inquiry], timezone.now())

    result.inquiries = len(inquiries) + sum(1 for d in story if d.inquiry)
    result.opportunities = len(story)
    result.quotations = documents["quotations"]
    result.proformas = documents["proformas"]
    result.orders, result.shipments, result.payments = made["orders"], made["shipments"], made["payments"]
    result.samples = len(samples)
    return result
