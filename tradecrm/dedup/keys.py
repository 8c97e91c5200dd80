"""Match keys of companies and contacts, stored as signed 64-bit hashes in dedup_companykey /
dedup_contactkey.

The importer writes a company's keys for every row it creates, and on SQLite each key is a
random insert into the key index (measured: ~10 µs per key at 1M companies with 5,000-row chunks),
so a company has only the keys that identify it exactly — typically 3:
  NAME    normalised name + country (and the same for the local-language name)
  DOMAIN  registrable domain of the email address(es) and the website (one kind: the website of
          one record meets the email domain of another); free mail and shared hosts excluded
  PHONE   E.164 number
  TAX_ID  country + compact tax/VAT number
  EMAIL   a company's free-mail address (hengda_trade@163.com), then its only address key
Fuzzy candidates (typos, word order, 宁波恒达 vs "Ningbo Heng Da") are not stored as keys: the check
while typing finds them through the search index (`search_text`), the sweep by sorting on the
name's distinctive core (`normalize.name_core`) — see selectors.py and sweep.py.
A hash collision only adds a candidate, which the score then rejects.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence

from django.db import connection

from tradecrm.core.crypto import blind_index, decrypt_value

from .models import KeyKind
from .normalize import (
    domain_key,
    email_domain_key,
    normalize_company_name,
    normalize_tax_id,
    website_host,
)

NAME = int(KeyKind.NAME)
DOMAIN = int(KeyKind.DOMAIN)
PHONE = int(KeyKind.PHONE)
TAX_ID = int(KeyKind.TAX_ID)
EMAIL = int(KeyKind.EMAIL)
# Kept for callers that filter blocking keys out of match keys; no key of this kind is written
# any more (a blocking key per company cost a fifth of the importer's key writes).
TOKEN = int(KeyKind.TOKEN)

# SQLite allows 32766 bound variables; PostgreSQL more. Keep IN lists well below either.
_BATCH = 500


_blake2b = hashlib.blake2b
_unpack = struct.Struct(">q").unpack


TAX_KEY_LABEL = "dedup.tax_id_key"


def key_hash(kind: int, text: str) -> int:
    """Signed 64-bit hash of "kind:text" (blake2b: stable across processes, platforms and versions;
    a real hash because the importer treats equal match keys as the same company).

    Tax ids are encrypted at rest, and a plain hash of one would give it away (a VAT number has
    few enough digits to try them all): their key is keyed — the blind-index HMAC of
    core/crypto.py, whose key lives outside the database and survives key rotation."""
    if kind == TAX_ID:
        return _unpack(bytes.fromhex(blind_index(f"{kind}:{text}", TAX_KEY_LABEL)[:16]))[0]
    return _unpack(_blake2b(f"{kind}:{text}".encode(), digest_size=8).digest())[0]


def _as_list(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
    return [str(v).strip() for v in value if v and str(v).strip()]


def _phone_key(raw: str, country: str) -> str:
    """E.164 digits. Values from the archive are E.164 already (fast path); others are parsed."""
    raw = raw.strip()
    if not raw:
        return ""
    if raw[0] == "+" and raw[1:].isdigit():
        return raw
    from django.core.exceptions import ValidationError

    from tradecrm.core.phones import normalize_phone

    try:
        return normalize_phone(raw, country)
    except ValidationError:
        return ""


def _company_key_texts(values: dict) -> list[tuple[int, str]]:
    country = (values.get("country") or "").upper()
    out: list[tuple[int, str]] = []
    for field in ("name", "name_local"):
        raw = values.get(field) or ""
        if not raw:
            continue
        norm = normalize_company_name(raw)
        if not norm:
            continue
        out.append((NAME, f"{norm}|{country}"))
    email = (values.get("email") or "").strip().lower()
    domains: list[str] = []
    if "@" in email:
        # the domain part is cached; the full address is not worth caching
        d = email_domain_key(email.rsplit("@", 1)[1])
        if d:
            domains.append(d)
        else:
            out.append((EMAIL, email))  # free mail: the address itself identifies the company
    for d in _as_list(values.get("email_domains")):
        d = email_domain_key(d.lower())
        if d and d not in domains:
            domains.append(d)
    website = values.get("website") or ""
    if website:
        d = domain_key(website_host(website))
        if d and d not in domains:
            domains.append(d)
    out += [(DOMAIN, d) for d in domains]
    for p in _as_list(values.get("phones")):
        e164 = _phone_key(p, country)
        if e164:
            out.append((PHONE, e164))
    tax = values.get("tax_id") or ""
    if tax:
        compact, _valid = normalize_tax_id(tax, country)
        if len(compact) >= 5:
            out.append((TAX_ID, f"{country}:{compact}"))
    return out


def _hashed(texts: Iterable[tuple[int, str]]) -> list[tuple[int, int]]:
    seen: set[tuple[int, str]] = set()
    out: list[tuple[int, int]] = []
    for kt in texts:
        if kt in seen:
            continue
        seen.add(kt)
        out.append((kt[0], key_hash(kt[0], kt[1])))
    return out


def company_key_texts(values: dict) -> list[tuple[int, str]]:
    """(kind, text) before hashing — for explanations and tests."""
    return list(dict.fromkeys(_company_key_texts(values)))


def company_keys(values: dict) -> list[tuple[int, int]]:
    """(kind, key) for every key of a company given its field values (name, name_local, country,
    email, email_domains, website, phones, tax_id); missing fields are fine. These are the rows
    of dedup_companykey."""
    return _hashed(_company_key_texts(values))


def company_match_keys(values: dict) -> list[tuple[int, int]]:
    """The strong keys that identify a company exactly: normalised name + country, company email
    domain / website, free-mail address, E.164 phone, tax id. The importer treats a hit on any of
    them as the same company. (Today every stored key is a strong one, so this equals
    `company_keys`; call this one for matching so that a future blocking-only key stays out.)"""
    return _hashed(_company_key_texts(values))


def contact_key_texts(values: dict) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    emails = _as_list(values.get("emails"))
    if values.get("email"):
        emails.insert(0, values["email"])
    for e in emails:
        e = e.strip().lower()
        if "@" in e:
            out.append((EMAIL, e))
    country = (values.get("country") or "").upper()
    for p in [*_as_list(values.get("phones")), values.get("whatsapp") or ""]:
        e164 = _phone_key(p, country) if p else ""
        if e164:
            out.append((PHONE, e164))
    return list(dict.fromkeys(out))


def contact_keys(values: dict) -> list[tuple[int, int]]:
    """(kind, key) of a contact: each email address and each E.164 phone (and WhatsApp). A name is
    no key: it is a duplicate only within one company, and the check compares the names of that
    company's few contacts directly."""
    return _hashed(contact_key_texts(values))


