"""The HTML pages: webhooks (administrators only, 404 for anyone else), business-card capture,
and the PWA files."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tradecrm.customers.models import Company, Contact
from tradecrm.integrations import services
from tradecrm.integrations.models import WebhookDelivery, WebhookEndpoint
from tradecrm.interactions.models import Attachment, Interaction

pytestmark = pytest.mark.django_db


def _jpeg(name="card.jpg") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (64, 40), (240, 240, 230)).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


# --- webhooks --------------------------------------------------------------------------------------


def test_admin_adds_an_endpoint_and_sees_its_log(client_for, admin, receiver):
    c = client_for(admin)
    assert c.get("/integrations/webhooks/").status_code == 200
    r = c.post("/integrations/webhooks/", {"name": "ERP", "url": receiver.url,
                                          "events": ["order.created", "company.created"], "active": "on"})  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["company.created", "order.created"] and endpoint.active
    [pk] = services.create_deliveries("company.created", data={"id": 3})
    page = c.get(r["Location"]).content.decode()
    assert "company.created" in page and f"/integrations/deliveries/{pk}/" in page
    detail = c.get(f"/integrations/deliveries/{pk}/").content.decode()
    assert "&quot;id&quot;: 3" in detail or '"id": 3' in detail


def test_bad_endpoint_form_shows_every_error(client_for, admin):
    r = client_for(admin).post("/integrations/webhooks/", {"name": "", "url": "erp.local", "events": []})
    assert r.status_code == 422
    page = r.content.decode()
    assert (
        "Enter a name for the endpoint." in page
        and "http://" in page
        and "Choose at least one event." in page
    )
    assert not WebhookEndpoint.objects.exists()


def test_admin_edits_redelivers_and_deletes(client_for, admin, receiver, django_capture_on_commit_callbacks):
    endpoint = services.endpoint_create(actor=admin, data={"name": "ERP", "url": receiver.url,
                                                           "events": ["order.created"]})  # fmt: skip
    c = client_for(admin)
    r = c.post(f"/integrations/webhooks/{endpoint.pk}/", {"name": "ERP 2", "url": receiver.url, "events": ["order.created"],
                                                          "version": endpoint.version, "active": "on"})  # fmt: skip
    assert r.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.name == "ERP 2" and endpoint.version == 2
    stale = c.post(f"/integrations/webhooks/{endpoint.pk}/", {"name": "ERP 3", "url": receiver.url,
                                                              "events": ["order.created"], "version": 1})  # fmt: skip
    assert stale.status_code == 422 and "reload" in stale.content.decode()
    [pk] = services.create_deliveries("order.created", data={"id": 1})
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(f"/integrations/deliveries/{pk}/redeliver/")
    assert r.status_code == 302
    copy = WebhookDelivery.objects.exclude(pk=pk).get()
    assert copy.status == "success" and copy.redelivery_of_id == pk
    assert c.post(f"/integrations/webhooks/{endpoint.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_dave_gets_404_on_every_webhook_page(client_for, admin, dave, alice):
    endpoint = services.endpoint_create(actor=admin, data={"name": "ERP", "url": "https://erp.example/h",
                                                           "events": ["order.created"]})  # fmt: skip
    [pk] = services.create_deliveries("order.created", data={"id": 1})
    WebhookDelivery.objects.filter(pk=pk).update(status="failed")
    for user in (dave, alice):
        c = client_for(user)
        assert c.get("/integrations/webhooks/").status_code == 404
        assert c.post("/integrations/webhooks/", {"name": "x"}).status_code == 404
        assert c.get(f"/integrations/webhooks/{endpoint.pk}/").status_code == 404
        assert (
            c.post(f"/integrations/webhooks/{endpoint.pk}/", {"name": "x", "version": 1}).status_code == 404
        )
        assert c.post(f"/integrations/webhooks/{endpoint.pk}/delete/").status_code == 404
        assert c.get(f"/integrations/deliveries/{pk}/").status_code == 404
        assert c.post(f"/integrations/deliveries/{pk}/redeliver/").status_code == 404
    assert WebhookEndpoint.objects.filter(name="ERP").exists() and WebhookDelivery.objects.count() == 1
    assert "nav-webhooks" not in client_for(alice).get("/capture/").content.decode()


# --- business-card capture -------------------------------------------------------------------------


def test_capture_page_is_built_for_a_phone(client_for, alice):
    page = client_for(alice).get("/capture/").content.decode()
    assert 'accept="image/*"' in page and 'capture="environment"' in page
    assert 'enctype="multipart/form-data"' in page and "form-control-lg" in page
    assert 'type="email"' in page and 'type="tel"' in page


def test_capture_creates_customer_contact_and_photo(client_for, alice, frozen):
    c = client_for(alice)
    r = c.post("/capture/", {"name": "Maria Rossi", "company": "Rossi Ceramiche SRL", "title": "Buyer",
                             "email": "maria@rossi-ceramiche.it", "phone": "+39 055 123 4567", "country": "IT",
                             "show": "Canton Fair 2026", "note": "Wants 20 ft of mugs", "photo": _jpeg()})  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:3000]
    company = Company.objects.get(name="Rossi Ceramiche SRL")
    assert (
        company.owner == alice
        and company.source == "trade_show"
        and company.source_detail == "Canton Fair 2026"
    )
    contact = Contact.objects.get(company=company)
    assert (contact.first_name, contact.last_name, contact.title) == ("Maria", "Rossi", "Buyer")
    assert contact.emails == ["maria@rossi-ceramiche.it"] and contact.phones == ["+390551234567"]
    note = Interaction.objects.get(company=company)
    assert note.type == "trade_show" and "Canton Fair 2026" in note.subject and note.contact == contact
    photo = Attachment.objects.get(interaction=note)
    assert photo.content_type == "image/jpeg" and photo.name == "card.jpg"
    # the next card at the same show: the show is filled in, the new customer can be opened
    page = c.get(r["Location"]).content.decode()
    assert "Canton Fair 2026" in page and f"/customers/{company.pk}/" in page


def test_capture_adds_to_a_customer_already_in_the_archive(client_for, alice, make_company):
    acme = make_company(name="Acme Imports LLC", country="US", website="https://acme-imports.com")
    r = client_for(alice).post("/capture/", {"name": "John Smith", "company": "Acme Imports LLC",
                                             "email": "john@acme-imports.com", "country": "US"})  # fmt: skip
    assert r.status_code == 302
    assert Company.objects.count() == 1
    assert Contact.objects.get(company=acme).last_name == "Smith"
    assert Interaction.objects.get(company=acme).type == "trade_show"


def test_capture_names_bad_fields_and_saves_nothing(client_for, alice):
    c = client_for(alice)
    r = c.post("/capture/", {"title": "Buyer"})
    assert (
        r.status_code == 422
        and "Enter the person&#x27;s name or the company&#x27;s name." in r.content.decode()
    )
    not_a_photo = SimpleUploadedFile("card.jpg", b"just some text, not a picture", content_type="image/jpeg")
    r = c.post("/capture/", {"name": "Li Wei", "company": "Wei Trading", "photo": not_a_photo})
    assert r.status_code == 422 and "is not a photo" in r.content.decode()
    r = c.post("/capture/", {"name": "Li Wei", "company": "Wei Trading", "email": "not-an-email"})
    assert r.status_code == 422 and "email" in r.content.decode()
    assert not Company.objects.exists() and not Interaction.objects.exists()


def test_capture_needs_a_sign_in():
    r = Client().get("/capture/")
    assert r.status_code == 302 and "login" in r["Location"]


# --- PWA -------------------------------------------------------------------------------------------


def test_manifest_service_worker_and_offline_page_are_public():
    c = Client()
    r = c.get("/manifest.webmanifest")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/manifest+json")
    m = json.loads(r.content)
    assert m["display"] == "standalone" and m["start_url"].startswith("/")
    assert {i["sizes"] for i in m["icons"]} == {"192x192", "512x512"}
    for icon in m["icons"]:  # the files exist (served by whitenoise)
        assert finders.find(icon["src"].removeprefix("/static/"))
    sw = c.get("/sw.js")
    assert (
        sw.status_code == 200 and sw["Service-Worker-Allowed"] == "/" and "javascript" in sw["Content-Type"]
    )
    assert b"/offline/" in b"".join(sw.streaming_content)
    off = c.get("/offline/")
    assert off.status_code == 200 and "You are offline" in off.content.decode()


def test_every_page_links_the_manifest(client_for, alice):
    page = client_for(alice).get("/capture/").content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in page and 'name="theme-color"' in page
    assert "pwa/register.js" in page and "<script>" not in page.split("</head>")[0]
