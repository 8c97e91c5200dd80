"""The recall scan: which owned customers are due to go back to a pool, and when the others will be.

Set-based: one query per pool selects the due customers with NOT EXISTS probes on the indexed
(company, date) columns of interactions, quotations, samples, opportunities and orders — no Python
loop over customers. The facts behind each due customer (last touch, last order…) are then read for
the due ones only, to put the reason in words. Which pool an owned customer falls under: the most
specific active pool whose countries and teams match it (countries and teams > countries > teams
> a pool for everyone), then the lowest id.

The same query evaluated at "now + warn days" finds the customers to warn: due then, not due now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import DateTimeField, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.customers.models import Company
from tradecrm.documents.models import Quotation
from tradecrm.interactions.models import Interaction
from tradecrm.orders.models import Order, OrderStatus
from tradecrm.sales.models import Opportunity, OpportunityStatus, Sample

from .models import CompanyLock, OwnerSince, Pool
from .rules import INTERACTION_KINDS, RECALL_FIELDS, effective_rules

RULE_ORDER = ("protection", "no_touch", "no_opportunity", "no_order")


@dataclass
class PoolScope:
    pool: Pool
    rules: dict
    q: Q  # the customers this pool's rules apply to (more specific pools already taken out)


def _specificity(pool: Pool, team_ids: list[int]) -> int:
    return (2 if pool.countries else 0) + (1 if team_ids else 0)


def pool_scopes(pools: list[Pool] | None = None) -> list[PoolScope]:
    """The active pools in priority order, each with the Q of the customers it governs."""
    if pools is None:
        pools = list(Pool.objects.filter(active=True).prefetch_related("teams"))
    with_teams = [(p, sorted(t.id for t in p.teams.all())) for p in pools if p.active]
    with_teams.sort(key=lambda pt: (-_specificity(*pt), pt[0].id))
    taken = Q(pk__in=[])
    out = []
    for pool, team_ids in with_teams:
        q = Q()
        if pool.countries:
            q &= Q(country__in=pool.countries)
        if team_ids:
            q &= Q(team_id__in=team_ids)
        out.append(PoolScope(pool, effective_rules(pool), q & ~taken))
        taken |= q
    return out


def pool_for_company(company: Company, scopes: list[PoolScope] | None = None) -> Pool | None:
    """The pool a customer falls under (in Python, for one customer)."""
    pools = list(Pool.objects.filter(active=True).prefetch_related("teams")) if scopes is None else None
    candidates = (
        [(p, sorted(t.id for t in p.teams.all())) for p in pools]
        if pools is not None
        else [(s.pool, sorted(t.id for t in s.pool.teams.all())) for s in scopes]
    )
    candidates.sort(key=lambda pt: (-_specificity(*pt), pt[0].id))
    for pool, team_ids in candidates:
        if pool.countries and company.country not in pool.countries:
            continue
        if team_ids and company.team_id not in team_ids:
            continue
        return pool
    return None


# --- the pieces of the query --------------------------------------------------------------------


def _touch_q(kinds: list[str]) -> Q | None:
    types = [k for k in kinds if k in INTERACTION_KINDS and k != "call"]
    q = Q(type__in=types) if types else None
    if "call" in kinds:
        call = Q(type="call", duration_minutes__gt=0)
        q = call if q is None else q | call
    return q


def _day(now: dt.datetime, days: int) -> dt.date:
    return timezone.localdate(now - dt.timedelta(days=days))


def _owned_since_before(cutoff: dt.datetime) -> Q:
    """The owner has had the customer since before `cutoff` (claim/assignment, else creation)."""
    recent = OwnerSince.objects.filter(
        company_id=OuterRef("pk"), owner_id=OuterRef("owner_id"), since__gte=cutoff
    )
    return Q(created_at__lt=cutoff) & ~Exists(recent)


def _no_touch_since(rules: dict, cutoff: dt.datetime) -> Q:
    q = Q()
    tq = _touch_q(rules["touch_kinds"])
    if tq is not None:
        q &= ~Exists(Interaction.objects.filter(tq, company_id=OuterRef("pk"), occurred_at__gte=cutoff))
    if "quotation" in rules["touch_kinds"]:
        q &= ~Exists(Quotation.objects.filter(company_id=OuterRef("pk"), issued_at__gte=cutoff))
    if "sample" in rules["touch_kinds"]:
        q &= ~Exists(
            Sample.objects.filter(company_id=OuterRef("pk"), sent_on__gte=timezone.localdate(cutoff))
        )
    return q


def _no_opportunity_since(cutoff: dt.datetime) -> Q:
    recent = Opportunity.objects.filter(
        Q(status=OpportunityStatus.OPEN) | Q(created_at__gte=cutoff) | Q(closed_at__gte=cutoff),
        company_id=OuterRef("pk"),
    )
    return ~Exists(recent)


def _orders():
    return Order.objects.exclude(status=OrderStatus.CANCELLED)


def _no_order_since(day: dt.date) -> Q:
    return ~Exists(_orders().filter(company_id=OuterRef("pk"), document_date__gte=day))


def _protected_q(rules: dict, now: dt.datetime) -> Q | None:
    if not rules["protection_days"]:
        return None
    start = now - dt.timedelta(days=rules["protection_days"])
    return Q(Exists(OwnerSince.objects.filter(company_id=OuterRef("pk"), owner_id=OuterRef("owner_id"),
                                              since__gte=start)))  # fmt: skip


def _protection_over_q(rules: dict, now: dt.datetime) -> Q:
    start = now - dt.timedelta(days=rules["protection_days"])
    ordered = _orders().filter(company_id=OuterRef("company_id"), created_at__gte=OuterRef("since"))
    ended = OwnerSince.objects.filter(
        company_id=OuterRef("pk"), owner_id=OuterRef("owner_id"), since__lt=start
    )
    return Q(Exists(ended.filter(~Exists(ordered))))


def exempt_q(rules: dict, now: dt.datetime) -> Q:
    """Customers the rules never recall (as of `now`)."""
    from tradecrm.grading.models import CompanyGrade

    q = Q(pk__in=[])
    if rules["exempt_locked"]:
        q |= Q(Exists(CompanyLock.objects.filter(company_id=OuterRef("pk"))))
    if rules["exempt_tiers"]:
        q |= Q(Exists(CompanyGrade.objects.filter(company_id=OuterRef("pk"), tier__in=rules["exempt_tiers"])))
    if rules["exempt_ordered_within_days"]:
        day = _day(now, rules["exempt_ordered_within_days"])
        q |= Q(Exists(_orders().filter(company_id=OuterRef("pk"), document_date__gte=day)))
    return q


def due_q(rules: dict, now: dt.datetime) -> Q | None:
    """Owned customers due for recall at `now` under these rules (before exemptions); None: the
    rules recall nothing."""
    branches = []
    if rules["no_touch_days"]:
        cutoff = now - dt.timedelta(days=rules["no_touch_days"])
        branches.append(_owned_since_before(cutoff) & _no_touch_since(rules, cutoff))
    if rules["no_opportunity_days"]:
        cutoff = now - dt.timedelta(days=rules["no_opportunity_days"])
        branches.append(_owned_since_before(cutoff) & _no_opportunity_since(cutoff))
    if rules["no_order_days"]:
        cutoff = now - dt.timedelta(days=rules["no_order_days"])
        branches.append(_owned_since_before(cutoff) & _no_order_since(_day(now, rules["no_order_days"])))
    normal = None
    for b in branches:
        normal = b if normal is None else normal | b
    protected = _protected_q(rules, now)
    if normal is not None and protected is not None:
        normal = normal & ~protected
    if rules["protection_days"]:
        over = _protection_over_q(rules, now)
        normal = over if normal is None else normal | over
    return normal


def due_companies(scope: PoolScope, now: dt.datetime) -> QuerySet | None:
    q = due_q(scope.rules, now)
    if q is None:
        return None
    return (
        Company.objects.filter(owner__isnull=False)
        .filter(scope.q)
        .exclude(exempt_q(scope.rules, now))
        .filter(q)
    )


# --- the facts, for the due ones -----------------------------------------------------------------


def annotate_facts(qs: QuerySet, rules: dict) -> QuerySet:
    pk = OuterRef("pk")
    ann = {
        "own_since": Subquery(
            OwnerSince.objects.filter(company_id=pk, owner_id=OuterRef("owner_id")).values("since")[:1]
        ),  # fmt: skip
    }
    if rules["no_touch_days"]:
        tq = _touch_q(rules["touch_kinds"])
        if tq is not None:
            ann["last_interaction"] = Subquery(
                Interaction.objects.filter(tq, company_id=pk)
                .order_by("-occurred_at")
                .values("occurred_at")[:1]
            )
        if "quotation" in rules["touch_kinds"]:
            ann["last_quotation"] = Subquery(
                Quotation.objects.filter(company_id=pk, issued_at__isnull=False).order_by("-issued_at")
                .values("issued_at")[:1]
            )  # fmt: skip
        if "sample" in rules["touch_kinds"]:
            ann["last_sample"] = Subquery(
                Sample.objects.filter(company_id=pk, sent_on__isnull=False)
                .order_by("-sent_on")
                .values("sent_on")[:1]
            )
    if rules["no_opportunity_days"]:
        ann["open_opportunity"] = Exists(
            Opportunity.objects.filter(company_id=pk, status=OpportunityStatus.OPEN)
        )
        ann["last_opportunity"] = Subquery(
            Opportunity.objects.filter(company_id=pk).order_by("-created_at").values("created_at")[:1]
        )
        ann["last_opportunity_closed"] = Subquery(
            Opportunity.objects.filter(company_id=pk, closed_at__isnull=False).order_by("-closed_at")
            .values("closed_at")[:1], output_field=DateTimeField()
        )  # fmt: skip
    if rules["no_order_days"] or rules["exempt_ordered_within_days"]:
        ann["last_order"] = Subquery(_orders().filter(company_id=pk).order_by("-document_date")
                                     .values("document_date")[:1])  # fmt: skip
    if rules["protection_days"]:
        ann["last_order_created"] = Subquery(_orders().filter(company_id=pk).order_by("-created_at")
                                             .values("created_at")[:1])  # fmt: skip
    return qs.annotate(**ann)


FACT_FIELDS = ("id", "name", "owner_id", "team_id", "country", "created_at")


def _end_of(day: dt.date) -> dt.datetime:
    """A date as the moment it is over (local midnight after it): what a date-valued touch means
    for a clock counted in days."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _latest(*values) -> dt.datetime | None:
    out = None
    for v in values:
        if v is None:
            continue
        if not isinstance(v, dt.datetime):
            v = _end_of(v)
        if out is None or v > out:
            out = v
    return out


