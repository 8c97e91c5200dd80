"""Tax ids are encrypted at rest (customers 0009); their duplicate-check keys were a plain hash of
the number, and the sweep's stored reasons held the number itself. The tax-id keys are rewritten
with the keyed blind index (dedup/keys.py `key_hash`), and the stored reasons lose the number."""

from django.db import migrations


def rekey_tax_ids(apps, schema_editor):
    import json

    from tradecrm.core.crypto import decrypt_value
    from tradecrm.dedup.keys import COMPANY_KEY_INSERT, TAX_ID, TAX_ID_LABEL, key_hash
    from tradecrm.dedup.normalize import normalize_tax_id

    conn = schema_editor.connection
    with conn.cursor() as cur:
        cur.execute("DELETE FROM dedup_companykey WHERE kind = %s", [TAX_ID])
        cur.execute("SELECT id, country, tax_id FROM customers_company WHERE tax_id <> '' ORDER BY id")
        rows = []
        for cid, country, raw in cur.fetchall():
            country = (country or "").upper()
            compact, _valid = normalize_tax_id(decrypt_value(raw, TAX_ID_LABEL), country)
            if len(compact) >= 5:
                rows.append((cid, TAX_ID, key_hash(TAX_ID, f"{country}:{compact}")))
        if rows:
            cur.executemany(COMPANY_KEY_INSERT, rows)
        # reasons: {"code": "tax", "value": "DE123…"} → {"code": "tax"}
        text = "CAST(reasons AS TEXT)" if conn.vendor == "postgresql" else "reasons"
        cur.execute(f"SELECT id, reasons FROM dedup_duplicatepair WHERE {text} LIKE %s", ['%"tax"%'])
        fixes = []
        for pid, reasons in cur.fetchall():
            reasons = json.loads(reasons) if isinstance(reasons, str) else reasons
            clean = [
                {"code": "tax"} if isinstance(r, dict) and r.get("code") == "tax" else r for r in reasons
            ]
            if clean != reasons:
                fixes.append((json.dumps(clean), pid))
        if fixes:
            value = "%s::jsonb" if conn.vendor == "postgresql" else "%s"
            cur.executemany(f"UPDATE dedup_duplicatepair SET reasons = {value} WHERE id = %s", fixes)


class Migration(migrations.Migration):
    dependencies = [
        ("dedup", "0002_duplicate_groups"),
        ("customers", "0009_encrypt_tax_id_notes"),
    ]

    operations = [migrations.RunPython(rekey_tax_ids, migrations.RunPython.noop, elidable=True)]
