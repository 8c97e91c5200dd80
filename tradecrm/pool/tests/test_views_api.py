"""Pages and API: what each persona sees, and 404 for dave (West) on everything of the East pool."""

import json

import pytest

from tradecrm.customers.models import Company
from tradecrm.pool.models import PoolEntry, RecallRun

from .conftest import NOW


@pytest.fixture
def pooled(alice, east_pool, co, in_pool):
    c = co(alice, name="Acme Imports LLC", country="US")
    in_pool(c, previous_owner=alice, days=12)
    return c


def test_pool_list_and_page(client_for, bob, pooled, east_pool):
    c = client_for(bob)
    r = c.get("/pool/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "East pool" in body and "1 customer" in body
    assert "Recall after 60 days without a verifiable touch" in body
    r = c.get(f"/pool/{east_pool.id}/")
    body = r.content.decode()
    assert "Acme Imports LLC" in body and ">12<" in body and "Alice" in body
    assert c.get(f"/pool/{east_pool.id}/?country=DE").content.decode().count('data-testid="pool-row"') == 0
    assert c.get(f"/pool/{east_pool.id}/?min_days=13").content.decode().count('data-testid="pool-row"') == 0
    assert c.get(f"/pool/{east_pool.id}/?max_days=12").content.decode().count('data-testid="pool-row"') == 1


def test_dave_gets_404_on_every_east_pool_page(client_for, dave, pooled, east_pool):
    c = client_for(dave)
    assert "East pool" not in c.get("/pool/").content.decode()
    assert c.get(f"/pool/{east_pool.id}/").status_code == 404
    assert c.get(f"/pool/{east_pool.id}/rules/").status_code == 404
    assert c.post(f"/pool/customers/{pooled.id}/claim/").status_code == 404
    assert c.post(f"/pool/customers/{pooled.id}/assign/", {"owner": dave.id}).status_code == 404
    assert c.get(f"/customers/{pooled.id}/pool/").status_code == 404
    assert c.post(f"/customers/{pooled.id}/pool/release/", {"reason": "x"}).status_code == 404
    assert c.post(f"/customers/{pooled.id}/pool/lock/").status_code == 404
    assert PoolEntry.objects.filter(company=pooled).exists()


def test_claim_button_and_error_in_words(client_for, alice, bob, pooled, east_pool):
    east_pool.rules = {**east_pool.rules, "claim_limit_per_day": 1}
    east_pool.save()
    c = client_for(bob)
    r = c.post(f"/pool/customers/{pooled.id}/claim/")
    assert r.status_code == 302 and r["Location"] == f"/customers/{pooled.id}/"
    assert Company.objects.get(pk=pooled.pk).owner_id == bob.id
    other = Company.objects.create(name="Beta", country="US", team=alice.team)
    PoolEntry.objects.create(company=other, pool=east_pool, since=NOW, kind="release")
    r = c.post(f"/pool/customers/{other.id}/claim/", follow=True)
    assert "Daily claim limit of 1 reached" in r.content.decode()


def test_assign_page_action_for_managers_only(client_for, bob, carol, pooled, east_pool):
    assert client_for(bob).post(f"/pool/customers/{pooled.id}/assign/", {"owner": bob.id}).status_code == 403
    r = client_for(carol).post(f"/pool/customers/{pooled.id}/assign/", {"owner": bob.id})
    assert r.status_code == 302
    assert Company.objects.get(pk=pooled.pk).owner_id == bob.id


def test_company_card_owned_and_release(client_for, alice, east_pool, co, touch):
    c = co(alice)
    touch(c, "email", 50)
    client = client_for(alice)
    body = client.get(f"/customers/{c.id}/pool/").content.decode()
    assert "Owned by Alice" in body and "recall in 10 days unless a verifiable touch" in body
    r = client.post(f"/customers/{c.id}/pool/release/", {"reason": "no longer buying"})
    assert r.status_code == 302
    body = client_for(alice).get(f"/pool/{east_pool.id}/").content.decode()
    assert "no longer buying" in body


def test_company_card_in_pool(client_for, carol, pooled, east_pool):
    body = client_for(carol).get(f"/customers/{pooled.id}/pool/").content.decode()
    assert "In pool East pool since 2026-02-20" in body and "previous owner Alice" in body
    assert 'data-testid="pool-claim"' in body


def test_rule_editor_admin_only_with_specific_errors(client_for, alice, admin, east_pool):
    assert client_for(alice).get(f"/pool/{east_pool.id}/rules/").status_code == 403
    c = client_for(admin)
    assert c.get(f"/pool/{east_pool.id}/rules/").status_code == 200
    r = c.post(
        f"/pool/{east_pool.id}/rules/",
        {
            "name": "East pool",
            "version": 1,
            "no_touch_days": "-5",
            "warn_days": "7",
            "touch_kinds": ["email"],
            "active": "on",
        },
    )
    assert r.status_code == 200
    assert "Days without a verifiable touch cannot be negative (-5)." in r.content.decode()
    r = c.post(
        f"/pool/{east_pool.id}/rules/",
        {
            "name": "East pool",
            "version": 1,
            "no_touch_days": "30",
            "warn_days": "7",
            "touch_kinds": ["email"],
            "active": "on",
        },
    )
    assert r.status_code == 302
    east_pool.refresh_from_db()
    assert east_pool.rules["no_touch_days"] == 30 and east_pool.rules["touch_kinds"] == ["email"]
    assert east_pool.rules_version == 2


def test_run_log_for_managers(client_for, alice, carol, east_pool):
    RecallRun.objects.create(
        started_at=NOW, status="done", recalled=3, rules={"1": {"name": "East pool", "version": 2}}
    )
    assert client_for(alice).get("/pool/runs/").status_code == 403
    body = client_for(carol).get("/pool/runs/").content.decode()
    assert "East pool v2" in body


# --- API ------------------------------------------------------------------------------------------


def test_api_list_customers_claim(api_for, bob, pooled, east_pool):
    api = api_for(bob)
    pools = api.get("/api/v1/pools").json()
    assert [(p["name"], p["size"]) for p in pools] == [("East pool", 1)]
    page = api.get(f"/api/v1/pools/{east_pool.id}/customers").json()
    assert page["items"][0]["company_id"] == pooled.id and page["items"][0]["days"] == 12
    assert page["items"][0]["previous_owner"] == "Alice"
    r = api.post(f"/api/v1/pools/customers/{pooled.id}/claim")
    assert r.status_code == 200 and r.json()["kind"] == "claim"
    r = api.post(f"/api/v1/pools/customers/{pooled.id}/claim")
    assert r.status_code == 404


def test_api_claim_limits_are_422_in_words(api_for, alice, co, in_pool):
    c = co(alice)
    in_pool(c, previous_owner=alice, days=3, kind="release")
    r = api_for(alice).post(f"/api/v1/pools/customers/{c.id}/claim")
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {
            "field": "company",
            "message": "You released this customer 3 days ago; you may claim it again after 7 days.",
        }
    ]


