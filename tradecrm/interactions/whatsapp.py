"""Reading chats exported from the WhatsApp app ("Export chat"): the `.txt` file, or the `.zip` that
holds it with the media files. Pure functions, no Django: the import service
(`whatsapp_services.py`) turns the parsed messages into timeline entries.

Formats read (the app writes the date and clock in the phone's regional format):

    Android   12/31/23, 9:41 PM - Name: text          31/12/2023, 21:41 - Name: text
              31.12.23, 21:41 - Name: text             (German phones; recent Android puts U+202F
                                                        between the time and AM/PM)
    iOS       [31/12/2023, 21:41:05] Name: text        [12/31/23, 9:41:05 PM] Name: text
              (iOS starts attachment and system lines with U+200E and wraps phone numbers in
               U+202A/U+202C)
    Chinese   2023/12/31 下午9:41 - Name: text          [2023/12/31 21:41:05] Name: text

A line that does not start a message continues the previous one (multi-line messages). The
first non-empty line must start a message; a file whose first line does not, or a message whose
date cannot exist, is refused with `WhatsAppFormatError` naming that line, and nothing is read.

Day/month order is decided per file from all its dates: a first field above 12 means day first,
a second field above 12 means month first. A file where neither happens (every date has day and
month at most 12) uses the caller's default and reports `date_order_ambiguous`.

System lines (the encryption notice, "X added Y", "X changed the group description", deleted
messages, missed-call notes) carry no conversation: they are marked `system=True` and the
import service keeps them out of the timeline and only counts them.

Media: `<Media omitted>` / "image omitted" / `<省略影音内容>` (exported without media) set
`media_omitted`; `IMG-20231231-WA0001.jpg (file attached)` (Android) and
`<attached: 00000012-PHOTO-...jpg>` (iOS) name the file in the zip, in `media`.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field

# Characters the app inserts that a reader never sees: left-to-right/right-to-left marks and
# embeddings, isolates, the byte-order mark.
_INVISIBLE = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_DROP_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE))
_SPACES = {0x00A0: " ", 0x202F: " ", 0x2007: " ", 0x2009: " "}

_SP = r"[ \u00a0\u202f\u2007\u2009]"
_DATE = r"(?P<d1>\d{1,4})(?P<sep>[./-])(?P<d2>\d{1,2})(?P=sep)(?P<d3>\d{1,4})\.?"
_TIME = (
    rf"(?P<zh>上午|下午|中午|晚上|凌晨|早上)?{_SP}?"
    rf"(?P<h>\d{{1,2}})[:.](?P<mi>\d{{2}})(?:[:.](?P<s>\d{{2}}))?"
    rf"(?:{_SP}*(?P<ampm>[AaPp]\.?{_SP}?[Mm]\.?))?"
)
_ZH_PM = {"下午", "晚上"}
ANDROID_LINE = re.compile(rf"^{_DATE},?{_SP}+{_TIME}{_SP}*[-\u2013]{_SP}(?P<rest>.*)$")
IOS_LINE = re.compile(rf"^\[{_DATE},?{_SP}+{_TIME}\]{_SP}?(?P<rest>.*)$")
FORMATS = {"android": ANDROID_LINE, "ios": IOS_LINE}

# Media markers: English, German and Chinese wording, and the file names the app gives media.
# iOS names every file of an export NNNNNNNN-…: "<attached: 00000012-PHOTO-….jpg>", "<附件：00000012-…>"
_IOS_ATTACHED = re.compile(r"<[^<>:：\n]{1,30}[:：]\s*(?P<name>\d{8}-[^<>\n]+?)\s*>")
# Android's own media names (IMG-20231231-WA0001.jpg) followed by "(file attached)" in any language
_ANDROID_MEDIA_NAME = re.compile(
    r"^(?P<name>(?:IMG|VID|AUD|PTT|DOC|STK|PHOTO|VIDEO)-\d{8}-WA\d+\.\w{1,6})\s*\([^()\n]{2,40}\)$"
)
_ANDROID_ATTACHED = re.compile(
    r"^(?P<name>[^\n]+?\.[A-Za-z0-9]{1,6})\s+\((?:file attached|Datei angehängt|archivo adjunto|fichier joint|"
    r"arquivo anexado)\)$",
    re.I,
)
_OMITTED = re.compile(
    r"^(?:<(?:Media omitted|Medien ausgeschlossen|Medien weggelassen|Multimedia omitido)>|<[^<>]*(?:省略|忽略)[^<>]*>|"
    r"(?:图片|视频|音频|贴图|文档|GIF|联系人名片)(?:已省略|已忽略)|"
    r"(?:.*\s)?(?:image|video|audio|sticker|GIF|document|Contact card|Bild|Dokument|Kontaktkarte)"
    r"\s+(?:omitted|weggelassen))$",
    re.I,
)
_EDITED = re.compile(r"\s*<(?:This message was edited|Diese Nachricht wurde bearbeitet)>\s*$", re.I)
_DELETED = re.compile(
    r"^(?:This message was deleted\.?|You deleted this message\.?|Diese Nachricht wurde gelöscht\.?|"
    r"Du hast diese Nachricht gelöscht\.?|此消息已删除|你删除了此消息)$",
    re.I,
)
_ENCRYPTION = re.compile(
    r"^(?:Messages and calls are end-to-end encrypted|Messages to this (?:chat|group) and calls are now secured"
    r"|Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt|消息和通话已进行端到端加密)",
    re.I,
)
_QUOTES = '"“”„«»'
MAX_SENDER = 60  # longer "names" before a colon are system lines such as a changed group subject

DMY, MDY, YMD = "DMY", "MDY", "YMD"


class WhatsAppImportError(ValueError):
    """An export that cannot be read. `code` says why; the service turns it into a translated message."""

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(f"{code}: {params}")


class WhatsAppFormatError(WhatsAppImportError):
    """The text is not a WhatsApp export we can read; `line` (1-based) and `content` name the first
    unreadable line."""

    def __init__(self, code: str, line: int, content: str, **params):
        self.line = line
        self.content = content
        super().__init__(code, line=line, content=content, **params)

    def __str__(self) -> str:
        return f"line {self.line} is not a WhatsApp message ({self.code}): {self.content!r}"


@dataclass
class ChatMessage:
    line: int  # where the message starts in the file, 1-based
    at: dt.datetime  # naive, in the time zone of the exporting phone
    sender: str  # as the exporting phone showed it ("" for system lines without one)
    text: str
    media: str = ""  # the file that came with the message in the .zip
    media_omitted: bool = False
    system: bool = False


@dataclass
class ParsedChat:
    messages: list[ChatMessage]
    format: str  # "android" or "ios"
    date_order: str  # "DMY", "MDY" or "YMD"
    date_order_ambiguous: bool = False

    @property
    def conversation(self) -> list[ChatMessage]:
        return [m for m in self.messages if not m.system]

    @property
    def system_lines(self) -> int:
        return sum(1 for m in self.messages if m.system)


def clean_name(raw: str) -> str:
    """A sender as a person reads it: no invisible marks, ordinary spaces, single-spaced."""
    return " ".join(raw.translate(_DROP_INVISIBLE).translate(_SPACES).split())


# The same few senders head every message: clean each spelling once.
_clean_sender = functools.lru_cache(maxsize=2048)(clean_name)


def _strip_lead(text: str) -> str:
    return text.lstrip(_INVISIBLE)


def decode_text(data: bytes) -> str:
    """UTF-8 with or without a byte-order mark. Invalid bytes are a format error on their line.
    NUL characters are dropped: no chat has them and PostgreSQL refuses them in text."""
    try:
        if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
            return data.decode("utf-16").replace("\x00", "")
        return data.decode("utf-8-sig").replace("\x00", "")
    except UnicodeDecodeError as exc:
        if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
            raise WhatsAppFormatError("encoding", 1, "") from None
        line = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        end = data.find(b"\n", exc.start)
        content = data[start : end if end >= 0 else len(data)].decode("utf-8", "replace")
        raise WhatsAppFormatError("encoding", line, content.strip()[:200]) from None


_NEWLINES = re.compile(r"\r\n|\r|\n")


@dataclass
class _Raw:
    line: int
    raw: str
    m: re.Match
    lines: list[str] = field(default_factory=list)

    @property
    def content(self) -> str:
        return clean_name(self.raw)[:200]


def _year(raw: str) -> int | None:
    if len(raw) == 2:
        return 2000 + int(raw)
    if len(raw) == 4:
        return int(raw)
    return None


def _date_fields(m: re.Match, order: str) -> tuple[int | None, int, int]:
    d1, d2, d3 = m["d1"], m["d2"], m["d3"]
    if order == YMD:
        return _year(d1), int(d2), int(d3)
    day, month = (int(d1), int(d2)) if order == DMY else (int(d2), int(d1))
    return _year(d3), month, day


def _timestamp(raw: _Raw, order: str) -> dt.datetime:
    m = raw.m
    if (len(m["d1"]) == 4) != (order == YMD) or len(m["d1"]) == 3:
        raise WhatsAppFormatError("date", raw.line, raw.content)
    year, month, day = _date_fields(m, order)
    hour, minute, second = int(m["h"]), int(m["mi"]), int(m["s"] or 0)
    if m["ampm"] or m["zh"]:
        if not 1 <= hour <= 12:
            raise WhatsAppFormatError("time", raw.line, raw.content)
        if m["zh"] == "中午":  # around noon: 11:30, 12:15, 1:00 (13:00)
            hour = hour if hour >= 11 else hour + 12
        else:
            pm = m["zh"] in _ZH_PM if m["zh"] else m["ampm"].lstrip()[0] in "Pp"
            hour = hour % 12 + (12 if pm else 0)
    try:
        if year is None:
            raise ValueError
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise WhatsAppFormatError("date", raw.line, raw.content) from None


def _decide_order(raws: list[_Raw], forced: str | None, default: str) -> tuple[str, bool]:
    """The day/month order of the file (see the module docstring) and whether it was undecidable."""
    if forced:
        return forced, False
    if all(len(r.m["d1"]) == 4 for r in raws):
        return YMD, False
    day_first = next((r for r in raws if int(r.m["d1"]) > 12 and len(r.m["d1"]) <= 2), None)
    month_first = next((r for r in raws if int(r.m["d2"]) > 12), None)
    if day_first and month_first:
        # one file cannot hold both: the later of the two is the line that contradicts the rest
        bad = max(day_first, month_first, key=lambda r: r.line)
        raise WhatsAppFormatError("date_order", bad.line, bad.content)
    if day_first:
        return DMY, False
    if month_first:
        return MDY, False
    return default, True


def _split_sender(fmt: str, rest: str) -> tuple[str, str, bool]:
    """(sender, text, system) of a message line's remainder."""
    head, sep, text = rest.partition(": ")
    if not sep:
        if rest.endswith(":"):  # "Name:" followed by a message that starts on the next line
            head, sep, text = rest[:-1], ":", ""
        else:
            return "", _strip_lead(rest), True
    sender = _clean_sender(head)
    if not sender or len(sender) > MAX_SENDER or any(q in head for q in _QUOTES):
        return "", _strip_lead(rest), True
    if head.startswith("\u200e") and fmt == "ios":
        return "", _strip_lead(rest), True  # iOS marks its own notes with U+200E at the start
    return sender, text, False


