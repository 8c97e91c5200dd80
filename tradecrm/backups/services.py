"""`tradecrm backup` / `tradecrm restore`: one encrypted file holding the database (SQLite online
backup, or `pg_dump -Fc`) and the uploaded files, and its verified restore into an empty data dir
(docs/user-guide/en/backups.md)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils import timezone

from tradecrm.audit import chain
from tradecrm.audit.services import audit_record

from .crypto import BackupError, DecryptingReader, EncryptingWriter, TamperedError, load_key

SUFFIX = ".tcbackup"
DB_SQLITE = "db/tradecrm.sqlite3"
DB_PG = "db/tradecrm.pgdump"
# What a freshly started TradeCRM puts into a new data dir; anything else makes it "not empty".
FRESH_ENTRIES = {"secret_key", "staticfiles", "backup.key", "backups", "huey.sqlite3", "huey.sqlite3-wal",
                 "huey.sqlite3-shm", "media"}  # fmt: skip


def media_root() -> Path:
    return Path(
        settings.STORAGES["default"].get("OPTIONS", {}).get("location") or Path(settings.DATA_DIR) / "media"
    )


def default_name(now: dt.datetime | None = None) -> str:
    return f"tradecrm-{(now or timezone.now()):%Y%m%d-%H%M%S}{SUFFIX}"


# --- table counts ---------------------------------------------------------------------------------


def _sqlite_counts(path: Path) -> tuple[dict[str, int], dict]:
    con = sqlite3.connect(path)
    try:
        cur = con.cursor()
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                    "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name")  # fmt: skip
        names = [r[0] for r in cur.fetchall()]
        counts = {}
        for name in names:
            cur.execute(f'SELECT COUNT(*) FROM "{name}"')
            counts[name] = int(cur.fetchone()[0])
        audit = chain.head_of(cur) if chain.TABLE in counts else None
        return counts, audit
    finally:
        con.close()


def _pg_counts(cur) -> tuple[dict[str, int], dict | None]:
    cur.execute("SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
                "'information_schema') ORDER BY schemaname, tablename")  # fmt: skip
    counts = {}
    for schema, name in cur.fetchall():
        label = name if schema == "public" else f"{schema}.{name}"
        cur.execute(f'SELECT COUNT(*) FROM "{schema}"."{name}"')
        counts[label] = int(cur.fetchone()[0])
    audit = chain.head_of(cur) if chain.TABLE in counts else None
    return counts, audit


# --- PostgreSQL plumbing ----------------------------------------------------------------------------


def _pg_params(db: dict) -> dict:
    return {k: v for k, v in {"dbname": db.get("NAME"), "user": db.get("USER"), "password": db.get("PASSWORD"),
                              "host": db.get("HOST"), "port": str(db.get("PORT") or "")}.items() if v}  # fmt: skip


def _pg_env(db: dict) -> dict:
    env = dict(os.environ)
    p = _pg_params(db)
    for key, var in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"), ("password", "PGPASSWORD"),
                     ("dbname", "PGDATABASE")):  # fmt: skip
        if key in p:
            env[var] = p[key]
    return env


def _pg_connect(db: dict):
    import psycopg

    return psycopg.connect(**_pg_params(db))


def _run(cmd: list[str], env: dict) -> None:
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{cmd[0]} is not installed (the PostgreSQL client tools are needed).") from None
    if proc.returncode != 0:
        raise BackupError(f"{cmd[0]} failed: {proc.stderr.strip()[-2000:]}")


# --- backup -----------------------------------------------------------------------------------------


def _snapshot_sqlite(using: str, target: Path) -> tuple[dict, dict | None]:
    conn = connections[using]
    if conn.in_atomic_block:
        # The copy would wait forever for this connection's own open write transaction.
        raise BackupError("A backup cannot be taken inside a database transaction.")
    conn.ensure_connection()
    dst = sqlite3.connect(target)
    try:
        conn.connection.backup(dst)  # the online backup API: a consistent copy while others write
    finally:
        dst.close()
    return _sqlite_counts(target)


def _snapshot_pg(db: dict, target: Path) -> tuple[dict, dict | None]:
    """Counts and the dump from one snapshot: the counts' transaction exports it, pg_dump uses it."""
    with _pg_connect(db) as con:
        con.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snap = con.execute("SELECT pg_export_snapshot()").fetchone()[0]
        with con.cursor() as cur:
            counts, audit = _pg_counts(cur)
        _run(
            ["pg_dump", "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snap}", "-f", str(target)],
            _pg_env(db),
        )
        con.execute("COMMIT")
    return counts, audit


