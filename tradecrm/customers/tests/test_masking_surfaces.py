"""Contact masking beyond the customer pages: the duplicate review and merge pages, inquiries'
buyer fields, the mailbox pages and their API. A role without "reveal" (here: sales, after an
administrator took "reveal" away from it) sees `j***@acme.de` / `+49 ***** 1820`; a role with it
(the manager) sees the full values; a masked value sent back never overwrites the stored one."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from tradecrm.accounts import access
from tradecrm.accounts.models import ApiToken
from tradecrm.accounts.services import role_policy_update
from tradecrm.customers.masking import mask_address_text

pytestmark = pytest.mark.django_db

JSON = "application/json"
EMAIL = "jane.doe@acme.de"
EMAIL_MASKED = "j***@acme.de"
PHONE = "+4930901820"
PHONE_MASKED = "+49 ***** 1820"


@pytest.fixture(autouse=True)
def _fresh_policies():
    access.clear_policy_cache()
    yield
    access.clear_policy_cache()


@pytest.fixture
def masked_sales(admin):
    """Sales reps keep every right but "reveal"."""
    role_policy_update(actor=admin, role="sales", data={"actions": ["create", "edit", "delete", "merge"]})


def api_for(user):
    _tok, raw = ApiToken.issue(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _shows_masked(text: str) -> bool:
    return EMAIL_MASKED in text and EMAIL not in text


def _shows_full(text: str) -> bool:
    return EMAIL in text and EMAIL_MASKED not in text


def test_address_lines_keep_names_and_mask_addresses():
    assert mask_address_text("Ann Lee <ann@acme.de>, bob@x.com") == "Ann Lee <a***@acme.de>, b***@x.com"
    assert mask_address_text("") == "" and mask_address_text("no address") == "no address"


# --- duplicate review and merge ---------------------------------------------------------------


@pytest.fixture
def twins(make_company, alice):
    """Two records of one buyer and the pair a sweep would store for them (the sweep itself is
    tested in dedup/tests; here only what is shown matters)."""
    from tradecrm.dedup.models import DuplicatePair
    from tradecrm.dedup.sweep import rebuild_groups

    a = make_company(actor=alice, name="Acme Widgets GmbH", country="DE", email=EMAIL, phones=[PHONE])
    b = make_company(actor=alice, name="ACME Widgets GmbH.", country="DE", email=EMAIL, phones=[PHONE])
    DuplicatePair.objects.create(entity="company", a_id=a.pk, b_id=b.pk, score=1.0,
                                 reasons=[{"code": "domain", "value": "acme.de"}, {"code": "phone", "value": PHONE}])  # fmt: skip
    rebuild_groups("company")
    return a, b


def test_duplicate_review_page_and_api_mask_for_a_role_without_reveal(masked_sales, twins, client_for, alice,
                                                                       carol):  # fmt: skip
    html = client_for(alice).get("/duplicates/?entity=companies").content.decode()
    assert 'data-testid="dup-group"' in html and _shows_masked(html)
    assert f"same phone {PHONE_MASKED}" in html and PHONE not in html
    body = api_for(alice).get("/api/v1/duplicates/groups?entity=companies").content.decode()
    assert f"same phone {PHONE_MASKED}" in body and PHONE not in body
    # the manager may reveal: full values, in the page (record and reason) and the API
    html = client_for(carol).get("/duplicates/?entity=companies").content.decode()
    assert _shows_full(html) and f"same phone {PHONE}" in html
    assert (
        f"same phone {PHONE}"
        in api_for(carol).get("/api/v1/duplicates/groups?entity=companies").content.decode()
    )


def test_merge_page_and_preview_api_mask_for_a_role_without_reveal(masked_sales, twins, client_for, alice,
                                                                    carol):  # fmt: skip
    ids = f"{twins[0].pk},{twins[1].pk}"
    html = client_for(alice).get(f"/merge/companies/?ids={ids}").content.decode()
    assert 'data-testid="merge-form"' in html and _shows_masked(html) and PHONE_MASKED in html
    data = api_for(alice).get(f"/api/v1/merges/preview?entity=companies&ids={ids}").json()
    email = next(f for f in data["fields"] if f["name"] == "email")
    assert {v["display"] for v in email["values"]} == {EMAIL_MASKED}
    assert EMAIL not in json.dumps(data) and PHONE not in json.dumps(data)
    html = client_for(carol).get(f"/merge/companies/?ids={ids}").content.decode()
    assert _shows_full(html) and PHONE_MASKED not in html
    # masking changes the page, not the merge: the kept record keeps the real values
    r = client_for(alice).post(f"/merge/companies/?ids={ids}", {"ids": ids, "keep": twins[0].pk,
                                                                 "f_email": twins[1].pk})  # fmt: skip
    assert r.status_code == 302
    twins[0].refresh_from_db()
    assert twins[0].email == EMAIL and twins[0].phones == [PHONE]


# --- inquiries ----------------------------------------------------------------------------------


@pytest.fixture
def inquiry(alice):
    from tradecrm.sales.services import inquiry_create

    return inquiry_create(actor=alice, data={"channel": "website", "buyer_name": "Jane Doe",
                                             "buyer_email": EMAIL, "buyer_phone": PHONE, "subject": "Widgets"})  # fmt: skip


def test_inquiry_pages_mask_the_buyer_for_a_role_without_reveal(
    masked_sales, inquiry, client_for, alice, carol
):
    for url in (
        f"/inquiries/{inquiry.pk}/",
        f"/inquiries/{inquiry.pk}/convert/",
        f"/inquiries/{inquiry.pk}/edit/",
    ):
        html = client_for(alice).get(url).content.decode()
        assert _shows_masked(html), url
    detail = client_for(alice).get(f"/inquiries/{inquiry.pk}/").content.decode()
    assert PHONE_MASKED in detail and f"mailto:{EMAIL}" not in detail
    full = client_for(carol).get(f"/inquiries/{inquiry.pk}/").content.decode()
    assert _shows_full(full) and f"mailto:{EMAIL}" in full


def test_inquiry_list_masks_the_buyer_standing_in_for_a_name(masked_sales, alice, client_for):
    from tradecrm.sales.services import inquiry_create

    inquiry_create(actor=alice, data={"channel": "website", "buyer_email": EMAIL, "subject": "No name"})
    assert _shows_masked(client_for(alice).get("/inquiries/").content.decode())


def test_inquiry_api_masks_and_a_masked_value_sent_back_keeps_the_stored_one(masked_sales, inquiry, alice,
                                                                             carol):  # fmt: skip
    api = api_for(alice)
    got = api.get(f"/api/v1/inquiries/{inquiry.pk}").json()
    assert (got["buyer_email"], got["buyer_phone"]) == (EMAIL_MASKED, PHONE_MASKED)
    listed = api.get("/api/v1/inquiries").json()["items"]
    assert listed[0]["buyer_email"] == EMAIL_MASKED
    r = api.patch(f"/api/v1/inquiries/{inquiry.pk}", json.dumps({
        "version": got["version"], "subject": "Widgets, 2 sizes", "buyer_email": got["buyer_email"],
        "buyer_phone": got["buyer_phone"],
    }), content_type=JSON)  # fmt: skip
    assert r.status_code == 200, r.content
    inquiry.refresh_from_db()
    assert (inquiry.subject, inquiry.buyer_email, inquiry.buyer_phone) == ("Widgets, 2 sizes", EMAIL, PHONE)
    assert api_for(carol).get(f"/api/v1/inquiries/{inquiry.pk}").json()["buyer_email"] == EMAIL


def test_inquiry_edit_form_posted_back_unchanged_keeps_the_buyer(masked_sales, inquiry, client_for, alice):
    c = client_for(alice)
    r = c.post(f"/inquiries/{inquiry.pk}/edit/", {
        "channel": "website", "buyer_name": "Jane Doe", "buyer_email": EMAIL_MASKED, "buyer_phone": PHONE_MASKED,
        "subject": "Widgets (edited)", "status": inquiry.status, "owner": str(alice.pk), "version": inquiry.version,
    })  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:2000]
    inquiry.refresh_from_db()
    assert (inquiry.subject, inquiry.buyer_email, inquiry.buyer_phone) == ("Widgets (edited)", EMAIL, PHONE)


# --- mailbox ----------------------------------------------------------------------------------------


@pytest.fixture
def mail(make_company, alice):
    from tradecrm.mailbox.models import Mailbox, MailMessage, UnknownSender

    company = make_company(actor=alice, name="Acme Widgets GmbH", country="DE")
    box = Mailbox.objects.create(user=alice, email="rep@example.test", imap_host="127.0.0.1", imap_port=1,
                                 imap_ssl=False, smtp_host="127.0.0.1", smtp_port=1, smtp_security="none",
                                 username="rep", password="secret-pw")  # fmt: skip
    m = MailMessage.objects.create(
        mailbox=box, company=company, direction="in", status="received", message_id="<m1@acme.de>",
        from_addr=EMAIL, from_name="Jane Doe", to_addrs=["rep@example.test"], cc_addrs=["ops@acme.de"],
        subject="Order 42", body_text="Hello", sent_at=timezone.now(),
    )  # fmt: skip
    UnknownSender.objects.create(user=alice, address="stranger@elsewhere.com", name="Stranger",
                                 last_subject="Hi", count=1, last_seen_at=timezone.now())  # fmt: skip
    return company, m


def test_mail_pages_and_api_mask_addresses_for_a_role_without_reveal(
    masked_sales, mail, client_for, alice, admin
):
    company, m = mail
    html = client_for(alice).get(f"/mail/messages/{m.pk}/").content.decode()
    assert _shows_masked(html) and "r***@example.test" in html
    home = client_for(alice).get("/mail/").content.decode()
    assert "s***@elsewhere.com" in home and "stranger@elsewhere.com" not in home
    one = api_for(alice).get(f"/api/v1/messages/{m.pk}").json()
    assert (one["from_addr"], one["cc"]) == (EMAIL_MASKED, ["o***@acme.de"])
    listed = api_for(alice).get(f"/api/v1/messages?company={company.pk}").json()["items"]
    assert listed[0]["from_addr"] == EMAIL_MASKED
    # the administrator may reveal
    full = client_for(admin).get(f"/mail/messages/{m.pk}/").content.decode()
    assert _shows_full(full) and 'data-testid="mail-to">rep@example.test</span>' in full
    assert api_for(admin).get(f"/api/v1/messages/{m.pk}").json()["from_addr"] == EMAIL
