"""Five end-to-end journeys in a real browser (`make test-browser`), each driving the pages only:
the data a journey starts from is written before the browser opens; every step after that is a
click or a key press, and each step is checked on the page and in the database.

(a) a trade-show lead list imported, its duplicates resolved, the customers assigned;
(b) an inquiry taken to a sample, an issued proforma invoice, the order, its shipment and payment;
(c) a rep's day: my-day list, a call logged, follow-ups completed in the customer's office hours;
(d) a manager's week: dashboard, a tier change, pool recall warnings, a departed rep's customers;
(e) a sales rep cannot see or guess another team's customers through the pages or the API.

Each takes guide screenshots at its key steps (1280×800) and at least one on a phone (390×844):
docs/user-guide/img/journey-*.png when TRADECRM_GUIDE_SCREENSHOTS=1 (`make screenshots`)."""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal

import pytest
from guide_shots import GUIDE_IMAGES, shot
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from test_deal_flow import RATE, _default_pipeline, trade_setup  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _sign_in(page, base: str, username: str) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base}/login/", timeout=60_000)  # the live server's first page imports every app
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-12345")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/(customers|dashboard|followups)/"))


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _phone_shot(page, name: str) -> None:
    """The same page on a phone: it fits the width, then the guide's picture."""
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)  # the layout settles (collapsed navigation, wrapped tables)
    assert _fits(page), f"{name}: wider than the phone's screen"
    shot(page, f"{name}.png", guide=name)
    page.set_viewport_size(DESKTOP)


def _expect_url(page, url) -> None:
    """Wait for the page after a form; if the form came back instead, fail with its errors."""
    try:
        page.wait_for_url(url, timeout=10_000)
    except PlaywrightTimeoutError:
        errors = page.locator(".alert-danger, .invalid-feedback").all_inner_texts()
        raise AssertionError(f"still on {page.url}: {errors}") from None


def _shot_at(page, selector: str, name: str) -> None:
    """A guide picture with `selector` near the top of the window (the guide shows the window
    only), taken before the full-page one for test-artifacts/: that one resizes the page for a
    moment, and a scroll made meanwhile is lost."""
    page.wait_for_load_state("networkidle")  # the lazily loaded cards of the page are in
    page.locator(selector).first.evaluate(
        "el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 16)"
    )
    page.wait_for_function("() => window.scrollY > 0 || document.documentElement.scrollHeight <= innerHeight")
    if os.environ.get("TRADECRM_GUIDE_SCREENSHOTS") == "1":
        GUIDE_IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(GUIDE_IMAGES / f"{name}.png"), full_page=False)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, f"{name}.png")


def _idle(page) -> None:
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


# --------------------------------------------------------------------------------------------
# (a) trade-show leads: import, duplicates, assignment

LEADS = (
    "公司名称,国家,邮箱,电话,展会\n"
    "Lakeside Home Goods LLC,US,jason@lakesidehomegoods.com,+1 312 555 0123,Canton Fair 2026\n"
    "Acme Widget Incorporated,US,,+1 415 555 0188,Canton Fair 2026\n"
    "Nordlicht Haushaltswaren GmbH,DE,info@nordlicht-hw.de,+49 30 1234567,Canton Fair 2026\n"
    "Casa Bonita Importaciones SA,MX,compras@casabonita.mx,,Canton Fair 2026\n"
)


