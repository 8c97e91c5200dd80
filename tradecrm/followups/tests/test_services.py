"""Follow-up services: validation, time zones, recurrence across DST, versions, completion with a
logged interaction, next_followup_at upkeep, notifications on assignment, audit."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from tradecrm.audit.models import AuditEvent
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.customers.models import Company
from tradecrm.customers.services import contact_create
from tradecrm.followups import services
from tradecrm.followups.models import FollowUp, FollowUpKind, Notification
from tradecrm.followups.services import (
    company_mark_reviewed,
    followup_cancel,
    followup_complete,
    followup_create,
    followup_delete,
    followup_reopen,
    followup_update,
    next_occurrence,
)
from tradecrm.interactions.models import Interaction

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


def test_naive_due_time_is_the_actors_wall_clock(alice, acme, make_followup):
    f = make_followup(due_at="2026-03-05T10:00")  # alice: Asia/Shanghai, UTC+8
    assert f.due_at == dt.datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
    assert f.warnings == []
    f2 = make_followup(due_at="2026-03-05T10:00:00-05:00")  # an explicit offset wins
    assert f2.due_at == dt.datetime(2026, 3, 5, 15, 0, tzinfo=UTC)
    f3 = make_followup(due_at="2026-03-06")  # a date: the start of alice's working day
    assert f3.due_at.astimezone(ZoneInfo("Asia/Shanghai")).time() == dt.time(9, 0)


def test_past_due_is_allowed_but_flagged(make_followup):
    f = make_followup(due_at="2026-03-01T09:00")
    assert f.pk and f.status == "open"
    assert f.warnings and "past" in f.warnings[0]


def test_every_bad_field_is_named(alice, dave, acme):
    with pytest.raises(ValidationError) as e:
        followup_create(
            actor=alice,
            company=acme,
            data={
                "title": "  ",
                "due_at": "next tuesday",
                "priority": 9,
                "assignee": dave.pk,
                "recurrence": "days",
                "recurrence_interval": 0,
                "contact": 999999,
            },
        )
    errs = errors_of(e)
    assert set(errs) == {"title", "due_at", "priority", "assignee", "recurrence_interval", "contact"}
    assert "cannot see this customer" in errs["assignee"][0]
    assert not FollowUp.objects.exists()


def test_assigning_to_a_colleague_notifies_them(alice, carol, acme):
    f = followup_create(
        actor=carol,
        company=acme,
        data={"title": "Send catalogue", "due_at": "2026-03-05 09:00", "assignee": alice.pk},
    )
    n = Notification.objects.get(user=alice)
    assert n.kind == "followup_assigned" and n.followup_id == f.pk
    assert n.params == {"title": "Send catalogue", "company": "Acme Imports LLC", "by": "Carol"}
    # planning one's own follow-up notifies nobody
    followup_create(actor=alice, company=acme, data={"title": "Mine", "due_at": "2026-03-05 09:00"})
    assert Notification.objects.count() == 1


def test_next_followup_at_follows_every_change(alice, acme, make_followup):
    later = make_followup(due_at="2026-03-10T09:00")
    sooner = make_followup(due_at="2026-03-06T09:00")
    acme.refresh_from_db()
    assert acme.next_followup_at == sooner.due_at
    sooner = followup_complete(actor=alice, followup=sooner, version=sooner.version)
    acme.refresh_from_db()
    assert acme.next_followup_at == later.due_at
    later = followup_update(
        actor=alice, followup=later, version=later.version, data={"due_at": "2026-03-08T09:00"}
    )
    acme.refresh_from_db()
    assert acme.next_followup_at == later.due_at
    followup_cancel(actor=alice, followup=later, version=later.version)
    acme.refresh_from_db()
    assert acme.next_followup_at is None
    followup_reopen(actor=alice, followup=later, version=later.version)
    acme.refresh_from_db()
    assert acme.next_followup_at == later.due_at
    followup_delete(actor=alice, followup=later)
    acme.refresh_from_db()
    assert acme.next_followup_at is None


def test_stale_version_is_refused_with_who(alice, carol, make_followup):
    f = make_followup()
    copy = FollowUp.objects.get(pk=f.pk)
    followup_update(actor=carol, followup=f, version=1, data={"title": "Call Jane"})
    with pytest.raises(ConcurrentEditError) as e:
        followup_update(actor=alice, followup=copy, version=1, data={"title": "Email Jane"})
    assert e.value.by == "Carol" and e.value.current_version == 2
    with pytest.raises(ConcurrentEditError):
        followup_complete(actor=alice, followup=copy, version=1)
    assert FollowUp.objects.get(pk=f.pk).title == "Call Jane"


def test_moving_the_due_time_rearms_the_reminder(alice, make_followup):
    f = make_followup()
    FollowUp.objects.filter(pk=f.pk).update(reminded_at=dt.datetime(2026, 3, 4, tzinfo=UTC))
    f.refresh_from_db()
    followup_update(actor=alice, followup=f, version=f.version, data={"due_at": "2026-03-09T09:00"})
    assert FollowUp.objects.get(pk=f.pk).reminded_at is None


def test_complete_with_log_writes_the_interaction_in_the_same_step(alice, acme, make_followup):
    jane = contact_create(actor=alice, company=acme, data={"first_name": "Jane"})
    f = make_followup(contact=jane.pk)
    done = followup_complete(
        actor=alice,
        followup=f,
        version=1,
        log={"type": "call", "direction": "out", "body": "She confirmed the order."},
    )
    assert done.status == "done" and done.completed_by == alice and done.version == 2
    i = Interaction.objects.get()
    assert done.outcome == i and FollowUp.objects.get(pk=f.pk).outcome_id == i.pk
    assert (i.type, i.direction, i.source, i.subject, i.contact_id) == (
        "call",
        "out",
        "followup",
        f.title,
        jane.pk,
    )
    acme.refresh_from_db()
    assert acme.last_contact_at == i.occurred_at  # the timeline keeps the last contact


def test_complete_with_a_bad_log_changes_nothing(alice, make_followup):
    f = make_followup()
    with pytest.raises(ValidationError) as e:
        followup_complete(actor=alice, followup=f, version=1, log={"type": "pigeon"})
    assert "log.type" in errors_of(e)
    f.refresh_from_db()
    assert f.status == "open" and f.version == 1 and not Interaction.objects.exists()


def test_closed_followups_cannot_be_closed_again(alice, make_followup):
    f = followup_complete(actor=alice, followup=make_followup(), version=1)
    with pytest.raises(ValidationError):
        followup_complete(actor=alice, followup=f, version=f.version)
    with pytest.raises(ValidationError):
        followup_cancel(actor=alice, followup=f, version=f.version)


def test_weekly_recurrence_keeps_0900_local_across_the_dst_change(alice, acme):
    ny = ZoneInfo("America/New_York")
    alice.timezone = "America/New_York"
    alice.save()
    # Fri 6 March 2026 09:00 EST (UTC-5); the clocks go forward on Sun 8 March
    f = followup_create(
        actor=alice,
        company=acme,
        data={"title": "Weekly call", "due_at": "2026-03-06T09:00", "recurrence": "weekly"},
    )
    assert f.due_at == dt.datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
    with time_machine.travel(dt.datetime(2026, 3, 6, 15, 0, tzinfo=UTC), tick=False):
        done = followup_complete(actor=alice, followup=f, version=1)
    nxt = done.next_occurrence
    assert nxt.due_at == dt.datetime(2026, 3, 13, 13, 0, tzinfo=UTC)  # 09:00 EDT (UTC-4)
    assert nxt.due_at.astimezone(ny).time() == dt.time(9, 0)
    assert (nxt.recurrence, nxt.previous_id, nxt.title, nxt.status) == ("weekly", f.pk, "Weekly call", "open")
    acme.refresh_from_db()
    assert acme.next_followup_at == nxt.due_at


@pytest.mark.parametrize(
    "recurrence, interval, completed, expected_local",
    [
        ("daily", None, "2026-03-07 15:00", "2026-03-08 09:00"),  # DST day itself
        ("days", 3, "2026-03-06 15:00", "2026-03-09 09:00"),
        ("monthly", None, "2026-03-06 15:00", "2026-04-06 09:00"),
        ("daily", None, "2026-03-11 15:00", "2026-03-12 09:00"),  # completed days late: next after now
    ],
)
def test_next_occurrence_steps_in_local_time(recurrence, interval, completed, expected_local):
    ny = ZoneInfo("America/New_York")
    due = dt.datetime(2026, 3, 6, 9, 0, tzinfo=ny).astimezone(UTC)
    after = dt.datetime.fromisoformat(completed).replace(tzinfo=ny)
    got = next_occurrence(due, recurrence, interval, ny, after)
    assert got.astimezone(ny) == dt.datetime.fromisoformat(expected_local).replace(tzinfo=ny)


def test_monthly_from_the_31st_does_not_drift():
    tz = ZoneInfo("Asia/Shanghai")
    due = dt.datetime(2026, 1, 31, 9, 0, tzinfo=tz)
    feb = next_occurrence(due, "monthly", None, tz, due)
    mar = next_occurrence(due, "monthly", None, tz, feb)
    assert (feb.astimezone(tz).date(), mar.astimezone(tz).date()) == (
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
    )


def test_delete_is_for_assignee_planner_owner_and_managers(alice, bob, carol, acme, make_followup):
    acme.followers.add(bob)
    f = make_followup()
    pk = f.pk
    with pytest.raises(PermissionDenied):
        followup_delete(actor=bob, followup=f)
    followup_delete(actor=carol, followup=f)
    assert not FollowUp.objects.exists()
    assert AuditEvent.objects.filter(action="followup.delete", object_id=pk).exists()


def test_reopen_refuses_a_second_open_automatic_followup(alice, acme):
    first = FollowUp.objects.create(
        company=acme,
        assignee=alice,
        title="Review",
        due_at=acme.created_at,
        kind=FollowUpKind.REVIEW,
        status="done",
    )
    FollowUp.objects.create(
        company=acme, assignee=alice, title="Review", due_at=acme.created_at, kind=FollowUpKind.REVIEW
    )
    with pytest.raises(ValidationError) as e:
        followup_reopen(actor=alice, followup=first, version=1)
    assert "status" in errors_of(e)


def test_mark_reviewed_completes_the_review_followup(alice, acme):
    review = FollowUp.objects.create(
        company=acme, assignee=alice, title="Review", due_at=acme.created_at, kind=FollowUpKind.REVIEW
    )
    assert company_mark_reviewed(actor=alice, company=acme) == 1
    review.refresh_from_db()
    acme = Company.objects.get(pk=acme.pk)
    assert review.status == "done" and review.completed_by == alice
    assert acme.reviewed_at is not None and acme.next_followup_at is None
    assert AuditEvent.objects.filter(action="company.review", object_id=acme.pk).exists()


def test_every_change_is_audited(alice, make_followup):
    f = make_followup()
    f = followup_update(actor=alice, followup=f, version=1, data={"priority": 4})
    followup_complete(actor=alice, followup=f, version=f.version)
    actions = list(
        AuditEvent.objects.filter(object_type="followups.followup")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["followup.create", "followup.update", "followup.complete"]


def test_notify_falls_back_to_a_row(monkeypatch, alice, acme):
    services.notify(alice, "followup_due", {"title": "x", "company": acme.name}, company=acme, key="k1")
    services.notify(alice, "followup_due", {"title": "x", "company": acme.name}, company=acme, key="k1")
    assert Notification.objects.filter(user=alice, key="k1").count() == 1
