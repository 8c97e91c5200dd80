"""Column mapping: targets, automatic mapping from English/Chinese headers and source presets, a
TradeCRM export mapping back, saved mappings and mapping checks. No database."""

from __future__ import annotations

import pytest
from django.utils import translation

from tradecrm.customers.models import Company, Contact
from tradecrm.customs.models import CustomsRecord
from tradecrm.imports.mapping import (
    apply_template,
    auto_map,
    known_header_count,
    mapping_errors,
    normalize_header,
    targets,
    template_covers,
    template_mapping,
)
from tradecrm.imports.sources import SOURCES, get_source, sources_for

KINDS = {"text", "email", "phone", "country", "date", "number", "list", "choice", "id", "user", "tags", "url",
         "currency", "language", "timezone", "bool"}  # fmt: skip


def mapped(headers, entity="companies", source="generic"):
    """header → field, for reading the assertions."""
    return {headers[i]: f for i, f in auto_map(headers, entity=entity, source=source).items()}


def test_targets_of_each_entity():
    companies = {t.field for t in targets("companies")}
    assert {
        "name", "name_local", "country", "city", "address", "website", "email", "phones", "industry",
        "business_type", "company_size", "annual_purchase", "main_products", "hs_codes", "source_detail",
        "timezone", "preferred_language", "currency", "credit_rating", "cooperation_since", "status", "notes",
        "tax_id", "tags", "owner", "id", "contact_first_name", "contact_last_name", "contact_name",
        "contact_name_local", "contact_title", "contact_email", "contact_phone", "contact_mobile",
        "contact_whatsapp", "contact_wechat", "contact_linkedin", "contact_skype",
    } <= companies  # fmt: skip
    assert {t.field for t in targets("contacts")} >= {
        "first_name", "last_name", "name", "name_local", "title", "emails", "phones", "whatsapp", "wechat",
        "linkedin", "skype", "birthday", "notes", "company_name", "company_website", "company_country",
        "company_id", "id",
    }  # fmt: skip
    assert {t.field for t in targets("customs")} == {
        "importer_name", "importer_country", "importer_address", "exporter_name", "exporter_country",
        "notify_party", "hs_code", "product_description", "quantity", "quantity_unit", "weight_kg", "value",
        "currency", "date", "port_of_loading", "port_of_discharge", "bl_number", "origin_country",
    }  # fmt: skip
    assert {"sku", "name_en", "hs_code", "carton_size", "purchase_cost_cny"} <= {
        t.field for t in targets("products")
    }
    for entity in ("companies", "contacts", "customs", "products"):
        for t in targets(entity):
            assert t.kind in KINDS and str(t.label) and t.aliases, t
    multiple = {t.field for t in targets("companies") if t.multiple}
    assert multiple == {"phones", "hs_codes", "notes", "tags"}
    with pytest.raises(ValueError):
        targets("invoices")


def test_labels_are_translated():
    name = next(t for t in targets("companies") if t.field == "name")
    with translation.override("zh-hans"):
        assert str(name.label) == "公司名称"
    assert str(name.label) == "company name"


def test_headers_compare_without_case_width_spaces_or_punctuation():
    assert normalize_header(" E-Mail ") == normalize_header("email") == normalize_header("Ｅｍａｉｌ")
    assert normalize_header("Country/Region") == "countryregion"


def test_chinese_headers():
    headers = ["公司名称", "国家/地区", "城市", "地址", "网址", "邮箱", "电话", "传真", "行业", "主营产品", "备注",
               "负责人", "标签", "税号", "客户阶段", "联系人", "职位", "手机", "微信"]  # fmt: skip
    assert mapped(headers) == {
        "公司名称": "name", "国家/地区": "country", "城市": "city", "地址": "address", "网址": "website",
        "邮箱": "email", "电话": "phones", "传真": "phones", "行业": "industry", "主营产品": "main_products",
        "备注": "notes", "负责人": "owner", "标签": "tags", "税号": "tax_id", "客户阶段": "status",
        "联系人": "contact_name", "职位": "contact_title", "手机": "contact_mobile", "微信": "contact_wechat",
    }  # fmt: skip


def test_english_variants():
    headers = ["Company Name", "Country/Region", "E-mail", "Tel", "Phone 2", "Web Site", "Contact Person",
               "Job Title", "WhatsApp", "Remarks", "Comments"]  # fmt: skip
    assert mapped(headers) == {
        "Company Name": "name", "Country/Region": "country", "E-mail": "email", "Tel": "phones",
        "Phone 2": "phones", "Web Site": "website", "Contact Person": "contact_name", "Job Title": "contact_title",
        "WhatsApp": "contact_whatsapp", "Remarks": "notes", "Comments": "notes",
    }  # fmt: skip


