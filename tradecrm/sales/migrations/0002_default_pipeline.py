"""Seed the default export pipeline (询盘 → 报价 → 寄样 → 谈判 → PI/合同 → 成交/丢单) and the loss
reasons. Names are stored in English with a `key`; the app shows them translated until an
administrator renames them (tradecrm/sales/defaults.py). The values are written out here, not
imported, so that this migration means the same thing whatever the code becomes."""

from django.db import migrations

STAGES = [  # key, name, probability, kind, stale after N days
    ("inquiry", "Inquiry", 10, "open", 7),
    ("quoted", "Quoted", 30, "open", 14),
    ("sample", "Sample", 50, "open", 30),
    ("negotiation", "Negotiation", 70, "open", 14),
    ("contract", "PI / contract", 90, "open", 14),
    ("won", "Won", 100, "won", None),
    ("lost", "Lost", 0, "lost", None),
]

LOSS_REASONS = [
    ("price", "Price too high"),
    ("competitor", "Chose a competitor"),
    ("no_reply", "No reply from the buyer"),
    ("quality", "Quality or certification"),
    ("lead_time", "Lead time too long"),
    ("moq", "MOQ too high"),
    ("payment_terms", "Payment terms"),
    ("cancelled", "Project cancelled"),
    ("other", "Other"),
]


def seed(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    LossReason = apps.get_model("sales", "LossReason")
    if not Pipeline.objects.filter(name="Export").exists():
        pipeline = Pipeline.objects.create(
            name="Export", is_default=not Pipeline.objects.filter(is_default=True).exists(), position=0
        )
        for i, (key, name, probability, kind, stale) in enumerate(STAGES):
            Stage.objects.create(pipeline=pipeline, key=key, name=name, position=i, probability=probability,
                                 kind=kind, stale_days=stale)  # fmt: skip
    for i, (key, name) in enumerate(LOSS_REASONS):
        if not LossReason.objects.filter(name=name).exists():
            LossReason.objects.create(key=key, name=name, position=i)


def unseed(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Opportunity = apps.get_model("sales", "Opportunity")
    LossReason = apps.get_model("sales", "LossReason")
    pipeline = Pipeline.objects.filter(name="Export").first()
    if pipeline is not None and not Opportunity.objects.filter(pipeline=pipeline).exists():
        pipeline.delete()
    LossReason.objects.filter(key__in=[k for k, _n in LOSS_REASONS], opportunities__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
