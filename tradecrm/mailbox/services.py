"""Writes of the email app. One function per change a user can name: connect / change / remove a
mailbox, store a synced message, mark a thread private, create a customer from an unknown sender,
save a template, compose (render + queue one message), deliver it, record a click / open /
unsubscribe. Views, API, CLI and tasks call these; campaigns reuse `message_queue`."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.crypto import encrypt_bytes
from tradecrm.core.emails import normalize_email
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.uploads import check_upload
from tradecrm.customers.models import Company, Contact
from tradecrm.interactions.models import InteractionSource, InteractionType
from tradecrm.interactions.validation import BODY_LIMIT, sanitize_html, text_to_html

from .matching import Match
from .models import (
    Mailbox,
    MailboxStatus,
    MailMessage,
    MailTemplate,
    MailThread,
    MessageDirection,
    MessageStatus,
    SmtpSecurity,
    TemplateLanguage,
    TrackingEvent,
    TrackingKind,
    UnknownSender,
    Unsubscribe,
)
from .parsing import Parsed, parse_message, when

log = logging.getLogger(__name__)

ATTACHMENT_LABEL = "mailbox.mailattachment.file"
MAIL_ATTACHMENT_MAX_BYTES = 50 * 1024 * 1024  # mail servers refuse more; 30 MB files are common
MAILBOX_FIELDS = ("email", "display_name", "imap_host", "imap_port", "imap_ssl", "smtp_host", "smtp_port",
                  "smtp_security", "username", "password", "sync_enabled")  # fmt: skip


# --- mailboxes ----------------------------------------------------------------------------------


def _clean_mailbox(data: dict, *, partial: bool) -> dict:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    def err(f, m):
        errors.setdefault(f, []).append(m)

    for f in ("email", "imap_host", "smtp_host", "username"):
        if f in data or not partial:
            v = str(data.get(f) or "").strip()
            if not v:
                err(f, _("This field is required."))
            elif len(v) > 254:
                err(f, _("At most %(limit)d characters.") % {"limit": 254})
            elif f.endswith("_host") and (" " in v or "/" in v):
                err(f, _("“%(value)s” is not a host name.") % {"value": v})
            else:
                out[f] = v
    if "email" in out:
        try:
            out["email"] = normalize_email(out["email"])
        except ValidationError as exc:
            errors.pop("email", None)
            err("email", exc.messages[0])
    for f, default in (("imap_port", 993), ("smtp_port", 587)):
        if f in data or not partial:
            raw = data.get(f, default)
            try:
                port = int(raw)
                if not 1 <= port <= 65535:
                    raise ValueError
                out[f] = port
            except (TypeError, ValueError):
                err(f, _("Enter a port number between 1 and 65535."))
    if "smtp_security" in data or not partial:
        v = data.get("smtp_security") or SmtpSecurity.STARTTLS
        if v not in SmtpSecurity.values:
            err("smtp_security", _("“%(value)s” is not one of the available choices.") % {"value": v})
        else:
            out["smtp_security"] = v
    for f in ("imap_ssl", "sync_enabled"):
        if f in data:
            out[f] = data[f] in (True, "on", "true", "1", 1)
        elif not partial:
            out[f] = True
    if "display_name" in data:
        out["display_name"] = str(data.get("display_name") or "").strip()[:120]
    if "password" in data and data["password"] not in (None, ""):
        out["password"] = str(data["password"])
    elif not partial:
        err("password", _("Enter the password (or app password) of the mailbox."))
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def mailbox_create(*, actor, data: dict) -> Mailbox:
    clean = _clean_mailbox(data, partial=False)
    mailbox = Mailbox.objects.create(user=actor, **clean)
    audit_record(actor=actor, action="mailbox.create", obj=mailbox,
                 changes={k: v for k, v in clean.items() if k != "password"})  # fmt: skip
    _queue_sync(mailbox)
    return mailbox


@transaction.atomic
def mailbox_update(*, actor, mailbox: Mailbox, version: int | None, data: dict) -> Mailbox:
    """Change settings; new credentials (or server) lift an auth_failed pause."""
    clean = _clean_mailbox(data, partial=True)
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    if version is not None and locked.version != int(version):
        raise ConcurrentEditError(_("Someone else changed this mailbox meanwhile. Reload and try again."))
    changes = {k: [getattr(locked, k), v] for k, v in clean.items() if k != "password" and getattr(locked, k) != v}
    if "password" in clean:
        changes["password"] = ["***", "***"]
    for k, v in clean.items():
        setattr(locked, k, v)
    credentials = {"password", "username", "imap_host", "imap_port", "imap_ssl"} & clean.keys()
    if locked.status == MailboxStatus.AUTH_FAILED and credentials:
        locked.status, locked.status_message, locked.status_at = MailboxStatus.NEW, "", timezone.now()
    locked.version += 1
    locked.save()
    audit_record(actor=actor, action="mailbox.update", obj=locked, changes=changes)
    return locked


@transaction.atomic
def mailbox_delete(*, actor, mailbox: Mailbox) -> None:
    """Removes the connection; the messages already on customers' timelines stay there."""
    audit_record(actor=actor, action="mailbox.delete", obj=mailbox, changes={"email": mailbox.email})
    names = list(default_storage_names(mailbox))
    mailbox.delete()
    transaction.on_commit(lambda: [default_storage.delete(n) for n in names])


