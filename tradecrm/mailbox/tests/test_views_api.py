"""HTML and API endpoints: what each persona sees; dave (other team) gets 404 on every by-id one."""

from __future__ import annotations

import pytest

from tradecrm.mailbox import services
from tradecrm.mailbox.models import MailAttachment, MailMessage, MailThread, UnknownSender


@pytest.fixture
def api_for(db):
    from django.test import Client

    from tradecrm.accounts.models import ApiToken

    def make(user):
        _token, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture
def world(alice, customer, mailbox_for):
    """alice's mailbox, a stored message with an attachment in a thread, a template, an unknown sender."""
    from django.core.files.base import ContentFile

    from tradecrm.core.crypto import encrypt_bytes

    company, contact = customer
    box = mailbox_for(alice)
    thread = MailThread.objects.create(owner=alice, company=company, subject="Inquiry")
    msg = MailMessage.objects.create(mailbox=box, thread=thread, company=company, contact=contact, direction="in",
                                     status="received", message_id="<a@b>", subject="Inquiry", body_text="hello",
                                     from_addr="john@acme-imports.com")
    att = MailAttachment(message=msg, name="spec.txt", size=5, content_type="text/plain", sha256="x")
    att.file.save("spec.txt", ContentFile(encrypt_bytes(b"specs", services.ATTACHMENT_LABEL)), save=False)
    att.save()
    tpl = services.template_create(actor=alice, data={"name": "Hi", "language": "zh", "subject": "您好 {{ contact.first_name }}",
                                                      "body": "{{ company.name }}"})
    sender = UnknownSender.objects.create(user=alice, address="x@new-co.com", name="X")
    return {"company": company, "contact": contact, "box": box, "thread": thread, "msg": msg, "att": att,
            "tpl": tpl, "sender": sender}


def test_dave_gets_404_everywhere(world, dave, client_for, api_for):
    w = world
    c, api = client_for(dave), api_for(dave)
    html = [
        ("get", f"/mail/mailboxes/{w['box'].pk}/"), ("post", f"/mail/mailboxes/{w['box'].pk}/sync/"),
        ("post", f"/mail/mailboxes/{w['box'].pk}/delete/"), ("get", f"/mail/messages/{w['msg'].pk}/"),
        ("post", f"/mail/threads/{w['thread'].pk}/private/"), ("get", f"/mail/attachments/{w['att'].pk}/"),
        ("get", f"/mail/senders/{w['sender'].pk}/customer/"), ("post", f"/mail/senders/{w['sender'].pk}/dismiss/"),
        ("get", f"/mail/templates/{w['tpl'].pk}/"), ("get", f"/customers/{w['company'].pk}/mail/"),
        ("post", f"/customers/{w['company'].pk}/mail/compose/"),
    ]
    for method, url in html:
        assert getattr(c, method)(url).status_code == 404, url
    apis = [
        ("get", f"/api/v1/mailboxes/{w['box'].pk}", None), ("patch", f"/api/v1/mailboxes/{w['box'].pk}", {"version": 1}),
        ("delete", f"/api/v1/mailboxes/{w['box'].pk}", None), ("post", f"/api/v1/mailboxes/{w['box'].pk}/sync", None),
        ("get", f"/api/v1/messages/{w['msg'].pk}", None), ("get", f"/api/v1/messages?company={w['company'].pk}", None),
        ("get", f"/api/v1/mail-templates/{w['tpl'].pk}", None),
        ("patch", f"/api/v1/mail-templates/{w['tpl'].pk}", {"version": 1}),
        ("delete", f"/api/v1/mail-templates/{w['tpl'].pk}", None),
    ]
    for method, url, body in apis:
        kw = {"data": body, "content_type": "application/json"} if body is not None else {}
        assert getattr(api, method)(url, **kw).status_code == 404, url
    # sending to a contact of a customer dave does not see: 404 too
    dbox = services.mailbox_create(actor=dave, data={"email": "d@x-example.com", "imap_host": "h", "smtp_host": "h",
                                                     "username": "u", "password": "p"})
    r = api.post("/api/v1/messages", {"mailbox": dbox.pk, "contact": w["contact"].pk, "subject": "s", "body": "b"},
                 content_type="application/json")
    assert r.status_code == 404
    assert MailMessage.objects.filter(mailbox=dbox).count() == 0


def test_teammate_sees_customer_mail_not_the_mailbox(world, bob, client_for, api_for):
    w = world
    w["company"].followers.add(bob)
    assert client_for(bob).get(f"/mail/messages/{w['msg'].pk}/").status_code == 200
    assert api_for(bob).get(f"/api/v1/messages?company={w['company'].pk}").json()["items"][0]["id"] == w["msg"].pk
    assert api_for(bob).get(f"/api/v1/mailboxes/{w['box'].pk}").status_code == 404
    r = client_for(bob).get(f"/mail/attachments/{w['att'].pk}/")
    assert r.status_code == 200 and r.content == b"specs"
    # bob may not make alice's thread private
    client_for(bob).post(f"/mail/threads/{w['thread'].pk}/private/", {"private": "1"})
    w["thread"].refresh_from_db()
    assert not w["thread"].private


