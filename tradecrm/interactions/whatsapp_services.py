"""Importing a WhatsApp chat export into a customer's timeline: one interaction per message.

The web page, the API and the `whatsapp_import` command all call `whatsapp_import`. It reads the
whole file first (`whatsapp.py`); a file it cannot read is refused with the line at fault and
nothing is written. Then, in one transaction, it inserts the messages that are not on the
timeline yet, stores the media files of a .zip on their messages, refreshes the customer's last
contact and records one audit event.

Re-importing is safe: each message gets `external_id` = a hash of its time as the chat shows it,
its sender, its text and its ordinal among identical messages, so the same export, or a longer
one of the same chat, only adds what is new. The time zone chosen does not change the hash. A
media message hashes as "media + caption", so an export with media and one without match.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core import geo
from tradecrm.core.phones import normalize_phone
from tradecrm.customers.models import Company, Contact

from . import services
from .models import Attachment, Direction, Interaction, InteractionSource, InteractionType
from .validation import text_to_html
from .whatsapp import (
    DMY,
    MDY,
    YMD,
    ChatExport,
    ChatMessage,
    ParsedChat,
    WhatsAppFormatError,
    WhatsAppImportError,
    clean_name,
    decode_text,
    open_export,
    parse_chat,
)

SUBJECT_CHARS = 80
PREVIEW_ROWS = 20
DATE_ORDERS = (DMY, MDY, YMD)
_PHONEISH = re.compile(r"^\+?[\d\s().\-]{6,}$")


class WhatsAppFileInvalid(ValidationError):
    """The upload is not a WhatsApp export we can read. `line`/`content` name the first
    unreadable line when there is one."""

    def __init__(self, message: str, *, line: int | None = None, content: str = ""):
        self.line = line
        self.content = content
        super().__init__({"file": [message]})


def error_message(exc: WhatsAppImportError) -> str:
    """The reader's refusal in the user's language."""
    p = exc.params
    if isinstance(exc, WhatsAppFormatError):
        if exc.code == "empty":
            return _("The file holds no WhatsApp messages.")
        if exc.code == "encoding":
            return (
                _("Line %(line)d is not UTF-8 text: “%(content)s”. Export the chat again from WhatsApp.") % p
            )
        if exc.code in ("date", "date_order", "time"):
            return (
                _(
                    "Line %(line)d has a date or time that cannot be read in this chat's format: “%(content)s”. "
                    "Nothing was imported."
                )
                % p
            )
        return (
            _(
                "Line %(line)d is not in a WhatsApp export format we can read: “%(content)s”. A chat export "
                "starts with a line like “31/12/2023, 21:41 - Name: text” or “[31/12/2023, 21:41:05] Name: text”. "
                "Nothing was imported."
            )
            % p
        )
    if exc.code == "too_large":
        return _("The chat text is larger than %(limit)s.") % {"limit": services.human_size(p["limit"])}
    if exc.code == "bad_zip":
        return _("The file is not a readable .zip archive.")
    if exc.code == "no_chat":
        return _("The .zip holds no chat text (_chat.txt or “WhatsApp Chat with …”.txt).")
    if exc.code == "zip_members":
        return _("The .zip holds more than %(limit)d files.") % p
    if exc.code == "zip_total":
        return _("The .zip unpacks to more than %(limit)s; it was refused.") % {
            "limit": services.human_size(p["limit"])
        }
    if exc.code == "zip_bomb":
        return _(
            "A file in the .zip unpacks to far more than its packed size (a “zip bomb”); it was refused."
        )
    return _("The file could not be read as a WhatsApp export.")


@dataclass
class SenderInfo:
    name: str
    messages: int
    direction: str
    contact_id: int | None = None
    contact_name: str = ""


@dataclass
class WhatsAppImportResult:
    file_name: str
    format: str
    date_order: str
    date_order_ambiguous: bool
    timezone: str
    dry_run: bool
    messages: int = 0  # messages of the conversation read (system lines not included)
    created: int = 0
    duplicates: int = 0
    system_lines: int = 0
    senders: list[SenderInfo] = field(default_factory=list)
    unmatched_senders: list[str] = field(default_factory=list)
    attachments_stored: int = 0
    attachments_refused: list[dict] = field(default_factory=list)  # {name, reason}
    attachments_missing: list[str] = field(default_factory=list)  # named in the chat, not in the upload
    media_files: int = 0  # messages whose media file is in the upload (stored, refused or there already)
    preview: list[dict] = field(default_factory=list)  # the first messages: at, sender, direction, contact…

    def as_dict(self) -> dict:
        return asdict(self)


def _zone(name: str) -> ZoneInfo:
    if name not in geo.timezone_names():
        raise ValidationError(
            {
                "timezone": [
                    _("“%(value)s” is not a time zone (use a name like Europe/Berlin).") % {"value": name}
                ]
            }
        )
    return ZoneInfo(name)


def _as_phone(raw: str, region: str) -> str:
    if not _PHONEISH.match(raw):
        return ""
    try:
        return normalize_phone(raw, region)
    except ValidationError:
        return ""


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


_WORD = re.compile(r"\w+")


def _words(name: str) -> frozenset[str]:
    return frozenset(_WORD.findall(name.casefold()))


class _ContactIndex:
    """The company's contacts by E.164 number and by name."""

    def __init__(self, company: Company):
        self.by_phone: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        self.names: dict[int, str] = {}
        self.full_names: list[tuple[frozenset[str], int]] = []
        rows = Contact.objects.filter(company_id=company.pk).order_by("-is_primary", "id")
        for c in rows.values("id", "first_name", "last_name", "name_local", "whatsapp", "phones", "email"):
            full = " ".join(p for p in (c["first_name"], c["last_name"]) if p)
            self.names[c["id"]] = full or c["name_local"] or c["email"]
            for phone in [c["whatsapp"], *c["phones"]]:
                e164 = phone if phone.startswith("+") else _as_phone(phone, company.country)
                if e164:
                    self.by_phone.setdefault(e164, c["id"])
            reversed_name = " ".join(p for p in (c["last_name"], c["first_name"]) if p)
            for key in (full, reversed_name, c["name_local"]):
                if key:
                    self.by_name.setdefault(_fold(key), c["id"])
            if c["first_name"] and c["last_name"]:
                self.full_names.append((_words(full), c["id"]))

    def match(self, sender: str, phone: str) -> int | None:
        """By number; else by the whole name; else the one contact whose first and last name are
        both words of the sender (phones save "Jane Doe (Acme)" or "Acme - Jane Doe")."""
        if phone:
            return self.by_phone.get(phone)
        found = self.by_name.get(_fold(sender))
        if found:
            return found
        words = _words(sender)
        hits = {cid for need, cid in self.full_names if need <= words}
        return hits.pop() if len(hits) == 1 else None