def test_journey_a_trade_show_leads_imported_deduplicated_assigned(page, live_server, alice, bob, carol,
                                                                   make_company, monkeypatch):  # fmt: skip
    from tradecrm.customers.models import Company
    from tradecrm.dedup import tasks as dedup_tasks
    from tradecrm.dedup.models import MergeRecord
    from tradecrm.dedup.tasks import dedup_sweep_now
    from tradecrm.imports import tasks
    from tradecrm.imports.models import ImportJob

    # the archive before the show: one buyer already known by its e-mail, one under another spelling
    lakeside = make_company(actor=alice, name="Lakeside Home Goods LLC", country="US",
                            email="jason@lakesidehomegoods.com")  # fmt: skip
    make_company(actor=bob, name="Acme Widgets Inc.", country="US", website="https://acmewidgets.com")
    queued: list[int] = []
    run_import = tasks.run_import
    monkeypatch.setattr(tasks, "run_import", queued.append)  # the worker's queue, as the test sees it
    sweeps: list[str] = []
    monkeypatch.setattr(dedup_tasks, "dedup_sweep_now", sweeps.append)

    base = live_server.url
    _sign_in(page, base, "carol")

    # 1. the manager uploads the show's list and sends the new buyers to alice
    page.goto(f"{base}/imports/new/")
    page.select_option("[data-testid=import-source]", "trade_show")
    page.set_input_files("[data-testid=import-file]", files=[
        {"name": "canton-fair-2026.csv", "mimeType": "text/csv", "buffer": LEADS.encode("utf-8")},
    ])  # fmt: skip
    page.click("[data-testid=import-upload-button]")
    page.wait_for_url(re.compile(r"/imports/\d+/columns/$"))
    job = ImportJob.objects.get()
    assert page.input_value("[data-testid=map-0]") == "name"
    page.select_option("#id_owner", str(alice.pk), force=True)  # Tom Select hides the native select
    page.check("input[name=on_duplicate][value=merge]")
    shot(page, "journey-a-import-columns.png", guide="journey-a-import-columns")
    page.click("[data-testid=dry-run]")

    # 2. the dry run: Lakeside is recognised by its e-mail and merged, three are new
    page.wait_for_url(re.compile(r"/imports/\d+/dry-run/$"))
    assert page.inner_text("[data-testid=count-rows_read]") == "4"
    assert page.inner_text("[data-testid=count-created]") == "3"
    assert page.inner_text("[data-testid=count-merged]") == "1"
    assert "Lakeside Home Goods LLC" in page.inner_text("[data-testid=report-row-2]")
    assert Company.objects.count() == 2  # nothing written by the dry run
    shot(page, "journey-a-import-preview.png", guide="journey-a-import-preview")
    _phone_shot(page, "journey-a-phone-import-preview")

    page.click("[data-testid=start-import]")
    page.wait_for_url(f"{base}/imports/{job.pk}/")
    assert queued == [job.pk]
    held: list = []
    page.route(re.compile(rf"/imports/{job.pk}/$"), lambda route: held.append(route) or route.continue_())
    with page.expect_response(re.compile(rf"/imports/{job.pk}/$")):
        pass  # the progress page polls
    run_import.call_local(job.pk)  # what the worker does
    page.locator("[data-testid=import-progress][data-status=done]").wait_for()
    page.unroute(re.compile(rf"/imports/{job.pk}/$"))
    assert Company.objects.count() == 5
    lakeside.refresh_from_db()
    assert lakeside.owner_id == alice.pk and lakeside.phones == ["+13125550123"]  # merged: the phone added
    imported = Company.objects.filter(source_detail="Canton Fair 2026").exclude(pk=lakeside.pk)
    assert set(imported.values_list("owner_id", flat=True)) == {alice.pk}

    # 3. the duplicates: the sweep finds the Acme spelled two ways; carol merges them
    page.goto(f"{base}/duplicates/")
    page.get_by_role("button", name="Run the sweep now").click()
    page.get_by_text("The duplicate sweep has started").wait_for()
    assert sweeps == ["companies"]
    dedup_sweep_now.call_local("companies")  # what the worker does; the list fills when it ends
    page.reload()
    group = page.locator("[data-testid=dup-group]", has_text="Acme Widget Incorporated")
    group.wait_for()
    assert "Acme Widgets Inc." in group.inner_text()
    shot(page, "journey-a-duplicates.png", guide="journey-a-duplicates")
    group.locator("[data-testid=dup-merge]").click()
    page.wait_for_url(re.compile(r"/merge/companies/"))
    page.locator("[data-testid=kept-badge]").wait_for()
    page.on("dialog", lambda d: d.accept())  # "Merge these records?"
    page.click("[data-testid=merge-submit]")
    page.wait_for_url(re.compile(r"/merges/\d+/$"))
    page.locator("[data-testid=merge-undo]").wait_for()
    assert "Acme" in page.inner_text("[data-testid=merge-kept]")
    merge = MergeRecord.objects.get()
    survivors = Company.objects.filter(name__icontains="acme")
    assert survivors.count() == 1 and merge.kept_id == survivors.get().pk
    assert "+14155550188" in survivors.get().phones  # the imported row's phone kept

    # 4. assignment: Casa Bonita goes to bob, who speaks Spanish
    casa = Company.objects.get(name="Casa Bonita Importaciones SA")
    page.goto(f"{base}/customers/?q=casa")
    page.locator("table.company-table tbody tr", has_text="Casa Bonita").get_by_role("link").first.click()
    page.wait_for_url(f"{base}/customers/{casa.pk}/")
    page.get_by_role("link", name="Edit").first.click()
    page.wait_for_url(f"{base}/customers/{casa.pk}/edit/")
    page.select_option("#id_owner", str(bob.pk), force=True)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/customers/{casa.pk}/")
    assert "Bob" in page.inner_text(".page-wrapper")
    casa.refresh_from_db()
    assert casa.owner_id == bob.pk and casa.team_id == bob.team_id
    _phone_shot(page, "journey-a-phone-customer")
    assert page.js_errors == []


