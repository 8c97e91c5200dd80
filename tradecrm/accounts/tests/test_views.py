"""Sign in, sign out and the language switch (saved on the user, remembered across sessions)."""

import pytest
from django.conf import settings
from django.test import Client

from tradecrm.accounts.models import User

pytestmark = pytest.mark.django_db


def test_sign_in_page_renders_styled_form(client):
    r = client.get("/login/")
    html = r.content.decode()
    assert r.status_code == 200 and 'class="form-control"' in html and "vendor/tabler/tabler.min.css" in html


def test_sign_in_and_out(client, alice):
    r = client.post("/login/", {"username": "alice", "password": "pw-alice-12345"})
    assert r.status_code == 302 and r["Location"] == "/customers/"
    assert client.get("/customers/").status_code == 200
    assert client.get("/logout/").status_code == 405  # signing out is a POST (a form button)
    r = client.post("/logout/")
    assert r.status_code == 302 and r["Location"] == "/login/"
    assert client.get("/customers/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client, alice):
    r = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert r.status_code == 200
    assert "correct username and password" in r.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_follows_next_but_not_offsite(client, alice):
    r = client.post(
        "/login/?next=/tags/", {"username": "alice", "password": "pw-alice-12345", "next": "/tags/"}
    )
    assert r["Location"] == "/tags/"
    c = Client()
    r = c.post(
        "/login/", {"username": "alice", "password": "pw-alice-12345", "next": "https://evil.example/"}
    )
    assert r["Location"] == "/customers/"


def test_root_goes_to_the_customer_list(client_for, alice):
    r = client_for(alice).get("/")
    assert r.status_code == 302 and r["Location"] == "/customers/"


def test_language_switch_is_saved_on_the_user(client_for, alice):
    c = client_for(alice)
    r = c.post("/language/", {"language": "zh-hans", "next": "/tags/"})
    assert r.status_code == 302 and r["Location"] == "/tags/"
    alice.refresh_from_db()
    assert alice.language == "zh-hans"
    assert r.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    # remembered in a new session on another browser (no cookie): the user's setting wins
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(alice)
    html = other.get("/customers/").content.decode()
    assert '<html lang="zh-hans">' in html
    c.post("/language/", {"language": "en"})
    alice.refresh_from_db()
    assert alice.language == "en"
    assert '<html lang="en">' in other.get("/customers/").content.decode()


def test_language_switch_rejects_unknown_languages_and_offsite_next(client_for, alice):
    c = client_for(alice)
    r = c.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert r.status_code == 302 and r["Location"] == "/customers/"
    alice.refresh_from_db()
    assert alice.language == "en"
    assert c.get("/language/").status_code == 405


def test_language_switch_before_sign_in_uses_a_cookie(client):
    r = client.post("/language/", {"language": "zh-hans", "next": "/login/"})
    assert r["Location"] == "/login/"
    assert '<html lang="zh-hans">' in client.get("/login/").content.decode()


def test_saved_language_applies_after_sign_in(client, alice):
    User.objects.filter(pk=alice.pk).update(language="zh-hans")
    client.post("/login/", {"username": "alice", "password": "pw-alice-12345"})
    assert '<html lang="zh-hans">' in client.get("/customers/").content.decode()


def test_preferences_save_language_and_time_zone(client_for, alice):
    c = client_for(alice)
    html = c.get("/account/").content.decode()
    assert '<option value="Asia/Shanghai" selected>' in html
    r = c.post(
        "/account/",
        {
            "first_name": "Alice",
            "last_name": "Wang",
            "language": "zh-hans",
            "timezone": "Europe/Berlin",
            "work_start": "09:00",
            "work_end": "22:00",
        },
    )
    assert r.status_code == 302
    alice.refresh_from_db()
    assert (alice.language, alice.timezone, alice.last_name) == ("zh-hans", "Europe/Berlin", "Wang")
    assert "Europe/Berlin" in c.get("/customers/").content.decode()  # the clock in the header


def test_preferences_reject_unknown_zone(client_for, alice):
    r = client_for(alice).post("/account/", {"language": "en", "timezone": "Mars/Olympus"})
    assert r.status_code == 422 and "timezone" in r.context["form"].errors
    alice.refresh_from_db()
    assert alice.timezone == "Asia/Shanghai"


def test_language_chosen_on_the_sign_in_page_is_kept_on_the_account(client, alice, bob):
    client.post("/language/", {"language": "zh-hans", "next": "/login/"})
    client.post("/login/", {"username": "alice", "password": "pw-alice-12345"})
    alice.refresh_from_db()
    assert alice.language == "zh-hans"
    # the next person on this browser keeps their own setting: sign-out flushed the choice
    client.post("/logout/")
    client.post("/login/", {"username": "bob", "password": "pw-bob-12345"})
    bob.refresh_from_db()
    assert bob.language == "en"
    assert '<html lang="en">' in client.get("/customers/").content.decode()