def test_buyers_lists_in_other_languages():
    german = [
        "Firma",
        "Land",
        "Stadt",
        "Telefon",
        "E-Mail",
        "Ansprechpartner",
        "Funktion",
        "Mobil",
        "Bemerkung",
    ]
    assert list(mapped(german).values()) == [
        "name", "country", "city", "phones", "email", "contact_name", "contact_title", "contact_mobile", "notes",
    ]  # fmt: skip
    spanish = ["Empresa", "País", "Teléfono", "Correo electrónico", "Contacto", "Cargo"]
    assert list(mapped(spanish).values()) == [
        "name",
        "country",
        "phones",
        "email",
        "contact_name",
        "contact_title",
    ]
    french = ["Nom", "Prénom", "Société", "Pays", "Courriel", "Téléphone"]
    assert list(mapped(french, entity="contacts").values()) == [
        "last_name", "first_name", "company_name", "company_country", "emails", "phones",
    ]  # fmt: skip
    russian = ["Компания", "Страна", "Телефон", "Контактное лицо"]
    assert list(mapped(russian).values()) == ["name", "country", "phones", "contact_name"]


def test_customer_and_importer_names_and_near_spellings():
    assert mapped(["客户名称"]) == {"客户名称": "name"}
    assert mapped(["Importer"]) == {"Importer": "name"}
    assert mapped(["Consignee"]) == {"Consignee": "name"}
    assert mapped(["Adress", "Compnay Name", "Industy"]) == {
        "Adress": "address",
        "Compnay Name": "name",
        "Industy": "industry",
    }


def test_a_one_column_field_goes_to_the_first_column_naming_it():
    assert mapped(["Email", "E-mail", "Company"]) == {"Email": "email", "Company": "name"}
    # an exact name elsewhere beats a near spelling earlier
    assert mapped(["Adres", "Address"]) == {"Address": "address"}


def test_a_mobile_without_a_contact_person_is_the_companys():
    assert mapped(["Company", "Mobile"]) == {"Company": "name", "Mobile": "phones"}
    assert mapped(["Company", "Contact", "Mobile"])["Mobile"] == "contact_mobile"


def test_unknown_and_blank_headers_stay_unmapped():
    assert mapped(["Company", "Column C", "", "Booth no.", "12345"]) == {"Company": "name"}


def test_id_columns_map_only_for_a_tradecrm_export():
    assert "ID" not in mapped(["ID", "Company"])
    assert mapped(["ID", "Company"], source="tradecrm")["ID"] == "id"
    assert mapped(["TradeCRM ID", "Company"])["TradeCRM ID"] == "id"
    assert "Account ID" not in mapped(["Account ID", "Account Name"], source="salesforce")


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
@pytest.mark.parametrize(
    "entity,model", [("companies", Company), ("contacts", Contact), ("customs", CustomsRecord)]
)
def test_a_tradecrm_export_in_either_language_maps_back(lang, entity, model):
    """The export part writes the model fields' verbose names (plus "ID") as headers."""
    fields = [t.field for t in targets(entity)]
    own = [f for f in fields if _has_field(model, f)]
    with translation.override(lang):
        headers = [str(model._meta.get_field(f).verbose_name) for f in own]
    got = auto_map(headers, entity=entity, source="tradecrm")
    assert {own[i]: f for i, f in got.items()} == {f: f for f in own}


def _has_field(model, name):
    try:
        model._meta.get_field(name)
    except Exception:
        return False
    return not name.endswith("_id")


def test_contacts_export_company_column_maps_to_company_name():
    with translation.override("zh-hans"):
        header = str(Contact._meta.get_field("company").verbose_name)
    assert mapped([header, "姓", "名"], entity="contacts", source="tradecrm") == {
        header: "company_name",
        "姓": "last_name",
        "名": "first_name",
    }


def test_contact_files():
    headers = ["Name", "First Name", "Last Name", "Title", "Email", "Email 2", "Mobile", "Tel", "Company",
               "Website", "Country", "Birthday", "WeChat", "微信", "备注"]  # fmt: skip
    got = mapped(headers, entity="contacts")
    assert got == {
        "Name": "name", "First Name": "first_name", "Last Name": "last_name", "Title": "title", "Email": "emails",
        "Email 2": "emails", "Mobile": "phones", "Tel": "phones", "Company": "company_name",
        "Website": "company_website", "Country": "company_country", "Birthday": "birthday", "WeChat": "wechat",
        "备注": "notes",
    }  # fmt: skip


