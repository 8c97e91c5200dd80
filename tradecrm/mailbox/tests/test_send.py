"""Sending through a real SMTP server (aiosmtpd on 127.0.0.1): MIME, merge fields, tracking links,
List-Unsubscribe, the copy in the IMAP Sent folder, scheduled sends, reply detection."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction

from tradecrm.interactions.models import Interaction
from tradecrm.mailbox import services
from tradecrm.mailbox.models import MailMessage, TrackingEvent, Unsubscribe
from tradecrm.mailbox.sending import local_morning, message_queue, send_due
from tradecrm.mailbox.sync import mailbox_sync

from .conftest import raw_mail


def _queue(alice, box, company, contact, **kw):
    """Queue, then run the send task the commit would start (tests call tasks with call_local)."""
    from tradecrm.mailbox.tasks import message_send_task

    with transaction.atomic():
        m = message_queue(actor=alice, mailbox=box, company=company, contact=contact, to=[contact.email], **kw)
    if m.status == "queued":
        message_send_task.call_local(m.pk)
    return m


@pytest.fixture
def box(alice, imap, smtp, mailbox_for):
    return mailbox_for(alice, imap_port=imap.port, smtp_port=smtp.port)


def test_send_renders_template_tracks_links_and_files_it(alice, customer, box,
                                                         smtp, imap):
    company, contact = customer
    t = services.template_create(actor=alice, data={
        "name": "Quote follow-up", "language": "en",
        "subject": "Quotation for {{ company.name }}",
        "body": "Dear {{ contact.first_name }},\nsee https://example.com/catalog?a=1&b=2\n{{ user.first_name }}"})
    m = _queue(alice, box, company, contact, subject="", body="", template=t, list_unsubscribe=True)
    m.refresh_from_db()
    assert m.status == "sent", m.error
    assert not m.error  # the copy reached the Sent folder
    assert len(smtp.received) == 1
    got = email.message_from_bytes(smtp.received[0]["data"], policy=policy.default)
    assert got["Subject"] == "Quotation for Acme Imports LLC" and got["To"] == "john@acme-imports.com"
    assert got["Message-ID"] == m.message_id
    assert got["List-Unsubscribe"].startswith("<http") and "/t/u/" in got["List-Unsubscribe"]
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain = got.get_body(("plain",)).get_content()
    html = got.get_body(("html",)).get_content()
    assert "Dear John," in plain and "Alice" in plain
    links = re.findall(r'href="([^"]+)"', html)
    assert links and all("/t/c/" in u for u in links)  # every link goes through the redirect
    assert "/t/o/" in html  # the open pixel
    entry = Interaction.objects.get(company=company)
    assert entry.direction == "out" and entry.subject == "Quotation for Acme Imports LLC"
    # the copy in Sent is not imported a second time by the next sync
    assert mailbox_sync(box).stored == 0

    # a click goes through the signed redirect and is recorded; a tampered token is 404
    from django.test import Client

    path = links[0].split("127.0.0.1:8000", 1)[-1]
    r = Client().get(path)
    assert r.status_code == 302 and r["Location"] == "https://example.com/catalog?a=1&b=2"
    assert Client().get(path[:-5] + "xxxx/").status_code == 404
    pixel = re.search(r'src="[^"]*(/t/o/[^"]+)"', html).group(1)
    assert Client().get(pixel)["Content-Type"] == "image/gif"
    m.refresh_from_db()
    assert m.click_count == 1 and m.open_count == 1
    assert {e.kind: e.reliable for e in TrackingEvent.objects.filter(message=m)} == {"click": True, "open": False}
    unsub = got["List-Unsubscribe"].strip("<>").split("127.0.0.1:8000", 1)[-1]
    assert Client().post(unsub).status_code == 200
    assert Unsubscribe.objects.filter(address="john@acme-imports.com").exists()


def test_tracking_off_leaves_links_alone(alice, customer, box, smtp):
    company, contact = customer
    m = _queue(alice, box, company, contact, subject="Hi", body="see https://example.com/x", tracking=False)
    got = email.message_from_bytes(smtp.received[0]["data"], policy=policy.default)
    html = got.get_body(("html",)).get_content()
    assert "https://example.com/x" in html and "/t/c/" not in html and "/t/o/" not in html
    assert "List-Unsubscribe" not in got
    from django.test import Client

    from tradecrm.mailbox.rendering import click_token

    Client().get(f"/t/c/{click_token(m.pk, 'https://example.com/x')}/")
    m.refresh_from_db()
    assert m.click_count == 0  # recorded nothing, still redirected


def test_reply_is_detected_by_in_reply_to(alice, customer, box, imap):
    company, contact = customer
    m = _queue(alice, box, company, contact, subject="Offer", body="Our offer")
    imap.append(raw_mail(msgid="<r1@acme-imports.com>", subject="Re: Offer",
                         extra_headers=f"In-Reply-To: {m.message_id}\r\n"))
    mailbox_sync(box)
    m.refresh_from_db()
    assert m.replied_at is not None
    reply = MailMessage.objects.get(message_id="<r1@acme-imports.com>")
    assert reply.thread_id == m.thread_id


def test_schedule_for_customer_morning(alice, customer, box, smtp):
    company, contact = customer  # America/Chicago
    now = dt.datetime(2026, 11, 26, 4, 0, tzinfo=dt.UTC)  # Wed 22:00 in Chicago
    with time_machine.travel(now, tick=False):
        at = local_morning(company)
        assert at.astimezone(dt.UTC) == dt.datetime(2026, 11, 26, 15, 0, tzinfo=dt.UTC)  # Thu 09:00 CST
        m = _queue(alice, box, company, contact, subject="Morning", body="x", send_at=at)
        assert m.status == "scheduled" and not smtp.received
        assert send_due() == 0
    with time_machine.travel(dt.datetime(2026, 11, 26, 15, 0, 1, tzinfo=dt.UTC), tick=False):
        assert send_due() == 1
    m.refresh_from_db()
    assert m.status == "sent" and len(smtp.received) == 1


def test_weekend_is_skipped():
    from types import SimpleNamespace

    co = SimpleNamespace(timezone="Europe/Berlin", country="DE")
    fri_evening = dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.UTC)
    assert local_morning(co, fri_evening).weekday() == 0  # Monday


def test_bad_input_is_refused_with_the_field(alice, customer, box):
    company, contact = customer
    with pytest.raises(ValidationError) as exc:
        _queue(alice, box, company, contact, subject="{% if %}", body="")
    assert set(exc.value.message_dict) == {"subject", "body"}
    with pytest.raises(ValidationError) as exc:
        services.template_create(actor=alice, data={"name": "x", "language": "xx", "subject": "s", "body": "b"})
    assert "language" in exc.value.message_dict
    assert not MailMessage.objects.exists()


def test_sandbox_has_no_dangerous_tags(alice):
    from tradecrm.mailbox.rendering import check_template, merge_context, render

    for bad in ("{% load static %}", "{% include 'base.html' %}", "{% debug %}", "{% url 'mailbox:home' %}"):
        assert check_template(bad) is not None, bad
    ctx = merge_context(user=alice)
    assert render("{{ user.first_name|upper }}{% if user.email %}!{% endif %}", ctx) == "ALICE"
    assert render("{{ user.password }}{{ settings.SECRET_KEY }}", ctx) == ""


def test_smtp_failure_is_recorded(alice, customer, mailbox_for, smtp):
    company, contact = customer
    bad = mailbox_for(alice, smtp_port=smtp.port, password="wrong")
    m = _queue(alice, bad, company, contact, subject="x", body="y")
    m.refresh_from_db()
    assert m.status == "failed" and "refused" in m.error
    assert not Interaction.objects.filter(company=company).exists()
