"""Reads of the duplicate check: candidates while typing, the entry-point policy, pairs and groups.

`check_company` must answer in ≤ 30 ms (p95) against 1M companies. It asks two indexes, each with
a small LIMIT, and scores the few rows they return:
  * dedup_companykey for the exact keys of what was typed (name + country, domain, phone, tax id);
  * the search index (`search_text`: FTS5 trigram on SQLite, pg_trgm on PostgreSQL) for the name's
    distinctive words, in the script they were typed in and as pinyin when typed in Chinese —
    this finds records whose name differs by legal form, word order, a place or a typo elsewhere.
Candidates the user may not see are still reported (that is the point: "already in the archive,
owned by …"), marked "visible": False and without their contact data.
"""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.http import Http404

from tradecrm.accounts.access import can_reveal, company_visibility_q, scope_companies
from tradecrm.core.search import GRAM_CLOSE, GRAM_OPEN
from tradecrm.customers.masking import mask_rows
from tradecrm.customers.models import Company, Contact

from .keys import company_keys, contact_keys
from .models import DuplicateGroup, DuplicateGroupMember, DuplicatePair, PairStatus
from .normalize import (
    _LEGAL_ANYWHERE,
    _LEGAL_END,
    _STOP,
    GENERIC_WORDS,
    PLACE_WORDS,
    _fold,
    latin_name,
    normalize_company_name,
)
from .scoring import (
    company_profile,
    contact_profile,
    reason_texts,
    score_contact_profiles_raw,
    score_profiles_raw,
)
from .sweep import ENTITIES, default_threshold, group_reasons

