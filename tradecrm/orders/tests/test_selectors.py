"""Order reads: visibility by customer, overdue receivables, the FX-difference report, purchase
history and per-customer order statistics."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import Http404

from tradecrm.orders import selectors, services

from .conftest import TODAY

pytestmark = pytest.mark.django_db
D = Decimal


def test_get_for_user_follows_the_customer(alice, bob, carol, dave, admin, make_order):
    order = make_order()
    for user in (alice, carol, admin):
        assert selectors.order_get_for_user(user, order.pk) == order
    for user in (bob, dave):
        with pytest.raises(Http404):
            selectors.order_get_for_user(user, order.pk)
    for getter, obj_id in ((selectors.receivable_get_for_user, order.receivables.first().pk),
                           (selectors.order_get_for_user, "abc"), (selectors.order_get_for_user, 10**30)):  # fmt: skip
        with pytest.raises(Http404):
            getter(dave, obj_id)


def test_overdue_receivables_oldest_first_with_days_and_base_amounts(
    alice, dave, make_order, make_company, rates
):
    usd = make_order(deposit_due=dt.date(2026, 2, 20), balance_due=dt.date(2026, 3, 1))
    eur = make_order(company=make_company(name="Berlin GmbH", country="DE"), currency="EUR", fx_rate="1.08",
                     deposit_due=dt.date(2026, 2, 25), balance_due=dt.date(2026, 5, 1))  # fmt: skip
    services.payment_record(actor=alice, order=usd, amount="1000", currency="USD", received_on=TODAY)
    rows, nxt, _prev = selectors.overdue_receivables(alice, today=TODAY)
    assert [
        (r["order__number"], r["kind"], r["days_overdue"], r["open_amount"], r["open_base"]) for r in rows
    ] == [
        ("SO-2026-0001", "deposit", 12, D("350.00"), D("350.00")),
        ("SO-2026-0002", "deposit", 7, D("1350.00"), D("1458.00")),  # EUR at the order's 1.08
        ("SO-2026-0001", "balance", 3, D("3150.00"), D("3150.00")),
    ]
    assert nxt is None
    totals = selectors.overdue_totals(alice, today=TODAY)
    assert totals["count"] == 3 and totals["base"] == D("4958.00")
    assert totals["by_currency"] == [("EUR", D("1350.00")), ("USD", D("3500.00"))]
    assert selectors.overdue_receivables(dave, today=TODAY)[0] == []
    page, cursor, _ = selectors.overdue_receivables(alice, today=TODAY, limit=2)
    assert len(page) == 2 and len(selectors.overdue_receivables(alice, today=TODAY, cursor=cursor)[0]) == 1
    assert eur.receivables.count() == 2


def test_fx_difference_report_per_month_and_currency(alice, dave, make_order, rates):
    order = make_order(currency="EUR", fx_rate="1.08")
    services.payment_record(actor=alice, order=order, amount="1000", currency="EUR", received_on="2026-02-02")
    services.payment_record(actor=alice, order=order, amount="1000", currency="EUR", received_on="2026-03-02")
    services.payment_record(actor=alice, order=order, amount="500", currency="USD", received_on="2026-03-04")
    report = selectors.fx_difference_report(alice, selectors.PaymentFilters())
    rows = [(r["month"], r["currency"], r["count"], r["fx_difference"]) for r in report["rows"]]
    # Feb: 1,000 EUR at 1.08 = booked rate: 0. Mar: 1,000 EUR at 1.10: +20.00; USD 500 → 446.43 EUR: 500 − 482.14
    assert rows == [("2026-03", "EUR", 1, D("20.00")), ("2026-03", "USD", 1, D("17.86")),
                    ("2026-02", "EUR", 1, D("0.00"))]  # fmt: skip
    assert [(m["month"], m["fx_difference"]) for m in report["months"]] == [("2026-03", D("37.86")),
                                                                            ("2026-02", D("0.00"))]  # fmt: skip
    assert report["total"] == {"count": 3, "base_amount": D("2680.00"), "fx_difference": D("37.86")}
    march = selectors.fx_difference_report(alice, selectors.PaymentFilters(date_from=dt.date(2026, 3, 1)))
    assert march["total"]["count"] == 2
    assert selectors.fx_difference_report(dave, selectors.PaymentFilters())["rows"] == []


def test_purchase_history_and_order_stats(alice, acme, make_order, make_proforma, mug, rates):
    services.order_from_proforma(actor=alice, proforma=make_proforma(currency="EUR", fx_rate="1.08"),
                                 document_date=dt.date(2026, 1, 10))  # fmt: skip
    first = services.order_from_proforma(
        actor=alice, proforma=make_proforma(), document_date=dt.date(2026, 1, 10)
    )
    second = services.order_from_proforma(actor=alice, proforma=make_proforma(lines=[(mug, "480", "2.60")]),
                                          document_date=dt.date(2026, 2, 24))  # fmt: skip
    cancelled = make_order()
    services.order_set_status(actor=alice, order=cancelled, status="cancelled")
    history = selectors.purchase_history(acme)
    assert [(h["order_number"], h["sku"], h["quantity"], h["currency"], h["amount"], h["amount_base"])
            for h in history] == [
        (second.number, "MUG-350", D("480.000"), "USD", D("1248.00"), D("1248.00")),
        (first.number, "MUG-350", D("1000.000"), "USD", D("2500.00"), D("2500.00")),
        (first.number, "PLT-27", D("500.000"), "USD", D("2000.00"), D("2000.00")),
        ("SO-2026-0001", "MUG-350", D("1000.000"), "EUR", D("2500.00"), D("2700.00")),
        ("SO-2026-0001", "PLT-27", D("500.000"), "EUR", D("2000.00"), D("2160.00")),
    ]  # fmt: skip
    h = history[0]
    assert (h["order_date"], h["payment_terms"], h["unit"], h["unit_price"], h["product_id"]) == (
        dt.date(2026, 2, 24),
        "tt_deposit",
        "pcs",
        D("2.6000"),
        mug.pk,
    )
    assert len(selectors.purchase_history(acme, since=dt.date(2026, 2, 1))) == 1
    stats = selectors.customer_order_stats([acme.pk, 999999])
    assert list(stats) == [acme.pk]
    assert stats[acme.pk] == {
        "order_count": 3, "first_order_date": dt.date(2026, 1, 10), "last_order_date": dt.date(2026, 2, 24),
        "total_base": D("4860.00") + D("4500.00") + D("1248.00"), "average_interval_days": D("45.0"),
        "expected_next_order": dt.date(2026, 4, 10),
    }  # fmt: skip
    summary = selectors.purchase_summary(acme, top=1)
    assert summary["top_products"][0]["sku"] == "MUG-350" and summary["top_products"][0]["orders"] == 3
    assert summary["last_order"].number == second.number
