"""PDFs of real quotations and proforma invoices (print_services.document_pdf): the text of the
PDF in English, Chinese and both, Chinese glyphs really drawn, the draft watermark, the cache of
issued documents, the administrator's template, and the snapshot → engine context adapter.

Real renders cost ~150–300 ms each: each language is rendered once and every check reads those
bytes; the cache tests count renders with a stand-in for WeasyPrint."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import translation
from django.utils.translation import trans_real

from tradecrm.documents import pdf, print_services
from tradecrm.documents.services import (
    draft_snapshot,
    proforma_create,
    proforma_issue,
    quotation_create,
    quotation_issue,
)
from tradecrm.documents.tests import pdfcheck

from .conftest import TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# The Chinese of the labels these tests look for, as the zh-Hans catalogue will have them (the
# lead compiles it at the end): added for the test only where the catalogue has none yet.
ZH_LABELS = {
    "Quotation": "报价单",
    "Proforma Invoice": "形式发票",
    "Unit price": "单价",
    "Total amount": "总金额",
    "Bank details": "银行信息",
    "Beneficiary": "受益人",
    "Deposit": "定金",
    "Balance": "尾款",
}


def zh(msgid: str) -> str:
    """The label as the Chinese PDF prints it (the catalogue's, or the stand-in of `zh_labels`)."""
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


@pytest.fixture
def zh_labels():
    catalog = trans_real.translation("zh-hans")._catalog
    added = [k for k in ZH_LABELS if k not in catalog]
    for k in added:
        catalog._catalogs[0][k] = ZH_LABELS[k]
    yield
    for k in added:
        catalog._catalogs[0].pop(k, None)


@pytest.fixture
def media(settings, tmp_path):
    """The PDF cache (DATA_DIR/media/pdf-cache) and uploads in a temporary data dir."""
    settings.DATA_DIR = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path / "media"}}}  # fmt: skip
    return tmp_path / "media"


@pytest.fixture
def renders(monkeypatch):
    """WeasyPrint replaced by a stand-in that records each HTML it was given."""
    calls = []

    def fake(html, **kwargs):
        calls.append(html)
        return b"%PDF-1.7 fake " + str(len(calls)).encode()

    monkeypatch.setattr(pdf, "html_to_pdf", fake)
    return calls


THREE_LINES = [
    {"product": None, "quantity": "1000", "unit_price": "2.00"},  # the lamp, filled in below
    {
        "name": "Display stand",
        "name_zh": "展示架",
        "quantity": "2",
        "unit_price": "100",
        "discount_percent": "10",
    },
    {
        "name": "Spare driver",
        "name_zh": "备用驱动",
        "quantity": "50",
        "unit_price": "1.50",
        "hs_code": "8504.40",
    },
]


@pytest.fixture
def three_lines(lamp):
    return [{**THREE_LINES[0], "product": lamp.pk}, *THREE_LINES[1:]]


DATA = {
    "incoterm": "FOB", "incoterm_place": "Ningbo", "port_of_loading": "Ningbo", "port_of_destination": "Chicago",
    "payment_terms": "tt_deposit", "deposit_percent": "30", "lead_time_days": "35",
    "shipping_marks": "ACME / CHICAGO / C/NO. 1-UP", "remarks": "Prices for the quantities above.",
}  # fmt: skip


@pytest.fixture
def issued_quotation(alice, acme, jane, three_lines, seller, rates):
    q = quotation_create(actor=alice, company=acme, data={**DATA, "contact": jane.pk}, lines=three_lines)
    return quotation_issue(actor=alice, quotation=q, version=q.version)


@pytest.fixture
def issued_pi(alice, acme, three_lines, seller, usd_account, rates):
    pi = proforma_create(actor=alice, company=acme, data=DATA, lines=three_lines)
    return proforma_issue(actor=alice, proforma=pi, version=pi.version)


# --- text in three languages ---------------------------------------------------------------------


def text_of(data: bytes) -> str:
    """The PDF's text with line breaks as spaces: a label wrapped in a narrow column still reads
    as one phrase."""
    return " ".join(pdfcheck.pdf_text(data).split())


