"""API tokens: scopes per area (read = GET, write = all), expiry (401), the page, the API and
the command line. A token is its owner's: dave cannot see or revoke alice's (404)."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from tradecrm.accounts.models import ApiToken
from tradecrm.security import services
from tradecrm.security.scopes import allows, area_of

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def make(user, **kw):
    return services.api_token_create(actor=user, user=user, **kw)


def test_read_scope_allows_get_and_refuses_writes(client, alice):
    _t, raw = make(alice, scopes=["customers:read"])
    assert client.get("/api/v1/tags", **bearer(raw)).status_code == 200
    r = client.post("/api/v1/tags", {"name": "Hot"}, content_type="application/json", **bearer(raw))
    assert r.status_code == 403 and "customers:read" in r.json()["detail"]


def test_write_scope_allows_writes(client, alice):
    _t, raw = make(alice, scopes=["customers:write"])
    r = client.post("/api/v1/tags", {"name": "Hot"}, content_type="application/json", **bearer(raw))
    assert r.status_code == 201


def test_other_area_is_refused(client, alice):
    _t, raw = make(alice, scopes=["orders:write"])
    assert client.get("/api/v1/tags", **bearer(raw)).status_code == 403
    assert client.get("/api/v1/orders", **bearer(raw)).status_code == 200


def test_a_scoped_token_cannot_mint_a_wider_one(client, alice):
    _t, raw = make(alice, scopes=["customers:write"])
    r = client.post("/api/v1/api-tokens", {"name": "x"}, content_type="application/json", **bearer(raw))
    assert r.status_code == 403


def test_unscoped_token_keeps_full_rights(client, alice):
    _t, raw = ApiToken.issue(alice, "old")  # issued before scopes existed
    assert client.get("/api/v1/orders", **bearer(raw)).status_code == 200
    assert (
        client.post("/api/v1/tags", {"name": "A"}, content_type="application/json", **bearer(raw)).status_code
        == 201
    )


def test_expired_token_is_401_with_a_clear_message(client, alice):
    with time_machine.travel(T0, tick=False) as t:
        _t, raw = make(alice, days=30)
        assert client.get("/api/v1/tags", **bearer(raw)).status_code == 200
        t.shift(dt.timedelta(days=30))
        r = client.get("/api/v1/tags", **bearer(raw))
        assert r.status_code == 401
        assert "expired on 2026-06-03 09:00 UTC" in r.json()["detail"]
        assert "expired" in r["WWW-Authenticate"]


def test_auth_is_still_one_query(client, alice, django_assert_num_queries):
    _t, raw = make(alice, scopes=["customers:read"], days=5)
    client.get("/api/v1/tags", **bearer(raw))
    with django_assert_num_queries(2):  # token + the tag page
        assert client.get("/api/v1/tags", **bearer(raw)).status_code == 200


def test_area_table():
    assert area_of("/api/v1/companies/3") == "customers"
    assert area_of("/api/v1/proforma-invoices") == "documents"
    assert area_of("/api/v1/nothing-here") is None
    assert not allows(["customers:read"], "GET", "/api/v1/nothing-here")
    assert allows([], "DELETE", "/api/v1/nothing-here")


# --- API ---------------------------------------------------------------------------------------


def test_api_create_list_revoke(client_for, alice):
    c = client_for(alice)
    r = c.post("/api/v1/api-tokens", {"name": "ERP", "scopes": ["orders:read"], "expires_in_days": 7},
               content_type="application/json")  # fmt: skip
    assert r.status_code == 201
    body = r.json()
    assert body["token"].startswith("tcrm_") and body["scopes"] == ["orders:read"] and body["expires_at"]
    listed = c.get("/api/v1/api-tokens").json()["items"]
    assert [t["id"] for t in listed] == [body["id"]] and "token" not in listed[0]
    assert c.delete(f"/api/v1/api-tokens/{body['id']}").status_code == 204
    assert ApiToken.objects.get(pk=body["id"]).revoked_at is not None


def test_api_bad_input_names_the_field(client_for, alice):
    r = client_for(alice).post(
        "/api/v1/api-tokens", {"scopes": ["customers:admin"]}, content_type="application/json"
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "scopes"
    r = client_for(alice).post("/api/v1/api-tokens", {"expires_in_days": 0}, content_type="application/json")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "expires_in_days"
    assert not ApiToken.objects.exists()


def test_dave_cannot_revoke_alices_token(client_for, alice, dave):
    tok, raw = make(alice)
    assert client_for(dave).delete(f"/api/v1/api-tokens/{tok.pk}").status_code == 404
    assert client_for(dave).post(f"/account/api-tokens/{tok.pk}/revoke/").status_code == 404
    assert tok.pk not in [t["id"] for t in client_for(dave).get("/api/v1/api-tokens").json()["items"]]
    tok.refresh_from_db()
    assert tok.revoked_at is None


# --- the page ----------------------------------------------------------------------------------


def test_page_creates_shows_once_and_revokes(client_for, alice):
    c = client_for(alice)
    r = c.post("/account/api-tokens/", {"name": "Sheet", "days": "30", "area_customers": "read"})
    assert r.status_code == 201
    tok = ApiToken.objects.get(user=alice)
    assert tok.scopes == ["customers:read"] and tok.expires_at is not None
    assert b'data-testid="new-token"' in r.content
    assert b'data-testid="new-token"' not in c.get("/account/api-tokens/").content
    assert c.post(f"/account/api-tokens/{tok.pk}/revoke/").status_code == 302
    tok.refresh_from_db()
    assert tok.revoked_at is not None


def test_page_refuses_bad_days(client_for, alice):
    r = client_for(alice).post("/account/api-tokens/", {"days": "0"})
    assert r.status_code == 422 and b'data-testid="error-days"' in r.content
    assert not ApiToken.objects.exists()


# --- command line ------------------------------------------------------------------------------


def test_cli_create_with_scopes_and_days(alice):
    out = StringIO()
    call_command("token", "create", "alice", "--scope", "customers:read", "--scope", "orders:write", "--days", "10",
                 stdout=out)  # fmt: skip
    raw = out.getvalue().strip().splitlines()[-1]
    tok = ApiToken.objects.get(key_hash=ApiToken.hash(raw))
    assert tok.scopes == ["customers:read", "orders:write"] and tok.expires_at is not None


def test_cli_refuses_unknown_scope(alice):
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("token", "create", "alice", "--scope", "everything")
