"""The sweep, the review page, the groups API, "Not duplicates" and the CLI."""

import json

import pytest
from django.core.management import call_command

from tradecrm.dedup.models import CompanyKey, DuplicatePair, PairStatus
from tradecrm.dedup.sweep import groups_of, open_groups, sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def archive(make_company, alice, bob):
    a = make_company(actor=alice, name="Acme Widgets Inc.", country="US", website="https://acmewidgets.com")
    b = make_company(actor=alice, name="ACME Widgets, Inc", country="US", email="sales@acmewidgets.com")
    c = make_company(actor=bob, name="Acme Widget Incorporated", country="US")
    d = make_company(actor=alice, name="Acme Gadgets LLC", country="US")
    e = make_company(actor=alice, name="宁波恒达贸易有限公司", country="CN")
    f = make_company(actor=alice, name="Ningbo Heng Da Trading Co Ltd", country="CN")
    return {"acme": [a.pk, b.pk, c.pk], "gadgets": d.pk, "hengda": [e.pk, f.pk]}


def test_sweep_finds_groups_and_keeps_dismissed_pairs_dismissed(archive, alice):
    stats = sweep("companies", workers=1)
    assert stats["records"] == 6 and stats["pairs"] >= 3
    groups = open_groups("companies")
    assert [g["ids"] for g in groups] == [archive["acme"], archive["hengda"]] or [
        g["ids"] for g in groups
    ] == [
        archive["hengda"],
        archive["acme"],
    ]
    acme = next(g for g in groups if g["ids"] == archive["acme"])
    assert acme["score"] >= 0.95 and any("acmewidgets.com" in r for r in acme["reasons"])
    assert all(archive["gadgets"] not in g["ids"] for g in groups)

    from tradecrm.dedup.sweep import pairs_dismiss

    assert pairs_dismiss(actor=alice, entity="companies", ids=archive["hengda"]) == 1
    again = sweep("companies", workers=1)
    assert again["pairs"] == stats["pairs"]
    pair = DuplicatePair.objects.get(a_id=archive["hengda"][0], b_id=archive["hengda"][1])
    assert pair.status == PairStatus.DISMISSED and pair.decided_by == alice
    assert [g["ids"] for g in open_groups("companies")] == [archive["acme"]]


def test_stale_open_pairs_are_removed(archive, alice):
    from tradecrm.customers.models import Company
    from tradecrm.dedup.keys import refresh_company_keys

    sweep("companies", workers=1)
    Company.objects.filter(pk=archive["hengda"][1]).update(name="Cascade Timber Products")
    refresh_company_keys([archive["hengda"][1]])
    stats = sweep("companies", workers=1)
    assert stats["stale_removed"] == 1
    assert not DuplicatePair.objects.filter(a_id=archive["hengda"][0]).exists()


def test_groups_of_is_transitive():
    assert groups_of([(1, 2), (2, 3), (7, 9)]) == [[1, 2, 3], [7, 9]]


def test_contacts_sweep(make_company, alice):
    from tradecrm.customers.services import contact_create

    co = make_company(name="Acme Widgets Inc.", country="US")
    other = make_company(name="Acme Service LLC", country="US")
    p1 = contact_create(actor=alice, company=co, data={"first_name": "John", "last_name": "Smith",
                                                       "emails": "john@acme.com"})  # fmt: skip
    p2 = contact_create(actor=alice, company=co, data={"first_name": "Jon", "last_name": "Smith"})
    p3 = contact_create(actor=alice, company=other, data={"first_name": "J.", "last_name": "Smith",
                                                          "emails": "JOHN@acme.com"})  # fmt: skip
    contact_create(actor=alice, company=co, data={"first_name": "Mary", "last_name": "Jones"})
    sweep("contacts", workers=1)
    assert [g["ids"] for g in open_groups("contacts")] == [sorted([p1.pk, p2.pk, p3.pk])]