def create_backup(path: str | Path, *, using: str = "default") -> dict:
    """Write one encrypted backup file at `path` (a directory: a dated file inside it). Returns
    its header plus path, size and where the key came from."""
    key, key_where = load_key(create=True)
    path = Path(path)
    if path.is_dir():
        path = path / default_name()
    if path.exists():
        raise BackupError(f"{path} already exists; choose another name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    vendor = connections[using].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    work = Path(tempfile.mkdtemp(dir=path.parent, prefix=".tradecrm-backup-"))
    part = path.with_name(path.name + ".part")
    try:
        if vendor == "sqlite":
            snapshot, member = work / "db.sqlite3", DB_SQLITE
            counts, audit = _snapshot_sqlite(using, snapshot)
        else:
            snapshot, member = work / "db.pgdump", DB_PG
            counts, audit = _snapshot_pg(connections[using].settings_dict, snapshot)
        media = media_root()
        media_files = sum(len(files) for _d, _s, files in os.walk(media)) if media.is_dir() else 0
        secret = Path(settings.DATA_DIR) / "secret_key"
        header = {"created_at": timezone.now().isoformat(), "vendor": vendor, "database": member,
                  "tables": counts, "audit": audit, "media_files": media_files,
                  "secret_key": secret.is_file()}  # fmt: skip
        with open(part, "wb") as out:
            writer = EncryptingWriter(out, key, header)
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                tar.add(snapshot, arcname=member)
                if media.is_dir():
                    tar.add(media, arcname="media")
                if secret.is_file():
                    tar.add(secret, arcname="secret_key")
            writer.close()
            out.flush()
            os.fsync(out.fileno())
        os.chmod(part, 0o600)
        os.replace(part, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    result = {**writer.header, "path": str(path), "size": path.stat().st_size, "key": key_where}
    audit_record(actor=None, action="backup.create", object_type="backups.file", changes={
        "path": str(path), "size": result["size"], "audit_head_seq": (audit or {}).get("seq"),
        "rows": sum(counts.values())})  # fmt: skip
    return result


# --- restore ----------------------------------------------------------------------------------------


def _sqlite_has_tables(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0
    except sqlite3.DatabaseError:
        return True  # not a database we may overwrite
    finally:
        con.close()


def _check_empty_dir(data_dir: Path, db_path: Path | None) -> None:
    if not data_dir.exists():
        return
    found = []
    for entry in sorted(data_dir.iterdir()):
        name = entry.name
        if db_path is not None and entry.resolve() == db_path.resolve():
            if _sqlite_has_tables(entry):
                found.append(f"{name} (a database with tables)")
            continue
        if db_path is not None and name in (db_path.name + "-wal", db_path.name + "-shm"):
            continue
        if name == "media" and entry.is_dir():
            if any(entry.iterdir()):
                found.append("media/ (uploaded files)")
            continue
        if name in FRESH_ENTRIES:
            continue
        found.append(name + ("/" if entry.is_dir() else ""))
    if found:
        raise BackupError(
            f"The data dir {data_dir} is not empty ({', '.join(found[:10])}{' …' if len(found) > 10 else ''}). "
            "Restore only into an empty data dir: give a new one with --data-dir (or TRADECRM_DATA_DIR)."
        )


def _check_empty_pg(db: dict) -> None:
    with _pg_connect(db) as con:
        n = con.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
                        "'information_schema')").fetchone()[0]  # fmt: skip
    if n:
        raise BackupError(
            f"The database {db.get('NAME')} is not empty ({n} tables). Restore only into an empty database "
            "(createdb a new one and point DATABASE_URL at it)."
        )


def _wipe_pg(db: dict) -> None:
    """Undo a restore that did not verify: the database was empty before."""
    with _pg_connect(db) as con:
        for (name,) in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall():
            con.execute(f'DROP TABLE IF EXISTS public."{name}" CASCADE')
        for (sig,) in con.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "LEFT JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e' "
            "WHERE n.nspname = 'public' AND d.objid IS NULL"
        ).fetchall():
            con.execute(f"DROP FUNCTION IF EXISTS {sig} CASCADE")
        for (name,) in con.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall():
            con.execute(f'DROP SEQUENCE IF EXISTS public."{name}" CASCADE')


def _safe_member(m: tarfile.TarInfo) -> bool:
    name = m.name
    if name.startswith("/") or ".." in Path(name).parts:
        return False
    return name in (DB_SQLITE, DB_PG, "secret_key", "media") or name.startswith("media/")


def _compare(header: dict, counts: dict, audit: dict | None, verification) -> None:
    expected = header.get("tables") or {}
    diff = [f"{t}: {expected.get(t)} in the backup, {counts.get(t)} restored"
            for t in sorted(set(expected) | set(counts)) if expected.get(t) != counts.get(t)]  # fmt: skip
    if diff:
        raise BackupError("Row counts differ after restoring: " + "; ".join(diff[:10]))
    if header.get("audit"):
        if verification is None or not verification.ok:
            where = f" at seq {verification.first_broken_seq}: {verification.problem}" if verification else ""
            raise BackupError(f"The restored audit trail does not verify{where}.")
        want = header["audit"]
        if (verification.head_seq, verification.head_hash) != (want["seq"], want["hash"]):
            raise BackupError(
                f"The restored audit chain ends at seq {verification.head_seq}, the backup's at seq {want['seq']}."
            )


def restore_backup(
    path: str | Path,
    *,
    data_dir: str | Path | None = None,
    using: str = "default",
    database: dict | None = None,
) -> dict:
    """Restore into an empty data dir (SQLite: the database file goes into it; PostgreSQL: into the
    empty database of DATABASE_URL, or `database`) and verify row counts and the audit chain.
    Nothing is left behind when anything fails: the files are staged and moved in at the end."""
    key, key_where = load_key(create=False)
    vendor = connections[using].vendor
    target_dir = Path(data_dir or settings.DATA_DIR).resolve()
    db_conf = database or connections[using].settings_dict
    if vendor == "sqlite":
        db_path = (target_dir / "tradecrm.sqlite3") if data_dir else Path(db_conf["NAME"]).resolve()
    else:
        db_path = None
    _check_empty_dir(target_dir, db_path)
    if vendor == "postgresql":
        _check_empty_pg(db_conf)
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    target_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target_dir, prefix=".restore-"))
    restored_pg = False
    try:
        with open(path, "rb") as f:
            reader = DecryptingReader(f, key)
            header = reader.header
            if header.get("vendor") != vendor:
                raise BackupError(
                    f"This is a {header.get('vendor')} backup; this installation uses {vendor}."
                )
            try:
                with tarfile.open(fileobj=reader, mode="r|") as tar:
                    for member in tar:
                        if not _safe_member(member):
                            raise TamperedError(f"The backup holds an unexpected entry {member.name!r}.")
                        tar.extract(member, staging, filter="data")
            except tarfile.TarError as exc:
                raise TamperedError(f"The backup's contents are damaged ({exc}).") from None
            reader.drain()
        staged_db = staging / header["database"]
        if not staged_db.is_file():
            raise TamperedError("The backup holds no database.")
        if vendor == "sqlite":
            counts, audit = _sqlite_counts(staged_db)
            con = sqlite3.connect(staged_db)
            try:
                if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise BackupError("The restored database fails SQLite's integrity check.")
                verification = chain.verify_cursor(con.cursor()) if audit is not None else None
            finally:
                con.close()
            _compare(header, counts, audit, verification)
        else:
            _run(["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                  "-d", db_conf["NAME"], str(staged_db)], _pg_env(db_conf))  # fmt: skip
            restored_pg = True
            with _pg_connect(db_conf) as con, con.cursor() as cur:
                counts, audit = _pg_counts(cur)
                verification = chain.verify_cursor(cur) if audit is not None else None
            _compare(header, counts, audit, verification)
        # verified: move into place
        if vendor == "sqlite":
            if str(db_conf.get("NAME")) and Path(str(db_conf["NAME"])).resolve() == db_path:
                connections[using].close()  # the file is about to be replaced under it
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    (db_path.parent / (db_path.name + suffix)).unlink()
            db_path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged_db, db_path)
        media_target = target_dir / "media" if data_dir else media_root()
        if (staging / "media").is_dir():
            if media_target.exists():
                media_target.rmdir()  # empty: checked above
            media_target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / "media", media_target)
        if (staging / "secret_key").is_file():
            os.replace(staging / "secret_key", target_dir / "secret_key")
    except BaseException:
        if restored_pg:
            _wipe_pg(db_conf)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"path": str(path), "data_dir": str(target_dir), "database": str(db_path or db_conf.get("NAME")),
            "created_at": header.get("created_at"), "tables": len(counts), "rows": sum(counts.values()),
            "audit": {"ok": verification.ok, "head_seq": verification.head_seq} if verification else None,
            "media_files": header.get("media_files"), "key": key_where}  # fmt: skip


# --- schedule -------------------------------------------------------------------------------------


def backup_dir() -> Path:
    return Path(os.environ.get("TRADECRM_BACKUP_DIR") or Path(settings.DATA_DIR) / "backups")


def backup_keep() -> int:
    try:
        return max(1, int(os.environ.get("TRADECRM_BACKUP_KEEP") or 14))
    except ValueError:
        return 14


def prune(directory: Path, keep: int) -> list[str]:
    """Keep the newest `keep` backups (by their dated names) in `directory`; delete the rest."""
    files = sorted(p for p in directory.glob(f"tradecrm-*{SUFFIX}") if p.is_file())
    removed = files[:-keep] if len(files) > keep else []
    for p in removed:
        p.unlink()
    return [p.name for p in removed]


def scheduled_backup() -> dict:
    directory = backup_dir()
    result = create_backup(directory / default_name())
    result["removed"] = prune(directory, backup_keep())
    return result
