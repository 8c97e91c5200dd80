"""Free-text search over a model's `search_text` column.

SQLite: an FTS5 external-content table with the trigram tokenizer (`<table>_fts`), kept in sync by
triggers. PostgreSQL: a pg_trgm GIN index on `search_text`.

A trigram index cannot serve a query of 1–2 characters, and Chinese users type those (华强, 深圳).
So the search document also carries every CJK character and character pair of the text once as
a bracketed token (`⁅华⁆ ⁅华强⁆`), and a 1–2-character CJK query looks for its token, which is
three characters or more: the trigram index serves it on both databases (pg_trgm treats the
brackets as word boundaries, so `⁅华强⁆` is the padded word "华强" and matches exactly).
Other terms of 1–2 characters are matched with a plain LIKE.

Which plan is fast depends on how many rows a term hits (measured at 1M companies, bench/search.py):
few hits are best fetched by id and sorted; many hits are best found by walking the sort order
and testing each row against the hit set, which stops after a page. On SQLite `apply_search`
asks the FTS index for at most SEARCH_ID_CAP ids first and picks the plan from the answer; on
PostgreSQL the planner's own choice was as good.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

_PHONEISH = re.compile(r"^[+\d][\d\s().\-]{2,}$")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
GRAM_OPEN, GRAM_CLOSE = "\u2045", "\u2046"  # ⁅ ⁆: never typed, not word characters for pg_trgm
SEARCH_ID_CAP = 5000  # SQLite: up to this many hits, fetch them by id; more: walk the sort order
FTS_WHOLE_CHARS = 12  # longer terms are looked up by their first and last 8 characters (each trigram
FTS_END_CHARS = 8  # of a phrase costs a doclist read: a whole e-mail address costs 10x its two ends)


def normalize_text(*parts) -> str:
    """Lower-cased, NFKC-normalized, single-spaced text for the search column."""
    text = " ".join(str(p) for p in parts if p)
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def cjk_gram_tokens(text: str) -> str:
    """Each distinct CJK character and adjacent pair of `text` as a bracketed token."""
    grams: dict[str, None] = {}
    for run in _CJK_RUN.findall(text):
        for i in range(len(run)):
            grams[run[i]] = None
            if i + 1 < len(run):
                grams[run[i : i + 2]] = None
    return " ".join(f"{GRAM_OPEN}{g}{GRAM_CLOSE}" for g in grams)


def search_document(*parts) -> str:
    """The `search_text` of a row: the normalized text, then its CJK gram tokens."""
    text = normalize_text(*parts)
    grams = cjk_gram_tokens(text)
    return f"{text} {grams}" if grams else text


def strip_gram_tokens(text: str) -> str:
    i = text.find(" " + GRAM_OPEN)
    return text if i < 0 else text[:i]


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
    terms = []
    for t in q.split(" "):
        if len(t) < 3 and _CJK_RUN.fullmatch(t):
            t = f"{GRAM_OPEN}{t}{GRAM_CLOSE}"
        if t and t not in terms:
            terms.append(t)
    return terms


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def apply_search(qs: QuerySet, q: str) -> QuerySet:
    terms = query_terms(q)
    if not terms:
        return qs
    table = qs.model._meta.db_table
    long_terms = [t for t in terms if len(t) >= 3]
    if long_terms and connection.vendor == "sqlite":
        match = " AND ".join(_fts_phrases(t) for t in long_terms)
        fts = f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH %s"
        with connection.cursor() as cur:
            cur.execute(f"{fts} LIMIT {SEARCH_ID_CAP + 1}", [match])
            ids = [r[0] for r in cur.fetchall()]
        if len(ids) <= SEARCH_ID_CAP:
            qs = qs.filter(id__in=ids)  # few hits: fetch them by id, sort them
        else:
            # many hits: walk the sort order and keep rows in the hit set ("+" stops SQLite from
            # driving the join by id, which would fetch and sort every hit)
            qs = qs.filter(RawSQL(f"+{table}.id IN ({fts})", [match], output_field=BooleanField()))
        # long terms were looked up by their two ends; LIKE checks them whole
        terms = [t for t in terms if len(t) < 3 or len(t) > FTS_WHOLE_CHARS]
    # PostgreSQL: LIKE, which pg_trgm's index serves; its planner picks between the index and
    # walking the sort order well by itself (a probe like SQLite's costs more than it saves there)
    for t in terms:
        qs = qs.filter(search_text__contains=t)
    return qs


def _fts_phrases(term: str) -> str:
    if len(term) > FTS_WHOLE_CHARS:
        return f"{_fts_quote(term[:FTS_END_CHARS])} AND {_fts_quote(term[-FTS_END_CHARS:])}"
    return _fts_quote(term)


def _fts_quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


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
