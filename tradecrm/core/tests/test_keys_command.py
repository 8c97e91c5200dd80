"""`tradecrm keys init|status|rotate|retire`: a rotation re-encrypts every encrypted column and
file under a new key, can be resumed, and an old key is retired only when nothing uses it."""

import json
import os
import stat
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from tradecrm.core import crypto
from tradecrm.customers.models import Company, Contact, tax_id_hash

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_file(settings, tmp_path, monkeypatch):
    path = tmp_path / "keys" / "tradecrm.keys"
    settings.TRADECRM_ENCRYPTION_KEYS = ""
    settings.TRADECRM_KEY_FILE = str(path)
    monkeypatch.setitem(os.environ, "TRADECRM_KEY_FILE", str(path))
    return path


def _raw(table, column, pk):
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cur.fetchone()[0]


def _status(capsys) -> dict:
    capsys.readouterr()
    call_command("keys", "status", "--json")
    return json.loads(capsys.readouterr().out)


def test_init_rotate_resume_retire(key_file, make_company, alice, capsys):
    from tradecrm.interactions.services import attachment_add, interaction_create

    with pytest.raises(CommandError, match="keys init"):
        call_command("keys", "status")
    call_command("keys", "init")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = crypto.keyring().current
    company = make_company(name="Acme", country="DE", tax_id="DE811907980", notes="secret note")
    contact = Contact.objects.create(company=company, first_name="Jane", notes="jane note")
    entry = interaction_create(actor=alice, company=company, data={"type": "note", "subject": "s",
                                                                     "occurred_at": "2026-03-04T09:00"})  # fmt: skip
    att = attachment_add(actor=alice, interaction=entry, upload=ContentFile(b"file body", name="a.txt"))
    path = Path(default_storage.path(att.file.name))
    assert crypto.file_key_id(path.read_bytes()) == first
    assert _status(capsys)["values_per_key"][first] == 4  # tax id, 2 notes, 1 file
    index_before = company.tax_id_hash

    call_command("keys", "rotate")
    second = crypto.keyring().current
    assert second != first and list(crypto.keyring().keys) == [second, first]
    assert _raw("customers_company", "tax_id", company.pk).startswith(f"v1:{second}:")
    assert _raw("customers_contact", "notes", contact.pk).startswith(f"v1:{second}:")
    assert crypto.file_key_id(path.read_bytes()) == second
    company.refresh_from_db()
    assert (company.tax_id, company.notes) == ("DE811907980", "secret note")
    assert company.tax_id_hash == index_before == tax_id_hash("DE811907980")  # lookups survive rotation
    from tradecrm.interactions.services import attachment_read

    assert attachment_read(att) == b"file body"

    # an interrupted rotation: one value still under the old key, still readable; --resume finishes
    Company.objects.filter(pk=company.pk).update(notes="x")
    with connection.cursor() as cur:
        cur.execute("UPDATE customers_company SET notes = %s WHERE id = %s",
                    [crypto.encrypt("older", "customers.company.notes", ring=crypto.Keyring(
                        current=first, keys={first: crypto.keyring().keys[first]}, index_key=b"")), company.pk])  # fmt: skip
    company.refresh_from_db()
    assert company.notes == "older"
    with pytest.raises(CommandError, match="still encrypts 1 value"):
        call_command("keys", "retire", first)
    call_command("keys", "rotate", "--resume")
    assert crypto.keyring().current == second
    call_command("keys", "retire", first)
    ring = crypto.keyring()
    assert list(ring.keys) == [second]
    company.refresh_from_db()
    assert company.notes == "older" and company.tax_id_hash == tax_id_hash("DE811907980")
    with pytest.raises(CommandError, match="current key"):
        call_command("keys", "retire", second)


def test_retiring_the_key_lookups_derive_from_keeps_them(key_file, make_company):
    a, b = crypto.new_key(), crypto.new_key()
    crypto.write_key_file(key_file, [("old", a)], None)  # no explicit lookup key: derived from "old"
    company = make_company(name="Acme", country="DE", tax_id="DE811907980")
    h = company.tax_id_hash
    crypto.write_key_file(key_file, [("new", b), ("old", a)], None)
    call_command("keys", "rotate", "--resume")
    call_command("keys", "retire", "old")
    ring = crypto.keyring()
    assert list(ring.keys) == ["new"] and ring.index_source == "index"
    assert tax_id_hash("DE811907980") == h


def test_env_keys_rotation_is_explained(settings):
    with pytest.raises(CommandError, match="TRADECRM_ENCRYPTION_KEYS"):
        call_command("keys", "rotate")
