"""/api/v1/documents/…/pdf, /api/v1/seller-profiles and /api/v1/document-templates: PDFs with 404
for dave and 422 on an unknown language, seller profiles read by everyone and changed by
administrators (403 for sales reps), bank-account checks as 422 on the field, templates for
administrators only, answers matching their schemas."""

import json

import pytest
from django.test import Client

from tradecrm.accounts.models import ApiToken
from tradecrm.documents import pdf
from tradecrm.documents import print_services as ps
from tradecrm.documents.models import BankAccount, DocumentTemplate, SellerProfile
from tradecrm.documents.print_schemas import BankAccountOut, SellerOut, SellerPage, TemplateOut
from tradecrm.documents.services import proforma_create, proforma_issue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
JSON = "application/json"


@pytest.fixture
def api_for(db):
    def make(user):
        _tok, raw = ApiToken.issue(user)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path / "media"}}}  # fmt: skip


@pytest.fixture
def renders(monkeypatch):
    calls = []

    def fake(html, **kwargs):
        calls.append(html)
        return b"%PDF-1.7 fake"

    monkeypatch.setattr(pdf, "html_to_pdf", fake)
    return calls


def send(client, method, url, body=None, **headers):
    return getattr(client, method)(url, json.dumps(body or {}), content_type=JSON, **headers)


def fields_of(resp) -> dict:
    return {e["field"]: e["message"] for e in resp.json()["detail"]}


@pytest.fixture
def pi(alice, acme, lines, seller, usd_account, rates):
    doc = proforma_create(actor=alice, company=acme, data={}, lines=lines)
    return proforma_issue(actor=alice, proforma=doc, version=doc.version)


# --- PDFs -----------------------------------------------------------------------------------------


def test_pdf_downloads(api_for, alice, issued, pi, renders):
    q = issued()
    api = api_for(alice)
    resp = api.get(f"/api/v1/documents/quotations/{q.pk}/pdf", {"language": "bilingual"})
    assert (
        resp.status_code == 200
        and resp["Content-Type"] == "application/pdf"
        and resp.content == b"%PDF-1.7 fake"
    )
    assert resp["Content-Disposition"] == 'attachment; filename="Q-2026-0001.pdf"'
    resp = api.get(f"/api/v1/documents/proforma-invoices/{pi.pk}/pdf")
    assert (
        resp.status_code == 200 and resp["Content-Disposition"] == 'attachment; filename="PI-2026-0001.pdf"'
    )
    assert len(renders) == 2 and "BKCHCNBJ92A" in renders[1]


def test_pdf_unknown_language_is_422(api_for, alice, issued, renders):
    resp = api_for(alice).get(f"/api/v1/documents/quotations/{issued().pk}/pdf", {"language": "fr"})
    assert resp.status_code == 422
    assert fields_of(resp) == {"language": "“fr” is not a document language: use en, zh-hans or bilingual."}
    assert renders == []


def test_dave_gets_404_on_every_pdf(api_for, dave, issued, pi, renders):
    api = api_for(dave)
    for url in (f"/api/v1/documents/quotations/{issued().pk}/pdf",
                f"/api/v1/documents/proforma-invoices/{pi.pk}/pdf",
                f"/api/v1/documents/quotations/{issued().pk}/pdf?language=fr",
                "/api/v1/documents/proforma-invoices/999999/pdf"):  # fmt: skip
        assert api.get(url).status_code == 404, url
    assert renders == []


# --- seller profiles ------------------------------------------------------------------------------


