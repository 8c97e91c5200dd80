"""Seller profiles, bank accounts and document templates (print_services): who may change them,
the one default seller and one default account per currency, SWIFT/BIC and IBAN checks, logo
uploads, deletes refused while documents use them, templates checked before they are saved."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tradecrm.audit.models import AuditEvent
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.documents import print_services as ps
from tradecrm.documents.models import BankAccount, DocumentTemplate, SellerProfile
from tradecrm.documents.services import proforma_create, proforma_issue

pytestmark = pytest.mark.django_db

ACCOUNT = {"currency": "USD", "beneficiary": "Brightway", "bank_name": "Bank of China", "swift": "bkch cnbj 92a",
           "account_number": "3581 0000 1234 5678"}  # fmt: skip


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}  # fmt: skip
    return tmp_path


def png(name="logo.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (20, 8), "navy").save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


@pytest.fixture
def brightway(admin):
    return ps.seller_create(actor=admin, data={"name_en": "Brightway Lighting", "name_zh": "明途照明"})


# --- seller profiles ------------------------------------------------------------------------------


def test_first_seller_is_the_default_and_another_can_take_it_over(admin, brightway):
    assert brightway.is_default and brightway.version == 1
    hk = ps.seller_create(actor=admin, data={"name_en": "Brightway HK Ltd.", "is_default": True})
    brightway.refresh_from_db()
    assert hk.is_default and not brightway.is_default and brightway.version == 2
    assert SellerProfile.objects.filter(is_default=True).count() == 1
    assert AuditEvent.objects.filter(action="seller.create").count() == 2


def test_the_default_cannot_just_be_unset(admin, brightway):
    with pytest.raises(ValidationError) as exc:
        ps.seller_update(actor=admin, seller=brightway, version=1, data={"is_default": False})
    assert list(exc.value.message_dict) == ["is_default"]
    brightway.refresh_from_db()
    assert brightway.is_default and brightway.version == 1


def test_bad_fields_are_named_and_nothing_is_saved(admin):
    with pytest.raises(ValidationError) as exc:
        ps.seller_create(actor=admin, data={"name_en": " ", "email": "not-an-email", "phone": "1" * 65})
    assert exc.value.message_dict == {
        "name_en": ["Enter the company name (English)."],
        "phone": ["At most 64 characters (this has 65)."],
        "email": ["“not-an-email” is not an email address."],
    }
    assert not SellerProfile.objects.exists()


def test_a_sales_rep_cannot_change_seller_profiles(alice, brightway):
    with pytest.raises(PermissionDenied):
        ps.seller_create(actor=alice, data={"name_en": "Mine"})
    with pytest.raises(PermissionDenied):
        ps.seller_update(actor=alice, seller=brightway, version=1, data={"name_en": "Mine"})
    with pytest.raises(PermissionDenied):
        ps.bank_account_create(actor=alice, seller=brightway, data=ACCOUNT)
    assert SellerProfile.objects.get().name_en == "Brightway Lighting"


def test_stale_version_is_refused(admin, brightway):
    ps.seller_update(actor=admin, seller=SellerProfile.objects.get(), version=1, data={"phone": "+86 574 1"})
    with pytest.raises(ConcurrentEditError):
        ps.seller_update(actor=admin, seller=brightway, version=1, data={"phone": "+86 574 2"})
    assert SellerProfile.objects.get().phone == "+86 574 1"


def test_logo_must_be_an_image(admin, brightway, _media):
    text = SimpleUploadedFile("logo.png", b"just some text, not an image", content_type="image/png")
    with pytest.raises(ValidationError) as exc:
        ps.seller_update(actor=admin, seller=brightway, version=1, data={"name_en": "Renamed"}, logo=text)
    assert exc.value.message_dict == {
        "logo": ["“logo.png” is not an image: upload the logo as PNG, JPEG, WebP or GIF."]
    }
    brightway.refresh_from_db()
    assert (
        brightway.name_en == "Brightway Lighting"
        and not brightway.logo
        and not (_media / "letterhead").exists()
    )


def test_logo_is_stored_under_letterhead_and_can_be_removed(admin, brightway, _media):
    seller = ps.seller_update(actor=admin, seller=brightway, version=1, data={}, logo=png())
    assert seller.logo.name.startswith("letterhead/logo") and (_media / seller.logo.name).is_file()
    seller = ps.seller_update(actor=admin, seller=seller, version=2, data={}, remove_logo=True)
    seller.refresh_from_db()
    assert not seller.logo and seller.version == 3


# --- bank accounts --------------------------------------------------------------------------------


def test_bank_account_is_normalised_and_the_first_in_a_currency_is_its_default(admin, brightway):
    usd = ps.bank_account_create(actor=admin, seller=brightway, data=ACCOUNT)
    assert (usd.swift, usd.currency, usd.is_default, usd.active) == ("BKCHCNBJ92A", "USD", True, True)
    usd2 = ps.bank_account_create(actor=admin, seller=brightway, data={**ACCOUNT, "swift": "ICBKCNBJ"})
    eur = ps.bank_account_create(actor=admin, seller=brightway, data={**ACCOUNT, "currency": "eur",
                                                                      "iban": "de89 3704 0044 0532 0130 00"})  # fmt: skip
    assert not usd2.is_default and eur.is_default and eur.iban == "DE89370400440532013000"
    usd2 = ps.bank_account_update(actor=admin, account=usd2, version=usd2.version, data={"is_default": True})
    usd.refresh_from_db()
    assert usd2.is_default and not usd.is_default
    assert BankAccount.objects.filter(seller=brightway, currency="USD", is_default=True).count() == 1


def test_switching_off_the_default_account_passes_the_default_on(admin, brightway):
    usd = ps.bank_account_create(actor=admin, seller=brightway, data=ACCOUNT)
    usd2 = ps.bank_account_create(actor=admin, seller=brightway, data={**ACCOUNT, "swift": "ICBKCNBJ"})
    ps.bank_account_update(actor=admin, account=usd, version=usd.version, data={"active": False})
    usd.refresh_from_db()
    usd2.refresh_from_db()
    assert not usd.is_default and usd2.is_default


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"swift": "BKCHCNB"}, "swift", "A SWIFT/BIC code has 8 or 11 characters; “BKCHCNB” has 7."),
        ({"swift": "BKCHCNBJ9"}, "swift", "A SWIFT/BIC code has 8 or 11 characters; “BKCHCNBJ9” has 9."),
        ({"swift": "1KCHCNBJ"}, "swift", "“1KCHCNBJ” is not a SWIFT/BIC code: 4 letters for the bank"),
        ({"swift": "BKCHZZBJ"}, "swift", "“ZZ” (letters 5–6) is not a country code."),
        ({"swift": ""}, "swift", "Enter the bank's SWIFT/BIC code"),
        ({"iban": "DE89 3704 0044 0532 0130 01"}, "iban",
         "The IBAN “DE89370400440532013001” has wrong check digits: look for a typing error."),
        ({"iban": "12345"}, "iban", "“12345” is not an IBAN"),
        ({"currency": "XYZ"}, "currency", "“XYZ” is not a currency code"),
        ({"beneficiary": ""}, "beneficiary", "Enter the beneficiary."),
    ],
)  # fmt: skip
def test_bad_bank_details_are_refused_with_the_field_and_nothing_saved(
    admin, brightway, data, field, message
):
    with pytest.raises(ValidationError) as exc:
        ps.bank_account_create(actor=admin, seller=brightway, data={**ACCOUNT, **data})
    assert list(exc.value.message_dict) == [field]
    assert message in exc.value.message_dict[field][0]
    assert not BankAccount.objects.exists()


def test_iban_check_digits():
    assert ps.iban_error("GB82WEST12345698765432") == ""
    assert ps.iban_error("GB82WEST12345698765433") != ""


# --- deletes refused while documents use them -----------------------------------------------------


@pytest.fixture
def issued_pi(frozen, alice, admin, acme, lines, rates, brightway):
    account = ps.bank_account_create(actor=admin, seller=brightway, data=ACCOUNT)
    pi = proforma_create(actor=alice, company=acme, data={"seller": brightway.pk}, lines=lines)
    pi = proforma_issue(actor=alice, proforma=pi, version=pi.version)
    return pi, account


def test_seller_and_account_printed_on_an_issued_document_cannot_be_deleted(admin, issued_pi, brightway):
    pi, account = issued_pi
    with pytest.raises(ValidationError) as exc:
        ps.seller_delete(actor=admin, seller=brightway)
    assert exc.value.message_dict == {"seller": [
        "“Brightway Lighting” is printed on issued documents (PI-2026-0001); it is kept for the record and "
        "cannot be deleted."]}  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        ps.bank_account_delete(actor=admin, account=account)
    assert "PI-2026-0001" in exc.value.message_dict["bank_account"][0]
    assert SellerProfile.objects.count() == 1 and BankAccount.objects.count() == 1


def test_seller_chosen_on_a_draft_cannot_be_deleted_either(admin, alice, acme, lines, brightway):
    proforma_create(actor=alice, company=acme, data={"seller": brightway.pk}, lines=lines)
    with pytest.raises(ValidationError) as exc:
        ps.seller_delete(actor=admin, seller=brightway)
    assert exc.value.message_dict == {"seller": [
        "“Brightway Lighting” is chosen on 1 draft document; choose another one there first."]}  # fmt: skip


def test_unused_seller_is_deleted_with_its_accounts_and_another_becomes_the_default(admin, brightway):
    ps.bank_account_create(actor=admin, seller=brightway, data=ACCOUNT)
    other = ps.seller_create(actor=admin, data={"name_en": "Other"})
    pk = brightway.pk
    ps.seller_delete(actor=admin, seller=brightway)
    other.refresh_from_db()
    assert other.is_default and not BankAccount.objects.exists()
    assert AuditEvent.objects.filter(action="seller.delete", object_id=pk).exists()


# --- document templates ---------------------------------------------------------------------------

GOOD = '{% extends "documents/pdf/quotation.html" %}{% block after %}<p>ours</p>{% endblock %}'


def test_a_bad_template_is_refused_with_its_reasons_and_nothing_saved(admin):
    with pytest.raises(ValidationError) as exc:
        ps.template_create(actor=admin, data={"kind": "quotation", "language": "en", "name": "Bad",
                                              "source": "{% load humanize %}{{ doc.number }}"})  # fmt: skip
    assert list(exc.value.message_dict) == ["source"]
    assert "“humanize” cannot be used" in exc.value.message_dict["source"][0]
    assert not DocumentTemplate.objects.exists()


def test_a_bad_edit_leaves_the_template_as_it_was(admin):
    t = ps.template_create(
        actor=admin, data={"kind": "quotation", "language": "en", "name": "Ours", "source": GOOD}
    )
    with pytest.raises(ValidationError) as exc:
        ps.template_update(actor=admin, template=t, version=1, data={"name": "Changed",
                                                                     "source": "{% if doc.number %}no end"})  # fmt: skip
    assert "syntax error" in exc.value.message_dict["source"][0]
    t.refresh_from_db()
    assert (t.name, t.source, t.version) == ("Ours", GOOD, 1)


def test_one_template_in_use_per_kind_and_language(admin):
    base = {"kind": "quotation", "language": "en", "source": GOOD, "active": True}
    first = ps.template_create(actor=admin, data={**base, "name": "First"})
    second = ps.template_create(actor=admin, data={**base, "name": "Second"})
    chinese = ps.template_create(actor=admin, data={**base, "name": "Chinese", "language": "zh-hans"})
    first.refresh_from_db()
    assert not first.active and second.active and chinese.active
    ps.template_set_active(actor=admin, template=first, active=True)
    second.refresh_from_db()
    assert ps.active_template("quotation", "en") == first and not second.active
    ps.template_set_active(actor=admin, template=first, active=False)
    assert ps.active_template("quotation", "en") is None


def test_templates_are_for_administrators(alice):
    with pytest.raises(PermissionDenied):
        ps.template_create(
            actor=alice, data={"kind": "quotation", "language": "en", "name": "x", "source": GOOD}
        )


def test_the_built_in_templates_pass_their_own_check():
    for kind in ps.KINDS:
        assert ps.pdf.check_template_source(ps.builtin_template_source(kind)) == []
