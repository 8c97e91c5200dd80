"""Checks every stored upload goes through (timeline attachments, product photos): size, refused
extensions, type sniffed from the bytes (never from the name), SHA-256. Nothing is written here.

Moved out of interactions/services.py so that the catalogue's photos reuse the same rules.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Kinds `filetype` recognises that run as programs; refused whatever the file is called.
EXECUTABLE_KINDS = frozenset({"exe", "elf", "deb", "rpm", "crx", "swf", "wasm", "cab"})
# Magic numbers `filetype` does not know: Mach-O (32/64-bit, both byte orders, universal).
MACHO_MAGIC = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
SNIFF_BYTES = 8192
CHUNK = 1024 * 1024


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    if n >= 1024:
        return f"{n / 1024:.1f}".removesuffix(".0") + " KB"
    return _("%(n)d bytes") % {"n": n}


def file_error(message: str, field: str = "file") -> ValidationError:
    return ValidationError({field: [message]})


def upload_name(upload, default: str = "attachment") -> str:
    name = os.path.basename(str(getattr(upload, "name", "") or "").replace("\\", "/")).strip()
    return (name or default)[-255:]


def check_upload(upload, *, limit: int | None = None) -> dict[str, Any]:
    """Size, type and checksum of an upload, read from its bytes; a ValidationError on the
    `file` field when it may not be stored. Nothing is written. Returns name, size, sha256 and
    content_type (sniffed: "image/png", "text/plain", "application/octet-stream"…)."""
    name = upload_name(upload)
    limit = settings.TRADECRM_ATTACHMENT_MAX_BYTES if limit is None else limit
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise _too_big(name, declared, limit)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in settings.TRADECRM_ATTACHMENT_FORBIDDEN_EXTENSIONS:
        raise file_error(
            _("“%(name)s”: files of type .%(ext)s are not accepted, because they can run programs.")
            % {"name": name, "ext": ext}
        )
    digest = hashlib.sha256()
    head = b""
    size = 0
    if hasattr(upload, "seek"):
        upload.seek(0)
    for chunk in upload.chunks(CHUNK) if hasattr(upload, "chunks") else iter(lambda: upload.read(CHUNK), b""):
        if isinstance(chunk, str):
            chunk = chunk.encode()
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        size += len(chunk)
        if size > limit:
            raise _too_big(name, size, limit)
        digest.update(chunk)
    if hasattr(upload, "seek"):
        upload.seek(0)
    kind = filetype.guess(head) if head else None
    if (
        (kind is not None and kind.extension in EXECUTABLE_KINDS)
        or head.startswith(MACHO_MAGIC)
        or head[:2] == b"#!"
    ):
        raise file_error(
            _("“%(name)s” is a program (%(kind)s); programs are not accepted as attachments.")
            % {"name": name, "kind": kind.extension if kind else _("executable script or binary")}
        )
    if kind is not None:
        mime = kind.mime
    elif looks_like_text(head):
        mime = "text/plain"
    else:
        mime = "application/octet-stream"
    return {"name": name, "size": size, "sha256": digest.hexdigest(), "content_type": mime}


def looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sniffed bytes is still text
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def _too_big(name: str, size: int, limit: int) -> ValidationError:
    return file_error(
        _("“%(name)s” is %(size)s; attachments may be at most %(limit)s.")
        % {"name": name, "size": human_size(size), "limit": human_size(limit)}
    )
