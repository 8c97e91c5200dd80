"""Default tiers (A key / B important / C ordinary / D potential), the default configuration,
two example veto rules, No tier carries a follow-up cadence yet: the status
cadence rules keep governing until an administrator gives a tier its cadence on the tiers page
(which then keeps a tier cadence rule in sync). Ordinary data: an
administrator renames, edits or removes them; this migration only adds what is missing."""

from django.db import migrations

# a frozen copy of grading.config.DEFAULT_TIERS / DEFAULT_CONFIG at the time of this migration
TIERS = [
    (
        "A",
        "Key",
        75,
        "#d63939",
        None,
        True,
        ["Quarterly business review", "Priority sample handling", "Visit once a year"],
    ),
    ("B", "Important", 55, "#f76707", None, False, ["Monthly check-in", "New collection first"]),
    ("C", "Ordinary", 30, "#206bc4", None, False, []),
    ("D", "Potential", 0, "#667382", None, False, []),
]


def _t(*pairs):
    return [{"value": v, "points": p} for v, p in pairs]


CONFIG = {
    "window_days": 365,
    "dimensions": {
        "frequency": {"weight": 20, "thresholds": _t((1, 20), (2, 50), (4, 80), (8, 100))},
        "amount": {"weight": 25, "thresholds": _t((1000, 20), (10000, 50), (50000, 80), (200000, 100))},
        "recency": {"weight": 15, "neutral": 0, "thresholds": _t((30, 100), (90, 80), (180, 50), (365, 20))},
        "repeat": {
            "weight": 10,
            "neutral": 0,
            "thresholds": _t((0.5, 50), (0.66, 70), (0.8, 90), (0.9, 100)),
        },
        "timeliness": {"weight": 10, "neutral": 50, "thresholds": _t((0.5, 30), (0.8, 70), (0.95, 100))},
        "satisfaction": {"weight": 5, "neutral": 50, "thresholds": _t((2, 20), (3, 50), (4, 80), (4.5, 100))},
        "engagement": {"weight": 5, "thresholds": _t((1, 30), (5, 60), (15, 100))},
        "potential": {"weight": 10, "thresholds": _t((10, 20), (30, 50), (60, 80), (80, 100))},
    },
    "lifecycle": {"new_days": 90, "at_risk": 1.5, "dormant": 2.5, "lost": 4.0, "default_interval_days": 180},
}

VETOES = [
    ("Credit rating D", "credit_rating", {"ratings": ["D"]}, "C"),
    ("Payment overdue more than 90 days", "overdue_days", {"threshold": 90}, "C"),
]


def seed(apps, schema_editor):
    Tier = apps.get_model("grading", "Tier")
    GradingConfig = apps.get_model("grading", "GradingConfig")
    VetoRule = apps.get_model("grading", "VetoRule")
    if not Tier.objects.exists():
        for rank, (code, name, score, color, days, manager, checklist) in enumerate(TIERS, start=1):
            Tier.objects.create(
                code=code,
                name=name,
                rank=rank,
                min_score=score,
                color=color,
                followup_days=days,
                requires_account_manager=manager,
                checklist=checklist,
            )
    GradingConfig.objects.get_or_create(id=1, defaults={"data": CONFIG})
    if not VetoRule.objects.exists():
        for name, kind, extra, cap in VETOES:
            VetoRule.objects.create(name=name, kind=kind, cap_tier=cap, **extra)


def unseed(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [("grading", "0002_config_veto_overdue")]

    operations = [migrations.RunPython(seed, unseed)]
