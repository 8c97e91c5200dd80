"""The send path, reusable by campaigns: `message_queue` renders one message (merge fields in the
sandbox, tracked links, optional List-Unsubscribe) and queues it — now, or at a time such as the
customer's local morning; `message_deliver` sends it through the user's SMTP server (smtplib),
appends it to the mailbox's Sent folder (IMAP APPEND) and logs it on the customer's timeline."""

from __future__ import annotations

import datetime as dt
import imaplib
import logging
import smtplib
import ssl
import time as _time
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.geo import infer_timezone, is_weekend

from . import rendering
from .models import (
    Mailbox,
    MailboxStatus,
    MailMessage,
    MailTemplate,
    MailThread,
    MessageDirection,
    MessageStatus,
    SmtpSecurity,
)

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 60
MORNING_HOUR = 9


def company_zone(company) -> ZoneInfo:
    name = getattr(company, "timezone", "") or infer_timezone(getattr(company, "country", "") or "")
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def local_morning(company, now: dt.datetime | None = None, hour: int = MORNING_HOUR) -> dt.datetime:
    """The next working-day morning (09:00) in the customer's time zone, as an aware datetime."""
    now = now or timezone.now()
    zone = company_zone(company)
    local = now.astimezone(zone)
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate += dt.timedelta(days=1)
    country = getattr(company, "country", "") or ""
    for _i in range(7):
        if not is_weekend(country, candidate.weekday()):
            break
        candidate += dt.timedelta(days=1)
    # re-attach the zone after the date moved across a DST change
    return candidate.replace(tzinfo=None).replace(tzinfo=zone)


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1] if "@" in address else "tradecrm.local"


def message_queue(
    *,
    actor,
    mailbox: Mailbox,
    company,
    to: list[str],
    contact=None,
    subject: str,
    body: str,
    template: MailTemplate | None = None,
    document=None,
    document_language: str = "",
    tracking: bool = True,
    list_unsubscribe: bool = False,
    send_at: dt.datetime | None = None,
    context_extra: dict | None = None,
) -> MailMessage:
    """Render and queue one message (inside the caller's transaction; delivery after commit, or
    by the scheduled-send task when `send_at` is in the future). Subject and body may contain merge
    fields; with a template, its subject and body are used where `subject` / `body` are empty."""
    if mailbox.user_id != actor.pk:
        raise ValidationError({"mailbox": [_("You can only send from your own mailbox.")]})
    errors: dict[str, list[str]] = {}
    recipients = [a.strip().lower() for a in to if a and a.strip()]
    if not recipients:
        errors["to"] = [_("This contact has no email address.")]
    else:  # campaigns: an address on the unsubscribe list gets no mail sent from the CRM
        from .models import Unsubscribe

        refused = sorted(Unsubscribe.objects.filter(address__in=recipients).values_list("address", flat=True))
        if refused:
            errors["to"] = [_("%(addresses)s unsubscribed: no more mail is sent to this address from the CRM.")
                            % {"addresses": ", ".join(refused)}]
    if template is not None:
        subject = subject or template.subject
        body = body or template.body
    ctx = rendering.merge_context(contact=contact, company=company, user=actor, extra=context_extra)
    rendered = {}
    for field, source in (("subject", subject or ""), ("body", body or "")):
        if not source.strip():
            errors.setdefault(field, []).append(_("This field is required."))
            continue
        try:
            rendered[field] = rendering.render(source, ctx)
        except ValueError as exc:
            errors.setdefault(field, []).append(str(exc))
    if send_at is not None and send_at < timezone.now() - dt.timedelta(minutes=5):
        errors.setdefault("send_at", []).append(_("This time is in the past."))
    if errors:
        raise ValidationError(errors)
    scheduled = send_at is not None and send_at > timezone.now()
    now = timezone.now()
    thread = MailThread.objects.create(owner_id=actor.pk, company=company, subject=rendered["subject"][:255],
                                       last_message_at=send_at or now)
    message = MailMessage.objects.create(
        mailbox=mailbox, thread=thread, company=company, contact=contact,
        direction=MessageDirection.OUTBOUND,
        status=MessageStatus.SCHEDULED if scheduled else MessageStatus.QUEUED,
        message_id=make_msgid(domain=_domain(mailbox.email))[:255],
        from_addr=mailbox.email, from_name=mailbox.display_name or actor.get_full_name(),
        to_addrs=recipients, subject=" ".join(rendered["subject"].split())[:255], body_text=rendered["body"],
        template=template, created_by=actor, scheduled_for=send_at if scheduled else None, tracking=tracking,
        list_unsubscribe=list_unsubscribe,
        document_kind=_document_kind(document), document_id=getattr(document, "pk", None),
        document_language=document_language,
    )  # fmt: skip
    audit_record(actor=actor, action="mail.message.queue", obj=message,
                 changes={"to": recipients, "company": company.pk, "scheduled_for": send_at.isoformat()
                          if scheduled else None, "tracking": tracking})  # fmt: skip
    if not scheduled:
        from .tasks import message_send_task

        pk = message.pk
        transaction.on_commit(lambda: message_send_task(pk))
    return message


def _document_kind(document) -> str:
    if document is None:
        return ""
    return {"quotation": "quotation", "proformainvoice": "proforma"}.get(document._meta.model_name, "")


def _document(message: MailMessage):
    if not message.document_kind or not message.document_id:
        return None
    from tradecrm.documents.models import ProformaInvoice, Quotation

    model = Quotation if message.document_kind == "quotation" else ProformaInvoice
    return model.objects.filter(pk=message.document_id).first()


