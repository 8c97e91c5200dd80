"""vCard (.vcf) files — business cards from phones, Outlook, card scanners — read as a table of
contacts, one row per card, so they go through the same mapping and import as a spreadsheet.

Written here rather than with vobject because the files exporters have are mostly vCard 2.1 from
phones: quoted-printable values whose soft line breaks are not folding, raw GB2312/GBK bytes
marked only by a CHARSET parameter, bare TYPE parameters ("TEL;CELL;VOICE:"). 3.0 and 4.0
(folded lines, escaped commas, tel: URIs, IMPP, X-SOCIALPROFILE) are read too.

Row numbers are card numbers (the first card is row 1).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from .readers import FileRejected, Table

_SPLIT = re.compile(r"(?<!\\);")
_COMMA = re.compile(r"(?<!\\),")
_SKIP = frozenset(
    {"PHOTO", "LOGO", "SOUND", "KEY", "X-ANDROID-CUSTOM", "UID", "PRODID", "REV", "SOURCE", "CLIENTPIDMAP"}
)


@dataclass
class Card:
    number: int
    line: int  # where BEGIN:VCARD is
    full_name: str = ""
    first_name: str = ""
    last_name: str = ""
    organization: str = ""
    department: str = ""
    title: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    whatsapp: str = ""
    wechat: str = ""
    skype: str = ""
    linkedin: str = ""
    website: str = ""
    address: str = ""
    country: str = ""
    birthday: str = ""
    notes: list[str] = field(default_factory=list)


def _unescape(text: str) -> str:
    return (
        text.replace("\\n", "\n")
        .replace("\\N", "\n")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\")
    ).strip()


def _parts(text: str) -> list[str]:
    return [_unescape(p) for p in _SPLIT.split(text)]


def _params(raw: list[str]) -> tuple[dict[str, str], set[str]]:
    """NAME=value parameters, and the bare ones and TYPE values as a set of types (upper case)."""
    params: dict[str, str] = {}
    types: set[str] = set()
    for p in raw:
        if "=" in p:
            k, v = p.split("=", 1)
            k, v = k.strip().upper(), v.strip().strip('"')
            if k == "TYPE":
                types.update(t.strip().upper() for t in v.split(",") if t.strip())
            else:
                params[k] = v
        elif p.strip():
            types.add(p.strip().upper())
    if "QUOTED-PRINTABLE" in types:
        params.setdefault("ENCODING", "QUOTED-PRINTABLE")
    if "BASE64" in types or "B" in types:
        params.setdefault("ENCODING", "B")
    return params, types


def _file_encoding(data: bytes) -> tuple[str, bytes]:
    """(encoding of 8-bit text without a CHARSET, the bytes as UTF-8 when the file is UTF-16)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-8", data.decode("utf-16").encode("utf-8")
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", data[3:]
    if data[:2000].count(b"\x00") > 100:  # UTF-16 without a BOM
        enc = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        return "utf-8", data.decode(enc, errors="replace").encode("utf-8")
    try:
        data.decode("utf-8")
        return "utf-8", data
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "gb18030", data
    except UnicodeDecodeError:
        return "cp1252", data


def _logical_lines(data: bytes) -> list[tuple[int, bytes]]:
    """(line number, unfolded line): folding (CRLF + space/tab) removed, and quoted-printable
    soft line breaks ("=" at the end of a line) joined."""
    raw = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    out: list[tuple[int, bytes]] = []
    qp_open = False
    for number, line in enumerate(raw, 1):
        if out and line[:1] in (b" ", b"\t") and not qp_open:
            out[-1] = (out[-1][0], out[-1][1] + line[1:])
            continue
        if qp_open and out:
            out[-1] = (out[-1][0], out[-1][1][:-1] + line.lstrip())
        else:
            if not line.strip():
                continue
            out.append((number, line))
        current = out[-1][1]
        head = current.split(b":", 1)[0].upper()
        qp_open = b"QUOTED-PRINTABLE" in head and current.endswith(b"=") and b":" in current
    return out


