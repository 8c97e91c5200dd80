"""Quotation numbers are unique and without gaps: a failed issue gives its number back, and on
PostgreSQL concurrent issues from several threads (each with its own connection) get distinct,
consecutive numbers. The full 1,000 × 8-thread run is bench/numbering.py; SQLite's in-memory test
database refuses concurrent writers ("table is locked"), so the threaded test runs on PostgreSQL
only."""

import threading

import pytest
from django.db import connection, connections

from tradecrm.documents import services
from tradecrm.documents.models import DocumentSeries, Quotation
from tradecrm.documents.services import quotation_issue

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.mark.django_db(transaction=True)
def test_a_failed_issue_gives_its_number_back(make_quotation, alice, rates, monkeypatch):
    first, second = make_quotation(), make_quotation()

    def broken(*args, **kwargs):
        raise RuntimeError("the audit fails after the number was taken and the row written")

    monkeypatch.setattr(services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        quotation_issue(actor=alice, quotation=first, version=1)
    first.refresh_from_db()
    assert (first.status, first.number, first.version) == ("draft", "", 1)
    assert not DocumentSeries.objects.filter(last_number__gt=0).exists()
    monkeypatch.undo()
    assert quotation_issue(actor=alice, quotation=second, version=1).number == "Q-2026-0001"
    assert quotation_issue(actor=alice, quotation=first, version=1).number == "Q-2026-0002"


@pytest.mark.django_db(transaction=True)
def test_the_same_draft_issued_twice_takes_one_number(make_quotation, alice, rates):
    q = make_quotation()
    stale = Quotation.objects.get(pk=q.pk)
    quotation_issue(actor=alice, quotation=q, version=1)
    from tradecrm.core.errors import ConcurrentEditError

    with pytest.raises(ConcurrentEditError):
        quotation_issue(actor=alice, quotation=stale, version=1)
    assert DocumentSeries.objects.get(kind="quotation").last_number == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_on_postgresql_are_unique_and_gap_free(make_quotation, alice, rates):
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite's shared in-memory test database refuses concurrent writers; see bench/numbering.py"
        )
    drafts = [make_quotation(lines=[{"name": "A", "quantity": "1", "unit_price": "1"}]) for _ in range(40)]
    errors: list[str] = []

    def work(chunk):
        try:
            for q in chunk:
                quotation_issue(actor=alice, quotation=q, version=q.version)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(drafts[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = sorted(Quotation.objects.values_list("number", flat=True))
    assert numbers == [f"Q-2026-{n:04d}" for n in range(1, 41)]