def test_issued_quotation_in_english_chinese_and_both(issued_quotation, media, zh_labels):
    q = issued_quotation
    assert (q.number, q.total_amount) == ("Q-2026-0001", D("2255.00"))  # 2000 + 180 + 75
    en = text_of(print_services.document_pdf(q, language="en"))
    zh_bytes = print_services.document_pdf(q, language="zh-hans")
    zh_text = text_of(zh_bytes)
    both = text_of(print_services.document_pdf(q, language="bilingual"))

    assert "QUOTATION" in en and "报价单" not in en
    assert "Q-2026-0001" in en and "Acme Imports LLC" in en and "Jane Doe" in en
    assert "Unit price (USD)" in en and "Total amount (FOB Ningbo) $2,255.00" in en
    assert "LED-T8 LED tube T8 18W" in en and "LED灯管" not in en  # English names only
    assert "6500K · HS 8539520000" in en  # specification and HS code under the description
    assert "1,000 pcs 2.00 2,000.00 42 / 525 / 2.625" in en  # qty + unit, price, amount, cartons / G.W. / CBM
    assert "Display stand 2 pcs 100.00 10 180.00" in en  # the discount column
    assert "Spare driver HS 8504.40 50 pcs 1.50 75.00 Subtotal" in en  # no packing figures without packing
    assert "Incoterm FOB Ningbo (Incoterms® 2020)" in en
    assert "T/T, deposit before production, balance before shipment (30% deposit)" in en
    assert "35 days" in en and "Valid until 2026-04-03" in en
    assert "ACME / CHICAGO / C/NO. 1-UP" in en
    assert "Cartons 42" in en  # 1000 lamps at 24 a carton
    assert "DRAFT" not in en

    assert zh("Quotation") in zh_text and zh("Unit price") in zh_text
    assert "Q-2026-0001" in zh_text and "Acme Imports LLC" in zh_text
    assert "宁波明途照明有限公司" in zh_text and "LED灯管" in zh_text and "备用驱动" in zh_text
    assert "LED tube" not in zh_text and "报价单" in zh_text
    assert (
        "US$2,255.00" in zh_text and "美国" in zh_text
    )  # the amount as Chinese readers write it, the country too
    pdfcheck.assert_cjk_glyphs_rendered(zh_bytes, "宁波明途照明")

    assert "QUOTATION 报价单" in both and f"Total amount {zh('Total amount')} (FOB Ningbo) $2,255.00" in both
    assert "LED tube T8 18W / LED灯管" in both and "Spare driver / 备用驱动" in both
    assert "Ningbo Brightway Lighting Co., Ltd." in both and "宁波明途照明有限公司" in both
    assert "$2,255.00" in both


def test_issued_proforma_invoice_prints_the_bank_deposit_and_balance(issued_pi, media, zh_labels):
    pi = issued_pi
    assert (pi.number, pi.deposit_amount, pi.balance_amount) == ("PI-2026-0001", D("676.50"), D("1578.50"))
    en = text_of(print_services.document_pdf(pi, language="en"))
    zh_text = text_of(print_services.document_pdf(pi, language="zh-hans"))
    both = text_of(print_services.document_pdf(pi, language="bilingual"))

    assert "PROFORMA INVOICE" in en and "PI-2026-0001" in en and "Acme Imports LLC" in en
    assert "Bank details (USD)" in en and "Beneficiary Ningbo Brightway Lighting Co., Ltd." in en
    assert "SWIFT BKCHCNBJ92A" in en and "Account number 3581 0000 1234 5678" in en
    assert "Bank of China, Ningbo Branch" in en
    assert "Deposit (30%)" in en and "$676.50" in en and "$1,578.50" in en and "$2,255.00" in en
    deposit_due = (TODAY + dt.timedelta(days=7)).isoformat()
    balance_due = (TODAY + dt.timedelta(days=35)).isoformat()
    assert f"Deposit due: {deposit_due}" in en and f"Balance due: {balance_due}" in en
    assert "Authorized signature" in en and "Accepted by the buyer" in en

    assert "形式发票" in zh_text and zh("Bank details") in zh_text and zh("Beneficiary") in zh_text
    assert zh("Deposit") in zh_text and zh("Balance") in zh_text and "BKCHCNBJ92A" in zh_text
    assert "US$676.50" in zh_text and "宁波明途照明有限公司" in zh_text

    assert "PROFORMA INVOICE 形式发票" in both and f"Bank details {zh('Bank details')}" in both
    assert "BKCHCNBJ92A" in both and "$2,255.00" in both


# --- drafts, cache, templates ---------------------------------------------------------------------


def test_a_draft_carries_the_watermark_and_is_never_cached(alice, acme, three_lines, seller, media):
    q = quotation_create(actor=alice, company=acme, data=DATA, lines=three_lines[:1])
    text = text_of(print_services.document_pdf(q, language="en"))
    assert "DRAFT / 草稿" in text and "LED tube T8 18W" in text
    assert not (media / "pdf-cache").exists()
    assert print_services.pdf_filename(q) == f"draft-{q.pk}.pdf"


