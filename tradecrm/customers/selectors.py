"""Reads of the customer archive, always scoped to the user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone

from tradecrm.accounts.access import (
    company_visibility_branches,
    company_visibility_q,
    scope_companies,
    tag_visibility_q,
    visible_team_ids,
)
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import Sort, keyset_page
from tradecrm.core.search import apply_search

from .models import Company, CompanyTag, Contact, Tag

COMPANY_SORTS = {
    "-updated_at": Sort("updated_at", True, "datetime"),
    "updated_at": Sort("updated_at", False, "datetime"),
    "-created_at": Sort("created_at", True, "datetime"),
    "created_at": Sort("created_at", False, "datetime"),
    "name": Sort("name", False),
    "-name": Sort("name", True),
}
COMPANY_LIST_FIELDS = (
    "id", "name", "name_local", "country", "city", "status", "business_type", "source", "email", "phones",
    "owner_id", "owner__username", "owner__first_name", "owner__last_name", "timezone", "updated_at", "created_at",
    "version", "last_contact_at", "next_followup_at",
)


@dataclass
class CompanyFilters:
    q: str = ""
    country: str = ""
    owner: int | None = None
    tag: int | None = None
    source: str = ""
    status: str = ""
    business_type: str = ""
    sort: str = "-updated_at"
    extra: dict = field(default_factory=dict)
    # the smart-list filters (customers.filtering reads and validates them)
    tags: list[int] = field(default_factory=list)  # any of them
    tier: str = ""
    products: list[int] = field(default_factory=list)  # bought any of them
    hs: str = ""  # digits: an HS code or its start
    contact_after: dt.date | None = None  # last contact on or after
    contact_before: dt.date | None = None  # last contact before, or never


def company_get_for_user(user, company_id) -> Company:
    company_id = parse_id(company_id)
    if company_id is None:
        raise Http404
    qs = scope_companies(Company.objects.select_related("owner", "team", "updated_by"), user)
    try:
        return qs.get(pk=company_id)
    except Company.DoesNotExist:
        raise Http404 from None


def companies_for_user(user):
    return scope_companies(Company.objects.all(), user)


def company_filter(user, f: CompanyFilters):
    return scope_companies(_company_filter(f), user)


def _company_filter(f: CompanyFilters, *, products_as_set: bool = True):
    """The filters and the search, without the visibility rule."""
    qs = Company.objects.all()
    if f.country:
        qs = qs.filter(country=f.country.upper())
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.business_type:
        qs = qs.filter(business_type=f.business_type)
    if f.tag:
        qs = qs.filter(id__in=CompanyTag.objects.filter(tag_id=f.tag).values("company_id"))
    if f.q:
        qs = apply_search(qs, f.q)
    return _smart_filters(qs, f, products_as_set=products_as_set)


def hs_range(prefix: str) -> tuple[str, str | None]:
    """The codes starting with `prefix` (digits) as a range [low, high): a range, unlike LIKE, is
    served by a plain B-tree index on both databases whatever their collation."""
    head = prefix.rstrip("9")
    if not head:
        return prefix, None
    return prefix, head[:-1] + str(int(head[-1]) + 1)


def _hs_range_q(field_name: str, prefix: str) -> Q:
    low, high = hs_range(prefix)
    q = Q(**{f"{field_name}__gte": low})
    return q & Q(**{f"{field_name}__lt": high}) if high else q


HS_ID_CAP = 2_000


def hs_company_ids(prefix: str, cap: int = HS_ID_CAP) -> set[int] | None:
    """The customers that bought (order lines of orders not cancelled), were recorded in customs
    data or are interested in (`Company.hs_codes`) a code starting with `prefix`, collected by three
    index ranges; None when there are more than `cap` of them.

    Two plans, chosen by this count rather than by the database's planner (measured at 1M customers
    and 10M order lines): a rare or unknown prefix is answered from the collected ids, instead of
    walking every visible customer and probing its orders (28 s for an admin when nothing
    matched); a common prefix keeps the walk, which finds a page of matches after a few thousand
    probes (`_hs_common_q`)."""
    from tradecrm.customs.models import CustomsRecord
    from tradecrm.orders.models import Order, OrderLine

    from .models import CompanyHsCode

    low, high = hs_range(prefix)
    qn = connection.ops.quote_name
    upper = " AND {col} < %s" if high else ""
    bounds = [low, high] if high else [low]
    line, order = OrderLine._meta.db_table, Order._meta.db_table
    queries = [  # the smallest table first: a common prefix passes the cap soonest
        (f"SELECT DISTINCT company_id FROM {qn(CompanyHsCode._meta.db_table)} "
         f"WHERE code >= %s{upper.format(col='code')}", bounds),
        (f"SELECT DISTINCT company_id FROM {qn(CustomsRecord._meta.db_table)} "
         f"WHERE hs_code >= %s{upper.format(col='hs_code')} AND company_id IS NOT NULL", bounds),
        (f"SELECT DISTINCT o.company_id FROM {qn(line)} l JOIN {qn(order)} o ON o.id = l.order_id "
         f"WHERE l.hs_code >= %s{upper.format(col='l.hs_code')} AND o.status <> %s", [*bounds, "cancelled"]),
    ]  # fmt: skip
    ids: set[int] = set()
    with connection.cursor() as cur:
        for sql, params in queries:
            cur.execute(f"{sql} LIMIT %s", [*params, cap + 1])
            ids.update(r[0] for r in cur.fetchall())
            if len(ids) > cap:
                return None
    return ids


def _hs_common_q(prefix: str) -> Q:
    """The HS-code filter as a condition per customer, for a prefix many customers match. The codes
    are compared through SUBSTR, which no index serves: with a range, SQLite probed each customer
    through the HS-code index instead of the customer's (a common prefix went from 10 ms to 17 s)."""
    from django.db.models.functions import Substr

    from tradecrm.customs.models import CustomsRecord
    from tradecrm.orders.models import OrderLine

    head = Substr("hs_code", 1, len(prefix))
    lines = OrderLine.objects.annotate(_hs=head).filter(_hs=prefix, order__company_id=OuterRef("pk"))
    records = CustomsRecord.objects.annotate(_hs=head).filter(_hs=prefix, company_id=OuterRef("pk"))
    # hs_codes is a JSON list of digit strings: '["847130", "6109"]' holds '"8471' exactly when
    # one of its codes starts with 8471.
    return (
        Q(hs_codes__icontains=f'"{prefix}')
        | Exists(lines.exclude(order__status="cancelled"))
        | Exists(records)
    )


