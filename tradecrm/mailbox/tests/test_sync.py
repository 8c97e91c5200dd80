"""IMAP sync against a real Dovecot: matching, threading, attachments, privacy, bad input."""

from __future__ import annotations

import time_machine  # noqa: F401
from django.core.files.storage import default_storage

from tradecrm.core.crypto import decrypt_bytes
from tradecrm.interactions.models import Interaction
from tradecrm.mailbox import services
from tradecrm.mailbox.models import MailboxStatus, MailFolder, MailMessage, UnknownSender
from tradecrm.mailbox.sync import mailbox_sync

from .conftest import raw_mail


def test_first_sync_matches_contact_domain_and_keeps_private_mail_out(imap, alice, customer, mailbox_for):
    company, contact = customer
    imap.append(raw_mail())  # the contact
    imap.append(raw_mail(frm="Mary <mary@acme-imports.com>", msgid="<m2@acme-imports.com>"))  # company domain
    imap.append(raw_mail(frm="Mom <mom@gmail.com>", subject="Dinner?", msgid="<m3@gmail.com>"))  # private
    imap.append(raw_mail(frm="Sales <x@other-co.de>", subject="Catalog", msgid="<m4@other-co.de>"))  # unknown
    box = mailbox_for(alice, imap_port=imap.port)

    r = mailbox_sync(box)

    assert r.status == "ok" and r.fetched == 4 and r.stored == 2 and r.unknown == 2, r
    msgs = {m.message_id: m for m in MailMessage.objects.all()}
    assert set(msgs) == {"<m1@acme-imports.com>", "<m2@acme-imports.com>"}
    assert msgs["<m1@acme-imports.com>"].contact_id == contact.pk
    assert msgs["<m2@acme-imports.com>"].contact_id is None and msgs["<m2@acme-imports.com>"].company_id == company.pk
    entries = Interaction.objects.filter(company=company, type="email", source="email")
    assert entries.count() == 2 and {e.direction for e in entries} == {"in"}
    assert not MailMessage.objects.filter(subject="Dinner?").exists()
    senders = set(UnknownSender.objects.filter(user=alice).values_list("address", flat=True))
    assert senders == {"mom@gmail.com", "x@other-co.de"}
    box.refresh_from_db()
    assert box.status == MailboxStatus.OK
    inbox = MailFolder.objects.get(mailbox=box, role="inbox")
    assert inbox.last_uid >= 4 and inbox.uidvalidity  # UIDs go on across tests (expunge keeps them)
    assert MailFolder.objects.get(mailbox=box, role="sent").name == "Sent"  # found by SPECIAL-USE


def test_incremental_sync_reads_only_new_and_never_twice(imap, alice, customer, mailbox_for):
    imap.append(raw_mail())
    box = mailbox_for(alice, imap_port=imap.port)
    assert mailbox_sync(box).stored == 1
    again = mailbox_sync(box)
    assert again.fetched == 0 and again.stored == 0
    imap.append(raw_mail(msgid="<m9@acme-imports.com>", subject="Re: Inquiry",
                         extra_headers="In-Reply-To: <m1@acme-imports.com>\r\n"))
    r = mailbox_sync(box)
    assert r.fetched == 1 and r.stored == 1
    a, b = MailMessage.objects.order_by("id")
    assert a.thread_id == b.thread_id  # threaded by In-Reply-To
    # a renumbered folder (new UIDVALIDITY) is read again, but nothing is stored twice
    MailFolder.objects.filter(mailbox=box, role="inbox").update(uidvalidity=1)
    r = mailbox_sync(box)
    assert r.stored == 0 and r.skipped == 2
    assert MailMessage.objects.count() == 2