def rule_dues(row: dict, rules: dict) -> dict[str, dict]:
    """When each enabled rule falls due for this customer: {rule: {"due": datetime, "since":
    reference datetime, "days": N}}; protection also {"active": bool}."""
    since = row.get("own_since") or row["created_at"]
    out: dict[str, dict] = {}
    if rules["protection_days"] and row.get("own_since"):
        due = row["own_since"] + dt.timedelta(days=rules["protection_days"])
        ordered = row.get("last_order_created") and row["last_order_created"] >= row["own_since"]
        out["protection"] = {"due": None if ordered else due, "since": row["own_since"], "end": due,
                             "days": rules["protection_days"]}  # fmt: skip
    if rules["no_touch_days"]:
        last = _latest(row.get("last_interaction"), row.get("last_quotation"), row.get("last_sample"))
        ref = _latest(since, last)
        out["no_touch"] = {"due": ref + dt.timedelta(days=rules["no_touch_days"]), "since": ref,
                           "touched": last is not None and ref == last, "days": rules["no_touch_days"]}  # fmt: skip
    if rules["no_opportunity_days"]:
        ref = _latest(since, row.get("last_opportunity"), row.get("last_opportunity_closed"))
        due = None if row.get("open_opportunity") else ref + dt.timedelta(days=rules["no_opportunity_days"])
        out["no_opportunity"] = {"due": due, "since": ref, "days": rules["no_opportunity_days"]}
    if rules["no_order_days"]:
        ref = _latest(since, row.get("last_order"))
        out["no_order"] = {"due": ref + dt.timedelta(days=rules["no_order_days"]), "since": ref,
                           "days": rules["no_order_days"]}  # fmt: skip
    return out


