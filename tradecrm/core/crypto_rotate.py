"""Bulk work on encrypted data: encrypt existing rows (data migrations), re-encrypt everything under
the current key (`tradecrm keys rotate`), and prove a key unused (`tradecrm keys retire`).

Rows are walked by id in batches, each batch its own transaction; a row is rewritten only when a
value in it is not under the current key. So a rotation can be stopped and started again at any
point (it carries on where values are still stale), and a half-done one still reads: every value
names its key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from django.db import connections, router, transaction

from . import crypto

# Uploaded files stored encrypted: (app_label.ModelName, file field, associated-data label).
ENCRYPTED_FILES = (
    ("interactions.Attachment", "file", "interactions.attachment.file"),
    ("mailbox.MailAttachment", "file", "mailbox.mailattachment.file"),
    ("service.TicketAttachment", "file", "service.ticketattachment.file"),  # ticket files (photos, documents)
)


def encrypted_fields(models: Iterable | None = None) -> list[tuple[type, list]]:
    """(model, [encrypted fields]) of every concrete model (or of `models`)."""
    if models is None:
        from django.apps import apps

        models = apps.get_models()
    out = []
    for model in models:
        if model._meta.abstract or model._meta.proxy or not model._meta.managed:
            continue
        fields = [
            f for f in model._meta.local_concrete_fields
            if isinstance(f, crypto.EncryptedTextField | crypto.PartlyEncryptedJSONField)
        ]  # fmt: skip
        if fields:
            out.append((model, fields))
    return out


def _stale_text(raw, current: str) -> bool:
    return raw not in (None, "") and crypto.key_id_of(raw) != current


def _json_raw(raw):
    if raw is None or isinstance(raw, dict | list):
        return raw
    if isinstance(raw, bytes | memoryview):
        raw = bytes(raw).decode()
    return json.loads(raw) if raw else None


def _stale_json(field, value, current: str) -> bool:
    if not isinstance(value, dict):
        return False
    for path in field.paths:
        part = value
        for key in path:
            part = part.get(key) if isinstance(part, dict) else None
        if part in (None, "", {}, []):
            continue
        if not crypto.is_encrypted(part) or crypto.key_id_of(part) != current:
            return True
    return False


def reencrypt_rows(model, fields: list | None = None, *, batch: int = 500, ring: crypto.Keyring | None = None,
                   derive: Callable[[dict], dict] | None = None,
                   progress: Callable[[int, int], None] | None = None) -> int:  # fmt: skip
    """Rewrite the rows of `model` whose encrypted values are not all under the current key
    (plaintext rows included). `derive(plain values) -> extra column updates` (e.g. a blind index).
    Returns the number of rows rewritten."""
    if fields is None:
        found = encrypted_fields([model])
        fields = found[0][1] if found else []
    if not fields:
        return 0
    ring = ring or crypto.keyring(create=True)
    using = router.db_for_write(model)
    conn = connections[using]
    qn = conn.ops.quote_name
    table, pk = model._meta.db_table, model._meta.pk.column
    cols = ", ".join(
        f"CAST({qn(f.column)} AS TEXT)" if isinstance(f, crypto.PartlyEncryptedJSONField) else qn(f.column)
        for f in fields
    )
    last, done, seen = None, 0, 0
    while True:
        where = f"WHERE {qn(pk)} > %s " if last is not None else ""
        with conn.cursor() as cur:
            cur.execute(f"SELECT {qn(pk)}, {cols} FROM {qn(table)} {where}ORDER BY {qn(pk)} LIMIT {int(batch)}",
                        [last] if last is not None else [])  # fmt: skip
            rows = cur.fetchall()
        if not rows:
            return done
        with transaction.atomic(using=using):
            for row in rows:
                updates, plain = {}, {}
                for f, raw in zip(fields, row[1:], strict=True):
                    if isinstance(f, crypto.PartlyEncryptedJSONField):
                        value = _json_raw(raw)
                        if _stale_json(f, value, ring.current):
                            updates[f.attname] = f.decrypt_parts(value, ring=ring)
                    else:
                        value = crypto.decrypt(raw, f.label, ring=ring) if crypto.is_encrypted(raw) else raw
                        plain[f.attname] = value
                        if _stale_text(raw, ring.current):
                            updates[f.attname] = value
                if derive is not None:
                    updates.update(derive(plain))
                if updates:
                    model._base_manager.using(using).filter(pk=row[0]).update(**updates)
                    done += 1
        seen += len(rows)
        last = rows[-1][0]
        if progress:
            progress(seen, done)


# --- files --------------------------------------------------------------------------------------


def _file_models():
    from django.apps import apps

    for model_label, field_name, label in ENCRYPTED_FILES:
        try:
            model = apps.get_model(model_label)
        except LookupError:
            continue
        yield model, field_name, label


def _rewrite(path: Path, data: bytes) -> None:
    """Replace a file's bytes atomically (temp file + rename in the same directory)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def reencrypt_file(path: Path, label: str, ring: crypto.Keyring) -> bool:
    """Encrypt a stored file under the current key if it is not yet; True if it was rewritten."""
    with open(path, "rb") as f:
        head = f.read(64)
    if crypto.file_key_id(head) == ring.current:
        return False
    data = path.read_bytes()
    _rewrite(path, crypto.encrypt_bytes(crypto.decrypt_bytes(data, label, ring=ring), label, ring=ring))
    return True


