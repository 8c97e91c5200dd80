"""The bell, the notification centre and the notifications API."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tradecrm.accounts.models import ApiToken
from tradecrm.followups import notifications as notes
from tradecrm.followups.models import Notification
from tradecrm.followups.notification_api import NotificationOut, NotificationPage, ReadAllOut

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def make_notes(user, n, start=T0):
    """n notifications, one minute apart, the last the newest."""
    Notification.objects.bulk_create(
        Notification(
            user=user,
            kind="followup_due",
            params={"title": f"Task {i}", "company": "Acme"},
            url=f"/customers/{i}/",
            created_at=start + timedelta(minutes=i),
        )
        for i in range(n)
    )
    return list(Notification.objects.filter(user=user).order_by("created_at", "id"))


def api_for(user):
    _tok, raw = ApiToken.issue(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


# --- the bell -----------------------------------------------------------------------------------


def test_header_polls_the_bell_every_minute_without_querying_for_it(client_for, alice):
    html = client_for(alice).get("/customers/").content.decode()
    assert 'data-testid="notification-bell"' in html
    assert 'hx-get="/notifications/bell/" hx-trigger="every 60s' in html
    # the count swaps itself, not the dropdown the bell's link targets (htmx inherits hx-target)
    assert html.count('hx-get="/notifications/bell/"') == html.count('hx-target="this"') == 2


def test_fragments_show_times_in_the_users_zone(client_for, alice):
    alice.timezone = "Europe/Berlin"
    alice.save(update_fields=["timezone"])
    (n,) = make_notes(alice, 1)  # 08:00 UTC = 09:00 in Berlin
    c = client_for(alice)
    assert "23 Nov 09:00" in c.get("/notifications/bell/menu/").content.decode()
    alice.language = "zh-hans"
    alice.save(update_fields=["language"])
    zh = client_for(alice).get("/notifications/bell/menu/")
    assert "11月23日 09:00" in zh.content.decode()  # Chinese date order, not "23 11月"
    row = c.post(f"/notifications/{n.id}/read/", headers={"HX-Request": "true"}).content.decode()
    assert "2026-11-23 09:00" in row


def test_bell_count_costs_one_query_besides_session_and_user(client_for, alice, bob):
    make_notes(alice, 3)
    make_notes(bob, 2)
    c = client_for(alice)
    with CaptureQueriesContext(connection) as ctx:
        r = c.get("/notifications/bell/")
    own = [
        q["sql"]
        for q in ctx.captured_queries
        if "django_session" not in q["sql"] and "accounts_user" not in q["sql"]
    ]
    assert len(own) <= 2, own
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    assert 'data-testid="notification-count"' in r.content.decode() and ">3</span>" in r.content.decode()
    notes.mark_read(alice, "all")
    assert "notification-count" not in c.get("/notifications/bell/").content.decode()


def test_bell_caps_the_count(client_for, alice):
    make_notes(alice, 100)
    assert ">99+</span>" in client_for(alice).get("/notifications/bell/").content.decode()


def test_bell_menu_lists_the_latest_few_newest_first(client_for, alice):
    make_notes(alice, 8)
    html = client_for(alice).get("/notifications/bell/menu/").content.decode()
    assert html.count('data-unread="1"') == 6
    assert html.index("Task 7") < html.index("Task 6") and "Task 1 —" not in html


def test_bell_requires_sign_in(client):
    assert client.get("/notifications/bell/").status_code == 302


# --- the notification centre --------------------------------------------------------------------


def test_centre_pages_newest_first_with_a_cursor(client_for, alice):
    rows = make_notes(alice, 35)
    notes.mark_read(alice, [rows[-1].id])
    c = client_for(alice)
    r = c.get("/notifications/")
    html = r.content.decode()
    assert html.count('data-testid="notification"') == 30
    assert html.index("Task 34") < html.index("Task 33") < html.index("Task 5 —")
    assert html.count('data-unread="0"') == 1 and "Task 4 —" not in html
    nxt = r.context["next_url"]
    html2 = c.get(nxt).content.decode()
    assert html2.count('data-testid="notification"') == 5 and "Task 0 —" in html2 and "Task 5 —" not in html2
    assert c.get("/notifications/?cursor=garbage").status_code == 400


def test_centre_unread_filter(client_for, alice):
    rows = make_notes(alice, 4)
    notes.mark_read(alice, [rows[0].id, rows[1].id])
    html = client_for(alice).get("/notifications/?unread=1").content.decode()
    assert html.count('data-testid="notification"') == 2 and "Task 0 —" not in html


def test_mark_one_read_by_htmx_and_by_form(client_for, alice):
    a, b = make_notes(alice, 2)
    c = client_for(alice)
    r = c.post(f"/notifications/{a.id}/read/", headers={"HX-Request": "true"})
    assert r.status_code == 200 and r["HX-Trigger"] == "notifications-changed"
    assert 'data-unread="0"' in r.content.decode()
    r = c.post(f"/notifications/{b.id}/read/", {"next": "/notifications/?unread=1"})
    assert r.status_code == 302 and r["Location"] == "/notifications/?unread=1"
    assert notes.unread_count(alice) == 0


def test_mark_all_read_only_touches_mine(client_for, alice, bob):
    make_notes(alice, 3)
    make_notes(bob, 2)
    r = client_for(alice).post("/notifications/read-all/", {"next": "https://evil.example/"})
    assert r.status_code == 302 and r["Location"] == "/notifications/"
    assert (notes.unread_count(alice), notes.unread_count(bob)) == (0, 2)


def test_open_follows_the_link_and_marks_read(client_for, alice):
    (n,) = make_notes(alice, 1)
    r = client_for(alice).get(f"/notifications/{n.id}/open/")
    assert r.status_code == 302 and r["Location"] == "/customers/0/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_open_refuses_an_off_site_link(client_for, alice):
    n = notes.notify(alice, "review_due", {"company": "X"}, url="https://evil.example/phish")
    assert client_for(alice).get(f"/notifications/{n.id}/open/")["Location"] == "/notifications/"


def test_another_users_notification_is_404_in_the_ui(client_for, alice, dave):
    (n,) = make_notes(alice, 1)
    c = client_for(dave)
    assert c.post(f"/notifications/{n.id}/read/").status_code == 404
    assert c.get(f"/notifications/{n.id}/open/").status_code == 404
    assert "Task 0" not in c.get("/notifications/").content.decode()
    n.refresh_from_db()
    assert n.read_at is None


# --- the API ------------------------------------------------------------------------------------


def test_api_lists_mine_newest_first_with_cursor_and_unread_filter(alice, bob):
    rows = make_notes(alice, 5)
    make_notes(bob, 2)
    notes.mark_read(alice, [rows[4].id])
    api = api_for(alice)
    body = api.get("/api/v1/notifications?limit=3").json()
    NotificationPage.model_validate(body)
    assert [i["id"] for i in body["items"]] == [rows[4].id, rows[3].id, rows[2].id]
    assert body["unread_count"] == 4 and body["items"][0]["read_at"] is not None
    assert body["items"][1]["text"] == "Follow-up due: Task 3 — Acme"
    more = api.get(f"/api/v1/notifications?limit=3&cursor={body['next_cursor']}").json()
    assert [i["id"] for i in more["items"]] == [rows[1].id, rows[0].id] and more["next_cursor"] is None
    unread = api.get("/api/v1/notifications?unread=true").json()
    assert rows[4].id not in [i["id"] for i in unread["items"]] and len(unread["items"]) == 4
    assert api.get("/api/v1/notifications?cursor=nonsense").status_code == 400


def test_api_mark_one_and_all(alice, bob):
    a, b, _c = make_notes(alice, 3)
    make_notes(bob, 1)
    api = api_for(alice)
    r = api.post(f"/api/v1/notifications/{a.id}/read")
    assert r.status_code == 200 and r.json()["read_at"] is not None and r.json()["id"] == a.id
    NotificationOut.model_validate(r.json())
    r = api.post("/api/v1/notifications/read-all")
    ReadAllOut.model_validate(r.json())
    assert r.json() == {"marked": 2, "unread_count": 0}
    assert notes.unread_count(bob) == 1


def test_api_another_users_notification_is_404(alice, dave):
    (n,) = make_notes(alice, 1)
    api = api_for(dave)
    r = api.post(f"/api/v1/notifications/{n.id}/read")
    assert r.status_code == 404 and r.json() == {"detail": "Not found."}
    assert api.post("/api/v1/notifications/99999999/read").status_code == 404
    assert api.get("/api/v1/notifications").json()["items"] == []
    n.refresh_from_db()
    assert n.read_at is None


def test_api_requires_authentication(client):
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/read-all").status_code == 401