def _hash_text(msg: ChatMessage) -> str:
    return f"\x00media\x1f{msg.text}" if (msg.media or msg.media_omitted) else msg.text


def sender_key(sender: str) -> str:
    """The sender as the hash sees it: a number in E.164, a name folded (case, spaces), so that
    "+49 171 1234567" / "+491711234567" or "Jane  Doe" / "jane doe" are one sender."""
    return _as_phone(sender, "") or _fold(sender)


def message_external_id(msg: ChatMessage, ordinal: int, sender: str | None = None) -> str:
    """Stable across re-imports: the chat's own time (not the chosen zone), sender, text, ordinal."""
    who = sender if sender is not None else sender_key(msg.sender)
    key = "\x1f".join(("wa1", msg.at.isoformat(), who, _hash_text(msg), str(ordinal)))
    return hashlib.sha256(key.encode()).hexdigest()


def _subject(msg: ChatMessage) -> str:
    text = " ".join(msg.text.split())
    if not text:
        text = msg.media or _("Media not included in the export")
    return text[:SUBJECT_CHARS]


def _body(msg: ChatMessage) -> str:
    body = text_to_html(msg.text)
    if msg.media_omitted:
        note = html.escape(_("Media not included in the export"))
        body = f"{body}<br><i>{note}</i>" if body else f"<i>{note}</i>"
    elif msg.media and not msg.text:
        body = html.escape(msg.media)
    return body


def _parse(file, date_order: str | None) -> tuple[ChatExport, ParsedChat]:
    try:
        export = open_export(file)
        parsed = parse_chat(decode_text(export.chat), date_order=date_order or None, default_order=DMY)
    except WhatsAppFormatError as exc:
        raise WhatsAppFileInvalid(error_message(exc), line=exc.line, content=exc.content) from None
    except WhatsAppImportError as exc:
        raise WhatsAppFileInvalid(error_message(exc)) from None
    return export, parsed


