"""Brute force: N wrong passwords for one user name from one address lock that pair out for the
cool-off, with the reason on the sign-in page; failures are audited; an administrator unlocks."""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client

from tradecrm.audit.models import AuditEvent

PW = "pw-alice-12345"
T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)


def _fail(client, n, username="alice", **extra):
    for _ in range(n):
        r = client.post("/login/", {"username": username, "password": "wrong"}, **extra)
    return r


def test_five_failures_lock_the_user_out_with_a_message(client, alice):
    with time_machine.travel(T0, tick=False):
        r = _fail(client, 4)
        assert r.status_code == 200 and b"correct username and password" in r.content
        r = _fail(client, 1)
        assert r.status_code == 429
        html = r.content.decode()
        assert 'data-testid="lockout"' in html and "Try again in 15 minutes" in html
        assert 'name="password"' in html  # the sign-in page, not a bare error
        # even the right password is refused now
        r = client.post("/login/", {"username": "alice", "password": PW})
        assert r.status_code == 429 and "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.login_failed", changes__username="alice").count() >= 5


def test_lockout_is_per_user_and_address(client, alice, bob):
    with time_machine.travel(T0, tick=False):
        _fail(client, 5)
        # bob from the same address, and alice from another address, still sign in
        assert Client().post("/login/", {"username": "bob", "password": "pw-bob-12345"}).status_code == 302
        other = Client(REMOTE_ADDR="10.1.2.3")
        assert other.post("/login/", {"username": "alice", "password": PW}).status_code == 302


def test_lockout_ends_after_the_cool_off(client, alice):
    with time_machine.travel(T0, tick=False):
        _fail(client, 5)
    with time_machine.travel(T0 + dt.timedelta(minutes=16), tick=False):
        r = client.post("/login/", {"username": "alice", "password": PW})
        assert r.status_code == 302
        # a success resets the counter
        assert not AccessAttempt.objects.filter(username="alice").exists()


def test_admin_unlocks_on_the_security_page(client, alice, admin, client_for):
    _fail(client, 5)
    page = client_for(admin).get("/settings/security/")
    assert page.status_code == 200 and b'data-testid="locked-row"' in page.content
    r = client_for(admin).post("/settings/security/unlock/", {"username": "alice"})
    assert r.status_code == 302
    assert client.post("/login/", {"username": "alice", "password": PW}).status_code == 302
    assert AuditEvent.objects.filter(action="auth.unlock", changes__username="alice").exists()


def test_only_admins_see_the_security_page(client_for, alice, dave):
    assert client_for(dave).get("/settings/security/").status_code == 404
    assert client_for(dave).post("/settings/security/unlock/", {"username": "alice"}).status_code == 404


def test_cli_unlock(client, alice, capsys):
    _fail(client, 5)
    call_command("security", "locked")
    assert "alice" in capsys.readouterr().out
    call_command("security", "unlock", "alice")
    assert "removed" in capsys.readouterr().out
    assert client.post("/login/", {"username": "alice", "password": PW}).status_code == 302


def test_force_login_is_not_affected(client_for, alice):
    _fail(Client(), 5)
    assert client_for(alice).get("/customers/").status_code == 200
