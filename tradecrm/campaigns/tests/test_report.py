"""The report: per-variant counts, attribution of opportunities and orders within the window (in
the base currency), the A/B winner rule and the comparison with previous campaigns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import time_machine
from django.utils import timezone

from tradecrm.campaigns import report, services
from tradecrm.campaigns.models import Campaign, CampaignRecipient, RecipientStatus
from tradecrm.mailbox.models import MailMessage

NOW = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)


def _sent(alice, customers, make_mailbox, campaign_data, **extra):
    box = make_mailbox(alice)
    c = services.campaign_create(actor=alice, data=campaign_data([box], **extra))
    with time_machine.travel(NOW, tick=False):
        services.campaign_launch(actor=alice, campaign=c)
    # as if sent at NOW (sending itself is tested against SMTP in test_send)
    CampaignRecipient.objects.filter(campaign=c, status="queued").update(status="sent", sent_at=NOW)
    return c


def test_attribution_counts_what_followed_within_the_window(alice, customers, make_mailbox, campaign_data):
    from tradecrm.sales.models import Opportunity, Pipeline

    companies, _contacts = customers
    acme, hua, berlin, _nomail = companies
    c = _sent(alice, customers, make_mailbox, campaign_data, attribution_days=30)
    pipeline = Pipeline.objects.first() or Pipeline.objects.create(name="Sales")
    stage = pipeline.stages.order_by("position").first() if hasattr(pipeline, "stages") else None
    if stage is None:
        from tradecrm.sales.models import Stage

        stage = Stage.objects.create(pipeline=pipeline, name="New", position=0)

    def opp(company, days, amount, currency="USD"):
        o = Opportunity.objects.create(name="x", company=company, pipeline=pipeline, stage=stage, amount=amount,
                                       currency=currency, owner=alice, stage_entered_at=NOW)  # fmt: skip
        Opportunity.objects.filter(pk=o.pk).update(created_at=NOW + dt.timedelta(days=days))

    opp(acme, 3, Decimal("1000"))  # counts
    opp(berlin, 29, Decimal("500"))  # counts
    opp(hua, 45, Decimal("999"))  # after the window
    opp(acme, -2, Decimal("777"))  # before the mail
    rep = report.report(c)
    assert rep["totals"]["opportunities"] == 2 and Decimal(rep["totals"]["opportunity_amount"]) == Decimal(
        "1500"
    )
    assert rep["currency"] == "USD"
    by_variant = sum(rep["variants"][v]["opportunities"] for v in rep["variants"])
    assert by_variant == 2


def test_counts_per_variant_and_winner_rule(alice, customers, make_mailbox, campaign_data):
    c = _sent(alice, customers, make_mailbox, campaign_data)
    rows = list(CampaignRecipient.objects.filter(campaign=c, status="sent"))
    MailMessage.objects.filter(pk=rows[0].message_id).update(clicked_at=timezone.now(), click_count=3)
    MailMessage.objects.filter(pk=rows[1].message_id).update(
        replied_at=timezone.now(), opened_at=timezone.now()
    )
    counts = report.counts(c)
    assert counts["all"]["sent"] == 4 and counts["all"]["clicked"] == 1 and counts["all"]["replied"] == 1
    assert counts["all"]["click_rate"] == 25.0 and counts["all"]["opened"] == 1
    assert sum(counts[v]["sent"] for v in ("a", "b") if v in counts) == 4
    assert report.winner(c, counts)["reason"] in ("too_few", "no_test")
    # the rule on numbers: 100 vs 100 delivered, 5 % vs 20 % clicks -> B; 10 % vs 12 % -> no winner
    fake = {"a": {"delivered": 100, "clicked": 5}, "b": {"delivered": 100, "clicked": 20}}
    assert report.winner(c, fake)["variant"] == "b"
    fake = {"a": {"delivered": 100, "clicked": 10}, "b": {"delivered": 100, "clicked": 12}}
    assert report.winner(c, fake) == {"variant": None, "z": 0.45, "reason": "no_difference"}


def test_effect_against_previous_campaigns(alice, customers, make_mailbox, campaign_data):
    old = _sent(alice, customers, make_mailbox, campaign_data, name="Old")
    Campaign.objects.filter(pk=old.pk).update(launched_at=NOW - dt.timedelta(days=30), status="done")
    first = CampaignRecipient.objects.filter(campaign=old, status="sent").first()
    MailMessage.objects.filter(pk=first.message_id).update(clicked_at=timezone.now())  # old: 1 of 4 clicked
    MailMessage.objects.filter(campaign_recipient__campaign=old).update(status="sent")
    # the new one: nobody clicked, one of 4 bounced
    new = _sent(alice, customers, make_mailbox, campaign_data, name="New")
    CampaignRecipient.objects.filter(campaign=new, status=RecipientStatus.SENT).filter(
        email="li@hua.test"
    ).update(status="bounced")
    new.refresh_from_db()
    e = report.report(new)["effect"]
    assert [p["name"] for p in e["previous"]] == ["Old"]
    assert e["rates"]["click_rate"] == {"this": 0.0, "previous_average": 25.0, "delta_points": -25.0}
    assert e["rates"]["bounce_rate"]["delta_points"] == 25.0