def default_storage_names(mailbox: Mailbox) -> Iterable[str]:
    from .models import MailAttachment

    return MailAttachment.objects.filter(message__mailbox=mailbox).values_list("file", flat=True)


def mailbox_auth_failed(mailbox: Mailbox, server_text: str) -> None:
    """Pause the sync after a refused sign-in and tell the user once (not on every run)."""
    from tradecrm.followups.services import notify

    message = _(
        "The mail server refused the user name or password (%(reply)s). The sync is paused until you "
        "save the correct password (for Gmail, Outlook or QQ Mail: an app password)."
    ) % {"reply": server_text[:200]}
    with transaction.atomic():
        updated = Mailbox.objects.filter(pk=mailbox.pk).exclude(status=MailboxStatus.AUTH_FAILED).update(
            status=MailboxStatus.AUTH_FAILED, status_message=message, status_at=timezone.now()
        )
        mailbox.status, mailbox.status_message = MailboxStatus.AUTH_FAILED, message
        if updated:
            audit_record(actor=None, action="mailbox.auth_failed", obj=mailbox, changes={"reply": server_text[:200]})
            try:
                notify(mailbox.user, "mailbox_auth_failed", {"email": mailbox.email},
                       url=f"/mail/mailboxes/{mailbox.pk}/", key=f"mailbox-auth-{mailbox.pk}")  # fmt: skip
            except Exception:  # noqa: BLE001 - the pause is what matters
                log.exception("notification of mailbox %s failed", mailbox.pk)


def _queue_sync(mailbox: Mailbox) -> None:
    from .tasks import mailbox_sync_task

    pk = mailbox.pk
    transaction.on_commit(lambda: mailbox_sync_task(pk))


def mailbox_sync_now(*, actor, mailbox: Mailbox) -> None:
    """Queue a sync of the mailbox (a paused one waits for new credentials)."""
    if mailbox.status == MailboxStatus.AUTH_FAILED:
        raise ValidationError({"password": [mailbox.status_message or _("Sign-in failed: save the right password.")]})
    _queue_sync(mailbox)


# --- storing synced messages -----------------------------------------------------------------------


def _external_id(message_id: str) -> str:
    return message_id if len(message_id) <= 128 else "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()


@dataclass
class StoreBatchResult:
    stored: list[MailMessage] = field(default_factory=list)
    skipped: int = 0  # already stored (same Message-ID in this mailbox, or twice in the batch)
    parse_seconds: float = 0.0  # of the time taken, reading the messages (MIME, charsets, sanitizing)