def _classify(msg: ChatMessage, fmt: str) -> None:
    """Media markers and system notes in a message's text."""
    text = msg.text
    first, _nl, more = text.partition("\n")
    lead_marked = first != _strip_lead(first)
    first = _strip_lead(first)
    plain = clean_name(first)
    m = _IOS_ATTACHED.search(first)
    if m:
        msg.media = posixpath.basename(clean_name(m["name"]))
        first = clean_name(first[: m.start()] + first[m.end() :])
    elif (m := _ANDROID_ATTACHED.match(plain) or _ANDROID_MEDIA_NAME.match(plain)) is not None:
        msg.media = posixpath.basename(m["name"])
        first = ""
    elif _OMITTED.match(plain):
        msg.media_omitted = True
        first = ""
    elif _DELETED.match(plain) or _ENCRYPTION.match(first):
        msg.system = True
    elif lead_marked and fmt == "ios" and not first.lower().startswith("location:"):
        # iOS marks its notes in a chat ("‎Missed voice call", "‎Messages and calls are end-to-end
        # encrypted", "‎You blocked this contact") with U+200E; people's messages never start with it.
        msg.system = True
    if not msg.system:
        text = "\n".join(p for p in (first, more) if p)
    text = "\n".join(_strip_lead(line) for line in text.split("\n"))
    msg.text = _EDITED.sub("", text).strip()


