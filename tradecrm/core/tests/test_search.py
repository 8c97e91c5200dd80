import importlib

import pytest

from tradecrm.core import search
from tradecrm.core.search import cjk_gram_tokens, query_terms, search_document, strip_gram_tokens
from tradecrm.customers.selectors import CompanyFilters, company_list


def test_document_carries_cjk_characters_and_pairs_once():
    doc = search_document("华强电子", "Shenzhen 华强")
    assert doc.startswith("华强电子 shenzhen 华强 ")
    assert doc.count("⁅华强⁆") == 1 and "⁅电⁆" in doc and "⁅子⁆" in doc and "⁅强电⁆" in doc
    assert strip_gram_tokens(doc) == "华强电子 shenzhen 华强"
    assert search_document("Müller GmbH") == "müller gmbh"


def test_short_chinese_queries_become_gram_tokens():
    assert query_terms("华强") == ["⁅华强⁆"]
    assert query_terms("华 mü") == ["⁅华⁆", "mü"]
    assert query_terms("华强电子") == ["华强电子"]


def test_migration_adds_grams_idempotently():
    mod = importlib.import_module("tradecrm.customers.migrations.0003_search_cjk_grams")
    once = mod.with_grams("深圳市华强 info@x.cn")
    assert once == mod.with_grams(once) == "深圳市华强 info@x.cn " + cjk_gram_tokens("深圳市华强")


@pytest.fixture
def three(make_company):
    make_company(name="深圳市华强电子有限公司", country="CN")
    make_company(name="华强北 Trading", country="HK")
    make_company(name="Müller Handels GmbH", country="DE", phones=["030 1234567"])


def names(user, q):
    return [r["name"] for r in company_list(user, CompanyFilters(q=q))[0]]


@pytest.mark.parametrize("cap", [3000, 0])  # 0: every query takes the "many hits" path
def test_one_and_two_chinese_characters_and_both_plans(alice, three, monkeypatch, cap):
    monkeypatch.setattr(search, "SEARCH_ID_CAP", cap)
    assert names(alice, "华强") == ["华强北 Trading", "深圳市华强电子有限公司"]
    assert names(alice, "电") == ["深圳市华强电子有限公司"]
    assert names(alice, "强电子") == ["深圳市华强电子有限公司"]
    assert names(alice, "华北") == []
    assert names(alice, "müller 1234567") == ["Müller Handels GmbH"]
    assert names(alice, "zzz") == []


@pytest.mark.parametrize("cap", [3000, 0])
def test_long_terms_are_checked_beyond_the_indexed_start(alice, make_company, monkeypatch, cap):
    monkeypatch.setattr(search, "SEARCH_ID_CAP", cap)
    make_company(name="Johnstonville Trading", email="buyer@johnstonville-trading.com")
    make_company(name="Johnstonburg Imports", email="buyer@johnstonburg-imports.com")
    assert names(alice, "johnstonville") == ["Johnstonville Trading"]
    assert len(names(alice, "johnston")) == 2
    assert names(alice, "buyer@johnstonville-trading.com") == ["Johnstonville Trading"]
    assert names(alice, "buyer@johnstonburg-trading.com") == []
