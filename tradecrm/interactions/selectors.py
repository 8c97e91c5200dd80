"""Reads of the timeline, always scoped to the user: an interaction is visible iff its company is.

A timeline page costs two queries whatever its length: the page itself (with the contact and the
owner joined in) and one UNION ALL fetching the attachments, other contacts and colleagues of
all its entries (`attach_related`).
"""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404

from tradecrm.accounts.access import company_visibility_q, scope_companies, visible_team_ids
from tradecrm.accounts.models import User
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import BadCursor, Sort, decode_cursor, encode_cursor, keyset_page
from tradecrm.core.search import FTS_WHOLE_CHARS, _fts_phrases, _like_escape, apply_search, query_terms
from tradecrm.customers.models import Company, Contact

from .models import Attachment, Interaction, InteractionRevision

TIMELINE_SORT = Sort("occurred_at", True, "datetime")
TIMELINE_FIELDS = (
    "id", "company_id", "type", "direction", "occurred_at", "duration_minutes", "subject", "body", "source",
    "version", "created_at", "updated_at",
    "contact_id", "contact__first_name", "contact__last_name", "contact__name_local",
    "owner_id", "owner__username", "owner__first_name", "owner__last_name",
)  # fmt: skip
SEARCH_FIELDS = (*TIMELINE_FIELDS, "company__name", "company__timezone", "company__owner_id")
MAX_LIMIT = 200


def interactions_for_user(user) -> QuerySet:
    q = company_visibility_q(user, prefix="company__")
    qs = Interaction.objects.all()
    return qs if q is None else qs.filter(q)


def interaction_get_for_user(user, interaction_id) -> Interaction:
    interaction_id = parse_id(interaction_id)
    if interaction_id is None:
        raise Http404
    qs = interactions_for_user(user).select_related("company", "contact", "owner", "updated_by")
    try:
        return qs.get(pk=interaction_id)
    except Interaction.DoesNotExist:
        raise Http404 from None


def timeline_company_for_user(user, company_id) -> Company:
    """The company whose timeline is shown, with only what the timeline needs (name, time zone,
    owner): the same visibility check and 404 as customers' company_get_for_user, a lighter row."""
    company_id = parse_id(company_id)
    if company_id is None:
        raise Http404
    qs = scope_companies(Company.objects.only("id", "name", "timezone", "owner_id"), user)
    try:
        return qs.get(pk=company_id)
    except Company.DoesNotExist:
        raise Http404 from None


def attachment_get_for_user(user, attachment_id) -> Attachment:
    attachment_id = parse_id(attachment_id)
    if attachment_id is None:
        raise Http404
    q = company_visibility_q(user, prefix="interaction__company__")
    qs = Attachment.objects.select_related("interaction", "interaction__company")
    if q is not None:
        qs = qs.filter(q)
    try:
        return qs.get(pk=attachment_id)
    except Attachment.DoesNotExist:
        raise Http404 from None


def _limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_LIMIT))


def _page(qs: QuerySet, cursor: str | None, limit: int, fields=TIMELINE_FIELDS):
    rows, nxt, prev = keyset_page(qs, TIMELINE_SORT, cursor, _limit(limit), fields)
    attach_related(rows)
    return rows, nxt, prev


def company_timeline(
    user,
    company: Company,
    *,
    cursor: str | None = None,
    limit: int = 30,
    types=None,
    contact_id: int | None = None,
):
    """One page of `company`'s timeline, newest first: (rows, next_cursor, prev_cursor). The
    caller loaded `company` through company_get_for_user (that is the visibility check)."""
    qs = Interaction.objects.filter(company_id=company.pk)
    if types:
        qs = qs.filter(type__in=list(types))
    if contact_id:
        qs = qs.filter(_with_contact(contact_id))
    return _page(qs, cursor, limit)


def _with_contact(contact_id: int) -> Q:
    through = Interaction.contacts.through
    return Q(contact_id=contact_id) | Q(
        id__in=through.objects.filter(contact_id=contact_id).values("interaction_id")
    )


