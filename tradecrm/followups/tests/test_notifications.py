import pytest

from tradecrm.followups import notifications as notes
from tradecrm.followups.models import Notification

pytestmark = pytest.mark.django_db


def test_notify_is_idempotent_on_key(alice):
    first = notes.notify(alice, "review_due", {"company": "Acme"}, key="review:1")
    second = notes.notify(alice, "review_due", {"company": "Acme"}, key="review:1")
    assert first is not None and second is None
    assert Notification.objects.filter(user=alice, key="review:1").count() == 1


def test_same_key_for_another_user_and_keyless_notifications_are_separate(alice, bob):
    assert notes.notify(alice, "review_due", {"company": "Acme"}, key="k") is not None
    assert notes.notify(bob, "review_due", {"company": "Acme"}, key="k") is not None
    assert notes.notify(alice, "review_due", {"company": "Acme"}) is not None
    assert notes.notify(alice, "review_due", {"company": "Acme"}) is not None
    assert Notification.objects.filter(user=alice).count() == 3


def test_render_each_kind_in_english():
    n = Notification(
        kind="followup_assigned", params={"title": "Send samples", "company": "Acme", "by": "Carol"}
    )
    assert notes.render(n) == "Carol assigned you a follow-up: Send samples — Acme"
    n = Notification(kind="unanswered_inquiry", params={"company": "Acme", "hours": 24})
    assert notes.render(n) == "Inquiry from Acme unanswered for 24 hours"
    assert "Send samples" in notes.render({"kind": "followup_due", "params": {"title": "Send samples"}})
    assert "Acme" in notes.render({"kind": "review_due", "params": {"company": "Acme"}})
    assert "Quote" in notes.render({"kind": "cadence_created", "params": {"title": "Quote", "company": "X"}})


def test_unknown_kind_renders_a_generic_text_and_missing_params_do_not_raise():
    assert notes.render({"kind": "something_new", "params": {}}) == "You have a new notification."
    assert notes.render({"kind": "followup_due", "params": {}}).startswith("Follow-up due")


def test_unread_count_and_mark_read(alice, bob):
    ids = [notes.notify(alice, "review_due", {"company": str(i)}).id for i in range(3)]
    other = notes.notify(bob, "review_due", {"company": "B"})
    assert notes.unread_count(alice) == 3
    assert notes.mark_read(alice, [ids[0], other.id]) == 1  # bob's id is ignored
    assert notes.unread_count(alice) == 2 and notes.unread_count(bob) == 1
    assert notes.mark_read(alice, "all") == 2
    assert notes.unread_count(alice) == 0 and notes.unread_count(bob) == 1
    assert notes.mark_read(alice, []) == 0