# --------------------------------------------------------------------------------------------
# (b) inquiry → sample → quotation → issued PI → order → shipment → payment


def _pick_product_line(page, product, quantity: str, total: str) -> None:
    """The quotation editor's product picker, then the quantity (typed again if a redraw of the
    editor lands while it is typed: see test_deal_flow)."""
    page.locator("#product-picker-ts-control").click()
    page.keyboard.type(product.sku)
    page.locator(".ts-dropdown .option", has_text=product.sku).first.click()
    page.locator("[data-testid=line-row]").wait_for()
    for attempt in range(3):
        _idle(page)
        page.fill("#l-0-quantity", quantity)
        page.locator("#l-0-quantity").dispatch_event("change")
        try:
            page.locator("[data-testid=editor-total]", has_text=total).wait_for(timeout=6000)
            return
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise


def test_journey_b_inquiry_to_sample_pi_order_shipment_payment(page, live_server, alice, trade_setup):  # noqa: F811
    from tradecrm.documents.models import ProformaInvoice, Quotation
    from tradecrm.orders.models import Order, Payment, Shipment
    from tradecrm.sales.models import Inquiry, Opportunity, Sample

    product = trade_setup["product"]
    base = live_server.url
    _sign_in(page, base, "alice")

    # 1. the inquiry from Alibaba, converted to an opportunity with a new customer
    page.goto(f"{base}/inquiries/new/")
    page.locator("[data-testid=inquiry-form] #id_channel").select_option("alibaba")
    page.fill("#id_buyer_name", "Emma Clarke")
    page.fill("#id_buyer_company", "Harbour Kitchenware Ltd")
    page.fill("#id_buyer_email", "emma@harbourkitchen.co.uk")
    page.select_option("#id_buyer_country", "GB", force=True)
    page.fill("#id_subject", "Vacuum flasks, private label")
    page.select_option("#id_target_currency", "USD", force=True)
    page.select_option("#id_incoterm", "FOB", force=True)
    page.select_option("select[name=item-0-product]", str(product.pk))
    page.fill("input[name=item-0-quantity]", "1200")
    page.locator("[data-testid=inquiry-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/inquiries/\d+/$"))
    page.click("[data-testid=convert]")
    page.locator("[data-testid=convert-form]").get_by_role("button", name="Convert").click()
    page.wait_for_url(re.compile(r"/opportunities/\d+/$"))
    opportunity = Opportunity.objects.get()
    company = opportunity.company
    assert company.name == "Harbour Kitchenware Ltd" and Inquiry.objects.get().status != "new"

    # 2. a sample first: requested from the opportunity, then sent by DHL
    page.get_by_role("link", name="Request a sample").click()
    page.wait_for_url(re.compile(r"/samples/new/"))
    form = page.locator("[data-testid=sample-form]")
    form.locator("select[name=item-0-product]").select_option(str(product.pk))
    form.locator("input[name=item-0-quantity]").fill("2")
    form.locator("textarea[name=ship_to]").fill("12 Quay Street, Bristol BS1 4DJ, United Kingdom")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/samples/\d+/$"))
    sent = page.locator("[data-testid=sent-form]")
    sent.locator("select[name=courier]").select_option("dhl")
    sent.locator("input[name=tracking_number]").fill("1234567890")
    sent.get_by_role("button", name="Sent").click()
    page.locator("[data-testid=tracking]", has_text="1234567890").wait_for()
    sample = Sample.objects.get()
    assert (sample.status, sample.opportunity_id, sample.tracking_number) == (
        "sent",
        opportunity.pk,
        "1234567890",
    )
    shot(page, "journey-b-sample-sent.png", guide="journey-b-sample-sent")

    # 3. the quotation from the opportunity: issued, accepted
    page.goto(f"{base}/opportunities/{opportunity.pk}/")
    page.click("[data-testid=new-quotation]")
    page.wait_for_url(re.compile(r"/documents/quotations/new/"))
    _idle(page)
    _pick_product_line(page, product, "1200", "6,960.00 USD")
    page.select_option("#id_incoterm", "FOB")
    page.fill("#id_port_of_loading", "Ningbo")
    page.select_option("#id_payment_terms", "tt_deposit")
    page.fill("#id_deposit_percent", "30")
    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(r"/documents/quotations/\d+/$"))
    page.click("[data-testid=issue]")
    page.locator("[data-testid=doc-number]").filter(has_text=re.compile(r"^Q-\d{4}-0001$")).wait_for()
    page.click("[data-testid=accept]")
    page.locator("[data-testid=doc-actions] [data-testid=make-proforma]").wait_for()
    quotation = Quotation.objects.get()
    assert quotation.status == "accepted" and quotation.total_amount == Decimal("6960.00")

    # 4. the proforma invoice, issued
    page.click("[data-testid=make-proforma]")
    page.wait_for_url(re.compile(r"/documents/proformas/\d+/$"))
    page.click("[data-testid=issue]")
    page.locator("[data-testid=doc-number]").filter(has_text=re.compile(r"^PI-\d{4}-0001$")).wait_for()
    pi = ProformaInvoice.objects.get()
    assert pi.status == "issued" and pi.fx_rate == RATE and pi.deposit_amount == Decimal("2088.00")
    shot(page, "journey-b-pi-issued.png", guide="journey-b-pi-issued")

    # 5. the order made from the PI
    page.click("[data-testid=make-order]")
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    order = Order.objects.get()
    assert order.company_id == company.pk and order.total_amount == Decimal("6960.00")
    assert "6,960.00" in page.inner_text("[data-testid=order-total]")

    # 6. the shipment: booked on a vessel, one container (its check digit is verified)
    page.click("[data-testid=add-shipment]")
    page.wait_for_url(re.compile(r"/orders/\d+/shipments/new/"))
    ship = page.locator("[data-testid=shipment-form]")
    ship.locator("select[name=status]").select_option("booked")
    ship.locator("input[name=bl_number]").fill("NGB2611200")
    ship.locator("input[name=vessel]").fill("MSC Aurora")
    ship.locator("input[name=port_of_loading]").fill("Ningbo")
    ship.locator("input[name=port_of_discharge]").fill("Felixstowe")
    ship.locator("input[name=booking_number]").fill("MSC-NGB-77120")
    ship.locator("input[name=etd]").fill((dt.date.today() + dt.timedelta(days=20)).isoformat())
    ship.locator("input[name=containers-0-number]").fill("CSQU3054383")
    ship.locator("select[name=containers-0-type]").select_option("40HQ")
    ship.locator("button[type=submit]").click()
    _expect_url(page, f"{base}/orders/{order.pk}/")
    page.locator("[data-testid=container]", has_text="CSQU3054383").wait_for()
    shipment = Shipment.objects.get()
    assert (shipment.order_id, shipment.bl_number, shipment.status) == (order.pk, "NGB2611200", "booked")

    # 7. the 30 % deposit arrives
    pay = page.locator("[data-testid=payment-form]")
    pay.locator("input[name=amount]").fill("2088.00")
    pay.locator("input[name=reference]").fill("HSBC-TT-88121")
    pay.get_by_role("button", name="Record payment").click()
    page.wait_for_url(re.compile(rf"/orders/{order.pk}/"))
    page.locator("[data-testid=payments]").wait_for()
    assert "2,088.00" in page.inner_text("[data-testid=order-paid]")
    assert "4,872.00" in page.inner_text("[data-testid=order-open]")
    payment = Payment.objects.get()
    assert payment.amount == Decimal("2088.00") and payment.reference == "HSBC-TT-88121"
    order.refresh_from_db()
    assert order.paid_amount == Decimal("2088.00")
    _shot_at(page, "[data-testid=shipment]", "journey-b-order-paid")
    _phone_shot(page, "journey-b-phone-order")
    assert page.js_errors == []


