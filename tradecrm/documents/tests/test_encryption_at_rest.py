"""Encryption at rest (core/crypto.py, decision 0011): the raw database file and the stored files
hold no plaintext of tax ids, private notes, bank details (also in issued snapshots) or attachment
contents — only values under the key id prefix — while the app reads them back as they were."""

import sqlite3
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from tradecrm.customers.models import Company, Contact, tax_id_hash
from tradecrm.documents.models import BankAccount, ProformaInvoice, SellerProfile
from tradecrm.documents.services import proforma_create, proforma_issue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

TAX = "DE811907980"
COMPANY_NOTE = "Owner's mobile is private: do not share"
CONTACT_NOTE = "Prefers calls after 9pm, divorce pending"
IBAN = "DE89370400440532013000"
ACCOUNT = "3581 0000 1234 5678"
SELLER_TAX = "91330212MA2H8K7X3Q"
FILE_SECRET = b"%PDF-1.4 signed contract: price 1.87 USD"


def _raw_db_bytes(tmp_path: Path) -> bytes:
    """The bytes of the database as a file: the SQLite test database may live in memory, so copy it
    to one with VACUUM INTO (outside a transaction: this test commits for real)."""
    target = tmp_path / "raw.sqlite3"
    with connection.cursor() as cur:
        cur.execute("VACUUM INTO %s", [str(target)])
    return target.read_bytes()


@pytest.fixture
def data(make_company, alice, seller, rates, lines):
    from tradecrm.customers.services import company_update
    from tradecrm.interactions.services import attachment_add, interaction_create

    company = make_company(name="Müller Handels GmbH", country="DE", tax_id=TAX, notes="first note")
    # the update path (QuerySet.update) also encrypts, and the audit event keeps no value
    company = company_update(actor=alice, company=company, version=company.version, data={"notes": COMPANY_NOTE})
    contact = Contact.objects.create(company=company, first_name="Jana", notes=CONTACT_NOTE)
    SellerProfile.objects.filter(pk=seller.pk).update(tax_id=SELLER_TAX)
    seller.refresh_from_db()
    BankAccount.objects.create(seller=seller, label="DB EUR", currency="EUR", beneficiary=seller.name_en,
                               bank_name="Deutsche Bank", swift="DEUTDEFF", account_number=ACCOUNT, iban=IBAN,
                               is_default=True)  # fmt: skip
    pi = proforma_create(actor=alice, company=company, data={"currency": "EUR"}, lines=lines)
    pi = proforma_issue(actor=alice, proforma=pi, version=pi.version)
    entry = interaction_create(actor=alice, company=company, data={"type": "note", "subject": "contract", "occurred_at": "2026-03-04T09:00",
                                                                     "body": "see file"})  # fmt: skip
    att = attachment_add(actor=alice, interaction=entry, upload=ContentFile(FILE_SECRET, name="contract.pdf"))
    return {"company": company, "contact": contact, "pi": pi, "attachment": att}


