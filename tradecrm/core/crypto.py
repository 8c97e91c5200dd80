"""Encryption at rest for sensitive columns and uploaded files (decision 0011).

A value is stored as text ``v1:<key id>:<base64url(nonce | ciphertext | tag)>``: AES-256-GCM with
a random 96-bit nonce and, as associated data, a label naming the column ("customers.company.tax_id")
so that a value copied into another column (or another kind of file) fails to decrypt instead of
showing up there. The key id travels with every value, so after `tradecrm keys rotate` values under
the old key still read while the re-encryption runs.

Files use the same scheme in binary: ``TCRMENC1 | len(kid) | kid | nonce | ciphertext | tag``.

Keys never live in the database. They come from, in order:
  * ``TRADECRM_ENCRYPTION_KEYS`` (setting, filled from the environment): "kid:base64key,kid2:…",
    the first one is the current key; an entry "index:base64key" is the lookup key (below);
  * the key file ``TRADECRM_KEY_FILE`` (default <BASE_DIR>/var/keys/tradecrm.keys), one
    "kid:base64key" per line, same meaning; created 0600 by `tradecrm keys init`, by `tradecrm run`
    and on the first encryption when no key exists anywhere yet (but never when the key file was
    named explicitly: a wrong path must not silently start a second key).

Exact-match lookups use a blind index: HMAC-SHA256 under a key derived (HKDF) from the lookup key —
the "index" entry, else the oldest data key — so rotating the data key leaves every index unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models

log = logging.getLogger(__name__)

PREFIX = "v1"
FILE_MAGIC = b"TCRMENC1"
NONCE = 12
INDEX_KID = "index"
KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_VALUE_RE = re.compile(r"^v1:([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_-]+={0,2})$")


class CryptoError(Exception):
    """Encrypted data cannot be read or written; the message says why and what to do."""


class MissingKeyError(CryptoError, ImproperlyConfigured):
    pass


class DecryptionError(CryptoError):
    pass


# --- keys ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keyring:
    current: str  # key id new values are written with
    keys: dict[str, bytes]  # every key id that can still be read, current first
    index_key: bytes = field(repr=False)  # the HMAC key of blind indexes (already derived)
    source: str = ""  # where the keys came from, for `keys status`
    index_source: str = ""  # "index" entry, or the data key id it is derived from
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False, compare=False)

    def aead(self, kid: str) -> AESGCM:
        a = self._aead.get(kid)
        if a is None:
            try:
                a = self._aead[kid] = AESGCM(self.keys[kid])
            except KeyError:
                raise MissingKeyError(
                    f"This value was encrypted with key id {kid!r}, which is not in the keyring "
                    f"({self.source}; has {', '.join(self.keys) or 'no keys'}). Restore that key "
                    "(TRADECRM_ENCRYPTION_KEYS or the key file) — it cannot be read without it."
                ) from None
        return a


def _settings():
    from django.conf import settings

    return settings


def key_file_path() -> Path:
    s = _settings()
    configured = getattr(s, "TRADECRM_KEY_FILE", "") or ""
    return Path(configured) if configured else Path(s.BASE_DIR) / "var" / "keys" / "tradecrm.keys"


def key_file_named_explicitly() -> bool:
    return bool(os.environ.get("TRADECRM_KEY_FILE"))


def new_key_id() -> str:
    return "k" + secrets.token_hex(4)


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def parse_keys(text: str, where: str) -> tuple[list[tuple[str, bytes]], bytes | None]:
    """("kid", key) pairs in order plus the explicit lookup key, from "kid:b64,kid2:b64" or lines."""
    pairs: list[tuple[str, bytes]] = []
    index: bytes | None = None
    for n, raw in enumerate(re.split(r"[,\n]", text), start=1):
        item = raw.strip()
        if not item or item.startswith("#"):
            continue
        kid, sep, b64 = item.partition(":")
        kid = kid.strip()
        if not sep or not KID_RE.match(kid):
            raise MissingKeyError(f"{where}: entry {n} is not “key id:base64 key” (key ids: letters, digits, - _).")
        try:
            key = base64.b64decode(b64.strip(), validate=True)
        except ValueError:
            raise MissingKeyError(f"{where}: key {kid!r} is not valid base64.") from None
        if len(key) != 32:
            raise MissingKeyError(f"{where}: key {kid!r} must be 32 bytes (base64 of 32 random bytes), not {len(key)}.")
        if kid == INDEX_KID:
            index = key
        elif any(k == kid for k, _ in pairs):
            raise MissingKeyError(f"{where}: key id {kid!r} appears twice.")
        else:
            pairs.append((kid, key))
    return pairs, index


def format_keys(pairs: list[tuple[str, bytes]], index: bytes | None) -> str:
    lines = ["# TradeCRM encryption keys: first line = current key. Keep a copy with your backups;",
             "# without these keys the encrypted fields and files cannot be read."]  # fmt: skip
    lines += [f"{kid}:{base64.b64encode(key).decode()}" for kid, key in pairs]
    if index is not None:
        lines.append(f"{INDEX_KID}:{base64.b64encode(index).decode()}")
    return "\n".join(lines) + "\n"


def write_key_file(path: Path, pairs: list[tuple[str, bytes]], index: bytes | None) -> None:
    """Atomically (temp file + rename), 0600 from the start, in a 0700 directory."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(format_keys(pairs, index))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _cache.clear()


