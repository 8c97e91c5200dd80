from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("followups", "0002_default_rules")]

    operations = [
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                condition=models.Q(("reminded_at__isnull", True), ("status", "open")),
                fields=["due_at"],
                name="followup_unreminded_idx",
            ),
        ),
    ]
