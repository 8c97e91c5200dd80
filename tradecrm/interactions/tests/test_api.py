"""/api/v1/interactions: lists (company, contact, search), create, get, patch with versions,
delete, revisions, attachments; 404 for what is not yours; responses match the schemas."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tradecrm.accounts.models import ApiToken
from tradecrm.interactions.models import Attachment, Interaction
from tradecrm.interactions.schemas import AttachmentOut, InteractionOut, InteractionPage, RevisionList
from tradecrm.interactions.services import attachment_add

pytestmark = pytest.mark.django_db
JSON = "application/json"
BASE = "/api/v1/interactions"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture
def api(api_for, alice):
    return api_for(alice)


@pytest.fixture
def entry(alice, jane, log):
    i = log(contact=jane.pk, subject="Quotation sent", body="FOB Ningbo")
    attachment_add(actor=alice, interaction=i, upload=SimpleUploadedFile("quote.png", PNG))
    return i


def test_other_team_gets_404_on_every_by_id_endpoint(api_for, dave, acme, jane, entry):
    c = api_for(dave)
    att = entry.attachments.get()
    assert c.get(f"{BASE}/{entry.pk}").status_code == 404
    assert c.patch(f"{BASE}/{entry.pk}", {"subject": "x", "version": 1}, content_type=JSON).status_code == 404
    assert c.delete(f"{BASE}/{entry.pk}").status_code == 404
    assert c.get(f"{BASE}/{entry.pk}/revisions").status_code == 404
    assert (
        c.post(f"{BASE}/{entry.pk}/attachments", {"file": SimpleUploadedFile("a.png", PNG)}).status_code
        == 404
    )
    assert c.get(f"{BASE}/attachments/{att.pk}").status_code == 404
    assert c.get(BASE, {"company_id": acme.pk}).status_code == 404
    assert c.get(BASE, {"contact_id": jane.pk}).status_code == 404
    r = c.post(
        BASE, {"company": acme.pk, "type": "call", "occurred_at": "2026-11-20T10:00Z"}, content_type=JSON
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "company"
    assert Interaction.objects.count() == 1 and Attachment.objects.count() == 1
    assert Interaction.objects.get().subject == "Quotation sent"


def test_missing_is_404(api):
    assert api.get(f"{BASE}/999999").status_code == 404
    assert api.get(f"{BASE}/attachments/999999").status_code == 404


def test_company_timeline(api, acme, entry, log):
    log(subject="older", occurred_at="2026-01-01T00:00Z")
    r = api.get(BASE, {"company_id": acme.pk, "limit": 1})
    assert r.status_code == 200
    page = InteractionPage.model_validate(r.json())
    assert [i.subject for i in page.items] == ["Quotation sent"] and page.next_cursor
    item = page.items[0]
    assert item.contact.name == "Jane Doe" and item.attachments[0].content_type == "image/png"
    assert item.company.name == acme.name
    r = api.get(BASE, {"company_id": acme.pk, "limit": 1, "cursor": page.next_cursor})
    assert [i["subject"] for i in r.json()["items"]] == ["older"] and r.json()["next_cursor"] is None
    assert api.get(BASE, {"company_id": acme.pk, "types": "note"}).json()["items"] == []
    assert api.get(BASE, {"company_id": acme.pk, "cursor": "garbage"}).status_code == 400


def test_contact_timeline_and_search(api, jane, entry, log):
    log(subject="nothing with jane")
    assert [i["subject"] for i in api.get(BASE, {"contact_id": jane.pk}).json()["items"]] == [
        "Quotation sent"
    ]
    assert [i["subject"] for i in api.get(BASE, {"q": "ningbo"}).json()["items"]] == ["Quotation sent"]
    assert api.get(BASE).status_code == 422


def test_create_reads_naive_time_in_my_zone(api, alice, acme, jane):
    alice.timezone = "Europe/Berlin"
    alice.save()
    data = {
        "company": acme.pk,
        "type": "email",
        "direction": "in",
        "occurred_at": "2026-07-01T12:00",
        "subject": "Re: samples",
        "body": "<p>ok<script>x()</script></p>",
        "body_format": "html",
        "contact": jane.pk,
    }
    r = api.post(BASE, data, content_type=JSON)
    assert r.status_code == 201, r.content
    out = InteractionOut.model_validate(r.json())
    assert out.occurred_at.isoformat() == "2026-07-01T10:00:00+00:00"  # CEST is UTC+2
    assert out.body == "<p>ok</p>" and out.source == "api" and r["ETag"] == '"1"'
    assert r["Location"] == f"{BASE}/{out.id}"


def test_create_names_bad_fields(api, acme):
    r = api.post(
        BASE, {"company": acme.pk, "type": "fax", "occurred_at": "soon", "extra": 1}, content_type=JSON
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["detail"]} == {"extra"}
    r = api.post(BASE, {"company": acme.pk, "type": "call", "occurred_at": "soon"}, content_type=JSON)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "occurred_at"


def test_patch_needs_a_current_version(api, api_for, bob, acme, entry):
    url = f"{BASE}/{entry.pk}"
    assert api.patch(url, {"subject": "x"}, content_type=JSON).status_code == 428
    r = api.patch(url, {"subject": "Second"}, content_type=JSON, HTTP_IF_MATCH='"1"')
    assert r.status_code == 200 and r.json()["version"] == 2 and r["ETag"] == '"2"'
    r = api.patch(url, {"subject": "Stale", "version": 1}, content_type=JSON)
    assert r.status_code == 409 and r.json()["current_version"] == 2
    r = api.get(f"{url}/revisions")
    revs = RevisionList.model_validate(r.json())
    assert [(v.version, v.data["subject"]) for v in revs.items] == [(1, "Quotation sent")]
    assert api.get(url, HTTP_IF_NONE_MATCH='"2"').status_code == 304


def test_delete(api, acme, entry):
    assert api.delete(f"{BASE}/{entry.pk}", HTTP_IF_MATCH='"9"').status_code == 409
    assert api.delete(f"{BASE}/{entry.pk}").status_code == 204
    assert not Interaction.objects.exists()
    acme.refresh_from_db()
    assert acme.last_contact_at is None


def test_attachments(api, entry, settings):
    url = f"{BASE}/{entry.pk}/attachments"
    r = api.post(url, {"file": SimpleUploadedFile("spec.txt", "规格 spec".encode())})
    assert r.status_code == 201, r.content
    out = AttachmentOut.model_validate(r.json())
    assert out.content_type == "text/plain"
    d = api.get(out.url)
    assert d.status_code == 200 and b"".join(d.streaming_content) == "规格 spec".encode()
    assert d["X-Content-Type-Options"] == "nosniff" and "attachment" in d["Content-Disposition"]
    r = api.post(url, {"file": SimpleUploadedFile("tool.exe", b"MZ")})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "file"
    settings.TRADECRM_ATTACHMENT_MAX_BYTES = 1024 * 1024
    r = api.post(url, {"file": SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * (1024 * 1024))})
    assert r.status_code == 422 and "1 MB" in r.json()["detail"][0]["message"]
    assert Attachment.objects.filter(interaction=entry).count() == 2
