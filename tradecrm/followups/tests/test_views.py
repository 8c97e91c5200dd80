"""Follow-up web UI: access (404 to dave on every object view, 403 on admin/manager pages), My day
in the user's day, the customer panel over htmx, one-step completion with a logged interaction,
warnings, the team view and the reminder-rules admin."""

import datetime as dt

import pytest
from django.urls import reverse

from tradecrm.customers.models import Company
from tradecrm.followups.models import CadenceRule, FollowUp
from tradecrm.followups.services import followup_create
from tradecrm.interactions.models import Interaction

from .conftest import NOW

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def _object_urls(f):
    return [
        ("get", reverse("followups:edit", args=[f.pk])),
        ("post", reverse("followups:edit", args=[f.pk])),
        ("get", reverse("followups:complete", args=[f.pk])),
        ("post", reverse("followups:complete", args=[f.pk])),
        ("post", reverse("followups:cancel", args=[f.pk])),
        ("post", reverse("followups:reopen", args=[f.pk])),
        ("get", reverse("followups:delete", args=[f.pk])),
        ("post", reverse("followups:delete", args=[f.pk])),
        ("get", reverse("followups:company_panel", args=[f.company_id])),
        ("get", reverse("followups:create", args=[f.company_id])),
        ("post", reverse("followups:create", args=[f.company_id])),
        ("post", reverse("followups:company_reviewed", args=[f.company_id])),
    ]


def test_anonymous_is_sent_to_sign_in(client, make_followup):
    f = make_followup()
    for _method, url in [("get", reverse("followups:my_day")), *_object_urls(f)[:1]]:
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/")


@pytest.mark.parametrize("persona", ["dave", "bob"])
def test_other_users_get_404_on_every_object_view(request, client_for, make_followup, persona):
    f = make_followup()
    c = client_for(request.getfixturevalue(persona))
    for method, url in _object_urls(f):
        r = getattr(c, method)(url, {"version": 1, "title": "x", "due_at": "2026-03-09T09:00"})
        assert r.status_code == 404, (method, url)
    f.refresh_from_db()
    assert (f.status, f.title, f.version) == ("open", "Call about the sample", 1)
    assert Company.objects.get(pk=f.company_id).reviewed_at is None


def test_manager_and_assignee_open_the_object_views(client_for, carol, bob, alice, acme, make_followup):
    f = make_followup(actor=alice, assignee=None)
    assert client_for(carol).get(reverse("followups:edit", args=[f.pk])).status_code == 200
    handed = followup_create(
        actor=carol, company=acme, data={"title": "x", "due_at": "2026-03-09", "assignee": alice.pk}
    )
    FollowUp.objects.filter(pk=handed.pk).update(assignee=bob)
    assert client_for(bob).get(reverse("followups:complete", args=[handed.pk])).status_code == 200


def test_my_day_groups_by_the_users_own_day(client_for, alice, acme, make_followup):
    make_followup(title="Late one", due_at="2026-03-03T09:00")
    make_followup(title="This afternoon", due_at="2026-03-04T15:00")  # NOW is 10:00 in Shanghai
    make_followup(title="Just before midnight", due_at="2026-03-04T23:30")
    make_followup(title="Next week", due_at="2026-03-10T09:00")
    make_followup(title="Far away", due_at="2026-04-10T09:00")
    r = client_for(alice).get(reverse("followups:my_day"))
    assert r.status_code == 200
    day = r.context["day"]
    assert [f.title for f in day.overdue] == ["Late one"]
    assert [f.title for f in day.today] == ["This afternoon", "Just before midnight"]
    assert [f.title for f in day.upcoming] == ["Next week"]
    assert day.counts == {"overdue": 1, "today": 2, "upcoming": 1}
    html = r.content.decode()
    assert "Wed 2026-03-04 15:00" in html  # alice's time
    assert "Wed 01:00 customer time" in html  # 15:00 in Shanghai is 01:00 in Chicago
    assert 'class="nav-item active"' in html and "My day" in html