def test_sent_folder_matches_recipients(imap, alice, customer, mailbox_for):
    company, contact = customer
    imap.append(raw_mail(frm="rep@example.test", to="John <john@acme-imports.com>", msgid="<s1@example.test>"),
                folder="Sent")
    box = mailbox_for(alice, imap_port=imap.port)
    assert mailbox_sync(box).stored == 1
    m = MailMessage.objects.get()
    assert m.direction == "out" and m.contact_id == contact.pk and m.folder_role == "sent"
    assert Interaction.objects.get(company=company).direction == "out"


def test_bad_input_does_not_stop_the_sync(imap, alice, customer, mailbox_for):
    company, _contact = customer
    weird_charset = (b"From: john@acme-imports.com\r\nSubject: charset\r\nMessage-ID: <c1@acme-imports.com>\r\n"
                     b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nHallo \xe4\xf6\r\n")
    broken_mime = (b"From: john@acme-imports.com\r\nSubject: broken\r\nMessage-ID: <c2@acme-imports.com>\r\n"
                   b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
                   b"--XX\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n--XX\r\nContent-Type: text/html\r\n"
                   b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\r\n")  # no closing boundary
    no_from = raw_mail(frm=None, msgid="<c3@acme-imports.com>")
    script = raw_mail(msgid="<c4@acme-imports.com>", subject="html").replace(
        b"Content-Type: text/plain; charset=utf-8", b"Content-Type: text/html; charset=utf-8").replace(
        b"Please quote 500 pcs.", b"<p onclick=x()>Hi<script>alert(1)</script><a href='javascript:x'>l</a></p>")
    no_msgid = raw_mail(msgid="", subject="no id")
    for raw in (weird_charset, broken_mime, no_from, script, no_msgid):
        imap.append(raw)
    box = mailbox_for(alice, imap_port=imap.port)

    r = mailbox_sync(box)

    assert r.status == "ok" and not r.errors, r
    assert r.stored == 4 and r.unknown == 1  # the one without From matches nobody
    by_subject = {m.subject: m for m in MailMessage.objects.all()}
    assert "Hallo" in by_subject["charset"].body_text and by_subject["charset"].problems
    assert "first part" in by_subject["broken"].body_text
    html = by_subject["html"].body_html
    assert "<script" not in html and "onclick" not in html and "javascript:" not in html and "Hi" in html
    assert by_subject["no id"].message_id.endswith("@no-message-id.tradecrm>")
    assert mailbox_sync(box).stored == 0  # the synthetic id is stable


def test_attachment_30mb_stored_encrypted(imap, alice, customer, mailbox_for):
    from email.message import EmailMessage

    data = bytes(range(256)) * (30 * 1024 * 1024 // 256)
    m = EmailMessage()
    m["From"], m["To"], m["Subject"], m["Message-ID"] = "john@acme-imports.com", "rep@example.test", "big", "<big@a>"
    m.set_content("see attached")
    m.add_attachment(data, maintype="application", subtype="octet-stream", filename="drawings.dat")
    imap.append(m.as_bytes())
    box = mailbox_for(alice, imap_port=imap.port)
    r = mailbox_sync(box)
    assert r.stored == 1, r
    att = MailMessage.objects.get().attachments.get()
    assert att.name == "drawings.dat" and att.size == len(data)
    with default_storage.open(att.file.name, "rb") as fh:
        stored = fh.read()
    assert stored[:8] == b"TCRMENC1" and decrypt_bytes(stored, services.ATTACHMENT_LABEL) == data
    assert "drawings.dat" in Interaction.objects.get().body


def test_wrong_password_pauses_without_retry(imap, alice, customer, mailbox_for, client_for):
    box = mailbox_for(alice, imap_port=imap.port, password="wrong")
    r = mailbox_sync(box)
    box.refresh_from_db()
    assert r.status == "auth_failed" and box.status == MailboxStatus.AUTH_FAILED
    assert "paused" in box.status_message
    assert mailbox_sync(box).status == "paused"  # not contacted again
    page = client_for(alice).get(f"/mail/mailboxes/{box.pk}/")
    assert page.status_code == 200 and "paused" in page.content.decode()
    services.mailbox_update(actor=alice, mailbox=box, version=box.version, data={"password": "secret-imap-pw"})
    box.refresh_from_db()
    assert box.status == "new" and mailbox_sync(box).status == "ok"


def test_private_thread_leaves_the_timeline(imap, alice, bob, customer, mailbox_for):
    from tradecrm.mailbox.selectors import messages_for_user

    company, _contact = customer
    company.followers.add(bob)
    imap.append(raw_mail())
    box = mailbox_for(alice, imap_port=imap.port)
    mailbox_sync(box)
    m = MailMessage.objects.get()
    assert messages_for_user(bob).filter(pk=m.pk).exists()
    services.thread_set_private(actor=alice, thread=m.thread, private=True)
    assert not Interaction.objects.filter(company=company).exists()
    assert not messages_for_user(bob).filter(pk=m.pk).exists()
    assert messages_for_user(alice).filter(pk=m.pk).exists()
    services.thread_set_private(actor=alice, thread=m.thread, private=False)
    assert Interaction.objects.filter(company=company).count() == 1


def test_unknown_sender_becomes_customer_with_duplicate_check(imap, alice, customer, mailbox_for):
    import pytest
    from django.core.exceptions import ValidationError

    imap.append(raw_mail(frm="Hans <hans@mueller-gmbh.de>", msgid="<u1@mueller-gmbh.de>"))
    box = mailbox_for(alice, imap_port=imap.port)
    mailbox_sync(box)
    sender = UnknownSender.objects.get(address="hans@mueller-gmbh.de")
    company = services.unknown_sender_create_customer(actor=alice, sender=sender, data={"name": "Mueller GmbH",
                                                                                       "country": "DE"})
    assert company.contacts.get().email == "hans@mueller-gmbh.de"
    # the next sync files this sender's new mail there
    imap.append(raw_mail(frm="Hans <hans@mueller-gmbh.de>", msgid="<u2@mueller-gmbh.de>"))
    assert mailbox_sync(box).stored == 1
    # the duplicate check refuses a second customer for the same sender
    sender2 = UnknownSender.objects.create(user=alice, address="info@mueller-gmbh.de")
    with pytest.raises(ValidationError) as exc:
        services.unknown_sender_create_customer(actor=alice, sender=sender2, data={"name": "Mueller GmbH",
                                                                                  "country": "DE"})
    assert "existing customer" in str(exc.value)


def test_cli_and_periodic_task(imap, alice, customer, mailbox_for):
    import json
    from io import StringIO

    from django.core.management import call_command

    from tradecrm.mailbox.tasks import mail_sync_periodic

    imap.append(raw_mail())
    box = mailbox_for(alice, imap_port=imap.port)
    out = StringIO()
    call_command("mail", "sync", "--mailbox", str(box.pk), "--json", stdout=out)
    assert json.loads(out.getvalue())[0]["stored"] == 1
    imap.append(raw_mail(msgid="<p2@acme-imports.com>"))
    results = mail_sync_periodic.call_local()
    assert [r["stored"] for r in results] == [1]


def test_customer_mail_raises_the_mail_received_event(imap, alice, customer, mailbox_for, monkeypatch):
    """Automation's "mail received from a customer": one event per stored inbound customer message,
    none for private or unmatched mail."""
    from tradecrm.automation import events

    seen = []
    monkeypatch.setattr(events, "emit_many", lambda ev, items, actor=None: seen.extend((ev, i["obj_id"]) for i in items))
    imap.append(raw_mail())  # the contact
    imap.append(raw_mail(frm="Mom <mom@gmail.com>", subject="Dinner?", msgid="<m3@gmail.com>"))  # private
    box = mailbox_for(alice, imap_port=imap.port)
    assert mailbox_sync(box).stored == 1
    stored = MailMessage.objects.get()
    assert seen == [("mail.received", stored.pk)]

