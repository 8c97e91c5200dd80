"""The sync's storing path without a mail server: header decoding (RFC 2047, raw 8-bit Chinese),
batches (threads inside one batch, replies to CRM mail, last contact, duplicates), one bad message
in a batch costing only itself, and HTML cleaned again on display."""

from __future__ import annotations

import datetime as dt
from email.utils import getaddresses

import pytest

from tradecrm.customers.models import Company
from tradecrm.interactions.models import Interaction
from tradecrm.mailbox import parsing, services
from tradecrm.mailbox.matching import Match
from tradecrm.mailbox.models import MailMessage, MailThread, TrackingEvent, UnknownSender

from .conftest import raw_mail

# --- parsing ------------------------------------------------------------------------------------------


def test_headers_decoded_like_the_standard_parser():
    raw = (
        b"From: =?utf-8?B?5byg5LiJ?= <Zhang.San@Acme-Imports.com>\r\n"
        b'To: rep@example.test, "Doe, J" <j@x.com>, ops@x.com (night desk)\r\n'
        b"Cc: undisclosed-recipients:;\r\n"
        b"Subject: =?gb2312?B?xOO6ww==?= about\r\n the order\r\n"
        b"Date: Tue, 24 Nov 2026 10:00:00 +0800\r\nMessage-ID: <a@b>\r\n"
        b"References: <r1@x> <r2@x>\r\nIn-Reply-To: <r2@x>\r\n\r\n"
    )
    p = parsing.parse_headers(raw)
    assert (p.from_name, p.from_addr) == ("张三", "zhang.san@acme-imports.com")
    assert p.to == ["rep@example.test", "j@x.com", "ops@x.com"] and p.cc == []
    assert p.subject == "你好 about the order"
    assert p.date == dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
    assert p.message_id == "<a@b>" and p.in_reply_to == "<r2@x>" and p.references == ["<r1@x>", "<r2@x>"]
    assert not p.problems


@pytest.mark.parametrize(
    "value",
    ["a@b.com", "John Doe <john@acme.com>", "a@b, c@d, Name <e@f>", "<a@b>", "John <a@b>,", ""],
)
def test_fast_address_path_agrees_with_getaddresses(value):
    fast = parsing._simple_addresses(value)
    assert fast is not None
    expected = [(n, a) for n, a in getaddresses([value]) if "@" in a]
    assert [(n, a) for n, a in fast if "@" in a] == expected


def test_raw_8bit_gb18030_headers_and_unknown_charset_body():
    raw = (
        "From: 李四 <li@factory.cn>\r\nSubject: 质量投诉\r\nMessage-ID: <g@x>\r\n"
        "Content-Type: text/plain; charset=x-unknown\r\n\r\n货物破损\r\n"
    ).encode("gb18030")
    p = parsing.parse_message(raw)
    assert p.from_name == "李四" and p.subject == "质量投诉"
    assert "货物破损" in p.text and any("x-unknown" in x for x in p.problems)


def test_encoded_attachment_name():
    from email.message import EmailMessage

    m = EmailMessage()
    m["From"], m["Message-ID"] = "john@acme-imports.com", "<f@x>"
    m.set_content("see attached")
    m.add_attachment(b"%PDF-1.4 x", maintype="application", subtype="pdf", filename="装箱单.pdf")
    p = parsing.parse_message(m.as_bytes())
    assert [a["name"] for a in p.attachments] == ["装箱单.pdf"] and p.attachments[0]["data"] == b"%PDF-1.4 x"


# --- storing batches ------------------------------------------------------------------------------------


@pytest.fixture
def box(alice, mailbox_for):
    return mailbox_for(alice)


