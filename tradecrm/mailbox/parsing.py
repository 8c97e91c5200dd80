"""Reading raw messages with the standard library's `email` package (policy.default), never
crashing on what real mailboxes contain: unknown or wrong charsets, broken MIME, headers that do not
parse, no From, no Message-ID, no Date. What could not be read is listed in `problems`."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address  # noqa: F401  (documented type of parsed addresses)
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from django.utils import timezone

_PARSER = BytesParser(policy=policy.default)
_HEADER_PARSER = BytesHeaderParser(policy=policy.default)
_MSGID = re.compile(r"<[^<>\s]+>")
HEADER_FIELDS = "FROM TO CC DATE SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES"


@dataclass
class Parsed:
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    from_addr: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str = ""
    date: dt.datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[dict] = field(default_factory=list)  # name, content_type, data
    problems: list[str] = field(default_factory=list)


def _header(msg, name: str, problems: list[str]) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a header the parser cannot model: take its raw text
        problems.append(f"header {name} unreadable")
        raw = msg.get_all(name, failobj=[], ) if hasattr(msg, "get_all") else []
        value = raw[0] if raw else ""
    if value is None:
        return ""
    try:
        return str(value).strip()
    except Exception:  # noqa: BLE001
        problems.append(f"header {name} unreadable")
        return ""


def _addresses(text: str) -> list[tuple[str, str]]:
    out = []
    for name, addr in getaddresses([text]):
        addr = addr.strip().lower()
        if "@" in addr and " " not in addr and len(addr) <= 254:
            out.append((name.strip(), addr))
    return out


def message_ids(text: str) -> list[str]:
    return _MSGID.findall(text or "")[:100]


def synthetic_message_id(raw_headers: bytes) -> str:
    """For a message without a Message-ID: stable across syncs (a hash of its headers)."""
    return f"<{hashlib.sha256(raw_headers).hexdigest()[:40]}@no-message-id.tradecrm>"


def _fill_headers(p: Parsed, msg, raw_for_id: bytes) -> None:
    problems = p.problems
    froms = _addresses(_header(msg, "From", problems))
    if froms:
        p.from_name, p.from_addr = froms[0]
    else:
        problems.append("no sender address")
    p.to = [a for _n, a in _addresses(_header(msg, "To", problems))]
    p.cc = [a for _n, a in _addresses(_header(msg, "Cc", problems))]
    p.subject = " ".join(_header(msg, "Subject", problems).split())[:255]
    mid = message_ids(_header(msg, "Message-ID", problems))
    p.message_id = mid[0][:255] if mid else synthetic_message_id(raw_for_id)
    irt = message_ids(_header(msg, "In-Reply-To", problems))
    p.in_reply_to = irt[0][:255] if irt else ""
    p.references = [r[:255] for r in message_ids(_header(msg, "References", problems))]
    date = _header(msg, "Date", problems)
    if date:
        try:
            d = parsedate_to_datetime(date)
            if d.tzinfo is None:
                d = d.replace(tzinfo=dt.UTC)
            p.date = d
        except (TypeError, ValueError, IndexError, OverflowError):
            problems.append("unreadable date")


def parse_headers(raw: bytes) -> Parsed:
    """Only the headers (what the sync fetches first, to decide whether a message is a customer's)."""
    p = Parsed()
    try:
        msg = _HEADER_PARSER.parsebytes(raw)
    except Exception:  # noqa: BLE001
        p.problems.append("headers unreadable")
        p.message_id = synthetic_message_id(raw)
        return p
    _fill_headers(p, msg, raw)
    return p


def _decode_part(part, problems: list[str]) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, ValueError, KeyError) as exc:
        # unknown charset ("x-unknown"), wrong one, or a broken transfer encoding
        charset = part.get_content_charset() or "?"
        problems.append(f"part {part.get_content_type()} in charset {charset}: {type(exc).__name__}")
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:  # noqa: BLE001
        return ""
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def parse_message(raw: bytes) -> Parsed:
    """Headers, text and HTML bodies, and attachments (name, content_type, data) of a message."""
    p = Parsed()
    try:
        msg: EmailMessage = _PARSER.parsebytes(raw)
    except Exception:  # noqa: BLE001
        p.problems.append("message unreadable")
        p.message_id = synthetic_message_id(raw[:8192])
        p.text = raw[:200_000].decode("utf-8", errors="replace")
        return p
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        head_end = raw.find(b"\n\n")
    _fill_headers(p, msg, raw[: head_end if head_end > 0 else 8192])
    for d in getattr(msg, "defects", [])[:5]:
        p.problems.append(f"MIME: {type(d).__name__}")
    texts, htmls = [], []
    try:
        parts = list(msg.walk())
    except Exception:  # noqa: BLE001
        parts = [msg]
        p.problems.append("MIME structure unreadable")
    for part in parts[:500]:
        try:
            if part.is_multipart():
                continue
            ctype = part.get_content_type()
            disposition = part.get_content_disposition()
            filename = part.get_filename()
        except Exception:  # noqa: BLE001
            p.problems.append("MIME part unreadable")
            continue
        if disposition == "attachment" or filename or ctype not in ("text/plain", "text/html"):
            if ctype.startswith("multipart/"):
                continue
            try:
                data = part.get_payload(decode=True) or b""
            except Exception:  # noqa: BLE001
                p.problems.append(f"attachment {filename or ctype} unreadable")
                continue
            if not data:
                continue
            p.attachments.append({"name": (filename or _default_name(ctype))[:255], "content_type": ctype,
                                  "data": data})
            continue
        (htmls if ctype == "text/html" else texts).append(_decode_part(part, p.problems))
    p.text = "\n\n".join(t for t in texts if t).strip()
    p.html = "\n".join(h for h in htmls if h).strip()
    return p


def _default_name(ctype: str) -> str:
    ext = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "message/rfc822": "eml"}.get(ctype, "bin")
    return f"attachment.{ext}"


def when(p: Parsed, fallback: dt.datetime | None = None) -> dt.datetime:
    """The message's time, never in the future (a wrong clock of the sender)."""
    now = timezone.now()
    d = p.date or fallback or now
    return min(d, now)
