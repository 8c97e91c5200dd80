"""The company and assignee foreign keys lose their own single-column indexes: followup_company_idx,
followup_company_kind_idx and followup_assignee_idx start with those columns and serve the same
lookups. Fewer indexes to write on every follow-up the reminder scan inserts.

Dropped by name rather than through AlterField, which on SQLite would copy the whole table twice."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = {
    "followups_followup_company_id_538da77f": "company_id",
    "followups_followup_assignee_id_7c8a2d2c": "assignee_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("followups", "0005_company_kind_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [f"DROP INDEX IF EXISTS {name}" for name in INDEXES],
                    [
                        f"CREATE INDEX IF NOT EXISTS {name} ON followups_followup ({col})"
                        for name, col in INDEXES.items()
                    ],
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="followup",
                    name="assignee",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="followups",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="assignee",
                    ),
                ),
                migrations.AlterField(
                    model_name="followup",
                    name="company",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="followups",
                        to="customers.company",
                        verbose_name="company",
                    ),
                ),
            ],
        )
    ]
