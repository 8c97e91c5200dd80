"""Check while typing: candidates, owner and pool, visibility, and the policy on form and API."""

import pytest

from tradecrm.dedup.selectors import check_company, check_contact, policy_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def hengda(make_company, bob):
    return make_company(
        actor=bob,
        name="Ningbo Hengda Trading Co., Ltd.",
        name_local="宁波恒达贸易有限公司",
        country="CN",
        website="https://www.hengda-trade.com",
        phones=["+86 574 8765 4321"],
    )


def test_candidates_by_name_variants_and_keys(alice, hengda):
    # legal form, case and word order differ: found through the search index, scored by name
    found = check_company(alice, {"name": "HENGDA TRADING (NINGBO) CO LTD", "country": "CN"})
    assert [c["id"] for c in found] == [hengda.pk]
    assert found[0]["likely"] and found[0]["score"] >= 0.85
    # typed in Chinese only
    assert check_company(alice, {"name": "宁波恒达贸易有限公司", "country": "CN"})[0]["id"] == hengda.pk
    # another name, but the same website: found through the key
    found = check_company(alice, {"name": "HD Trade", "website": "hengda-trade.com/contact"})
    assert found[0]["id"] == hengda.pk and "same website hengda-trade.com" in found[0]["reasons"]
    # a phone typed in the local format, with the country
    found = check_company(alice, {"name": "Hengda", "country": "CN", "phones": "0574 8765 4321"})
    assert found[0]["id"] == hengda.pk and any(r.startswith("same phone") for r in found[0]["reasons"])


def test_lookalike_is_not_likely_and_editing_excludes_itself(alice, hengda):
    found = check_company(alice, {"name": "Ningbo Hengda Machinery Co., Ltd.", "country": "CN"})
    assert all(not c["likely"] for c in found)
    assert check_company(alice, {"name": hengda.name, "country": "CN"}, exclude_id=hengda.pk) == []
    assert check_company(alice, {}) == []


def test_other_teams_record_is_reported_with_owner_but_not_visible(dave, bob, hengda):
    found = check_company(dave, {"name": "Ningbo Hengda Trading", "country": "CN"})
    assert found[0]["id"] == hengda.pk
    assert found[0]["visible"] is False
    assert found[0]["owner"] == "Bob" and found[0]["team"] == "East" and found[0]["pool"] == "owned"


def test_public_pool(alice, hengda):
    from tradecrm.customers.models import Company

    Company.objects.filter(pk=hengda.pk).update(owner=None, team=None)
    found = check_company(alice, {"name": "Ningbo Hengda Trading", "country": "CN"})
    assert found[0]["pool"] == "public" and found[0]["owner"] is None


def test_check_contact_by_email_and_by_name_in_company(alice, hengda):
    from tradecrm.customers.services import contact_create

    wei = contact_create(actor=alice, company=hengda, data={"first_name": "Wei", "last_name": "Zhang",
                                                           "emails": "wei@hengda-trade.com"})  # fmt: skip
    found = check_contact(alice, {"emails": ["WEI@hengda-trade.com"]})
    assert found[0]["id"] == wei.pk and found[0]["company_id"] == hengda.pk and found[0]["likely"]
    found = check_contact(alice, {"first_name": "Zhang", "last_name": "Wei", "company_id": hengda.pk})
    assert found[0]["id"] == wei.pk and "same company" in found[0]["reasons"]
    assert check_contact(alice, {"first_name": "Anna", "last_name": "Schmidt", "company_id": hengda.pk}) == []


