"""Indexes for the dashboard's partial months (reports.dashboard): the new-customers report reads
customers created in a date range with their team, owner and source from company_created_idx
alone, and the orders of a date range are joined to their customers' visibility columns through
company_visibility_idx instead of the wide table rows."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("customers", "0010_company_hs_codes")]

    operations = [
        migrations.RemoveIndex(model_name="company", name="company_created_idx"),
        migrations.AddIndex(
            model_name="company",
            index=models.Index(
                fields=["created_at", "id", "team", "owner", "source"], name="company_created_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="company",
            index=models.Index(
                fields=["id", "team", "owner", "country", "source", "created_at"],
                name="company_visibility_idx",
            ),
        ),
    ]