def test_overdue_badge(client_for, alice, make_followup):
    make_followup(due_at="2026-03-01T09:00")
    r = client_for(alice).get(reverse("followups:badge"))
    assert 'data-testid="overdue-badge"' in r.content.decode() and ">1<" in r.content.decode()


def test_panel_shows_last_contact_next_followup_and_rows(client_for, alice, acme, make_followup):
    Company.objects.filter(pk=acme.pk).update(last_contact_at=NOW - dt.timedelta(days=5))
    f = make_followup(title="Send samples", due_at="2026-03-06T09:00")
    c = client_for(alice)
    html = c.get(reverse("customers:company_detail", args=[acme.pk])).content.decode()
    assert 'data-testid="followup-panel"' in html
    assert "2026-02-27" in html and "5 days ago" in html  # last real contact
    assert "2026-03-06 09:00" in html  # next planned follow-up, in alice's time
    panel = c.get(reverse("followups:company_panel", args=[acme.pk]), **HX).content.decode()
    assert "Send samples" in panel and f'id="followup-{f.pk}"' in panel
    assert "Fri 2026-03-06 09:00" in panel  # the fragment too is in alice's time, not UTC
    assert f"?next=/customers/{acme.pk}/" in panel  # editing returns to the page, not the fragment
    assert "customer time" in panel  # Chicago time of the due moment (the reach tag)


def test_plan_from_the_panel_with_errors_then_with_a_past_due_warning(client_for, alice, dave, acme):
    c = client_for(alice)
    url = reverse("followups:create", args=[acme.pk])
    assert 'data-testid="followup-form"' in c.get(url, **HX).content.decode()
    r = c.post(url, {"title": "", "due_at": "", "priority": "2"}, **HX)
    assert r.status_code == 422
    assert set(r.context["form"].errors) == {"title", "due_at"}
    r = c.post(
        url, {"title": "Call back", "due_at": "2026-03-01T09:00", "priority": "3", "assignee": alice.pk}, **HX
    )
    assert r.status_code == 200 and r["HX-Retarget"] == "#followup-panel"
    html = r.content.decode()
    assert 'data-testid="followup-warning"' in html and "Call back" in html
    f = FollowUp.objects.get()
    assert f.due_at == dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.UTC) and f.priority == 3


def test_plan_without_htmx_redirects_with_the_warning(client_for, alice, acme):
    r = client_for(alice).post(
        reverse("followups:create", args=[acme.pk]),
        {"title": "x", "due_at": "2026-03-01T09:00", "priority": "2"},
        follow=True,
    )
    assert r.redirect_chain[-1][0] == f"/customers/{acme.pk}/"
    assert "in the past" in r.content.decode()


def test_complete_in_one_step_with_log(client_for, alice, acme, make_followup):
    f = make_followup()
    c = client_for(alice)
    url = reverse("followups:complete", args=[f.pk])
    assert 'data-testid="complete-form"' in c.get(url + "?from=panel", **HX).content.decode()
    r = c.post(
        url,
        {
            "version": 1,
            "from": "panel",
            "log": "on",
            "log_type": "call",
            "log_direction": "out",
            "log_body": "Agreed on 2 containers",
        },
        **HX,
    )
    assert r.status_code == 200 and r["HX-Retarget"] == "#followup-panel"
    f.refresh_from_db()
    i = Interaction.objects.get()
    assert f.status == "done" and f.outcome == i and i.source == "followup" and "2 containers" in i.body
    assert 'data-testid="closed-followup"' in r.content.decode()


def test_complete_without_log_from_my_day_reloads_it(client_for, alice, make_followup):
    f = make_followup()
    r = client_for(alice).post(
        reverse("followups:complete", args=[f.pk]), {"version": 1, "from": "day", "log_type": "call"}, **HX
    )
    assert r.status_code == 204 and r["HX-Refresh"] == "true"
    assert not Interaction.objects.exists() and FollowUp.objects.get(pk=f.pk).status == "done"


def test_stale_complete_says_who_changed_it(client_for, alice, carol, make_followup):
    from tradecrm.followups.services import followup_update

    f = make_followup()
    followup_update(actor=carol, followup=FollowUp.objects.get(pk=f.pk), version=1, data={"title": "New"})
    r = client_for(alice).post(reverse("followups:complete", args=[f.pk]), {"version": 1, "log_type": "call"})
    assert r.status_code == 409 and "Carol" in r.content.decode()


