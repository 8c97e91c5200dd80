"""Session expiry: idle timeout and absolute length, signed out with a message."""

import datetime as dt

import pytest
import time_machine

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
PW = "pw-alice-12345"


@pytest.fixture(autouse=True)
def _expiry_on(settings):
    settings.TRADECRM_SESSION_IDLE_MINUTES = 120
    settings.SESSION_COOKIE_AGE = 12 * 3600


def _signed_in(client):
    assert client.post("/login/", {"username": "alice", "password": PW}).status_code == 302


def test_idle_session_is_signed_out_with_a_message(client, alice):
    with time_machine.travel(T0, tick=False) as t:
        _signed_in(client)
        t.shift(dt.timedelta(minutes=119))
        assert client.get("/customers/").status_code == 200  # activity: the idle clock restarts
        t.shift(dt.timedelta(minutes=119))
        assert client.get("/customers/").status_code == 200
        t.shift(dt.timedelta(minutes=121))
        r = client.get("/customers/")
        assert r.status_code == 302 and r["Location"].startswith("/login/")
        assert "_auth_user_id" not in client.session
        page = client.get(r["Location"]).content.decode()
        assert "signed out after 120 minutes without activity" in page


def test_absolute_expiry_even_when_active(client, alice):
    with time_machine.travel(T0, tick=False) as t:
        _signed_in(client)
        for _ in range(12):
            t.shift(dt.timedelta(minutes=59))
            assert client.get("/customers/").status_code == 200
        t.shift(dt.timedelta(minutes=13))  # 12 h 1 min after signing in
        r = client.get("/customers/")
        assert r.status_code == 302
        assert "12 hours after you signed in" in client.get(r["Location"]).content.decode()


def test_api_session_expires_too(client, alice):
    with time_machine.travel(T0, tick=False) as t:
        _signed_in(client)
        assert client.get("/api/v1/tags").status_code == 200
        t.shift(dt.timedelta(hours=3))
        assert client.get("/api/v1/tags").status_code == 401


def test_idle_off(client, alice, settings):
    settings.TRADECRM_SESSION_IDLE_MINUTES = 0
    with time_machine.travel(T0, tick=False) as t:
        _signed_in(client)
        t.shift(dt.timedelta(hours=11))
        assert client.get("/customers/").status_code == 200