def test_google_contacts_csv():
    headers = ["Name", "Given Name", "Family Name", "Birthday", "Notes", "E-mail 1 - Type", "E-mail 1 - Value",
               "E-mail 2 - Type", "E-mail 2 - Value", "Phone 1 - Type", "Phone 1 - Value", "Organization 1 - Name",
               "Organization 1 - Title", "Website 1 - Value", "Address 1 - Country"]  # fmt: skip
    assert mapped(headers, entity="contacts", source="google_contacts") == {
        "Name": "name", "Given Name": "first_name", "Family Name": "last_name", "Birthday": "birthday",
        "Notes": "notes", "E-mail 1 - Value": "emails", "E-mail 2 - Value": "emails", "Phone 1 - Value": "phones",
        "Organization 1 - Name": "company_name", "Organization 1 - Title": "title",
        "Website 1 - Value": "company_website", "Address 1 - Country": "company_country",
    }  # fmt: skip


def test_outlook_contacts_csv_title_is_a_salutation():
    headers = ["Title", "First Name", "Last Name", "Company", "Job Title", "E-mail Address", "E-mail Display Name",
               "E-mail 2 Address", "Business Phone", "Mobile Phone", "Business Country/Region", "Web Page"]  # fmt: skip
    assert mapped(headers, entity="contacts", source="outlook_contacts") == {
        "First Name": "first_name", "Last Name": "last_name", "Company": "company_name", "Job Title": "title",
        "E-mail Address": "emails", "E-mail 2 Address": "emails", "Business Phone": "phones",
        "Mobile Phone": "phones", "Business Country/Region": "company_country", "Web Page": "company_website",
    }  # fmt: skip


def test_crm_exports():
    salesforce = ["Account ID", "Account Name", "Account Owner", "Billing Street", "Billing City", "Billing Country",
                  "Phone", "Fax", "Website", "Industry", "Description"]  # fmt: skip
    assert mapped(salesforce, source="salesforce") == {
        "Account Name": "name", "Account Owner": "owner", "Billing Street": "address", "Billing City": "city",
        "Billing Country": "country", "Phone": "phones", "Fax": "phones", "Website": "website",
        "Industry": "industry", "Description": "notes",
    }  # fmt: skip
    hubspot = [
        "Record ID",
        "Company name",
        "Company Domain Name",
        "Phone Number",
        "Country/Region",
        "Company owner",
    ]
    assert mapped(hubspot, source="hubspot") == {
        "Company name": "name", "Company Domain Name": "website", "Phone Number": "phones",
        "Country/Region": "country", "Company owner": "owner",
    }  # fmt: skip
    zoho = [
        "First Name",
        "Last Name",
        "Email",
        "Secondary Email",
        "Account Name",
        "Mailing Country",
        "Skype ID",
    ]
    assert mapped(zoho, entity="contacts", source="zoho") == {
        "First Name": "first_name", "Last Name": "last_name", "Email": "emails", "Secondary Email": "emails",
        "Account Name": "company_name", "Mailing Country": "company_country", "Skype ID": "skype",
    }  # fmt: skip


def test_trade_show_list_is_one_person_per_row():
    headers = [
        "Name",
        "Company",
        "Position",
        "Email",
        "Mobile",
        "Tel",
        "Country",
        "Interested Products",
        "Remarks",
    ]
    assert mapped(headers, source="trade_show") == {
        "Name": "contact_name", "Company": "name", "Position": "contact_title", "Email": "contact_email",
        "Mobile": "contact_mobile", "Tel": "phones", "Country": "country", "Interested Products": "main_products",
        "Remarks": "notes",
    }  # fmt: skip
    assert get_source("trade_show").defaults == {"source": "trade_show"}


def test_b2b_inquiry_export():
    headers = ["Buyer Name", "Buyer Company", "Buyer Country", "Buyer Email", "Subject", "Inquiry Content"]
    assert mapped(headers, source="b2b") == {
        "Buyer Name": "contact_name", "Buyer Company": "name", "Buyer Country": "country",
        "Buyer Email": "contact_email", "Subject": "main_products", "Inquiry Content": "notes",
    }  # fmt: skip


def test_customs_records_from_vendors_in_english_and_chinese():
    english = ["Arrival Date", "Consignee", "Consignee Address", "Shipper", "HS Code", "Product Description",
               "Quantity", "Quantity Unit", "Weight (KG)", "Value (USD)", "Port of Lading", "Port of Unlading",
               "Bill of Lading Number", "Country of Origin", "Notify Party"]  # fmt: skip
    assert mapped(english, entity="customs", source="customs") == dict(zip(english, [
        "date", "importer_name", "importer_address", "exporter_name", "hs_code", "product_description",
        "quantity", "quantity_unit", "weight_kg", "value", "port_of_loading", "port_of_discharge", "bl_number",
        "origin_country", "notify_party"], strict=True))  # fmt: skip
    chinese = ["日期", "进口商", "进口国", "出口商", "海关编码", "产品描述", "数量", "数量单位", "重量(千克)",
               "金额（美元）", "币种", "装货港", "卸货港", "提单号", "原产国"]  # fmt: skip
    assert mapped(chinese, entity="customs") == dict(zip(chinese, [
        "date", "importer_name", "importer_country", "exporter_name", "hs_code", "product_description",
        "quantity", "quantity_unit", "weight_kg", "value", "currency", "port_of_loading", "port_of_discharge",
        "bl_number", "origin_country"], strict=True))  # fmt: skip


