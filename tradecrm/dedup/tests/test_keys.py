"""Normalisation and match keys: pure functions (no database) plus the key rows the services write."""

import pytest

from tradecrm.dedup import keys as K
from tradecrm.dedup.normalize import (
    email_domain_key,
    latin_name,
    name_core,
    normalize_company_name,
    normalize_person_name,
    normalize_tax_id,
    tax_id_checkable,
    website_host,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ningbo Hengda Trading Co., Ltd.", "ningbo hengda trading"),
        ("NINGBO HENGDA TRADING CO.,LTD", "ningbo hengda trading"),
        ("宁波恒达贸易有限公司", "宁波恒达贸易"),
        ("宁波恒达进出口有限公司", "宁波恒达"),
        ("恒达股份有限公司", "恒达"),
        ("ＡＣＭＥ　ＧｍｂＨ", "acme"),  # full-width letters and space
        ("Müller Maschinenbau GmbH & Co. KG", "muller maschinenbau"),
        ("Industrias Pérez S.A. de C.V.", "industrias perez"),
        ("PT Maju Jaya Tbk", "maju jaya"),
        ("Acme Widgets Sdn. Bhd.", "acme widgets"),
        ("Tata Consultancy Services Pvt Ltd", "tata consultancy services"),
        ("Hengda Import & Export Co., Ltd.", "hengda"),
        ("Rossi S.R.L.", "rossi"),
        ("Rossi SpA", "rossi"),
        ("AB Volvo", "volvo"),
        ("ООО Ромашка", "ромашка"),
        ("株式会社トヨタ", "トヨタ"),
        ("Ltd", "ltd"),  # nothing but a legal form: keep it rather than return nothing
        ("", ""),
    ],
)
def test_normalize_company_name(raw, expected):
    assert normalize_company_name(raw) == expected


def test_latin_name_and_core_meet_across_scripts():
    zh = normalize_company_name("宁波恒达贸易有限公司")
    en = normalize_company_name("Ningbo Heng Da Trading Co., Ltd.")
    assert latin_name(zh) == "ningbo hengda trading"
    assert name_core(zh) == name_core(en) == "hengda"
    # a phrase reading, not the first reading of each character: 长安 is chang'an, not zhang'an
    assert name_core(normalize_company_name("重庆长安汽车股份有限公司")) == "changan"
    assert latin_name("hengda electronics") == "hengda electronic"


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("https://www.Acme.de/en", "acme.de"),
        ("acme.de", "acme.de"),
        ("http://shop.acme.co.uk:8080/x?y=1", "shop.acme.co.uk"),
        ("https://user@acme.com/", "acme.com"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("not a url", ""),
        ("", ""),
    ],
)
def test_website_host(raw, host):
    assert website_host(raw) == host


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Sales@Mail.Acme.de", "acme.de"),
        ("acme.com.cn", "acme.com.cn"),
        ("x@gmail.com", ""),
        ("x@163.com", ""),
        ("x@qq.com", ""),
        ("x@yahoo.co.uk", ""),  # a free-mail brand under any country domain
        ("hotmail.fr", ""),
        ("", ""),
    ],
)
def test_email_domain_key(raw, key):
    assert email_domain_key(raw) == key


def test_normalize_tax_id():
    assert normalize_tax_id("DE 136.695.976", "DE") == ("DE136695976", True)
    assert normalize_tax_id("136695976", "de") == ("DE136695976", True)  # prefix added
    assert normalize_tax_id("DE136695977", "DE") == ("DE136695977", False)  # bad check digit
    assert normalize_tax_id("91110000600037341L", "CN") == ("91110000600037341L", True)  # USCC
    assert normalize_tax_id("12-3456789", "US") == ("123456789", True)
    assert normalize_tax_id("ab-12 3", "ZZ") == ("AB123", False)
    assert normalize_tax_id("", "DE") == ("", False)
    assert tax_id_checkable("DE") and tax_id_checkable("CN") and not tax_id_checkable("")


def test_person_name_is_order_and_script_insensitive():
    assert normalize_person_name("Wei", "ZHANG") == normalize_person_name("Zhang", "Wei") == "wei zhang"
    assert normalize_person_name("", "", "张伟") == "wei zhang"
    assert normalize_person_name("José", "Núñez") == "jose nunez"


def test_key_hash_is_stable_signed_64_bit():
    h = K.key_hash(1, "acme|DE")
    assert h == K.key_hash(1, "acme|DE") and -(2**63) <= h < 2**63
    assert h != K.key_hash(2, "acme|DE")  # the kind is part of the key
    assert K.key_hash(2, "acme.de") == 9124421655636856122  # same value in every process and version