def test_api_dave_404(api_for, dave, alice, east_pool, pooled, co):
    api = api_for(dave)
    owned = co(alice)
    assert api.get(f"/api/v1/pools/{east_pool.id}").status_code == 404
    assert api.get(f"/api/v1/pools/{east_pool.id}/customers").status_code == 404
    assert api.get(f"/api/v1/pools/{east_pool.id}/rules").status_code == 404
    assert (
        api.put(
            f"/api/v1/pools/{east_pool.id}/rules",
            json.dumps({"version": 1, "rules": {}}),
            content_type="application/json",
        ).status_code
        == 404
    )
    assert api.post(f"/api/v1/pools/customers/{pooled.id}/claim").status_code == 404
    assert (
        api.post(
            f"/api/v1/pools/customers/{pooled.id}/assign",
            json.dumps({"owner": dave.id}),
            content_type="application/json",
        ).status_code
        == 404
    )
    assert (
        api.post(
            f"/api/v1/pools/companies/{owned.id}/release",
            json.dumps({"reason": "x"}),
            content_type="application/json",
        ).status_code
        == 404
    )
    assert api.get(f"/api/v1/pools/companies/{owned.id}").status_code == 404


def test_api_assign_release_state(api_for, alice, bob, carol, pooled, east_pool, co):
    r = api_for(bob).post(
        f"/api/v1/pools/customers/{pooled.id}/assign",
        json.dumps({"owner": bob.id}),
        content_type="application/json",
    )
    assert r.status_code == 403
    r = api_for(carol).post(
        f"/api/v1/pools/customers/{pooled.id}/assign",
        json.dumps({"owner": bob.id}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["to_owner_id"] == bob.id
    mine = co(alice)
    state = api_for(alice).get(f"/api/v1/pools/companies/{mine.id}").json()
    assert state["in_pool"] is False and state["recall_rule"] == "no_touch" and state["pool"] == "East pool"
    r = api_for(alice).post(
        f"/api/v1/pools/companies/{mine.id}/release",
        json.dumps({"reason": ""}),
        content_type="application/json",
    )
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"field": "reason", "message": "Say why you release this customer (the next owner reads it)."}
    ]
    r = api_for(alice).post(
        f"/api/v1/pools/companies/{mine.id}/release",
        json.dumps({"reason": "moved away"}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["kind"] == "release"
    state = api_for(carol).get(f"/api/v1/pools/companies/{mine.id}").json()
    assert (
        state["in_pool"] is True
        and state["reason"] == "moved away"
        and state["previous_owner_id"] == alice.id
    )


def test_api_rules_admin_only_and_validated(api_for, alice, admin, east_pool):
    assert api_for(alice).get(f"/api/v1/pools/{east_pool.id}/rules").status_code == 403
    api = api_for(admin)
    got = api.get(f"/api/v1/pools/{east_pool.id}/rules").json()
    assert got["rules"]["no_touch_days"] == 60 and got["version"] == 1
    r = api.put(
        f"/api/v1/pools/{east_pool.id}/rules",
        json.dumps({"version": 1, "rules": {"warn_days": 90}}),
        content_type="application/json",
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "warn_days"
    r = api.put(
        f"/api/v1/pools/{east_pool.id}/rules",
        json.dumps({"version": 1, "rules": {"no_touch_days": 90}}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["rules_version"] == 2
    r = api.put(
        f"/api/v1/pools/{east_pool.id}/rules",
        json.dumps({"version": 1, "rules": {"no_touch_days": 80}}),
        content_type="application/json",
    )
    assert r.status_code == 409


def test_api_runs(api_for, alice, carol, east_pool):
    from tradecrm.pool.services import pool_recall_run

    pool_recall_run(now=NOW)
    assert api_for(alice).get("/api/v1/pools/runs").status_code == 403
    runs = api_for(carol).get("/api/v1/pools/runs").json()
    assert runs[0]["status"] == "done" and runs[0]["rule_versions"] == {str(east_pool.id): 1}


def test_duplicate_check_names_the_pool(alice, bob, make_company, in_pool):
    from tradecrm.dedup.selectors import check_company

    in_pool(make_company(name="Acme Imports LLC", country="US"), previous_owner=alice)
    found = check_company(bob, {"name": "Acme Imports LLC", "country": "US"})
    assert found and found[0]["pool"] == "public" and found[0]["pool_name"] == "East pool"


def test_customer_page_loads_the_card_lazily_and_nav_has_the_pool(client_for, alice, east_pool, co):
    c = co(alice)
    body = client_for(alice).get(f"/customers/{c.id}/").content.decode()
    assert f'hx-get="/customers/{c.id}/pool/"' in body
    assert 'data-testid="nav-pool"' in body