def test_a_draft_is_rendered_again_each_time_with_the_watermark_even_in_an_admin_template(
    alice, admin, acme, three_lines, seller, media, renders
):
    print_services.template_create(actor=admin, data={
        "kind": "quotation", "language": "en", "name": "Plain", "active": True,
        "source": "{% load documents_pdf %}<html><body><p>Plain {{ doc.number }}</p></body></html>"})  # fmt: skip
    q = quotation_create(actor=alice, company=acme, data=DATA, lines=three_lines[:1])
    print_services.document_pdf(q, language="en")
    print_services.document_pdf(q, language="en")
    assert len(renders) == 2 and all(print_services.DRAFT_MARK in html for html in renders)
    assert not (media / "pdf-cache").exists()


def test_issued_pdf_is_rendered_once_then_served_from_the_cache(issued_quotation, media, renders):
    q = issued_quotation
    first = print_services.document_pdf(q, language="zh-hans")
    again = print_services.document_pdf(q, language="zh-hans")
    assert first == again and len(renders) == 1
    assert "DRAFT" not in renders[0]
    (cached,) = (media / "pdf-cache").iterdir()
    assert cached.name.startswith(f"quotation-{q.pk}-Q-2026-0001-r1-zh-hans-builtin-")
    # encrypted at rest (a PI prints bank details and tax ids): the app reads back the same bytes
    from tradecrm.core.crypto import decrypt_bytes
    from tradecrm.documents.pdf import PDF_CACHE_LABEL

    assert cached.read_bytes().startswith(b"TCRMENC1") and decrypt_bytes(cached.read_bytes(), PDF_CACHE_LABEL) == first
    print_services.document_pdf(q, language="en")  # another language: another file
    assert len(renders) == 2


def test_a_changed_template_makes_a_new_cache_entry(issued_quotation, admin, media, renders):
    q = issued_quotation
    source = '{% extends "documents/pdf/quotation.html" %}{% block after %}<p>v1</p>{% endblock %}'
    t = print_services.template_create(actor=admin, data={"kind": "quotation", "language": "en", "name": "Ours",
                                                          "source": source, "active": True})  # fmt: skip
    print_services.document_pdf(q, language="en")
    t = print_services.template_update(actor=admin, template=t, version=t.version,
                                       data={"source": source.replace("v1", "v2")})  # fmt: skip
    print_services.document_pdf(q, language="en")
    print_services.document_pdf(q, language="en")
    assert len(renders) == 2 and "<p>v1</p>" in renders[0] and "<p>v2</p>" in renders[1]
    names = sorted(p.name for p in (media / "pdf-cache").iterdir())
    assert [n.split("-en-")[1].split("-")[0] for n in names] == [f"t{t.pk}v1", f"t{t.pk}v2"]


def test_the_active_admin_template_is_used_for_its_kind_and_language(issued_quotation, admin, media):
    source = ('{% load documents_pdf %}<html><head><style>@page { size: A6 }</style></head><body>'
              '<p>MARKER-7Q {{ doc.number }} {{ buyer.name }} {{ totals.total|money:doc.currency }}</p></body></html>')  # fmt: skip
    print_services.template_create(actor=admin, data={"kind": "quotation", "language": "en", "name": "Marker",
                                                      "source": source, "active": True})  # fmt: skip
    print_services.template_create(actor=admin, data={"kind": "proforma", "language": "en", "name": "PI only",
                                                      "source": source.replace("7Q", "PI"), "active": True})  # fmt: skip
    text = text_of(print_services.document_pdf(issued_quotation, language="en"))
    assert "MARKER-7Q Q-2026-0001 Acme Imports LLC $2,255.00" in text
    assert print_services.active_template("quotation", "zh-hans") is None  # Chinese still prints the built-in


def test_unknown_language_is_refused(issued_quotation):
    with pytest.raises(print_services.ValidationError) as exc:
        print_services.document_pdf(issued_quotation, language="fr")
    assert list(exc.value.message_dict) == ["language"]


def test_template_preview_prints_the_sample_document(admin):
    data = print_services.template_preview(kind="proforma", language="en")
    text = text_of(data)
    assert "PROFORMA INVOICE" in text and "Lumen Supply LLC" in text and "BKCHCNBJ92A" in text


# --- the snapshot → context adapter ---------------------------------------------------------------