def messages_store_batch(*, mailbox: Mailbox, items: list[tuple[int | None, bytes, Match]], direction: str,
                         folder_role: str = "", timeline: bool = True) -> StoreBatchResult:
    """Store a batch of a customer's synced messages (the sync's hot path) in a few statements:
    parse each, skip what is already stored, thread them (a parent in the database or earlier in
    the batch), insert the messages, their encrypted files, their timeline entries (unless the
    thread is private) and the replies to mail sent from the CRM. `items` are (uid, raw, match).
    Runs inside the caller's transaction; a database error propagates (the sync then stores the
    batch one message at a time, so one bad message cannot cost the others)."""
    from .models import MailAttachment

    out = StoreBatchResult()
    user_id = mailbox.user_id
    parsed: list[tuple[int | None, int, Parsed, Match]] = []
    t = time.perf_counter()
    for uid, raw, match in items:
        p = parse_message(raw)
        if p.html:  # cut first, then clean: the stored HTML is always well-formed
            p.html = sanitize_html(p.html[:BODY_LIMIT])
        parsed.append((uid, len(raw), p, match))
    out.parse_seconds = time.perf_counter() - t
    ids = {p.message_id for _u, _n, p, _m in parsed}
    taken = set(MailMessage.objects.filter(mailbox=mailbox, message_id__in=ids).values_list("message_id", flat=True))
    todo = []
    for item in parsed:
        if item[2].message_id in taken:
            out.skipped += 1
            continue
        taken.add(item[2].message_id)
        todo.append(item)
    if not todo:
        return out

    # threads: the newest message among a message's parents gives its thread (one query per batch)
    parents = {m for _u, _n, p, _m in todo for m in (p.in_reply_to, *p.references) if m}
    found: dict[str, tuple[int, int]] = {}
    for pk, mid, tid in (
        MailMessage.objects.filter(mailbox__user_id=user_id, message_id__in=parents, thread__isnull=False)
        .values_list("id", "message_id", "thread_id")
        if parents else ()
    ):  # fmt: skip
        if mid not in found or pk > found[mid][0]:
            found[mid] = (pk, tid)
    threads = MailThread.objects.in_bulk({t for _o, t in found.values()})
    # message-id -> (order, thread): the batch's own messages are newer than any stored one
    known: dict[str, tuple[int, MailThread]] = {m: (o, threads[t]) for m, (o, t) in found.items() if t in threads}
    bumped: dict[int, MailThread] = {}
    new_threads: list[MailThread] = []
    rows: list[tuple[MailMessage, Parsed, MailThread]] = []
    for n, (uid, size, p, match) in enumerate(todo):
        at = when(p)
        best = None
        for m in (p.in_reply_to, *p.references):
            hit = known.get(m) if m else None
            if hit is not None and (best is None or hit[0] > best[0]):
                best = hit
        if best is None:
            thread = MailThread(owner_id=user_id, company_id=match.company_id, subject=p.subject[:255],
                                last_message_at=at)  # fmt: skip
            new_threads.append(thread)
        else:
            thread = best[1]
            if thread.last_message_at is None or at > thread.last_message_at:
                thread.last_message_at = at
                if thread.pk is not None:
                    bumped[thread.pk] = thread
        known[p.message_id] = (1 << 62 | n, thread)
        message = MailMessage(
            mailbox=mailbox, company_id=match.company_id, contact_id=match.contact_id, direction=direction,
            status=MessageStatus.RECEIVED if direction == MessageDirection.INBOUND else MessageStatus.SYNCED,
            folder_role=folder_role, uid=uid, message_id=p.message_id, in_reply_to=p.in_reply_to,
            references=" ".join(p.references)[:10000], from_addr=p.from_addr[:254], from_name=p.from_name[:255],
            to_addrs=p.to[:100], cc_addrs=p.cc[:100], subject=p.subject, body_text=p.text[:BODY_LIMIT],
            body_html=p.html, sent_at=at, size=size, problems=p.problems[:20], tracking=False,
        )  # fmt: skip
        message._files = []
        message._accepted = _check_attachments(message, p)
        rows.append((message, p, thread))
    if new_threads:
        MailThread.objects.bulk_create(new_threads, batch_size=500)
    for thread in bumped.values():
        MailThread.objects.filter(pk=thread.pk).filter(
            Q(last_message_at__isnull=True) | Q(last_message_at__lt=thread.last_message_at)
        ).update(last_message_at=thread.last_message_at)
    for message, _p, thread in rows:
        message.thread = thread
        message.problems = message.problems[:20]
    messages = [m for m, _p, _t in rows]
    MailMessage.objects.bulk_create(messages, batch_size=200)

    # files: encrypted under the data dir, then their rows in one insert
    written: list[str] = []
    try:
        atts = []
        for message in messages:
            for meta, data in message._accepted:
                att = MailAttachment(message=message, name=meta["name"], size=meta["size"], sha256=meta["sha256"],
                                     content_type=meta["content_type"][:100])  # fmt: skip
                att.file.save(meta["name"], ContentFile(encrypt_bytes(data, ATTACHMENT_LABEL)), save=False)
                written.append(att.file.name)
                atts.append(att)
                message._files.append(att)
            message._accepted = ()
        if atts:
            MailAttachment.objects.bulk_create(atts, batch_size=200)
        if timeline:
            timeline_entries_bulk(mailbox.user, messages)
        if direction == MessageDirection.INBOUND:
            _record_replies(user_id, [(m, p) for m, p, _t in rows])
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise
    out.stored = messages
    return out


