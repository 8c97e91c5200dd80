"""A covering index for the grading run's GROUP BY over orders: per customer, in date order, with
every column the aggregate reads (status, total, rate, currency), so the run reads the index
alone, in customer order, without sorting and without visiting the table (measured in
docs/decisions/0009-grading-engine.md). On PostgreSQL the non-key columns are INCLUDEd.

Raw SQL (not AddIndex): the index serves a reader in another app and is not part of the order
model's own state."""

from django.db import migrations

NAME = "order_grading_idx"


def create_sql(vendor: str) -> str:
    if vendor == "postgresql":
        return (
            f"CREATE INDEX IF NOT EXISTS {NAME} ON orders_order (company_id, document_date) "
            f"INCLUDE (status, total_amount, fx_rate, currency)"
        )
    return (
        f"CREATE INDEX IF NOT EXISTS {NAME} ON orders_order "
        f"(company_id, document_date, status, total_amount, fx_rate, currency)"
    )


def create(apps, schema_editor):
    schema_editor.execute(create_sql(schema_editor.connection.vendor))


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