def test_review_page_dismiss_and_dave_gets_404(archive, client_for, alice, dave, carol):
    sweep("companies", workers=1)
    c = client_for(alice)
    r = c.get("/duplicates/")
    html = r.content.decode()
    assert r.status_code == 200 and html.count('data-testid="dup-group"') == 1  # bob's record hides acme
    assert "merge/companies/?ids=" in html
    m = client_for(carol).get("/duplicates/")  # the manager sees the whole team: both groups
    assert m.content.decode().count('data-testid="dup-group"') == 2

    ids = archive["hengda"]
    assert (
        client_for(dave).post("/duplicates/dismiss/", {"entity": "companies", "ids": ids}).status_code == 404
    )
    assert client_for(dave).get("/duplicates/").content.decode().count('data-testid="dup-group"') == 0
    r = c.post("/duplicates/dismiss/", {"entity": "companies", "ids": ids}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and r.content == b""
    assert DuplicatePair.objects.get(a_id=ids[0]).status == PairStatus.DISMISSED


def test_api_groups_and_dismiss(archive, client_for, alice, dave, carol):
    sweep("companies", workers=1)
    r = client_for(carol).get("/api/v1/duplicates/groups?entity=companies")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2 and {tuple(g["ids"]) for g in body["items"]} == {
        tuple(archive["acme"]),
        tuple(archive["hengda"]),
    }
    assert all(g["merge_url"].startswith("/merge/companies/?ids=") for g in body["items"])
    assert client_for(dave).get("/api/v1/duplicates/groups").json()["total"] == 0

    pair = DuplicatePair.objects.get(a_id=archive["hengda"][0])
    url = f"/api/v1/duplicates/pairs/{pair.pk}/dismiss"
    assert client_for(dave).post(url).status_code == 404
    assert client_for(dave).post("/api/v1/duplicates/pairs/999999/dismiss").status_code == 404
    r = client_for(dave).post(
        "/api/v1/duplicates/groups/dismiss", {"ids": archive["acme"]}, content_type="application/json"
    )
    assert r.status_code == 404
    r = client_for(alice).post(url)
    assert r.status_code == 200 and r.json() == {"dismissed": 1}
    r = client_for(carol).post(
        "/api/v1/duplicates/groups/dismiss", {"ids": archive["acme"]}, content_type="application/json"
    )
    assert r.json() == {"dismissed": 3}
    r = client_for(carol).post(
        "/api/v1/duplicates/groups/dismiss", {"ids": archive["acme"]}, content_type="application/json"
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "ids"


def test_cli_json_and_rebuild_keys(archive, capsys):
    CompanyKey.objects.all().delete()
    call_command("dedup", "--entity", "companies", "--json", "--rebuild-keys", "--workers", "1")
    out = json.loads(capsys.readouterr().out)
    assert {tuple(g["ids"]) for g in out} == {tuple(archive["acme"]), tuple(archive["hengda"])}
    assert all(set(g) == {"ids", "score", "reasons"} and g["reasons"] for g in out)
    assert CompanyKey.objects.count() > 6
    call_command("dedup", "--entity", "companies", "--json", "--no-sweep", "--threshold", "0.99")
    high = json.loads(capsys.readouterr().out)
    assert all(g["score"] >= 0.99 for g in high)


def test_sweep_now_needs_a_manager(client_for, alice, carol, monkeypatch):
    calls = []
    monkeypatch.setattr("tradecrm.dedup.tasks.dedup_sweep_now", lambda entity: calls.append(entity))
    assert client_for(alice).post("/duplicates/sweep/", {"entity": "companies"}).status_code == 403
    assert client_for(carol).post("/duplicates/sweep/", {"entity": "contacts"}).status_code == 302
    assert calls == ["contacts"]


def test_compact_profiles_score_like_the_originals():
    from tradecrm.dedup.scoring import company_profile, score_profiles_raw
    from tradecrm.dedup.sweep import decode_profile, encode_profile

    a = company_profile(
        {"name": "宁波恒达贸易有限公司", "country": "CN", "email": "a@hengda.cn", "tax_id": "x"}
    )
    b = company_profile({"name": "Ningbo Heng Da Trading", "country": "CN", "website": "hengda.cn",
                         "phones": ["+8657487654321"]})  # fmt: skip
    assert decode_profile(encode_profile(a)) == a
    assert score_profiles_raw(decode_profile(encode_profile(a)), decode_profile(encode_profile(b))) == (
        score_profiles_raw(a, b)
    )


def test_big_blocks_are_chained_and_huge_ones_skipped():
    from array import array

    from tradecrm.dedup import sweep as S

    out = array("q")
    S._pairs_of_block([5, 1, 3], out)
    assert sorted((p >> 32, p & 0xFFFFFFFF) for p in out) == [(1, 3), (1, 5), (3, 5)]
    out = array("q")
    S._pairs_of_block(list(range(1, 31)), out)  # 30 records: a chain of windows, not 435 pairs
    assert len(out) < 30 * (S.WINDOW + 1) and groups_of((p >> 32, p & 0xFFFFFFFF) for p in out) == [
        list(range(1, 31))
    ]
    out = array("q")
    S._pairs_of_block(list(range(1, S.MAX_BLOCK + 2)), out)
    assert len(out) == 0


def test_stored_groups_follow_decisions(archive, alice):
    from tradecrm.dedup.models import DuplicateGroup, DuplicateGroupMember
    from tradecrm.dedup.sweep import pairs_dismiss

    stats = sweep("companies", workers=1)
    assert stats["groups"] == 2
    assert sorted(DuplicateGroup.objects.values_list("ids", flat=True)) == sorted(
        [archive["acme"], archive["hengda"]]
    )
    a, b, c = archive["acme"]
    pairs_dismiss(actor=alice, entity="companies", ids=[a, c])  # a~c dismissed; a~b and b~c still link them
    assert sorted(DuplicateGroup.objects.values_list("ids", flat=True)) == sorted(
        [[a, b, c], archive["hengda"]]
    )
    pairs_dismiss(actor=alice, entity="companies", ids=[b, c])  # c drops out
    assert sorted(DuplicateGroup.objects.values_list("ids", flat=True)) == sorted([[a, b], archive["hengda"]])
    assert not DuplicateGroupMember.objects.filter(record_id=c).exists()


def test_big_groups_are_shown_in_part_without_merge_link(archive, client_for, carol, monkeypatch):
    from tradecrm.dedup import selectors

    sweep("companies", workers=1)
    monkeypatch.setattr(selectors, "SHOW_RECORDS", 2)
    body = client_for(carol).get("/api/v1/duplicates/groups").json()
    acme = next(g for g in body["items"] if g["size"] == 3)
    assert len(acme["ids"]) == 2 and acme["merge_url"] is None
    assert "2 of 3 records" in client_for(carol).get("/duplicates/").content.decode()