def _check_attachments(message: MailMessage, p: Parsed) -> list[tuple[dict, bytes]]:
    """The files of a message that may be stored (size, refused types); the others are noted in
    the message's problems."""
    accepted = []
    for a in p.attachments:
        try:
            meta = check_upload(ContentFile(a["data"], name=a["name"]), limit=MAIL_ATTACHMENT_MAX_BYTES)
        except ValidationError as exc:
            message.problems.append(_("“%(name)s” not stored: %(reason)s") % {"name": a["name"], "reason": exc.messages[0]})
            continue
        accepted.append((meta, a["data"]))
    return accepted


def message_store(*, mailbox: Mailbox, raw: bytes, uid: int | None, match: Match, direction: str,
                  folder_role: str = "", timeline: bool = True) -> MailMessage | None:
    """Store one synced message of a customer (see `messages_store_batch`); None when it is
    already stored. Runs inside the caller's transaction."""
    result = messages_store_batch(mailbox=mailbox, items=[(uid, raw, match)], direction=direction,
                                  folder_role=folder_role, timeline=timeline)  # fmt: skip
    return result.stored[0] if result.stored else None


def _timeline_body(message: MailMessage, files) -> tuple[str, str]:
    body = message.body_html or text_to_html(message.body_text)
    if files:
        links = ", ".join(
            f'<a href="/mail/attachments/{f.pk}/">{_esc(f.name)}</a>' for f in files  # = mailbox:attachment
        )
        body += f"<p>{_esc(_('Attachments'))}: {links}</p>"
    if len(body) <= BODY_LIMIT:
        # already safe: body_html was sanitized when stored, text and names are escaped
        return body, "html"
    return sanitize_html(body[:BODY_LIMIT]), "html"  # a cut may split a tag


def _esc(s: str) -> str:
    from html import escape

    return escape(s)


def _timeline_entry(message: MailMessage, files=None) -> None:
    from tradecrm.interactions.services import interaction_create

    if files is None:
        files = list(message.attachments.all())
    body, fmt = _timeline_body(message, files)
    company = Company.objects.get(pk=message.company_id)
    contact = message.contact_id
    interaction = interaction_create(
        actor=message.mailbox.user,
        company=company,
        data={
            "type": InteractionType.EMAIL,
            "direction": "in" if message.direction == MessageDirection.INBOUND else "out",
            "occurred_at": min(message.sent_at or timezone.now(), timezone.now()),
            "subject": message.subject or _("(no subject)"),
            "body": body,
            "body_format": fmt,
            "contact": contact,
        },
        source=InteractionSource.EMAIL,
        external_id=_external_id(message.message_id),
    )
    MailMessage.objects.filter(pk=message.pk).update(interaction=interaction)
    message.interaction = interaction


def enters_the_crm(m: MailMessage) -> bool:
    """A stored message of a customer outside a thread marked private: it goes on the timeline and
    raises automation's "mail received"."""
    return bool(m.company_id) and not (m.thread_id and m.thread.private)


