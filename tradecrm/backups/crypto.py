"""Encrypted backup files: AES-256-GCM over a stream, in chunks, so a backup of any size is
written and read in constant memory.

File layout:
    MAGIC (8 bytes)  header length (4 bytes, big-endian)  header (UTF-8 JSON)
    then frames: ciphertext length (4 bytes, big-endian)  ciphertext+tag
The file key is derived per file with HKDF-SHA256 from the backup key and a random salt in the
header, so nonces can simply count chunks (96-bit big-endian counter) without ever repeating
under one key. Every chunk's associated data is sha256(header) + counter + a last-chunk flag:
changing the header, reordering, dropping or truncating chunks all fail authentication.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"TCRMBAK1"
FORMAT_VERSION = 1
CHUNK = 1024 * 1024
MAX_HEADER = 4 * 1024 * 1024
KEY_ENV = "TRADECRM_BACKUP_KEY"
KEY_FILE_ENV = "TRADECRM_BACKUP_KEY_FILE"


class BackupError(Exception):
    """A backup cannot be written or read; the message says why."""


class WrongKeyError(BackupError):
    pass


class TamperedError(BackupError):
    pass


# --- the key ------------------------------------------------------------------------------------


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"tradecrm-backup-key-id:" + key).hexdigest()[:16]


def default_key_file() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "backup.key"


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise BackupError(f"{where}: the backup key is not valid base64 ({exc}).") from None
    if len(key) != 32:
        raise BackupError(
            f"{where}: the backup key must be 32 bytes (base64 of 32 random bytes), not {len(key)}."
        )
    return key


def load_key(*, create: bool = False) -> tuple[bytes, str]:
    """(key, where it came from). From TRADECRM_BACKUP_KEY, else the file TRADECRM_BACKUP_KEY_FILE,
    else DATA_DIR/backup.key — created there on first use when `create` (a backup), never when
    restoring: a new key cannot open an old backup."""
    if os.environ.get(KEY_ENV):
        return _decode_key(os.environ[KEY_ENV], KEY_ENV), f"${KEY_ENV}"
    path = Path(os.environ[KEY_FILE_ENV]) if os.environ.get(KEY_FILE_ENV) else default_key_file()
    if path.exists():
        return _decode_key(path.read_text(), str(path)), str(path)
    if os.environ.get(KEY_FILE_ENV) or not create:
        raise BackupError(
            f"No backup key: {path} does not exist. Set {KEY_ENV} (base64 of 32 bytes) or {KEY_FILE_ENV} "
            "to the key file the backup was made with."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=256)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(key).decode() + "\n")
    return key, f"{path} (new)"


# --- writing ------------------------------------------------------------------------------------


def _file_key(key: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"tradecrm backup v1").derive(key)


def _aad(header_digest: bytes, counter: int, last: bool) -> bytes:
    return header_digest + struct.pack(">QB", counter, 1 if last else 0)


def _nonce(counter: int) -> bytes:
    return counter.to_bytes(12, "big")


class EncryptingWriter:
    """A write-only file object: what is written is encrypted chunk by chunk into `out`."""

    def __init__(self, out, key: bytes, header: dict):
        salt = os.urandom(16)
        header = {**header, "format": "tradecrm-backup", "version": FORMAT_VERSION, "key_id": key_id(key),
                  "cipher": "AES-256-GCM", "kdf": "HKDF-SHA256", "salt": salt.hex(), "chunk_size": CHUNK,
                  "nonce": "96-bit big-endian chunk counter under a per-file key"}  # fmt: skip
        raw = json.dumps(header, sort_keys=True, ensure_ascii=False).encode()
        out.write(MAGIC + struct.pack(">I", len(raw)) + raw)
        self.header = header
        self._out = out
        self._aes = AESGCM(_file_key(key, salt))
        self._digest = hashlib.sha256(raw).digest()
        self._buf = bytearray()
        self._counter = 0
        self.closed = False

    def write(self, data) -> int:
        self._buf += data
        while len(self._buf) > CHUNK:  # keep at least one byte back: the last chunk is flagged
            self._frame(bytes(self._buf[:CHUNK]), last=False)
            del self._buf[:CHUNK]
        return len(data)

    def _frame(self, plain: bytes, *, last: bool) -> None:
        sealed = self._aes.encrypt(_nonce(self._counter), plain, _aad(self._digest, self._counter, last))
        self._out.write(struct.pack(">I", len(sealed)) + sealed)
        self._counter += 1

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if not self.closed:
            self._frame(bytes(self._buf), last=True)
            self._buf.clear()
            self.closed = True


# --- reading ------------------------------------------------------------------------------------


def read_header(f) -> tuple[dict, bytes]:
    magic = f.read(len(MAGIC))
    if magic != MAGIC:
        raise BackupError("This is not a TradeCRM backup file (unknown format).")
    (n,) = struct.unpack(">I", f.read(4) or b"\0\0\0\0")
    if not 0 < n <= MAX_HEADER:
        raise TamperedError("The backup's header is damaged.")
    raw = f.read(n)
    try:
        header = json.loads(raw)
    except ValueError:
        raise TamperedError("The backup's header is damaged.") from None
    if header.get("format") != "tradecrm-backup" or header.get("version") != FORMAT_VERSION:
        raise BackupError(f"Unsupported backup format version {header.get('version')!r}.")
    return header, raw


class DecryptingReader:
    """A read-only file object giving the plaintext; raises TamperedError at the first chunk that
    does not authenticate, and at the end if the last chunk is missing."""

    def __init__(self, f, key: bytes):
        self.header, raw = read_header(f)
        if self.header.get("key_id") != key_id(key):
            raise WrongKeyError(
                f"Wrong key: this backup was encrypted with key id {self.header.get('key_id')}, "
                f"the key given has id {key_id(key)}."
            )
        self._f = f
        self._aes = AESGCM(_file_key(key, bytes.fromhex(self.header["salt"])))
        self._digest = hashlib.sha256(raw).digest()
        self._counter = 0
        self._buf = bytearray()
        self._done = False

    def _next(self) -> None:
        head = self._f.read(4)
        if len(head) < 4:
            raise TamperedError("The backup is truncated: its last part is missing.")
        (n,) = struct.unpack(">I", head)
        if n > CHUNK + 16:
            raise TamperedError(f"The backup is damaged at part {self._counter + 1}.")
        sealed = self._f.read(n)
        if len(sealed) < n:
            raise TamperedError("The backup is truncated: its last part is missing.")
        for last in (False, True):
            try:
                plain = self._aes.decrypt(
                    _nonce(self._counter), sealed, _aad(self._digest, self._counter, last)
                )
            except InvalidTag:
                continue
            self._counter += 1
            self._buf += plain
            if last:
                if self._f.read(1):
                    raise TamperedError("The backup has data after its last part.")
                self._done = True
            return
        raise TamperedError(
            f"The backup was changed or damaged (part {self._counter + 1} does not authenticate)."
        )

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buf) < size):
            self._next()
        if size < 0:
            size = len(self._buf)
        out = bytes(self._buf[:size])
        del self._buf[:size]
        return out

    def drain(self) -> None:
        """Read (and authenticate) to the end."""
        while not self._done:
            self._next()
            self._buf.clear()
