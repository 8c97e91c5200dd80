"""The hash chain over audit events (docs/decisions/0010-audit-chain.md).

Events are written unsealed (seq NULL, hash "") inside the business transaction, so the business
write never waits for, or fails because of, the chain. Sealing gives the unsealed events, in id
order, the next `seq` and `hash = sha256(prev_hash + canonical JSON of the event)` under a lock
(SQLite: the single writer of the IMMEDIATE transaction; PostgreSQL: a transaction-level advisory
lock), so the chain stays linear however many processes write events. Sealing runs right after
the business transaction commits (on_commit, without waiting for a busy lock) and, as a backstop,
every minute in the worker.

Everything here works on raw DB-API cursors so that the same code seals and verifies through
Django's connection and through a plain sqlite3 connection to a restored file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import asdict, dataclass

from django.db import DatabaseError, connections, transaction

log = logging.getLogger(__name__)

TABLE = "audit_auditevent"
GENESIS = "0" * 64
# The columns an event's hash covers, in this order. actor_id is left out on purpose: deleting a
# user sets it to NULL (the account is gone, the record of what it did stays); the username at the
# time of the event is in actor_name, which is covered.
COLUMNS = ("id", "at", "actor_name", "action", "object_type", "object_id", "changes", "source", "ip")
SEAL_BATCH = 5000
# PostgreSQL advisory lock key of the sealer: any constant 64-bit number, the same in every process.
PG_LOCK_KEY = 0x7463726D_61756474  # "tcrmaudt"


def _at(value) -> str:
    if isinstance(value, str):  # SQLite keeps "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _changes(value):
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode()
    if isinstance(value, str):
        value = json.loads(value)
    return value if value is not None else {}


def canonical(row: dict, seq: int) -> str:
    """The event as one canonical JSON text: sorted keys, no spaces, UTC microsecond time."""
    data = {
        "id": int(row["id"]),
        "seq": int(seq),
        "at": _at(row["at"]),
        "actor": row["actor_name"] or "",
        "action": row["action"],
        "object_type": row["object_type"],
        "object_id": None if row["object_id"] is None else int(row["object_id"]),
        "changes": _changes(row["changes"]),
        "source": row["source"] or "",
        "ip": str(row["ip"]) if row["ip"] else None,
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def event_hash(prev_hash: str, row: dict, seq: int) -> str:
    return hashlib.sha256((prev_hash + canonical(row, seq)).encode()).hexdigest()


def _rows(cursor) -> list[dict]:
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _select(extra: str) -> str:
    return f"SELECT {', '.join(COLUMNS)}, seq, hash FROM {TABLE} {extra}"


# --- sealing ------------------------------------------------------------------------------------


def head(cursor) -> tuple[int, str]:
    cursor.execute(f"SELECT seq, hash FROM {TABLE} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
    row = cursor.fetchone()
    return (int(row[0]), row[1]) if row else (0, GENESIS)


def seal(using: str = "default", *, wait: bool = True, batch: int = SEAL_BATCH) -> int:
    """Seal every unsealed event (in batches, each its own short transaction). Returns how many.
    wait=False (the on_commit path): give up at once when another process holds the lock — the
    periodic task seals what is left."""
    total = 0
    while True:
        n = _seal_batch(using, wait=wait, batch=batch)
        total += n
        if n < batch:
            return total


def _seal_batch(using: str, *, wait: bool, batch: int) -> int:
    conn = connections[using]
    vendor = conn.vendor
    with transaction.atomic(using=using), conn.cursor() as cur:
        if vendor == "postgresql":
            # Sealing is deterministic and redone by the backstop if lost in a crash: its commit
            # need not wait for the WAL flush (saves one fsync per business transaction).
            cur.execute("SET LOCAL synchronous_commit TO OFF")
            if wait:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [PG_LOCK_KEY])
            else:
                cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [PG_LOCK_KEY])
                if not cur.fetchone()[0]:
                    return 0
        # SQLite: the IMMEDIATE transaction already is the one writer.
        cur.execute(_select(f"WHERE seq IS NULL ORDER BY id LIMIT {int(batch)}"))
        pending = _rows(cur)
        if not pending:
            return 0
        missing_names = [r["id"] for r in pending if not r["actor_name"]]
        if missing_names:
            _fill_actor_names(cur, pending)
        seq, prev = head(cur)
        updates = []
        for row in pending:
            seq += 1
            prev = event_hash(prev, row, seq)
            updates.append((seq, prev, row["actor_name"] or "", row["id"]))
        cur.executemany(
            f"UPDATE {TABLE} SET seq = %s, hash = %s, actor_name = %s WHERE id = %s AND seq IS NULL", updates
        )
    return len(pending)


def _fill_actor_names(cur, rows: list[dict]) -> None:
    """Events made with bulk_create carry no actor_name: take the username before sealing."""
    ids = sorted({r["id"] for r in rows if not r["actor_name"]})
    placeholders = ", ".join(["%s"] * len(ids))
    cur.execute(
        f"SELECT e.id, u.username FROM {TABLE} e JOIN accounts_user u ON u.id = e.actor_id "
        f"WHERE e.id IN ({placeholders})", ids,
    )  # fmt: skip
    names = dict(cur.fetchall())
    for r in rows:
        if not r["actor_name"] and r["id"] in names:
            r["actor_name"] = names[r["id"]]


def seal_after_commit(using: str = "default") -> None:
    """Called by audit_record(): seal once after the surrounding transaction commits. Django drops
    the callback if the transaction rolls back, so a failed change leaves nothing to seal."""
    conn = connections[using]
    if conn.in_atomic_block and any(getattr(f, "_tradecrm_seal", False) for _s, f, _r in conn.run_on_commit):
        return

    def _callback():
        _seal_now(using)

    _callback._tradecrm_seal = True
    transaction.on_commit(_callback, using=using, robust=True)


def _seal_now(using: str) -> None:
    conn = connections[using]
    try:
        if conn.vendor == "sqlite":
            # Never wait behind a long writer (an import chunk): the backstop task seals later.
            with conn.cursor() as cur:
                cur.execute("PRAGMA busy_timeout")
                previous = int(cur.fetchone()[0])
                cur.execute("PRAGMA busy_timeout = 200")
            try:
                seal(using, wait=False)
            finally:
                with conn.cursor() as cur:
                    cur.execute(f"PRAGMA busy_timeout = {previous}")
        else:
            seal(using, wait=False)
    except DatabaseError as exc:  # the event is committed; sealing it is now the backstop's job
        # permissions/encryption: another process writing (an import chunk) is the expected case on
        # SQLite, not an error anyone must act on — and a "database is locked" warning on an
        # import's console read as a failed import.
        if conn.vendor == "sqlite" and "locked" in str(exc):
            log.debug("audit sealing deferred to the sealing task: another process is writing")
        else:
            log.warning("audit events left for the sealing task: %s", exc)


# --- verification -------------------------------------------------------------------------------


@dataclass
class Verification:
    ok: bool
    sealed: int
    unsealed: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None = None
    problem: str = ""
    event_id: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def verify_cursor(cur, *, batch: int = 10000) -> Verification:
    """Walk the chain in seq order and recompute every hash. The first broken seq is the first
    place where the recorded history was changed: a row altered (its hash no longer matches),
    removed (a gap in seq), or moved (a seq given to another row changes both hashes)."""
    cur.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE seq IS NULL")
    unsealed = int(cur.fetchone()[0])
    expected, prev, count = 1, GENESIS, 0
    last_seq = 0
    while True:
        cur.execute(
            _select(f"WHERE seq IS NOT NULL AND seq > {int(last_seq)} ORDER BY seq LIMIT {int(batch)}")
        )
        rows = _rows(cur)
        if not rows:
            break
        for row in rows:
            seq = int(row["seq"])
            if seq != expected:
                return Verification(False, count, unsealed, expected - 1, prev, expected,
                                    f"seq {expected} is missing (next is {seq})", row["id"])  # fmt: skip
            h = event_hash(prev, row, seq)
            if h != row["hash"]:
                return Verification(False, count, unsealed, expected - 1, prev, seq,
                                    "hash does not match the event's contents", row["id"])  # fmt: skip
            prev, expected, count, last_seq = h, expected + 1, count + 1, seq
    return Verification(True, count, unsealed, expected - 1, prev)


def verify(using: str = "default") -> Verification:
    with connections[using].cursor() as cur:
        return verify_cursor(cur)


def head_of(cur) -> dict:
    """The chain head as stored (for backup headers), without verifying."""
    seq, h = head(cur)
    cur.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE seq IS NULL")
    return {"seq": seq, "hash": h, "unsealed": int(cur.fetchone()[0])}
