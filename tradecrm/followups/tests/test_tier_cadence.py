"""Tier cadences: a cadence rule for a grading tier wins over the rule for the customer's lifecycle
status; editing a tier keeps its rule in sync."""

import datetime as dt

import pytest

from tradecrm.customers.models import Company
from tradecrm.followups.models import CadenceRule, FollowUp
from tradecrm.followups.reminders import run_reminders
from tradecrm.grading.models import CompanyGrade, Tier

from .conftest import NOW

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture
def tier_cadences(admin):
    """Tiers A–D with cadences of 14, 30, 60 and 90 days, set as an administrator would."""
    from tradecrm.grading.config import DEFAULT_TIERS
    from tradecrm.grading.services import tiers_update

    tiers = [dict(t, followup_days=days) for t, days in zip(DEFAULT_TIERS, (14, 30, 60, 90), strict=True)]
    return tiers_update(actor=admin, tiers=tiers)


def _company(make_company, name, status="prospect", tier=""):
    c = make_company(name=name, status=status)
    Company.objects.filter(pk=c.pk).update(created_at=NOW - 100 * DAY)
    if tier:
        CompanyGrade.objects.create(company=c, tier=tier, computed_tier=tier)
    return c


def test_default_tiers_have_no_cadence_so_the_status_rules_keep_governing():
    assert not CadenceRule.objects.exclude(tier="").exists()
    assert not Tier.objects.filter(followup_days__isnull=False).exists()


def test_tier_cadences_are_synced_rules(tier_cadences):
    rules = {r.tier: r.days for r in CadenceRule.objects.filter(kind="cadence").exclude(tier="")}
    assert (
        rules == {t.code: t.followup_days for t in Tier.objects.all()} == {"A": 14, "B": 30, "C": 60, "D": 90}
    )


def test_a_tier_rule_wins_over_the_status_rule(make_company, tier_cadences):
    key = _company(make_company, "Key account", tier="A")  # A: every 14 days
    ordinary = _company(make_company, "Ordinary", tier="C")  # C: every 60 days
    ungraded = _company(make_company, "Not graded yet")  # prospect: every 7 days
    run_reminders(NOW)
    due = {
        f.company_id: (f.due_at, f.rule.tier)
        for f in FollowUp.objects.filter(kind="cadence").select_related("rule")
    }
    assert due[key.pk] == (NOW - 100 * DAY + 14 * DAY, "A")
    assert due[ordinary.pk] == (NOW - 100 * DAY + 60 * DAY, "C")
    assert due[ungraded.pk] == (NOW - 100 * DAY + 7 * DAY, "")


def test_a_tier_rule_for_one_status_wins_and_others_fall_back(make_company, tier_cadences):
    CadenceRule.objects.filter(kind="cadence", tier="B").delete()
    CadenceRule.objects.create(
        name="B dormant: every 45 days", kind="cadence", status="dormant", tier="B", days=45
    )
    dormant_b = _company(make_company, "Dormant B", status="dormant", tier="B")
    prospect_b = _company(make_company, "Prospect B", status="prospect", tier="B")
    run_reminders(NOW)
    assert FollowUp.objects.get(company=dormant_b, kind="cadence").rule.days == 45
    assert (
        FollowUp.objects.get(company=prospect_b, kind="cadence").rule.status == "prospect"
    )  # no general B rule left


def test_editing_a_tier_keeps_its_cadence_rule_in_sync(admin, tier_cadences):
    from tradecrm.grading.config import DEFAULT_TIERS
    from tradecrm.grading.services import tiers_update

    tiers = [dict(t, followup_days=days) for t, days in zip(DEFAULT_TIERS, (7, 30, 60, None), strict=True)]
    tiers[0]["name"] = "Strategic"
    tiers_update(actor=admin, tiers=tiers)
    rules = {r.tier: r for r in CadenceRule.objects.filter(kind="cadence").exclude(tier="")}
    assert set(rules) == {"A", "B", "C"}
    assert rules["A"].days == 7 and rules["A"].name == "Tier A · Strategic: follow up every 7 days"
