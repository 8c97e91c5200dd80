"""PostgreSQL: a (company_id, id) btree for timeline search by a sales rep (selectors._rep_newest_first).

It walks the rep's own entries newest first in id windows, one index descent per visible company,
instead of every entry of the window (primary key) or every hit of the term (trigram index). The
existing (company_id, occurred_at, id) index cannot bound id. SQLite searches through FTS5 and
does not need it. Creating it on 5M entries took a few seconds.
"""

from django.db import migrations

TABLE = "interactions_interaction"
INDEX = "interactions_interaction_company_id_idx"


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} (company_id, id)")


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("interactions", "0002_search_index")]
    operations = [migrations.RunPython(install, uninstall)]
