"""HTML pages of orders: every page that loads an object by id is 404 for dave; the order page,
the forms (direct order with lines, edit, status, shipment with containers, payment), the PI
button, overdue receivables, FX report, the customer's card and purchase history."""

import datetime as dt
from decimal import Decimal

import pytest

from tradecrm.orders import services
from tradecrm.orders.models import Order, Payment, Shipment

from .conftest import TODAY

pytestmark = pytest.mark.django_db
D = Decimal

BY_ID = [
    ("get", "/orders/{order}/"),
    ("get", "/orders/{order}/edit/"),
    ("post", "/orders/{order}/status/"),
    ("get", "/orders/{order}/shipments/new/"),
    ("post", "/orders/{order}/payments/new/"),
    ("get", "/shipments/{shipment}/edit/"),
    ("post", "/shipments/{shipment}/delete/"),
    ("post", "/payments/{payment}/delete/"),
    ("post", "/receivables/{receivable}/write-off/"),
    ("get", "/customers/{company}/orders/"),
    ("get", "/customers/{company}/purchase-history/"),
    ("post", "/proforma-invoices/{proforma}/order/"),
]


@pytest.mark.parametrize("method,url", BY_ID, ids=[f"{m} {u}" for m, u in BY_ID])
def test_dave_gets_404_on_every_page_by_id(alice, dave, client_for, make_order, make_proforma, method, url):
    order = make_order()
    shipment = services.shipment_create(actor=alice, order=order, data={"bl_number": "X1"})
    payment = services.payment_record(
        actor=alice, order=order, amount="100", currency="USD", received_on=TODAY
    )
    ids = {"order": order.pk, "shipment": shipment.pk, "payment": payment.pk, "company": order.company_id,
           "receivable": order.receivables.first().pk, "proforma": make_proforma().pk}  # fmt: skip
    data = {"status": "production", "amount": "1", "currency": "USD", "received_on": "2026-03-04"}
    resp = getattr(client_for(dave), method)(url.format(**ids), data if method == "post" else None)
    assert resp.status_code == 404
    assert Order.objects.count() == 1 and Shipment.objects.count() == 1 and Payment.objects.count() == 1
    assert Order.objects.get().status == "confirmed"


def test_order_page_shows_lines_chain_receivables_and_payments(alice, client_for, make_order, rates):
    order = make_order(currency="EUR", fx_rate="1.08")
    services.payment_record(actor=alice, order=order, amount="1350", currency="EUR", received_on="2026-03-02")
    services.shipment_create(
        actor=alice, order=order, data={"containers": [{"number": "CSQU3054383", "type": "40HQ"}]}
    )
    html = client_for(alice).get(f"/orders/{order.pk}/").content.decode()
    assert "SO-2026-0001" in html and "Ceramic mug 350 ml" in html and "CSQU3054383" in html
    assert "1 EUR = 1.08 USD" in html
    assert 'data-testid="fx-difference">$27.00' in html.replace("\n", "")
    assert "€3,150.00" in html  # the open balance
    assert html.count('class="timeline-event"') == 1 and "Alice" in html


def test_list_filters_and_visibility(alice, dave, client_for, make_order):
    make_order()
    services.order_set_status(actor=alice, order=make_order(), status="production")
    page = client_for(alice).get("/orders/?status=production").content.decode()
    assert "SO-2026-0002" in page and "SO-2026-0001" not in page
    assert "SO-2026-0001" in client_for(alice).get("/orders/?q=acme").content.decode()
    assert 'data-testid="no-orders"' in client_for(dave).get("/orders/").content.decode()


def test_make_order_button_of_the_pi_page(alice, client_for, make_proforma):
    pi = make_proforma()
    c = client_for(alice)
    resp = c.post(f"/proforma-invoices/{pi.pk}/order/", {"next": f"/proforma-invoices/{pi.pk}/"})
    order = Order.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/orders/{order.pk}/"
    again = c.post(
        f"/proforma-invoices/{pi.pk}/order/", {"next": f"/proforma-invoices/{pi.pk}/"}, follow=True
    )
    assert f"{pi.number} already has an order: SO-2026-0001." in again.content.decode()
    assert Order.objects.count() == 1


def test_status_form_advances_and_refuses_going_back(alice, client_for, make_order):
    order = make_order()
    c = client_for(alice)
    resp = c.post(
        f"/orders/{order.pk}/status/", {"status": "shipped", "effective_on": "2026-03-04", "version": 1}
    )
    assert resp.status_code == 302
    warning = c.get(resp["Location"]).content.decode()
    assert "No shipment with a B/L or container number" in warning
    resp = c.post(f"/orders/{order.pk}/status/", {"status": "production", "version": 2})
    assert resp.status_code == 422  # not offered any more: the form refuses the choice
    resp = c.post(f"/orders/{order.pk}/status/", {"status": "delivered", "version": 1})
    assert resp.status_code == 409 and "changed by" in resp.content.decode()
    assert Order.objects.get().status == "shipped"


def test_payment_form_refuses_overpayment_in_place_and_records_a_good_one(alice, client_for, make_order):
    order = make_order()
    c = client_for(alice)
    resp = c.post(
        f"/orders/{order.pk}/payments/new/",
        {"amount": "5000", "currency": "USD", "received_on": "2026-03-04"},
    )
    assert resp.status_code == 422
    assert "The payment of USD 5,000.00 is larger than the open balance of USD 4,500.00 on SO-2026-0001." in (
        resp.content.decode()
    )
    assert not Payment.objects.exists()
    resp = c.post(f"/orders/{order.pk}/payments/new/", {"amount": "1350", "currency": "USD",
                                                       "received_on": "2026-03-04", "reference": "TT-1"})  # fmt: skip
    assert resp.status_code == 302 and Payment.objects.get().reference == "TT-1"
    p = Payment.objects.get()
    assert c.post(f"/payments/{p.pk}/delete/").status_code == 302 and not Payment.objects.exists()


