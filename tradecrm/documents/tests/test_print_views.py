"""Pages of the printed side: PDF downloads (404 for dave, file names, language), the
administrators' “Company & bank details” and “Document templates” pages (403 for sales reps),
template edits refused in place with nothing saved, previews."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tradecrm.documents import pdf
from tradecrm.documents import print_services as ps
from tradecrm.documents.models import BankAccount, DocumentTemplate, SellerProfile
from tradecrm.documents.services import proforma_create, proforma_issue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path / "media"}}}  # fmt: skip
    return tmp_path / "media"


@pytest.fixture
def renders(monkeypatch):
    calls = []

    def fake(html, **kwargs):
        calls.append(html)
        return b"%PDF-1.7 fake"

    monkeypatch.setattr(pdf, "html_to_pdf", fake)
    return calls


@pytest.fixture
def pi(alice, acme, lines, seller, usd_account, rates):
    doc = proforma_create(actor=alice, company=acme, data={"deposit_percent": "30", "payment_terms": "tt_deposit"},
                          lines=lines)  # fmt: skip
    return proforma_issue(actor=alice, proforma=doc, version=doc.version)


# --- PDF downloads --------------------------------------------------------------------------------


def test_pdf_of_an_issued_quotation_downloads_under_its_number(client_for, alice, issued, renders):
    q = issued()
    url = reverse("documents_print:quotation_pdf", args=[q.pk])
    assert url == f"/documents/quotations/{q.pk}/pdf/"
    resp = client_for(alice).get(url, {"lang": "zh-hans"})
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert resp["Content-Disposition"] == 'attachment; filename="Q-2026-0001.pdf"'
    assert resp.content == b"%PDF-1.7 fake" and 'lang="zh-Hans"' in renders[0]
    client_for(alice).get(url)  # the document's own language (en): another render, then cached
    client_for(alice).get(url, {"lang": "en"})
    assert len(renders) == 2 and 'lang="en"' in renders[1]


def test_pdf_of_a_proforma_invoice_and_of_a_draft(client_for, alice, pi, make_quotation, renders):
    url = reverse("documents_print:proforma_pdf", args=[pi.pk])
    assert url == f"/documents/proforma-invoices/{pi.pk}/pdf/"
    resp = client_for(alice).get(url, {"lang": "bilingual"})
    assert (
        resp.status_code == 200 and resp["Content-Disposition"] == 'attachment; filename="PI-2026-0001.pdf"'
    )
    draft = make_quotation()
    resp = client_for(alice).get(reverse("documents_print:quotation_pdf", args=[draft.pk]))
    assert (
        resp.status_code == 200
        and resp["Content-Disposition"] == f'attachment; filename="draft-{draft.pk}.pdf"'
    )
    assert resp["Cache-Control"] == "private, no-store" and ps.DRAFT_MARK in renders[-1]


def test_unknown_language_is_a_bad_request(client_for, alice, issued, renders):
    q = issued()
    resp = client_for(alice).get(reverse("documents_print:quotation_pdf", args=[q.pk]), {"lang": "fr"})
    assert resp.status_code == 400 and "“fr” is not a document language" in resp.content.decode()
    assert renders == []


def test_dave_gets_404_on_every_pdf(client_for, dave, issued, pi, make_quotation, renders):
    c = client_for(dave)
    for name, pk in (("quotation_pdf", issued().pk), ("quotation_pdf", make_quotation().pk),
                     ("proforma_pdf", pi.pk), ("quotation_pdf", 999999)):  # fmt: skip
        assert c.get(reverse(f"documents_print:{name}", args=[pk])).status_code == 404
    assert renders == []


def test_detail_pages_link_the_three_languages(client_for, alice, issued, pi):
    q = issued()
    html = client_for(alice).get(reverse("documents:quotation_detail", args=[q.pk])).content.decode()
    assert f'href="/documents/quotations/{q.pk}/pdf/?lang=zh-hans"' in html
    html = client_for(alice).get(reverse("documents:proforma_detail", args=[pi.pk])).content.decode()
    assert f'href="/documents/proforma-invoices/{pi.pk}/pdf/?lang=bilingual"' in html


# --- company & bank details -----------------------------------------------------------------------


def test_sales_reps_cannot_open_or_change_the_company_pages(client_for, alice, seller, usd_account):
    c = client_for(alice)
    urls = [
        reverse("documents_print:seller_list"), reverse("documents_print:seller_create"),
        reverse("documents_print:seller_edit", args=[seller.pk]),
        reverse("documents_print:seller_delete", args=[seller.pk]),
        reverse("documents_print:bank_account_create", args=[seller.pk]),
        reverse("documents_print:bank_account_edit", args=[seller.pk, usd_account.pk]),
        reverse("documents_print:template_list"), reverse("documents_print:template_create"),
    ]  # fmt: skip
    for url in urls:
        assert c.get(url).status_code == 403, url
    resp = c.post(reverse("documents_print:seller_edit", args=[seller.pk]), {"name_en": "Mine", "version": 1})
    assert resp.status_code == 403
    assert SellerProfile.objects.get().name_en == "Ningbo Brightway Lighting Co., Ltd."


def test_admin_sees_sellers_with_their_accounts(client_for, admin, seller, usd_account):
    resp = client_for(admin).get(reverse("documents_print:seller_list"))
    html = resp.content.decode()
    assert resp.status_code == 200 and "Ningbo Brightway Lighting Co., Ltd." in html and "BKCHCNBJ92A" in html
    assert f'data-testid="bank-account-{usd_account.pk}"' in html and 'data-testid="seller-default"' in html


def test_admin_edits_the_letterhead_with_a_logo(client_for, admin, seller, media):
    buf = io.BytesIO()
    Image.new("RGB", (20, 8), "navy").save(buf, "PNG")
    resp = client_for(admin).post(reverse("documents_print:seller_edit", args=[seller.pk]), {
        "version": seller.version, "name_en": "Brightway Lighting", "name_zh": "明途照明", "address_en": "88 Road",
        "logo": SimpleUploadedFile("logo.png", buf.getvalue(), content_type="image/png")})  # fmt: skip
    assert resp.status_code == 302
    seller.refresh_from_db()
    assert seller.name_zh == "明途照明" and seller.is_default and seller.logo.name.startswith("letterhead/")
    logo = client_for(admin).get(reverse("documents_print:seller_logo", args=[seller.pk]))
    assert logo.status_code == 200 and b"".join(logo.streaming_content).startswith(b"\x89PNG")


def test_bad_swift_on_the_bank_account_page_is_shown_and_nothing_saved(client_for, admin, seller):
    resp = client_for(admin).post(reverse("documents_print:bank_account_create", args=[seller.pk]), {
        "currency": "USD", "beneficiary": "Brightway", "bank_name": "BOC", "swift": "BKCH", "account_number": "1",
        "active": "on"})  # fmt: skip
    assert resp.status_code == 422
    assert "A SWIFT/BIC code has 8 or 11 characters; “BKCH” has 4." in resp.content.decode()
    assert not BankAccount.objects.exists()


def test_admin_adds_a_bank_account(client_for, admin, seller):
    resp = client_for(admin).post(reverse("documents_print:bank_account_create", args=[seller.pk]), {
        "currency": "EUR", "beneficiary": "Brightway", "bank_name": "BOC", "swift": "BKCHCNBJ",
        "account_number": "1234", "iban": "GB82 WEST 1234 5698 7654 32", "active": "on"})  # fmt: skip
    assert resp.status_code == 302
    account = BankAccount.objects.get()
    assert (account.currency, account.iban, account.is_default) == ("EUR", "GB82WEST12345698765432", True)


def test_bank_account_of_another_seller_is_404(client_for, admin, seller, usd_account):
    other = ps.seller_create(actor=admin, data={"name_en": "Other"})
    url = reverse("documents_print:bank_account_edit", args=[other.pk, usd_account.pk])
    assert client_for(admin).get(url).status_code == 404


# --- document templates ---------------------------------------------------------------------------


def test_new_template_page_is_prefilled_with_the_built_in_file(client_for, admin):
    resp = client_for(admin).get(reverse("documents_print:template_create"), {"kind": "proforma",
                                                                              "language": "zh-hans"})  # fmt: skip
    html = resp.content.decode()
    assert resp.status_code == 200 and "{% bi &quot;Proforma Invoice&quot; %}" in html
    assert '<option value="zh-hans" selected>' in html


def test_a_bad_template_edit_is_shown_in_place_and_nothing_saved(client_for, admin):
    good = '{% extends "documents/pdf/quotation.html" %}'
    t = ps.template_create(
        actor=admin, data={"kind": "quotation", "language": "en", "name": "Ours", "source": good}
    )
    resp = client_for(admin).post(reverse("documents_print:template_edit", args=[t.pk]), {
        "version": t.version, "name": "Changed", "kind": "quotation", "language": "en",
        "source": 'ok\n{% include "/etc/passwd" %}'})  # fmt: skip
    assert resp.status_code == 422
    html = resp.content.decode()
    assert (
        'data-testid="error-source"' in html and "Line 2: {% include %} may only use templates under" in html
    )
    t.refresh_from_db()
    assert (t.name, t.source, t.version) == ("Ours", good, 1)


def test_admin_saves_and_puts_a_template_in_use(client_for, admin):
    c = client_for(admin)
    resp = c.post(reverse("documents_print:template_create"), {
        "name": "Ours", "kind": "quotation", "language": "en",
        "source": '{% extends "documents/pdf/quotation.html" %}'})  # fmt: skip
    assert resp.status_code == 302
    t = DocumentTemplate.objects.get()
    assert not t.active
    c.post(reverse("documents_print:template_toggle", args=[t.pk]))
    t.refresh_from_db()
    assert t.active and ps.active_template("quotation", "en") == t
    html = c.get(reverse("documents_print:template_list")).content.decode()
    assert (
        'data-testid="in-use-quotation-en"' in html and f'/documents/templates/{t.pk}/edit/">Ours</a>' in html
    )


def test_preview_of_the_text_in_the_form(client_for, admin, renders):
    c = client_for(admin)
    resp = c.post(reverse("documents_print:template_preview_source"), {
        "name": "x", "kind": "quotation", "language": "bilingual",
        "source": '{% extends "documents/pdf/quotation.html" %}{% block after %}<p>PREVIEW-MARK</p>{% endblock %}'})  # fmt: skip
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert "PREVIEW-MARK" in renders[0] and "Lumen Supply LLC" in renders[0]  # the sample document
    resp = c.post(reverse("documents_print:template_preview_source"), {
        "name": "x", "kind": "quotation", "language": "en", "source": "{% debug %}"})  # fmt: skip
    assert resp.status_code == 422 and "{% debug %} cannot be used" in resp.content.decode()
    assert len(renders) == 1 and not DocumentTemplate.objects.exists()


def test_preview_of_saved_and_built_in_templates(client_for, admin, renders):
    t = ps.template_create(actor=admin, data={"kind": "proforma", "language": "zh-hans", "name": "PI",
                                              "source": '{% extends "documents/pdf/proforma.html" %}'})  # fmt: skip
    c = client_for(admin)
    resp = c.get(reverse("documents_print:template_preview", args=[t.pk]))
    assert resp.status_code == 200 and 'lang="zh-Hans"' in renders[0] and "BKCHCNBJ92A" in renders[0]
    resp = c.get(reverse("documents_print:builtin_preview", args=["quotation"]), {"lang": "en"})
    assert resp.status_code == 200 and len(renders) == 2
    assert c.get(reverse("documents_print:builtin_preview", args=["order"])).status_code == 404


def test_templates_do_not_exist_for_sales_reps(client_for, alice, dave, admin):
    t = ps.template_create(actor=admin, data={"kind": "quotation", "language": "en", "name": "x",
                                              "source": '{% extends "documents/pdf/quotation.html" %}'})  # fmt: skip
    for user in (alice, dave):
        c = client_for(user)
        for name in ("template_edit", "template_preview", "template_delete"):
            assert c.get(reverse(f"documents_print:{name}", args=[t.pk])).status_code == 403
    assert DocumentTemplate.objects.filter(pk=t.pk).exists()


def test_admin_opens_every_page(client_for, admin, seller, usd_account):
    t = ps.template_create(actor=admin, data={"kind": "quotation", "language": "en", "name": "x",
                                              "source": '{% extends "documents/pdf/quotation.html" %}'})  # fmt: skip
    c = client_for(admin)
    urls = [
        reverse("documents_print:seller_list"), reverse("documents_print:seller_create"),
        reverse("documents_print:seller_edit", args=[seller.pk]),
        reverse("documents_print:seller_delete", args=[seller.pk]),
        reverse("documents_print:bank_account_create", args=[seller.pk]),
        reverse("documents_print:bank_account_edit", args=[seller.pk, usd_account.pk]),
        reverse("documents_print:bank_account_delete", args=[seller.pk, usd_account.pk]),
        reverse("documents_print:template_list"), reverse("documents_print:template_create"),
        reverse("documents_print:template_edit", args=[t.pk]),
        reverse("documents_print:template_delete", args=[t.pk]),
    ]  # fmt: skip
    for url in urls:
        resp = c.get(url)
        assert resp.status_code == 200, url
    html = c.get(
        reverse("documents_print:bank_account_edit", args=[seller.pk, usd_account.pk])
    ).content.decode()
    assert 'value="BKCHCNBJ92A"' in html and '<option value="USD" selected>' in html