def timeline_entries_bulk(user, stored: list[MailMessage]) -> int:
    """The timeline entries of a batch of synced messages in one insert (the sync's hot path):
    the same rows `interaction_create` writes — sanitized body, search text, source "email",
    the Message-ID as external id (skipped when already there) — then each company's last
    contact once, and one audit event for the batch."""
    from tradecrm.interactions.models import Interaction
    from tradecrm.interactions.services import interaction_search_text

    todo = [m for m in stored if enters_the_crm(m)]
    if not todo:
        return 0
    ext = {m.pk: _external_id(m.message_id) for m in todo}
    have = set(
        Interaction.objects.filter(source=InteractionSource.EMAIL, external_id__in=set(ext.values()),
                                   company_id__in={m.company_id for m in todo})
        .values_list("company_id", "external_id")
    )  # fmt: skip
    names = {c.pk: f"{c.first_name} {c.last_name} {c.name_local}" for c in
             Contact.objects.filter(pk__in={m.contact_id for m in todo if m.contact_id})}  # fmt: skip
    now = timezone.now()
    rows, msgs = [], []
    for m in todo:
        if (m.company_id, ext[m.pk]) in have:
            continue
        have.add((m.company_id, ext[m.pk]))
        body, _fmt = _timeline_body(m, getattr(m, "_files", None) or [])
        subject = (m.subject or _("(no subject)"))[:255]
        rows.append(Interaction(
            company_id=m.company_id, contact_id=m.contact_id, type=InteractionType.EMAIL,
            direction="in" if m.direction == MessageDirection.INBOUND else "out",
            occurred_at=min(m.sent_at or now, now), subject=subject, body=body, source=InteractionSource.EMAIL,
            external_id=ext[m.pk], owner=user, updated_by=user,
            search_text=interaction_search_text(subject, body, names.get(m.contact_id, "")),
        ))  # fmt: skip
        msgs.append(m)
    if not rows:
        return 0
    Interaction.objects.bulk_create(rows, batch_size=200)
    for m, row in zip(msgs, rows, strict=True):
        m.interaction_id = row.pk
    _executemany(f"UPDATE {MailMessage._meta.db_table} SET interaction_id = %s WHERE id = %s",
                 [(row.pk, m.pk) for m, row in zip(msgs, rows, strict=True)])  # fmt: skip
    # the entries only add: each company's last contact moves up to its newest one (one UPDATE
    # per company of the batch instead of re-reading its whole timeline)
    latest: dict[int, Any] = {}
    for row in rows:
        if row.company_id not in latest or row.occurred_at > latest[row.company_id]:
            latest[row.company_id] = row.occurred_at
    adapt = connection.ops.adapt_datetimefield_value
    _executemany(
        f"UPDATE {Company._meta.db_table} SET last_contact_at = %s WHERE id = %s "
        "AND (last_contact_at IS NULL OR last_contact_at < %s)",
        [(adapt(at), cid, adapt(at)) for cid, at in sorted(latest.items())],
    )
    audit_record(actor=user, action="interaction.import", object_type="interactions.interaction",
                 changes={"source": "email", "count": len(rows), "ids": [r.pk for r in rows][:1000]})  # fmt: skip
    return len(rows)


def _executemany(sql: str, params: list[tuple]) -> None:
    """One statement run for many rows (the sync's batches): much faster than an UPDATE per row
    through the ORM or bulk_update's CASE expressions."""
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def _record_replies(user_id: int, pairs: list[tuple[MailMessage, Parsed]]) -> None:
    """Mail sent from the CRM (or synced from Sent) that these inbound messages answer: its
    replied_at (the first answer's time) and a reply event."""
    first: dict[str, MailMessage] = {}
    for message, p in pairs:
        for ref in (p.in_reply_to, *p.references):
            if ref and ref not in first:
                first[ref] = message
    if not first:
        return
    now = timezone.now()
    events = []
    for pk, mid in MailMessage.objects.filter(
        mailbox__user_id=user_id, message_id__in=list(first), direction=MessageDirection.OUTBOUND,
        replied_at__isnull=True,
    ).values_list("id", "message_id"):  # fmt: skip
        reply = first[mid]
        MailMessage.objects.filter(pk=pk).update(replied_at=reply.sent_at or now)
        events.append(TrackingEvent(message_id=pk, kind=TrackingKind.REPLY, at=now, url=reply.message_id[:500]))
    if events:
        TrackingEvent.objects.bulk_create(events)


