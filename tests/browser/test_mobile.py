"""A phone (390×844) in a real browser: a rep at a trade-show stand captures a business card with a
photo, the page fits the screen without sideways scrolling, and the app is installable (manifest
with icons, service worker, offline notice). Screenshots: test-artifacts/ and, with
TRADECRM_GUIDE_SCREENSHOTS=1, docs/user-guide/img/capture-phone*.png."""

from __future__ import annotations

import io

import pytest
from guide_shots import shot
from PIL import Image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _sign_in(page, base):
    from django.urls import reverse

    reverse("integrations:capture")  # load the URLs (and the API) before the browser's first request
    page.goto(f"{base}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-alice-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/customers/")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_capture_a_business_card_on_a_phone(page, live_server, alice, tmp_path):
    from tradecrm.customers.models import Company, Contact
    from tradecrm.interactions.models import Attachment

    photo = tmp_path / "card.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (800, 480), (245, 243, 235)).save(buf, "JPEG")
    photo.write_bytes(buf.getvalue())

    base = live_server.url
    page.set_viewport_size(PHONE)
    _sign_in(page, base)
    page.goto(f"{base}/capture/")
    assert page.locator("#id_photo").get_attribute("capture") == "environment"
    page.set_input_files("#id_photo", str(photo))
    page.fill("#id_name", "Maria Rossi")
    page.fill("#id_company", "Rossi Ceramiche SRL")
    page.fill("#id_title", "Purchasing manager")
    page.fill("#id_email", "maria@rossi-ceramiche.it")
    page.fill("#id_phone", "+39 055 123 4567")
    page.select_option("#id_country", "IT")
    page.fill("#id_show", "Canton Fair 2026, booth 12.1 C22")
    page.fill("#id_note", "Wants a 20 ft container of mugs, samples by May.")
    assert _fits(page)
    shot(page, "capture-phone.png", guide="capture-phone")
    page.click('[data-testid="capture-submit"]')
    page.locator('[data-testid="capture-saved"]').wait_for()
    assert "Rossi Ceramiche SRL" in page.content()
    assert _fits(page)
    shot(page, "capture-phone-saved.png", guide="capture-phone-saved")
    assert page.js_errors == []

    company = Company.objects.get(name="Rossi Ceramiche SRL")
    assert company.source == "trade_show" and company.owner_id == alice.pk
    assert Contact.objects.filter(company=company, last_name="Rossi").exists()
    assert Attachment.objects.filter(interaction__company=company, content_type="image/jpeg").exists()

    # the customer's page on the phone, too
    page.click('[data-testid="capture-saved"] a')
    page.wait_for_url(f"{base}/customers/{company.pk}/")
    assert _fits(page)
    shot(page, "capture-phone-customer.png")


def test_installable_with_an_offline_notice(page, live_server, alice):
    base = live_server.url
    page.set_viewport_size(PHONE)
    manifest = page.request.get(f"{base}/manifest.webmanifest").json()
    assert manifest["display"] == "standalone"
    sizes = {i["sizes"] for i in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert page.request.get(f"{base}{icon['src']}").status == 200

    _sign_in(page, base)
    assert page.locator('link[rel="manifest"]').get_attribute("href") == "/manifest.webmanifest"
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{base}/"
    # the worker controls the page after a reload; then the network goes away
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    try:
        page.goto(f"{base}/customers/")
        page.get_by_text("You are offline").wait_for()
        assert _fits(page)
        shot(page, "offline-phone.png", guide="offline-phone")
    finally:
        page.context.set_offline(False)
