"""Reads of the public pool, scoped to the reader.

Who sees a pool (its customers, and may claim from it): administrators every pool; everyone else
the active pools that serve their team — a pool with no teams serves everyone, a pool serving a
team also serves its sub-teams — and managers also the pools serving a team below them. Anything
else is a 404, as if missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tradecrm.accounts.access import has_action, visible_team_ids
from tradecrm.accounts.models import Team
from tradecrm.core.paging import Sort, keyset_page

from .models import CompanyLock, OwnerSince, Pool, PoolEntry, PoolMove, RecallRun
from .rules import effective_rules


def _ancestor_team_ids(user) -> list[int]:
    if not user.team_id:
        return []
    team = Team.objects.only("path").filter(pk=user.team_id).first()
    if team is None:
        return []
    return [int(p) for p in team.path.strip("/").split("/") if p]


def pools_for_user(user) -> QuerySet:
    qs = Pool.objects.all()
    if user.is_admin:
        return qs
    teams = set(_ancestor_team_ids(user))
    if has_action(user, "manage_pool"):  # by the role's policy, not its name
        teams |= set(visible_team_ids(user) or [])
    served = Pool.teams.through.objects.filter(team_id__in=teams).values("pool_id")
    has_teams = Pool.teams.through.objects.values("pool_id")
    return qs.filter(active=True).filter(Q(id__in=served) | ~Q(id__in=has_teams))


def pool_get_for_user(user, pool_id: int) -> Pool:
    pool = pools_for_user(user).filter(pk=pool_id).first()
    if pool is None:
        raise Http404
    return pool


def pool_list(user) -> list[dict]:
    """Each pool the user sees with its size and rules summary."""
    from .rules import summary

    pools = list(pools_for_user(user).prefetch_related("teams").order_by("name", "id"))
    sizes = dict(
        PoolEntry.objects.filter(pool__in=pools).values("pool_id").annotate(n=Count("company_id"))
        .values_list("pool_id", "n")
    )  # fmt: skip
    return [{"pool": p, "size": sizes.get(p.id, 0), "summary": summary(effective_rules(p)),
             "teams": [t.name for t in p.teams.all()]} for p in pools]  # fmt: skip


@dataclass
class EntryFilters:
    country: str = ""
    min_days: int | None = None
    max_days: int | None = None
    previous_owner: int | None = None


def filters_from_params(params) -> tuple[EntryFilters, dict[str, str]]:
    from django.utils.translation import gettext as _

    f = EntryFilters()
    errors: dict[str, str] = {}
    f.country = (params.get("country") or "").strip().upper()[:2]
    for key in ("min_days", "max_days", "previous_owner"):
        raw = (params.get(key) or "").strip()
        if not raw:
            continue
        if not raw.isdigit():
            errors[key] = _("“%(value)s” is not a whole number of 0 or more.") % {"value": raw[:20]}
            continue
        setattr(f, key, int(raw))
    return f, errors


ENTRY_FIELDS = (
    "company_id", "company__name", "company__country", "company__city", "since", "reason", "kind",
    "previous_owner_id", "previous_owner__username", "previous_owner__first_name", "previous_owner__last_name",
)  # fmt: skip
_OLDEST_FIRST = Sort("since", False, "datetime")


def pool_entries(
    pool: Pool,
    f: EntryFilters | None = None,
    *,
    cursor: str | None = None,
    limit: int = 50,
    now: dt.datetime | None = None,
):
    """A keyset page of the pool's customers, longest in the pool first: (rows, next, prev)."""
    f = f or EntryFilters()
    now = now or timezone.now()
    qs = PoolEntry.objects.filter(pool=pool)
    if f.country:
        qs = qs.filter(country=f.country)
    if f.min_days is not None:
        qs = qs.filter(since__lte=now - dt.timedelta(days=f.min_days))
    if f.max_days is not None:
        qs = qs.filter(since__gt=now - dt.timedelta(days=f.max_days + 1))
    if f.previous_owner is not None:
        qs = qs.filter(previous_owner_id=f.previous_owner)
    rows, nxt, prev = keyset_page(qs, _OLDEST_FIRST, cursor, limit, ("id", *ENTRY_FIELDS))
    for r in rows:
        r["days"] = (timezone.localdate(now) - timezone.localdate(r["since"])).days
        name = f"{r['previous_owner__first_name'] or ''} {r['previous_owner__last_name'] or ''}".strip()
        r["previous_owner_name"] = name or r["previous_owner__username"] or ""
    return rows, nxt, prev


