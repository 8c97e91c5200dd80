"""Free-text search indexes: FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL.

On SQLite the triggers live on the table: a later migration that makes Django rebuild
customers_company or customers_contact must run this installation again.
"""

from django.db import migrations

from tradecrm.core.search import fts_drop_sql, fts_install_sql

TABLES = ("customers_company", "customers_contact")


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        for sql in fts_install_sql(table, vendor):
            schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        for sql in fts_drop_sql(table, vendor):
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