def test_adapter_maps_the_snapshot_keys_to_the_engine_contract():
    snapshot = {
        "seller": {"name_en": "Brightway", "name_zh": "明途", "logo": "letterhead/logo.png"},
        "buyer": {"name": "Acme", "country": "United States", "country_code": "US"},
        "doc": {"kind": "proforma", "number": "PI-1", "currency": "USD", "payment_terms_code": "tt_deposit",
                "payment_terms_note": "", "deposit_percent": "30.00", "lead_time_days": 35},
        "lines": [{"no": 1, "name": "Lamp", "specification": "6500K", "quantity": "10", "unit": "set",
                   "discount": "", "cartons": 0}],
        "totals": {"total": "100.00", "deposit": "30.00"},
        "terms": {"incoterm": "FOB"},
        "bank": {"account_number": "3581 0000", "swift": "BKCHCNBJ", "bank_name": "BOC"},
    }  # fmt: skip
    ctx = print_services.snapshot_context(snapshot, "en")
    assert ctx["bank"]["account"] == "3581 0000" and ctx["bank"]["swift"] == "BKCHCNBJ"
    assert ctx["seller"]["name"] == "Brightway" and ctx["seller"]["logo"] == "letterhead/logo.png"
    assert (
        ctx["lines"][0]["spec"] == "6500K"
        and ctx["lines"][0]["qty"] == "10"
        and ctx["lines"][0]["unit"] == "set"
    )
    assert ctx["doc"]["show_discount"] is False and ctx["doc"]["show_packing"] is False
    assert (
        ctx["doc"]["title"] == "Proforma Invoice" and ctx["doc"]["draft"] is False and ctx["draft_mark"] == ""
    )
    assert ctx["terms"]["payment"] == "T/T, deposit before production, balance before shipment (30% deposit)"
    assert ctx["terms"]["lead_time"] == "35 days"
    assert ctx["buyer"]["country"] == "United States"
    chinese = print_services.snapshot_context(snapshot, "zh-hans", draft=True)
    assert chinese["buyer"]["country"] == "美国" and chinese["doc"]["draft"] is True
    assert chinese["draft_mark"] == "DRAFT / 草稿"
    both = print_services.snapshot_context(snapshot, "bilingual")
    assert both["terms"]["lead_time"].startswith("35 days")
    with pytest.raises(ValueError):
        print_services.snapshot_context(snapshot, "fr")


def test_adapter_reads_what_the_issuing_service_stores(issued_pi):
    ctx = print_services.snapshot_context(issued_pi.snapshot, "en")
    assert ctx["bank"]["account"] == "3581 0000 1234 5678" and ctx["bank"]["currency"] == "USD"
    assert ctx["doc"]["number"] == "PI-2026-0001" and ctx["doc"]["show_discount"] is True
    assert [line["no"] for line in ctx["lines"]] == [1, 2, 3] and ctx["lines"][0]["hs_code"] == "8539520000"
    assert ctx["totals"]["deposit"] == "676.50" and ctx["totals"]["balance_due"] == (
        TODAY + dt.timedelta(days=35)).isoformat()  # fmt: skip
    assert ctx["totals"]["containers"] and ctx["totals"]["lcl"] is True


def test_draft_snapshot_of_a_pi_has_the_bank_and_the_deposit_split_without_saving(
    alice, acme, three_lines, seller, usd_account
):
    pi = proforma_create(actor=alice, company=acme, data=DATA, lines=three_lines)
    snap = draft_snapshot(pi, "proforma")
    assert snap["bank"]["swift"] == "BKCHCNBJ92A" and snap["doc"]["number"] == ""
    assert (snap["totals"]["deposit"], snap["totals"]["balance"]) == ("676.50", "1578.50")
    pi.refresh_from_db()
    assert (pi.deposit_amount, pi.balance_amount, pi.snapshot) == (D("0"), D("0"), {})


def test_issuing_renders_the_pdf_in_the_background_after_commit(
    settings, alice, acme, jane, three_lines, seller, rates, media, renders, django_capture_on_commit_callbacks,
    monkeypatch,
):
    from huey.contrib.djhuey import HUEY

    settings.TRADECRM_PDF_PREWARM = True
    monkeypatch.setattr(HUEY, "immediate", True)  # the task runs when it is queued
    q = quotation_create(actor=alice, company=acme, data={**DATA, "contact": jane.pk}, lines=three_lines)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        issued = quotation_issue(actor=alice, quotation=q, version=q.version)
    assert renders == []  # nothing is rendered inside the issuing transaction
    for callback in queued:
        callback()
    assert len(renders) == 1 and len(list((media / "pdf-cache").iterdir())) == 1
    print_services.document_pdf(issued, language=issued.language)  # the first download: from the cache
    assert len(renders) == 1
