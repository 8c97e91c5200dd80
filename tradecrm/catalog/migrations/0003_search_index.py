"""Product search index: FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL (see customers 0002).
`search_text` holds the SKU, both names, the specification, the category and the HS code."""

from django.db import migrations

from tradecrm.core.search import fts_drop_sql, fts_install_sql

TABLE = "catalog_product"


def install(apps, schema_editor):
    for sql in fts_install_sql(TABLE, schema_editor.connection.vendor):
        schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    for sql in fts_drop_sql(TABLE, schema_editor.connection.vendor):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_sku_case_insensitive")]
    operations = [migrations.RunPython(install, uninstall)]
