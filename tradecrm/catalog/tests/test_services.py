"""Product services: every field rule (each bad field named, nothing saved), HS code normalisation,
carton volume derivation, SKU uniqueness regardless of case, versions, permissions, photos."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tradecrm.audit.models import AuditEvent
from tradecrm.catalog import services
from tradecrm.catalog.models import Product, ProductPhoto
from tradecrm.catalog.validation import normalize_hs_code
from tradecrm.core.errors import ConcurrentEditError

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
PDF = b"%PDF-1.4\n" + b"x" * 64


def _errors(exc) -> dict:
    return exc.value.message_dict


def test_create_fills_defaults_derives_cbm_and_audits(carol, flask):
    assert flask.hs_code == "96170090"
    assert flask.carton_cbm == Decimal("0.0473")  # 52 × 35 × 26 cm = 0.04732 m³
    assert flask.unit == "pcs" and flask.active is True and flask.version == 1
    assert flask.created_by == carol
    assert "不锈钢" in flask.search_text and "9617.00.90" in flask.search_text
    assert "yongkang" not in flask.search_text  # the supplier is not searchable
    assert AuditEvent.objects.filter(action="product.create", object_id=flask.pk).exists()


def test_every_bad_field_is_named_and_nothing_is_saved(make_product):
    with pytest.raises(ValidationError) as exc:
        make_product(
            sku="",
            name_en="",
            hs_code="7323",
            unit="barrels",
            moq="0",
            units_per_carton="0",
            carton_length_cm="-1",
            carton_gross_weight_kg="abc",
            purchase_cost_cny="-5",
            vat_rate="101",
            tax_rebate_rate="-1",
            active="maybe",
        )
    errors = _errors(exc)
    assert set(errors) == {
        "sku", "name_en", "hs_code", "unit", "moq", "units_per_carton", "carton_length_cm",
        "carton_gross_weight_kg", "purchase_cost_cny", "vat_rate", "tax_rebate_rate", "active",
    }  # fmt: skip
    assert errors["hs_code"] == [
        "“7323” is not an HS code: enter 6 to 10 digits (dots and spaces are ignored)."
    ]
    assert "greater than 0" in errors["moq"][0]
    assert "barrels" in errors["unit"][0] and "pcs" in errors["unit"][0]
    assert "at most 100" in errors["vat_rate"][0]
    assert Product.objects.count() == 0 and not AuditEvent.objects.exists()


def test_net_weight_above_gross_and_rebate_above_vat_are_refused(make_product):
    with pytest.raises(ValidationError) as exc:
        make_product(
            carton_gross_weight_kg="9.5", carton_net_weight_kg="10", vat_rate="9", tax_rebate_rate="13"
        )
    errors = _errors(exc)
    assert errors["carton_net_weight_kg"] == [
        "The net weight (10 kg) cannot be more than the gross weight (9.5 kg)."
    ]
    assert errors["tax_rebate_rate"] == [
        "The export tax-rebate rate (13%) cannot be higher than the VAT rate (9%)."
    ]
    assert not Product.objects.exists()


def test_too_many_decimals_and_too_long_text(make_product):
    with pytest.raises(ValidationError) as exc:
        make_product(carton_length_cm="52.25", name_zh="长" * 256, purchase_cost_cny="1e20")
    errors = _errors(exc)
    assert errors["carton_length_cm"] == ["At most 1 decimal places."]
    assert "At most 255 characters" in errors["name_zh"][0]
    assert "below" in errors["purchase_cost_cny"][0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7323.93.00", "73239300"),
        ("7323 93 00 00", "7323930000"),
        ("9617.00-90", "96170090"),
        ("７３２３.９３", "732393"),  # full-width digits typed with a Chinese input method
        (73239300, "73239300"),
        (90121.0, "090121"),  # a spreadsheet number lost the leading zero of chapter 09
        (9012100, "09012100"),
        ("", ""),
    ],
)
def test_hs_code_normalisation(raw, expected):
    assert normalize_hs_code(raw) == expected


def test_hs_code_is_stored_normalised_and_too_short_is_refused(make_product):
    assert make_product(sku="A", hs_code="8539.52.00").hs_code == "85395200"
    with pytest.raises(ValidationError) as exc:
        make_product(sku="B", hs_code="8539")
    assert list(_errors(exc)) == ["hs_code"]


def test_sku_unique_regardless_of_case_names_the_existing_product(make_product, flask):
    with pytest.raises(ValidationError) as exc:
        make_product(sku="vf-500", name_en="Another flask")
    assert _errors(exc)["sku"] == [
        f"The SKU “VF-500” is already used by Stainless steel vacuum flask 500 ml (id {flask.pk})."
    ]
    assert Product.objects.count() == 1


def test_units_accept_chinese_and_english_names(make_product):
    assert make_product(sku="A", unit="套").unit == "set"
    assert make_product(sku="B", unit="Pieces").unit == "pcs"
    assert make_product(sku="C", unit="CTNS").unit == "carton"


def test_cbm_entered_is_kept_and_follows_size_only_when_it_was_derived(carol, make_product):
    entered = make_product(sku="E", carton_length_cm="50", carton_width_cm="40", carton_height_cm="30",
                           carton_cbm="0.065")  # fmt: skip
    assert entered.carton_cbm == Decimal("0.0650")
    entered = services.product_update(
        actor=carol, product=entered, version=1, data={"carton_height_cm": "35"}
    )
    assert entered.carton_cbm == Decimal("0.0650")  # measured by hand: left alone

    derived = make_product(sku="D", carton_length_cm="50", carton_width_cm="40", carton_height_cm="30")
    assert derived.carton_cbm == Decimal("0.0600")
    derived = services.product_update(
        actor=carol, product=derived, version=1, data={"carton_height_cm": "35"}
    )
    assert derived.carton_cbm == Decimal("0.0700")
    derived = services.product_update(actor=carol, product=derived, version=2, data={"carton_cbm": ""})
    assert Product.objects.get(pk=derived.pk).carton_cbm == Decimal("0.0700")  # emptied: worked out again


def test_update_is_partial_versioned_and_refuses_a_stale_version(carol, admin, flask):
    p = services.product_update(
        actor=carol, product=flask, version=1, data={"name_zh": "保温杯", "moq": "1,000"}
    )
    assert p.version == 2 and p.moq == Decimal("1000") and p.name_en.startswith("Stainless")
    stored = Product.objects.get(pk=flask.pk)
    assert stored.name_zh == "保温杯" and "保温杯" in stored.search_text
    with pytest.raises(ConcurrentEditError) as exc:
        services.product_update(actor=admin, product=stored, version=1, data={"name_zh": "旧"})
    assert exc.value.current_version == 2 and exc.value.by == str(carol)
    assert Product.objects.get(pk=flask.pk).name_zh == "保温杯"
    event = AuditEvent.objects.filter(action="product.update").get()
    assert event.changes["moq"] == ["500", "1000"]


def test_update_to_an_existing_sku_is_refused(carol, make_product, flask):
    other = make_product(sku="MG-350", name_en="Mug")
    with pytest.raises(ValidationError) as exc:
        services.product_update(actor=carol, product=other, version=1, data={"sku": "Vf-500"})
    assert "already used by Stainless steel vacuum flask" in _errors(exc)["sku"][0]
    assert Product.objects.get(pk=other.pk).sku == "MG-350"


def test_sales_reps_may_not_create_change_or_delete(alice, flask, make_product):
    with pytest.raises(PermissionDenied) as exc:
        make_product(actor=alice, sku="X")
    assert str(exc.value) == "Only managers and administrators may change products and price lists."
    with pytest.raises(PermissionDenied):
        services.product_update(actor=alice, product=flask, version=1, data={"name_en": "X"})
    with pytest.raises(PermissionDenied):
        services.product_delete(actor=alice, product=flask)
    assert Product.objects.get().name_en.startswith("Stainless")


def test_delete_keeps_document_lines_with_their_copy(carol, flask):
    """Deleting is allowed: lines keep their own description, quantity and price (SET_NULL)."""
    from django.utils import timezone

    from tradecrm.sales.models import Inquiry, InquiryItem

    inquiry = Inquiry.objects.create(channel="email", received_at=timezone.now())
    item = InquiryItem.objects.create(
        inquiry=inquiry, product=flask, description="VF-500 flask", quantity=Decimal("1000")
    )
    assert services.product_usage(flask) == 1
    pk = flask.pk
    services.product_delete(actor=carol, product=flask)
    assert not Product.objects.exists()
    item.refresh_from_db()
    assert item.product_id is None and item.description == "VF-500 flask" and item.quantity == 1000
    assert AuditEvent.objects.get(action="product.delete", object_id=pk).changes["lines"] == 1


def test_photos_images_only_then_stored_and_deleted(carol, alice, flask, _media):
    photo = services.product_photo_add(actor=carol, product=flask, upload=SimpleUploadedFile("f.png", PNG))
    assert photo.content_type == "image/png" and photo.position == 0 and photo.size == len(PNG)
    assert (_media / photo.file.name).is_file()
    with pytest.raises(ValidationError) as exc:
        services.product_photo_add(actor=carol, product=flask, upload=SimpleUploadedFile("spec.png", PDF))
    assert _errors(exc)["file"] == ["“spec.png” is not a photo: upload a JPEG, PNG, WebP or GIF image."]
    with pytest.raises(ValidationError) as exc:  # the timeline's upload rules apply too
        services.product_photo_add(
            actor=carol, product=flask, upload=SimpleUploadedFile("x.exe", b"MZ" + PNG)
        )
    assert "can run programs" in _errors(exc)["file"][0]
    with pytest.raises(PermissionDenied):
        services.product_photo_add(actor=alice, product=flask, upload=SimpleUploadedFile("f.png", PNG))
    assert ProductPhoto.objects.count() == 1
    services.product_photo_delete(actor=carol, photo=photo)
    assert not ProductPhoto.objects.exists()