def contact_timeline(user, contact: Contact, *, cursor: str | None = None, limit: int = 30, types=None):
    """Interactions with `contact` (as the main contact or among the others), newest first. The
    caller loaded `contact` through contact_get_for_user."""
    qs = Interaction.objects.filter(company_id=contact.company_id).filter(_with_contact(contact.pk))
    if types:
        qs = qs.filter(type__in=list(types))
    return _page(qs, cursor, limit)


SEARCH_SORT = Sort("id", True)  # cursor value: the id as text
SEARCH_WINDOW_FIRST = 256  # hits fetched from the index at first; x8 per round, up to the last
SEARCH_WINDOW_MAX = 32768


def timeline_search(user, q: str, *, cursor: str | None = None, limit: int = 30):
    """Interactions whose subject, body or contact names contain every term of `q`, in the
    companies the user sees, most recently logged first (id order): (rows, next_cursor, None).
    Latin and Chinese; 1–2 CJK characters through their gram tokens.

    Why id order and not occurred_at: on SQLite the trigram index hands out its hits newest id
    first and stops when asked, so a page costs the hits read until `limit` visible ones are
    found, however many millions match; sorting by date would need every hit first (a common
    word matches hundreds of thousands of entries at 5M). Measured in bench/timeline.py."""
    limit = _limit(limit)
    before = None
    if cursor:
        _direction, value, _pk = decode_cursor(cursor, SEARCH_SORT)
        before = parse_id(value)
        if before is None:
            raise BadCursor("invalid cursor")
    terms = query_terms(q)
    if not terms:
        return [], None, None
    long_terms = [t for t in terms if len(t) >= 3]
    qs = interactions_for_user(user)
    rep = _rep_company_ids(user)
    few = _few_visible_company_ids(user, rep)
    if few is not None:
        # someone who sees few entries (a new rep): read those, however common the term is
        # elsewhere; walking the index's hits would read hundreds of thousands to find a page
        qs = Interaction.objects.filter(company_id__in=few)
        for t in terms:
            qs = qs.filter(search_text__contains=t)
        if before is not None:
            qs = qs.filter(id__lt=before)
        ids = list(qs.order_by("-id").values_list("id", flat=True)[: limit + 1])
        more = len(ids) > limit
        ids = ids[:limit]
    elif connection.vendor == "sqlite" and long_terms:
        # terms the FTS lookup does not check whole (short, or looked up by their two ends)
        for t in terms:
            if len(t) < 3 or len(t) > FTS_WHOLE_CHARS:
                qs = qs.filter(search_text__contains=t)
        ids, more = _sqlite_search_ids(qs, " AND ".join(_fts_phrases(t) for t in long_terms), before, limit)
    elif rep is not None:
        # PostgreSQL, someone who sees a few thousand customers (a sales rep): their entries only
        ids = _rep_newest_first(terms, rep, before, limit + 1)
        more = len(ids) > limit
        ids = ids[:limit]
    else:
        qs = apply_search(Interaction.objects.all(), q)
        if before is not None:
            qs = qs.filter(id__lt=before)
        ids = _newest_first(qs, before, limit + 1, company_visibility_q(user, prefix="company__"))
        more = len(ids) > limit
        ids = ids[:limit]
    by_id = {r["id"]: r for r in Interaction.objects.filter(id__in=ids).values(*SEARCH_FIELDS)}
    rows = [by_id[i] for i in ids if i in by_id]
    attach_related(rows)
    nxt = encode_cursor(str(rows[-1]["id"]), rows[-1]["id"]) if more and rows else None
    return rows, nxt, None


PROBE_WINDOWS = (20000, 160000, 640000)  # PostgreSQL: newest entries walked first, by primary key
RARE_HITS = 3  # fewer matching entries than this in the first window: a rare term, left to the planner