def test_mailbox_api_crud_password_write_only(alice, api_for, django_capture_on_commit_callbacks):
    api = api_for(alice)
    body = {"email": "Rep@Example.com", "imap_host": "imap.example.test", "smtp_host": "smtp.example.test",
            "username": "rep", "password": "s3cret", "smtp_security": "ssl", "smtp_port": 465}
    with django_capture_on_commit_callbacks(execute=False):
        r = api.post("/api/v1/mailboxes", body, content_type="application/json")
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["email"] == "rep@example.com" and "password" not in out and out["status"] == "new"
    r = api.patch(f"/api/v1/mailboxes/{out['id']}", {"version": out["version"], "imap_port": 0},
                  content_type="application/json")
    assert r.status_code == 422
    r = api.patch(f"/api/v1/mailboxes/{out['id']}", {"version": out["version"], "display_name": "Alice"},
                  content_type="application/json")
    assert r.status_code == 200 and r.json()["display_name"] == "Alice"
    assert api.get("/api/v1/mailboxes").json()[0]["id"] == out["id"]
    # the raw database column holds no plaintext password
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT password FROM mailbox_mailbox WHERE id = %s", [out["id"]])
        stored = cur.fetchone()[0]
    assert "s3cret" not in stored and stored.startswith("v1:")
    bad = api.post("/api/v1/mailboxes", {**body, "email": "not-an-address"}, content_type="application/json")
    assert bad.status_code == 422 and "email" in bad.content.decode()
    assert api.delete(f"/api/v1/mailboxes/{out['id']}").status_code == 204


def test_template_api_and_send_api(world, alice, api_for):
    api = api_for(alice)
    r = api.post("/api/v1/mail-templates", {"name": "Offer", "language": "de", "subject": "Angebot für {{ company.name }}",
                                            "body": "Sehr geehrte(r) {{ contact.last_name }}"},
                 content_type="application/json")
    assert r.status_code == 201, r.content
    tid = r.json()["id"]
    assert {t["language"] for t in api.get("/api/v1/mail-templates").json()} == {"de", "zh"}
    bad = api.post("/api/v1/mail-templates", {"name": "x", "language": "de", "subject": "{% load x %}", "body": "b"},
                   content_type="application/json")
    assert bad.status_code == 422 and "subject" in bad.content.decode()
    r = api.post("/api/v1/messages", {"mailbox": world["box"].pk, "contact": world["contact"].pk, "template": tid,
                                      "customer_morning": True}, content_type="application/json")
    assert r.status_code == 201, r.content
    m = r.json()
    assert m["status"] == "scheduled" and m["subject"] == "Angebot für Acme Imports LLC" and m["to"] == ["john@acme-imports.com"]
    detail = api.get(f"/api/v1/messages/{m['id']}").json()
    assert detail["body_text"] == "Sehr geehrte(r) Doe" and "opened_at_unreliable" in detail


def test_pages_render(world, alice, client_for):
    c = client_for(alice)
    for url in ("/mail/", "/mail/mailboxes/new/", f"/mail/mailboxes/{world['box'].pk}/", "/mail/templates/",
                "/mail/templates/new/", f"/mail/messages/{world['msg'].pk}/", f"/customers/{world['company'].pk}/mail/",
                f"/mail/senders/{world['sender'].pk}/customer/"):
        assert c.get(url).status_code == 200, url
    page = c.get(f"/customers/{world['company'].pk}/mail/").content.decode()
    assert "Write an email" in page and "Inquiry" in page


def test_compose_htmx_queues_for_the_morning(world, alice, client_for):
    c = client_for(alice)
    r = c.post(f"/customers/{world['company'].pk}/mail/compose/",
               {"mailbox": world["box"].pk, "contact": world["contact"].pk, "subject": "Hello {{ contact.first_name }}",
                "body": "Our catalogue", "tracking": "on", "when": "morning", "document": ""}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'data-testid="mail-queued"' in r.content.decode()
    m = MailMessage.objects.get(direction="out")
    assert m.status == "scheduled" and m.subject == "Hello John" and m.tracking
    r = c.post(f"/customers/{world['company'].pk}/mail/compose/",
               {"mailbox": world["box"].pk, "contact": world["contact"].pk, "subject": "", "body": "", "when": "now"})
    assert "This field is required." in r.content.decode()


def test_tampered_links(db, client):
    assert client.get("/t/c/garbage/").status_code == 404
    assert client.get("/t/o/garbage.gif").status_code == 200  # a pixel never fails visibly
    assert client.post("/t/u/garbage/").status_code == 400
