"""Who may call /api/v1/: bearer tokens and the web UI's session."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tradecrm.accounts.auth import user_for_token
from tradecrm.accounts.models import ApiToken

URL = "/api/v1/tags"


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def token(alice):
    return ApiToken.issue(alice, "script")


def test_valid_token_is_accepted_and_acts_as_its_user(client, token, alice):
    _tok, raw = token
    resp = client.post(URL, {"name": "Hot lead"}, content_type="application/json", **bearer(raw))
    assert resp.status_code == 201
    assert resp.json()["team_id"] == alice.team_id  # created as alice, in her team


def test_no_credentials_is_401_with_a_bearer_challenge(client, db):
    resp = client.get(URL)
    assert resp.status_code == 401
    assert resp["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in resp.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer tcrm_not-a-real-token", "Bearer ", "Bearer " + "x" * 5000])
def test_unknown_token_is_401(client, token, header):
    resp = client.get(URL, HTTP_AUTHORIZATION=header)
    assert resp.status_code == 401
    assert resp["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_other_auth_schemes_are_not_accepted(client, token):
    assert client.get(URL, HTTP_AUTHORIZATION="Basic YWxpY2U6cHc=").status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION=token[1]).status_code == 401  # raw token without "Bearer"


def test_revoked_token_is_refused(client, token):
    tok, raw = token
    assert client.get(URL, **bearer(raw)).status_code == 200
    ApiToken.objects.filter(pk=tok.pk).update(revoked_at=timezone.now())
    assert client.get(URL, **bearer(raw)).status_code == 401


def test_token_of_a_deactivated_user_is_refused(client, token, alice):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert client.get(URL, **bearer(token[1])).status_code == 401


def test_bad_token_is_refused_even_with_a_signed_in_session(client_for, token, alice):
    c = client_for(alice)
    assert c.get(URL).status_code == 200
    assert c.get(URL, **bearer("tcrm_wrong")).status_code == 401


def test_tokens_are_stored_hashed(token):
    tok, raw = token
    stored = ApiToken.objects.get(pk=tok.pk)
    assert raw not in (stored.key_hash, stored.prefix) and stored.key_hash == ApiToken.hash(raw)


def test_auth_is_one_query_and_last_used_is_written_once_a_minute(token, django_assert_num_queries):
    tok, raw = token
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        with django_assert_num_queries(2):  # first use: look-up + last_used_at
            assert user_for_token(raw).username == "alice"
        with django_assert_num_queries(1):
            user_for_token(raw)
    assert ApiToken.objects.get(pk=tok.pk).last_used_at == dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, 59, tzinfo=dt.UTC), tick=False):
        with django_assert_num_queries(1):
            user_for_token(raw)
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 1, 0, tzinfo=dt.UTC), tick=False):
        with django_assert_num_queries(2):
            user_for_token(raw)
    assert ApiToken.objects.get(pk=tok.pk).last_used_at == dt.datetime(2026, 3, 1, 9, 1, tzinfo=dt.UTC)


def test_a_whole_api_request_costs_one_auth_query(client, token, django_assert_num_queries):
    raw = token[1]
    client.get(URL, **bearer(raw))  # sets last_used_at
    with django_assert_num_queries(2):  # token + the tag page
        assert client.get(URL, **bearer(raw)).status_code == 200


def test_token_user_language_is_used(client, token, alice):
    alice.language = "zh-hans"
    alice.save(update_fields=["language"])
    resp = client.get(URL, HTTP_ACCEPT_LANGUAGE="en", **bearer(token[1]))
    assert resp["Content-Language"] == "zh-hans"
    alice.language = "en"
    alice.save(update_fields=["language"])
    resp = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans", **bearer(token[1]))
    assert resp["Content-Language"] == "en"


# --- the web UI's session ---------------------------------------------------------------------


def test_session_can_read(client_for, alice):
    assert client_for(alice).get(URL).status_code == 200


def test_session_writes_need_the_csrf_token(alice):
    c = Client(enforce_csrf_checks=True)
    c.force_login(alice)
    resp = c.post(URL, {"name": "No CSRF"}, content_type="application/json")
    assert resp.status_code == 403
    assert "CSRF" in resp.json()["detail"]
    secret = "abcdefghijklmnopqrstuvwxyz012345"  # a CSRF secret is 32 letters and digits
    c.cookies["csrftoken"] = secret
    resp = c.post(URL, {"name": "Wrong CSRF"}, content_type="application/json", HTTP_X_CSRFTOKEN="z" * 32)
    assert resp.status_code == 403
    resp = c.post(URL, {"name": "With CSRF"}, content_type="application/json", HTTP_X_CSRFTOKEN=secret)
    assert resp.status_code == 201, resp.content


def test_without_session_or_token_a_write_is_401_not_a_csrf_error(db):
    resp = Client(enforce_csrf_checks=True).post(URL, {"name": "x"}, content_type="application/json")
    assert resp.status_code == 401


def test_tokens_need_no_csrf(token):
    c = Client(enforce_csrf_checks=True)
    resp = c.post(URL, {"name": "Script tag"}, content_type="application/json", **bearer(token[1]))
    assert resp.status_code == 201