KEY_HITS = 50  # rows per key lookup: a key shared by more says little (and the sweep skips it too)
TEXT_HITS = 60  # rows from the search index
SHOW_RECORDS = 20  # records shown per group; a bigger group is a name or key shared too widely to merge
SHOW_FROM = 0.7  # candidates from this score on are shown while typing ("possible" below the threshold)
_WORD = re.compile(r"[\w\u3400-\u9fff]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
POLICIES = ("block", "warn", "allow")


def threshold() -> float:
    return float(getattr(settings, "TRADECRM_DEDUP_THRESHOLD", 0.85))


def policy_for(entry: str) -> str:
    """The duplicate policy of an entry point ("form", "api", "import"): block, warn or allow
    (TRADECRM_DEDUP_POLICY; "merge" is the importer's own word for matching records)."""
    policy = dict(getattr(settings, "TRADECRM_DEDUP_POLICY", {}) or {}).get(entry, "warn")
    return policy if policy in POLICIES or entry == "import" else "warn"


# ---------------------------------------------------------------------------------------------
# candidates while typing

COMPANY_FIELDS = (
    "id",
    "name",
    "name_local",
    "country",
    "city",
    "email",
    "email_domains",
    "website",
    "phones",
    "tax_id",
    "owner_id",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
    "team__name",
    "status",
)


def _key_candidates(table: str, column: str, keys: list[int]) -> list[int]:
    if not keys:
        return []
    ids: list[int] = []
    with connection.cursor() as cur:
        for key in keys:  # one indexed range each, with its own LIMIT (an IN list has none per key)
            cur.execute(f"SELECT {column} FROM {table} WHERE key = %s LIMIT {KEY_HITS}", [key])
            ids += [r[0] for r in cur.fetchall()]
    return ids


def _distinctive_words(name: str) -> list[str]:
    """The words of a typed name worth looking up, as the search index holds them (NFKC, lower,
    accents kept): no legal forms, places or generic words; longest first."""
    text = unicodedata.normalize("NFKC", name).lower()
    words = []
    for w in _WORD.findall(text):
        if _CJK.fullmatch(w):
            continue
        folded = latin_name(_fold(w))
        if len(w) < 3 or folded in GENERIC_WORDS or folded in PLACE_WORDS:
            continue
        if w in _LEGAL_ANYWHERE or w in _LEGAL_END or w in _STOP:
            continue
        words.append(w)
    return sorted(dict.fromkeys(words), key=len, reverse=True)[:3]


def _cjk_terms(name: str) -> list[str]:
    """The Chinese core of a name (宁波恒达贸易有限公司 → 恒达) for the search index: 3+ characters
    as they are, 2 as the bracketed pair token the index keeps for short CJK queries."""
    norm = normalize_company_name(name)
    from .normalize import _CJK_WORDS_RE

    core = [r for r in _CJK.findall(_CJK_WORDS_RE.sub(" ", norm)) if len(r) >= 2]
    terms = []
    for run in sorted(core, key=len, reverse=True)[:2]:
        terms.append(run if len(run) >= 3 else f"{GRAM_OPEN}{run}{GRAM_CLOSE}")
    return terms


def _fts_quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _text_candidates(table: str, terms: list[str], limit: int = TEXT_HITS) -> list[int]:
    """Ids whose search text holds every term (falling back to the longest term alone)."""
    if not terms:
        return []
    attempts = [terms] if len(terms) == 1 else [terms, terms[:1]]
    for group in attempts:
        with connection.cursor() as cur:
            if connection.vendor == "sqlite":
                match = " AND ".join(_fts_quote(t) for t in group)
                cur.execute(
                    f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH %s LIMIT {limit}", [match]
                )
            else:
                where = " AND ".join(["search_text LIKE %s"] * len(group))
                like = [
                    "%" + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for t in group
                ]
                cur.execute(f"SELECT id FROM {table} WHERE {where} LIMIT {limit}", like)
            ids = [r[0] for r in cur.fetchall()]
        if ids:
            return ids
    return []


def _owner_name(row: dict) -> str | None:
    if not row.get("owner_id"):
        return None
    full = f"{row.get('owner__first_name') or ''} {row.get('owner__last_name') or ''}".strip()
    return full or row.get("owner__username") or None


def company_candidate_ids(values: dict) -> list[int]:
    """Ids worth scoring against `values` (exact keys first, then the search index)."""
    ids = _key_candidates("dedup_companykey", "company_id", [k for _kind, k in company_keys(values)])
    name = values.get("name") or ""
    local = values.get("name_local") or ""
    for raw in (name, local):
        if not raw:
            continue
        ids += _text_candidates("customers_company", _distinctive_words(raw))
        cjk = _cjk_terms(raw)
        if cjk:
            ids += _text_candidates("customers_company", cjk)
            # the pinyin of a Chinese name finds the records kept under their Latin name
            pinyin = [w for w in latin_name(normalize_company_name(raw)).split() if len(w) >= 4]
            pinyin = [w for w in pinyin if w not in GENERIC_WORDS and w not in PLACE_WORDS]
            ids += _text_candidates("customers_company", pinyin[:1])
    return list(dict.fromkeys(ids))


def check_company(user, values: dict, *, exclude_id: int | None = None, limit: int = 5) -> list[dict]:
    """Existing companies like `values` (what is being typed), best first: {"id", "name", "score",
    "reasons", "likely" (score ≥ the threshold), "owner" (name or None), "team", "pool"
    ("owned"|"public"), "visible"}. Candidates scoring below SHOW_FROM are left out."""
    values = {k: v for k, v in values.items() if v not in (None, "", [])}
    if not (values.get("name") or values.get("name_local") or values.get("email") or values.get("website")
            or values.get("phones") or values.get("tax_id")):  # fmt: skip
        return []
    ids = [i for i in company_candidate_ids(values) if i != exclude_id]
    if not ids:
        return []
    rows = list(Company.objects.filter(id__in=ids).values(*COMPANY_FIELDS))
    visible_q = company_visibility_q(user)
    visible = (
        {r["id"] for r in rows}
        if visible_q is None
        else set(
            Company.objects.filter(visible_q, id__in=[r["id"] for r in rows]).values_list("id", flat=True)
        )
    )
    typed = company_profile(values)
    masked = not can_reveal(user)
    out = []
    cut = threshold()
    for row in rows:
        score, reasons = score_profiles_raw(typed, company_profile(row))
        if score < SHOW_FROM:
            continue
        out.append(
            {
                "id": row["id"],
                "name": row["name"] or row["name_local"],
                "name_local": row["name_local"],
                "country": row["country"],
                "city": row["city"],
                "score": score,
                "likely": score >= cut,
                "reasons": reason_texts(reasons, masked=masked),
                "owner": _owner_name(row),
                "team": row["team__name"],
                "pool": "owned" if row["owner_id"] else "public",
                "visible": row["id"] in visible,
            }
        )
    out.sort(key=lambda c: (-c["score"], c["id"]))
    return _with_pool_names(out[:limit], "id")


def _with_pool_names(found: list[dict], company_key: str) -> list[dict]:
    """The name of the pool each unowned candidate is in ("in pool X" at duplicate-check time)."""
    from tradecrm.pool.selectors import pool_names

    names = pool_names([c[company_key] for c in found if c["pool"] == "public"])
    for c in found:
        c["pool_name"] = names.get(c[company_key])
    return found


CONTACT_FIELDS = (
    "id",
    "company_id",
    "first_name",
    "last_name",
    "name_local",
    "emails",
    "phones",
    "whatsapp",
    "company__name",
    "company__owner_id",
    "company__owner__first_name",
    "company__owner__last_name",
    "company__owner__username",
    "company__team__name",
)


def check_contact(user, values: dict, *, exclude_id: int | None = None, limit: int = 5) -> list[dict]:
    """Existing contacts like `values`: the same email or phone anywhere, or a similar name in the
    same company (`values["company_id"]`). Same keys as `check_company`, plus "company" and
    "company_id"."""
    values = {k: v for k, v in values.items() if v not in (None, "", [])}
    ids = _key_candidates("dedup_contactkey", "contact_id", [k for _kind, k in contact_keys(values)])
    if values.get("company_id"):
        ids += list(
            Contact.objects.filter(company_id=values["company_id"]).values_list("id", flat=True)[:200]
        )
    ids = [i for i in dict.fromkeys(ids) if i != exclude_id]
    if not ids:
        return []
    rows = list(Contact.objects.filter(id__in=ids).values(*CONTACT_FIELDS))
    visible_q = company_visibility_q(user, "company__")
    visible = (
        {r["id"] for r in rows}
        if visible_q is None
        else set(
            Contact.objects.filter(visible_q, id__in=[r["id"] for r in rows]).values_list("id", flat=True)
        )
    )
    typed = contact_profile(values)
    masked = not can_reveal(user)
    cut = threshold()
    out = []
    for row in rows:
        score, reasons = score_contact_profiles_raw(typed, contact_profile(row))
        if score < SHOW_FROM:
            continue
        owner = {
            "owner_id": row["company__owner_id"],
            "owner__first_name": row["company__owner__first_name"],
            "owner__last_name": row["company__owner__last_name"],
            "owner__username": row["company__owner__username"],
        }
        out.append(
            {
                "id": row["id"],
                "name": f"{row['first_name']} {row['last_name']}".strip() or row["name_local"],
                "company_id": row["company_id"],
                "company": row["company__name"],
                "score": score,
                "likely": score >= cut,
                "reasons": reason_texts(reasons, masked=masked),
                "owner": _owner_name(owner),
                "team": row["company__team__name"],
                "pool": "owned" if row["company__owner_id"] else "public",
                "visible": row["id"] in visible,
            }
        )
    out.sort(key=lambda c: (-c["score"], c["id"]))
    return _with_pool_names(out[:limit], "company_id")


def likely_duplicates(candidates: list[dict]) -> list[dict]:
    return [c for c in candidates if c["likely"]]


# ---------------------------------------------------------------------------------------------
# pairs and groups from the sweep


def visible_company_ids(user, ids) -> set[int]:
    return set(scope_companies(Company.objects.filter(id__in=list(ids)), user).values_list("id", flat=True))


def visible_contact_ids(user, ids) -> set[int]:
    qs = Contact.objects.filter(id__in=list(ids))
    q = company_visibility_q(user, "company__")
    return set((qs if q is None else qs.filter(q)).values_list("id", flat=True))


def duplicate_groups_for_user(
    user, entity: str = "companies", *, threshold: float | None = None, limit: int = 25, offset: int = 0
) -> tuple[list[dict], int]:
    """(a page of stored groups, total) whose every record the user can see (a group with a
    record they cannot see is not theirs to review), best score first, with the records' rows and
    the best pair's reasons. Records deleted since the sweep are left out."""
    kind = ENTITIES[entity]
    cut = threshold if threshold is not None else default_threshold()
    qs = DuplicateGroup.objects.filter(entity=kind, score__gte=cut).order_by("-score", "id")
    model = Company if entity == "companies" else Contact
    q = company_visibility_q(user) if entity == "companies" else company_visibility_q(user, "company__")
    if q is None:
        total = qs.count()
        groups = list(qs.values("id", "ids", "score")[offset : offset + limit])
        shown = {i for g in groups for i in g["ids"][:SHOW_RECORDS]}
    else:
        # in SQL, without id lists: the groups touching a record the user sees, no bigger than
        # what they see, with no member they do not see
        visible = model.objects.filter(q).values("id")
        touching = DuplicateGroupMember.objects.filter(entity=kind, record_id__in=visible).values("group_id")
        candidates = qs.filter(id__in=touching, size__lte=visible.count())
        hidden = (
            DuplicateGroupMember.objects.filter(group_id__in=candidates.values("id"))
            .exclude(record_id__in=visible)
            .values("group_id")
        )
        # one pass over the (costly) visible set: the ordered ids, then the page's groups
        ordered = list(candidates.exclude(id__in=hidden).values_list("id", flat=True))
        total = len(ordered)
        page = ordered[offset : offset + limit]
        by_id = {g["id"]: g for g in DuplicateGroup.objects.filter(id__in=page).values("id", "ids", "score")}
        groups = [by_id[i] for i in page if i in by_id]
        shown = {i for g in groups for i in g["ids"][:SHOW_RECORDS]}
    if entity == "companies":
        fields = ("id", "name", "name_local", "country", "city", "website", "email", "owner__username",
                  "owner__first_name", "owner__last_name", "owner_id", "team__name", "updated_at")  # fmt: skip
    else:
        fields = (
            "id",
            "first_name",
            "last_name",
            "name_local",
            "email",
            "company_id",
            "company__name",
            "updated_at",
        )
    rows = {r["id"]: r for r in model.objects.filter(id__in=shown).values(*fields)}
    masked = not can_reveal(user)
    if masked:  # the compare page and the API show contact data as the role may see it
        mask_rows(rows.values(), ("email",))
    out = []
    for g in groups:
        ids = [i for i in g["ids"][:SHOW_RECORDS] if i in rows]
        if len(ids) < 2:
            continue
        out.append(
            {
                "group_id": g["id"],
                "ids": ids,
                "size": len(g["ids"]),
                "score": g["score"],
                "reasons": group_reasons(kind, ids, masked=masked),
                "records": [rows[i] for i in ids],
            }
        )
    return out, total


def pair_get_for_user(user, pair_id: int) -> DuplicatePair:
    """A pair the user may decide on: both records visible to them; else 404."""
    pair = DuplicatePair.objects.filter(pk=pair_id).first()
    if pair is None:
        raise Http404
    ids = {pair.a_id, pair.b_id}
    seen = visible_company_ids(user, ids) if pair.entity == "company" else visible_contact_ids(user, ids)
    if seen != ids:
        raise Http404
    return pair


def open_pairs_of(entity: str, ids: list[int]):
    kind = ENTITIES.get(entity, entity)
    return DuplicatePair.objects.filter(entity=kind, status=PairStatus.OPEN).filter(
        Q(a_id__in=ids) | Q(b_id__in=ids)
    )