def previous_owners(pool: Pool) -> list[dict]:
    return list(
        PoolEntry.objects.filter(pool=pool, previous_owner__isnull=False)
        .values("previous_owner_id", "previous_owner__username", "previous_owner__first_name")
        .annotate(n=Count("company_id")).order_by("previous_owner__username")[:200]
    )  # fmt: skip


def entry_get_for_user(user, company_id: int) -> PoolEntry:
    """A customer in a pool the user sees; 404 otherwise."""
    entry = (
        PoolEntry.objects.select_related("pool", "company", "previous_owner")
        .filter(company_id=company_id, pool__in=pools_for_user(user)).first()
    )  # fmt: skip
    if entry is None:
        raise Http404
    return entry


def company_pool_state(company, now: dt.datetime | None = None) -> dict:
    """The card on the customer page: in a pool (which, since, previous owner, reason) or owned
    (by whom, which pool's rules, when it would be recalled and by which rule, or why never)."""
    from tradecrm.customers.models import Company

    from .recall import annotate_facts, exempt_q, first_due, pool_for_company, rule_label

    now = now or timezone.now()
    entry = PoolEntry.objects.select_related("pool", "previous_owner").filter(company_id=company.pk).first()
    lock = CompanyLock.objects.select_related("locked_by").filter(company_id=company.pk).first()
    state = {"entry": entry, "lock": lock, "owner": company.owner if company.owner_id else None}
    if entry is not None or not company.owner_id:
        return state
    pool = pool_for_company(company)
    state["pool"] = pool
    if pool is None:
        return state
    rules = effective_rules(pool)
    one = Company.objects.filter(pk=company.pk)
    if one.filter(exempt_q(rules, now)).exists():
        state["exempt"] = True
        return state
    from .recall import FACT_FIELDS

    row = annotate_facts(one, rules).values(*FACT_FIELDS, *fact_names(rules)).first()
    due = first_due(row, rules, now) if row else None
    if due:
        name, info = due
        state["rule"] = name
        state["due"] = info["due"]
        state["days_left"] = max(0, (timezone.localdate(info["due"]) - timezone.localdate(now)).days)
        state["unless"] = rule_label(name, info)
    since = OwnerSince.objects.filter(company_id=company.pk, owner_id=company.owner_id).first()
    if since and rules["protection_days"]:
        end = since.since + dt.timedelta(days=rules["protection_days"])
        if end > now:
            state["protected_until"] = end
    return state


def _fact_names(rules: dict) -> list[str]:
    names = ["own_since"]
    if rules["no_touch_days"]:
        names += ["last_interaction", "last_quotation", "last_sample"]
    if rules["no_opportunity_days"]:
        names += ["open_opportunity", "last_opportunity", "last_opportunity_closed"]
    if rules["no_order_days"] or rules["exempt_ordered_within_days"]:
        names.append("last_order")
    if rules["protection_days"]:
        names.append("last_order_created")
    return names


def fact_names(rules: dict) -> list[str]:
    """The annotation names annotate_facts adds for these rules (touch kinds decide which exist)."""
    names = _fact_names(rules)
    kinds = rules["touch_kinds"]
    from .recall import _touch_q

    if "last_interaction" in names and _touch_q(kinds) is None:
        names.remove("last_interaction")
    if "last_quotation" in names and "quotation" not in kinds:
        names.remove("last_quotation")
    if "last_sample" in names and "sample" not in kinds:
        names.remove("last_sample")
    return names


def company_moves(company_id: int, limit: int = 20) -> list[PoolMove]:
    return list(PoolMove.objects.filter(company_id=company_id).select_related("pool", "from_owner", "to_owner",
                                                                             "actor")[:limit])  # fmt: skip


def runs(limit: int = 50) -> list[RecallRun]:
    return list(RecallRun.objects.all()[:limit])


def claims_today(user, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(now), dt.time.min))
    return PoolMove.objects.filter(to_owner=user, kind="claim", at__gte=start).count()


def pool_names(company_ids) -> dict[int, str]:
    """{company id: name of the pool it is in} (the duplicate check shows "in pool X")."""
    ids = [i for i in company_ids if i]
    if not ids:
        return {}
    return dict(PoolEntry.objects.filter(company_id__in=ids).values_list("company_id", "pool__name"))