def parse_chat(text: str, *, date_order: str | None = None, default_order: str = DMY) -> ParsedChat:
    """Parse the text of an export. `date_order` forces DMY/MDY/YMD; otherwise the file decides and
    `default_order` is used when it cannot."""
    lines = _NEWLINES.split(text)
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    fmt = ""
    pattern: re.Pattern | None = None
    raws: list[_Raw] = []
    for no, line in enumerate(lines, 1):
        bare = _strip_lead(line)
        if pattern is None:
            if not bare.strip():
                continue
            for name, candidate in FORMATS.items():
                m = candidate.match(bare)
                if m:
                    fmt, pattern = name, candidate
                    break
            else:
                raise WhatsAppFormatError("first_line", no, clean_name(line)[:200])
        else:
            m = pattern.match(bare)
        if m:
            raws.append(_Raw(no, line, m, [m["rest"]]))
        else:
            raws[-1].lines.append(line)
    if not raws:
        raise WhatsAppFormatError("empty", 1, "")
    order, ambiguous = _decide_order(raws, date_order, default_order)
    messages = []
    for raw in raws:
        at = _timestamp(raw, order)
        body = "\n".join(raw.lines).rstrip()
        sender, first, system = _split_sender(fmt, raw.lines[0])
        if not system:
            body = "\n".join([first, *raw.lines[1:]]).rstrip()
        msg = ChatMessage(line=raw.line, at=at, sender=sender, text=body, system=system)
        if not system:
            _classify(msg, fmt)
        else:
            msg.text = clean_name(body) if "\n" not in body else body.translate(_DROP_INVISIBLE).strip()
        messages.append(msg)
    return ParsedChat(messages=messages, format=fmt, date_order=order, date_order_ambiguous=ambiguous)


