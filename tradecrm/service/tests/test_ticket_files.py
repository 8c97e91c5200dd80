"""Files on tickets (photos of the damage, documents): stored encrypted, type and size limits, all
or nothing, on the timeline, scoped like the ticket (dave: 404), removed with their rows."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tradecrm.service import services
from tradecrm.service.models import TicketAttachment, TicketEvent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # sniffed as image/png
PDF = b"%PDF-1.4\n" + b"1 0 obj\n" * 8


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}  # fmt: skip
    return tmp_path


def _files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def up(name: str, data: bytes):
    return SimpleUploadedFile(name, data)


def test_photo_and_pdf_stored_encrypted_and_on_the_timeline(ticket, alice, _media):
    t = ticket()
    added = services.ticket_files_add(
        actor=alice, ticket=t, files=[up("damage.png", PNG), up("packing.pdf", PDF)]
    )
    assert [(a.name, a.content_type, a.size) for a in added] == [("damage.png", "image/png", len(PNG)),
                                                                 ("packing.pdf", "application/pdf", len(PDF))]  # fmt: skip
    stored = [p.read_bytes() for p in _files(_media)]
    assert len(stored) == 2 and all(b[:8] == b"TCRMENC1" for b in stored)  # no plaintext on disk
    assert services.ticket_file_read(added[0]) == PNG
    events = list(TicketEvent.objects.filter(ticket=t, kind="file").values_list("text", flat=True))
    assert events == ["damage.png", "packing.pdf"]
    t.refresh_from_db()
    assert t.version == 2


def test_refused_files_are_named_and_nothing_is_stored(ticket, alice, _media, settings):
    t = ticket()
    with pytest.raises(ValidationError) as exc:
        services.ticket_files_add(actor=alice, ticket=t, files=[up("ok.png", PNG), up("setup.exe", b"MZ" + b"\0" * 60),
                                                                up("data.zip", b"PK\x03\x04" + b"\0" * 60)])  # fmt: skip
    text = " ".join(exc.value.message_dict["files"])
    assert "setup.exe" in text and "data.zip" in text and "ok.png" not in text
    settings.TRADECRM_ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as exc:
        services.ticket_files_add(actor=alice, ticket=t, files=[up("big.pdf", PDF + b"x" * 200)])
    assert "big.pdf" in exc.value.message_dict["files"][0] and "at most" in exc.value.message_dict["files"][0]
    with pytest.raises(ValidationError):
        services.ticket_files_add(actor=alice, ticket=t, files=[])
    assert not TicketAttachment.objects.exists() and _files(_media) == []
    assert not TicketEvent.objects.filter(kind="file").exists()


def test_files_per_ticket_limit(ticket, alice, monkeypatch):
    t = ticket()
    monkeypatch.setattr(services, "MAX_FILES_PER_TICKET", 2)
    services.ticket_files_add(actor=alice, ticket=t, files=[up("a.png", PNG)])
    with pytest.raises(ValidationError) as exc:
        services.ticket_files_add(actor=alice, ticket=t, files=[up("b.png", PNG), up("c.png", PNG)])
    assert "at most 2" in exc.value.message_dict["files"][0]


def test_delete_rights_and_file_leaves_the_disk(
    ticket, alice, bob, carol, _media, django_capture_on_commit_callbacks
):
    t = ticket()
    [att] = services.ticket_files_add(actor=alice, ticket=t, files=[up("a.png", PNG)])
    with pytest.raises(PermissionDenied):
        services.ticket_file_delete(actor=bob, attachment=att)  # a teammate, not the uploader nor the owner
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_file_delete(actor=carol, attachment=att)  # a manager may
    assert not TicketAttachment.objects.exists() and _files(_media) == []
    assert TicketEvent.objects.filter(ticket=t, kind="file_del", text="a.png").exists()


def test_files_go_with_their_customer(ticket, alice, _media, django_capture_on_commit_callbacks):
    t = ticket()
    services.ticket_files_add(actor=alice, ticket=t, files=[up("a.png", PNG)])
    with django_capture_on_commit_callbacks(execute=True):
        t.company.delete()  # e.g. the erasure of a customer's data: a cascade
    assert _files(_media) == []


def test_html_upload_download_and_delete(ticket, alice, client_for):
    t = ticket()
    c = client_for(alice)
    r = c.post(f"/service/tickets/{t.pk}/files/", {"files": [up("damage.png", PNG), up("report.pdf", PDF)]})
    assert r.status_code == 302 and r["Location"].endswith("#files")
    page = c.get(f"/service/tickets/{t.pk}/").content.decode()
    assert page.count('data-testid="ticket-file"') == 2 and "damage.png" in page
    att = TicketAttachment.objects.get(name="damage.png")
    r = c.get(f"/service/files/{att.pk}/")
    assert r.status_code == 200 and r.content == PNG and r["Content-Type"] == "image/png"
    assert r["Content-Disposition"].startswith("inline") and r["X-Content-Type-Options"] == "nosniff"
    assert c.get(f"/service/files/{att.pk}/?download=1")["Content-Disposition"].startswith("attachment")
    r = c.post(f"/service/tickets/{t.pk}/files/", {"files": [up("run.sh", b"#!/bin/sh\nrm -rf /\n")]})
    assert "run.sh" in c.get(r["Location"]).content.decode()  # the refusal, shown on the page
    assert c.post(f"/service/files/{att.pk}/delete/").status_code == 302
    assert list(TicketAttachment.objects.values_list("name", flat=True)) == ["report.pdf"]


def test_create_form_takes_files_all_or_nothing(company, client_for, alice):
    from tradecrm.service.models import Ticket

    co = company()
    c = client_for(alice)
    base = {
        "company": co.pk,
        "title": "Broken glass",
        "kind": "damage",
        "category": "claim",
        "severity": "high",
    }
    r = c.post("/service/tickets/new/", {**base, "files": [up("virus.exe", b"MZ" + b"\0" * 60)]})
    assert r.status_code == 422 and "virus.exe" in r.content.decode() and not Ticket.objects.exists()
    r = c.post("/service/tickets/new/", {**base, "files": [up("photo.png", PNG)]})
    assert r.status_code == 302
    assert Ticket.objects.get().attachments.get().name == "photo.png"


def test_api_files(ticket, alice, api_for):
    t = ticket()
    api = api_for(alice)
    r = api.post(f"/api/v1/tickets/{t.pk}/files", {"files": [up("a.png", PNG), up("b.pdf", PDF)]})
    assert r.status_code == 201, r.content
    rows = r.json()
    assert [f["name"] for f in rows] == ["a.png", "b.pdf"] and rows[0]["uploaded_by"]["username"] == "alice"
    assert [f["name"] for f in api.get(f"/api/v1/tickets/{t.pk}/files").json()] == ["a.png", "b.pdf"]
    r = api.get(rows[0]["url"])
    assert r.status_code == 200 and b"".join(r.streaming_content) == PNG
    bad = api.post(f"/api/v1/tickets/{t.pk}/files", {"files": [up("x.exe", b"MZ" + b"\0" * 60)]})
    assert bad.status_code == 422 and "x.exe" in bad.content.decode()
    assert api.delete(rows[0]["url"]).status_code == 204
    assert [f["name"] for f in api.get(f"/api/v1/tickets/{t.pk}/files").json()] == ["b.pdf"]


def test_dave_gets_404_on_every_file_endpoint(ticket, alice, dave, client_for, api_for):
    t = ticket()
    [att] = services.ticket_files_add(actor=alice, ticket=t, files=[up("a.png", PNG)])
    c = client_for(dave)
    assert c.get(f"/service/files/{att.pk}/").status_code == 404
    assert c.get(f"/service/files/{att.pk}/?download=1").status_code == 404
    assert c.post(f"/service/files/{att.pk}/delete/").status_code == 404
    assert c.post(f"/service/tickets/{t.pk}/files/", {"files": [up("b.png", PNG)]}).status_code == 404
    api = api_for(dave)
    assert api.get(f"/api/v1/tickets/{t.pk}/files").status_code == 404
    assert api.post(f"/api/v1/tickets/{t.pk}/files", {"files": [up("b.png", PNG)]}).status_code == 404
    assert api.get(f"/api/v1/tickets/files/{att.pk}").status_code == 404
    assert api.delete(f"/api/v1/tickets/files/{att.pk}").status_code == 404
    assert TicketAttachment.objects.count() == 1