# --------------------------------------------------------------------------------------------
# (c) a rep's day: my day, a call logged, follow-ups completed in the customer's office hours

# where a follow-up due right now falls in office hours: the first of these whose office is open
OFFICES = [("US", "America/Chicago", "Lakeside Home Goods LLC"), ("DE", "Europe/Berlin", "Berliner Leuchten GmbH"),
           ("AE", "Asia/Dubai", "Gulf Star Trading LLC"), ("JP", "Asia/Tokyo", "Kansai Zakka KK"),
           ("BR", "America/Sao_Paulo", "Casa Paulista Ltda"), ("AU", "Australia/Sydney", "Sydney Homewares Pty Ltd"),
           ("US", "America/Los_Angeles", "Pacific Kitchen Supply Inc"), ("IN", "Asia/Kolkata", "Mumbai Home Decor Pvt Ltd"),
           ("NZ", "Pacific/Auckland", "Kiwi Living Ltd")]  # fmt: skip


def test_journey_c_a_reps_day(page, live_server, alice):
    from django.utils import timezone

    from tradecrm.core.reach import customer_time_at
    from tradecrm.customers.models import Company
    from tradecrm.followups.models import FollowUp
    from tradecrm.interactions.models import Interaction

    now = timezone.now()
    soon = now + dt.timedelta(minutes=5)
    states = [(o, customer_time_at({"timezone": o[1], "country": o[0]}, soon)["state"]) for o in OFFICES]
    (country, tz, name), state = next((s for s in states if s[1] == "within"), states[0])
    office = Company.objects.create(name=name, country=country, timezone=tz, owner=alice, team=alice.team)
    berlin = Company.objects.create(name="Berliner Leuchten GmbH" if name != "Berliner Leuchten GmbH" else "Hamburg Licht AG",
                                    country="DE", timezone="Europe/Berlin", owner=alice, team=alice.team)  # fmt: skip
    sydney = Company.objects.create(name="Harbour Bridge Imports Pty Ltd", country="AU", timezone="Australia/Sydney",
                                    owner=alice, team=alice.team)  # fmt: skip
    call_back = FollowUp.objects.create(
        company=office, assignee=alice, title="Call back about the March order", due_at=soon
    )
    overdue = FollowUp.objects.create(company=berlin, assignee=alice, title="Send the LED catalogue",
                                      due_at=now - dt.timedelta(days=1))  # fmt: skip
    later = FollowUp.objects.create(company=sydney, assignee=alice, title="Ask about the Christmas range",
                                    due_at=now + dt.timedelta(days=3))  # fmt: skip

    base = live_server.url
    _sign_in(page, base, "alice")

    # 1. my day: overdue, today, next 7 days; every row with the customer's own time and office state
    page.goto(f"{base}/followups/")
    assert page.inner_text("[data-testid=count-overdue]") == "1"
    assert "Send the LED catalogue" in page.inner_text("[data-testid=section-overdue]")
    assert "Ask about the Christmas range" in page.inner_text("[data-testid=section-upcoming]")
    row = page.locator(f"#followup-{call_back.pk}")
    assert row.locator(".customer-time-state").get_attribute("data-state") == state
    shot(page, "journey-c-my-day.png", guide="journey-c-my-day")
    _phone_shot(page, "journey-c-phone-my-day")

    # 2. to the customer: the office clock, then a call logged in two clicks
    row.get_by_role("link", name=office.name).click()
    page.wait_for_url(f"{base}/customers/{office.pk}/")
    badge = {"within": "Within office hours", "outside": "Outside office hours", "weekend": "Weekend"}.get(
        state
    )
    if badge:
        assert badge in page.inner_text("[data-testid=local-time]")
    page.click("[data-testid=quick-call]")
    form = page.locator("[data-testid=quick-form]")
    form.wait_for()
    form.locator("[name=subject]").fill("Buyer confirmed 2 x 40HQ for March")
    page.click("[data-testid=quick-save]")
    page.locator("#timeline-entries", has_text="Buyer confirmed 2 x 40HQ for March").wait_for()
    call = Interaction.objects.get(company=office)
    assert (call.type, call.owner_id) == ("call", alice.pk)
    _shot_at(page, "[data-testid=timeline-card]", "journey-c-call-logged")

    # 3. back to my day: the call-back done with what was said; the overdue one done without a log
    page.goto(f"{base}/followups/")
    row = page.locator(f"#followup-{call_back.pk}")
    row.locator("[data-testid=complete]").click()
    done = row.locator("[data-testid=complete-form]")
    done.wait_for()
    done.locator("[name=log_body]").fill("PI to follow tomorrow; deposit by T/T")
    done.get_by_role("button", name="Mark done").click()
    page.locator(f"#followup-{call_back.pk}").wait_for(state="detached")
    call_back.refresh_from_db()
    assert call_back.status == "done" and call_back.completed_by_id == alice.pk
    assert call_back.outcome is not None and "deposit by T/T" in call_back.outcome.body

    row = page.locator(f"#followup-{overdue.pk}")
    row.locator("[data-testid=complete]").click()
    done = row.locator("[data-testid=complete-form]")
    done.wait_for()
    done.locator("[name=log]").uncheck()
    done.get_by_role("button", name="Mark done").click()
    page.locator(f"#followup-{overdue.pk}").wait_for(state="detached")
    overdue.refresh_from_db()
    assert overdue.status == "done" and overdue.outcome is None
    page.reload()
    assert page.inner_text("[data-testid=count-overdue]") == "0"
    later.refresh_from_db()
    assert later.status == "open" and page.locator(f"#followup-{later.pk}").count() == 1
    assert Interaction.objects.filter(company=office).count() == 2  # the call and the logged outcome
    shot(page, "journey-c-day-done.png", guide="journey-c-day-done")
    assert page.js_errors == []


