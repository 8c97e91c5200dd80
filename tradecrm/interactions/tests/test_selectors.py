"""Timeline reads: visibility follows the company; keyset order; search over the FTS index
(Latin, Chinese of 1, 2 and 3+ characters) scoped to what the user sees, paged by id."""

import pytest
from django.http import Http404

from tradecrm.core.paging import BadCursor
from tradecrm.customers.services import company_update
from tradecrm.interactions import selectors

pytestmark = pytest.mark.django_db


def test_interaction_visible_iff_company_is(alice, bob, carol, dave, admin, acme, log):
    i = log()
    for user in (alice, carol, admin):
        assert selectors.interaction_get_for_user(user, i.pk) == i
    for user in (bob, dave):  # bob is alice's teammate but does not follow acme
        with pytest.raises(Http404):
            selectors.interaction_get_for_user(user, i.pk)
    company_update(actor=alice, company=acme, version=acme.version, data={"followers": [bob.pk]})
    assert selectors.interaction_get_for_user(bob, i.pk) == i
    for bad in (None, "x", -1, 2**70, 999999):
        with pytest.raises(Http404):
            selectors.interaction_get_for_user(alice, bad)


def test_company_timeline_newest_first_with_ties(alice, acme, log):
    same = "2026-11-01T10:00:00Z"
    a, b = log(occurred_at=same), log(occurred_at=same)
    c = log(occurred_at="2026-11-02T10:00:00Z")
    d = log(occurred_at="2026-10-01T10:00:00Z")
    rows, nxt, _ = selectors.company_timeline(alice, acme, limit=2)
    assert [r["id"] for r in rows] == [c.pk, b.pk] and nxt
    rows, nxt, _ = selectors.company_timeline(alice, acme, limit=2, cursor=nxt)
    assert [r["id"] for r in rows] == [a.pk, d.pk] and nxt is None


def test_contact_timeline_includes_cc(alice, jane, wang, log):
    a = log(contact=jane.pk)
    b = log(contact=wang.pk, contacts=[jane.pk])
    log(contact=wang.pk)
    rows, _n, _p = selectors.contact_timeline(alice, jane)
    assert [r["id"] for r in rows] == [b.pk, a.pk]


def _ids(user, q, **kw):
    return [r["id"] for r in selectors.timeline_search(user, q, **kw)[0]]


@pytest.fixture(params=["few", "index"])
def plan(request, monkeypatch):
    """Both SQLite plans: reading a small visible set whole, and walking the index's hits."""
    if request.param == "index":
        monkeypatch.setattr(selectors, "FEW_COMPANIES", 0)
    return request.param


def test_search_latin_and_chinese_scoped_to_visibility(
    plan, alice, carol, dave, admin, acme, wang, log, make_company
):
    led = log(subject="Sample of LED panels", body="FOB Ningbo")
    zh = log(subject="报价单", body="客户要求深圳交货", contact=wang.pk)
    west = make_company(actor=dave, name="West Co")
    theirs = log(actor=dave, company=west, subject="LED panels too", body="深圳工厂")
    assert _ids(alice, "led panel") == [led.pk]
    assert _ids(alice, "ningbo") == [led.pk]
    assert _ids(alice, "深圳") == [zh.pk]  # two characters: the gram token
    assert _ids(alice, "报") == [zh.pk]  # one character
    assert _ids(alice, "要求深圳") == [zh.pk]  # four: the trigram index
    assert _ids(alice, "王小明") == [zh.pk]  # the contact's name
    assert _ids(dave, "深圳") == [theirs.pk] and _ids(dave, "ningbo") == []
    assert _ids(carol, "led") == [led.pk]  # manager of East: not West
    assert _ids(admin, "led panels") == [theirs.pk, led.pk]
    assert _ids(alice, "") == [] and _ids(alice, "nothing like this") == []


def test_search_pages_through_growing_windows(plan, alice, dave, acme, log, make_company, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_WINDOW_FIRST", 2)
    west = make_company(actor=dave, name="West Co")
    mine = []
    for n in range(7):
        mine.append(log(subject=f"container {n}").pk)
        for _ in range(3):  # hits alice may not see, between hers
            log(actor=dave, company=west, subject="container elsewhere")
    seen, cursor = [], None
    while True:
        rows, cursor, _ = selectors.timeline_search(alice, "container", limit=3, cursor=cursor)
        seen += [r["id"] for r in rows]
        if not cursor:
            break
    assert seen == sorted(mine, reverse=True)
    with pytest.raises(BadCursor):
        selectors.timeline_search(alice, "container", cursor="bogus")


def test_search_plan_follows_the_size_of_the_visible_set(alice, dave, acme, log, monkeypatch):
    log()
    assert selectors._few_visible_company_ids(alice) == [acme.pk]
    assert selectors._few_visible_company_ids(dave) == []
    monkeypatch.setattr(selectors, "FEW_ENTRIES", 0)
    assert selectors._few_visible_company_ids(alice) is None


def test_search_rows_carry_related(alice, bob, acme, jane, log):
    log(subject="meeting notes", contact=jane.pk, participants=[bob.pk])
    row = selectors.timeline_search(alice, "meeting")[0][0]
    assert row["company__name"] == acme.name and row["contact_name"] == "Jane Doe"
    assert [p["name"] for p in row["participants"]] == ["Bob"] and row["attachments"] == []


@pytest.mark.parametrize("who", ["admin", "carol"])
def test_search_newest_first_probe_falls_through(who, request, log, monkeypatch):
    """PostgreSQL searches the newest entries first; hits below that window are still found,
    with and without the visibility rule (carol is a manager)."""
    user = request.getfixturevalue(who)
    monkeypatch.setattr(selectors, "PROBE_WINDOWS", (2, 2))
    monkeypatch.setattr(selectors, "FEW_COMPANIES", 0)
    hits = [log(subject="pallet order").pk for _ in range(3)]
    for _ in range(3):
        log(subject="something else")
    assert _ids(user, "pallet", limit=2) == hits[::-1][:2]
    rows, cursor, _ = selectors.timeline_search(user, "pallet", limit=2)
    assert [r["id"] for r in selectors.timeline_search(user, "pallet", limit=2, cursor=cursor)[0]] == [
        hits[0]
    ]
