import base64
import json
import os
import sqlite3
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tradecrm.audit import chain
from tradecrm.audit.models import AuditEvent
from tradecrm.backups import crypto, services
from tradecrm.backups.crypto import BackupError, TamperedError, WrongKeyError

KEY = base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def data_dir(tmp_path, settings, monkeypatch):
    src = tmp_path / "data"
    (src / "media" / "attachments" / "2026").mkdir(parents=True)
    (src / "media" / "attachments" / "2026" / "offer.pdf").write_bytes(b"%PDF-1.7 offer" * 100)
    (src / "secret_key").write_text("the-secret")
    settings.DATA_DIR = src
    settings.STORAGES = {**settings.STORAGES, "default": {**settings.STORAGES["default"],
                                                          "OPTIONS": {"location": src / "media"}}}  # fmt: skip
    monkeypatch.setenv("TRADECRM_BACKUP_KEY", KEY)
    monkeypatch.delenv("TRADECRM_BACKUP_KEY_FILE", raising=False)
    return src


@pytest.fixture
def content(alice, make_company):
    companies = [make_company(name=f"Buyer {i}") for i in range(3)]
    chain.seal()
    return companies


def sqlite_only(fn):
    """Backups read committed data through the online backup API: these tests commit."""
    fn = pytest.mark.django_db(transaction=True)(fn)
    return pytest.mark.skipif("connection.vendor != 'sqlite'")(fn)


@sqlite_only
def test_round_trip_sqlite(data_dir, content, tmp_path):
    out = tmp_path / "b.tcbackup"
    result = services.create_backup(out)
    assert out.is_file() and result["tables"]["customers_company"] == 3
    assert (
        result["audit"]["seq"] == 3
        and result["media_files"] == 1
        and result["key_id"] == crypto.key_id(b"k" * 32)
    )
    raw = out.read_bytes()
    assert b"Buyer 1" not in raw and b"%PDF" not in raw  # encrypted, header included only in clear
    target = tmp_path / "restored"
    restored = services.restore_backup(out, data_dir=target)
    assert restored["audit"] == {"ok": True, "head_seq": 3}
    con = sqlite3.connect(target / "tradecrm.sqlite3")
    assert sorted(r[0] for r in con.execute("SELECT name FROM customers_company")) == [
        "Buyer 0",
        "Buyer 1",
        "Buyer 2",
    ]
    assert chain.verify_cursor(con.cursor()).ok
    con.close()
    assert (target / "media" / "attachments" / "2026" / "offer.pdf").read_bytes() == b"%PDF-1.7 offer" * 100
    assert (target / "secret_key").read_text() == "the-secret"
    assert not [p for p in target.iterdir() if p.name.startswith(".restore-")]
    # the backup itself is in the audit trail
    assert AuditEvent.objects.filter(action="backup.create").count() == 1


@sqlite_only
def test_restore_refuses_a_non_empty_data_dir(data_dir, content, tmp_path):
    out = services.create_backup(tmp_path / "b.tcbackup")["path"]
    target = tmp_path / "busy"
    (target / "media").mkdir(parents=True)
    (target / "media" / "x.jpg").write_bytes(b"x")
    (target / "notes.txt").write_text("mine")
    with pytest.raises(BackupError, match=r"is not empty \(media/ \(uploaded files\), notes.txt\)"):
        services.restore_backup(out, data_dir=target)
    assert sorted(p.name for p in target.iterdir()) == ["media", "notes.txt"]
    # a fresh data dir as a new installation leaves it (secret key, static files, queue) is fine
    fresh = tmp_path / "fresh"
    (fresh / "staticfiles").mkdir(parents=True)
    (fresh / "secret_key").write_text("new")
    sqlite3.connect(fresh / "tradecrm.sqlite3").close()  # an empty database file
    services.restore_backup(out, data_dir=fresh)
    assert (fresh / "secret_key").read_text() == "the-secret"


@sqlite_only
def test_tampered_file_and_wrong_key_restore_nothing(data_dir, content, tmp_path, monkeypatch):
    out = Path(services.create_backup(tmp_path / "b.tcbackup")["path"])
    good = out.read_bytes()
    target = tmp_path / "t"
    for i, bad in enumerate([
        good[:2000] + bytes([good[2000] ^ 1]) + good[2001:],  # a flipped bit in the data
        good[:-100],  # truncated
        good.replace(b'"customers_company": 3', b'"customers_company": 4'),  # a forged header
        good + b"more",  # appended data
    ]):  # fmt: skip
        bad_path = tmp_path / f"bad{i}.tcbackup"
        bad_path.write_bytes(bad)
        with pytest.raises(TamperedError):
            services.restore_backup(bad_path, data_dir=target)
        assert not target.exists() or list(target.iterdir()) == []
    monkeypatch.setenv("TRADECRM_BACKUP_KEY", base64.b64encode(b"x" * 32).decode())
    with pytest.raises(WrongKeyError, match="Wrong key: this backup was encrypted with key id"):
        services.restore_backup(out, data_dir=target)
    assert not target.exists() or list(target.iterdir()) == []