# --------------------------------------------------------------------------------------------
# (d) a manager's week: dashboard, a tier change, recall warnings, a departed rep's customers

from test_dashboard import business  # noqa: E402, F401  (fixture: a year of East's business)


def test_journey_d_a_managers_week(page, live_server, alice, bob, carol, admin, business):  # noqa: F811
    from django.utils import timezone

    from tradecrm.customers.models import Company
    from tradecrm.followups.models import Notification
    from tradecrm.grading.models import CompanyGrade
    from tradecrm.pool.models import CompanyLock
    from tradecrm.pool.services import pool_create, pool_warn_run
    from tradecrm.reports.dashboard import REPORTS

    # the pool's rule: 30 days without a touch and the customer goes back; owners warned 7 days ahead
    pool_create(actor=admin, data={"name": "East pool", "rules": {"no_touch_days": 30, "warn_days": 7}})
    quiet = Company.objects.create(name="Rotterdam Garden BV", country="NL", owner=alice, team=alice.team)
    Company.objects.filter(pk=quiet.pk).update(created_at=timezone.now() - dt.timedelta(days=25))
    bobs = set(Company.objects.filter(owner=bob).values_list("pk", flat=True))
    assert bobs

    base = live_server.url
    _sign_in(page, base, "carol")

    # 1. Monday: the dashboard, every chart drawn
    page.goto(f"{base}/dashboard/")
    for key in REPORTS:
        page.locator(f'[data-testid="chart-{key}"][data-rendered="1"] canvas').first.wait_for()
    page.wait_for_timeout(600)  # the charts' entry animation
    shot(page, "journey-d-dashboard.png", guide="journey-d-dashboard")
    _phone_shot(page, "journey-d-phone-dashboard")

    # 2. a tier changed by hand: Buyer 1 signed a supply contract
    buyer = Company.objects.get(name="Buyer 1")
    page.goto(f"{base}/customers/{buyer.pk}/")
    override = page.locator("[data-testid=override-form]")
    override.locator("select[name=tier]").select_option("A")
    override.locator("input[name=reason]").fill("Signed a 3-year supply contract")
    override.locator("input[name=until]").fill((timezone.localdate() + dt.timedelta(days=90)).isoformat())
    override.get_by_role("button", name="Set tier").click()
    page.locator("[data-testid=grade-override]", has_text="Signed a 3-year supply contract").wait_for()
    assert page.inner_text("[data-testid=grade-tier]").startswith("A")
    grade = CompanyGrade.objects.get(company=buyer)
    assert grade.override_tier == "A" and grade.tier == "A"
    _shot_at(page, "#grading-panel-body", "journey-d-tier-override")

    # 3. the night's warning run; carol sees the recall coming and keeps the customer (lock)
    assert pool_warn_run() >= 1  # what the worker does every night
    assert Notification.objects.filter(user=alice, company=quiet).exists()
    page.goto(f"{base}/customers/{quiet.pk}/")
    state = page.locator("[data-testid=pool-state]")
    assert re.search(r"recall in [45] days unless", state.inner_text()), state.inner_text()
    _shot_at(page, "[data-testid=pool-panel]", "journey-d-recall-warning")
    state.get_by_role("button", name="Lock (never recall)").click()
    page.locator("[data-testid=pool-state]", has_text="Locked: never recalled").wait_for()
    assert CompanyLock.objects.filter(company=quiet).exists()

    # 4. bob has left: his customers, follow-ups and deals go to alice; his account is closed
    page.goto(f"{base}/settings/users/")
    page.locator("tr", has_text="bob").get_by_role("link", name="Hand over work").click()
    page.wait_for_url(re.compile(rf"/settings/users/{bob.pk}/offboard/$"))
    assert f"{len(bobs)} customers" in page.inner_text("[data-testid=offboard-holds]")
    page.select_option("#id_to", str(alice.pk))
    page.check("#id_deactivate")
    page.get_by_role("button", name="Hand over").click()
    page.locator("[data-testid=offboard-summary]").wait_for()
    assert f"Moved {len(bobs)} customers" in page.inner_text("[data-testid=offboard-summary]")
    bob.refresh_from_db()
    assert not bob.is_active
    assert not Company.objects.filter(owner=bob).exists()
    assert set(Company.objects.filter(pk__in=bobs).values_list("owner_id", flat=True)) == {alice.pk}
    shot(page, "journey-d-handover.png", guide="journey-d-handover")
    _phone_shot(page, "journey-d-phone-handover")
    assert page.js_errors == []