def reencrypt_files(*, ring: crypto.Keyring | None = None, models=None,
                    progress: Callable[[int, int], None] | None = None) -> int:  # fmt: skip
    """Every stored encrypted-kind file under the current key; missing files are skipped."""
    from django.core.files.storage import default_storage

    ring = ring or crypto.keyring(create=True)
    done = seen = 0
    for model, field_name, label in models or _file_models():
        names = model._base_manager.exclude(**{field_name: ""}).values_list(field_name, flat=True).order_by("pk")
        for name in names.iterator(chunk_size=1000):
            seen += 1
            try:
                path = Path(default_storage.path(name))
            except NotImplementedError:  # not a local storage: nothing of ours to rewrite
                continue
            if path.is_file() and reencrypt_file(path, label, ring):
                done += 1
            if progress and seen % 100 == 0:
                progress(seen, done)
    return done


# --- status / retire ----------------------------------------------------------------------------


def key_usage() -> dict[str, dict[str, int]]:
    """{kid or "plaintext": {"table.column" or "files:model": count}} over every encrypted column
    and file store."""
    usage: dict[str, dict[str, int]] = {}

    def add(kid: str, where: str, n: int = 1) -> None:
        usage.setdefault(kid, {}).setdefault(where, 0)
        usage[kid][where] += n

    for model, fields in encrypted_fields():
        conn = connections[router.db_for_read(model)]
        qn = conn.ops.quote_name
        for f in fields:
            where = f"{model._meta.db_table}.{f.column}"
            with conn.cursor() as cur:
                if isinstance(f, crypto.PartlyEncryptedJSONField):
                    cur.execute(f"SELECT CAST({qn(f.column)} AS TEXT) FROM {qn(model._meta.db_table)}")
                    for (raw,) in cur.fetchall():
                        value = _json_raw(raw)
                        for path in f.paths:
                            part = value
                            for key in path:
                                part = part.get(key) if isinstance(part, dict) else None
                            if part in (None, "", {}, []):
                                continue
                            add(crypto.key_id_of(part) or "plaintext", where)
                    continue
                # the key id is the text between the first and second colon: count by prefix
                cur.execute(f"SELECT {qn(f.column)} FROM {qn(model._meta.db_table)} "
                            f"WHERE {qn(f.column)} IS NOT NULL AND {qn(f.column)} <> ''")  # fmt: skip
                while rows := cur.fetchmany(5000):
                    for (raw,) in rows:
                        add(crypto.key_id_of(raw) or "plaintext", where)
    from django.core.files.storage import default_storage

    for model, field_name, _label in _file_models():
        where = f"files:{model._meta.label_lower}"
        for name in model._base_manager.exclude(**{field_name: ""}).values_list(field_name, flat=True):
            try:
                path = Path(default_storage.path(name))
                with open(path, "rb") as fh:
                    head = fh.read(64)
            except (FileNotFoundError, NotImplementedError):
                continue
            add(crypto.file_key_id(head) or "plaintext", where)
    return usage


def rotate(*, batch: int = 500, progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Re-encrypt every encrypted column and file under the current key. {where: rows rewritten}."""
    ring = crypto.keyring()
    out: dict[str, int] = {}
    for model, fields in encrypted_fields():
        where = model._meta.label_lower
        out[where] = reencrypt_rows(model, fields, batch=batch, ring=ring,
                                    progress=(lambda s, d, w=where: progress(w, s, d)) if progress else None)  # fmt: skip
    out["files"] = reencrypt_files(ring=ring, progress=(lambda s, d: progress("files", s, d)) if progress else None)
    return out