def _day_start(day: dt.date) -> dt.datetime:
    # The viewer's day: the request runs in the user's time zone when one is active.
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def _smart_filters(qs, f: CompanyFilters, *, products_as_set: bool = True):
    """Tier, tags, products bought, HS code and last contact: one EXISTS per filter, so a page
    walks the sort index and stops after `limit` matches; a probe by primary key per customer.

    Products bought are the exception where the customers come from a wide scan: measured on 1M
    customers / 10M order lines (SQLite, README of the segments), walking a manager's or an
    admin's customers with an EXISTS over orders and lines took 0.4-2.5 s for a rare product,
    while collecting the buyers from the (product, order) index first took ~0.3 s. For a sales
    rep's few customers paged branch by branch (`products_as_set=False`) the EXISTS walk stays
    cheaper (0.17 s vs 0.67 s for the heavy combination)."""
    if f.tags:
        qs = qs.filter(Exists(CompanyTag.objects.filter(company_id=OuterRef("pk"), tag_id__in=f.tags)))
    if f.tier:
        from tradecrm.grading.models import CompanyGrade

        qs = qs.filter(Exists(CompanyGrade.objects.filter(company_id=OuterRef("pk"), tier=f.tier)))
    if f.products:
        from tradecrm.orders.models import OrderLine

        if products_as_set:
            lines = OrderLine.objects.filter(product_id__in=f.products).exclude(order__status="cancelled")
            qs = qs.filter(id__in=lines.values("order__company_id"))
        else:
            lines = OrderLine.objects.filter(order__company_id=OuterRef("pk"), product_id__in=f.products)
            qs = qs.filter(Exists(lines.exclude(order__status="cancelled")))
    if f.hs:
        ids = hs_company_ids(f.hs, HS_ID_CAP)
        if ids is not None:
            qs = qs.filter(id__in=ids) if ids else qs.none()
        else:
            qs = qs.filter(_hs_common_q(f.hs))
    if f.contact_after:
        qs = qs.filter(last_contact_at__gte=_day_start(f.contact_after))
    if f.contact_before:
        qs = qs.filter(Q(last_contact_at__lt=_day_start(f.contact_before)) | Q(last_contact_at__isnull=True))
    return qs


def _page_by_branch(user, f: CompanyFilters) -> bool:
    """Whether to page each branch of the visibility rule on its own index and merge, rather than
    filter by one OR. Measured at 1M companies (docs/decisions/0004-visibility-paging.md): the OR
    made PostgreSQL walk the whole sort index for searches a rep has few hits for (p95 0.4-0.8 s
    -> 38-50 ms), and SQLite collect and sort every customer of a rep for an unfiltered list
    (70 -> 6 ms); everywhere else the single OR was as fast or faster."""
    if user.is_admin:
        return False
    if connection.vendor == "postgresql":
        return bool(f.q)
    return not f.q and not visible_team_ids(user)