def test_api_check_and_policies(settings, client_for, alice, dave, hengda):
    c = client_for(alice)
    r = c.post(
        "/api/v1/duplicates/check",
        {"entity": "companies", "values": {"name": "Hengda Trading Co Ltd", "country": "CN"}},
        content_type="application/json",
    )
    assert r.status_code == 200
    body = r.json()
    assert body["candidates"][0]["id"] == hengda.pk and body["policy"] == "warn"

    body = {"name": "Ningbo Hengda Trading", "country": "CN"}
    settings.TRADECRM_DEDUP_POLICY = {"form": "warn", "api": "warn", "import": "merge"}
    r = c.post("/api/v1/companies", body, content_type="application/json")
    assert r.status_code == 201 and r.json()["duplicates"][0]["id"] == hengda.pk

    settings.TRADECRM_DEDUP_POLICY = {"form": "warn", "api": "block", "import": "merge"}
    r = c.post("/api/v1/companies", body, content_type="application/json")
    assert r.status_code == 409
    assert r.json()["duplicates"][0]["id"] == hengda.pk
    # what is not alike passes
    r = c.post(
        "/api/v1/companies", {"name": "Cascade Timber Inc", "country": "US"}, content_type="application/json"
    )
    assert r.status_code == 201

    settings.TRADECRM_DEDUP_POLICY = {"form": "warn", "api": "allow", "import": "merge"}
    r = c.post("/api/v1/companies", body, content_type="application/json")
    assert r.status_code == 201 and "duplicates" not in r.json()
    assert policy_for("api") == "allow"


def test_form_block_policy_and_panel(settings, client_for, alice, hengda):
    c = client_for(alice)
    r = c.post("/duplicates/check/company/", {"name": "Ningbo Hengda Trading Co Ltd", "country": "CN"})
    assert r.status_code == 200
    assert (
        'data-testid="dup-candidate"' in r.content.decode() and "Ningbo Hengda Trading" in r.content.decode()
    )
    r = c.post("/duplicates/check/company/", {"name": "Something Else Entirely", "country": "CN"})
    assert "dup-candidate" not in r.content.decode()

    settings.TRADECRM_DEDUP_POLICY = {"form": "block", "api": "warn", "import": "merge"}
    r = c.post("/customers/new/", {"name": "Ningbo Hengda Trading Co Ltd", "country": "CN", "status": "lead"})
    assert r.status_code == 422
    assert "already in the archive" in r.content.decode()


def test_tax_id_is_validated_for_the_country(alice):
    from django.core.exceptions import ValidationError

    from tradecrm.customers.services import company_create

    with pytest.raises(ValidationError) as exc:
        company_create(actor=alice, data={"name": "Müller GmbH", "country": "DE", "tax_id": "DE136695977"})
    assert "tax_id" in exc.value.message_dict
    c = company_create(actor=alice, data={"name": "Müller GmbH", "country": "DE", "tax_id": "de 136 695 976"})
    assert c.tax_id == "DE136695976"
    found = check_company(alice, {"name": "Mueller", "country": "DE", "tax_id": "136695976"})
    assert found[0]["id"] == c.pk and found[0]["reasons"][0] == "same tax id DE136695976"


def test_contact_panel_and_api(client_for, alice, dave, hengda):
    from tradecrm.customers.services import contact_create

    contact_create(actor=alice, company=hengda, data={"first_name": "Wei", "last_name": "Zhang",
                                                      "emails": "wei@hengda-trade.com"})  # fmt: skip
    r = client_for(alice).post("/duplicates/check/contact/", {"emails": "wei@hengda-trade.com",
                                                              "dedup_company": str(hengda.pk)})  # fmt: skip
    assert r.status_code == 200 and "This contact may already exist" in r.content.decode()
    r = client_for(dave).post(
        "/api/v1/duplicates/check",
        {"entity": "contacts", "values": {"emails": ["wei@hengda-trade.com"]}},
        content_type="application/json",
    )
    c = r.json()["candidates"][0]
    assert c["visible"] is False and c["company"] == hengda.name and c["owner"] == "Bob"
    r = client_for(alice).post(
        "/api/v1/duplicates/check", {"entity": "people", "values": {}}, content_type="application/json"
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "entity"


def test_company_form_has_the_panel_and_tax_id(client_for, alice, bob, hengda):
    html = client_for(alice).get("/customers/new/").content.decode()
    assert 'id="dup-check"' in html and 'name="tax_id"' in html
    html = client_for(bob).get(f"/customers/{hengda.pk}/edit/").content.decode()
    assert f'"dedup_exclude": "{hengda.pk}"' in html