def test_products_reuse_the_catalogue_columns():
    assert mapped(["货号", "英文品名", "毛重(KG)", "采购价（元）", "外箱尺寸", "Unit"], entity="products") == {
        "货号": "sku", "英文品名": "name_en", "毛重(KG)": "carton_gross_weight_kg", "采购价（元）": "purchase_cost_cny",
        "外箱尺寸": "carton_size", "Unit": "unit",
    }  # fmt: skip


def test_known_header_count_finds_header_like_rows():
    assert known_header_count(["公司名称", "国家", "x"]) == 2
    assert known_header_count(["2024 Canton Fair visitors"]) == 0


# --- saved mappings -----------------------------------------------------------------------------------


def test_template_round_trip_by_header_text():
    headers = ["Company", "Tel", "Tel", "Booth"]
    saved = template_mapping(headers, {0: "name", 1: "phones", "2": "phones"})
    assert saved == {"company": "name", "tel": "phones", "tel#2": "phones", "booth": ""}
    # the same columns, written differently and in another order
    later = ["BOOTH", "tel", " company ", "TEL", "New column"]
    assert apply_template(later, saved) == {1: "phones", 2: "name", 3: "phones"}
    assert template_covers(later, saved) == ["New column"]


# --- checks -------------------------------------------------------------------------------------------


def test_mapping_errors_say_which_columns_and_why():
    headers = ["Tel", "Email", "E-mail", "Name", "x"]
    errors = mapping_errors(
        {0: "phones", 1: "email", 2: "email", 4: "nonsense", 9: "city", "3": "name"},
        entity="companies",
        headers=headers,
    )
    assert errors == [
        "Column “x” goes to “nonsense”, which is not a field of this import.",
        "Column 10 does not exist: the file has 5 columns.",
        "Columns “Email” and “E-mail” both go to “email”, which takes one column: choose one.",
    ]


def test_three_columns_on_one_field():
    errors = mapping_errors(
        {0: "city", 1: "city", 2: "city", 3: "name"}, entity="companies", headers=list("abcd")
    )
    assert errors == ["Columns “a”, “b” and “c” all go to “city”, which takes one column: choose one."]


@pytest.mark.parametrize(
    "entity,mapping,missing",
    [
        ("companies", {0: "city"}, "the company name"),
        ("contacts", {0: "title"}, "a name or an email"),
        ("customs", {0: "importer_name"}, "the date"),
        ("customs", {0: "date"}, "the importer / consignee"),
        ("products", {0: "name_en"}, "the SKU"),
    ],
)
def test_required_fields(entity, mapping, missing):
    errors = mapping_errors(mapping, entity=entity, headers=["a", "b"])
    assert errors == [f"No column goes to {missing}: map the column that holds it."]


def test_complete_mappings_have_no_errors():
    assert (
        mapping_errors({0: "name", 1: "phones", 2: "phones"}, entity="companies", headers=list("abc")) == []
    )
    assert mapping_errors({0: "emails"}, entity="contacts", headers=["a"]) == []
    assert mapping_errors({0: "id", 1: "city"}, entity="companies", headers=list("ab")) == []


def test_mapping_errors_in_chinese():
    with translation.override("zh-hans"):
        errors = mapping_errors({0: "city", 1: "city"}, entity="companies", headers=["a", "b"])
    assert len(errors) == 2 and "“a”" in errors[0]


# --- sources ------------------------------------------------------------------------------------------


def test_sources():
    assert set(SOURCES) == {"generic", "trade_show", "customs", "b2b", "salesforce", "hubspot", "zoho",
                            "google_contacts", "outlook_contacts", "vcard", "tradecrm"}  # fmt: skip
    assert [s.key for s in sources_for("customs")] == ["generic", "customs", "tradecrm"]
    assert "google_contacts" in [s.key for s in sources_for("contacts")]
    assert "google_contacts" not in [s.key for s in sources_for("companies")]
    assert get_source("nope") is SOURCES["generic"]
    for source in SOURCES.values():
        assert str(source.label) and str(source.description)
        for entity in source.entities:
            auto_map(["Company", "Name", "Email"], entity=entity, source=source.key)  # every index builds
        for key in source.aliases:
            entity, _dot, field = key.rpartition(".")
            if key:
                assert field in {t.field for t in targets(entity or source.entities[0])}, key