def _newest_first(qs: QuerySet, before: int | None, n: int, visible: Q | None = None) -> list[int]:
    """The first n ids of qs, newest first. On PostgreSQL the newest entries are searched first
    by walking the primary key (bitmap scans off), in growing windows, stopping as soon as n are
    found: pg_trgm's row estimates for LIKE are poor, and at 5M entries the planner chose a
    bitmap scan over ~100k hits (~1 s) for terms that this walk answers in a few ms. `qs` holds
    the search without the visibility rule `visible`; the first window reads every match with
    its visibility, so a rare term (few matches at all) goes straight to the planner's choice,
    which is then fast, instead of walking on."""
    scoped = qs if visible is None else qs.filter(visible)
    if connection.vendor != "postgresql":
        return list(scoped.order_by("-id").values_list("id", flat=True)[:n])
    top = (
        before
        if before is not None
        else Interaction.objects.order_by("-id").values_list("id", flat=True).first()
    )
    if top is None:
        return []
    upper = top + 1
    ids: list[int] = []
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_bitmapscan = off")  # walk the primary key in each window
        floor = upper - PROBE_WINDOWS[0]
        first = qs.filter(id__lt=upper, id__gte=floor).order_by("-id")
        if visible is not None:
            first = first.annotate(_seen=ExpressionWrapper(visible, output_field=BooleanField()))
            matches = list(first.values_list("id", "_seen"))
        else:
            matches = [(i, True) for i in first.values_list("id", flat=True)]
        ids = [i for i, seen in matches if seen][:n]
        if len(ids) >= n or floor <= 1:
            return ids
        upper = floor
        if len(matches) >= RARE_HITS:
            for rows in PROBE_WINDOWS[1:]:
                floor = upper - rows
                window = scoped.filter(id__lt=upper, id__gte=floor).order_by("-id")
                ids += list(window.values_list("id", flat=True)[: n - len(ids)])
                if len(ids) >= n or floor <= 1:
                    return ids
                upper = floor
    ids += list(scoped.filter(id__lt=upper).order_by("-id").values_list("id", flat=True)[: n - len(ids)])
    return ids


REP_COMPANIES = 5000  # PostgreSQL: up to this many visible customers, search walks their entries only
REP_WINDOWS = (40000, 160000, 640000)  # ids walked per round, newest first, through (company_id, id)


def _rep_company_ids(user) -> list[int] | None:
    """PostgreSQL: the ids of the companies a user without teams to oversee sees (a sales rep: the
    ones they own or follow, company_visibility_q without its team branch), when there are at most
    REP_COMPANIES of them; else None. Two index lookups (the rule's OR costs ~10 ms at 100k
    companies, these ~2 ms)."""
    from tradecrm.customers.models import CompanyFollower

    if connection.vendor != "postgresql" or user.is_admin or visible_team_ids(user):
        return None
    owned = Company.objects.filter(owner_id=user.id).values_list("id", flat=True)[: REP_COMPANIES + 1]
    ids = set(owned)
    if len(ids) <= REP_COMPANIES:
        followed = CompanyFollower.objects.filter(user_id=user.id).values_list("company_id", flat=True)
        ids.update(followed[: REP_COMPANIES + 1])
    return sorted(ids) if len(ids) <= REP_COMPANIES else None


