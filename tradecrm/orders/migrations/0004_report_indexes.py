"""Indexes for the dashboard's partial months (reports.dashboard): the orders of a date range, and
the lines and receivables of a set of orders, read from indexes alone instead of the tables.

The foreign-key indexes on orderline.order and receivable.order are replaced by the wider
orderline_order_idx and receivable_order_idx, which start with the order and serve the same
lookups. The swap is written as separate database and state operations: altering the field on
SQLite would rebuild the whole table (10M rows on the bench) just to drop an index."""

import django.db.models.deletion
from django.db import migrations, models

FK_INDEXED = (("orders_orderline", "order_id"), ("orders_receivable", "order_id"))


def _fk_index_name(schema_editor, table: str, column: str) -> str:
    # the name Django gave the foreign key's own index (schema_editor._create_index_sql's default)
    return schema_editor._create_index_name(table, [column], suffix="")


def drop_fk_indexes(apps, schema_editor):
    for table, column in FK_INDEXED:
        name = schema_editor.quote_name(_fk_index_name(schema_editor, table, column))
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_fk_indexes(apps, schema_editor):
    for table, column in FK_INDEXED:
        name = schema_editor.quote_name(_fk_index_name(schema_editor, table, column))
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {schema_editor.quote_name(table)} ({schema_editor.quote_name(column)})"
        )


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_orderline_hs_index")]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=[
                    "document_date",
                    "company",
                    "status",
                    "owner",
                    "total_amount",
                    "fx_rate",
                    "currency",
                    "id",
                ],
                name="order_report_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="orderline",
            index=models.Index(fields=["order", "product", "quantity", "amount"], name="orderline_order_idx"),
        ),
        migrations.AddIndex(
            model_name="receivable",
            index=models.Index(
                fields=["order", "status", "due_date", "amount", "paid_amount"], name="receivable_order_idx"
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="orderline",
                    name="order",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines",
                        to="orders.order",
                    ),
                ),
                migrations.AlterField(
                    model_name="receivable",
                    name="order",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="receivables",
                        to="orders.order",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_fk_indexes, create_fk_indexes)],
        ),
    ]
