"""Bounces: RFC 3464 delivery reports and plain-text bounces built with the email package, read
from a real IMAP inbox (Dovecot) by the mailbox sync's hook; hard bounces suppress the address,
soft ones do not, delay notices are ignored; a mailto unsubscribe is honoured."""

from __future__ import annotations

import datetime as dt
from email.message import Message
from email.mime.message import MIMEMessage  # noqa: F401  (kept for readers: the other returned-part form)
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
import time_machine

from tradecrm.campaigns import services
from tradecrm.campaigns.bounces import handle_report, parse_report
from tradecrm.campaigns.models import CampaignRecipient, Suppression
from tradecrm.campaigns.sending import send_due
from tradecrm.mailbox.models import Unsubscribe

NOW = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)


def dsn(
    *,
    rcpt: str,
    status: str = "5.1.1",
    action: str = "failed",
    returned: str = "",
    diag: str = "smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown",
) -> bytes:
    """A delivery status notification as Postfix sends it (multipart/report)."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.berlin.test>"
    report["To"] = "rep@example.test"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = f"<dsn-{rcpt}-{status}@mx.berlin.test>"
    report["Date"] = "Thu, 26 Nov 2026 14:05:00 +0000"
    report.attach(
        MIMEText(f"I'm sorry to have to inform you that your message could not be delivered to {rcpt}.")
    )
    ds = Message()
    ds.set_type("message/delivery-status")
    per_message = Message()
    per_message["Reporting-MTA"] = "dns; mx.berlin.test"
    per_rcpt = Message()
    per_rcpt["Final-Recipient"] = f"rfc822; {rcpt}"
    per_rcpt["Action"] = action
    per_rcpt["Status"] = status
    per_rcpt["Diagnostic-Code"] = diag.format(rcpt=rcpt)
    ds.set_payload([per_message, per_rcpt])
    report.attach(ds)
    headers = MIMEText(returned, "rfc822-headers")
    del headers["Content-Transfer-Encoding"]
    report.attach(headers)
    return report.as_bytes()


def text_bounce(*, rcpt: str, returned: str) -> bytes:
    """A qmail-style "failure notice": plain text, the original quoted below."""
    m = MIMEText(f"Hi. This is the qmail-send program at mx.berlin.test.\nI'm afraid I wasn't able to deliver your "
                 f"message to the following addresses.\n\n<{rcpt}>:\n552 5.2.2 mailbox full, over quota\n\n"
                 f"--- Below this line is a copy of the message.\n\n{returned}\n\nDear Hans,\n")  # fmt: skip
    m["From"] = "MAILER-DAEMON@mx.berlin.test"
    m["To"] = "rep@example.test"
    m["Subject"] = "failure notice"
    m["Message-ID"] = "<qmail-bounce-1@mx.berlin.test>"
    m["Date"] = "Thu, 26 Nov 2026 14:06:00 +0000"
    return m.as_bytes()


@pytest.fixture
def sent(alice, customers, make_mailbox, campaign_data, smtp):
    """Hans (Berlin) sent at NOW; returns (campaign, hans, the received headers as text)."""
    box = make_mailbox(alice, smtp_port=smtp.port)
    c = services.campaign_create(actor=alice, data=campaign_data([box]))
    with time_machine.travel(NOW, tick=False):
        services.campaign_launch(actor=alice, campaign=c)
        assert send_due()["sent"] == 1
    hans = CampaignRecipient.objects.get(campaign=c, email="hans@berlin.test")
    head = smtp.received[0]["data"].split(b"\r\n\r\n", 1)[0].decode()
    return c, hans, head, box


def test_dsn_is_parsed():
    rep = parse_report(
        dsn(
            rcpt="hans@berlin.test",
            returned="Message-ID: <c1.ab12.3@example.test>\nX-TradeCRM-Campaign: c1.r3\n",
        )
    )
    assert rep.tag == (1, 3) and rep.message_id == "<c1.ab12.3@example.test>"
    assert rep.failed[0][:2] == ("hans@berlin.test", "5.1.1") and "User unknown" in rep.failed[0][2]


def test_hard_bounce_by_tag_suppresses(sent):
    c, hans, head, _box = sent
    assert handle_report(dsn(rcpt="hans@berlin.test", returned=head)) == 1
    hans.refresh_from_db()
    assert hans.status == "bounced" and hans.bounced_at is not None and "5.1.1" in hans.error
    assert Suppression.objects.get(address="hans@berlin.test").campaign_id == c.pk
    from tradecrm.campaigns.report import counts

    totals = counts(c)["all"]
    assert (totals["sent"], totals["bounced"], totals["delivered"]) == (1, 1, 0)


def test_soft_bounce_in_text_is_recorded_not_suppressed(sent):
    _c, hans, head, _box = sent
    # by Message-ID only (the tag line removed from the returned copy)
    returned = "\n".join(ln for ln in head.splitlines() if not ln.startswith("X-TradeCRM"))
    assert handle_report(text_bounce(rcpt="hans@berlin.test", returned=returned)) == 1
    hans.refresh_from_db()
    assert hans.status == "bounced" and "5.2.2" in hans.error
    assert not Suppression.objects.exists()  # 5.2.2 "mailbox full" is soft: the address stays usable


def test_delay_notice_and_unknown_address_are_ignored(sent):
    _c, hans, _head, _box = sent
    assert handle_report(dsn(rcpt="hans@berlin.test", status="4.4.7", action="delayed")) == 0
    assert handle_report(dsn(rcpt="nobody@else.test")) == 0
    hans.refresh_from_db()
    assert hans.status == "sent"


def test_sync_reads_bounces_and_mailto_unsubscribes_from_the_inbox(sent, imap):
    from tradecrm.mailbox.models import Mailbox
    from tradecrm.mailbox.sync import mailbox_sync

    _c, hans, head, box = sent
    Mailbox.objects.filter(pk=box.pk).update(imap_port=imap.port, sync_enabled=True)
    box.refresh_from_db()
    imap.append(dsn(rcpt="hans@berlin.test", returned=head))
    unsub = MIMEText("unsubscribe")
    unsub["From"], unsub["To"], unsub["Subject"] = "john@acme.test", "rep@example.test", "unsubscribe"
    unsub["Message-ID"] = "<u1@acme.test>"
    imap.append(unsub.as_bytes())
    result = mailbox_sync(box)
    assert result.status == "ok", result.errors
    hans.refresh_from_db()
    assert hans.status == "bounced"
    assert Suppression.objects.filter(address="hans@berlin.test").exists()
    assert Unsubscribe.objects.filter(address="john@acme.test").exists()  # the List-Unsubscribe mailto