def _rep_newest_first(terms: list[str], company_ids: list[int], before: int | None, n: int) -> list[int]:
    """The first n ids of the entries of `company_ids` containing every term, newest first
    (PostgreSQL). Walks consecutive id windows newest first, each company's through the
    (company_id, id) index (migration 0003): one descent per company and window, then only the
    user's own rows are read and tested, however common the term is elsewhere. Measured at 5M
    entries, a rep seeing 2,500 customers (134k entries): ~10 ms per 40k ids, ~15 ms per 160k,
    where the primary-key walk read every entry of the window and the trigram index built a
    bitmap of every hit (~100 ms for a common word). When the first two windows hold nothing the
    term is rare for this user: the planner's choice (the trigram index) finishes the search."""
    if not company_ids:
        return []
    top = (
        before
        if before is not None
        else Interaction.objects.order_by("-id").values_list("id", flat=True).first()
    )
    if top is None:
        return []
    upper = top if before is not None else top + 1
    table = connection.ops.quote_name(Interaction._meta.db_table)
    likes = [f"%{_like_escape(t)}%" for t in terms]
    match = " AND ".join(["x.search_text LIKE %s"] * len(likes))
    # a lookup per company, not "company_id = ANY(...)": with the array, and with the lateral
    # subquery flattened into a join, the planner walked the primary key over the whole window
    # (30-300 ms); OFFSET 0 keeps the subquery whole, so each company is one index range
    sql = (
        f"SELECT i.id FROM unnest(%s::bigint[]) AS c(id) CROSS JOIN LATERAL (SELECT x.id FROM {table} x "
        f"WHERE x.company_id = c.id AND x.id >= %s AND x.id < %s AND {match} OFFSET 0) i "
        f"ORDER BY i.id DESC LIMIT %s"
    )
    ids: list[int] = []
    with transaction.atomic(), connection.cursor() as cur:
        for setting in ("enable_bitmapscan", "enable_hashjoin", "enable_mergejoin"):
            cur.execute(f"SET LOCAL {setting} = off")  # a nested loop over the (company_id, id) index
        for i, rows in enumerate(REP_WINDOWS):
            floor = upper - rows
            cur.execute(sql, [company_ids, floor, upper, *likes, n - len(ids)])
            ids += [r[0] for r in cur.fetchall()]
            if len(ids) >= n or floor <= 1:
                return ids
            upper = floor
            if i == 1 and not ids:
                break  # nothing in the newest windows: rare for this user
        for setting in ("enable_bitmapscan", "enable_hashjoin", "enable_mergejoin"):
            cur.execute(f"SET LOCAL {setting} = on")
        seen = RawSQL(f"{table}.company_id = ANY(%s::bigint[])", [company_ids], output_field=BooleanField())
        qs = Interaction.objects.filter(seen, id__lt=upper)  # an array: thousands of IN marks cost ~20 ms
        for t in terms:
            qs = qs.filter(search_text__contains=t)
        ids += list(qs.order_by("-id").values_list("id", flat=True)[: n - len(ids)])
    return ids


# Below these, a search reads the user's own entries instead of walking the index's hits: measured
# at 5M entries, a rep following 3 customers waited ~1 s (warm) for a common word through the
# index and a few ms this way.
FEW_COMPANIES = 300
FEW_ENTRIES = 5000


def _few_visible_company_ids(user, known: list[int] | None = None) -> list[int] | None:
    """The ids of the companies the user sees when they hold at most FEW_ENTRIES interactions
    (None otherwise, and for administrators). Two small bounded queries; one when `known`, all
    the ids the user sees, is given."""
    if user.is_admin:
        return None
    if known is not None:
        ids = known[: FEW_COMPANIES + 1]
    else:
        qs = scope_companies(Company.objects.all(), user)
        ids = list(qs.values_list("id", flat=True)[: FEW_COMPANIES + 1])
    if len(ids) > FEW_COMPANIES:
        return None
    if not ids:
        return ids
    entries = Interaction.objects.filter(company_id__in=ids).values("id")[: FEW_ENTRIES + 1]
    return ids if entries.count() <= FEW_ENTRIES else None


def _sqlite_search_ids(qs: QuerySet, match: str, before: int | None, limit: int) -> tuple[list[int], bool]:
    """The first limit ids (and whether there are more) of the FTS hits below `before` that pass
    `qs` (visibility, whole-term checks): windows of hits, newest first, each checked in one
    query, growing until enough rows are found or the hits run out."""
    table = Interaction._meta.db_table
    fts = f"{table}_fts"
    found: list[int] = []
    window = SEARCH_WINDOW_FIRST
    upper = before
    with connection.cursor() as cur:
        while True:
            bound = "" if upper is None else f" AND rowid < {int(upper)}"
            cur.execute(
                f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s{bound} ORDER BY rowid DESC LIMIT {window}",
                [match],
            )
            hits = [r[0] for r in cur.fetchall()]
            if not hits:
                return found, False
            need = limit + 1 - len(found)
            keep = qs.filter(
                RawSQL(
                    f"{table}.id IN (SELECT value FROM json_each(%s))",
                    [json.dumps(hits)],
                    output_field=BooleanField(),
                )
            )
            found += list(keep.order_by("-id").values_list("id", flat=True)[:need])
            if len(found) > limit:
                return found[:limit], True
            if len(hits) < window:
                return found, False
            upper = hits[-1]
            window = min(window * 8, SEARCH_WINDOW_MAX)


