"""Tax ids are encrypted at rest, so their duplicate-check key is keyed (HMAC under the key file's
index key) and stored pairs keep no tax id; migration 0003 rewrites what older versions stored."""

import hashlib
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from tradecrm.dedup.keys import TAX_ID, company_keys, key_hash
from tradecrm.dedup.models import CompanyKey, DuplicatePair
from tradecrm.dedup.scoring import reason_texts, storable_reasons

pytestmark = pytest.mark.django_db
TAX = "DE811907980"


def _plain(text: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(f"{TAX_ID}:{text}".encode(), digest_size=8).digest(), "big", signed=True
    )


def test_tax_keys_are_keyed_and_still_match_equal_numbers(settings):
    keys = dict(company_keys({"name": "Müller", "country": "DE", "tax_id": "de 811 907 980"}))
    assert keys[TAX_ID] == key_hash(TAX_ID, f"DE:{TAX}") != _plain(f"DE:{TAX}")
    # another index key gives another fingerprint: the number cannot be tried without the key file
    settings.TRADECRM_ENCRYPTION_KEYS = "other:" + "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMzI="
    assert key_hash(TAX_ID, f"DE:{TAX}") != keys[TAX_ID]


def test_stored_reasons_keep_no_tax_id():
    stored = storable_reasons([{"code": "tax", "value": TAX}, {"code": "phone", "value": "+4930901820"}])
    assert stored == [{"code": "tax"}, {"code": "phone", "value": "+4930901820"}]
    assert reason_texts(stored) == ["same tax id", "same phone +4930901820"]


def test_migration_rewrites_old_keys_and_reasons(make_company, alice):
    a = make_company(name="Müller Handels GmbH", country="DE", tax_id=TAX)
    b = make_company(name="Mueller Handels", country="DE")
    # what an older version stored: a plain hash, and the number in the pair's reasons
    CompanyKey.objects.filter(kind=TAX_ID).update(key=_plain(f"DE:{TAX}"))
    DuplicatePair.objects.create(entity="company", a_id=a.pk, b_id=b.pk, score=0.99,
                                 reasons=[{"code": "tax", "value": TAX}, {"code": "name", "value": 0.9}])  # fmt: skip
    migration = importlib.import_module("tradecrm.dedup.migrations.0003_keyed_tax_id_keys")
    migration.rekey_tax_ids(apps, SimpleNamespace(connection=connection))  # it only uses the connection
    assert list(CompanyKey.objects.filter(kind=TAX_ID).values_list("company_id", "key")) == [
        (a.pk, key_hash(TAX_ID, f"DE:{TAX}"))
    ]
    assert DuplicatePair.objects.get().reasons == [{"code": "tax"}, {"code": "name", "value": 0.9}]
