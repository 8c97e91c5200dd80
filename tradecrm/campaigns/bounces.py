"""Bounces and mailto unsubscribes arriving in a synced mailbox.

`handle_possible_bounces` is called by the mailbox sync for each batch of inbox headers. Only the
messages whose headers look like a delivery report (from MAILER-DAEMON / postmaster / "Mail
Delivery Subsystem", or a subject such as "Undelivered Mail Returned to Sender", "Delivery Status
Notification (Failure)", "failure notice", 退信) are fetched whole and read:

- RFC 3464 reports (multipart/report; report-type=delivery-status): per recipient Action, Status
  and Diagnostic-Code; the returned headers (message/rfc822 or text/rfc822-headers) give our
  X-TradeCRM-Campaign tag or the Message-ID;
- plain-text bounces: the tag, our Message-ID, the failed address and an SMTP / enhanced status
  code found in the text.

The recipient is found by the tag, else by Message-ID, else by the failed address (its latest
sent campaign mail from that mailbox). A 5.x.x / 5xx failure is a hard bounce (the address goes on
the suppression list), except 5.2.2 "mailbox full"; 4.x.x is soft (recorded, not suppressed);
"delayed" reports are ignored.
A message to the mailbox with the subject "unsubscribe" (the List-Unsubscribe mailto) from a
campaign recipient's address puts that address on the unsubscribe list."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser

from django.utils import timezone

log = logging.getLogger(__name__)

_PARSER = BytesParser(policy=policy.compat32)
_TAG = re.compile(r"X-TradeCRM-Campaign:\s*c(\d+)\.r(\d+)", re.IGNORECASE)
_OUR_MSGID = re.compile(r"<c\d+\.[0-9a-f]+\.\d+@[^<>\s]+>")
_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE = re.compile(r"\b([45]\d\d)[ -]")
_ADDR = re.compile(r"<?([A-Za-z0-9._%+\-']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})>?")
_BOUNCE_FROM = ("mailer-daemon@", "postmaster@", "mail-daemon@")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery status notification|returned mail|failure notice|delivery fail|mail delivery failed|"
    r"could not be delivered|non.?delivery|退信|未能送达|投递失败|系统退信",
    re.IGNORECASE,
)


def looks_like_bounce(h) -> bool:
    addr = (h.from_addr or "").lower()
    name = (h.from_name or "").lower()
    return (addr.startswith(_BOUNCE_FROM) or "mail delivery" in name or "mailer-daemon" in name
            or bool(_BOUNCE_SUBJECT.search(h.subject or "")))  # fmt: skip


def looks_like_unsubscribe(h) -> bool:
    return (h.subject or "").strip().lower() in ("unsubscribe", "退订")


@dataclass
class Report:
    tag: tuple[int, int] | None = None
    message_id: str = ""
    failed: list[tuple[str, str, str]] | None = None  # (address, status code, diagnostic)


def _text(part) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        payload = None
    if payload is None:
        p = part.get_payload()
        if isinstance(p, list):
            return "\n".join(_text(x) if hasattr(x, "get_payload") else str(x) for x in p)
        return str(p or "")
    return payload.decode(part.get_content_charset() or "utf-8", errors="replace")


def parse_report(raw: bytes) -> Report:
    """What a bounce says: our tag / Message-ID and the failed recipients."""
    msg = _PARSER.parsebytes(raw)
    rep = Report(failed=[])
    returned_headers = ""
    texts = []
    structured = False  # an RFC 3464 report: its per-recipient fields are the truth, not the words
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            structured = True
            blocks = part.get_payload()
            if not isinstance(blocks, list):
                blocks = [_PARSER.parsestr(str(blocks))] if blocks else []
            for block in blocks[1:] if len(blocks) > 1 else blocks:
                rcpt = block.get("Final-Recipient") or block.get("Original-Recipient") or ""
                action = (block.get("Action") or "").strip().lower()
                status = (block.get("Status") or "").strip()
                diag = " ".join(str(block.get("Diagnostic-Code") or "").split())
                addr = rcpt.split(";", 1)[-1].strip().strip("<>").lower()
                if addr and action in ("failed", ""):
                    rep.failed.append((addr, status, diag))
        elif ctype in ("message/rfc822", "text/rfc822-headers"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                returned_headers += "".join(f"{k}: {v}\n" for k, v in inner[0].items())
            else:
                returned_headers += _text(part)
        elif part.get_content_maintype() == "text":
            texts.append(_text(part))
    haystack = returned_headers + "\n" + "\n".join(texts)
    m = _TAG.search(haystack)
    if m:
        rep.tag = (int(m.group(1)), int(m.group(2)))
    m = _OUR_MSGID.search(returned_headers) or _OUR_MSGID.search(haystack)
    if m:
        rep.message_id = m.group(0)
    if not structured:  # a text bounce: the failed address and a code from the words
        body = "\n".join(texts)
        code = _ENHANCED.search(body)
        status = code.group(0) if code else ""
        if not status:
            smtp = _SMTP_CODE.search(body)
            status = smtp.group(1) if smtp else ""
        sender = (msg.get("From") or "").lower()
        for addr in _ADDR.findall(body.split("\n-----", 1)[0] if "\n-----" in body else body):
            addr = addr.lower()
            if addr in sender or addr.startswith(_BOUNCE_FROM):
                continue
            diag = next((ln.strip() for ln in body.splitlines() if re.search(r"\b[45]\d\d\b", ln)), "")
            rep.failed.append((addr, status, " ".join(diag.split())[:500]))
            break
    return rep


SOFT_PERMANENT = ("5.2.2",)  # "mailbox full": reported as permanent, but usually clears up


def _hard(status: str) -> bool:
    return status.startswith("5") and status not in SOFT_PERMANENT


def handle_report(raw: bytes, *, mailbox_id: int | None = None) -> int:
    """Mark the recipients a bounce reports; the number marked."""
    from tradecrm.mailbox.models import MailMessage

    from .models import CampaignRecipient, RecipientStatus
    from .sending import bounce

    rep = parse_report(raw)
    if not rep.failed:
        return 0
    marked = 0
    now = timezone.now()
    for addr, status, diag in rep.failed:
        if status.startswith("2"):
            continue
        r = None
        if rep.tag:
            r = CampaignRecipient.objects.filter(pk=rep.tag[1], campaign_id=rep.tag[0]).first()
        if r is None and rep.message_id:
            mid = MailMessage.objects.filter(message_id=rep.message_id).values_list("id", flat=True).first()
            if mid:
                r = CampaignRecipient.objects.filter(message_id=mid).first()
        if r is None or (r.email != addr and len(rep.failed) > 1):
            qs = CampaignRecipient.objects.filter(
                email=addr, status__in=[RecipientStatus.SENT, RecipientStatus.BOUNCED]
            )
            if mailbox_id:
                qs = qs.filter(mailbox_id=mailbox_id)
            r = qs.order_by("-sent_at", "-id").first() or r
        if r is None or r.status not in (RecipientStatus.SENT, RecipientStatus.BOUNCED):
            continue
        reason = " ".join(x for x in (status, diag) if x) or "bounced"
        bounce(r, reason, hard=_hard(status) or not status, now=now)
        marked += 1
    return marked


def handle_unsubscribe(h) -> bool:
    from tradecrm.mailbox.models import Unsubscribe

    from .models import CampaignRecipient

    addr = (h.from_addr or "").lower()
    if not addr or not CampaignRecipient.objects.filter(email=addr).exists():
        return False
    Unsubscribe.objects.get_or_create(address=addr[:254], defaults={"at": timezone.now()})
    return True


def handle_possible_bounces(conn, mailbox, heads) -> int:
    """The mailbox sync's hook: `heads` are (uid, size, parsed headers) of a batch of the inbox.
    Never raises (a bounce that cannot be read must not stop the sync)."""
    try:
        bounces = [uid for uid, _size, h in heads if looks_like_bounce(h)]
        for _uid, _size, h in heads:
            if looks_like_unsubscribe(h):
                handle_unsubscribe(h)
        if not bounces:
            return 0
        from tradecrm.mailbox.sync import _fetch_items

        typ, data = conn.uid("FETCH", ",".join(str(u) for u in bounces), "(UID BODY.PEEK[])")
        n = 0
        for _uid, _size, raw in _fetch_items(data):
            n += handle_report(raw, mailbox_id=mailbox.pk)
        return n
    except Exception:  # noqa: BLE001
        log.exception("reading bounces of mailbox %s failed", getattr(mailbox, "pk", None))
        return 0