def test_batch_threads_inside_the_batch_and_marks_replies(box, alice, customer):
    company, contact = customer
    match = Match(company.pk, contact.pk)
    sent = MailMessage.objects.create(mailbox=box, company=company, direction="out", status="sent",
                                      message_id="<crm1@example.test>", subject="Offer")  # fmt: skip
    items = [
        (1, raw_mail(msgid="<m1@acme-imports.com>"), match),
        (
            2,
            raw_mail(
                msgid="<m2@acme-imports.com>",
                subject="Re: Inquiry",
                date="Wed, 25 Nov 2026 10:00:00 +0000",
                extra_headers="In-Reply-To: <m1@acme-imports.com>\r\n",
            ),
            match,
        ),  # fmt: skip
        (
            3,
            raw_mail(
                msgid="<m3@acme-imports.com>",
                subject="Re: Offer",
                extra_headers="References: <crm1@example.test>\r\n",
            ),
            match,
        ),  # fmt: skip
        (4, raw_mail(msgid="<m1@acme-imports.com>"), match),  # the same message twice in one batch
    ]
    out = services.messages_store_batch(mailbox=box, items=items, direction="in", folder_role="inbox")
    assert len(out.stored) == 3 and out.skipped == 1
    m1, m2, m3 = (MailMessage.objects.get(message_id=f"<m{i}@acme-imports.com>") for i in (1, 2, 3))
    assert m1.thread_id == m2.thread_id != m3.thread_id
    assert MailThread.objects.get(pk=m1.thread_id).last_message_at == dt.datetime(
        2026, 11, 25, 10, tzinfo=dt.UTC
    )
    sent.refresh_from_db()
    assert (
        sent.replied_at == m3.sent_at
        and TrackingEvent.objects.filter(message=sent, kind="reply").count() == 1
    )
    entries = Interaction.objects.filter(company=company, source="email")
    assert entries.count() == 3 and {e.mail_message.pk for e in entries} == {m1.pk, m2.pk, m3.pk}
    company.refresh_from_db()
    assert company.last_contact_at == dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)
    # an older message later does not move the last contact back; a stored one is skipped
    again = services.messages_store_batch(mailbox=box, direction="in", items=[
        (5, raw_mail(msgid="<m1@acme-imports.com>"), match),
        (6, raw_mail(msgid="<old@acme-imports.com>", date="Mon, 02 Nov 2026 10:00:00 +0000"), match),
    ])  # fmt: skip
    assert len(again.stored) == 1 and again.skipped == 1
    company.refresh_from_db()
    assert company.last_contact_at == dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)


def test_reply_in_a_later_batch_joins_the_stored_thread_and_private_stays_off_the_timeline(
    box, alice, customer
):
    company, contact = customer
    match = Match(company.pk, contact.pk)
    [first] = services.messages_store_batch(
        mailbox=box, direction="in", items=[(1, raw_mail(), match)]
    ).stored
    services.thread_set_private(actor=alice, thread=first.thread, private=True)
    reply = raw_mail(msgid="<m2@acme-imports.com>", extra_headers="In-Reply-To: <m1@acme-imports.com>\r\n")
    [second] = services.messages_store_batch(mailbox=box, direction="in", items=[(2, reply, match)]).stored
    assert second.thread_id == first.thread_id
    assert not Interaction.objects.filter(company=company).exists()  # private thread: not on the timeline


def test_one_bad_message_in_a_batch_costs_only_itself(box, alice, customer, monkeypatch):
    from tradecrm.mailbox.models import MailFolder
    from tradecrm.mailbox.sync import SyncResult, _store_group

    company, contact = customer
    match = Match(company.pk, contact.pk)
    real = services.parse_message

    def parse(raw):
        if b"<bad@" in raw:
            raise RuntimeError("parser bug")
        return real(raw)

    monkeypatch.setattr(services, "parse_message", parse)
    folder = MailFolder.objects.create(mailbox=box, name="INBOX", role="inbox")
    result = SyncResult(mailbox=box.pk)
    items = [
        (i, raw_mail(msgid=f"<{name}@acme-imports.com>"), match) for i, name in enumerate(["a", "bad", "c"])
    ]
    _store_group(box, folder, items, "in", result)
    assert result.stored == 2 and len(result.errors) == 1 and "UID 1" in result.errors[0]
    assert set(MailMessage.objects.values_list("message_id", flat=True)) == {"<a@acme-imports.com>",
                                                                             "<c@acme-imports.com>"}  # fmt: skip


def test_unknown_senders_add_up(alice):
    heads = [parsing.parse_headers(f"From: Shop <news@shop.test>\r\nSubject: Sale {i}\r\n\r\n".encode())
             for i in range(3)]  # fmt: skip
    services.unknown_senders_record(alice, heads[:2])
    services.unknown_senders_record(alice, heads[2:])
    s = UnknownSender.objects.get(user=alice)
    assert (s.address, s.name, s.count, s.last_subject) == ("news@shop.test", "Shop", 3, "Sale 2")


def test_display_cleans_html_whatever_stored_it(box, alice, customer, client_for):
    company, contact = customer
    m = MailMessage.objects.create(mailbox=box, company=company, contact=contact, direction="in", status="received",
                                   message_id="<x@y>", subject="html",
                                   body_html='<p onclick="x()">Hi<script>alert(1)</script></p>')  # fmt: skip
    page = client_for(alice).get(f"/mail/messages/{m.pk}/").content.decode()
    assert "Hi" in page and "alert(1)" not in page and 'onclick="x()"' not in page
    assert Company.objects.filter(pk=company.pk).exists()
