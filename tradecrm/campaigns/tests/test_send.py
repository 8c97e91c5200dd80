"""Sending through a real SMTP server (aiosmtpd on 127.0.0.1): the received messages parsed and
checked (headers, MIME, tracked links, List-Unsubscribe), the send window in the recipient's
zone with frozen time, the throttle per mailbox, unsubscribe at send time, retries and bounces."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from tradecrm.campaigns import services
from tradecrm.campaigns.models import CampaignRecipient, Suppression
from tradecrm.campaigns.sending import send_due
from tradecrm.mailbox.models import MailMessage, Unsubscribe

from .conftest import bulk_customers

NOW = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)  # Thu: 15:00 Berlin, 08:00 Chicago, 22:00 Shanghai


def _launch(alice, data):
    c = services.campaign_create(actor=alice, data=data)
    with time_machine.travel(NOW, tick=False):
        services.campaign_launch(actor=alice, campaign=c)
    return c


def _parsed(smtp, i=0):
    return email.message_from_bytes(smtp.received[i]["data"], policy=policy.default)


def test_sends_in_each_recipients_window_with_list_unsubscribe(
    alice, customers, make_mailbox, campaign_data, smtp
):
    box = make_mailbox(alice, smtp_port=smtp.port, display_name="Alice Wang")
    c = _launch(alice, campaign_data([box]))
    with time_machine.travel(NOW, tick=False):
        r = send_due()
    assert r["sent"] == 1 and [m["to"] for m in smtp.received] == [
        ["hans@berlin.test"]
    ]  # only Berlin is in 9-17
    hans = CampaignRecipient.objects.get(campaign=c, email="hans@berlin.test")
    msg = MailMessage.objects.get(pk=hans.message_id)
    assert hans.status == "sent" and hans.sent_at == NOW and msg.status == "sent"
    got = _parsed(smtp)
    assert got["To"] == "hans@berlin.test" and got["From"] == "Alice Wang <rep@example.test>"
    assert got["Message-ID"] == msg.message_id and got["X-TradeCRM-Campaign"] == f"c{c.pk}.r{hans.pk}"
    assert got["Subject"] in ("New LED panels for Berlin GmbH", "Hans, 20% off")  # de falls back to en
    assert got["Subject"] == ("New LED panels for Berlin GmbH" if hans.variant == "a" else "Hans, 20% off")
    unsub = got["List-Unsubscribe"]
    assert unsub.startswith("<mailto:rep@example.test?subject=unsubscribe>, <http") and "/t/u/" in unsub
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got.get_content_type() == "multipart/alternative"
    plain = got.get_body(("plain",)).get_content()
    html = got.get_body(("html",)).get_content()
    assert (
        plain.startswith("Dear Hans,") and "Alice" in plain and "/t/u/" in plain
    )  # unsubscribe link in the text
    links = re.findall(r'href="([^"]+)"', html)
    assert links and all("/t/c/" in u for u in links)
    # the click is recorded on the campaign's message (report: clicked)
    click = next(u for u in links if "/t/c/" in u).split("127.0.0.1:8000", 1)[-1]
    assert Client().get(click)["Location"] == "https://example.com/catalog?x=1"
    from tradecrm.campaigns.report import counts

    assert counts(c)["all"]["clicked"] == 1
    # one-click unsubscribe (RFC 8058) from the header
    assert Client().post(unsub.split(", ")[1].strip("<>").split("127.0.0.1:8000", 1)[-1]).status_code == 200
    assert Unsubscribe.objects.filter(address="hans@berlin.test").exists()
    assert counts(c)["all"]["unsubscribed"] == 1
    c.refresh_from_db()
    assert c.status == "sending"
    # 09:00 in Chicago
    with time_machine.travel(dt.datetime(2026, 11, 26, 15, 0, tzinfo=dt.UTC), tick=False):
        assert send_due()["sent"] == 2
    assert sorted(m["to"][0] for m in smtp.received[1:]) == ["john@acme.test", "mary@acme.test"]
    # 09:00 in Shanghai, in Chinese
    with time_machine.travel(dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.UTC), tick=False):
        assert send_due()["sent"] == 1
    zh = _parsed(smtp, 3)
    assert zh["Subject"] in ("Hua Trading 新品", "Li，八折")
    assert zh.get_body(("plain",)).get_content().startswith("Li 您好")
    c.refresh_from_db()
    assert c.status == "done" and c.finished_at is not None


def test_throttle_per_hour_and_day_per_mailbox(alice, make_mailbox, campaign_data, segment, smtp):
    bulk_customers(alice, [(f"Berlin {i}", "DE", "Europe/Berlin", "de", [(f"P{i}", f"p{i}@b{i}.test", "")])
                           for i in range(7)])  # fmt: skip
    box = make_mailbox(alice, smtp_port=smtp.port)
    _launch(alice, campaign_data([box], per_hour=3, per_day=5, window_start=8, window_end=20))
    with time_machine.travel(NOW, tick=False):
        assert send_due()["sent"] == 3
    with time_machine.travel(NOW + dt.timedelta(minutes=30), tick=False):
        assert send_due()["sent"] == 0  # 3 in the last hour
    with time_machine.travel(NOW + dt.timedelta(minutes=61), tick=False):
        assert send_due()["sent"] == 2  # the day's 5 reached
    with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False):
        assert send_due()["sent"] == 0
    with time_machine.travel(NOW + dt.timedelta(hours=24, minutes=1), tick=False):
        assert send_due()["sent"] == 2
    assert len(smtp.received) == 7


def test_unsubscribed_after_launch_is_not_sent(alice, customers, make_mailbox, campaign_data, smtp):
    box = make_mailbox(alice, smtp_port=smtp.port)
    c = _launch(alice, campaign_data([box]))
    Unsubscribe.objects.create(address="hans@berlin.test", at=NOW)
    with time_machine.travel(NOW, tick=False):
        r = send_due()
    assert r["sent"] == 0 and r["skipped"] == 1 and not smtp.received
    hans = CampaignRecipient.objects.get(campaign=c, email="hans@berlin.test")
    assert (hans.status, hans.skip_reason) == ("skipped", "unsubscribed")
    assert MailMessage.objects.get(pk=hans.message_id).status == "failed"


def test_single_mail_to_an_unsubscribed_address_is_refused(alice, customers, make_mailbox):
    from tradecrm.mailbox.sending import message_queue

    companies, contacts = customers
    Unsubscribe.objects.create(address="john@acme.test", at=NOW)
    with pytest.raises(ValidationError) as exc:
        message_queue(actor=alice, mailbox=make_mailbox(alice), company=companies[0], contact=contacts[0],
                      to=["john@acme.test"], subject="Hi", body="x")  # fmt: skip
    assert "unsubscribed" in exc.value.message_dict["to"][0]


def test_closed_window_moves_to_the_next_opening(alice, customers, make_mailbox, campaign_data, smtp):
    box = make_mailbox(alice, smtp_port=smtp.port)
    c = _launch(alice, campaign_data([box]))
    late = dt.datetime(2026, 11, 26, 17, 30, tzinfo=dt.UTC)  # 18:30 in Berlin: the 9-17 window is over
    with time_machine.travel(late, tick=False):
        r = send_due()
    assert r["sent"] == 2 and r["deferred"] == 1  # Chicago (11:30) is in its window, Berlin not
    assert "hans@berlin.test" not in {m["to"][0] for m in smtp.received}
    hans = CampaignRecipient.objects.get(campaign=c, email="hans@berlin.test")
    assert hans.status == "queued" and hans.due_at == dt.datetime(
        2026, 11, 27, 8, 0, tzinfo=dt.UTC
    )  # 09:00 CET


def test_failing_mailbox_retries_with_backoff_and_never_blocks_the_other(
    alice, make_mailbox, campaign_data, segment, smtp
):
    bulk_customers(alice, [(f"Berlin {i}", "DE", "Europe/Berlin", "de", [(f"P{i}", f"p{i}@b{i}.test", "")])
                           for i in range(4)])  # fmt: skip
    good = make_mailbox(alice, smtp_port=smtp.port, email="good@example.test")
    from tradecrm.mailbox.testing import free_port

    bad = make_mailbox(alice, smtp_port=free_port(), email="bad@example.test")  # nothing listens there
    c = _launch(alice, campaign_data([good, bad], window_start=8, window_end=22))
    with time_machine.travel(NOW, tick=False):
        r = send_due()
    assert r["sent"] == 2 and r["deferred"] == 2 and len(smtp.received) == 2
    stuck = list(CampaignRecipient.objects.filter(campaign=c, mailbox=bad))
    assert all(
        x.status == "queued" and x.attempts == 1 and x.due_at == NOW + dt.timedelta(minutes=5) for x in stuck
    )
    assert "Cannot send from bad@example.test" in stuck[0].error
    at = NOW
    for minutes in (5, 10, 20):
        at += dt.timedelta(minutes=minutes)
        with time_machine.travel(at, tick=False):
            send_due()
    stuck = list(CampaignRecipient.objects.filter(campaign=c, mailbox=bad))
    assert all(x.status == "failed" and "after 4 attempts" in x.error for x in stuck)
    c.refresh_from_db()
    assert c.status == "done"


def test_refused_address_is_a_hard_bounce_and_suppressed(alice, customers, make_mailbox, campaign_data):
    from aiosmtpd.controller import Controller

    from tradecrm.mailbox.testing import free_port

    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address == "hans@berlin.test":
                return "550 5.1.1 <hans@berlin.test>: Recipient address rejected: User unknown"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    port = free_port()
    ctl = Controller(Refuse(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        box = make_mailbox(alice, smtp_port=port, username="", password="")
        c = _launch(alice, campaign_data([box]))
        with time_machine.travel(NOW, tick=False):
            r = send_due()
    finally:
        ctl.stop()
    assert r["bounced"] == 1
    hans = CampaignRecipient.objects.get(campaign=c, email="hans@berlin.test")
    assert hans.status == "bounced" and "5.1.1" in hans.error
    assert Suppression.objects.filter(address="hans@berlin.test").exists()
    # the next campaign skips the suppressed address at launch
    c2 = services.campaign_create(actor=alice, data=campaign_data([box], name="Second"))
    assert services.launch_plan(c2)["skipped"].get("suppressed") == 1
