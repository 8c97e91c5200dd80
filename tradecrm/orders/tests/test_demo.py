"""The demo deal flow (`tradecrm demo`): one deal of every kind on a few customers, and the data it
leaves must hang together like data entered by hand."""

import datetime as dt
from collections import Counter
from decimal import Decimal

from django.db.models import Sum

from tradecrm.core import fx
from tradecrm.core.models import ExchangeRate
from tradecrm.documents.demo import RATE_LEVELS, demo_rate
from tradecrm.documents.models import EDITABLE_STATUSES, ProformaInvoice, Quotation
from tradecrm.interactions.models import Interaction
from tradecrm.orders.demo import container_number, demo_deal_flow
from tradecrm.orders.models import Order, Payment, Receivable
from tradecrm.orders.validation import is_container_number
from tradecrm.sales.demo import DEALS, FULL_DEALS, deal_plan
from tradecrm.sales.models import Inquiry, Opportunity, OpportunityStageChange, Sample

from .conftest import NOW, TODAY


def test_plan_has_every_kind_and_rates_are_stable():
    assert Counter(deal_plan(FULL_DEALS)) == Counter({(s, d): n for s, d, n in DEALS})
    assert set(deal_plan(len(DEALS))) == {(s, d) for s, d, _n in DEALS}
    day = dt.date(2026, 3, 2)
    assert demo_rate("EUR", day) == demo_rate("EUR", day) != demo_rate("EUR", day - dt.timedelta(days=1))
    assert demo_rate("AED", day) == Decimal("3.6725")  # pegged
    assert Decimal("6.9") < demo_rate("CNY", day) < Decimal("7.5")
    assert is_container_number(container_number("MSKU", 123456))


def test_demo_deal_flow_is_consistent(alice, bob, carol, make_company):
    for i, (country, currency) in enumerate((("US", "USD"), ("DE", "EUR"), ("AE", "AED"), ("MX", "USD"),
                                             ("FR", "EUR"), ("VN", "USD"))):  # fmt: skip
        make_company(
            actor=alice if i % 2 else bob, name=f"Demo Buyer {i}", country=country, currency=currency
        )
    result = demo_deal_flow(seed=11, companies=6, deals=len(DEALS), products=12)

    assert (result.products, result.opportunities, result.orders) == (12, len(DEALS), 1)
    assert ExchangeRate.objects.filter(date=TODAY - dt.timedelta(days=1), base="USD").count() == len(
        RATE_LEVELS
    )
    assert fx.rate_on("EUR", "USD", TODAY - dt.timedelta(days=60)).source.startswith("Demo reference rates")

    # every deal ends in the stage its story says, with a stage history in time order
    assert Counter(Opportunity.objects.values_list("stage__key", flat=True)) == Counter(
        s for s, _d, _n in DEALS
    )
    for opp in Opportunity.objects.all():
        changes = list(OpportunityStageChange.objects.filter(opportunity=opp).order_by("changed_at", "id"))
        assert (
            changes[0].changed_at == opp.created_at and changes[-1].changed_at == opp.stage_entered_at <= NOW
        )
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.seconds_in_from == int((after.changed_at - before.changed_at).total_seconds()) > 0
        assert (opp.closed_at is not None) == (opp.status != "open")
        assert opp.status != "lost" or opp.loss_reason_id
    assert Inquiry.objects.filter(status="converted", opportunity__isnull=False).count() >= 4
    assert len({*Inquiry.objects.values_list("channel", flat=True)}) >= 3

    # quotations: every state, and an issued one has its number, frozen rate and snapshot
    statuses = Counter(Quotation.objects.values_list("status", flat=True))
    assert {"draft", "issued", "accepted", "rejected", "expired", "superseded"} <= statuses.keys()
    assert Quotation.objects.filter(number__endswith="-R2", status="issued").count() == 1
    issued = [*Quotation.objects.exclude(status__in=EDITABLE_STATUSES),
              *ProformaInvoice.objects.exclude(status__in=EDITABLE_STATUSES)]  # fmt: skip
    assert len(issued) >= 10
    for doc in issued:
        assert doc.number and doc.snapshot["doc"]["number"] == doc.number
        assert doc.fx_rate and doc.fx_date <= doc.document_date and doc.base_currency == "USD"
        assert doc.fx_rate == fx.rate_on(doc.currency, "USD", doc.document_date).rate
        assert doc.issued_at.date() == doc.document_date
        assert doc.opportunity.stage.key != "inquiry"
    for pi in ProformaInvoice.objects.exclude(status="draft"):
        assert pi.bank_account.currency == pi.currency and pi.quotation.status == "accepted"
        assert pi.deposit_amount + pi.balance_amount == pi.total_amount
        assert pi.snapshot["bank"]["swift"] == pi.bank_account.swift

    # the order: from its PI, won its deal, receivables adding up, payments applied to them
    order = Order.objects.get()
    assert order.proforma.status == "accepted" and order.opportunity.status == "won"
    assert order.number and order.fx_rate == order.proforma.fx_rate
    receivables = Receivable.objects.filter(order=order)
    assert receivables.aggregate(s=Sum("amount"))["s"] == order.total_amount
    assert receivables.aggregate(s=Sum("paid_amount"))["s"] == order.paid_amount > 0
    assert Payment.objects.filter(order=order).aggregate(s=Sum("applied_amount"))["s"] == order.paid_amount
    assert all(r.paid_amount <= r.amount for r in receivables)
    assert order.status == "completed" and order.status_changes.count() == 7
    shipment = order.shipments.get()
    assert shipment.bl_number and all(is_container_number(c["number"]) for c in shipment.containers)

    # samples, one sent: on the customer's timeline
    sent = Sample.objects.filter(status__in=("sent", "feedback")).first()
    assert sent is not None and sent.interaction.type == "sample"
    assert Interaction.objects.filter(company=sent.company, type="sample").exists()