def test_everyone_reads_seller_profiles_with_their_accounts(api_for, dave, seller, usd_account):
    api = api_for(dave)
    resp = api.get("/api/v1/seller-profiles")
    assert resp.status_code == 200
    page = SellerPage.model_validate(resp.json())
    assert (
        page.items[0].name_zh == "宁波明途照明有限公司"
        and page.items[0].bank_accounts[0].swift == "BKCHCNBJ92A"
    )
    resp = api.get(f"/api/v1/seller-profiles/{seller.pk}")
    assert resp.status_code == 200 and resp["ETag"] == '"1"' and SellerOut.model_validate(resp.json())
    assert api.get(f"/api/v1/seller-profiles/{seller.pk}", HTTP_IF_NONE_MATCH='"1"').status_code == 304
    assert api.get(f"/api/v1/seller-profiles/{seller.pk}/bank-accounts/{usd_account.pk}").status_code == 200
    assert api.get("/api/v1/seller-profiles/999999").status_code == 404


def test_sales_rep_cannot_change_seller_profiles(api_for, alice, seller, usd_account):
    api = api_for(alice)
    assert send(api, "post", "/api/v1/seller-profiles", {"name_en": "Mine"}).status_code == 403
    resp = send(api, "patch", f"/api/v1/seller-profiles/{seller.pk}", {"name_en": "Mine", "version": 1})
    assert resp.status_code == 403
    assert api.delete(f"/api/v1/seller-profiles/{seller.pk}").status_code == 403
    resp = send(api, "post", f"/api/v1/seller-profiles/{seller.pk}/bank-accounts",
                {"currency": "EUR", "beneficiary": "x", "bank_name": "y", "swift": "BKCHCNBJ", "account_number": "1"})  # fmt: skip
    assert resp.status_code == 403
    assert SellerProfile.objects.get().name_en == "Ningbo Brightway Lighting Co., Ltd."
    assert BankAccount.objects.count() == 1


def test_admin_creates_and_changes_a_seller(api_for, admin):
    api = api_for(admin)
    resp = send(api, "post", "/api/v1/seller-profiles", {"name_en": "Brightway", "name_zh": "明途"})
    assert resp.status_code == 201 and resp.json()["is_default"] is True
    sid = resp.json()["id"]
    resp = send(api, "patch", f"/api/v1/seller-profiles/{sid}", {"phone": "+86 574 1"})
    assert resp.status_code == 428
    resp = send(api, "patch", f"/api/v1/seller-profiles/{sid}", {"phone": "+86 574 1", "version": 1})
    assert resp.status_code == 200 and resp.json()["version"] == 2
    resp = send(api, "patch", f"/api/v1/seller-profiles/{sid}", {"phone": "+86 574 2", "version": 1})
    assert resp.status_code == 409
    resp = send(api, "patch", f"/api/v1/seller-profiles/{sid}", {"email": "nope", "version": 2})
    assert resp.status_code == 422 and fields_of(resp) == {"email": "“nope” is not an email address."}


def test_bank_account_checks_answer_422_on_the_field(api_for, admin, seller):
    api = api_for(admin)
    url = f"/api/v1/seller-profiles/{seller.pk}/bank-accounts"
    body = {"currency": "EUR", "beneficiary": "Brightway", "bank_name": "BOC", "swift": "BKCHCNBJ",
            "account_number": "1234", "iban": "GB82WEST12345698765433"}  # fmt: skip
    resp = send(api, "post", url, body)
    assert resp.status_code == 422
    assert fields_of(resp) == {"iban": "The IBAN “GB82WEST12345698765433” has wrong check digits: look for a "
                                       "typing error."}  # fmt: skip
    assert not BankAccount.objects.exists()
    resp = send(api, "post", url, {**body, "iban": "GB82WEST12345698765432"})
    assert resp.status_code == 201 and BankAccountOut.model_validate(resp.json()).is_default
    aid = resp.json()["id"]
    resp = send(api, "patch", f"{url}/{aid}", {"swift": "BKCHCN", "version": 1})
    assert resp.status_code == 422 and list(fields_of(resp)) == ["swift"]
    resp = send(api, "patch", f"{url}/{aid}", {"active": False, "version": 1})
    assert resp.status_code == 200 and resp.json()["active"] is False and resp.json()["is_default"] is False
    assert api.delete(f"{url}/{aid}").status_code == 204


