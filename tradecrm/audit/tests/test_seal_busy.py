"""Sealing right after a commit gives up at once when another process writes (an import chunk on
SQLite): that is expected, the sealing task finishes the job, and it must not print a "database is
locked" warning on an import's console (the concurrency bench counts such lines as failures)."""

import logging

import pytest
from django.db import OperationalError, connection

from tradecrm.audit import chain

pytestmark = pytest.mark.django_db


def _failing(message):
    def seal(using, *, wait, batch=500):
        raise OperationalError(message)

    return seal


def test_a_busy_database_defers_sealing_without_a_lock_warning(monkeypatch, caplog):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's busy writer; PostgreSQL uses a try-lock that never fails")
    monkeypatch.setattr(chain, "seal", _failing("database is locked"))
    with caplog.at_level(logging.DEBUG, logger=chain.log.name):
        chain._seal_now("default")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "database is locked" not in caplog.text and "deferred" in caplog.text


def test_other_sealing_errors_are_still_warned(monkeypatch, caplog):
    monkeypatch.setattr(chain, "seal", _failing("disk I/O error"))
    with caplog.at_level(logging.DEBUG, logger=chain.log.name):
        chain._seal_now("default")
    assert [r for r in caplog.records if r.levelno == logging.WARNING and "disk I/O error" in r.getMessage()]