def unknown_senders_record(user, heads: list[Parsed]) -> None:
    """Remember addresses that matched no customer: address, name, count, last subject only."""
    now = timezone.now()
    by_addr: dict[str, dict] = {}
    for h in heads:
        d = by_addr.setdefault(h.from_addr, {"name": h.from_name, "subject": h.subject, "n": 0, "at": None})
        d["n"] += 1
        d["name"], d["subject"] = h.from_name or d["name"], h.subject or d["subject"]
        if h.date and (d["at"] is None or h.date > d["at"]):
            d["at"] = min(h.date, now)
    # locked: another mailbox of the same user may be syncing now (counts must add up)
    existing = {u.address: u for u in UnknownSender.objects.select_for_update().filter(user=user, address__in=list(by_addr))}
    new, changed = [], []
    for addr, d in by_addr.items():
        u = existing.get(addr)
        if u is None:
            new.append(UnknownSender(user=user, address=addr[:254], name=d["name"][:255],
                                     last_subject=d["subject"][:255], count=d["n"], last_seen_at=d["at"] or now))
        else:
            u.count += d["n"]
            u.name = d["name"][:255] or u.name
            u.last_subject = d["subject"][:255]
            u.last_seen_at = max(filter(None, [u.last_seen_at, d["at"] or now]))
            u.updated_at = now
            changed.append(u)
    if changed:  # one prepared UPDATE run for all the senders of the batch
        adapt = connection.ops.adapt_datetimefield_value
        _executemany(
            f"UPDATE {UnknownSender._meta.db_table} SET count = %s, name = %s, last_subject = %s, "
            "last_seen_at = %s, updated_at = %s WHERE id = %s",
            [(u.count, u.name, u.last_subject, adapt(u.last_seen_at), adapt(u.updated_at), u.pk) for u in changed],
        )
    if new:
        UnknownSender.objects.bulk_create(new, batch_size=500)


@transaction.atomic
def thread_set_private(*, actor, thread: MailThread, private: bool) -> MailThread:
    """Only the owner of the mail may. Private: its entries leave the customer's timeline (the
    messages stay in the owner's mail); public again: they come back."""
    from tradecrm.interactions.models import Interaction

    if thread.owner_id != actor.pk:
        raise PermissionDenied(_("Only the owner of this mail can change who sees it."))
    if thread.private == private:
        return thread
    thread.private = private
    thread.save(update_fields=["private", "updated_at"])
    if private:
        ids = list(thread.messages.exclude(interaction__isnull=True).values_list("interaction_id", flat=True))
        company_ids = set(Interaction.objects.filter(pk__in=ids).values_list("company_id", flat=True))
        Interaction.objects.filter(pk__in=ids).delete()
        from tradecrm.interactions.services import company_refresh_last_contact

        for cid in company_ids:
            company_refresh_last_contact(cid)
    else:
        for message in thread.messages.filter(interaction__isnull=True, company__isnull=False).select_related("mailbox"):
            _timeline_entry(message)
    audit_record(actor=actor, action="mail.thread.private" if private else "mail.thread.shared", obj=thread,
                 changes={"private": private})  # fmt: skip
    return thread


@transaction.atomic
def unknown_sender_create_customer(*, actor, sender: UnknownSender, data: dict, force: bool = False) -> Company:
    """Create a company (and its first contact) from an unknown sender. Refused while the duplicate
    check finds a likely existing customer, unless `force`."""
    from tradecrm.customers.services import company_create, contact_create
    from tradecrm.dedup.normalize import email_domain_key
    from tradecrm.dedup.selectors import check_company

    if sender.user_id != actor.pk:
        raise PermissionDenied
    values = {"name": data.get("name") or "", "country": data.get("country") or "", "email": sender.address}
    domain = email_domain_key(sender.address)
    if domain:
        values["website"] = domain
    if not force:
        likely = [c for c in check_company(actor, values) if c.get("likely")]
        if likely:
            raise ValidationError(
                {"name": [_("This looks like an existing customer: %(names)s. Open it, or confirm to create a new one.")
                          % {"names": ", ".join(c["name"] for c in likely[:3])}]}
            )
    company_data = {"name": values["name"], "country": values["country"], "email": sender.address}
    if domain:
        company_data["email_domains"] = [domain]
    company = company_create(actor=actor, data=company_data)
    first, _sp, last = (data.get("contact_name") or sender.name or "").partition(" ")
    contact_create(actor=actor, company=company,
                   data={"first_name": first, "last_name": last, "emails": [sender.address]})  # fmt: skip
    sender.dismissed = True
    sender.save(update_fields=["dismissed", "updated_at"])
    audit_record(actor=actor, action="mail.sender.customer", obj=company, changes={"address": sender.address})
    return company


