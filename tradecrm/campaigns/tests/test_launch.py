"""Creating, checking and launching a campaign: the specific errors, who is skipped and why, the
language per contact with fallback, deterministic A/B, the due time in the recipient's zone."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from tradecrm.campaigns import services
from tradecrm.campaigns.models import CampaignRecipient, RecipientStatus
from tradecrm.campaigns.queueing import variant_of
from tradecrm.mailbox.models import MailMessage, Unsubscribe

# Thursday 26 Nov 2026 14:00 UTC = 08:00 in Chicago, 22:00 in Shanghai, 15:00 in Berlin
NOW = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)


def _errors(fn, **kw):
    with pytest.raises(ValidationError) as exc:
        fn(**kw)
    return exc.value.message_dict


def test_bad_input_names_the_field(alice, make_mailbox, campaign_data, dave):
    box = make_mailbox(alice)
    data = campaign_data([box])
    bad = {
        "window_end": (dict(window_start=11, window_end=9), "window_end"),
        "per_hour": (dict(per_hour=0), "per_hour"),
        "per_day": (dict(per_day=-5), "per_day"),
        "split": (dict(split_b=0), "split_b"),  # subject B written, no share
        "segment": (dict(segment=None), "segment"),
        "mailbox": (dict(mailboxes=[make_mailbox(dave, email="d@example.test").pk]), "mailboxes"),
        "fallback": (dict(fallback_language="de"), "fallback_language"),
    }
    for name, (extra, field) in bad.items():
        errors = _errors(services.campaign_create, actor=alice, data={**data, **extra})
        assert field in errors, (name, errors)
    syntax = campaign_data([box])
    syntax["contents"][0]["body"] = "Dear {% if contact.first_name %}"
    assert "contents.en.body" in _errors(services.campaign_create, actor=alice, data=syntax)
    unknown = campaign_data([box])
    unknown["contents"][1]["subject"] = "{{ contact.frist_name }} 您好"
    errors = _errors(services.campaign_create, actor=alice, data=unknown)
    assert "contact.frist_name" in errors["contents.zh.subject"][0]
    no_b = campaign_data([box])
    no_b["contents"][1]["subject_b"] = ""
    assert "contents.zh.subject_b" in _errors(services.campaign_create, actor=alice, data=no_b)
    from tradecrm.campaigns.models import Campaign

    assert not Campaign.objects.exists()


def test_launch_queues_renders_and_counts_skips(alice, customers, make_mailbox, campaign_data):
    box = make_mailbox(alice)
    Unsubscribe.objects.create(address="mary@acme.test", at=NOW)
    c = services.campaign_create(actor=alice, data=campaign_data([box]))
    with time_machine.travel(NOW, tick=False):
        plan = services.launch_plan(c)
        counts = services.campaign_launch(actor=alice, campaign=c)
    assert plan["queued"] == counts["queued"] == 3
    assert counts["skipped"] == {"unsubscribed": 1, "duplicate": 1, "no_email": 1}
    assert counts["by_language"] == {"en": 2, "zh": 1}  # Hans (de) falls back to en
    skipped = {
        (r.email, r.skip_reason) for r in CampaignRecipient.objects.filter(campaign=c, status="skipped")
    }
    assert skipped == {("mary@acme.test", "unsubscribed"), ("john@acme.test", "duplicate"), ("", "no_email")}
    rows = {r.email: r for r in CampaignRecipient.objects.filter(campaign=c, status=RecipientStatus.QUEUED)}
    john, li, hans = rows["john@acme.test"], rows["li@hua.test"], rows["hans@berlin.test"]
    assert (john.language, li.language, hans.language) == ("en", "zh", "en")
    # due in the recipient's window (09-17 local): Chicago 08:00 -> 09:00 CST = 15:00 UTC;
    # Shanghai 22:00 -> tomorrow 09:00 CST = 01:00 UTC; Berlin 15:00 -> now
    assert john.due_at == dt.datetime(2026, 11, 26, 15, 0, tzinfo=dt.UTC)
    assert li.due_at == dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.UTC)
    assert hans.due_at == NOW
    m = MailMessage.objects.get(pk=li.message_id)
    assert (
        m.status == "queued"
        and m.to_addrs == ["li@hua.test"]
        and m.list_unsubscribe
        and m.mailbox_id == box.pk
    )
    assert m.subject == ("Hua Trading 新品" if li.variant == "a" else "Li，八折")
    assert m.body_text.startswith("Li 您好") and "Alice" in m.body_text
    assert m.company_id == li.company_id and m.contact_id == li.contact_id
    c.refresh_from_db()
    assert c.status == "scheduled" and c.launched_at == NOW and c.launch_counts["queued"] == 3
    from tradecrm.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="campaign.launch").count() == 1
    assert not AuditEvent.objects.filter(action="mail.message.queue").exists()  # no per-mail audit

    # launching twice is refused, nothing added
    errors = _errors(services.campaign_launch, actor=alice, campaign=c)
    assert "launched already" in errors["status"][0]
    assert CampaignRecipient.objects.filter(campaign=c).count() == 6


def test_ab_assignment_is_deterministic_and_near_the_split():
    emails = [f"buyer{i}@example.test" for i in range(2000)]
    first = [variant_of(7, e, 30) for e in emails]
    assert first == [variant_of(7, e, 30) for e in emails]
    share_b = first.count("b") / len(first)
    assert 0.26 < share_b < 0.34
    assert {variant_of(7, e, 0) for e in emails} == {"a"}


def test_empty_segment_is_refused_and_left_a_draft(alice, make_mailbox, campaign_data):
    box = make_mailbox(alice)
    c = services.campaign_create(actor=alice, data=campaign_data([box]))
    errors = _errors(services.campaign_launch, actor=alice, campaign=c)
    assert "Nobody to send to" in errors["segment"][0]
    c.refresh_from_db()
    assert c.status == "draft" and not CampaignRecipient.objects.exists()


def test_segment_is_scoped_to_the_owner(alice, bob, customers, make_mailbox, campaign_data):
    """bob's customers are not in alice's campaign even when her segment has no filter."""
    from .conftest import bulk_customers

    bulk_customers(bob, [("Bob Co", "US", "America/New_York", "en", [("Bo", "bo@bob.test", "")])])
    box = make_mailbox(alice)
    c = services.campaign_create(actor=alice, data=campaign_data([box]))
    plan = services.launch_plan(c)
    assert plan["queued"] == 4 and "bo@bob.test" not in {t for t in []}
    with time_machine.travel(NOW, tick=False):
        services.campaign_launch(actor=alice, campaign=c)
    assert not CampaignRecipient.objects.filter(email="bo@bob.test").exists()


def test_preview_and_update_only_as_draft(alice, carol, bob, customers, make_mailbox, campaign_data):
    box = make_mailbox(alice)
    c = services.campaign_create(actor=alice, data=campaign_data([box]))
    p = services.preview(c)
    assert p["email"] == "john@acme.test" and p["subject"] == "New LED panels for Acme Imports"
    assert p["subject_b"] == "John, 20% off" and p["body"].startswith("Dear John,")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.campaign_update(actor=bob, campaign=c, version=None, data={"name": "x"})
    c = services.campaign_update(actor=carol, campaign=c, version=c.version, data={"name": "Spring LED 2"})
    assert c.name == "Spring LED 2"
    with time_machine.travel(NOW, tick=False):
        services.campaign_launch(actor=alice, campaign=c)
    c.refresh_from_db()
    assert "status" in _errors(
        services.campaign_update, actor=alice, campaign=c, version=None, data={"name": "y"}
    )


def test_fast_rendering_matches_the_template_engine():
    from django.template import Context

    from tradecrm.campaigns.merge import _Plain, compile_
    from tradecrm.mailbox.rendering import sandbox

    ctx = {"contact": {"first_name": "Li", "last_name": "", "name": "Li", "title": "", "email": "li@x.test"},
           "company": {"name": "Hua & Co <Ltd>", "name_local": "华", "country": "CN", "city": ""},
           "user": {"first_name": "Alice", "last_name": "W", "name": "Alice W", "email": "a@x.test"}}  # fmt: skip
    sources = {
        "Dear {{ contact.first_name }} of {{ company.name }},\n{{ user.name }}": True,
        "{% if contact.title %}As {{ contact.title }}{% elif company.city %}in {{ company.city }}"
        "{% else %}Hello {{ company.country }}{% endif %}!": True,
        "{% if contact.first_name %}Hi {{ contact.first_name }}{% endif %}": True,
        "{{ contact.first_name|upper }} {% for x in '' %}{% endfor %}": False,  # filters, loops: the engine
        "{% if not contact.title %}no title{% endif %}": False,
    }  # fmt: skip
    for source, fast in sources.items():
        compiled = compile_(source)
        assert isinstance(compiled, _Plain) is fast, source
        assert compiled.render_plain(ctx) == sandbox().from_string(source).render(
            Context(ctx, autoescape=False)
        )


def test_launch_without_a_mailbox_left_is_refused(alice, customers, make_mailbox, campaign_data):
    box = make_mailbox(alice)
    c = services.campaign_create(actor=alice, data=campaign_data([box]))
    box.delete()
    assert "mailboxes" in _errors(services.campaign_launch, actor=alice, campaign=c)
    c.refresh_from_db()
    assert c.status == "draft" and not CampaignRecipient.objects.exists()