def init_key_file(path: Path | None = None) -> tuple[Path, bool]:
    """Create the key file with a fresh data key and lookup key; (path, created). Never overwrites."""
    path = path or key_file_path()
    if path.exists():
        return path, False
    write_key_file(path, [(new_key_id(), new_key())], new_key())
    log.warning("Created the encryption key file %s — back it up separately from the database.", path)
    return path, True


def _derive_index_key(master: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tradecrm blind index v1").derive(master)


_cache: dict[tuple, Keyring] = {}
_lock = threading.Lock()


def keyring(*, create: bool = False) -> Keyring:
    """The keys in use: from the setting/env if set, else the key file. `create` makes the key file
    when no key exists anywhere yet (first use) unless the file path was given explicitly."""
    s = _settings()
    configured = getattr(s, "TRADECRM_ENCRYPTION_KEYS", "") or ""
    if configured:
        cache_key: tuple = ("env", configured)
        text, where = configured, "TRADECRM_ENCRYPTION_KEYS"
    else:
        path = key_file_path()
        try:
            st = path.stat()
        except FileNotFoundError:
            if not create or key_file_named_explicitly():
                raise MissingKeyError(
                    f"No encryption key: TRADECRM_ENCRYPTION_KEYS is not set and the key file {path} does not "
                    "exist. Run `tradecrm keys init` for a new installation, or restore the key file "
                    "(TRADECRM_KEY_FILE) that this database was encrypted with."
                ) from None
            with _lock:
                init_key_file(path)
            st = path.stat()
        cache_key = ("file", str(path), st.st_mtime_ns, st.st_size)
        text, where = None, str(path)
    ring = _cache.get(cache_key)
    if ring is not None:
        return ring
    if text is None:
        text = Path(where).read_text()
    pairs, index = parse_keys(text, where)
    if not pairs:
        raise MissingKeyError(f"{where}: contains no encryption key.")
    ring = Keyring(
        current=pairs[0][0],
        keys=dict(pairs),
        index_key=_derive_index_key(index if index is not None else pairs[-1][1]),
        source=where,
        index_source=INDEX_KID if index is not None else pairs[-1][0],
    )
    if len(_cache) > 16:
        _cache.clear()
    _cache[cache_key] = ring
    return ring


# --- values -------------------------------------------------------------------------------------


def _aad(label: str) -> bytes:
    return b"tradecrm:" + label.encode()


def is_encrypted(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX + ":") and bool(_VALUE_RE.match(value))


def key_id_of(value: str) -> str | None:
    m = _VALUE_RE.match(value) if isinstance(value, str) else None
    return m.group(1) if m else None


def encrypt(text: str, label: str, *, ring: Keyring | None = None) -> str:
    ring = ring or keyring(create=True)
    nonce = os.urandom(NONCE)
    ct = ring.aead(ring.current).encrypt(nonce, text.encode("utf-8"), _aad(label))
    return f"{PREFIX}:{ring.current}:{base64.urlsafe_b64encode(nonce + ct).decode()}"


def decrypt(value: str, label: str, *, ring: Keyring | None = None) -> str:
    m = _VALUE_RE.match(value)
    if not m:
        raise DecryptionError(f"{label}: not an encrypted value (expected “v1:<key id>:<data>”).")
    ring = ring or keyring()
    raw = base64.urlsafe_b64decode(m.group(2))
    try:
        return ring.aead(m.group(1)).decrypt(raw[:NONCE], raw[NONCE:], _aad(label)).decode("utf-8")
    except InvalidTag:
        raise DecryptionError(
            f"{label}: a value under key {m.group(1)!r} failed authentication — it was changed, copied from "
            "another column, or that key id now holds a different key."
        ) from None


def reencrypt(value: str, label: str, *, ring: Keyring | None = None) -> str:
    """The value under the current key (unchanged if it already is)."""
    ring = ring or keyring()
    if key_id_of(value) == ring.current:
        return value
    return encrypt(decrypt(value, label, ring=ring) if is_encrypted(value) else value, label, ring=ring)


def encrypt_value(value, label: str):
    """For raw SQL writers: what an EncryptedTextField stores ("" and None as they are)."""
    return value if value is None or value == "" else encrypt(value, label)


def decrypt_value(value, label: str):
    """For raw SQL readers: the plaintext of a stored value (empty and legacy plaintext as they are)."""
    return decrypt(value, label) if is_encrypted(value) else value


def blind_index(text: str, label: str) -> str:
    """Hex HMAC-SHA256 of the text for exact lookups; stable across key rotations. Normalise the text
    (case, spaces) before calling: the index matches bytes exactly."""
    return hmac.new(keyring(create=True).index_key, label.encode() + b"\x00" + text.encode("utf-8"),
                    hashlib.sha256).hexdigest()  # fmt: skip


# --- files --------------------------------------------------------------------------------------


def is_encrypted_bytes(data: bytes) -> bool:
    return data[: len(FILE_MAGIC)] == FILE_MAGIC


def file_key_id(data: bytes) -> str | None:
    if not is_encrypted_bytes(data):
        return None
    n = data[len(FILE_MAGIC)]
    return data[len(FILE_MAGIC) + 1 : len(FILE_MAGIC) + 1 + n].decode("ascii")


def encrypt_bytes(data: bytes, label: str, *, ring: Keyring | None = None) -> bytes:
    ring = ring or keyring(create=True)
    kid = ring.current.encode("ascii")
    nonce = os.urandom(NONCE)
    return FILE_MAGIC + bytes([len(kid)]) + kid + nonce + ring.aead(ring.current).encrypt(nonce, data, _aad(label))


def decrypt_bytes(data: bytes, label: str, *, ring: Keyring | None = None) -> bytes:
    """The plaintext of an encrypted file; bytes without the marker are returned unchanged (files
    stored before encryption was switched on, until `keys rotate` or the migration rewrote them)."""
    if not is_encrypted_bytes(data):
        return data
    kid = file_key_id(data)
    start = len(FILE_MAGIC) + 1 + len(kid)
    ring = ring or keyring()
    try:
        return ring.aead(kid).decrypt(data[start : start + NONCE], data[start + NONCE :], _aad(label))
    except InvalidTag:
        raise DecryptionError(f"{label}: an encrypted file under key {kid!r} failed authentication.") from None


# --- the model field ----------------------------------------------------------------------------


class EncryptedTextField(models.TextField):
    """A TextField stored encrypted. Python code sees plaintext; the database holds
    "v1:<kid>:<data>". Empty strings and NULL are stored as they are (their absence is no secret).
    Only `isnull` and comparisons with "" work in queries — use a blind-index column for lookups.

    `label` is the associated data; it defaults to "<app>.<model>.<field>" and must never change
    for a column that has data (set it explicitly before renaming a model or field)."""

    def __init__(self, *args, label: str | None = None, **kwargs):
        self._explicit_label = label
        self.label = label or ""
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        if not self._explicit_label:
            self.label = f"{cls._meta.label_lower}.{name}"

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self._explicit_label:
            kwargs["label"] = self._explicit_label
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None or value == "" or not is_encrypted(value):
            return value  # NULL, empty, or a legacy plaintext row the data migration has not reached
        return decrypt(value, self.label)

    def get_db_prep_save(self, value, connection):
        # Encrypting here (not in get_prep_value) keeps lookups from being encrypted with a random
        # nonce — they could never match; see get_lookup.
        # Always encrypts, even text that looks encrypted: a user typing "v1:x:y" into a note must
        # not plant a value that fails to decrypt.
        value = self.get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value, self.label)

    def get_lookup(self, lookup_name):
        if lookup_name not in ("exact", "isnull", "in", "iexact"):
            raise FieldError(
                f"{self.label} is encrypted: “{lookup_name}” cannot be used on it (only isnull, and = ''); "
                "look values up through its blind index."
            )
        lookup = super().get_lookup(lookup_name)
        if lookup_name == "isnull":
            return lookup
        return _only_empty(lookup, self.label)


