import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tradecrm.accounts.bootstrap import ensure_first_admin
from tradecrm.accounts.models import ApiToken, User


def test_createuser_takes_password_from_env_and_creates_team(db, monkeypatch):
    monkeypatch.setenv("TRADECRM_PASSWORD", "a-long-secret-42")
    out = io.StringIO()
    call_command("createuser", "--username", "mia", "--role", "manager", "--team", "Dubai", stdout=out)
    user = User.objects.get(username="mia")
    assert user.role == "manager" and user.team.name == "Dubai"
    assert user.check_password("a-long-secret-42")
    assert "Created manager mia in team Dubai" in out.getvalue()


def test_createuser_refuses_weak_password_and_duplicate(db, monkeypatch):
    monkeypatch.setenv("TRADECRM_PASSWORD", "123")
    with pytest.raises(CommandError, match="password"):
        call_command("createuser", "--username", "mia", "--role", "sales")
    assert not User.objects.filter(username="mia").exists()
    monkeypatch.setenv("TRADECRM_PASSWORD", "a-long-secret-42")
    call_command("createuser", "--username", "mia", "--role", "sales", stdout=io.StringIO())
    with pytest.raises(CommandError, match="taken"):
        call_command("createuser", "--username", "mia", "--role", "sales")


def test_token_create_prints_token_last_and_stores_only_hash(alice):
    out = io.StringIO()
    call_command("token", "create", "alice", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert raw.startswith("tcrm_") and len(raw) > 30
    tok = ApiToken.objects.get(user=alice)
    assert tok.key_hash == ApiToken.hash(raw) and raw not in tok.key_hash


def test_token_create_unknown_user(db):
    with pytest.raises(CommandError, match="No active user"):
        call_command("token", "create", "nobody")


def test_first_admin_gets_generated_password_once(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    name, pw = ensure_first_admin()
    name2, pw2 = ensure_first_admin()
    assert name == name2 == "admin" and pw == pw2 and len(pw) >= 12
    assert User.objects.get(username="admin").check_password(pw)
    admin = User.objects.get(username="admin")
    admin.set_password("changed-by-the-admin")
    admin.save()
    assert ensure_first_admin() == ("admin", None)
    assert not (tmp_path / "initial-admin-password").exists()