def _existing(company: Company, ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i in range(0, len(ids), 500):
        found.update(
            Interaction.objects.filter(
                company_id=company.pk, source=InteractionSource.WHATSAPP, external_id__in=ids[i : i + 500]
            ).values_list("external_id", "id")
        )
    return found


def whatsapp_import(
    *,
    actor,
    company: Company,
    file,
    my_names: list[str],
    timezone: str | None = None,
    date_order: str | None = None,
    dry_run: bool = False,
    file_name: str = "",
) -> WhatsAppImportResult:
    """Import a chat exported from WhatsApp (.txt, or .zip with media) into `company`'s timeline.

    `my_names`: how the importing user appears in the chat (display names or phone numbers);
    their messages are outgoing, everyone else's incoming. `timezone`: the zone of the phone that
    exported the chat (default: the actor's). `date_order`: "DMY"/"MDY"/"YMD" to override what
    the file's dates show. `dry_run`: read, match and count, write nothing.
    Raises WhatsAppFileInvalid (a ValidationError on `file`) for a file it cannot read."""
    zone_name = timezone or getattr(actor, "timezone", "") or "UTC"
    zone = _zone(zone_name)
    if date_order and date_order not in DATE_ORDERS:
        raise ValidationError({"date_order": [_("Choose DMY, MDY or YMD.")]})
    file_name = (file_name or str(getattr(file, "name", "") or "")).replace("\x00", "")
    export, parsed = _parse(file, date_order)

    conversation = parsed.conversation
    result = WhatsAppImportResult(
        file_name=file_name.rsplit("/", 1)[-1],
        format=parsed.format,
        date_order=parsed.date_order,
        date_order_ambiguous=parsed.date_order_ambiguous,
        timezone=zone_name,
        dry_run=dry_run,
        messages=len(conversation),
        system_lines=parsed.system_lines,
    )

    # who is who: me (outgoing), the company's contacts by E.164 or by name, or unknown
    my_names = [n.replace("\x00", "") for n in my_names]
    mine = {_fold(clean_name(n)) for n in my_names if n and n.strip()}
    mine |= {p for p in (_as_phone(clean_name(n), company.country) for n in my_names if n) if p}
    contacts = _ContactIndex(company)
    contact_names = contacts.names
    counts = Counter(m.sender for m in conversation)
    senders: dict[str, SenderInfo] = {}
    for name, n in counts.items():
        phone = _as_phone(name, company.country)
        if _fold(name) in mine or (phone and phone in mine):
            senders[name] = SenderInfo(name, n, Direction.OUTBOUND)
            continue
        contact_id = contacts.match(name, phone)
        senders[name] = SenderInfo(name, n, Direction.INBOUND, contact_id, contact_names.get(contact_id, ""))
    others = [s for s in senders.values() if s.direction == Direction.INBOUND]
    # In a chat with one person, what I write goes to that person.
    counterpart = others[0].contact_id if len(others) == 1 else None
    result.senders = sorted(senders.values(), key=lambda s: (s.direction != Direction.OUTBOUND, -s.messages))
    result.unmatched_senders = [s.name for s in others if s.contact_id is None]

    sender_keys = {name: sender_key(name) for name in counts}
    seen: Counter = Counter()
    rows: list[_Row] = []
    for msg in conversation:
        who = sender_keys[msg.sender]
        key = (msg.at, who, _hash_text(msg))
        external_id = message_external_id(msg, seen[key], who)
        seen[key] += 1
        info = senders[msg.sender]
        contact_id = info.contact_id if info.direction == Direction.INBOUND else counterpart
        at = msg.at.replace(tzinfo=zone).astimezone(dt.UTC)
        rows.append(_Row(msg, external_id, info.direction, contact_id, at))
    existing = _existing(company, [r.external_id for r in rows])
    new = [r for r in rows if r.external_id not in existing]
    result.duplicates = len(rows) - len(new)
    result.created = len(new)
    result.media_files = sum(1 for r in rows if r.msg.media and r.msg.media in export.media)
    result.attachments_missing = [
        r.msg.media for r in rows if r.msg.media and r.msg.media not in export.media
    ]
    result.preview = [
        {
            "line": r.msg.line,
            "occurred_at": r.occurred_at,
            "local_time": r.msg.at,
            "sender": r.msg.sender,
            "direction": r.direction,
            "contact_id": r.contact_id,
            "contact_name": contact_names.get(r.contact_id, ""),
            "subject": _subject(r.msg),
            "media": r.msg.media,
            "duplicate": r.external_id in existing,
        }
        for r in rows[:PREVIEW_ROWS]
    ]
    if dry_run:
        return result

    stored: list[str] = []  # files written; removed again if the transaction does not commit
    try:
        with transaction.atomic():
            _insert(actor, company, new, contact_names)
            with_media = [(r.msg, r.external_id) for r in rows if r.msg.media and r.msg.media in export.media]
            if with_media:
                _store_media(actor, company, export, with_media, result, stored)
            services.company_refresh_last_contact(company.pk)
            _audit(actor, company, result)
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return result


def _audit(actor, company: Company, result: WhatsAppImportResult) -> None:
    audit_record(
        actor=actor,
        action="whatsapp.import",
        obj=company,
        changes={
            "file": result.file_name,
            "messages": result.messages,
            "created": result.created,
            "duplicates": result.duplicates,
            "attachments": result.attachments_stored,
            "timezone": result.timezone,
            "date_order": result.date_order,
        },
    )


@dataclass
class _Row:
    msg: ChatMessage
    external_id: str
    direction: str
    contact_id: int | None
    occurred_at: dt.datetime


def _insert(actor, company: Company, rows: list[_Row], contact_names: dict[int, str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING with executemany: a message another import stored in the
    meantime is skipped, not an error. Raw rather than bulk_create, as every importer here
    (docs/architecture.md: bulk_create 13k rows/s on SQLite, executemany 93k); columns this code
    does not set get their model defaults."""
    if not rows:
        return
    now = dj_timezone.now()
    fixed = {
        "company_id": company.pk,
        "type": InteractionType.WHATSAPP,
        "source": InteractionSource.WHATSAPP,
        "owner_id": actor.pk,
        "updated_by_id": actor.pk,
        "version": 1,
    }
    varying = ("contact_id", "direction", "occurred_at", "subject", "body", "external_id", "search_text")
    fields = [f for f in Interaction._meta.concrete_fields if not f.primary_key]
    constant: dict[str, object] = {}
    for f in fields:
        if f.attname in varying:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        else:
            value = fixed[f.attname] if f.attname in fixed else f.get_default()
        constant[f.attname] = f.get_db_prep_save(value, connection)
    when = Interaction._meta.get_field("occurred_at")
    columns = [f.column for f in fields]
    params = []
    for r in rows:
        subject, body = _subject(r.msg), _body(r.msg)
        extra = " ".join(p for p in (r.msg.sender, contact_names.get(r.contact_id, "")) if p)
        values = {
            **constant,
            "contact_id": r.contact_id,
            "direction": r.direction,
            "occurred_at": when.get_db_prep_save(r.occurred_at, connection),
            "subject": subject,
            "body": body,
            "external_id": r.external_id,
            "search_text": services.interaction_search_text(subject, body, extra),
        }
        params.append([values[f.attname] for f in fields])
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(Interaction._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        for i in range(0, len(params), 1000):
            cursor.executemany(sql, params[i : i + 1000])


def _store_media(
    actor, company: Company, export: ChatExport, with_media, result: WhatsAppImportResult, stored: list[str]
) -> None:
    """Each media file of the .zip on its message (also on a message imported earlier without it);
    a file the attachment rules refuse is reported and skipped."""
    ids = _existing(company, [ext for _m, ext in with_media])
    have = set(
        Attachment.objects.filter(interaction_id__in=list(ids.values())).values_list("interaction_id", "name")
    )
    limit = settings.TRADECRM_ATTACHMENT_MAX_BYTES
    for msg, ext in with_media:
        interaction_id = ids.get(ext)
        if interaction_id is None or (interaction_id, msg.media) in have:
            continue
        data = export.read_media(msg.media, limit)
        if data is None:
            size = export.media[msg.media].file_size
            reason = _("“%(name)s” is %(size)s; attachments may be at most %(limit)s.") % {
                "name": msg.media,
                "size": services.human_size(size),
                "limit": services.human_size(limit),
            }
            result.attachments_refused.append({"name": msg.media, "reason": reason})
            continue
        target = Interaction(pk=interaction_id, company_id=company.pk)
        try:
            with transaction.atomic():
                attachment = services.attachment_add(
                    actor=actor, interaction=target, upload=ContentFile(data, name=msg.media)
                )
        except ValidationError as exc:
            result.attachments_refused.append({"name": msg.media, "reason": " ".join(exc.messages)})
        else:
            stored.append(attachment.file.name)
            have.add((interaction_id, msg.media))
            result.attachments_stored += 1