def attach_related(rows: list[dict]) -> None:
    """Give each row `attachments`, `contacts` (the others) and `participants`, in one query."""
    ids = [r["id"] for r in rows]
    by_id = {i: {"attachments": [], "contacts": [], "participants": []} for i in ids}
    if ids:
        qn = connection.ops.quote_name
        marks = ", ".join(["%s"] * len(ids))
        att, ic, ip = (
            qn(Attachment._meta.db_table),
            qn(Interaction.contacts.through._meta.db_table),
            qn(Interaction.participants.through._meta.db_table),
        )
        con, usr = qn(Contact._meta.db_table), qn(User._meta.db_table)
        # Raw SQL: three small lookups as one round trip; each branch is served by an index on
        # the interaction id. Columns: kind, interaction, id, three texts, a number.
        sql = (
            f"SELECT 'a', a.interaction_id, a.id, a.name, a.content_type, '', a.size FROM {att} a "
            f"WHERE a.interaction_id IN ({marks}) "
            f"UNION ALL SELECT 'c', ic.interaction_id, c.id, c.first_name, c.last_name, c.name_local, 0 "
            f"FROM {ic} ic JOIN {con} c ON c.id = ic.contact_id WHERE ic.interaction_id IN ({marks}) "
            f"UNION ALL SELECT 'p', ip.interaction_id, u.id, u.first_name, u.last_name, u.username, 0 "
            f"FROM {ip} ip JOIN {usr} u ON u.id = ip.user_id WHERE ip.interaction_id IN ({marks})"
        )
        with connection.cursor() as cur:
            cur.execute(sql, ids * 3)
            for kind, iid, oid, t1, t2, t3, n in cur.fetchall():
                if kind == "a":
                    by_id[iid]["attachments"].append({"id": oid, "name": t1, "content_type": t2, "size": n})
                elif kind == "c":
                    name = f"{t1} {t2}".strip() or t3
                    by_id[iid]["contacts"].append({"id": oid, "name": name})
                else:
                    by_id[iid]["participants"].append(
                        {"id": oid, "username": t3, "name": f"{t1} {t2}".strip() or t3}
                    )
    for r in rows:
        extra = by_id[r["id"]]
        for key in ("attachments", "contacts", "participants"):
            r[key] = sorted(extra[key], key=lambda x: x["id"])
        first, last, local = r["contact__first_name"], r["contact__last_name"], r["contact__name_local"]
        r["contact_name"] = (f"{first or ''} {last or ''}".strip() or local or "") if r["contact_id"] else ""
        if r["owner_id"]:
            r["owner_name"] = (
                f"{r['owner__first_name']} {r['owner__last_name']}".strip() or r["owner__username"]
            )
        else:
            r["owner_name"] = ""


def interaction_revisions(interaction: Interaction) -> list[InteractionRevision]:
    """The states before each edit, newest first."""
    return list(
        InteractionRevision.objects.filter(interaction=interaction)
        .select_related("edited_by")
        .order_by("-version")
    )


def interaction_related(interaction: Interaction) -> dict:
    """The detail of one entry as a timeline row dict (what the views and the API render)."""
    row = {f: getattr(interaction, f) for f in TIMELINE_FIELDS if "__" not in f}
    contact, owner = interaction.contact, interaction.owner
    row.update(
        contact__first_name=contact.first_name if contact else None,
        contact__last_name=contact.last_name if contact else None,
        contact__name_local=contact.name_local if contact else None,
        owner__username=owner.username if owner else None,
        owner__first_name=owner.first_name if owner else None,
        owner__last_name=owner.last_name if owner else None,
    )
    rows = [row]
    attach_related(rows)
    return rows[0]