def company_key_rows(company_id: int, values: dict) -> list[tuple[int, int, int]]:
    """(company_id, kind, key) rows for a bulk writer (the importer's hot path)."""
    return [(company_id, kind, key) for kind, key in company_keys(values)]


COMPANY_KEY_INSERT = "INSERT INTO dedup_companykey (company_id, kind, key) VALUES (%s, %s, %s)"
CONTACT_KEY_INSERT = "INSERT INTO dedup_contactkey (contact_id, kind, key) VALUES (%s, %s, %s)"


def insert_company_keys(rows: Sequence[tuple[int, int, int]], cursor=None) -> None:
    """Write (company_id, kind, key) rows with one executemany (inside the caller's transaction)."""
    if not rows:
        return
    if cursor is None:
        with connection.cursor() as cur:
            cur.executemany(COMPANY_KEY_INSERT, rows)
    else:
        cursor.executemany(COMPANY_KEY_INSERT, rows)


TAX_ID_LABEL = "customers.company.tax_id"  # Company.tax_id is encrypted (core/crypto.py)
COMPANY_KEY_FIELDS = (
    "id",
    "name",
    "name_local",
    "country",
    "email",
    "email_domains",
    "website",
    "phones",
    "tax_id",
)
CONTACT_KEY_FIELDS = (
    "id",
    "company_id",
    "first_name",
    "last_name",
    "name_local",
    "emails",
    "phones",
    "whatsapp",
)


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    batch: list[int] = []
    for i in ids:
        batch.append(int(i))
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def refresh_company_keys(company_ids: Iterable[int]) -> None:
    """Rewrite the key rows of these companies from their current values (deleted companies lose
    theirs). Call it inside the writer's transaction."""
    from tradecrm.customers.models import Company, tax_id_hash

    for batch in _chunks(dict.fromkeys(company_ids)):
        rows: list[tuple[int, int, int]] = []
        hashes: list[tuple[str, int]] = []
        for values in Company.objects.filter(id__in=batch).values(*COMPANY_KEY_FIELDS, "tax_id_hash"):
            rows += company_key_rows(values["id"], values)
            # the tax id's blind index (customers.models) follows the tax id, whoever wrote it
            if (h := tax_id_hash(values["tax_id"])) != values["tax_id_hash"]:
                hashes.append((h, values["id"]))
        placeholders = ",".join(["%s"] * len(batch))
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM dedup_companykey WHERE company_id IN ({placeholders})", batch)
            if rows:
                cur.executemany(COMPANY_KEY_INSERT, rows)
            if hashes:
                cur.executemany("UPDATE customers_company SET tax_id_hash = %s WHERE id = %s", hashes)


