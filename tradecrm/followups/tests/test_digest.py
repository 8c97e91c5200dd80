"""The daily digest: what it says, when it goes, once per local day, nothing when empty."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from tradecrm.followups import digest
from tradecrm.followups import notifications as notes
from tradecrm.followups.models import FollowUp, Notification

pytestmark = pytest.mark.django_db

# Thursday 1 October 2026, 08:05 in Shanghai (alice's zone) — China's National Day
NOW = datetime(2026, 10, 1, 0, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def digest_user(alice):
    alice.email = "alice@example.com"
    alice.daily_digest = True
    alice.save()
    return alice


@pytest.fixture
def companies(make_company):
    return {
        "us": make_company(name="Acme Imports LLC", country="US", timezone="America/Chicago"),
        "cn": make_company(name="Shenzhen Buyer Co", country="CN", timezone="Asia/Shanghai"),
    }


def followup(user, company, title, due, **extra):
    return FollowUp.objects.create(assignee=user, company=company, title=title, due_at=due, **extra)


@pytest.fixture
def plan(digest_user, bob, companies):
    us, cn = companies["us"], companies["cn"]
    followup(digest_user, us, "Send the price list", NOW - timedelta(days=2))  # overdue
    followup(digest_user, cn, "Call about samples", datetime(2026, 10, 1, 6, 0, tzinfo=UTC))  # 14:00 today
    followup(digest_user, us, "Tomorrow's task", datetime(2026, 10, 1, 16, 30, tzinfo=UTC))  # 00:30 tomorrow
    followup(digest_user, us, "Finished task", NOW - timedelta(days=1), status="done")
    followup(bob, us, "Bob's task", NOW - timedelta(hours=3))
    notes.notify(digest_user, "review_due", {"company": "Acme Imports LLC"}, url="/customers/1/")
    return digest_user


def test_build_lists_overdue_and_due_today_in_the_users_zone_with_customer_time(plan):
    d = digest.build(plan, NOW)
    assert [f["title"] for f in d.overdue] == ["Send the price list"]
    assert [f["title"] for f in d.today] == ["Call about samples"]
    today = d.today[0]
    assert today["due"] == "Thu 1 Oct 14:00" and today["customer_time"] == "Thu 14:00"
    assert today["holiday"] == "National Day" and today["customer_state"] == "holiday"
    overdue = d.overdue[0]
    assert overdue["due"] == "Tue 29 Sep 08:05" and overdue["customer_time"] == "Mon 19:05"  # Chicago, CDT
    assert overdue["customer_state_label"] == "outside office hours" and today["customer_state_label"] == ""
    assert overdue["url"] == f"http://127.0.0.1:8000/customers/{overdue_company(plan)}/"
    assert [n["text"] for n in d.notifications] == ["Time to review the profile of Acme Imports LLC"]


def overdue_company(user):
    return FollowUp.objects.get(assignee=user, title="Send the price list").company_id


def test_send_once_per_local_day_and_record_it(plan, settings):
    settings.TRADECRM_BASE_URL = "https://crm.example.com/"
    assert digest.send_digest(plan, NOW) == "sent"
    assert digest.send_digest(plan, NOW + timedelta(minutes=30)) == "already"
    (msg,) = mail.outbox
    assert msg.to == ["alice@example.com"]
    assert msg.subject == "TradeCRM daily digest, 1 Oct: 1 overdue, 1 due today"
    assert "https://crm.example.com/customers/" in msg.body and "crm.example.com//" not in msg.body
    html, mime = msg.alternatives[0]
    assert mime == "text/html" and "Call about samples" in html and "public holiday: National Day" in html
    assert (
        "Tomorrow's task" not in msg.body and "Bob's task" not in msg.body and "Finished task" not in msg.body
    )
    # the unread notification was emailed once; it stays unread in the app
    n = Notification.objects.get(user=plan, kind="review_due")
    assert n.emailed_at == NOW and n.read_at is None
    # the record is hidden from the notification centre and the bell
    assert notes.unread_count(plan) == 1
    assert [r["kind"] for r in notes.notification_page(plan)[0]] == ["review_due"]


def test_force_sends_again(plan):
    digest.send_digest(plan, NOW)
    assert digest.send_digest(plan, NOW, force=True) == "sent"
    assert len(mail.outbox) == 2
    assert "Time to review" not in mail.outbox[1].body  # already emailed once


def test_nothing_to_say_sends_nothing_and_records_nothing(digest_user):
    assert digest.send_digest(digest_user, NOW) == "empty"
    assert mail.outbox == [] and not Notification.objects.filter(user=digest_user).exists()


def test_no_email_address(plan):
    plan.email = ""
    plan.save()
    assert digest.send_digest(plan, NOW) == "no-email" and mail.outbox == []


def test_a_failed_send_can_be_retried(plan, monkeypatch):
    def boom(self, fail_silently=False):
        raise OSError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", boom)
    with pytest.raises(OSError):
        digest.send_digest(plan, NOW)
    monkeypatch.undo()
    assert digest.send_digest(plan, NOW) == "sent"


def test_hourly_pass_sends_at_eight_local_in_every_zone_once(digest_user, bob, carol, dave, companies):
    zones = {
        digest_user: "Asia/Shanghai",
        bob: "Asia/Kolkata",
        carol: "Asia/Kathmandu",
        dave: "America/New_York",
    }
    for user, tz in zones.items():
        user.timezone, user.email, user.daily_digest = tz, f"{user.username}@example.com", True
        user.save()
        followup(user, companies["us"], f"Task of {user.username}", datetime(2026, 9, 30, tzinfo=UTC))
    sent_at = {}
    start = datetime(2026, 10, 1, 0, 3, tzinfo=UTC)  # the task runs at minute 3 of each hour
    for hour in range(30):
        now = start + timedelta(hours=hour)
        before = len(mail.outbox)
        digest.send_due_digests(now)
        for msg in mail.outbox[before:]:
            sent_at.setdefault(msg.to[0], []).append(now)
    local = {
        addr: [t.astimezone(digest.reach.zone(zones[u])) for t in times]
        for u in zones
        for addr, times in sent_at.items()
        if addr.startswith(u.username)
    }
    # 30 hours from 00:03 UTC: two local mornings in Asia, one in New York; never twice a day
    assert {a: [t.strftime("%d %H:%M") for t in ts] for a, ts in local.items()} == {
        "alice@example.com": ["01 08:03", "02 08:03"],
        "bob@example.com": ["01 08:33", "02 08:33"],  # +5:30
        "carol@example.com": ["01 08:48", "02 08:48"],  # +5:45
        "dave@example.com": ["01 08:03"],  # New York, EDT (-4)
    }
    assert digest.send_due_digests(start + timedelta(hours=24, minutes=40)) == {"already": 1}  # alice, again


def test_users_without_the_switch_or_email_are_not_picked(digest_user, bob):
    bob.email = "bob@example.com"
    bob.save()  # daily_digest off
    assert list(digest.users_due(NOW)) == [digest_user]
    assert list(digest.users_due(NOW + timedelta(hours=1))) == []


def test_command(plan, bob, carol):
    out = _call("send", "--user", "alice")
    assert out == "Digest sent to alice@example.com.\n"
    assert "already had today's digest" in _call("send", "--user", "alice")
    assert _call("send", "--user", "alice", "--force").startswith("Digest sent")
    assert _call("send", "--user", "bob") == "bob has no email address.\n"
    carol.email = "carol@example.com"
    carol.save()
    assert _call("send", "--user", "carol") == "Nothing to say to carol today: no digest sent.\n"
    assert _call("send") == "Daily digests — already: 1.\n"  # 08:05 in Shanghai, already sent
    with pytest.raises(Exception, match="No active user named 'nobody'"):
        _call("send", "--user", "nobody")


def _call(*args):
    from io import StringIO

    out = StringIO()
    call_command("digest", *args, stdout=out)
    return out.getvalue()


def test_the_hourly_task_is_registered_with_huey_and_runs_the_pass(plan):
    from huey.contrib.djhuey import HUEY

    from tradecrm.followups import digest_tasks

    assert "tradecrm.followups.digest_tasks.daily_digest" in HUEY._registry._registry
    assert digest_tasks.daily_digest.call_local() == {"sent": 1}  # 08:05 in Shanghai
    assert mail.outbox[0].to == ["alice@example.com"]