def _decode_value(value: bytes, params: dict[str, str], default: str) -> str:
    encoding = params.get("ENCODING", "").upper()
    if encoding in ("QUOTED-PRINTABLE", "QP"):
        value = quopri.decodestring(value)
    elif encoding in ("B", "BASE64"):
        try:
            value = base64.b64decode(value + b"=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            return ""
    charset = params.get("CHARSET", "")
    try:
        codecs.lookup(charset or "utf-8")
    except LookupError:
        charset = ""
    if charset.lower().replace("-", "") in ("gb2312", "gbk"):
        charset = "gb18030"  # a superset: phones label GBK text GB2312
    # Without a CHARSET each value is tried as UTF-8 first: files joined from several phones
    # mix UTF-8 cards with GBK ones.
    for candidate in (charset, "utf-8", default) if charset else ("utf-8", default):
        try:
            return value.decode(candidate)
        except UnicodeDecodeError:
            continue
    return value.decode(charset or default, errors="replace")


def parse_vcards(data: bytes, *, filename: str = "", encoding: str = "") -> list[Card]:
    """The cards in `data`. `encoding` is for 8-bit text without a CHARSET (found when not
    given); every such value is tried as UTF-8 first."""
    default, data = _file_encoding(data)
    if encoding and not encoding.lower().replace("-", "").startswith(("utf16", "utf32")):
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise FileRejected(
                _("“%(enc)s” is not an encoding we know.") % {"enc": encoding}, code="encoding"
            ) from None
        default = encoding
    cards: list[Card] = []
    card: Card | None = None
    nested = 0
    for line_no, line in _logical_lines(data):
        if b":" not in line:
            continue
        head, value = line.split(b":", 1)
        try:
            head_text = head.decode("ascii").strip()
        except UnicodeDecodeError:
            head_text = head.decode(default, errors="replace").strip()
        pieces = head_text.split(";")
        name = pieces[0].rsplit(".", 1)[-1].upper()  # "item1.EMAIL" → EMAIL
        if name == "BEGIN" and value.strip().upper() == b"VCARD":
            if card is not None:  # a card inside a card (vCard 2.1 AGENT): skipped
                nested += 1
                continue
            card = Card(number=len(cards) + 1, line=line_no)
            continue
        if card is None:
            continue
        if name == "END" and value.strip().upper() == b"VCARD":
            if nested:
                nested -= 1
                continue
            cards.append(card)
            card = None
            continue
        if nested:
            continue
        if name in _SKIP:
            continue
        params, types = _params(pieces[1:])
        text = _decode_value(value, params, default)
        _apply(card, name, text, params, types)
    if card is not None:
        raise _cut(filename, card)
    return cards


def _cut(filename: str, card: Card) -> FileRejected:
    return FileRejected(
        _(
            "“%(name)s” is cut off: card %(card)d (from line %(line)d) has no END:VCARD. "
            "Export the cards again and upload the whole file."
        )
        % {"name": filename, "card": card.number, "line": card.line},
        code="truncated",
    )


def _add(items: list[str], value: str) -> None:
    value = value.strip()
    if value and value not in items:
        items.append(value)


def _birthday(text: str) -> str:
    """BDAY as YYYY-MM-DD, or "" when it has no year ("--0412") or is not a date."""
    text = text.strip()
    digits = text.replace("-", "")[:8]
    if text.startswith("--") or len(digits) < 8 or not digits.isdigit():
        return ""
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"


def _apply(card: Card, name: str, text: str, params: dict[str, str], types: set[str]) -> None:
    if name == "FN":
        card.full_name = _unescape(text)
    elif name == "N":
        parts = _parts(text) + [""] * 5
        card.last_name, card.first_name = parts[0], " ".join(p for p in (parts[1], parts[2]) if p)
    elif name == "ORG":
        parts = _parts(text)
        card.organization = parts[0] if parts else ""
        card.department = " / ".join(p for p in parts[1:] if p)
    elif name in ("TITLE", "ROLE"):
        if not card.title:
            card.title = _unescape(text)
    elif name == "EMAIL":
        for value in _COMMA.split(text):
            _add(card.emails, _unescape(value).removeprefix("mailto:"))
    elif name == "TEL":
        value = _unescape(text).removeprefix("tel:")
        if "WHATSAPP" in types:
            card.whatsapp = card.whatsapp or value
        _add(card.phones, value)
    elif name == "ADR":
        parts = _parts(text) + [""] * 7
        card.address = card.address or ", ".join(p for p in parts[:6] if p)
        card.country = card.country or parts[6]
    elif name == "URL":
        url = _unescape(text)
        if "linkedin.com" in url.lower():
            card.linkedin = card.linkedin or url
        else:
            card.website = card.website or url
    elif name == "NOTE":
        _add(card.notes, _unescape(text))
    elif name == "BDAY":
        card.birthday = _birthday(_unescape(text))
    elif name in ("X-WECHAT", "X-WEIXIN"):
        card.wechat = card.wechat or _unescape(text)
    elif name in ("X-SKYPE", "X-SKYPE-USERNAME", "X-SKYPE-ID"):
        card.skype = card.skype or _unescape(text)
    elif name == "X-WHATSAPP":
        card.whatsapp = card.whatsapp or _unescape(text)
    elif name in ("X-LINKEDIN",):
        card.linkedin = card.linkedin or _unescape(text)
    elif name == "X-SOCIALPROFILE":
        value = _unescape(text)
        if "LINKEDIN" in types or "linkedin.com" in value.lower():
            card.linkedin = card.linkedin or value
        elif "SKYPE" in types:
            card.skype = card.skype or value
    elif name in ("IMPP", "X-MS-IMADDRESS"):
        value = _unescape(text)
        scheme, _sep, rest = value.partition(":")
        service = (params.get("X-SERVICE-TYPE", "") or scheme).lower()
        handle = rest if rest else value
        if "skype" in service:
            card.skype = card.skype or handle
        elif "wechat" in service or "weixin" in service:
            card.wechat = card.wechat or handle
        elif "whatsapp" in service:
            card.whatsapp = card.whatsapp or handle


def vcard_table(path: Path, *, filename: str, encoding: str = "") -> Table:
    """The cards of a .vcf file as a table: name, company, title, one column per e-mail and
    phone (as many as the fullest card has), messengers, website, address, birthday, notes."""
    data = Path(path).read_bytes()
    detected = encoding or _file_encoding(data)[0]
    cards = parse_vcards(data, filename=filename, encoding=encoding)
    if not cards:
        raise FileRejected(
            _("“%(name)s” holds no vCard (no BEGIN:VCARD … END:VCARD).") % {"name": filename}, code="empty"
        )
    emails = max(1, max(len(c.emails) for c in cards))
    phones = max(1, max(len(c.phones) for c in cards))
    headers = [
        "Full name", "First name", "Last name", "Company", "Department", "Job title",
        *(f"E-mail {i + 1}" for i in range(emails)), *(f"Phone {i + 1}" for i in range(phones)),
        "WhatsApp", "WeChat", "Skype", "LinkedIn", "Website", "Address", "Country", "Birthday", "Notes",
    ]  # fmt: skip
    records = []
    for c in cards:
        cells = [
            c.full_name or " ".join(p for p in (c.first_name, c.last_name) if p), c.first_name, c.last_name,
            c.organization, c.department, c.title,
            *(c.emails + [""] * (emails - len(c.emails))), *(c.phones + [""] * (phones - len(c.phones))),
            c.whatsapp, c.wechat, c.skype, c.linkedin, c.website, c.address, c.country, c.birthday,
            "\n".join(c.notes),
        ]  # fmt: skip
        if any(x.strip() for x in cells):
            records.append((c.number, cells))
    if not records:
        raise FileRejected(_("“%(name)s” holds only empty cards.") % {"name": filename}, code="empty")
    return Table(
        kind="vcf",
        encoding=detected,
        delimiter="",
        sheet="",
        sheets=[],
        header_row=0,
        headers=headers,
        total_rows=len(records),
        path=Path(path),
        filename=filename,
        _records=records,
    )