# --- the exported file: .txt or .zip -----------------------------------------------------------

ZIP_MAX_MEMBERS = 5000
ZIP_MAX_TOTAL = 500 * 1024 * 1024  # uncompressed, all members together
ZIP_MAX_RATIO = 200  # a member that inflates more than this (and past 1 MB) is a zip bomb
CHAT_MAX_BYTES = 64 * 1024 * 1024
_CHAT_NAME = re.compile(r"^(?:_chat|WhatsApp.*)\.txt$", re.I)


@dataclass
class ChatExport:
    """An opened export: the chat's bytes and, for a .zip, its media members by file name."""

    chat: bytes
    media: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    archive: zipfile.ZipFile | None = None

    def read_media(self, name: str, limit: int) -> bytes | None:
        """The bytes of a media file, or None when it is larger than `limit` (not read at all)."""
        info = self.media[name]
        if info.file_size > limit or self.archive is None:
            return None
        with self.archive.open(info) as fh:
            data = fh.read(limit + 1)
        return data if len(data) <= limit else None


def _safe_member(name: str) -> str | None:
    """The base name of a member worth reading, or None for directories and unsafe paths."""
    name = name.replace("\\", "/")
    if name.endswith("/") or name.startswith("/") or ".." in name.split("/") or re.match(r"^[A-Za-z]:", name):
        return None
    base = posixpath.basename(name)
    return base if base and not base.startswith(".") and "__MACOSX" not in name.split("/") else None


def open_export(fileobj) -> ChatExport:
    """Read an uploaded export (a binary file object): the .txt itself, or a .zip holding it."""
    head = fileobj.read(4)
    fileobj.seek(0)
    if head != b"PK\x03\x04" and head != b"PK\x05\x06":
        data = fileobj.read(CHAT_MAX_BYTES + 1)
        if len(data) > CHAT_MAX_BYTES:
            raise WhatsAppImportError("too_large", limit=CHAT_MAX_BYTES)
        return ChatExport(chat=data)
    try:
        archive = zipfile.ZipFile(fileobj if hasattr(fileobj, "seek") else io.BytesIO(fileobj.read()))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise WhatsAppImportError("bad_zip") from None
    infos = archive.infolist()
    if len(infos) > ZIP_MAX_MEMBERS:
        raise WhatsAppImportError("zip_members", limit=ZIP_MAX_MEMBERS)
    total = 0
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        total += info.file_size
        if info.file_size > 1024 * 1024 and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise WhatsAppImportError("zip_bomb")
        base = _safe_member(info.filename)
        if base and base not in members:
            members[base] = info
    if total > ZIP_MAX_TOTAL:
        raise WhatsAppImportError("zip_total", limit=ZIP_MAX_TOTAL)
    texts = [n for n in members if n.lower().endswith(".txt")]
    chosen = next((n for n in texts if n.lower() == "_chat.txt"), None)
    chosen = chosen or next((n for n in texts if _CHAT_NAME.match(n)), None)
    if chosen is None and len(texts) == 1:
        chosen = texts[0]
    if chosen is None:
        raise WhatsAppImportError("no_chat")
    info = members.pop(chosen)
    if info.file_size > CHAT_MAX_BYTES:
        raise WhatsAppImportError("too_large", limit=CHAT_MAX_BYTES)
    try:
        with archive.open(info) as fh:
            chat = fh.read(CHAT_MAX_BYTES + 1)
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError):
        raise WhatsAppImportError("bad_zip") from None
    return ChatExport(chat=chat, media=members, archive=archive)