def company_list(user, f: CompanyFilters, *, cursor: str | None = None, limit: int = 50):
    """One page of companies as dicts, with their tags; (rows, next_cursor, prev_cursor)."""
    sort = COMPANY_SORTS.get(f.sort, COMPANY_SORTS["-updated_at"])
    if _page_by_branch(user, f):
        rows, nxt, prev = keyset_page(_company_filter(f, products_as_set=False), sort, cursor, limit,
                                      COMPANY_LIST_FIELDS, branches=company_visibility_branches(user))
    else:
        rows, nxt, prev = keyset_page(company_filter(user, f), sort, cursor, limit, COMPANY_LIST_FIELDS)
    attach_tags(rows)
    return rows, nxt, prev


def attach_tags(rows: list[dict]) -> None:
    ids = [r["id"] for r in rows]
    by_company: dict[int, list[dict]] = {i: [] for i in ids}
    if ids:
        # Raw SQL: the rows are already visible to the user, and on a 50-row page the ORM spent
        # ~5x longer building this one join than the database spent running it.
        q = connection.ops.quote_name
        sql = (
            f"SELECT ct.company_id, t.id, t.name, t.color FROM {q(CompanyTag._meta.db_table)} ct "
            f"JOIN {q(Tag._meta.db_table)} t ON t.id = ct.tag_id "
            f"WHERE ct.company_id IN ({', '.join(['%s'] * len(ids))})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, ids)
            for company_id, tag_id, name, color in cursor.fetchall():
                by_company[company_id].append({"id": tag_id, "name": name, "color": color})
    for r in rows:
        r["tags"] = sorted(by_company[r["id"]], key=lambda t: t["name"])


def company_tags(company: Company) -> list[Tag]:
    return list(Tag.objects.filter(companytag__company=company).order_by("name"))


# How a contact list finds the visible contacts, decided per user. Above this many visible
# customers it walks contacts newest-first on contact_updated_idx and checks each one's company,
# stopping after about limit / (visible share) rows; below it, it collects the contacts of those
# few customers and sorts them. Measured on 100k companies / 200k contacts: the walk takes ~1-4 ms
# where collecting took 18 ms (sales) to 118 ms (admin), and grows with the database.
CONTACT_WALK_THRESHOLD = 2000


def contacts_for_user(user):
    q = company_visibility_q(user, prefix="company__")
    if q is None:
        return Contact.objects.all()
    visible = companies_for_user(user).values("id")
    if visible[:CONTACT_WALK_THRESHOLD].count() < CONTACT_WALK_THRESHOLD:
        return Contact.objects.filter(company__in=visible)
    return Contact.objects.filter(q)


def contact_get_for_user(user, contact_id) -> Contact:
    contact_id = parse_id(contact_id)
    if contact_id is None:
        raise Http404
    qs = Contact.objects.select_related("company", "updated_by").filter(pk=contact_id)
    contact = qs.first()
    if contact is None:
        raise Http404
    # visibility follows the company
    company_get_for_user(user, contact.company_id)
    return contact


CONTACT_SORTS = {"-updated_at": Sort("updated_at", True, "datetime"), "updated_at": Sort("updated_at", False, "datetime")}
CONTACT_LIST_FIELDS = (
    "id", "company_id", "company__name", "first_name", "last_name", "name_local", "title", "seniority", "emails",
    "phones", "whatsapp", "wechat", "linkedin", "skype", "birthday", "is_primary", "preferred_language", "notes",
    "version", "created_at", "updated_at",
)


def contact_list(user, *, company_id: int | None = None, q: str = "", sort: str = "-updated_at",
                 cursor: str | None = None, limit: int = 50):
    if company_id is not None:
        company = company_get_for_user(user, company_id)
        qs = Contact.objects.filter(company=company)
    else:
        qs = contacts_for_user(user)
    if q:
        qs = apply_search(qs, q)
    return keyset_page(qs, CONTACT_SORTS.get(sort, CONTACT_SORTS["-updated_at"]), cursor, limit, CONTACT_LIST_FIELDS)


def company_contacts(company: Company) -> list[Contact]:
    return list(Contact.objects.filter(company=company).order_by("-is_primary", "last_name", "first_name", "id"))


def tags_for_user(user):
    qs = Tag.objects.all()
    q = tag_visibility_q(user)
    return qs if q is None else qs.filter(q)


def tag_get_for_user(user, tag_id) -> Tag:
    try:
        return tags_for_user(user).get(pk=parse_id(tag_id) or 0)
    except Tag.DoesNotExist:
        raise Http404 from None


def tag_list(user) -> list[Tag]:
    return list(tags_for_user(user).order_by("name"))


TAG_SORT = Sort("name", False)
TAG_LIST_FIELDS = ("id", "name", "color", "team_id", "version", "created_at", "updated_at")


def tag_page(user, *, cursor: str | None = None, limit: int = 200):
    """One page of the tags the user sees, by name, as dicts; (rows, next_cursor, prev_cursor)."""
    return keyset_page(tags_for_user(user), TAG_SORT, cursor, limit, TAG_LIST_FIELDS)


def company_followers(company: Company) -> list[dict]:
    return list(company.followers.order_by("username").values("id", "username", "first_name", "last_name"))