def test_company_keys_are_few_and_merge_website_with_email_domain():
    values = {
        "name": "Ningbo Hengda Trading Co., Ltd.",
        "name_local": "宁波恒达贸易有限公司",
        "country": "CN",
        "email": "sales@hengda.cn",
        "email_domains": ["hengda.cn"],
        "website": "https://www.hengda.cn/en",
        "phones": ["+8657487654321"],
        "tax_id": "91110000600037341L",
    }
    texts = K.company_key_texts(values)
    assert texts == [
        (K.NAME, "ningbo hengda trading|CN"),
        (K.NAME, "宁波恒达贸易|CN"),
        (K.DOMAIN, "hengda.cn"),
        (K.PHONE, "+8657487654321"),
        (K.TAX_ID, "CN:91110000600037341L"),
    ]
    assert K.company_keys(values) == [(kind, K.key_hash(kind, text)) for kind, text in texts]
    assert set(K.company_match_keys(values)) <= set(K.company_keys(values))


def test_company_keys_free_mail_and_raw_phones():
    keys = dict(
        K.company_key_texts(
            {"name": "Hengda", "email": "Hengda_Trade@163.com", "phones": "0574 8765 4321", "country": "CN"}
        )
    )
    assert keys[K.EMAIL] == "hengda_trade@163.com"  # the address, since the domain says nothing
    assert K.DOMAIN not in keys
    assert keys[K.PHONE] == "+8657487654321"  # parsed with the country as region
    assert K.company_keys({}) == []
    # a name alone matches only within the same country
    assert K.company_keys({"name": "Acme GmbH", "country": "DE"}) != K.company_keys(
        {"name": "Acme", "country": "US"}
    )
    assert K.company_keys({"name": "Acme GmbH", "country": "DE"}) == K.company_keys(
        {"name": "ACME", "country": "de"}
    )


def test_contact_keys():
    texts = K.contact_key_texts(
        {"emails": ["W.Zhang@Hengda.cn"], "phones": ["+8613800138000"], "whatsapp": "+8613800138000"}
    )
    assert texts == [(K.EMAIL, "w.zhang@hengda.cn"), (K.PHONE, "+8613800138000")]


def _stored(model, fk, obj_id):
    return sorted(model.objects.filter(**{fk: obj_id}).values_list("kind", "key"))


def test_services_keep_key_rows_current(db, alice, make_company):
    from tradecrm.customers.services import company_update, contact_create, contact_delete
    from tradecrm.dedup.models import CompanyKey, ContactKey

    c = make_company(
        name="Acme Widgets GmbH", country="DE", website="https://acme.de", phones=["+49 30 1234567"]
    )
    assert _stored(CompanyKey, "company_id", c.pk) == sorted(
        K.company_keys(
            {"name": "Acme Widgets GmbH", "country": "DE", "website": "acme.de", "phones": ["+49301234567"]}
        )
    )
    company_update(actor=alice, company=c, version=c.version, data={"name": "Acme Tools GmbH"})
    assert (K.NAME, K.key_hash(K.NAME, "acme tools|DE")) in _stored(CompanyKey, "company_id", c.pk)
    assert (K.NAME, K.key_hash(K.NAME, "acme widgets|DE")) not in _stored(CompanyKey, "company_id", c.pk)
    p = contact_create(actor=alice, company=c, data={"first_name": "Anna", "emails": "anna@acme.de"})
    assert _stored(ContactKey, "contact_id", p.pk) == [(K.EMAIL, K.key_hash(K.EMAIL, "anna@acme.de"))]
    contact_delete(actor=alice, contact=p)
    assert not ContactKey.objects.filter(contact_id=p.pk).exists()


def test_refresh_drops_keys_of_deleted_companies(db, make_company):
    from tradecrm.customers.models import Company
    from tradecrm.dedup.models import CompanyKey

    c = make_company(name="Gone Ltd", country="GB")
    Company.objects.filter(pk=c.pk).update(name="Still Here Ltd")
    K.refresh_company_keys([c.pk, 999999])
    assert _stored(CompanyKey, "company_id", c.pk) == [(K.NAME, K.key_hash(K.NAME, "still here|GB"))]


def test_demo_fast_path_writes_keys(db):
    from tradecrm.customers.demo import DemoGenerator, fast_insert_django
    from tradecrm.customers.models import Company
    from tradecrm.dedup.models import CompanyKey, ContactKey

    fast_insert_django(DemoGenerator(seed=3, use_faker=False), 5)
    c = Company.objects.values(*K.COMPANY_KEY_FIELDS).first()
    assert _stored(CompanyKey, "company_id", c["id"]) == sorted(K.company_keys(c))
    assert ContactKey.objects.exists()