# --- templates ------------------------------------------------------------------------------------


def _clean_template(data: dict, partial: bool) -> dict:
    from .rendering import check_template

    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for f, limit in (("name", 120), ("subject", 255), ("body", 100_000)):
        if f in data or not partial:
            v = str(data.get(f) or "").strip()
            if not v:
                errors.setdefault(f, []).append(_("This field is required."))
            elif len(v) > limit:
                errors.setdefault(f, []).append(_("At most %(limit)d characters.") % {"limit": limit})
            else:
                problem = check_template(v) if f != "name" else None
                if problem:
                    errors.setdefault(f, []).append(problem)
                else:
                    out[f] = v
    if "language" in data or not partial:
        v = data.get("language") or ""
        if v not in TemplateLanguage.values:
            errors.setdefault("language", []).append(
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(TemplateLanguage.values)}
            )
        else:
            out["language"] = v
    if "shared" in data:
        out["shared"] = data["shared"] in (True, "on", "true", "1", 1)
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def template_create(*, actor, data: dict) -> MailTemplate:
    clean = _clean_template(data, partial=False)
    if MailTemplate.objects.filter(owner=actor, name=clean["name"], language=clean["language"]).exists():
        raise ValidationError({"name": [_("You have a template with this name in this language already.")]})
    t = MailTemplate.objects.create(owner=actor, **clean)
    audit_record(actor=actor, action="mail.template.create", obj=t, changes={"name": t.name, "language": t.language})
    return t


@transaction.atomic
def template_update(*, actor, template: MailTemplate, version: int | None, data: dict) -> MailTemplate:
    if template.owner_id != actor.pk and not actor.is_admin:
        raise PermissionDenied(_("Only who wrote this template may change it."))
    clean = _clean_template(data, partial=True)
    updated = MailTemplate.objects.filter(pk=template.pk, **({} if version is None else {"version": version}))
    if not updated.update(**clean, version=F("version") + 1, updated_at=timezone.now()):
        raise ConcurrentEditError(_("Someone else changed this template meanwhile. Reload and try again."))
    template.refresh_from_db()
    audit_record(actor=actor, action="mail.template.update", obj=template, changes=sorted(clean))
    return template


@transaction.atomic
def template_delete(*, actor, template: MailTemplate) -> None:
    if template.owner_id != actor.pk and not actor.is_admin:
        raise PermissionDenied(_("Only who wrote this template may delete it."))
    audit_record(actor=actor, action="mail.template.delete", obj=template, changes={"name": template.name})
    template.delete()


# --- sending ----------------------------------------------------------------------------------------

from .sending import message_deliver, message_queue  # noqa: E402,F401  (the send path lives in sending.py)

# --- tracking ------------------------------------------------------------------------------------------


def tracking_record(*, message_id: int, kind: str, url: str = "", user_agent: str = "") -> bool:
    """Record an open / click / unsubscribe of a sent message; False when the message is gone or
    tracking was off for it (nothing recorded then, but a click still redirects)."""
    now = timezone.now()
    with transaction.atomic():
        msg = MailMessage.objects.filter(pk=message_id).only("id", "tracking", "to_addrs").first()
        if msg is None:
            return False
        if kind == TrackingKind.UNSUBSCRIBE:
            for addr in msg.to_addrs:
                Unsubscribe.objects.get_or_create(address=addr.lower()[:254], defaults={"at": now, "message": msg})
        elif not msg.tracking:
            return False
        TrackingEvent.objects.create(message=msg, kind=kind, url=url[:2000], at=now, user_agent=user_agent[:255])
        if kind == TrackingKind.OPEN:
            MailMessage.objects.filter(pk=msg.pk, opened_at__isnull=True).update(opened_at=now)
            MailMessage.objects.filter(pk=msg.pk).update(open_count=F("open_count") + 1)
        elif kind == TrackingKind.CLICK:
            MailMessage.objects.filter(pk=msg.pk, clicked_at__isnull=True).update(clicked_at=now)
            MailMessage.objects.filter(pk=msg.pk).update(click_count=F("click_count") + 1)
    return True


def is_unsubscribed(address: str) -> bool:
    return Unsubscribe.objects.filter(address=(address or "").lower()).exists()

