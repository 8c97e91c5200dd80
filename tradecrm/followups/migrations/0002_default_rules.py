"""Default reminder rules. They are ordinary data: administrators edit, switch off or delete them
on the reminder-rules page, so this migration only adds the rules that are missing."""

from django.db import migrations

HIGH, NORMAL, LOW = 3, 2, 1

# (name, kind, lifecycle status, days, hours, priority)
DEFAULT_RULES = [
    ("New lead: first follow-up within 1 day", "cadence", "lead", 1, None, HIGH),
    ("Prospect: follow up every 7 days", "cadence", "prospect", 7, None, NORMAL),
    ("Sample sent: follow up every 7 days", "cadence", "sample", 7, None, NORMAL),
    ("First order: follow up every 14 days", "cadence", "first_order", 14, None, NORMAL),
    ("Key customer (repeat buyer): follow up every 14 days", "cadence", "repeat", 14, None, NORMAL),
    ("Dormant: reach out every 90 days", "cadence", "dormant", 90, None, LOW),
    ("Inquiry unanswered for 24 hours", "unanswered", "", None, 24, HIGH),
    ("Quotation expires in 3 days", "quotation_expiry", "", 3, None, NORMAL),
    ("Expected reorder in 7 days", "purchase_cycle", "", 7, None, NORMAL),
    ("Review the customer profile every 90 days", "profile_review", "", 90, None, LOW),
]


def seed(apps, schema_editor):
    CadenceRule = apps.get_model("followups", "CadenceRule")
    for name, kind, status, days, hours, priority in DEFAULT_RULES:
        CadenceRule.objects.get_or_create(
            kind=kind,
            status=status,
            tier="",
            defaults={"name": name, "days": days, "hours": hours, "priority": priority},
        )


def unseed(apps, schema_editor):
    CadenceRule = apps.get_model("followups", "CadenceRule")
    for name, kind, status, *_rest in DEFAULT_RULES:
        CadenceRule.objects.filter(kind=kind, status=status, tier="", name=name).delete()


class Migration(migrations.Migration):
    dependencies = [("followups", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
