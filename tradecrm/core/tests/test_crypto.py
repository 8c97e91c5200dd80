import base64
import os
import stat

import pytest
from django.core.exceptions import FieldError

from tradecrm.core import crypto

K1 = base64.b64encode(b"1" * 32).decode()
K2 = base64.b64encode(b"2" * 32).decode()


def test_round_trip_format_and_label_binding():
    v = crypto.encrypt("DE123456789", "customers.company.tax_id")
    assert v.startswith("v1:test1:")
    assert "DE123456789" not in v
    assert crypto.decrypt(v, "customers.company.tax_id") == "DE123456789"
    # copied into another column: refused, not shown
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(v, "documents.bankaccount.iban")
    # two encryptions of one value differ (random nonce)
    assert crypto.encrypt("x", "l") != crypto.encrypt("x", "l")
    assert crypto.decrypt(crypto.encrypt("中文 ünïcode", "l"), "l") == "中文 ünïcode"


def test_tampered_value_fails():
    v = crypto.encrypt("secret", "l")
    raw = bytearray(base64.urlsafe_b64decode(v.split(":")[2]))
    raw[-1] ^= 1
    bad = "v1:test1:" + base64.urlsafe_b64encode(bytes(raw)).decode()
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(bad, "l")


def test_rotation_keeps_old_values_readable_and_index_stable(settings):
    settings.TRADECRM_ENCRYPTION_KEYS = f"a:{K1}"
    old = crypto.encrypt("IBAN1", "l")
    idx = crypto.blind_index("IBAN1", "l")
    settings.TRADECRM_ENCRYPTION_KEYS = f"b:{K2},a:{K1}"
    assert crypto.keyring().current == "b"
    assert crypto.decrypt(old, "l") == "IBAN1"
    new = crypto.reencrypt(old, "l")
    assert crypto.key_id_of(new) == "b" and crypto.decrypt(new, "l") == "IBAN1"
    assert crypto.reencrypt(new, "l") == new
    # the lookup key derives from the oldest key: unchanged by the rotation
    assert crypto.blind_index("IBAN1", "l") == idx
    assert crypto.blind_index("IBAN1", "other") != idx


def test_missing_key_is_a_clear_error(settings):
    settings.TRADECRM_ENCRYPTION_KEYS = f"a:{K1}"
    v = crypto.encrypt("x", "l")
    settings.TRADECRM_ENCRYPTION_KEYS = f"b:{K2}"
    with pytest.raises(crypto.MissingKeyError, match="'a'"):
        crypto.decrypt(v, "l")


def test_bad_key_config(settings):
    settings.TRADECRM_ENCRYPTION_KEYS = "a:notbase64!"
    with pytest.raises(crypto.MissingKeyError, match="base64"):
        crypto.keyring()
    settings.TRADECRM_ENCRYPTION_KEYS = "a:" + base64.b64encode(b"short").decode()
    with pytest.raises(crypto.MissingKeyError, match="32 bytes"):
        crypto.keyring()


def test_key_file_created_0600_on_first_use(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("TRADECRM_KEY_FILE", raising=False)
    settings.TRADECRM_ENCRYPTION_KEYS = ""
    settings.TRADECRM_KEY_FILE = str(tmp_path / "keys" / "k.keys")
    with pytest.raises(crypto.MissingKeyError, match="keys init"):
        crypto.keyring()
    v = crypto.encrypt("hello", "l")  # first encryption creates the file
    path = tmp_path / "keys" / "k.keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = crypto.keyring()
    assert ring.index_source == "index" and v.startswith(f"v1:{ring.current}:")
    assert crypto.decrypt(v, "l") == "hello"


def test_explicit_key_file_is_never_created(settings, tmp_path, monkeypatch):
    settings.TRADECRM_ENCRYPTION_KEYS = ""
    settings.TRADECRM_KEY_FILE = str(tmp_path / "nope.keys")
    monkeypatch.setitem(os.environ, "TRADECRM_KEY_FILE", str(tmp_path / "nope.keys"))
    with pytest.raises(crypto.MissingKeyError):
        crypto.encrypt("x", "l")
    assert not (tmp_path / "nope.keys").exists()


def test_bytes_round_trip():
    blob = crypto.encrypt_bytes(b"%PDF-1.4 secret", "file")
    assert crypto.is_encrypted_bytes(blob) and b"secret" not in blob
    assert crypto.file_key_id(blob) == "test1"
    assert crypto.decrypt_bytes(blob, "file") == b"%PDF-1.4 secret"
    assert crypto.decrypt_bytes(b"plain old file", "file") == b"plain old file"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_bytes(blob, "other")


def test_field_refuses_value_lookups():
    field = crypto.EncryptedTextField(label="x.y.z")
    with pytest.raises(FieldError):
        field.get_lookup("icontains")
    lookup = field.get_lookup("exact")
    assert lookup is not None
