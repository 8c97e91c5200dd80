"""Two partial indexes on customers_company for the reminder scan, so that it reads only the
customers that may need a follow-up instead of all of them on every run (measured at 1M customers
on SQLite: the cadence step 9.4 s -> see bench/results/reminders-sqlite.json).

- company_no_followup_idx: customers with an owner and no open follow-up (next_followup_at, kept by
  the follow-up services and the scan, is NULL): the cadence step's candidates.
- company_review_due_idx: when the profile was last reviewed (or, never reviewed, created): the
  profile-review step reads the range that is due.

They are created here, by the app that reads them, rather than in the customers app's model, and
are not in any model's Meta: should a later migration make Django rebuild customers_company on
SQLite, re-run these statements (the scan stays correct without them, only slower).
"""

from django.db import migrations

CREATE = [
    "CREATE INDEX IF NOT EXISTS company_no_followup_idx ON customers_company (owner_id) "
    "WHERE next_followup_at IS NULL AND owner_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS company_review_due_idx ON customers_company ((COALESCE(reviewed_at, created_at))) "
    "WHERE owner_id IS NOT NULL",
]
DROP = [
    "DROP INDEX IF EXISTS company_no_followup_idx",
    "DROP INDEX IF EXISTS company_review_due_idx",
]


class Migration(migrations.Migration):
    dependencies = [
        ("followups", "0003_unreminded_index"),
        ("customers", "0005_company_contact_dates"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
