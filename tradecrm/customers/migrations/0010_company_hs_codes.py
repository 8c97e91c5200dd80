"""One row per HS code of interest of a customer (customers_companyhscode), kept by triggers on the
company table so that every writer — the ORM, the importers' raw inserts, a restore — keeps it
current, and filled from the existing customers."""

import django.db.models.deletion
from django.db import migrations, models

SQLITE_TRIGGERS = [
    """CREATE TRIGGER customers_company_hs_insert AFTER INSERT ON customers_company
       WHEN new.hs_codes IS NOT NULL AND new.hs_codes NOT IN ('', '[]')
       BEGIN
         INSERT INTO customers_companyhscode (company_id, code)
         SELECT new.id, substr(CAST(value AS TEXT), 1, 16) FROM json_each(new.hs_codes)
         WHERE type IN ('text', 'integer');
       END""",
    """CREATE TRIGGER customers_company_hs_update AFTER UPDATE OF hs_codes ON customers_company
       WHEN old.hs_codes IS NOT new.hs_codes
       BEGIN
         DELETE FROM customers_companyhscode WHERE company_id = old.id;
         INSERT INTO customers_companyhscode (company_id, code)
         SELECT new.id, substr(CAST(value AS TEXT), 1, 16) FROM json_each(coalesce(nullif(new.hs_codes, ''), '[]'))
         WHERE type IN ('text', 'integer');
       END""",
    """CREATE TRIGGER customers_company_hs_delete AFTER DELETE ON customers_company
       BEGIN
         DELETE FROM customers_companyhscode WHERE company_id = old.id;
       END""",
]
SQLITE_FILL = """INSERT INTO customers_companyhscode (company_id, code)
    SELECT c.id, substr(CAST(j.value AS TEXT), 1, 16) FROM customers_company c, json_each(c.hs_codes) j
    WHERE c.hs_codes IS NOT NULL AND c.hs_codes NOT IN ('', '[]') AND j.type IN ('text', 'integer')"""
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS customers_company_hs_{op}" for op in ("insert", "update", "delete")]

PG_TRIGGERS = [
    """CREATE FUNCTION customers_company_hs_sync() RETURNS trigger AS $$
       BEGIN
         IF TG_OP <> 'INSERT' THEN
           DELETE FROM customers_companyhscode WHERE company_id = OLD.id;
         END IF;
         IF TG_OP <> 'DELETE' AND jsonb_typeof(NEW.hs_codes) = 'array' THEN
           INSERT INTO customers_companyhscode (company_id, code)
           SELECT NEW.id, left(e #>> '{}', 16) FROM jsonb_array_elements(NEW.hs_codes) e
           WHERE jsonb_typeof(e) IN ('string', 'number');
         END IF;
         RETURN NULL;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER customers_company_hs_insert AFTER INSERT OR DELETE ON customers_company
       FOR EACH ROW EXECUTE FUNCTION customers_company_hs_sync()""",
    """CREATE TRIGGER customers_company_hs_update AFTER UPDATE OF hs_codes ON customers_company
       FOR EACH ROW WHEN (OLD.hs_codes IS DISTINCT FROM NEW.hs_codes)
       EXECUTE FUNCTION customers_company_hs_sync()""",
]
PG_FILL = """INSERT INTO customers_companyhscode (company_id, code)
    SELECT c.id, left(e #>> '{}', 16) FROM customers_company c, jsonb_array_elements(c.hs_codes) e
    WHERE jsonb_typeof(c.hs_codes) = 'array' AND jsonb_typeof(e) IN ('string', 'number')"""
PG_DROP = [
    "DROP TRIGGER IF EXISTS customers_company_hs_insert ON customers_company",
    "DROP TRIGGER IF EXISTS customers_company_hs_update ON customers_company",
    "DROP FUNCTION IF EXISTS customers_company_hs_sync()",
]


def create(apps, schema_editor):
    pg = schema_editor.connection.vendor == "postgresql"
    for sql in (PG_TRIGGERS if pg else SQLITE_TRIGGERS) + [PG_FILL if pg else SQLITE_FILL]:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    pg = schema_editor.connection.vendor == "postgresql"
    for sql in PG_DROP if pg else SQLITE_DROP:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_encrypt_tax_id_notes"),
    ]

    operations = [
        migrations.CreateModel(
            name="CompanyHsCode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=16)),
                (
                    "company",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="customers.company",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["code", "company"], name="company_hs_code_idx")],
            },
        ),
        migrations.RunPython(create, drop),
    ]