def test_key_sources(tmp_path, settings, monkeypatch):
    settings.DATA_DIR = tmp_path
    monkeypatch.delenv("TRADECRM_BACKUP_KEY", raising=False)
    monkeypatch.delenv("TRADECRM_BACKUP_KEY_FILE", raising=False)
    with pytest.raises(BackupError, match="No backup key"):
        crypto.load_key(create=False)  # a restore never makes up a key
    key, where = crypto.load_key(create=True)
    assert where.endswith("backup.key (new)") and len(key) == 32
    assert oct((tmp_path / "backup.key").stat().st_mode & 0o777) == "0o600"
    assert crypto.load_key() == (key, str(tmp_path / "backup.key"))
    monkeypatch.setenv("TRADECRM_BACKUP_KEY", "not base64!")
    with pytest.raises(BackupError, match="not valid base64"):
        crypto.load_key()
    monkeypatch.setenv("TRADECRM_BACKUP_KEY", base64.b64encode(b"short").decode())
    with pytest.raises(BackupError, match="must be 32 bytes"):
        crypto.load_key()


def test_streaming_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(crypto, "CHUNK", 1000)
    path = tmp_path / "f"
    payload = os.urandom(3500)
    with open(path, "wb") as f:
        w = crypto.EncryptingWriter(f, b"k" * 32, {"x": 1})
        for i in range(0, len(payload), 300):
            w.write(payload[i : i + 300])
        w.close()
    with open(path, "rb") as f:
        r = crypto.DecryptingReader(f, b"k" * 32)
        assert r.read(10) + r.read() == payload and r.header["x"] == 1
    # chunks cannot be reordered: swap the 2nd and 3rd frames
    data = path.read_bytes()
    header_end = 8 + 4 + int.from_bytes(data[8:12], "big")
    frames, pos = [], header_end
    while pos < len(data):
        n = int.from_bytes(data[pos : pos + 4], "big")
        frames.append(data[pos : pos + 4 + n])
        pos += 4 + n
    assert len(frames) == 4
    path.write_bytes(data[:header_end] + frames[0] + frames[2] + frames[1] + frames[3])
    with open(path, "rb") as f, pytest.raises(TamperedError, match="part 2"):
        crypto.DecryptingReader(f, b"k" * 32).read()


def test_retention_keeps_the_newest(tmp_path):
    for day in range(1, 6):
        (tmp_path / f"tradecrm-202611{day:02d}-024500.tcbackup").write_bytes(b"x")
    (tmp_path / "other.txt").write_text("kept")
    removed = services.prune(tmp_path, 3)
    assert removed == ["tradecrm-20261101-024500.tcbackup", "tradecrm-20261102-024500.tcbackup"]
    assert sorted(p.name for p in tmp_path.iterdir())[0] == "other.txt" and len(list(tmp_path.iterdir())) == 4


@sqlite_only
def test_daily_task_writes_into_backup_dir_and_prunes(data_dir, content, tmp_path, monkeypatch):
    from tradecrm.backups.tasks import daily_backup

    monkeypatch.setenv("TRADECRM_BACKUP_DIR", str(tmp_path / "daily"))
    monkeypatch.setenv("TRADECRM_BACKUP_KEEP", "2")
    (tmp_path / "daily").mkdir()
    for day in (1, 2):
        (tmp_path / "daily" / f"tradecrm-200001{day:02d}-000000.tcbackup").write_bytes(b"old")
    result = daily_backup.call_local()
    assert result["removed"] == ["tradecrm-20000101-000000.tcbackup"]
    assert len(list((tmp_path / "daily").glob("*.tcbackup"))) == 2


@sqlite_only
def test_commands(data_dir, content, tmp_path):
    from io import StringIO

    out = StringIO()
    call_command("backup", str(tmp_path), "--json", stdout=out)
    path = json.loads(out.getvalue())["path"]
    out = StringIO()
    call_command("restore", path, "--data-dir", str(tmp_path / "r"), "--json", stdout=out)
    assert json.loads(out.getvalue())["audit"]["ok"] is True
    with pytest.raises(CommandError, match="Nothing was restored: The data dir .* is not empty"):
        call_command("restore", path, "--data-dir", str(tmp_path / "r"), stdout=StringIO())


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_round_trip_postgresql(tmp_path, settings, monkeypatch, make_company):
    settings.DATA_DIR = tmp_path / "data"
    settings.STORAGES = {**settings.STORAGES, "default": {**settings.STORAGES["default"],
                                                          "OPTIONS": {"location": tmp_path / "data" / "media"}}}  # fmt: skip
    monkeypatch.setenv("TRADECRM_BACKUP_KEY", KEY)
    make_company(name="PG Buyer")
    chain.seal()
    out = services.create_backup(tmp_path / "pg.tcbackup")
    assert out["tables"]["customers_company"] == 1 and out["audit"]["seq"] == 1
    target = {**connection.settings_dict, "NAME": connection.settings_dict["NAME"] + "_restore"}
    with connection.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{target["NAME"]}"')
        cur.execute(f'CREATE DATABASE "{target["NAME"]}"')
    try:
        result = services.restore_backup(
            tmp_path / "pg.tcbackup", data_dir=tmp_path / "restored", database=target
        )
        assert result["audit"]["ok"] and result["audit"]["head_seq"] == out["audit"]["seq"]
        with services._pg_connect(target) as con:
            assert con.execute("SELECT name FROM customers_company").fetchall() == [("PG Buyer",)]
        with pytest.raises(BackupError, match="is not empty"):
            services.restore_backup(tmp_path / "pg.tcbackup", data_dir=tmp_path / "r2", database=target)
    finally:
        with connection.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{target["NAME"]}" WITH (FORCE)')
