"""Sending campaign mail (the periodic task, every minute): per sending mailbox, the due recipients
of running campaigns, as many as the campaign's hourly and daily limits for that mailbox still
allow, only inside the recipient's local send window, one SMTP connection per batch.

Each mail is checked again against the unsubscribe and suppression lists just before it goes
(someone may have unsubscribed since the launch). It carries List-Unsubscribe (mailto and https
one-click, RFC 8058) with List-Unsubscribe-Post, an unsubscribe link at the end of the text and
an X-TradeCRM-Campaign header that DSNs quote back. A temporary failure is retried with back-off
(5, 10, 20 min), then the recipient is failed with the reason; a permanent refusal of the address
(5xx) is a bounce. A failing mailbox never holds up the others."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tradecrm.mailbox import rendering
from tradecrm.mailbox.models import Mailbox, MailMessage, MessageStatus, Unsubscribe
from tradecrm.mailbox.sending import _smtp, build_mime

from .models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus, SkipReason, Suppression
from .queueing import in_window, window_due

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 4
BACKOFF_MINUTES = 5
ACTIVE = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING)
HEADER = "X-TradeCRM-Campaign"


def recipient_tag(recipient: CampaignRecipient) -> str:
    return f"c{recipient.campaign_id}.r{recipient.pk}"


def _sent_since(mailbox_id: int, since: dt.datetime) -> int:
    return CampaignRecipient.objects.filter(mailbox_id=mailbox_id, sent_at__gte=since).count()


def send_due(now: dt.datetime | None = None, batch: int = 200) -> dict:
    """One round for every mailbox with due campaign mail; {"sent", "failed", "bounced", "skipped",
    "deferred", "errors"}."""
    now = now or timezone.now()
    total = {"sent": 0, "failed": 0, "bounced": 0, "skipped": 0, "deferred": 0, "errors": []}
    box_ids = sorted(set(
        CampaignRecipient.objects.filter(status=RecipientStatus.QUEUED, due_at__lte=now, campaign__status__in=ACTIVE,
                                         campaign__launched_at__isnull=False)
        .values_list("mailbox_id", flat=True).distinct()
    ))  # fmt: skip
    for mailbox in Mailbox.objects.filter(pk__in=box_ids).select_related("user").order_by("id"):
        try:
            r = send_mailbox(mailbox, now=now, batch=batch)
        except Exception as exc:  # noqa: BLE001 - one broken mailbox never stops the others
            log.exception("campaign sending from mailbox %s failed", mailbox.pk)
            total["errors"].append(f"mailbox {mailbox.pk}: {type(exc).__name__}: {exc}"[:300])
            continue
        for k in ("sent", "failed", "bounced", "skipped", "deferred"):
            total[k] += r[k]
        total["errors"] += r["errors"]
    _finish_done(now)
    return total


def _finish_done(now: dt.datetime) -> None:
    for c in Campaign.objects.filter(status__in=ACTIVE, launched_at__isnull=False).only("id"):
        if not CampaignRecipient.objects.filter(campaign_id=c.pk, status=RecipientStatus.QUEUED).exists():
            Campaign.objects.filter(pk=c.pk, status__in=ACTIVE).update(status=CampaignStatus.DONE, finished_at=now,
                                                                       updated_at=now)  # fmt: skip


def send_mailbox(mailbox: Mailbox, *, now: dt.datetime, batch: int = 200) -> dict:
    out = {"sent": 0, "failed": 0, "bounced": 0, "skipped": 0, "deferred": 0, "errors": []}
    hour = _sent_since(mailbox.pk, now - dt.timedelta(hours=1))
    day = _sent_since(mailbox.pk, now - dt.timedelta(days=1))
    campaigns = list(Campaign.objects.filter(
        status__in=ACTIVE, launched_at__isnull=False,
        pk__in=CampaignRecipient.objects.filter(mailbox=mailbox, status=RecipientStatus.QUEUED, due_at__lte=now)
        .values("campaign_id")).order_by("id"))  # fmt: skip
    todo: list[tuple[Campaign, list[CampaignRecipient]]] = []
    room_total = batch
    for c in campaigns:
        room = min(c.per_hour - hour, c.per_day - day, room_total)
        if room <= 0:
            continue
        rows = list(CampaignRecipient.objects.filter(campaign=c, mailbox=mailbox, status=RecipientStatus.QUEUED,
                                                     due_at__lte=now).select_related("message")
                    .order_by("due_at", "id")[:room])  # fmt: skip
        rows = _recheck(c, rows, now, out)
        if rows:
            todo.append((c, rows))
            hour += len(rows)
            day += len(rows)
            room_total -= len(rows)
    if not todo:
        return out
    try:
        conn = _smtp(mailbox)
    except (smtplib.SMTPException, OSError) as exc:
        reason = _("Cannot send from %(mailbox)s: %(error)s") % {"mailbox": mailbox.email, "error": exc}
        for _c, rows in todo:
            for r in rows:
                _retry_or_fail(r, reason, now, out)
        out["errors"].append(reason)
        return out
    try:
        for c, rows in todo:
            if c.status == CampaignStatus.SCHEDULED:
                Campaign.objects.filter(pk=c.pk, status=CampaignStatus.SCHEDULED).update(
                    status=CampaignStatus.SENDING
                )
            for r in rows:
                conn = _send_one(conn, mailbox, c, r, now, out)
    finally:
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
    return out


def _recheck(campaign: Campaign, rows: list[CampaignRecipient], now: dt.datetime, out: dict) -> list:
    """Drop who unsubscribed or bounced since the launch, and move who is outside their send
    window now (the window may have passed while the throttle held them) to its next opening."""
    emails = [r.email for r in rows]
    blocked = {a: SkipReason.SUPPRESSED for a in Suppression.objects.filter(address__in=emails)
               .values_list("address", flat=True)}  # fmt: skip
    blocked.update({a: SkipReason.UNSUBSCRIBED for a in Unsubscribe.objects.filter(address__in=emails)
                    .values_list("address", flat=True)})  # fmt: skip
    keep = []
    for r in rows:
        reason = blocked.get(r.email)
        if reason:
            with transaction.atomic():
                CampaignRecipient.objects.filter(pk=r.pk, status=RecipientStatus.QUEUED).update(
                    status=RecipientStatus.SKIPPED, skip_reason=reason
                )
                MailMessage.objects.filter(pk=r.message_id, status=MessageStatus.QUEUED).update(
                    status=MessageStatus.FAILED,
                    error=_("Not sent: the address unsubscribed or bounced before."),
                )
            out["skipped"] += 1
            continue
        zone = ZoneInfo(r.tz or "UTC")
        if not in_window(
            now, zone, r.country, campaign.window_start, campaign.window_end, campaign.skip_weekends
        ):
            due = window_due(
                now, zone, r.country, campaign.window_start, campaign.window_end, campaign.skip_weekends
            )
            CampaignRecipient.objects.filter(pk=r.pk).update(due_at=due)
            out["deferred"] += 1
            continue
        keep.append(r)
    return keep


def _mime(mailbox: Mailbox, campaign: Campaign, r: CampaignRecipient):
    message = r.message
    base = settings.TRADECRM_BASE_URL.rstrip("/")
    url = f"{base}/t/u/{rendering.unsubscribe_token(message.pk)}/"
    with translation.override(r.language or campaign.fallback_language):
        footer = _(
            "You receive this email as a customer of ours. To get no more of these emails: %(url)s"
        ) % {"url": url}
    message.body_text = f"{message.body_text.rstrip()}\n\n--\n{footer}\n"
    message.tracking = campaign.tracking
    m = build_mime(message)
    del m["List-Unsubscribe"]
    m["List-Unsubscribe"] = f"<mailto:{mailbox.email}?subject=unsubscribe>, <{url}>"
    if "List-Unsubscribe-Post" not in m:
        m["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    m["Precedence"] = "bulk"
    m[HEADER] = recipient_tag(r)
    return m


def _send_one(conn, mailbox: Mailbox, campaign: Campaign, r: CampaignRecipient, now: dt.datetime, out: dict):
    """Send one recipient; returns the connection to use for the next (None: reconnect failed)."""
    if conn is None:
        _retry_or_fail(r, _("The SMTP connection was lost."), now, out)
        return None
    with transaction.atomic():  # claim: never sent twice, even by two workers
        claimed = CampaignRecipient.objects.filter(pk=r.pk, status=RecipientStatus.QUEUED).update(
            status=RecipientStatus.SENT, sent_at=now, attempts=F("attempts") + 1
        )
    if not claimed:
        return conn
    try:
        mime = _mime(mailbox, campaign, r)
        raw = mime.as_bytes()
        conn.send_message(mime, from_addr=mailbox.email, to_addrs=[r.email])
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (0, b""))
        reason = f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        if 500 <= int(code) < 600:
            bounce(r, reason, hard=True, now=now)
            out["bounced"] += 1
        else:
            _retry_or_fail(r, reason, now, out, claimed=True)
        return conn
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
        reason = f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
        if 500 <= int(exc.smtp_code) < 600:
            _fail(r, reason, out)
        else:
            _retry_or_fail(r, reason, now, out, claimed=True)
        return conn
    except (smtplib.SMTPException, OSError) as exc:
        _retry_or_fail(r, str(exc) or type(exc).__name__, now, out, claimed=True)
        try:
            conn.close()
        except (smtplib.SMTPException, OSError):
            pass
        try:
            return _smtp(mailbox)
        except (smtplib.SMTPException, OSError):
            return None
    MailMessage.objects.filter(pk=r.message_id).update(status=MessageStatus.SENT, sent_at=now, size=len(raw),
                                                        error="")  # fmt: skip
    out["sent"] += 1
    return conn


def _retry_or_fail(
    r: CampaignRecipient, reason: str, now: dt.datetime, out: dict, claimed: bool = False
) -> None:
    attempts = r.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        CampaignRecipient.objects.filter(pk=r.pk).update(attempts=attempts)
        r.attempts = attempts
        _fail(r, _("Not sent after %(n)d attempts: %(error)s") % {"n": attempts, "error": reason}, out)
        return
    due = now + dt.timedelta(minutes=BACKOFF_MINUTES * 2 ** (attempts - 1))
    CampaignRecipient.objects.filter(pk=r.pk).update(status=RecipientStatus.QUEUED, sent_at=None, due_at=due,
                                                     attempts=attempts, error=reason[:2000])  # fmt: skip
    out["deferred"] += 1


def _fail(r: CampaignRecipient, reason: str, out: dict) -> None:
    with transaction.atomic():
        CampaignRecipient.objects.filter(pk=r.pk).update(status=RecipientStatus.FAILED, sent_at=None,
                                                         error=reason[:2000])  # fmt: skip
        MailMessage.objects.filter(pk=r.message_id).update(status=MessageStatus.FAILED, error=reason[:2000])
    out["failed"] += 1


def bounce(r: CampaignRecipient, reason: str, *, hard: bool, now: dt.datetime | None = None) -> None:
    """The address does not take our mail: the recipient is bounced; a permanent (hard) bounce
    puts the address on the suppression list, so no campaign mails it again."""
    now = now or timezone.now()
    with transaction.atomic():
        CampaignRecipient.objects.filter(pk=r.pk).update(status=RecipientStatus.BOUNCED, bounced_at=now,
                                                         error=reason[:2000])  # fmt: skip
        if hard and r.email:
            Suppression.objects.get_or_create(
                address=r.email[:254],
                defaults={"reason": reason[:2000], "at": now, "campaign_id": r.campaign_id},
            )