def _lines(rows, total=5):
    data = {"lines-TOTAL_FORMS": str(total), "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000"}  # fmt: skip
    for i, row in enumerate(rows):
        for k, v in row.items():
            data[f"lines-{i}-{k}"] = v
    return data


def test_direct_order_form_with_lines(alice, client_for, acme, mug):
    c = client_for(alice)
    page = c.get(f"/orders/new/?company={acme.pk}")
    assert page.status_code == 200 and "Acme Imports LLC" in page.content.decode()
    bad = {"company": acme.pk, "currency": "USD", "owner": alice.pk,
           **_lines([{"sku": "MUG-350", "quantity": "0", "unit_price": "2"}])}  # fmt: skip
    resp = c.post("/orders/new/", bad)
    assert resp.status_code == 422
    assert 'data-testid="line-error">Quantity must be greater than zero (line 1).<' in resp.content.decode()
    assert not Order.objects.exists()
    good = {**bad, **_lines([{"sku": "MUG-350", "quantity": "480", "unit_price": "2"},
                             {"name": "Printing plate", "quantity": "1", "unit_price": "80"}])}  # fmt: skip
    resp = c.post("/orders/new/", good)
    order = Order.objects.get()
    assert resp.status_code == 302 and order.total_amount == D("1040.00") and order.lines.count() == 2


def test_edit_form_freezes_lines_after_production(alice, client_for, make_order):
    order = make_order()
    c = client_for(alice)
    data = {"version": 1, "owner": alice.pk, "customer_po": "PO-55", "delivery_date": "2026-04-10",
            **_lines([{"sku": "MUG-350", "quantity": "1000", "unit_price": "2.5"}], total=1)}  # fmt: skip
    assert c.post(f"/orders/{order.pk}/edit/", data).status_code == 302
    order.refresh_from_db()
    assert (order.customer_po, order.total_amount, order.lines.count()) == ("PO-55", D("2500.00"), 1)
    services.order_set_status(actor=alice, order=order, status="production")
    page = c.get(f"/orders/{order.pk}/edit/").content.decode()
    assert 'data-testid="lines-frozen"' in page
    stale = c.post(f"/orders/{order.pk}/edit/", {"version": 1, "owner": alice.pk, "customer_po": "X"})
    assert stale.status_code == 409


def test_shipment_form_checks_container_numbers(alice, client_for, make_order):
    order = make_order()
    c = client_for(alice)
    form = {"status": "booked", "bl_number": "COSU123", "etd": "2026-03-20", "eta": "2026-04-18",
            "containers-TOTAL_FORMS": "3", "containers-INITIAL_FORMS": "0", "containers-MIN_NUM_FORMS": "0",
            "containers-MAX_NUM_FORMS": "1000", "containers-0-number": "CSQU3054384", "containers-0-type": "40HQ"}  # fmt: skip
    resp = c.post(f"/orders/{order.pk}/shipments/new/", form)
    assert resp.status_code == 422
    assert 'data-testid="container-error">The check digit of CSQU3054384 is wrong' in resp.content.decode()
    resp = c.post(f"/orders/{order.pk}/shipments/new/", {**form, "containers-0-number": "CSQU3054383"})
    assert resp.status_code == 302
    s = Shipment.objects.get()
    assert s.containers == [{"number": "CSQU3054383", "type": "40HQ", "seal": ""}]
    assert c.get(f"/shipments/{s.pk}/edit/").status_code == 200


def test_overdue_page_fx_report_and_write_off(alice, carol, client_for, make_order, frozen):
    order = make_order()
    services.payment_record(actor=alice, order=order, amount="1000", currency="USD", received_on=TODAY)
    frozen.move_to(dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC))
    page = client_for(alice).get("/receivables/overdue/").content.decode()
    assert 'data-testid="overdue-count">1<' in page and 'data-testid="days-overdue">6<' in page
    assert "$350.00" in page
    assert "2026-03" in client_for(alice).get("/payments/fx-differences/").content.decode()
    deposit = order.receivables.get(kind="deposit")
    client_for(alice).post(f"/receivables/{deposit.pk}/write-off/", {"note": "short"})
    deposit.refresh_from_db()
    assert deposit.status == "partial"  # sales may not write off
    client_for(carol).post(f"/receivables/{deposit.pk}/write-off/", {"note": "short"})
    deposit.refresh_from_db()
    assert deposit.status == "written_off"


def test_customer_card_is_lazy_and_its_panel_and_history_render(alice, client_for, make_order, acme):
    order = make_order()
    c = client_for(alice)
    detail = c.get(f"/customers/{acme.pk}/").content.decode()
    assert f'hx-get="/customers/{acme.pk}/orders/"' in detail
    panel = c.get(f"/customers/{acme.pk}/orders/").content.decode()
    assert order.number in panel and 'data-testid="top-product"' in panel and "$4,500.00" in panel
    history = c.get(f"/customers/{acme.pk}/purchase-history/").content.decode()
    assert history.count("MUG-350") >= 2 and "T/T, deposit before production" in history
