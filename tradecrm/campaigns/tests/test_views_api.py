"""HTML and API endpoints: what each persona may do; dave (other team) gets 404 on every by-id
endpoint, HTML and API."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from tradecrm.campaigns import services
from tradecrm.campaigns.models import Campaign

NOW = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def api_for(db):
    from django.test import Client

    from tradecrm.accounts.models import ApiToken

    def make(user):
        _token, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture
def world(alice, customers, make_mailbox, campaign_data):
    box = make_mailbox(alice)
    draft = services.campaign_create(actor=alice, data=campaign_data([box], name="Draft one"))
    launched = services.campaign_create(actor=alice, data=campaign_data([box], name="Launched one"))
    with time_machine.travel(NOW, tick=False):
        services.campaign_launch(actor=alice, campaign=launched)
    return {"box": box, "draft": draft, "launched": launched}


def test_dave_gets_404_everywhere(world, dave, client_for, api_for):
    web, api = client_for(dave), api_for(dave)
    for c in (world["draft"], world["launched"]):
        for path in ("", "edit/", "preview/"):
            assert web.get(f"/campaigns/{c.pk}/{path}").status_code == 404, path
        for path in ("launch/", "pause/", "resume/", "cancel/"):
            assert web.post(f"/campaigns/{c.pk}/{path}").status_code == 404, path
        base = f"/api/v1/campaigns/{c.pk}"
        for path in ("", "/plan", "/recipients", "/report"):
            assert api.get(base + path).status_code == 404, path
        for path in ("/launch", "/pause", "/resume", "/cancel"):
            assert api.post(base + path).status_code == 404, path
        assert api.patch(base, data=json.dumps({"version": 1, "name": "x"}),
                         content_type="application/json").status_code == 404  # fmt: skip
    assert api.get("/api/v1/campaigns").json() == []
    assert b"Draft one" not in web.get("/campaigns/").content
    assert Campaign.objects.get(pk=world["draft"].pk).status == "draft"


def test_html_flow_create_preview_launch_report(alice, world, client_for, segment):
    web = client_for(alice)
    form = web.get("/campaigns/new/").content.decode()
    assert "{{ contact.first_name }}, {{ contact.last_name }}" in form  # the merge fields are listed
    r = web.post("/campaigns/new/", {"name": "Web one", "segment": segment.pk, "mailboxes": [world["box"].pk],
                                     "fallback_language": "en", "split_b": 0, "winner_metric": "clicks",
                                     "window_start": 9, "window_end": 9, "per_hour": 10, "per_day": 100,
                                     "attribution_days": 30, "subject_en": "Hi {{ contact.first_name }}",
                                     "body_en": "Hello"})  # fmt: skip
    assert r.status_code == 200 and "must end after it starts" in r.content.decode()
    r = web.post("/campaigns/new/", {"name": "Web one", "segment": segment.pk, "mailboxes": [world["box"].pk],
                                     "fallback_language": "en", "split_b": 0, "winner_metric": "clicks",
                                     "window_start": 9, "window_end": 11, "per_hour": 10, "per_day": 100,
                                     "attribution_days": 30, "subject_en": "Hi {{ contact.first_name }}",
                                     "body_en": "Hello", "subject_zh": "{{ contact.nme }}", "body_zh": "你好"})  # fmt: skip
    assert r.status_code == 200 and "contact.nme" in r.content.decode()
    r = web.post("/campaigns/new/", {"name": "Web one", "segment": segment.pk, "mailboxes": [world["box"].pk],
                                     "fallback_language": "en", "split_b": 0, "winner_metric": "clicks",
                                     "window_start": 9, "window_end": 11, "per_hour": 10, "per_day": 100,
                                     "attribution_days": 30, "subject_en": "Hi {{ contact.first_name }}",
                                     "body_en": "Hello", "tracking": "on"})  # fmt: skip
    assert r.status_code == 302
    c = Campaign.objects.get(name="Web one")
    page = web.get(f"/campaigns/{c.pk}/").content.decode()
    assert 'data-testid="plan-queued"' in page and "Duplicate address" in page and "No email address" in page
    prev = web.get(f"/campaigns/{c.pk}/preview/").content.decode()
    assert "Hi John" in prev
    with time_machine.travel(NOW, tick=False):
        assert web.post(f"/campaigns/{c.pk}/launch/").status_code == 302
    c.refresh_from_db()
    assert c.status == "scheduled" and c.launch_counts["queued"] == 4
    page = web.get(f"/campaigns/{c.pk}/").content.decode()
    assert 'data-testid="campaign-report"' in page and 'data-report-chart="campaign-chart"' in page
    assert "Opened (unreliable)" in page
    assert web.post(f"/campaigns/{c.pk}/pause/").status_code == 302
    c.refresh_from_db()
    assert c.status == "paused"
    assert web.get("/campaigns/").status_code == 200


def test_chinese_ui_renders(alice, world, client_for):
    web = client_for(alice)
    web.cookies["django_language"] = "zh-hans"
    for path in (
        "/campaigns/",
        f"/campaigns/{world['draft'].pk}/",
        f"/campaigns/{world['launched'].pk}/",
        f"/campaigns/{world['draft'].pk}/edit/",
        "/campaigns/new/",
    ):
        assert web.get(path).status_code == 200, path


def test_api_create_patch_launch_and_read(alice, world, api_for, segment):
    api = api_for(alice)
    body = {"name": "API one", "segment": segment.pk, "mailboxes": [world["box"].pk], "split_b": 30,
            "contents": [{"language": "en", "subject": "A {{ company.name }}", "subject_b": "B", "body": "Hi"}],
            "window_start": 9, "window_end": 17, "skip_weekends": False}  # fmt: skip
    bad = api.post(
        "/api/v1/campaigns", data=json.dumps({**body, "per_hour": 0}), content_type="application/json"
    )
    assert bad.status_code == 422 and any(d["field"] == "per_hour" for d in bad.json()["detail"])
    r = api.post("/api/v1/campaigns", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    cid = r.json()["id"]
    stale = api.patch(f"/api/v1/campaigns/{cid}", data=json.dumps({"version": 99, "name": "x"}),
                      content_type="application/json")  # fmt: skip
    assert stale.status_code == 409
    r = api.patch(f"/api/v1/campaigns/{cid}", data=json.dumps({"version": 1, "name": "API renamed"}),
                  content_type="application/json")  # fmt: skip
    assert r.status_code == 200 and r.json()["name"] == "API renamed" and r.json()["version"] == 2
    assert api.get(f"/api/v1/campaigns/{cid}/plan").json()["queued"] == 4
    with time_machine.travel(NOW, tick=False):
        r = api.post(f"/api/v1/campaigns/{cid}/launch")
        assert r.status_code == 200 and r.json()["skipped"] == {"duplicate": 1, "no_email": 1}
        again = api.post(f"/api/v1/campaigns/{cid}/launch")
    assert again.status_code == 422 and "launched already" in again.content.decode()
    page = api.get(f"/api/v1/campaigns/{cid}/recipients?status=queued&limit=3").json()
    assert len(page["items"]) == 3 and page["next_after"] == page["items"][-1]["id"]
    rest = api.get(f"/api/v1/campaigns/{cid}/recipients?status=queued&after={page['next_after']}").json()
    assert len(rest["items"]) == 1 and rest["next_after"] is None
    rep = api.get(f"/api/v1/campaigns/{cid}/report").json()
    assert (
        rep["totals"]["recipients"] == 4
        and rep["opens_note"] == "unreliable"
        and set(rep["variants"]) <= {"a", "b"}
    )
    assert api.post(f"/api/v1/campaigns/{cid}/pause").json()["status"] == "paused"
    assert api.post(f"/api/v1/campaigns/{cid}/resume").json()["status"] == "sending"
    assert api.post(f"/api/v1/campaigns/{cid}/cancel").json()["status"] == "cancelled"
    assert api.post(f"/api/v1/campaigns/{cid}/resume").status_code == 422
    assert [c["name"] for c in api.get("/api/v1/campaigns").json()][0] == "API renamed"


def test_teammate_sees_as_his_customers_manager_and_admin_edit(world, bob, carol, admin, api_for):
    """A rep sees the campaigns his visibility of customers allows (here: his own only)."""
    c = world["launched"]
    assert api_for(bob).get(f"/api/v1/campaigns/{c.pk}").status_code == 404
    assert api_for(bob).post(f"/api/v1/campaigns/{c.pk}/pause").status_code == 404
    assert api_for(carol).get(f"/api/v1/campaigns/{c.pk}").json()["can_edit"] is True
    assert api_for(carol).post(f"/api/v1/campaigns/{c.pk}/pause").json()["status"] == "paused"
    assert api_for(admin).post(f"/api/v1/campaigns/{c.pk}/resume").json()["status"] == "sending"


def test_cli_send_due(world, smtp):
    from io import StringIO

    from django.core.management import call_command

    from tradecrm.mailbox.models import Mailbox

    Mailbox.objects.filter(pk=world["box"].pk).update(smtp_port=smtp.port)
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("campaigns", "send-due", "--json", stdout=out)
    assert json.loads(out.getvalue())["sent"] == 1  # Berlin is in its window