def _only_empty(lookup_cls, label):
    class OnlyEmpty(lookup_cls):
        def get_prep_lookup(self):
            values = self.rhs if isinstance(self.rhs, (list, tuple, set)) else [self.rhs]
            if any(v not in ("", None) for v in values):
                raise FieldError(f"{label} is encrypted: it can only be compared with ''; use its blind index.")
            return super().get_prep_lookup()

    OnlyEmpty.__name__ = lookup_cls.__name__
    return OnlyEmpty


class PartlyEncryptedJSONField(models.JSONField):
    """A JSONField whose listed parts are stored encrypted: `paths=(("bank",), ("seller", "tax_id"))`.
    Each part is replaced by its JSON text encrypted under the label "<field label>:<path>"; the
    rest stays plain JSON (queries and reports on it keep working). Python code sees the whole
    value. Used for issued documents' snapshots, which copy bank details and tax ids."""

    def __init__(self, *args, paths=(), label: str | None = None, **kwargs):
        self.paths = tuple(tuple(p) for p in paths)
        self._explicit_label = label
        self.label = label or ""
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        if not self._explicit_label:
            self.label = f"{cls._meta.label_lower}.{name}"

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["paths"] = [list(p) for p in self.paths]
        if self._explicit_label:
            kwargs["label"] = self._explicit_label
        return name, path, args, kwargs

    def _part_label(self, path) -> str:
        return f"{self.label}:{'.'.join(path)}"

    def encrypt_parts(self, value, ring: Keyring | None = None):
        if not isinstance(value, dict) or not self.paths:
            return value
        out = dict(value)
        for path in self.paths:
            parent = out
            for key in path[:-1]:
                child = parent.get(key)
                if not isinstance(child, dict):
                    parent = None
                    break
                parent[key] = parent = dict(child)
            if parent is None or path[-1] not in parent:
                continue
            part = parent[path[-1]]
            if part in ("", None, {}, []) or is_encrypted(part):
                continue
            parent[path[-1]] = encrypt(json.dumps(part, ensure_ascii=False, sort_keys=True),
                                       self._part_label(path), ring=ring)  # fmt: skip
        return out

    def decrypt_parts(self, value, ring: Keyring | None = None):
        if not isinstance(value, dict) or not self.paths:
            return value
        for path in self.paths:
            parent = value
            for key in path[:-1]:
                parent = parent.get(key) if isinstance(parent, dict) else None
            if isinstance(parent, dict) and is_encrypted(parent.get(path[-1])):
                parent[path[-1]] = json.loads(decrypt(parent[path[-1]], self._part_label(path), ring=ring))
        return value

    def from_db_value(self, value, expression, connection):
        return self.decrypt_parts(super().from_db_value(value, expression, connection))

    def get_db_prep_save(self, value, connection):
        if hasattr(value, "resolve_expression"):
            return super().get_db_prep_save(value, connection)
        return super().get_db_prep_save(self.encrypt_parts(value), connection)
