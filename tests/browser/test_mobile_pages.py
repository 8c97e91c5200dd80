"""Every main page a sales rep uses, on a phone (390×844) in a real browser: nothing wider than the
screen (no sideways scrolling) and the page's main action on screen and clickable. Each page is
photographed for the guide's phone chapter: docs/user-guide/img/phone-<page>.png when
TRADECRM_GUIDE_SCREENSHOTS=1 (`make screenshots`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from guide_shots import shot
from test_deal_flow import _default_pipeline, trade_setup  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

OVERFLOW = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width + 1) return [];
  // what sticks out, for the failure message: the outermost elements past the right edge
  return [...document.querySelectorAll('body *')].filter(el => {
    const r = el.getBoundingClientRect();
    return r.right > width + 1 && r.width > 0 && !(el.parentElement && el.parentElement.getBoundingClientRect().right > width + 1);
  }).slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' right=' + Math.round(el.getBoundingClientRect().right));
}"""


@pytest.fixture
def rep_data(alice, admin, trade_setup):  # noqa: F811
    """One of everything the pages list: a customer with a follow-up due today, a deal, a draft
    quotation, an order, a pool."""
    from django.utils import timezone

    from tradecrm.customers.models import Company
    from tradecrm.documents.services import quotation_create
    from tradecrm.followups.models import FollowUp
    from tradecrm.orders.models import Order, OrderLine
    from tradecrm.pool.services import pool_create
    from tradecrm.sales.services import opportunity_create

    company = Company.objects.create(name="Lakeside Home Goods LLC", country="US", city="Chicago",
                                     timezone="America/Chicago", owner=alice, team=alice.team)  # fmt: skip
    FollowUp.objects.create(company=company, assignee=alice, title="Call about the holiday program",
                            due_at=timezone.now() + dt.timedelta(minutes=30))  # fmt: skip
    opportunity = opportunity_create(actor=alice, data={"company": company.pk, "name": "Vacuum flasks, holiday program",
                                                        "amount": "12960", "currency": "USD"})  # fmt: skip
    product = trade_setup["product"]
    quotation = quotation_create(actor=alice, company=company, data={"currency": "USD", "incoterm": "FOB",
                                 "incoterm_place": "Ningbo"},
                                 lines=[{"product": product.pk, "quantity": "2400", "unit_price": "5.80"}])  # fmt: skip
    order = Order.objects.create(company=company, owner=alice, document_date=timezone.localdate(), currency="USD",
                                 total_amount=Decimal("13920.00"))  # fmt: skip
    OrderLine.objects.create(order=order, product=product, name=product.name_en, quantity=Decimal(2400),
                             unit_price=Decimal("5.80"), amount=Decimal("13920.00"))  # fmt: skip
    pool_create(actor=admin, data={"name": "East pool", "rules": {"no_touch_days": 90}})
    return {"company": company, "opportunity": opportunity, "quotation": quotation, "order": order}


def test_every_main_page_fits_a_phone(page, live_server, alice, rep_data):
    c, q, o = rep_data["company"], rep_data["quotation"], rep_data["order"]
    pages = [  # (guide name, address, the page's main action)
        ("customers", "/customers/", "a.btn-primary[href='/customers/new/']"),
        ("customer", f"/customers/{c.pk}/", "[data-testid=quick-call]"),
        ("my-day", "/followups/", "[data-testid=complete]"),
        ("pipeline", "/opportunities/board/", f"#card-{rep_data['opportunity'].pk}"),
        ("quotation", f"/documents/quotations/{q.pk}/", "[data-testid=issue]"),
        ("order", f"/orders/{o.pk}/", "[data-testid=add-shipment]"),
        ("import", "/imports/new/", "[data-testid=import-upload-button]"),
        ("pool", "/pool/", "h1"),
        ("dashboard", "/dashboard/", "[data-testid^=chart-] canvas"),
        ("email", "/mail/", "[data-testid=mailbox-new]"),
        ("tickets", "/service/tickets/", "[data-testid=ticket-filters] button"),
        ("search", "/timeline/search/?q=holiday", "input[name=q]"),
        ("help", "/help/", "[data-testid=help-body] a"),
    ]
    base = live_server.url
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/login/", timeout=60_000)
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-alice-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/customers/")

    problems = []
    for name, url, action in pages:
        response = page.goto(f"{base}{url}")
        assert response.status == 200, (url, response.status)
        main = page.locator(action).first
        main.wait_for()
        page.wait_for_load_state("load")
        wide = page.evaluate(OVERFLOW)
        if wide:
            problems.append(f"{name}: wider than the phone: {wide}")
        main.scroll_into_view_if_needed()
        box = main.bounding_box()
        if box is None or box["x"] < 0 or box["x"] + box["width"] > PHONE["width"] + 1:
            problems.append(f"{name}: the main action {action} is off the screen: {box}")
        else:
            main.click(trial=True, timeout=5000)  # visible, enabled, not covered by anything
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, f"phone-{name}.png", guide=f"phone-{name}")
    assert problems == [], "\n".join(problems)

    # the menu: folded behind its toggler on a phone, one tap away
    assert not page.locator("[data-testid=nav-customers]").is_visible()
    page.click("[data-testid=nav-toggle]")
    page.locator("[data-testid=nav-customers]").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "phone-menu.png", guide="phone-menu")
    page.click("[data-testid=nav-customers]")
    page.wait_for_url(f"{base}/customers/")
    assert page.js_errors == []