def test_account_in_use_cannot_be_deleted(api_for, admin, pi, usd_account, seller):
    api = api_for(admin)
    resp = api.delete(f"/api/v1/seller-profiles/{seller.pk}/bank-accounts/{usd_account.pk}")
    assert resp.status_code == 422 and "PI-2026-0001" in fields_of(resp)["bank_account"]
    assert api.delete(f"/api/v1/seller-profiles/{seller.pk}").status_code == 422
    assert BankAccount.objects.filter(pk=usd_account.pk).exists()


def test_logo_upload(api_for, admin, seller):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 8), "navy").save(buf, "PNG")
    buf.seek(0)
    buf.name = "logo.png"
    api = api_for(admin)
    resp = api.post(f"/api/v1/seller-profiles/{seller.pk}/logo", {"logo": buf, "version": "1"})
    assert resp.status_code == 200, resp.json()
    assert resp.json()["logo_url"] == f"/api/v1/seller-profiles/{seller.pk}/logo"
    got = api.get(resp.json()["logo_url"])
    assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"\x89PNG")
    text = io.BytesIO(b"plain text")
    text.name = "logo.png"
    resp = api.post(f"/api/v1/seller-profiles/{seller.pk}/logo", {"logo": text, "version": "2"})
    assert resp.status_code == 422 and list(fields_of(resp)) == ["logo"]


# --- document templates ---------------------------------------------------------------------------


def test_templates_are_for_administrators_only(api_for, alice, dave, admin):
    t = ps.template_create(actor=admin, data={"kind": "quotation", "language": "en", "name": "x",
                                              "source": '{% extends "documents/pdf/quotation.html" %}'})  # fmt: skip
    for user in (alice, dave):
        api = api_for(user)
        assert api.get("/api/v1/document-templates").status_code == 403
        assert api.get(f"/api/v1/document-templates/{t.pk}").status_code == 404
        assert api.get(f"/api/v1/document-templates/{t.pk}/preview").status_code == 404
        assert (
            send(api, "patch", f"/api/v1/document-templates/{t.pk}", {"name": "y", "version": 1}).status_code
            == 404
        )
        assert api.delete(f"/api/v1/document-templates/{t.pk}").status_code == 404
    assert DocumentTemplate.objects.get().name == "x"


def test_admin_template_lifecycle(api_for, admin, renders):
    api = api_for(admin)
    builtin = api.get("/api/v1/document-templates/builtin/proforma").json()
    assert '{% extends "documents/pdf/quotation.html" %}' in builtin["source"]
    body = {"kind": "proforma", "language": "zh-hans", "name": "Ours", "source": "{% load humanize %}x"}
    resp = send(api, "post", "/api/v1/document-templates", body)
    assert resp.status_code == 422 and "“humanize” cannot be used" in fields_of(resp)["source"]
    assert not DocumentTemplate.objects.exists()
    resp = send(
        api, "post", "/api/v1/document-templates", {**body, "source": builtin["source"], "active": True}
    )
    assert resp.status_code == 201 and TemplateOut.model_validate(resp.json()).active
    tid = resp.json()["id"]
    resp = send(api, "patch", f"/api/v1/document-templates/{tid}", {"active": False, "version": 1})
    assert resp.status_code == 200 and resp.json()["active"] is False and resp.json()["version"] == 2
    resp = api.get(f"/api/v1/document-templates/{tid}/preview", {"language": "bilingual"})
    assert (
        resp.status_code == 200 and resp["Content-Type"] == "application/pdf" and "BKCHCNBJ92A" in renders[0]
    )
    assert api.get(f"/api/v1/document-templates/{tid}/preview", {"language": "xx"}).status_code == 422
    assert api.delete(f"/api/v1/document-templates/{tid}").status_code == 204