def refresh_contact_keys(contact_ids: Iterable[int]) -> None:
    """Rewrite the key rows of these contacts (deleted contacts lose theirs)."""
    from tradecrm.customers.models import Contact

    for batch in _chunks(dict.fromkeys(contact_ids)):
        rows: list[tuple[int, int, int]] = []
        for values in Contact.objects.filter(id__in=batch).values(*CONTACT_KEY_FIELDS):
            rows += [(values["id"], kind, key) for kind, key in contact_keys(values)]
        placeholders = ",".join(["%s"] * len(batch))
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM dedup_contactkey WHERE contact_id IN ({placeholders})", batch)
            if rows:
                cur.executemany(CONTACT_KEY_INSERT, rows)


def rebuild_keys(entity: str = "companies", *, progress=None, batch: int = 20000) -> int:
    """Recompute every key row of every company (or contact): after an upgrade, a restore, or a
    change of the normalisation rules. The key indexes are dropped during the load and built again
    at the end (one sort instead of millions of random inserts). Returns the number of key rows."""
    import json

    from django.db import transaction

    from .models import CompanyKey, ContactKey

    if entity == "companies":
        model, fields, table, sql, compute = (
            CompanyKey,
            COMPANY_KEY_FIELDS,
            "customers_company",
            COMPANY_KEY_INSERT,
            company_keys,
        )
    else:
        model, fields, table, sql, compute = (
            ContactKey,
            CONTACT_KEY_FIELDS,
            "customers_contact",
            CONTACT_KEY_INSERT,
            contact_keys,
        )
    key_table = model._meta.db_table
    indexes = [(idx.name, idx.fields) for idx in model._meta.indexes]
    total = done = 0
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {key_table}")
            for name, _fields in indexes:
                cur.execute(f"DROP INDEX IF EXISTS {name}")
        read = connection.cursor() if connection.vendor == "sqlite" else connection.chunked_cursor()
        try:
            read.execute(f"SELECT {', '.join(fields)} FROM {table} ORDER BY id")
            with connection.cursor() as cur:
                while rows := read.fetchmany(batch):
                    out = []
                    for row in rows:
                        values = dict(zip(fields, row, strict=True))
                        if values.get("tax_id"):  # encrypted at rest; this reads the raw column
                            values["tax_id"] = decrypt_value(values["tax_id"], TAX_ID_LABEL)
                        for f in ("email_domains", "phones", "emails"):
                            if isinstance(values.get(f), str):
                                values[f] = json.loads(values[f] or "[]")
                        out += [(values["id"], kind, key) for kind, key in compute(values)]
                    cur.executemany(sql, out)
                    total += len(out)
                    done += len(rows)
                    if progress:
                        progress(done)
        finally:
            read.close()
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                # the key rows' foreign keys are checked at commit; PostgreSQL will not build an
                # index on a table with such checks pending, so run them now
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name, idx_fields in indexes:
                cols = ", ".join(f"{f}_id" if f in ("company", "contact") else f for f in idx_fields)
                cur.execute(f"CREATE INDEX {name} ON {key_table} ({cols})")
            if connection.vendor == "sqlite":
                cur.execute(f"ANALYZE {key_table}")
    return total