# --------------------------------------------------------------------------------------------
# (e) another team's customers stay out of sight


def test_journey_e_other_team_cannot_see_or_guess(page, live_server, alice, dave):
    from django.core.files.base import ContentFile
    from django.test import Client

    from tradecrm.customers.models import Company, Contact
    from tradecrm.followups.models import FollowUp
    from tradecrm.interactions.services import attachment_add, interaction_create

    lakeside = Company.objects.create(
        name="Lakeside Home Goods LLC", country="US", owner=alice, team=alice.team
    )
    jason = Contact.objects.create(company=lakeside, first_name="Jason", last_name="Miller",
                                   emails=["jason@lakesidehomegoods.com"])  # fmt: skip
    call = interaction_create(actor=alice, company=lakeside, data={
        "type": "call", "subject": "Lakeside price list for 2027", "body": "Target price USD 5.40 FOB",
        "occurred_at": "2026-03-04T09:00"})  # fmt: skip
    sheet = attachment_add(
        actor=alice, interaction=call, upload=ContentFile(b"SKU,USD\nVF-100,5.40\n", name="prices.csv")
    )
    followup = FollowUp.objects.create(company=lakeside, assignee=alice, title="Chase Lakeside",
                                       due_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))  # fmt: skip
    own = Company.objects.create(name="Pacific Coast Lighting Inc", country="US", owner=dave, team=dave.team)
    by_id = [f"/customers/{lakeside.pk}/", f"/customers/{lakeside.pk}/edit/", f"/customers/{lakeside.pk}/timeline/",
             f"/interactions/{call.pk}/", f"/attachments/{sheet.pk}/", f"/contacts/{jason.pk}/edit/",
             f"/contacts/{jason.pk}/timeline/", f"/followups/{followup.pk}/edit/"]  # fmt: skip
    api = [f"/api/v1/companies/{lakeside.pk}", f"/api/v1/contacts/{jason.pk}", f"/api/v1/interactions/{call.pk}",
           f"/api/v1/interactions/attachments/{sheet.pk}"]  # fmt: skip
    owner = Client()
    owner.force_login(alice)  # the same addresses answer the owner: the 404s below are about dave
    assert owner.get("/api/v1/interactions?q=price+list").json()["items"]
    assert all(owner.get(u).status_code == 200 for u in by_id + api), [
        (u, owner.get(u).status_code) for u in by_id + api
    ]

    base = live_server.url
    _sign_in(page, base, "dave")

    # 1. the customer's address, guessed from its id: the same "not found" as a missing page
    response = page.goto(f"{base}/customers/{lakeside.pk}/")
    assert response.status == 404
    assert "not shared with you" in page.inner_text("body") and "Lakeside" not in page.content()
    shot(page, "journey-e-not-found.png", guide="journey-e-not-found")
    _phone_shot(page, "journey-e-phone-not-found")
    for url in by_id[1:]:
        response = page.goto(f"{base}{url}")
        assert response.status == 404, url
        assert "Lakeside" not in page.content() and "Jason" not in page.content(), url

    # 2. search and filters of the customer list: only dave's own customers
    page.goto(f"{base}/customers/")
    assert page.locator("table.company-table tbody tr", has_text=own.name).count() == 1
    page.fill("#f-q", "Lakeside")
    page.get_by_text("No customer matches these filters").wait_for()
    for query in ("q=lakeside", "country=US", f"owner={alice.pk}", "q=jason%40lakesidehomegoods.com"):
        page.goto(f"{base}/customers/?{query}")
        assert "Lakeside" not in page.inner_text(".page-wrapper"), query
    page.goto(f"{base}/customers/?country=US")
    assert own.name in page.inner_text(".page-wrapper")  # the filter works; it just hides the others

    # 3. the timeline search finds nothing of alice's calls
    page.goto(f"{base}/timeline/search/?q=price+list")
    assert "Lakeside" not in page.inner_text(".page-wrapper")
    shot(page, "journey-e-search.png", guide="journey-e-search")

    # 4. the API from the same signed-in browser session: 404 by id, nothing in the lists
    for url in api:
        assert page.request.get(f"{base}{url}").status == 404, url
    listed = page.request.get(f"{base}/api/v1/companies?q=Lakeside")
    assert listed.status == 200 and listed.json()["items"] == []
    assert page.request.get(f"{base}/api/v1/interactions?company_id={lakeside.pk}").status == 404
    searched = page.request.get(f"{base}/api/v1/interactions?q=price+list")
    assert searched.status == 200 and searched.json()["items"] == []
    assert page.js_errors == []
