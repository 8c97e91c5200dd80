"""Order services: from a PI (FX, lines, receivables, one order per PI), direct orders, updates,
the status chain, shipments, payments (FX difference, overpayment, allocation, reversal) and
write-offs."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tradecrm.audit.models import AuditEvent
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.documents.models import DocumentSeries
from tradecrm.orders import services
from tradecrm.orders.models import (
    Order,
    OrderLine,
    OrderStatusChange,
    Payment,
    PaymentAllocation,
    Receivable,
    Shipment,
)

from .conftest import TODAY

pytestmark = pytest.mark.django_db
D = Decimal


def receivables(order):
    return [
        (r.kind, r.amount, r.due_date, r.paid_amount, r.status)
        for r in order.receivables.order_by("due_date", "id")
    ]


def messages(exc_info, field):
    return exc_info.value.message_dict[field]


# --- from a proforma invoice --------------------------------------------------------------------


def test_order_from_proforma_copies_terms_fx_lines_and_plans_receivables(alice, make_proforma, rates):
    pi = make_proforma(currency="EUR", fx_rate="1.0800", document_date=dt.date(2026, 2, 2),
                       deposit_due=dt.date(2026, 3, 10), balance_due=dt.date(2026, 4, 20))  # fmt: skip
    order = services.order_from_proforma(actor=alice, proforma=pi)
    order.refresh_from_db()
    assert order.number == "SO-2026-0001" and order.status == "confirmed" and order.proforma_id == pi.pk
    # the PI's frozen rate, not today's 1.12
    assert (order.currency, order.fx_rate, order.fx_date, order.fx_source, order.base_currency) == (
        "EUR",
        D("1.0800"),
        dt.date(2026, 2, 2),
        "ECB",
        "USD",
    )
    assert (order.company_id, order.incoterm, order.incoterm_place, order.payment_terms) == (
        pi.company_id,
        "FOB",
        "Ningbo",
        "tt_deposit",
    )
    assert order.total_amount == D("4500.00") and order.total_cartons == 21 + 21
    assert order.document_date == TODAY and order.delivery_date == TODAY + dt.timedelta(days=35)
    lines = list(
        order.lines.values_list("position", "sku", "quantity", "unit_price", "amount", "unit_cost_cny")
    )
    assert lines == [(1, "MUG-350", D("1000.000"), D("2.5000"), D("2500.00"), D("6.5000")),
                     (2, "PLT-27", D("500.000"), D("4.0000"), D("2000.00"), None)]  # fmt: skip
    assert receivables(order) == [
        ("deposit", D("1350.00"), dt.date(2026, 3, 10), D("0"), "open"),
        ("balance", D("3150.00"), dt.date(2026, 4, 20), D("0"), "open"),
    ]
    change = OrderStatusChange.objects.get(order=order)
    assert (change.from_status, change.to_status, change.effective_on, change.changed_by) == (
        "",
        "confirmed",
        TODAY,
        alice,
    )
    assert AuditEvent.objects.filter(action="order.create", object_id=order.pk).exists()


def test_balance_due_falls_back_to_the_shipment_date_then_30_days(alice, make_proforma):
    order = services.order_from_proforma(actor=alice, proforma=make_proforma(), delivery_date="2026-04-15")
    assert receivables(order) == [
        ("deposit", D("1350.00"), TODAY, D("0"), "open"),  # no deposit date: due at once
        ("balance", D("3150.00"), dt.date(2026, 4, 15), D("0"), "open"),
    ]
    pi = make_proforma(deposit="0", lead_time_days=None)
    order = services.order_from_proforma(actor=alice, proforma=pi)
    assert receivables(order) == [("balance", D("4500.00"), TODAY + dt.timedelta(days=30), D("0"), "open")]


def test_second_order_from_the_same_pi_is_refused_naming_the_first(alice, make_proforma):
    pi = make_proforma()
    first = services.order_from_proforma(actor=alice, proforma=pi)
    with pytest.raises(ValidationError) as caught:
        services.order_from_proforma(actor=alice, proforma=pi)
    assert messages(caught, "proforma") == [f"{pi.number} already has an order: SO-2026-0001."]
    assert Order.objects.count() == 1
    assert DocumentSeries.objects.get(kind="order").last_number == 1  # the refused one took no number
    services.order_set_status(actor=alice, order=first, status="cancelled")
    again = services.order_from_proforma(actor=alice, proforma=pi)  # a cancelled order frees the PI
    assert again.number == "SO-2026-0002"


def test_only_an_issued_or_accepted_pi_becomes_an_order(alice, make_proforma):
    draft = make_proforma(status="draft")
    with pytest.raises(ValidationError) as caught:
        services.order_from_proforma(actor=alice, proforma=draft)
    assert messages(caught, "proforma") == [
        f"Only an issued proforma invoice can become an order ({draft.number} is Draft)."
    ]
    assert services.order_from_proforma(actor=alice, proforma=make_proforma(status="accepted")).pk


# --- direct orders ------------------------------------------------------------------------------


def test_direct_order_validates_lines_freezes_fx_and_plans_deposit(alice, acme, mug, rates):
    data = {
        "company": acme.pk, "currency": "EUR", "document_date": "2026-03-02", "deposit_percent": "30",
        "delivery_date": "2026-04-30", "customer_po": "PO-7781",
        "lines": [{"sku": "MUG-350", "quantity": "960", "unit_price": "2.40", "discount_percent": "5"},
                  {"name": "Gift box printing", "quantity": 1, "unit_price": "150"}],
    }  # fmt: skip
    order = services.order_create(actor=alice, data=data)
    assert (order.fx_rate, order.fx_date, order.fx_source) == (D("1.1000"), dt.date(2026, 3, 2), "ECB")
    assert order.total_amount == D("2188.80") + D("150.00")  # 960 × 2.40 × 0.95 = 2,188.80
    line = order.lines.get(position=1)
    assert (line.product_id, line.name, line.cartons, line.gross_weight_kg) == (
        mug.pk,
        "Ceramic mug 350 ml",
        20,
        D("370.000"),
    )
    assert receivables(order) == [
        ("deposit", D("701.64"), dt.date(2026, 3, 2), D("0"), "open"),
        ("balance", D("1637.16"), dt.date(2026, 4, 30), D("0"), "open"),
    ]


def test_direct_order_refuses_bad_lines_currency_and_missing_rate_saving_nothing(alice, acme, rates):
    bad = {"company": acme.pk, "currency": "XYZ", "lines": [
        {"name": "Mug", "quantity": "10", "unit_price": "1"},
        {"name": "Plate", "quantity": "0", "unit_price": "1"},
        {"name": "Bowl", "quantity": "5", "unit_price": "-2"},
    ]}  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        services.order_create(actor=alice, data=bad)
    errors = caught.value.message_dict
    assert errors["currency"] == ["Unknown currency code “XYZ” (use ISO 4217, e.g. USD)."]
    assert errors["lines"] == [
        "Quantity must be greater than zero (line 2).",
        "The unit price cannot be negative (line 3).",
    ]
    with pytest.raises(ValidationError) as caught:
        services.order_create(actor=alice, data={**bad, "currency": "GBP", "lines": bad["lines"][:1]})
    assert caught.value.message_dict["currency"][0].startswith(
        "No exchange rate GBP→USD on or before 2026-03-04"
    )
    assert (Order.objects.count(), OrderLine.objects.count(), Receivable.objects.count()) == (0, 0, 0)
    assert not DocumentSeries.objects.filter(kind="order", last_number__gt=0).exists()


def test_direct_order_for_a_customer_one_cannot_see_is_refused(dave, acme):
    with pytest.raises(ValidationError) as caught:
        services.order_create(actor=dave, data={"company": acme.pk, "currency": "USD",
                                                "lines": [{"name": "x", "quantity": 1, "unit_price": 1}]})  # fmt: skip
    assert messages(caught, "company") == [f"No customer with id {acme.pk}."]


# --- updates ------------------------------------------------------------------------------------


def test_update_header_and_lines_while_confirmed_moves_the_difference_to_the_balance(alice, make_order):
    order = make_order()
    order = services.order_update(actor=alice, order=order, version=order.version, data={
        "customer_po": "PO-1", "delivery_date": "2026-04-01", "remarks": "Pack in gift boxes",
        "lines": [{"sku": "MUG-350", "quantity": "2000", "unit_price": "2.50"}],
    })  # fmt: skip
    order.refresh_from_db()
    assert (order.customer_po, order.delivery_date, order.total_amount, order.version) == (
        "PO-1",
        dt.date(2026, 4, 1),
        D("5000.00"),
        2,
    )
    assert [r[1] for r in receivables(order)] == [D("1500.00"), D("3500.00")]  # the deposit keeps its 30 %
    with pytest.raises(ConcurrentEditError):
        services.order_update(actor=alice, order=order, version=1, data={"customer_po": "PO-2"})


def test_lines_are_frozen_once_production_starts_and_bad_edits_change_nothing(alice, make_order):
    order = make_order()
    services.order_set_status(actor=alice, order=order, status="production")
    order.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        services.order_update(actor=alice, order=order, version=order.version, data={
            "customer_po": "PO-9", "lines": [{"sku": "MUG-350", "quantity": "1", "unit_price": "1"}],
        })  # fmt: skip
    assert messages(caught, "lines") == [
        "The lines cannot change once production has started (SO-2026-0001 is In production)."
    ]
    with pytest.raises(ValidationError) as caught:
        services.order_update(actor=alice, order=order, version=order.version, data={"currency": "EUR"})
    assert "currency" in caught.value.message_dict
    order.refresh_from_db()
    assert (order.customer_po, order.total_amount, order.lines.count()) == ("", D("4500.00"), 2)


def test_a_smaller_total_than_what_is_booked_is_refused(alice, make_order):
    order = make_order()
    services.payment_record(actor=alice, order=order, amount="4000", currency="USD", received_on=TODAY)
    order.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        services.order_update(actor=alice, order=order, version=order.version,
                              data={"lines": [{"sku": "MUG-350", "quantity": "1000", "unit_price": "2.5"}]})  # fmt: skip
    assert messages(caught, "lines") == [
        "The new total (USD 2,500.00) is less than the deposit and the payments already booked (USD 4,000.00)."
    ]
    assert Order.objects.get(pk=order.pk).total_amount == D("4500.00")
    assert sum(r[1] for r in receivables(order)) == D("4500.00")


# --- the status chain ---------------------------------------------------------------------------


def test_status_moves_forward_and_may_skip_steps_recording_date_and_who(alice, bob, carol, make_order):
    order = make_order()
    services.order_set_status(actor=alice, order=order, status="production", effective_on="2026-03-04")
    order = services.order_set_status(actor=carol, order=order, status="ready", note="QC passed")
    assert order.status == "ready" and order.warnings == []
    chain = list(
        OrderStatusChange.objects.filter(order=order).values_list(
            "from_status", "to_status", "changed_by__username", "note"
        )
    )
    assert chain == [("", "confirmed", "alice", ""), ("confirmed", "production", "alice", ""),
                     ("production", "ready", "carol", "QC passed")]  # fmt: skip
    order = services.order_set_status(actor=alice, order=order, status="delivered")  # skips shipped, cleared
    assert order.status == "delivered" and order.version == 4
    assert order.warnings == [
        "No shipment with a B/L or container number is recorded for SO-2026-0001 yet; add it under Shipments."
    ]


def test_status_never_goes_backwards_and_dates_must_make_sense(alice, make_order):
    order = make_order()
    services.order_set_status(actor=alice, order=order, status="shipped")
    for target, field, message in [
        (
            "production",
            "status",
            "An order cannot go back from Shipped to In production: the status only "
            "moves forward. If the order will not go ahead, cancel it.",
        ),
        ("shipped", "status", "SO-2026-0001 is Shipped already."),
        ("sailing", "status", "“sailing” is not one of the available choices."),
    ]:
        with pytest.raises(ValidationError) as caught:
            services.order_set_status(actor=alice, order=order, status=target)
        assert messages(caught, field) == [message]
    with pytest.raises(ValidationError) as caught:
        services.order_set_status(actor=alice, order=order, status="cleared", effective_on="2026-03-05")
    assert messages(caught, "effective_on") == ["The date (2026-03-05) is in the future."]
    with pytest.raises(ValidationError) as caught:
        services.order_set_status(actor=alice, order=order, status="cleared", effective_on="2026-03-01")
    assert messages(caught, "effective_on") == ["The date cannot be before the previous step (2026-03-04)."]
    assert Order.objects.get(pk=order.pk).status == "shipped" and order.status_changes.count() == 2


def test_cancel_rules(alice, make_order):
    paid = make_order()
    services.payment_record(actor=alice, order=paid, amount="100", currency="USD", received_on=TODAY)
    with pytest.raises(ValidationError) as caught:
        services.order_set_status(actor=alice, order=paid, status="cancelled")
    assert messages(caught, "status") == [
        "SO-2026-0001 has payments recorded (USD 100.00); delete them before cancelling it."
    ]
    done = make_order()
    services.order_set_status(actor=alice, order=done, status="completed")
    with pytest.raises(ValidationError) as caught:
        services.order_set_status(actor=alice, order=done, status="cancelled")
    assert messages(caught, "status") == ["A completed order cannot be cancelled."]
    fresh = make_order()
    services.order_set_status(actor=alice, order=fresh, status="production")
    cancelled = services.order_set_status(actor=alice, order=fresh, status="cancelled")
    assert cancelled.status == "cancelled" and not fresh.receivables.exists()
    with pytest.raises(ValidationError) as caught:
        services.order_set_status(actor=alice, order=fresh, status="completed")
    assert messages(caught, "status") == ["SO-2026-0003 is cancelled; its status cannot change any more."]


def test_shipped_without_papers_warns_and_with_a_bl_does_not(alice, make_order):
    order = make_order()
    services.shipment_create(actor=alice, order=order, data={"booking_number": "BK1"})  # no B/L yet
    assert services.order_set_status(actor=alice, order=order, status="shipped").warnings
    other = make_order()
    services.shipment_create(actor=alice, order=other, data={"bl_number": "medu1234567"})
    assert services.order_set_status(actor=alice, order=other, status="shipped").warnings == []


# --- shipments ----------------------------------------------------------------------------------


def test_shipment_normalizes_containers_and_refuses_bad_ones(alice, make_order):
    order = make_order()
    s = services.shipment_create(actor=alice, order=order, data={
        "bl_number": "cosu6283746510", "vessel": "COSCO SHIPPING ARIES", "voyage": "021E",
        "etd": "2026-03-20", "eta": "2026-04-18",
        "containers": [{"number": "csqu 305438-3", "type": "40hq", "seal": "A123456"},
                       {"number": "", "type": "", "seal": ""}],
    })  # fmt: skip
    assert s.containers == [{"number": "CSQU3054383", "type": "40HQ", "seal": "A123456"}]
    assert (s.bl_number, s.port_of_loading, s.port_of_discharge) == ("COSU6283746510", "Ningbo", "Chicago")
    with pytest.raises(ValidationError) as caught:
        services.shipment_update(actor=alice, shipment=s, version=s.version, data={
            "eta": "2026-03-10",
            "containers": [{"number": "CSQU3054384", "type": "40HQ"}, {"number": "MSKU12", "type": "40HQ"},
                           {"number": "MSKU1234565", "type": "30XX"}],
        })  # fmt: skip
    errors = caught.value.message_dict
    assert errors["eta"] == ["The ETA (2026-03-10) cannot be before the ETD (2026-03-20)."]
    assert errors["containers"] == [
        "The check digit of CSQU3054384 is wrong: it should end in 3; check for a typo (container 1).",
        "“MSKU12” is not a container number: 4 letters (the owner code, ending in U, J or Z), 6 digits and a "
        "check digit, e.g. CSQU3054383 (container 2).",
        "Choose the container type: 20GP, 40GP, 40HQ, 45HQ, 20RF, 40RF (container 3).",
    ]
    s.refresh_from_db()
    assert s.version == 1 and s.eta == dt.date(2026, 4, 18)
    s = services.shipment_update(actor=alice, shipment=s, version=1, data={"atd": "2026-03-21"})
    with pytest.raises(ConcurrentEditError):
        services.shipment_update(actor=alice, shipment=s, version=1, data={"vessel": "X"})
    services.shipment_delete(actor=alice, shipment=s)
    assert not Shipment.objects.exists()


# --- payments -----------------------------------------------------------------------------------


def test_payment_in_the_order_currency_settles_the_deposit(alice, make_order):
    order = make_order()
    p = services.payment_record(actor=alice, order=order, amount="1325", bank_charges="25", currency="USD",
                                received_on="2026-03-03", reference="TT 0303-88")  # fmt: skip
    assert (p.applied_amount, p.fx_rate, p.base_amount, p.fx_difference) == (
        D("1350.00"),
        D(1),
        D("1350.00"),
        D(0),
    )
    assert p.receivable.kind == "deposit"
    order.refresh_from_db()
    assert order.paid_amount == D("1350.00") and order.version == 2
    assert receivables(order)[0][3:] == (D("1350.00"), "paid")
    assert services.open_balance(order) == D("3150.00")


def test_payment_of_a_eur_order_records_the_fx_difference_against_the_order_rate(alice, make_order, rates):
    order = make_order(currency="EUR", fx_rate="1.0800")
    p = services.payment_record(
        actor=alice, order=order, amount="1350", currency="EUR", received_on="2026-03-02"
    )
    # 1,350 EUR were worth 1,485.00 USD when they arrived, booked at 1.08 as 1,458.00
    assert (p.applied_amount, p.fx_rate, p.fx_date, p.base_amount, p.fx_difference) == (
        D("1350.00"),
        D("1.1000"),
        dt.date(2026, 3, 2),
        D("1485.00"),
        D("27.00"),
    )


def test_payment_in_another_currency_is_converted_on_the_day_it_arrived(alice, make_order, rates):
    order = make_order(currency="EUR", fx_rate="1.0800")
    p = services.payment_record(actor=alice, order=order, amount="1500", currency="USD", received_on=TODAY)
    # USD→EUR on 2026-03-04 is the inverse of EUR→USD 1.12: 1,500 / 1.12 = 1,339.29 EUR
    assert (p.applied_amount, p.fx_rate, p.base_amount, p.fx_difference) == (
        D("1339.29"),
        D(1),
        D("1500.00"),
        D("1500.00") - D("1446.43"),
    )
    assert "inverse" in services.fx.rate_on("USD", "EUR", TODAY).source
    order.refresh_from_db()
    assert order.paid_amount == D("1339.29")


def test_overpayment_is_refused_and_nothing_is_saved(alice, make_order, rates):
    order = make_order()
    services.payment_record(actor=alice, order=order, amount="1000", currency="USD", received_on=TODAY)
    with pytest.raises(ValidationError) as caught:
        services.payment_record(actor=alice, order=order, amount="3500.01", currency="USD", received_on=TODAY)
    assert messages(caught, "amount") == [
        "The payment of USD 3,500.01 is larger than the open balance of USD 3,500.00 on SO-2026-0001."
    ]
    eur = make_order(currency="EUR", fx_rate="1.08")
    with pytest.raises(ValidationError) as caught:
        services.payment_record(actor=alice, order=eur, amount="6000", currency="USD", received_on=TODAY)
    assert messages(caught, "amount") == [
        "The payment of USD 6,000.00 (EUR 5,357.14) is larger than the open balance of EUR 4,500.00 on SO-2026-0002."
    ]
    assert Payment.objects.count() == 1 and PaymentAllocation.objects.count() == 1
    order.refresh_from_db()
    assert order.paid_amount == D("1000.00")
    assert [r[3] for r in receivables(order)] == [D("1000.00"), D("0.00")]


def test_bad_payment_input_names_each_field(alice, make_order):
    order = make_order()
    with pytest.raises(ValidationError) as caught:
        services.payment_record(actor=alice, order=order, amount="0", currency="usd1", received_on="2026-03-05",
                                bank_charges="-1")  # fmt: skip
    assert caught.value.message_dict == {
        "amount": ["The amount must be greater than zero."],
        "currency": ["Unknown currency code “usd1” (use ISO 4217, e.g. USD)."],
        "received_on": [
            "The date received (2026-03-05) is in the future; record a payment when it has arrived."
        ],
        "bank_charges": ["Bank charges cannot be negative."],
    }
    with pytest.raises(ValidationError) as caught:
        services.payment_record(actor=alice, order=order, amount="10", currency="GBP", received_on=TODAY)
    assert messages(caught, "currency")[0].startswith("No exchange rate GBP→USD")
    assert not Payment.objects.exists()


def test_partial_payments_settle_the_deposit_then_the_balance_and_deletion_restores(alice, carol, make_order):
    order = make_order()
    first = services.payment_record(
        actor=alice, order=order, amount="1000", currency="USD", received_on=TODAY
    )
    second = services.payment_record(
        actor=alice, order=order, amount="1000", currency="USD", received_on=TODAY
    )
    assert receivables(order) == [
        ("deposit", D("1350.00"), TODAY, D("1350.00"), "paid"),
        ("balance", D("3150.00"), TODAY + dt.timedelta(days=35), D("650.00"), "partial"),
    ]
    assert first.receivable.kind == "deposit" and second.receivable is None  # it went to two receivables
    assert sorted(second.allocations.values_list("amount", flat=True)) == [D("350.00"), D("650.00")]
    services.payment_delete(actor=carol, payment=second)
    assert receivables(order) == [
        ("deposit", D("1350.00"), TODAY, D("1000.00"), "partial"),
        ("balance", D("3150.00"), TODAY + dt.timedelta(days=35), D("0.00"), "open"),
    ]
    order.refresh_from_db()
    assert order.paid_amount == D("1000.00")
    assert AuditEvent.objects.filter(action="payment.delete").count() == 1


def test_payment_to_a_chosen_receivable_and_who_may_delete(alice, bob, dave, make_order):
    order = make_order()
    balance = order.receivables.get(kind="balance")
    p = services.payment_record(actor=alice, order=order, amount="500", currency="USD", received_on=TODAY,
                                receivable=balance)  # fmt: skip
    assert p.receivable == balance and receivables(order)[1][3:] == (D("500.00"), "partial")
    assert receivables(order)[0][4] == "open"
    with pytest.raises(PermissionDenied):
        services.payment_delete(actor=bob, payment=p)
    services.payment_delete(actor=alice, payment=p)
    assert receivables(order)[1][3:] == (D("0.00"), "open")


def test_write_off_is_for_managers_and_leaves_the_open_balance(alice, carol, make_order):
    order = make_order()
    services.payment_record(actor=alice, order=order, amount="1300", currency="USD", received_on=TODAY)
    deposit = order.receivables.get(kind="deposit")
    with pytest.raises(PermissionDenied):
        services.receivable_write_off(actor=alice, receivable=deposit)
    r = services.receivable_write_off(actor=carol, receivable=deposit, note="Bank charges short")
    assert (r.status, r.paid_amount, r.note) == ("written_off", D("1300.00"), "Bank charges short")
    assert services.open_balance(order) == D("3150.00")
    with pytest.raises(ValidationError):
        services.receivable_write_off(actor=carol, receivable=r)


def test_an_order_marks_its_pi_accepted_and_wins_the_opportunity(alice, acme, make_proforma, rates):
    from tradecrm.sales.models import Opportunity, OpportunityStatus, Pipeline

    export = Pipeline.objects.get(is_default=True)
    negotiating = export.stages.get(key="negotiation")
    opp = Opportunity.objects.create(
        name="Mugs for Acme", company=acme, pipeline=export, stage=negotiating, currency="USD",
        owner=alice, stage_entered_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    pi = make_proforma(opportunity=opp)
    order = services.order_from_proforma(actor=alice, proforma=pi)
    pi.refresh_from_db()
    opp.refresh_from_db()
    assert pi.status == "accepted" and order.proforma_id == pi.pk
    assert opp.status == OpportunityStatus.WON and opp.stage.key == "won"
    assert opp.stage_changes.filter(to_stage__key="won").count() == 1