def first_due(row: dict, rules: dict, now: dt.datetime) -> tuple[str, dict] | None:
    """The rule that recalls (or will recall) the customer first, honouring the protection period."""
    dues = rule_dues(row, rules)
    prot = dues.get("protection")
    if prot and prot["end"] > now:
        # protected: only the end of the protection period can recall it (unless it orders)
        return ("protection", prot) if prot["due"] else None
    found = [(name, dues[name]) for name in RULE_ORDER if name in dues and dues[name]["due"] is not None]
    if not found:
        return None
    return min(found, key=lambda nd: (nd[1]["due"], RULE_ORDER.index(nd[0])))


def reason_text(rule: str, info: dict, now: dt.datetime) -> tuple[str, dict]:
    """The reason in words (in the active language) and its facts for PoolMove.params."""
    days = max(0, (timezone.localdate(now) - timezone.localdate(info["since"])).days)
    params = {"rule": rule, "days": days, "limit": info["days"]}
    return render_reason(params), params


def render_reason(params: dict) -> str:
    """PoolMove.params back into words, in the reader's language."""
    rule = params.get("rule")
    if rule == "no_touch":
        return _("no verifiable touch for %(days)s days") % params
    if rule == "no_opportunity":
        return _("no opportunity for %(days)s days") % params
    if rule == "no_order":
        return _("no order for %(days)s days") % params
    if rule == "protection":
        return _("protection period of %(limit)s days ended without an order") % params
    return ""


def rule_label(rule: str, info: dict) -> str:
    if rule == "no_touch":
        return _("a verifiable touch (email, call with duration, meeting, quotation, sample…)")
    if rule == "no_opportunity":
        return _("a new opportunity")
    if rule == "no_order":
        return _("an order")
    return _("an order")


__all__ = ["RECALL_FIELDS", "PoolScope", "annotate_facts", "due_companies", "first_due", "pool_scopes"]
