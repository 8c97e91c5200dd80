"""Database triggers refusing UPDATE and DELETE of sealed audit events (seq set).

One UPDATE stays allowed: actor_id to NULL, which is what deleting a user does (the username is
kept in actor_name, which the hash covers). Sealing itself updates unsealed rows only.

SQLite gets the UPDATE trigger only: Django empties tables with DELETE FROM on SQLite (test
flushes), which a DELETE trigger would break; deleting a sealed row there is still refused by
the model and detected by `tradecrm audit verify` (a gap in seq). PostgreSQL empties tables with
TRUNCATE, so it gets both.
"""

from django.db import migrations

COLUMNS = (
    "id",
    "at",
    "action",
    "object_type",
    "object_id",
    "changes",
    "source",
    "ip",
    "actor_name",
    "seq",
    "hash",
)

SQLITE_UP = (
    "CREATE TRIGGER audit_sealed_no_update BEFORE UPDATE ON audit_auditevent "
    "WHEN OLD.seq IS NOT NULL AND ("
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in COLUMNS)
    + " OR (NEW.actor_id IS NOT OLD.actor_id AND NEW.actor_id IS NOT NULL)) "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only: a sealed event cannot be changed'); END;"
)
SQLITE_DOWN = "DROP TRIGGER IF EXISTS audit_sealed_no_update;"

PG_UP = (
    """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
  IF OLD.seq IS NULL THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit events are append-only: sealed event % cannot be deleted', OLD.seq;
  END IF;
  IF ("""
    + " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in COLUMNS)
    + """)
     OR (NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL) THEN
    RAISE EXCEPTION 'audit events are append-only: sealed event % cannot be changed', OLD.seq;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_sealed_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
  FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""
)
PG_DOWN = (
    "DROP TRIGGER IF EXISTS audit_sealed_append_only ON audit_auditevent;"
    "DROP FUNCTION IF EXISTS audit_event_append_only();"
)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_UP, params=None)
    elif vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN, params=None)
    elif vendor == "postgresql":
        schema_editor.execute(PG_DOWN, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_chain_source_ip")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
