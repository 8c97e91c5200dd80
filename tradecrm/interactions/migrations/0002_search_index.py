"""Timeline search index: FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL (see customers 0002)."""

from django.db import migrations

from tradecrm.core.search import fts_drop_sql, fts_install_sql

TABLE = "interactions_interaction"


def install(apps, schema_editor):
    for sql in fts_install_sql(TABLE, schema_editor.connection.vendor):
        schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    for sql in fts_drop_sql(TABLE, schema_editor.connection.vendor):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("interactions", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
