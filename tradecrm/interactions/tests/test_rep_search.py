"""PostgreSQL timeline search for a sales rep: their own entries walked in id windows through the
(company_id, id) index, then the planner for rare terms. Same results and paging as every plan
(on SQLite these run the FTS plan)."""

import pytest
from django.db import connection

from tradecrm.interactions import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_windows(monkeypatch):
    monkeypatch.setattr(selectors, "FEW_COMPANIES", 0)  # not the "reads them whole" plan
    monkeypatch.setattr(selectors, "REP_WINDOWS", (2, 3, 5))


def _page_all(user, q, limit):
    seen, cursor = [], None
    while True:
        rows, cursor, _ = selectors.timeline_search(user, q, limit=limit, cursor=cursor)
        seen += [r["id"] for r in rows]
        if not cursor:
            return seen


def test_rep_search_walks_windows_and_pages(small_windows, alice, dave, acme, log, make_company):
    west = make_company(actor=dave, name="West Co")
    mine = []
    for n in range(9):
        mine.append(log(subject=f"container {n}").pk)
        for _ in range(2):  # hits alice may not see, between hers
            log(actor=dave, company=west, subject="container elsewhere")
        log(subject="unrelated")
    expected = sorted(mine, reverse=True)
    for limit in (1, 2, 3, 30):
        assert _page_all(alice, "container", limit) == expected
    assert _page_all(dave, "container", 4) == sorted(
        set(_page_all(dave, "elsewhere", 4)), reverse=True
    )  # dave sees only west's


def test_rep_search_rare_term_falls_to_the_planner(small_windows, alice, acme, log):
    old = log(subject="pallet order").pk
    for _ in range(12):  # more than the first two windows
        log(subject="something else")
    assert _page_all(alice, "pallet", 2) == [old]
    assert _page_all(alice, "nothing like this", 2) == []


def test_rep_company_ids(alice, dave, admin, acme, monkeypatch):
    if connection.vendor != "postgresql":
        assert selectors._rep_company_ids(alice) is None
        return
    assert selectors._rep_company_ids(alice) == [acme.pk]
    assert selectors._rep_company_ids(dave) == []
    assert selectors._rep_company_ids(admin) is None
    monkeypatch.setattr(selectors, "REP_COMPANIES", 0)
    assert selectors._rep_company_ids(alice) is None
