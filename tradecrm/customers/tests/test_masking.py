"""Contact masking: roles without "reveal" see `+49 ***** 6789` and `j***@acme.de` in pages, the
API, exports and search results; Reveal is audited; masked values never overwrite stored ones."""

import pytest
from django.test import Client

from tradecrm.accounts import access
from tradecrm.accounts.models import ApiToken, User
from tradecrm.audit.models import AuditEvent
from tradecrm.customers.masking import mask_email, mask_phone, unmask_value
from tradecrm.customers.models import Company, Contact
from tradecrm.customers.services import contact_create

JSON = "application/json"
PHONE = "+4930901820"  # Berlin
SHOWN = "+49 30 901820"
MASKED = "+49 ***** 1820"


@pytest.fixture(autouse=True)
def _fresh_policies():
    access.clear_policy_cache()
    yield
    access.clear_policy_cache()


def _user(username, role, team, **extra):
    u = User(username=username, role=role, team=team, first_name=username.capitalize(), **extra)
    u.set_password("pw-" + username + "-12345")
    u.save()
    return u


@pytest.fixture
def rita(teams):
    return _user("rita", "read_only", teams["sales"])


@pytest.fixture
def erin(teams, alice):
    u = _user("erin", "assistant", teams["east"])
    u.acts_for.add(alice)
    return u


@pytest.fixture
def acme(make_company):
    return make_company(name="Acme GmbH", country="DE", email="info@acme.de", phones=[PHONE])


@pytest.fixture
def jane(alice, acme):
    return contact_create(actor=alice, company=acme, data={
        "first_name": "Jane", "title": "Buyer", "emails": ["jane@acme.de"], "phones": [PHONE], "whatsapp": PHONE,
    })  # fmt: skip


def api_for(user):
    _tok, raw = ApiToken.issue(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_mask_formats():
    assert mask_phone("+4930123456789") == "+49 ***** 6789"
    assert mask_phone("+8613800138000") == "+86 ***** 8000"
    assert mask_email("john@acme.de") == "j***@acme.de"
    assert mask_phone("") == "" and mask_email("") == ""
    # a masked value comes back as the stored one, item by item, each stored value once
    stored = ["+4930123456789", "+4940123456789"]
    assert unmask_value("phones", ["+49 ***** 6789", "+49 ***** 6789"], stored) == stored
    assert unmask_value("emails", "j***@acme.de\nnew@x.de", ["john@acme.de"]) == "john@acme.de\nnew@x.de"


def test_page_masks_for_roles_without_reveal(rita, acme, jane, client_for):
    html = client_for(rita).get(f"/customers/{acme.pk}/").content.decode()
    assert MASKED in html and "j***@acme.de" in html and "i***@acme.de" in html
    assert SHOWN not in html and "jane@acme.de" not in html and "info@acme.de" not in html
    assert 'data-testid="reveal"' not in html  # read-only may not reveal
    assert client_for(rita).post(f"/customers/{acme.pk}/reveal/").status_code == 403


def test_owner_and_manager_see_full_values(alice, carol, acme, jane, client_for):
    for who in (alice, carol):
        html = client_for(who).get(f"/customers/{acme.pk}/").content.decode()
        assert SHOWN in html and "jane@acme.de" in html and MASKED not in html


def test_follower_reveals_and_it_is_audited(bob, acme, jane, client_for, dave):
    acme.followers.add(bob)
    c = client_for(bob)
    html = c.get(f"/customers/{acme.pk}/").content.decode()
    assert MASKED in html and 'data-testid="reveal"' in html
    r = c.post(f"/customers/{acme.pk}/reveal/", HTTP_HX_REQUEST="true")
    out = r.content.decode()
    assert r.status_code == 200 and SHOWN in out and "jane@acme.de" in out and "info@acme.de" in out
    events = AuditEvent.objects.filter(action="reveal", actor=bob)
    assert {(e.object_type, e.object_id) for e in events} == {
        ("customers.company", acme.pk), ("customers.contact", jane.pk)}  # fmt: skip
    assert client_for(dave).post(f"/customers/{acme.pk}/reveal/").status_code == 404


def test_api_masks_companies_and_contacts(rita, alice, acme, jane):
    ro = api_for(rita)
    one = ro.get(f"/api/v1/companies/{acme.pk}").json()
    assert one["phones"] == [MASKED] and one["email"] == "i***@acme.de"
    rows = ro.get("/api/v1/companies").json()["items"]
    assert [r["phones"] for r in rows] == [[MASKED]]
    contact = ro.get(f"/api/v1/contacts/{jane.pk}").json()
    assert contact["emails"] == ["j***@acme.de"] and contact["phones"] == [MASKED] and contact["whatsapp"] == MASKED
    listed = ro.get(f"/api/v1/companies/{acme.pk}/contacts").json()["items"]
    assert listed[0]["emails"] == ["j***@acme.de"]
    assert api_for(alice).get(f"/api/v1/companies/{acme.pk}").json()["phones"] == [PHONE]
    assert api_for(alice).get("/api/v1/contacts").json()["items"][0]["emails"] == ["jane@acme.de"]


def test_search_results_are_masked(rita, acme, jane):
    rows = api_for(rita).get("/api/v1/companies", {"q": "901820"}).json()["items"]  # found by the phone
    assert [r["id"] for r in rows] == [acme.pk] and rows[0]["phones"] == [MASKED]
    rows = api_for(rita).get("/api/v1/contacts", {"q": "jane"}).json()["items"]
    assert rows and rows[0]["emails"] == ["j***@acme.de"]


def test_exports_are_masked(rita, carol, acme, jane):
    from tradecrm.reports.exports import export_prepare

    rita.can_export = True  # the per-user export grant, without "reveal"
    text = b"".join(export_prepare(actor=rita, entity="companies", fmt="csv", params={}).chunks()).decode()
    assert MASKED in text and "i***@acme.de" in text and PHONE not in text and "info@acme.de" not in text
    text = b"".join(export_prepare(actor=rita, entity="contacts", fmt="csv", params={}).chunks()).decode()
    assert "j***@acme.de" in text and "jane@acme.de" not in text
    full = b"".join(export_prepare(actor=carol, entity="companies", fmt="csv", params={}).chunks()).decode()
    assert "info@acme.de" in full


def test_editing_with_masked_values_keeps_the_stored_ones(erin, acme, jane, client_for):
    c = client_for(erin)  # an assistant may edit alice's customers but may not reveal
    form = c.get(f"/contacts/{jane.pk}/edit/").content.decode()
    assert MASKED in form and "j***@acme.de" in form and "jane@acme.de" not in form
    data = {"first_name": "Jane", "title": "Head of buying", "emails": "j***@acme.de\nsales@acme.de",
            "phones": MASKED, "whatsapp": MASKED, "version": jane.version}  # fmt: skip
    r = c.post(f"/contacts/{jane.pk}/edit/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    jane = Contact.objects.get(pk=jane.pk)
    assert jane.title == "Head of buying" and jane.emails == ["jane@acme.de", "sales@acme.de"]
    assert jane.phones == [PHONE] and jane.whatsapp == PHONE
    # the API: a masked value sent back in a PATCH keeps the stored value
    company = Company.objects.get(pk=acme.pk)
    r = api_for(erin).patch(f"/api/v1/companies/{acme.pk}", {"phones": [MASKED], "city": "Berlin",
                                                                 "version": company.version}, content_type=JSON)  # fmt: skip
    assert r.status_code == 200 and r.json()["phones"] == [MASKED]
    company = Company.objects.get(pk=acme.pk)
    assert company.phones == [PHONE] and company.city == "Berlin"
