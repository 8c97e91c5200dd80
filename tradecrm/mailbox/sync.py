"""Incremental IMAP sync of one mailbox (stdlib imaplib).

Per folder (INBOX, and the folder marked \\Sent by SPECIAL-USE, else a folder named like one):
SELECT read-only, compare UIDVALIDITY and UIDNEXT with what was stored (nothing new: done, one
round trip), then UID SEARCH above the last UID, FETCH the headers of 500 messages at a time,
match their addresses to customers, FETCH BODY.PEEK[] only of the matched ones and store them. The
folder's last UID moves with each committed batch, so an interrupted sync resumes where it stopped
and a message is never imported twice (Message-ID is unique per mailbox as well).

A refused sign-in pauses the mailbox (status auth_failed, with the server's words) until the user
saves new credentials; other errors are recorded with their time and retried on the next run.
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .matching import Matcher
from .models import FolderRole, Mailbox, MailboxStatus, MailFolder, MailMessage, MessageDirection
from .parsing import HEADER_FIELDS, parse_headers

log = logging.getLogger(__name__)

HEADER_BATCH = 500
BODY_BATCH_BYTES = 16 * 1024 * 1024
BODY_BATCH_MAX = 100
TIMEOUT = 60
SENT_NAMES = ("sent", "sent items", "sent messages", "sent mail", "[gmail]/sent mail", "已发送", "已发送邮件",
              "inbox.sent", "inbox/sent")
_LIST_RE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<sep>"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')
_UID_RE = re.compile(rb"UID (\d+)")
_SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")


class AuthFailed(Exception):
    pass


@dataclass
class SyncResult:
    mailbox: int
    status: str = "ok"
    fetched: int = 0  # headers read
    stored: int = 0  # customer messages stored
    unknown: int = 0  # messages from senders matching no customer (not stored)
    skipped: int = 0  # already stored
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("mailbox", "status", "fetched", "stored", "unknown", "skipped",
                                               "errors", "seconds")}  # fmt: skip


def quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap_connect(mailbox: Mailbox) -> imaplib.IMAP4:
    try:
        if mailbox.imap_ssl:
            conn = imaplib.IMAP4_SSL(mailbox.imap_host, mailbox.imap_port, ssl_context=ssl.create_default_context(),
                                     timeout=TIMEOUT)
        else:
            conn = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ConnectionError(
            _("Cannot reach the IMAP server %(host)s:%(port)s (%(error)s).")
            % {"host": mailbox.imap_host, "port": mailbox.imap_port, "error": exc}
        ) from exc
    try:
        conn.login(mailbox.username, mailbox.password)
    except imaplib.IMAP4.error as exc:
        try:
            conn.shutdown()
        except OSError:
            pass
        text = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise AuthFailed(text) from exc
    return conn


def _unquote(name: bytes) -> str:
    name = name.strip()
    if name.startswith(b'"') and name.endswith(b'"'):
        name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
    return name.decode("utf-8", errors="replace")


def detect_folders(conn: imaplib.IMAP4) -> dict[str, str]:
    """{"inbox": "INBOX", "sent": <the \\Sent folder>} from LIST (SPECIAL-USE flags first)."""
    typ, data = conn.list()
    found = {FolderRole.INBOX.value: "INBOX"}
    by_name = None
    for line in data or []:
        if isinstance(line, tuple):  # a literal name
            line = line[0] + line[1]
        m = _LIST_RE.match(line or b"")
        if not m:
            continue
        flags = m.group("flags").lower().split()
        name = _unquote(m.group("name"))
        if b"\\noselect" in flags:
            continue
        if b"\\sent" in flags:
            found[FolderRole.SENT.value] = name
        elif by_name is None and name.lower() in SENT_NAMES:
            by_name = name
    if FolderRole.SENT.value not in found and by_name:
        found[FolderRole.SENT.value] = by_name
    return found


def _untagged_int(conn: imaplib.IMAP4, key: str) -> int | None:
    _typ, data = conn.response(key)
    try:
        return int(data[-1]) if data and data[-1] is not None else None
    except (TypeError, ValueError):
        return None


def _fetch_items(data) -> list[tuple[int, int, bytes]]:
    """(uid, size, literal) from an imaplib FETCH answer."""
    out = []
    for item in data or []:
        if not isinstance(item, tuple) or len(item) < 2:
            continue
        meta, literal = item[0], item[1]
        m = _UID_RE.search(meta)
        if not m:
            continue
        s = _SIZE_RE.search(meta)
        out.append((int(m.group(1)), int(s.group(1)) if s else len(literal or b""), literal or b""))
    return out


def _set_status(mailbox: Mailbox, status: str, message: str = "") -> None:
    now = timezone.now()
    fields = {"status": status, "status_message": message[:2000], "status_at": now}
    if status == MailboxStatus.OK:
        fields["last_sync_at"] = now
    Mailbox.objects.filter(pk=mailbox.pk).update(**fields)
    for k, v in fields.items():
        setattr(mailbox, k, v)


def mailbox_sync(mailbox: Mailbox, *, header_batch: int = HEADER_BATCH) -> SyncResult:
    """Sync one mailbox now (the CLI, the task and "Sync now" call this). A paused mailbox is not
    contacted."""
    from . import services

    started = time.monotonic()
    result = SyncResult(mailbox=mailbox.pk)
    if mailbox.paused:
        result.status = "paused"
        return result
    try:
        conn = imap_connect(mailbox)
    except AuthFailed as exc:
        services.mailbox_auth_failed(mailbox, str(exc))
        result.status = MailboxStatus.AUTH_FAILED
        result.errors.append(str(exc))
        return result
    except ConnectionError as exc:
        _set_status(mailbox, MailboxStatus.ERROR, str(exc))
        result.status = MailboxStatus.ERROR
        result.errors.append(str(exc))
        return result
    matcher = Matcher(mailbox.user)
    try:
        for role, name in detect_folders(conn).items():
            folder, _created = MailFolder.objects.get_or_create(mailbox=mailbox, role=role,
                                                                defaults={"name": name})
            if folder.name != name:
                folder.name = name
                folder.save(update_fields=["name"])
            _sync_folder(conn, mailbox, folder, matcher, result, header_batch)
        _set_status(mailbox, MailboxStatus.OK, "")
    except (TimeoutError, OSError, imaplib.IMAP4.error) as exc:
        text = _("The sync stopped: %(error)s. It continues from there on the next run.") % {"error": exc}
        _set_status(mailbox, MailboxStatus.ERROR, text)
        result.status = MailboxStatus.ERROR
        result.errors.append(str(exc))
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _sync_folder(conn, mailbox: Mailbox, folder: MailFolder, matcher: Matcher, result: SyncResult,
                 header_batch: int) -> None:
    from . import services

    typ, data = conn.select(quote(folder.name), readonly=True)
    if typ != "OK":
        result.errors.append(f"{folder.name}: {data}")
        return
    uidvalidity = _untagged_int(conn, "UIDVALIDITY")
    uidnext = _untagged_int(conn, "UIDNEXT")
    if folder.uidvalidity != uidvalidity:
        # renumbered (or first sync): read everything again; stored Message-IDs are skipped
        folder.uidvalidity, folder.last_uid = uidvalidity, 0
    elif uidnext is not None and uidnext - 1 <= folder.last_uid:
        folder.synced_at = timezone.now()
        folder.save(update_fields=["uidvalidity", "last_uid", "synced_at"])
        return
    typ, data = conn.uid("SEARCH", f"UID {folder.last_uid + 1}:*")
    uids = sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > folder.last_uid)
    inbound = folder.role == FolderRole.INBOX
    own = mailbox.email.lower()
    for i in range(0, len(uids), header_batch):
        chunk = uids[i : i + header_batch]
        typ, data = conn.uid("FETCH", f"{chunk[0]}:{chunk[-1]}",
                             f"(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})])")
        heads = [(uid, size, parse_headers(raw)) for uid, size, raw in _fetch_items(data) if uid > folder.last_uid]
        result.fetched += len(heads)
        addresses = set()
        for _uid, _size, h in heads:
            addresses.update([h.from_addr] if inbound else [*h.to, *h.cc])
        matches = matcher.match_many(addresses - {own, ""})
        stored_ids = set(
            MailMessage.objects.filter(mailbox=mailbox, message_id__in=[h.message_id for _u, _s, h in heads])
            .values_list("message_id", flat=True)
        )
        wanted, unknown = [], []
        for uid, size, h in heads:
            if h.message_id in stored_ids:
                result.skipped += 1
                continue
            candidates = [h.from_addr] if inbound else [*h.to, *h.cc]
            match = next((matches[a] for a in candidates if a and a != own and matches.get(a)), None)
            if match is not None:
                wanted.append((uid, size, h, match))
            else:
                result.unknown += 1
                if inbound and h.from_addr and h.from_addr != own:
                    unknown.append(h)
        for group in _body_groups(wanted):
            by_uid = {uid: (h, match) for uid, _size, h, match in group}
            typ, data = conn.uid("FETCH", ",".join(str(u) for u in by_uid), "(UID BODY.PEEK[])")
            with transaction.atomic():
                stored = []
                for uid, _size, raw in _fetch_items(data):
                    if uid not in by_uid:
                        continue
                    _h, match = by_uid.pop(uid)
                    try:
                        with transaction.atomic():
                            stored.append(services.message_store(
                                mailbox=mailbox, raw=raw, uid=uid, match=match, timeline=False,
                                direction=MessageDirection.INBOUND if inbound else MessageDirection.OUTBOUND,
                                folder_role=folder.role,
                            ))  # fmt: skip
                        result.stored += 1
                    except Exception as exc:  # noqa: BLE001 - one bad message must not stop the sync
                        log.exception("mailbox %s uid %s: not stored", mailbox.pk, uid)
                        result.errors.append(f"{folder.name} UID {uid}: {type(exc).__name__}: {exc}"[:300])
                services.timeline_entries_bulk(mailbox.user, stored)
        with transaction.atomic():
            if unknown:
                services.unknown_senders_record(mailbox.user, unknown)
            folder.last_uid = max(folder.last_uid, chunk[-1])
            folder.synced_at = timezone.now()
            folder.save(update_fields=["uidvalidity", "last_uid", "synced_at", "name"])
    folder.synced_at = timezone.now()
    folder.save(update_fields=["uidvalidity", "last_uid", "synced_at", "name"])


def _body_groups(wanted):
    group, size = [], 0
    for item in wanted:
        if group and (size + item[1] > BODY_BATCH_BYTES or len(group) >= BODY_BATCH_MAX):
            yield group
            group, size = [], 0
        group.append(item)
        size += item[1]
    if group:
        yield group

