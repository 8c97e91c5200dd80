"""The reminder scan: each step, its notifications, idempotency, editable rules, next_followup_at."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from tradecrm.customers.models import Company
from tradecrm.followups.models import CadenceRule, FollowUp, Notification
from tradecrm.followups.reminders import resync_next_followups, run_reminders
from tradecrm.followups.services import followup_cancel, followup_complete
from tradecrm.followups.tasks import reminders_scan
from tradecrm.interactions.models import Interaction

from .conftest import NOW

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def company(make_company, *, created=NOW, status="lead", **extra):
    c = make_company(status=status, **{"name": f"Buyer {status} {created:%m%d}", **extra})
    Company.objects.filter(pk=c.pk).update(
        created_at=created, **{k: v for k, v in extra.items() if k.endswith("_at")}
    )
    return Company.objects.get(pk=c.pk)


def created_counts(result) -> dict:
    return {k: v for k, v in result.items() if k not in ("skipped", "seconds")}


def test_cadence_plans_one_followup_per_customer_from_its_status_rule(alice, make_company):
    old_lead = company(make_company, created=NOW - 10 * DAY)  # due 9 days ago: notified now
    prospect = company(make_company, status="prospect")  # due in 7 days: reminded later
    lost = company(make_company, status="lost")  # no rule for lost customers
    result = run_reminders(NOW)
    assert result["cadence"] == 2 and result["cadence_notified"] == 1
    lead_f = FollowUp.objects.get(company=old_lead)
    assert (lead_f.kind, lead_f.assignee, lead_f.status, lead_f.priority) == ("cadence", alice, "open", 3)
    assert lead_f.due_at == NOW - 9 * DAY and lead_f.reminded_at == NOW
    assert lead_f.rule.status == "lead" and lead_f.title == lead_f.rule.name
    p = FollowUp.objects.get(company=prospect)
    assert p.due_at == NOW + 7 * DAY and p.reminded_at is None
    assert not FollowUp.objects.filter(company=lost).exists()
    n = Notification.objects.get()
    assert (n.user, n.kind, n.followup_id, n.url) == (
        alice,
        "cadence_created",
        lead_f.pk,
        f"/customers/{old_lead.pk}/",
    )
    assert n.params == {"title": lead_f.title, "company": old_lead.name}
    # next_followup_at kept
    prospect.refresh_from_db()
    assert prospect.next_followup_at == p.due_at


def test_cadence_counts_from_the_last_contact_and_skips_busy_ownerless_and_inactive(
    alice, bob, make_company, make_followup
):
    contacted = company(make_company, status="prospect", created=NOW - 100 * DAY)
    Company.objects.filter(pk=contacted.pk).update(last_contact_at=NOW - 2 * DAY)
    busy = company(make_company, status="prospect")
    make_followup(company=busy)
    orphan = company(make_company, status="prospect")
    Company.objects.filter(pk=orphan.pk).update(owner=None)
    gone = company(make_company, status="prospect")
    Company.objects.filter(pk=gone.pk).update(owner=bob)
    bob.is_active = False
    bob.save()
    run_reminders(NOW)
    assert FollowUp.objects.get(company=contacted, kind="cadence").due_at == NOW + 5 * DAY
    assert FollowUp.objects.filter(company=busy).count() == 1
    assert not FollowUp.objects.filter(company__in=[orphan, gone]).exists()


def test_closing_a_cadence_followup_without_contact_does_not_bring_it_back_at_once(alice, make_company):
    c = company(make_company, status="prospect", created=NOW - 30 * DAY)
    run_reminders(NOW)
    f = FollowUp.objects.get(company=c)
    followup_complete(actor=alice, followup=f, version=f.version)
    run_reminders(NOW + dt.timedelta(minutes=5))
    nxt = FollowUp.objects.get(company=c, status="open")
    assert nxt.due_at == NOW + 7 * DAY  # 7 days after closing, not 23 days overdue


def test_rules_are_data_edit_deactivate_and_general_rules(alice, make_company):
    c = company(make_company, status="prospect")
    lost = company(make_company, status="lost")
    CadenceRule.objects.filter(kind="cadence", status="prospect").update(days=3)
    CadenceRule.objects.create(name="Everyone else: every 30 days", kind="cadence", status="", days=30)
    CadenceRule.objects.filter(kind="cadence", status="lead").update(active=False)
    lead = company(make_company, status="lead")
    run_reminders(NOW)
    assert FollowUp.objects.get(company=c).due_at == NOW + 3 * DAY  # the edited period
    assert FollowUp.objects.get(company=lost).due_at == NOW + 30 * DAY  # the general rule
    assert FollowUp.objects.get(company=lead).rule.status == ""  # its own rule is off
    CadenceRule.objects.filter(kind="cadence").update(active=False)
    CadenceRule.objects.filter(kind="unanswered").delete()
    result = run_reminders(NOW)
    assert result["skipped"]["cadence"] == "no active cadence rule"
    assert result["skipped"]["unanswered"] == "no active unanswered-inquiry rule"


def _msg(company, direction, at, type_="email"):
    return Interaction.objects.create(company=company, type=type_, direction=direction, occurred_at=at)


def test_unanswered_inquiry_raises_one_urgent_followup_and_alert(alice, make_company):
    waiting = company(make_company, status="repeat")
    _msg(waiting, "in", NOW - 30 * dt.timedelta(hours=1))
    _msg(waiting, "in", NOW - dt.timedelta(hours=2))
    answered = company(make_company, status="sample")
    _msg(answered, "in", NOW - 3 * DAY)
    _msg(answered, "out", NOW - 2 * DAY, "whatsapp")
    fresh = company(make_company, status="first_order")
    _msg(fresh, "in", NOW - dt.timedelta(hours=5))
    ancient = company(make_company, status="dormant")
    _msg(ancient, "in", NOW - 400 * DAY)  # old history, not an inquiry to chase
    noted = company(make_company, status="prospect")
    _msg(noted, "in", NOW - 3 * DAY)
    _msg(noted, "out", NOW - DAY, "note")  # an internal note is no answer
    result = run_reminders(NOW)
    assert result["unanswered"] == 2 and result["unanswered_notified"] == 2
    f = FollowUp.objects.get(company=waiting, kind="unanswered")
    assert (f.due_at, f.priority, f.assignee, f.reminded_at) == (NOW, 3, alice, NOW)
    n = Notification.objects.get(kind="unanswered_inquiry", company=waiting)
    assert n.params == {"company": waiting.name, "hours": 24} and n.key == f"unanswered:{f.pk}"
    assert FollowUp.objects.filter(company=noted, kind="unanswered").exists()
    assert not FollowUp.objects.filter(kind="unanswered", company__in=[answered, fresh, ancient]).exists()
    # closed without a reply: not raised again for the same message, but for a newer one
    followup_cancel(actor=alice, followup=f, version=f.version)
    assert run_reminders(NOW + dt.timedelta(hours=1))["unanswered"] == 0
    FollowUp.objects.filter(pk=f.pk).update(created_at=NOW - 40 * dt.timedelta(hours=1))
    assert run_reminders(NOW + dt.timedelta(hours=2))["unanswered"] == 1


def test_profile_review_is_quarterly_and_mark_reviewed_resets_it(alice, make_company):
    from tradecrm.followups.services import company_mark_reviewed

    stale = company(make_company, status="lost", created=NOW - 100 * DAY)
    recent = company(make_company, status="lost", created=NOW - 100 * DAY)
    Company.objects.filter(pk=recent.pk).update(reviewed_at=NOW - 10 * DAY)
    result = run_reminders(NOW)
    assert result["review"] == 1 and result["review_notified"] == 1
    f = FollowUp.objects.get(kind="review")
    assert f.company_id == stale.pk and f.due_at == NOW - 10 * DAY and f.reminded_at == NOW
    n = Notification.objects.get(kind="review_due")
    assert n.params == {"company": stale.name} and n.followup_id == f.pk
    company_mark_reviewed(actor=alice, company=stale)
    assert run_reminders(NOW + 89 * DAY)["review"] == 1  # recent's quarter is over, stale's is not
    assert FollowUp.objects.filter(kind="review", company=recent, status="open").exists()
    assert run_reminders(NOW + 91 * DAY)["review"] == 1  # and now stale's


def test_cancelled_review_waits_for_the_next_period(alice, make_company):
    c = company(make_company, status="lost", created=NOW - 100 * DAY)
    run_reminders(NOW)
    f = FollowUp.objects.get(kind="review")
    followup_cancel(actor=alice, followup=f, version=f.version)
    assert run_reminders(NOW + DAY)["review"] == 0
    assert run_reminders(NOW + 91 * DAY)["review"] == 1
    assert FollowUp.objects.filter(company=c, kind="review", status="open").count() == 1


def test_quotation_and_reorder_producers_skip_without_an_active_rule(db):
    # they read their tables (tested with quotations and orders in orders/tests/test_reminders.py)
    result = run_reminders(NOW)
    assert result["quotation_expiry"] == 0 and result["purchase_cycle"] == 0
    assert "quotation_expiry" not in result["skipped"] and "purchase_cycle" not in result["skipped"]
    CadenceRule.objects.filter(kind__in=["quotation_expiry", "purchase_cycle"]).update(active=False)
    result = run_reminders(NOW)
    assert result["skipped"]["quotation_expiry"] == "no active quotation-expiry rule"
    assert result["skipped"]["purchase_cycle"] == "no active purchase-cycle rule"


def test_due_followups_are_reminded_once(alice, carol, acme, make_followup):
    soon = make_followup(title="Call Jane", due_at=NOW + dt.timedelta(minutes=10))
    later = make_followup(due_at=NOW + dt.timedelta(hours=2))
    carols = make_followup(actor=carol, assignee=alice.pk, due_at=NOW - DAY)
    Notification.objects.all().delete()  # the assignment notice is not what this test is about
    result = run_reminders(NOW)
    assert result["due_notified"] == 2
    n = Notification.objects.get(followup=soon)
    assert (n.user, n.kind, n.key, n.url) == (
        alice,
        "followup_due",
        f"due:{soon.pk}",
        f"/customers/{acme.pk}/",
    )
    assert n.params == {"title": "Call Jane", "company": "Acme Imports LLC"} and n.created_at == NOW
    assert Notification.objects.filter(followup=carols, kind="followup_due").exists()
    assert FollowUp.objects.get(pk=soon.pk).reminded_at == NOW
    assert FollowUp.objects.get(pk=later.pk).reminded_at is None
    assert run_reminders(NOW + dt.timedelta(hours=2))["due_notified"] == 1  # now the later one


def test_second_run_creates_nothing(alice, make_company, make_followup):
    for status in ("lead", "prospect", "sample", "first_order", "repeat", "dormant"):
        c = company(make_company, status=status, created=NOW - 120 * DAY)
        _msg(c, "in", NOW - 2 * DAY)
    make_followup(due_at=NOW - DAY)
    first = run_reminders(NOW)
    assert (
        first["cadence"] == 6
        and first["review"] == 6
        and first["unanswered"] == 6
        and first["due_notified"] >= 1
    )
    followups, notifications = FollowUp.objects.count(), Notification.objects.count()
    second = run_reminders(NOW)
    assert all(v == 0 for v in created_counts(second).values()), second
    assert (FollowUp.objects.count(), Notification.objects.count()) == (followups, notifications)


def test_next_followup_at_is_the_earliest_open_due_time(alice, make_company):
    c = company(make_company, status="dormant", created=NOW - 120 * DAY)
    run_reminders(NOW)
    c.refresh_from_db()
    due = (
        FollowUp.objects.filter(company=c, status="open").order_by("due_at").values_list("due_at", flat=True)
    )
    assert c.next_followup_at == due[0] == NOW - 30 * DAY  # the review (120 - 90 days) comes first


def test_command_and_task(alice, make_company):
    company(make_company, created=NOW - 10 * DAY)
    out = StringIO()
    call_command("reminders", "run", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["cadence"] == 1 and result["quotation_expiry"] == 0 and result["skipped"] == {}
    CadenceRule.objects.filter(kind="purchase_cycle").update(active=False)
    text = StringIO()
    call_command("reminders", "run", stdout=text)
    assert "cadence" in text.getvalue() and "purchase_cycle" in text.getvalue()
    assert "skipped: no active purchase-cycle rule" in text.getvalue()
    assert reminders_scan.call_local()["cadence"] == 0


def test_nightly_resync_repairs_next_followup_at(alice, make_company, make_followup):
    c = company(make_company, status="prospect")
    f = make_followup(company=c, due_at="2026-03-09T09:00")
    Company.objects.filter(pk=c.pk).update(next_followup_at=None)  # e.g. a raw import
    run_reminders(NOW)
    assert FollowUp.objects.filter(company=c).count() == 1  # the open follow-up is still seen
    assert resync_next_followups() == 1
    assert Company.objects.get(pk=c.pk).next_followup_at == f.due_at
    assert resync_next_followups() == 0
