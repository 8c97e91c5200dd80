from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("followups", "0004_customer_scan_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                fields=["company", "kind", "status", "completed_at"], name="followup_company_kind_idx"
            ),
        ),
    ]
