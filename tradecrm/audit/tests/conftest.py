import pytest
from django.db import connection
from django.test import Client

from tradecrm.accounts.models import ApiToken


@pytest.fixture
def api_for(db):
    def make(user, **extra):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", **extra)

    return make


@pytest.fixture
def no_append_only_trigger(db):
    """What someone with the database file can do: drop the trigger. (Rolled back after the test:
    DDL is transactional on SQLite and PostgreSQL.)"""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("DROP TRIGGER IF EXISTS audit_sealed_no_update")
        else:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks, or ALTER is refused
            cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_sealed_append_only")
