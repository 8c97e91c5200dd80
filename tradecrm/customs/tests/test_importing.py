"""The functions the import engine calls: forwarder recognition, row preparation (clean values,
every bad field named), the fingerprint that makes a re-import a no-op, and the fast writer."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tradecrm.customs.forwarders import consignee_kind
from tradecrm.customs.importing import (
    company_values,
    existing_fingerprints,
    is_forwarder,
    prepare_customs_row,
    write_customs_rows,
)
from tradecrm.customs.models import CustomsRecord

from .conftest import TODAY

D = Decimal


def row(**values):
    base = {"importer_name": "Acme Imports LLC", "date": dt.date(2026, 2, 3)}
    base.update(values)
    return prepare_customs_row(base, today=TODAY)


@pytest.mark.parametrize(
    "name",
    [
        "KUEHNE + NAGEL INC", "Kühne & Nagel (AG & Co.) KG", "DHL Global Forwarding (USA) Inc", "ABC LOGISTICS LLC",
        "Schenker Deutschland AG", "Expeditors International of Washington", "Pacific Freight Services Ltd",
        "Vanguard Logistics Services", "Atlas Cargo Corp", "Speditionsgesellschaft Müller mbH",
        "Transitaire Dupont SARL", "Transportes Rápidos SA de CV", "Agencia de Carga Andina", "Ekol Lojistik A.Ş.",
        "Arkas Nakliyat ve Taşımacılık", "ООО «Логистик Плюс»", "深圳市华运国际物流有限公司", "宁波中远海运船务代理有限公司",
        "上海某某供应链管理有限公司", "厦门报关行", "株式会社日新運輸", "한진해운", "Công ty TNHH Giao Nhận Vận Tải ABC",
        "PT Ekspedisi Nusantara", "XYZ Customs Brokers Inc", "Shanghai Topocean Consolidation", "Global NVOCC Ltd",
        "ＡＢＣ　ＬＯＧＩＳＴＩＣＳ",
    ],
)  # fmt: skip
def test_forwarders_in_many_languages_are_recognised(name):
    assert consignee_kind(name) == "forwarder"
    assert is_forwarder(name)


@pytest.mark.parametrize(
    "name,kind",
    [
        ("TO ORDER", "to_order"), ("TO THE ORDER OF HSBC BANK", "to_order"), ("To order of shipper", "to_order"),
        ("UNTO ORDER", "to_order"), ("BANK OF CHINA", "to_order"), ("Deutsche Bank AG", "to_order"),
        ("凭指示", "to_order"), ("N/A", "placeholder"), ("---", "placeholder"), ("SAME AS CONSIGNEE", "placeholder"),
    ],
)  # fmt: skip
def test_to_order_consignees_and_placeholders_are_not_buyers(name, kind):
    assert consignee_kind(name) == kind
    assert is_forwarder(name)


@pytest.mark.parametrize(
    "name",
    [
        "Acme Imports LLC", "Ningbo Hengda Trading Co., Ltd.", "宁波恒达贸易有限公司", "MADE TO ORDER FURNITURE LLC",
        "Best Buy Co Inc", "MSC Industrial Supply Co", "UPS Power Systems Inc", "Expedition Outfitters",
        "The Furniture Warehouse", "Maritime Products International", "Costco Wholesale Corp", "Bank Street Bakery",
        "Fretwork Guitars", "ООО Ромашка", "Transportation Equipment",  # the last one: "transport…" is a forwarder
    ],
)  # fmt: skip
def test_buyers_are_not_taken_for_forwarders(name):
    expected = name == "Transportation Equipment"  # documented trade-off: transport* counts as logistics
    assert is_forwarder(name) is expected


def test_a_prepared_row_has_clean_values_keys_and_a_fingerprint():
    r = row(
        importer_name="  ACME   IMPORTS LLC ", importer_country="United States", exporter_name="宁波恒达贸易有限公司",
        exporter_country="中国", origin_country="chn", hs_code="9617.00.90", quantity="1,200 PCS",
        weight_kg="12.5 T", value="USD 12,000.50", bl_number="MSCU1234567", date=dt.date(2026, 2, 3),
    )  # fmt: skip
    assert r["importer_name"] == "ACME   IMPORTS LLC"
    assert r["importer_key"] == "acme imports"
    assert r["exporter_key"] == "宁波恒达贸易"
    assert (r["importer_country"], r["exporter_country"], r["origin_country"]) == ("US", "CN", "CN")
    assert r["hs_code"] == "96170090"
    assert (r["quantity"], r["quantity_unit"]) == (D("1200.000"), "PCS")
    assert r["weight_kg"] == D("12500.000")
    assert (r["value"], r["currency"]) == (D("12000.50"), "USD")
    assert r["is_forwarder"] is False and r["buyer_name"] == r["importer_name"]
    assert len(r["fingerprint"]) == 40 and r["company_id"] is None


def test_the_fingerprint_ignores_spelling_and_vendor_extras_but_not_the_shipment():
    a = row(
        importer_name="Acme Imports LLC",
        exporter_name="Hengda Co., Ltd.",
        weight_kg=D("100"),
        bl_number="X-1",
    )
    b = row(importer_name="ACME IMPORTS, L.L.C.", exporter_name="HENGDA CO LTD", weight_kg="100.000", bl_number="x1",
            port_of_loading="Ningbo", importer_address="1 Main St")  # fmt: skip
    c = row(
        importer_name="Acme Imports LLC",
        exporter_name="Hengda Co., Ltd.",
        weight_kg=D("101"),
        bl_number="X-1",
    )
    assert a["fingerprint"] == b["fingerprint"]
    assert a["fingerprint"] != c["fingerprint"]


def test_leading_zero_lost_by_a_spreadsheet_is_put_back_and_weights_convert():
    assert row(hs_code="30490")["hs_code"] == "030490"
    assert row(hs_code=30490.0)["hs_code"] == "030490"
    assert row(weight_kg="2,000 lbs")["weight_kg"] == D("907.185")
    assert row(weight_kg="3.2吨")["weight_kg"] == D("3200.000")


def test_to_order_consignee_takes_the_notify_party_as_buyer():
    r = row(importer_name="TO THE ORDER OF HSBC BANK", notify_party="Acme Imports LLC", importer_country="US")
    assert r["is_forwarder"] is True
    assert (r["buyer_name"], r["buyer_key"]) == ("Acme Imports LLC", "acme imports")
    assert company_values(r) == {"name": "Acme Imports LLC", "source": "customs", "country": "US"}
    f = row(importer_name="Kuehne + Nagel Inc", notify_party="DHL Global Forwarding")
    assert (f["buyer_name"], f["buyer_key"]) == ("", "")


def test_every_bad_field_is_named_at_once():
    with pytest.raises(ValidationError) as exc:
        prepare_customs_row(
            {"importer_name": "", "importer_country": "Narnia", "hs_code": "8471, 8473", "weight_kg": "-5",
             "value": "EUR 100", "currency": "USD", "quantity": "12 boxes-of-many-kinds-x", "date": dt.date(2027, 1, 1),
             "bl_number": "B" * 65},
            today=TODAY,
        )  # fmt: skip
    errors = exc.value.message_dict
    assert set(errors) == {"importer_name", "importer_country", "hs_code", "weight_kg", "value", "quantity", "date",
                           "bl_number"}  # fmt: skip
    assert "Narnia" in errors["importer_country"][0]
    assert "several HS codes" in errors["hs_code"][0]
    assert "EUR" in errors["value"][0] and "USD" in errors["value"][0]
    assert "future" in errors["date"][0]
    assert "64" in errors["bl_number"][0]


def test_a_currency_sign_that_names_several_currencies_needs_the_code():
    with pytest.raises(ValidationError) as exc:
        row(value="¥1,200")
    assert "which currency" in exc.value.message_dict["value"][0]
    r = row(value="¥1,200", currency="JPY")
    assert (r["value"], r["currency"]) == (D("1200.00"), "JPY")
    assert (row(value="€950.5")["currency"], row(value="1200 RMB")["currency"]) == ("EUR", "CNY")


def test_missing_date_and_bad_weight_unit_are_reported():
    with pytest.raises(ValidationError) as exc:
        prepare_customs_row({"importer_name": "Acme", "weight_kg": "12 parsecs"}, today=TODAY)
    errors = exc.value.message_dict
    assert errors["date"] == ["The date is missing."]
    assert "parsecs" in errors["weight_kg"][0]


@pytest.mark.django_db
def test_write_inserts_once_and_a_second_write_changes_nothing(acme):
    rows = [row(bl_number=f"B{i}", weight_kg=D(i + 1)) for i in range(5)]
    for r in rows:
        r["company_id"] = acme.pk
    rows.append(dict(rows[0]))  # the same line twice in one file
    assert write_customs_rows(rows, job_id=None) == (5, 1)
    assert write_customs_rows(rows, job_id=None) == (0, 6)
    assert CustomsRecord.objects.filter(company=acme).count() == 5
    stored = CustomsRecord.objects.get(bl_number="B3")
    assert (stored.weight_kg, stored.importer_key, stored.date) == (
        D("4.000"),
        "acme imports",
        dt.date(2026, 2, 3),
    )
    assert existing_fingerprints([rows[0]["fingerprint"], "0" * 40]) == {rows[0]["fingerprint"]}


@pytest.mark.django_db
def test_write_tags_rows_with_the_import_job(alice):
    from tradecrm.imports.models import ImportJob

    job = ImportJob.objects.create(entity="customs", source="customs", filename="x.csv", created_by=alice)
    r = row(importer_name="TO ORDER")
    assert write_customs_rows([r], job_id=job.pk) == (1, 0)
    stored = CustomsRecord.objects.get()
    assert (stored.import_job_id, stored.company_id, stored.is_forwarder) == (job.pk, None, True)
    assert write_customs_rows([], job_id=job.pk) == (0, 0)