def build_mime(message: MailMessage) -> EmailMessage:
    """The MIME message: text + HTML alternative (tracked links and pixel when tracking is on),
    the quotation / PI PDF, List-Unsubscribe when asked."""
    base = settings.TRADECRM_BASE_URL.rstrip("/")
    m = EmailMessage()
    m["From"] = formataddr((message.from_name, message.from_addr)) if message.from_name else message.from_addr
    m["To"] = ", ".join(message.to_addrs)
    m["Subject"] = message.subject
    m["Message-ID"] = message.message_id
    m["Date"] = format_datetime(timezone.now())
    if message.list_unsubscribe:
        url = f"{base}/t/u/{rendering.unsubscribe_token(message.pk)}/"
        m["List-Unsubscribe"] = f"<{url}>"
        m["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    m.set_content(message.body_text)
    html = rendering.text_to_email_html(message.body_text)
    if message.tracking:
        html = rendering.track_links(html, message.pk, base)
    m.add_alternative(html, subtype="html")
    document = _document(message)
    if document is not None:
        from tradecrm.documents.print_services import document_pdf, pdf_filename

        data = document_pdf(document, language=message.document_language or getattr(document, "language", "en"))
        m.add_attachment(data, maintype="application", subtype="pdf", filename=pdf_filename(document))
    return m


def _smtp(mailbox: Mailbox) -> smtplib.SMTP:
    if mailbox.smtp_security == SmtpSecurity.SSL:
        conn = smtplib.SMTP_SSL(mailbox.smtp_host, mailbox.smtp_port, timeout=SMTP_TIMEOUT,
                                context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(mailbox.smtp_host, mailbox.smtp_port, timeout=SMTP_TIMEOUT)
        if mailbox.smtp_security == SmtpSecurity.STARTTLS:
            conn.starttls(context=ssl.create_default_context())
    conn.ehlo_or_helo_if_needed()
    if mailbox.username and mailbox.password and conn.has_extn("auth"):
        conn.login(mailbox.username, mailbox.password)
    return conn


def append_to_sent(mailbox: Mailbox, raw: bytes) -> str:
    """IMAP APPEND to the Sent folder; "" when done, else why not (the mail was sent anyway)."""
    from .sync import AuthFailed, detect_folders, imap_connect, quote

    try:
        conn = imap_connect(mailbox)
    except (AuthFailed, ConnectionError) as exc:
        return str(exc)
    try:
        sent = detect_folders(conn).get("sent") or "Sent"
        typ, data = conn.append(quote(sent), r"(\Seen)", imaplib.Time2Internaldate(_time.time()), raw)
        return "" if typ == "OK" else str(data)
    except (OSError, imaplib.IMAP4.error) as exc:
        return str(exc)
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def message_deliver(message_id: int) -> MailMessage | None:
    """Send a queued (or due scheduled) message once. Marks it sent or failed with the reason."""
    from .services import _timeline_entry

    with transaction.atomic():
        claimed = MailMessage.objects.filter(
            pk=message_id, status__in=[MessageStatus.QUEUED, MessageStatus.SCHEDULED]
        ).update(status=MessageStatus.SENT, sent_at=timezone.now())  # claim it: no double send
        if not claimed:
            return None
    message = MailMessage.objects.select_related("mailbox", "mailbox__user").get(pk=message_id)
    mailbox = message.mailbox
    try:
        mime = build_mime(message)
        raw = mime.as_bytes()
        with _smtp(mailbox) as conn:
            conn.send_message(mime, from_addr=mailbox.email, to_addrs=message.to_addrs)
    except smtplib.SMTPAuthenticationError as exc:
        return _failed(message, _("The SMTP server refused the user name or password: %(reply)s")
                       % {"reply": exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes)
                          else exc.smtp_error})  # fmt: skip
    except (smtplib.SMTPException, OSError, ValidationError, ValueError) as exc:
        return _failed(message, _("Not sent: %(error)s") % {"error": exc})
    problem = append_to_sent(mailbox, raw) if mailbox.status != MailboxStatus.AUTH_FAILED else "paused"
    with transaction.atomic():
        message.sent_at = message.sent_at or timezone.now()
        message.size = len(raw)
        message.error = (_("Sent, but not copied to the Sent folder: %(error)s") % {"error": problem}) if problem else ""
        message.save(update_fields=["size", "error"])
        if not message.thread or not message.thread.private:
            _timeline_entry(message)
        audit_record(actor=message.created_by, action="mail.message.sent", obj=message,
                     changes={"to": message.to_addrs})  # fmt: skip
    return message


def _failed(message: MailMessage, text: str) -> MailMessage:
    from tradecrm.followups.services import notify

    with transaction.atomic():
        MailMessage.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED, error=text[:2000], sent_at=None)
        message.status, message.error = MessageStatus.FAILED, text
        audit_record(actor=message.created_by, action="mail.message.failed", obj=message, changes={"error": text[:500]})
    try:
        notify(message.created_by, "mail_failed", {"subject": message.subject, "error": text[:200]},
               url=f"/mail/messages/{message.pk}/", key=f"mail-failed-{message.pk}")  # fmt: skip
    except Exception:  # noqa: BLE001
        log.exception("notification for message %s failed", message.pk)
    return message


def send_due(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Deliver scheduled messages whose time has come (the periodic task)."""
    now = now or timezone.now()
    ids = list(
        MailMessage.objects.filter(status=MessageStatus.SCHEDULED, scheduled_for__lte=now)
        .order_by("scheduled_for", "id").values_list("id", flat=True)[:limit]
    )
    n = 0
    for pk in ids:
        if message_deliver(pk) is not None:
            n += 1
    return n