def test_edit_cancel_reopen_delete(client_for, alice, acme, make_followup):
    f = make_followup()
    c = client_for(alice)
    r = c.post(
        reverse("followups:edit", args=[f.pk]),
        {
            "version": 1,
            "title": "Call Jane",
            "due_at": "2026-03-09T09:00",
            "priority": "2",
            "assignee": alice.pk,
        },
    )
    assert r.status_code == 302
    f.refresh_from_db()
    assert f.title == "Call Jane" and f.version == 2
    c.post(reverse("followups:cancel", args=[f.pk]), {"version": 2})
    assert FollowUp.objects.get(pk=f.pk).status == "cancelled"
    c.post(reverse("followups:reopen", args=[f.pk]), {"version": 3})
    assert FollowUp.objects.get(pk=f.pk).status == "open"
    assert c.post(reverse("followups:delete", args=[f.pk])).status_code == 302
    assert not FollowUp.objects.exists()


def test_mark_reviewed(client_for, alice, acme):
    r = client_for(alice).post(reverse("followups:company_reviewed", args=[acme.pk]))
    assert r.status_code == 302 and Company.objects.get(pk=acme.pk).reviewed_at == NOW


def test_team_view_for_managers_only(client_for, alice, bob, carol, acme, make_followup, make_company):
    make_followup(due_at="2026-03-01T09:00")
    make_followup(actor=bob, company=make_company(actor=bob, name="Bob's"), due_at="2026-03-04T15:00")
    assert client_for(alice).get(reverse("followups:team")).status_code == 403
    r = client_for(carol).get(reverse("followups:team"))
    assert r.status_code == 200
    rows = {str(m["user"]): (m["overdue"], m["today"], m["upcoming"]) for m in r.context["view"].members}
    assert rows["Alice"] == (1, 0, 0) and rows["Bob"] == (0, 1, 0) and "Dave" not in rows
    r = client_for(carol).get(reverse("followups:team") + f"?member={bob.pk}")
    assert [f.company.name for f in r.context["day"].today] == ["Bob's"]


def test_rules_admin(client_for, admin, alice):
    rule = CadenceRule.objects.get(kind="cadence", status="prospect")
    for url in (reverse("followups:rule_list"), reverse("followups:rule_create")):
        assert client_for(alice).get(url).status_code == 403
    for name in ("rule_edit", "rule_delete"):
        assert client_for(alice).get(reverse(f"followups:{name}", args=[rule.pk])).status_code == 404
    assert client_for(alice).post(reverse("followups:rule_toggle", args=[rule.pk])).status_code == 404
    c = client_for(admin)
    assert "Prospect: follow up every 7 days" in c.get(reverse("followups:rule_list")).content.decode()
    r = c.post(
        reverse("followups:rule_create"), {"name": "Lost", "kind": "cadence", "status": "lost", "priority": 1}
    )
    assert r.status_code == 422 and "days" in r.context["form"].errors
    r = c.post(
        reverse("followups:rule_create"),
        {"name": "Lost", "kind": "cadence", "status": "lost", "days": 180, "priority": 1, "active": "on"},
    )
    assert r.status_code == 302 and CadenceRule.objects.get(status="lost").days == 180
    r = c.post(
        reverse("followups:rule_edit", args=[rule.pk]),
        {
            "version": 1,
            "name": rule.name,
            "kind": "cadence",
            "status": "prospect",
            "days": 5,
            "priority": 2,
            "active": "on",
        },
    )
    assert r.status_code == 302 and CadenceRule.objects.get(pk=rule.pk).days == 5
    c.post(reverse("followups:rule_toggle", args=[rule.pk]), {"version": 2})
    assert CadenceRule.objects.get(pk=rule.pk).active is False
    assert c.post(reverse("followups:rule_delete", args=[rule.pk])).status_code == 302
    assert not CadenceRule.objects.filter(pk=rule.pk).exists()
