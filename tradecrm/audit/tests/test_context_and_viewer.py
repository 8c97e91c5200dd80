import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from huey.contrib.djhuey import db_task

from tradecrm.audit import chain
from tradecrm.audit.context import current
from tradecrm.audit.models import AuditEvent
from tradecrm.audit.services import audit_record


@db_task()
def _task_writes_event(name):
    audit_record(actor=None, action="thing.task", object_type="x.thing", changes={"name": name})


def test_ui_login_logout_and_failed_login_are_audited_with_ip(alice):
    c = Client(REMOTE_ADDR="203.0.113.7")
    r = c.post(reverse("accounts:login"), {"username": "alice", "password": "wrong password!!"})
    assert r.status_code == 200
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.changes == {"username": "alice"} and failed.object_id == alice.pk
    assert (failed.source, failed.ip, failed.actor_id) == ("ui", "203.0.113.7", None)
    c.post(reverse("accounts:login"), {"username": "nobody", "password": "x"})
    assert AuditEvent.objects.get(action="auth.login_failed", changes__username="nobody").object_id is None
    r = c.post(reverse("accounts:login"), {"username": "alice", "password": "pw-alice-12345"})
    assert r.status_code == 302
    login = AuditEvent.objects.get(action="auth.login")
    assert (login.actor, login.source, login.ip, login.object_id) == (alice, "ui", "203.0.113.7", alice.pk)
    c.post(reverse("accounts:logout"))
    logout = AuditEvent.objects.get(action="auth.logout")
    assert (logout.actor, logout.ip) == (alice, "203.0.113.7")
    assert current().source == "cli"  # the request's context ended with it


def test_api_requests_are_attributed_to_api(alice, api_for):
    r = api_for(alice, REMOTE_ADDR="2001:db8::1").post(
        "/api/v1/tags", {"name": "VIP"}, content_type="application/json"
    )
    assert r.status_code == 201, r.content
    e = AuditEvent.objects.get(action="tag.create")
    assert (e.source, e.ip, e.actor) == ("api", "2001:db8::1", alice)


def test_proxy_count_takes_the_address_the_proxy_saw(alice, settings):
    settings.TRADECRM_PROXY_COUNT = 1
    c = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4")
    c.post(reverse("accounts:login"), {"username": "alice", "password": "nope-nope-nope"})
    assert AuditEvent.objects.get(action="auth.login_failed").ip == "198.51.100.4"


def test_task_source(db, monkeypatch):
    from huey.contrib.djhuey import HUEY

    monkeypatch.setattr(HUEY, "immediate", True)  # run at once, through the worker's hooks
    _task_writes_event("x")
    assert AuditEvent.objects.get(action="thing.task").source == "task"
    assert current().source == "cli"


def test_import_context(db):
    from tradecrm.audit.context import audit_context

    with audit_context(source="import"):
        audit_record(actor=None, action="thing.import", object_type="x.thing")
    assert AuditEvent.objects.get().source == "import"


# --- viewer ---------------------------------------------------------------------------------------


@pytest.fixture
def events(alice, bob, make_company):
    from tradecrm.customers.services import company_update

    c = make_company(city="Boston")
    company_update(actor=alice, company=c, version=c.version, data={"city": "Denver"})
    audit_record(actor=bob, action="thing.create", object_type="x.thing", object_id=5)
    AuditEvent.objects.filter(action="thing.create").update(at=dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC))
    chain.seal()
    return c


def test_viewer_lists_filters_and_pages_for_admins(admin, events, client_for):
    c = client_for(admin)
    r = c.get(reverse("audit:list"))
    assert r.status_code == 200
    rows = r.context["rows"]
    # signing in (force_login) is an event too
    assert [x["action"] for x in rows] == ["auth.login", "company.update", "company.create", "thing.create"]
    assert rows[0]["actor_name"] == "admin"
    r = c.get(reverse("audit:list"), {"actor": "bob"})
    assert [x["action"] for x in r.context["rows"]] == ["thing.create"]
    r = c.get(reverse("audit:list"), {"action": "company.", "object_type": "customers.company",
                                      "object_id": events.pk, "source": "cli"})  # fmt: skip
    assert [x["action"] for x in r.context["rows"]] == ["company.update", "company.create"]
    r = c.get(reverse("audit:list"), {"date_from": "2026-01-05", "date_to": "2026-01-05"})
    assert [x["action"] for x in r.context["rows"]] == ["thing.create"]
    r = c.get(reverse("audit:list"), {"source": "web", "date_from": "5/1/26"})
    assert r.status_code == 200 and len(r.context["rows"]) == 4
    assert "“web” is not a source" in r.content.decode()
    # keyset paging, 2 per page
    from tradecrm.audit import selectors

    f, _ = selectors.filters_from_params({"object_type": ""})
    f.action = ""
    AuditEvent.objects.filter(action="auth.login").delete()  # not sealed yet: still deletable
    page1, nxt, _prev = selectors.event_list(admin, f, limit=2)
    page2, nxt2, prev2 = selectors.event_list(admin, f, cursor=nxt, limit=2)
    assert [x["action"] for x in page1 + page2] == ["company.update", "company.create", "thing.create"]
    assert nxt2 is None and prev2 is not None
    assert c.get(reverse("audit:list"), {"cursor": nxt}).context["rows"][0]["action"] == "thing.create"
    assert c.get(reverse("audit:list"), {"cursor": "garbage"}).status_code == 302


def test_viewer_detail_shows_before_and_after(admin, events, client_for):
    e = AuditEvent.objects.get(action="company.update")
    r = client_for(admin).get(reverse("audit:detail", args=[e.pk]))
    assert r.status_code == 200
    assert r.context["change_rows"] == [{"field": "city", "before": "Boston", "after": "Denver"}]
    body = r.content.decode()
    assert "Boston" in body and "Denver" in body and e.hash in body


@pytest.mark.parametrize("who", ["alice", "carol", "dave"])
def test_viewer_is_for_admins_only(who, request, events, client_for):
    c = client_for(request.getfixturevalue(who))
    e = AuditEvent.objects.first()
    assert c.get(reverse("audit:list")).status_code == 404
    assert c.get(reverse("audit:detail", args=[e.pk])).status_code == 404


def test_api_list_detail_and_errors(admin, dave, events, api_for):
    api = api_for(admin)
    r = api.get("/api/v1/audit-events", {"object_type": "customers.company", "limit": 1})
    assert r.status_code == 200
    body = r.json()
    assert [i["action"] for i in body["items"]] == ["company.update"] and body["next_cursor"]
    assert body["items"][0]["actor"] == "alice" and body["items"][0]["seq"] == 2
    r = api.get("/api/v1/audit-events", {"object_type": "customers.company", "cursor": body["next_cursor"]})
    assert [i["action"] for i in r.json()["items"]] == ["company.create"]
    e = AuditEvent.objects.get(action="company.update")
    r = api.get(f"/api/v1/audit-events/{e.pk}")
    assert r.status_code == 200 and r.json()["changes"] == {"city": ["Boston", "Denver"]}
    r = api.get("/api/v1/audit-events", {"source": "web", "date_to": "2026-13-01"})
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["detail"]} == {"source", "date_to"}
    r = api.get("/api/v1/audit-events", {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "date_to"
    dave_api = api_for(dave)
    assert dave_api.get("/api/v1/audit-events").status_code == 404
    assert dave_api.get(f"/api/v1/audit-events/{e.pk}").status_code == 404
    assert api.get("/api/v1/audit-events/999999").status_code == 404