@pytest.mark.django_db(transaction=True)
def test_raw_database_and_files_hold_no_plaintext(data, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("reads the SQLite file; PostgreSQL stores the same text values")
    raw = _raw_db_bytes(tmp_path)
    for secret in ("first note", TAX, COMPANY_NOTE, CONTACT_NOTE, IBAN, ACCOUNT, SELLER_TAX, "DEUTDEFF"):
        assert secret.encode() not in raw, secret
    # the values are there, encrypted under the test key's id
    db = sqlite3.connect(tmp_path / "raw.sqlite3")
    (tax,) = db.execute("SELECT tax_id FROM customers_company WHERE id = ?", [data["company"].pk]).fetchone()
    (note,) = db.execute("SELECT notes FROM customers_contact WHERE id = ?", [data["contact"].pk]).fetchone()
    (iban,) = db.execute("SELECT iban FROM documents_bankaccount").fetchone()
    (snap,) = db.execute("SELECT snapshot FROM documents_proformainvoice").fetchone()
    db.close()
    assert tax.startswith("v1:test1:") and note.startswith("v1:test1:") and iban.startswith("v1:test1:")
    assert '"bank": "v1:test1:' in snap or '"bank":"v1:test1:' in snap
    assert "Handels GmbH" in snap  # the rest of the snapshot stays plain JSON
    # the attachment's bytes on disk
    on_disk = Path(default_storage.path(data["attachment"].file.name)).read_bytes()
    assert on_disk.startswith(b"TCRMENC1") and b"signed contract" not in on_disk


# --- copies of tax ids and bank details beyond their own columns (permissions/encryption gaps) ---


@pytest.mark.django_db(transaction=True)
def test_copies_of_tax_ids_and_bank_details_hold_no_plaintext(data, make_company, alice, settings, tmp_path):
    """The order made from the PI, the duplicate check's tax-id key and the pair it finds (with its
    reasons), and the cached PDF of the PI: none holds the tax id or the bank account in clear."""
    if connection.vendor != "sqlite":
        pytest.skip("reads the SQLite file; PostgreSQL stores the same text values")
    import hashlib

    from tradecrm.dedup.keys import TAX_ID, key_hash
    from tradecrm.dedup.models import CompanyKey, DuplicatePair
    from tradecrm.dedup.sweep import sweep
    from tradecrm.documents import pdf
    from tradecrm.orders.services import order_from_proforma

    order = order_from_proforma(actor=alice, proforma=data["pi"])
    twin = make_company(name="Mueller Handels GmbH", country="DE", tax_id="DE 811 907 980")
    sweep("companies", workers=1)
    pair = DuplicatePair.objects.get()
    assert {pair.a_id, pair.b_id} == {data["company"].pk, twin.pk} and {"code": "tax"} in pair.reasons
    # the tax-id key is keyed (HMAC under the key file's index key), not a plain hash of the number
    plain = int.from_bytes(hashlib.blake2b(f"{TAX_ID}:DE:{TAX}".encode(), digest_size=8).digest(), "big",
                           signed=True)  # fmt: skip
    keys = set(CompanyKey.objects.filter(kind=TAX_ID).values_list("key", flat=True))
    assert keys == {key_hash(TAX_ID, f"DE:{TAX}")} and plain not in keys
    settings.DATA_DIR = tmp_path
    assert pdf.cached_pdf(f"proforma-{data['pi'].pk}-r1-en-t1", lambda: f"%PDF IBAN {IBAN}".encode()).endswith(
        IBAN.encode()
    )
    on_disk = (tmp_path / "media" / "pdf-cache" / f"proforma-{data['pi'].pk}-r1-en-t1.pdf").read_bytes()
    assert on_disk.startswith(b"TCRMENC1") and IBAN.encode() not in on_disk
    raw = _raw_db_bytes(tmp_path)
    for secret in (TAX, IBAN, ACCOUNT, SELLER_TAX):
        assert secret.encode() not in raw, secret
    assert order.snapshot == {}  # an order copies no seller, bank or tax data (the PI keeps them)


def test_the_app_reads_everything_back(data, client_for, alice):
    company = Company.objects.get(pk=data["company"].pk)
    assert (company.tax_id, company.notes) == (TAX, COMPANY_NOTE)
    assert company.tax_id_hash == tax_id_hash("de 811-907-980")
    assert Company.objects.filter(tax_id_hash=tax_id_hash(TAX)).get() == company
    assert Contact.objects.values_list("notes", flat=True).get(pk=data["contact"].pk) == CONTACT_NOTE
    pi = ProformaInvoice.objects.get(pk=data["pi"].pk)
    assert (pi.snapshot["bank"]["iban"], pi.snapshot["bank"]["account"]) == (IBAN, ACCOUNT)
    assert pi.snapshot["seller"]["tax_id"] == SELLER_TAX
    r = client_for(alice).get(f"/attachments/{data['attachment'].pk}/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == FILE_SECRET


def test_audit_events_keep_no_encrypted_value(data):
    from tradecrm.audit.models import AuditEvent

    e = AuditEvent.objects.filter(action="company.update", object_id=data["company"].pk).get()
    assert e.changes["notes"] == ["[encrypted]", "[encrypted]"]
    assert COMPANY_NOTE not in str(list(AuditEvent.objects.values_list("changes", flat=True)))
