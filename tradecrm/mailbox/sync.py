"""Incremental IMAP sync of one mailbox (stdlib imaplib).

Per folder (INBOX, and the folder marked \\Sent by SPECIAL-USE, else a folder named like one):
SELECT read-only, compare UIDVALIDITY and UIDNEXT with what was stored (nothing new: done, one
round trip), then UID SEARCH above the last UID, FETCH the headers of 500 messages at a time,
match their addresses to customers, FETCH BODY.PEEK[] only of the matched ones (up to 500 or
16 MB per round trip) and store each such group in one transaction with a few bulk statements
(`services.messages_store_batch`; if a group fails, its messages are stored one by one so that a
bad one costs only itself). The folder's last UID moves with each committed batch, so an
interrupted sync resumes where it stopped and a message is never imported twice (Message-ID is
unique per mailbox as well). `SyncResult.phases` tells where the time went.

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

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.campaigns.bounces import handle_possible_bounces  # campaigns' hook (bounces)

from .matching import Matcher
from .models import FolderRole, Mailbox, MailboxStatus, MailFolder, MailMessage, MessageDirection
from .parsing import HEADER_FIELDS, parse_headers

log = logging.getLogger(__name__)

HEADER_BATCH = 500
BODY_BATCH_BYTES = 16 * 1024 * 1024
BODY_BATCH_MAX = 500
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
    # where the time went: imap (sign-in, LIST, SELECT, FETCH), parse (headers, whole messages,
    # HTML cleaning), match (addresses to customers, Message-IDs already stored, the bounce
    # check), db (storing messages, files, timeline entries, unknown senders)
    phases: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("imap", "parse", "match", "db"), 0.0))

    def add(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.phases[phase] += now - since
        return now

    def as_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("mailbox", "status", "fetched", "stored", "unknown", "skipped",
                                              "errors", "seconds")}  # fmt: skip
        out["phases"] = {k: round(v, 3) for k, v in self.phases.items()}
        return out


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
    t = time.perf_counter()
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
    mapped = None
    try:
        mapped = _map_less()
        folders = detect_folders(conn)
        result.add("imap", t)  # sign-in and LIST
        for role, name in folders.items():
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
        _map_again(mapped)
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    result.seconds = round(time.monotonic() - started, 3)
    return result


# A first sync writes tens of thousands of messages and reads few pages back: SQLite's memory map
# of the database file (settings: up to 1 GB, for the list and search pages) would only add the
# written file to the worker's resident memory (~180 MB of 330 MB at 50,000 messages), so the
# sync runs with a small map and restores the connection's setting afterwards.
SYNC_MMAP_BYTES = 64 * 1024 * 1024


def _map_less() -> int | None:
    if connection.vendor != "sqlite":
        return None
    try:
        with connection.cursor() as cur:
            cur.execute("PRAGMA mmap_size")
            row = cur.fetchone()  # no row: an in-memory database, nothing is mapped
            if row is None or row[0] <= SYNC_MMAP_BYTES:
                return None
            cur.execute(f"PRAGMA mmap_size={SYNC_MMAP_BYTES}")
        return row[0]
    except DatabaseError:
        return None


def _map_again(before: int | None) -> None:
    if before is None:
        return
    try:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA mmap_size={int(before)}")
    except DatabaseError:
        pass


def _sync_folder(conn, mailbox: Mailbox, folder: MailFolder, matcher: Matcher, result: SyncResult,
                 header_batch: int) -> None:
    from . import services

    t = time.perf_counter()
    typ, data = conn.select(quote(folder.name), readonly=True)
    result.add("imap", t)
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
        t = time.perf_counter()
        typ, data = conn.uid("FETCH", f"{chunk[0]}:{chunk[-1]}",
                             f"(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})])")
        t = result.add("imap", t)
        heads = [(uid, size, parse_headers(raw)) for uid, size, raw in _fetch_items(data) if uid > folder.last_uid]
        t = result.add("parse", t)
        result.fetched += len(heads)
        if inbound:  # campaigns: delivery reports (bounces) and mailto unsubscribes, read by tradecrm.campaigns
            handle_possible_bounces(conn, mailbox, heads)
        addresses = set()
        for _uid, _size, h in heads:
            addresses.update([h.from_addr] if inbound else [*h.to, *h.cc])
        matches = matcher.match_many(addresses - {own, ""})
        stored_ids = set(
            MailMessage.objects.filter(mailbox=mailbox, message_id__in=[h.message_id for _u, _s, h in heads])
            .values_list("message_id", flat=True)
        )
        t = result.add("match", t)
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
        direction = MessageDirection.INBOUND if inbound else MessageDirection.OUTBOUND
        for group in _body_groups(wanted):
            by_uid = {uid: match for uid, _size, _h, match in group}
            t = time.perf_counter()
            typ, data = conn.uid("FETCH", ",".join(str(u) for u in by_uid), "(UID BODY.PEEK[])")
            result.add("imap", t)
            items = [(uid, raw, by_uid.pop(uid)) for uid, _size, raw in _fetch_items(data) if uid in by_uid]
            del data
            _store_group(mailbox, folder, items, direction, result)
            del items
        t = time.perf_counter()
        with transaction.atomic():
            if unknown:
                services.unknown_senders_record(mailbox.user, unknown)
            folder.last_uid = max(folder.last_uid, chunk[-1])
            folder.synced_at = timezone.now()
            folder.save(update_fields=["uidvalidity", "last_uid", "synced_at", "name"])
        result.add("db", t)
    folder.synced_at = timezone.now()
    folder.save(update_fields=["uidvalidity", "last_uid", "synced_at", "name"])


def _store_group(mailbox: Mailbox, folder: MailFolder, items, direction: str, result: SyncResult) -> None:
    """One transaction for a group of customer messages; if the batch fails, each message is
    stored on its own (a savepoint each), so one bad message is reported and the others kept."""
    from . import services

    t = time.perf_counter()
    try:
        with transaction.atomic():
            done = services.messages_store_batch(mailbox=mailbox, items=items, direction=direction,
                                                 folder_role=folder.role)  # fmt: skip
            _mail_received(done.stored)
        result.stored += len(done.stored)
        result.skipped += done.skipped
        result.add("db", t)
        result.phases["db"] -= done.parse_seconds
        result.phases["parse"] += done.parse_seconds
        return
    except Exception:  # noqa: BLE001 - find the message at fault below
        log.warning("mailbox %s: a batch of %s messages failed, storing them one by one", mailbox.pk, len(items))
    for uid, raw, match in items:
        try:
            with transaction.atomic():
                stored = services.message_store(mailbox=mailbox, raw=raw, uid=uid, match=match, direction=direction,
                                                folder_role=folder.role)  # fmt: skip
                if stored is not None:
                    _mail_received([stored])
            if stored is None:
                result.skipped += 1
            else:
                result.stored += 1
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the sync
            log.exception("mailbox %s uid %s: not stored", mailbox.pk, uid)
            result.errors.append(f"{folder.name} UID {uid}: {type(exc).__name__}: {exc}"[:300])


def _mail_received(stored) -> None:
    """Automation's "mail received from a customer" for the customers' inbound messages, queued
    after the commit; a thread marked private stays out of it as it stays off the timeline."""
    from tradecrm.automation.events import emit_mail_received

    from .services import enters_the_crm

    emit_mail_received([m for m in stored if m.direction == MessageDirection.INBOUND and enters_the_crm(m)])


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

