"""Free-text search over a model's `search_text` column.

SQLite: an FTS5 external-content table with the trigram tokenizer (`<table>_fts`), kept in sync by
triggers. PostgreSQL: a pg_trgm GIN index on `search_text`. Terms of fewer than 3 characters (1–2
CJK characters, say) cannot use a trigram index and are matched with a plain LIKE.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

_PHONEISH = re.compile(r"^[+\d][\d\s().\-]{2,}$")


def normalize_text(*parts) -> str:
    """Lower-cased, NFKC-normalized, single-spaced text for the search column."""
    text = " ".join(str(p) for p in parts if p)
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def phone_search_tokens(e164: str) -> str:
    """The digits of a number, so that '+49 30 1234567' and '030 1234567' both find it."""
    return "".join(ch for ch in e164 if ch.isdigit())


def query_terms(q: str) -> list[str]:
    q = normalize_text(q)
    if not q:
        return []
    if _PHONEISH.match(q):
        digits = "".join(ch for ch in q if ch.isdigit()).lstrip("0")
        if len(digits) >= 3:
            return [digits]
    return [t for t in q.split(" ") if t]


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def apply_search(qs: QuerySet, q: str) -> QuerySet:
    terms = query_terms(q)
    if not terms:
        return qs
    table = qs.model._meta.db_table
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]
    if long_terms and connection.vendor == "sqlite":
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
        qs = qs.filter(id__in=RawSQL(f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH %s", [match]))
    else:
        for t in long_terms:
            qs = qs.filter(search_text__contains=t)
    for t in short_terms:
        qs = qs.filter(search_text__contains=t)
    return qs


def fts_install_sql(table: str, vendor: str) -> list[str]:
    """DDL creating the search index for `table`.search_text (used by migrations)."""
    if vendor == "sqlite":
        fts = f"{table}_fts"
        return [
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(search_text, content='{table}', "
            f"content_rowid='id', tokenize='trigram')",
            f"CREATE TRIGGER IF NOT EXISTS {table}_fts_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_fts_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_fts_au AFTER UPDATE OF search_text ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
            f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
            f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
        ]
    if vendor == "postgresql":
        return [
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            f"CREATE INDEX IF NOT EXISTS {table}_search_trgm ON {table} USING gin (search_text gin_trgm_ops)",
        ]
    return []


def fts_drop_sql(table: str, vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_fts_{s}" for s in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {table}_fts"]
    if vendor == "postgresql":
        return [f"DROP INDEX IF EXISTS {table}_search_trgm"]
    return []
