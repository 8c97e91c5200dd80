"""Assignment rules: who gets a new customer (or inquiry), from any entry point.

`Assigner` compiles the active rules once (a request, or a whole import) and decides per record in
Python: the first rule (by `position`) whose conditions hold and that can place the record wins.
A rule that targets a team skips inactive reps and reps at the rule's maximum holdings; round robin
continues after the rep it picked last (kept on the rule), least-loaded picks the rep holding the
fewest customers (ties: lowest id). A rule that cannot place the record (nobody eligible) is passed
over, and the explanation says so. Every assignment is audited with the rule and the reasons, and
the new owner is told (after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .conditions import RuleIndex, compile_predicate, describe, explain, fields_for, fields_used
from .models import AssignmentRule, AssignTo

NOTICE = "automation_assigned"


@dataclass
class Decision:
    rule_id: int
    rule_name: str
    user_id: int | None = None
    team_id: int | None = None
    pool_id: int | None = None
    why: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"rule": self.rule_id, "rule_name": self.rule_name, "owner": self.user_id, "team": self.team_id,
                "pool": self.pool_id, "why": self.why}  # fmt: skip


class Assigner:
    def __init__(self, entity: str = "company", rules: list[AssignmentRule] | None = None):
        from tradecrm.accounts.models import User

        self.entity = entity
        if rules is None:
            rules = list(AssignmentRule.objects.filter(entity=entity, active=True).order_by("position", "id"))
        self.fields = fields_for(entity)
        self.rules = [(r, compile_predicate(r.conditions)) for r in rules]
        # only the rules a record can match are tried (see RuleIndex); their explanation is written
        # once per rule, not per record
        self.index = RuleIndex([r.conditions for r in rules], self.fields)
        self._why: dict[int, list[str]] = {}
        self._texts: dict[str, str] | None = None
        self.needed = set()
        for r, _p in self.rules:
            self.needed |= fields_used(r.conditions)
        team_ids = {r.team_id for r, _p in self.rules if r.team_id and r.assign_to != AssignTo.USER}
        user_ids = {r.user_id for r, _p in self.rules if r.user_id}
        from django.db.models import Q

        users = (User.objects.filter(Q(team_id__in=team_ids) | Q(pk__in=user_ids), is_active=True)
                 if team_ids or user_ids else User.objects.none())  # fmt: skip
        self.members: dict[int, list[int]] = {t: [] for t in team_ids}
        self.active_users: dict[int, int | None] = {}
        for uid, tid, role in users.order_by("id").values_list("id", "team_id", "role"):
            self.active_users[uid] = tid
            if tid in self.members and role != "admin":
                self.members[tid].append(uid)
        self.held: dict[int, int] | None = None
        self.last = {r.id: r.last_user_id for r, _p in self.rules}
        self.moved_rr: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def _holdings(self) -> dict[int, int]:
        if self.held is None:
            from tradecrm.customers.models import Company

            ids = list(self.active_users)
            self.held = dict.fromkeys(ids, 0)
            if ids:
                for owner_id, n in (Company.objects.filter(owner_id__in=ids).order_by()
                                    .values_list("owner_id").annotate(n=Count("id"))):  # fmt: skip
                    self.held[owner_id] = n
        return self.held

    def _place(self, r: AssignmentRule, why: list[str]) -> Decision | None:
        if r.assign_to == AssignTo.POOL:
            return Decision(r.id, r.name, pool_id=r.pool_id, team_id=None, why=why)
        cap = r.max_holdings
        if r.assign_to == AssignTo.USER:
            if r.user_id not in self.active_users:
                why.append(self._t("inactive"))
                return None
            if cap and self._holdings().get(r.user_id, 0) >= cap:
                why.append(self._t("full") % {"n": self._holdings()[r.user_id], "max": cap})
                return None
            return Decision(r.id, r.name, user_id=r.user_id, team_id=self.active_users[r.user_id], why=why)
        members = self.members.get(r.team_id, [])
        held = self._holdings() if (cap or r.assign_to == AssignTo.LEAST_LOADED) else {}
        eligible = [u for u in members if not cap or held.get(u, 0) < cap]
        if not eligible:
            why.append(self._t("nobody"))
            return None
        if r.assign_to == AssignTo.LEAST_LOADED:
            pick = min(eligible, key=lambda u: (held.get(u, 0), u))
            why.append(self._t("least") % {"n": held.get(pick, 0)})
        else:
            last = self.last.get(r.id)
            later = [u for u in eligible if last is None or u > last]
            pick = later[0] if later else eligible[0]
            self.last[r.id] = pick
            self.moved_rr.add(r.id)
            why.append(self._t("turn"))
        return Decision(r.id, r.name, user_id=pick, team_id=r.team_id, why=why)

    def _t(self, key: str) -> str:
        """The explanation texts, translated once per assigner (an import asks per row)."""
        if self._texts is None:
            self._texts = {
                "inactive": _("the rule's user is not active: passed over"),
                "full": _("the rule's user holds %(n)s customers already (maximum %(max)s): passed over"),
                "nobody": _("nobody in the team is active and below the maximum holdings: passed over"),
                "least": _("least loaded rep of the team (%(n)s customers)"),
                "turn": _("next rep of the team in turn"),
            }
        return self._texts[key]

    def _why_of(self, r: AssignmentRule) -> list[str]:
        why = self._why.get(r.id)
        if why is None:
            why = [_("rule “%(rule)s” matched") % {"rule": r.name}]
            why += [describe(c, self.fields) for c in _leaves(r.conditions)] or [_("no conditions")]
            self._why[r.id] = why
        return list(why)

    def decide(self, values: dict) -> Decision | None:
        rules = self.rules
        for i in self.index.candidates(values):
            r, pred = rules[i]
            if pred(values):
                d = self._place(r, self._why_of(r))
                if d is not None:
                    if d.user_id is not None and self.held is not None:
                        self.held[d.user_id] = self.held.get(d.user_id, 0) + 1
                    return d
        return None

    def trace(self, values: dict) -> list[dict]:
        """For the test box: each rule, whether its conditions hold, and why."""
        out = []
        fired = False
        for r, _pred in self.rules:
            ok, lines = explain(r.conditions, values, self.fields)
            placed = None
            note = ""
            if ok and not fired:
                why: list[str] = []
                placed = self._place(r, why)
                note = "; ".join(why)
                fired = placed is not None
            out.append({"rule": r.id, "name": r.name, "matches": ok, "fires": bool(ok and placed),
                        "conditions": lines, "note": note, "decision": placed.as_dict() if placed else None})  # fmt: skip
        return out

    def save_state(self) -> None:
        """Round robin continues where this run left off."""
        for rid in self.moved_rr:
            AssignmentRule.objects.filter(pk=rid).update(last_user_id=self.last[rid])
        self.moved_rr.clear()


def _leaves(tree) -> list[dict]:
    if not tree:
        return []
    if "field" in tree:
        return [tree]
    return [leaf for c in tree.get("all", tree.get("any", [])) for leaf in _leaves(c)]


def company_values(company_id: int | None = None, company=None) -> dict:
    """The values conditions read, of one customer."""
    from tradecrm.customers.models import Company

    names = [f for f in fields_for("company")]
    if company is None:
        company = Company.objects.get(pk=company_id)
    out = {n: getattr(company, n, None) for n in names if n not in ("tier", "owner", "team")}
    out["owner"], out["team"] = company.owner_id, company.team_id
    out["tier"] = ""
    if company.pk:
        from tradecrm.grading.models import CompanyGrade

        out["tier"] = (
            CompanyGrade.objects.filter(company_id=company.pk).values_list("tier", flat=True).first() or ""
        )
    return out


def _display(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def apply_to_company(*, company, decision: Decision, actor, now=None) -> None:
    """Give the customer to the decision's owner (or put it into the pool), audited, owner told."""
    from tradecrm.accounts.models import User
    from tradecrm.audit.services import audit_record
    from tradecrm.customers.models import Company
    from tradecrm.followups.notifications import notify

    now = now or timezone.now()
    before = company.owner_id
    if decision.pool_id:
        from tradecrm.pool.models import MoveKind, PoolEntry, PoolMove

        Company.objects.filter(pk=company.pk).update(owner=None, updated_at=now)
        company.owner_id = None
        reason = _("Assignment rule “%(rule)s”") % {"rule": decision.rule_name}
        PoolEntry.objects.update_or_create(company_id=company.pk, defaults={
            "pool_id": decision.pool_id, "since": now, "previous_owner_id": None, "kind": MoveKind.RELEASE,
            "reason": reason[:255], "country": company.country or ""})  # fmt: skip
        PoolMove.objects.create(company_id=company.pk, pool_id=decision.pool_id, kind=MoveKind.RELEASE,
                                from_owner_id=before, reason=reason[:255], params=decision.as_dict(),
                                actor=actor if getattr(actor, "pk", None) else None, at=now)  # fmt: skip
    else:
        Company.objects.filter(pk=company.pk).update(owner_id=decision.user_id, team_id=decision.team_id,
                                                     updated_at=now)  # fmt: skip
        company.owner_id, company.team_id = decision.user_id, decision.team_id
    audit_record(actor=actor, action="automation.assign", obj=company,
                 changes={"owner": [before, company.owner_id], "team": decision.team_id, "pool": decision.pool_id,
                          "rule": decision.rule_id, "why": decision.why})  # fmt: skip
    if decision.user_id and decision.user_id != getattr(actor, "pk", None):
        user_id, name, cid = decision.user_id, company.name, company.pk

        def tell():
            user = User.objects.filter(pk=user_id).first()
            if user:
                notify(user, NOTICE, {"company": name, "rule": decision.rule_name, "why": "; ".join(decision.why[1:])},
                       url=reverse("customers:company_detail", args=[cid]), company=company)  # fmt: skip

        transaction.on_commit(tell)


def assign_new_company(*, company, actor) -> Decision | None:
    """Called by company_create when the caller did not name an owner."""
    assigner = Assigner("company")
    if not assigner:
        return None
    decision = assigner.decide(company_values(company=company))
    if decision is None:
        return None
    apply_to_company(company=company, decision=decision, actor=actor)
    assigner.save_state()
    return decision


def assign_new_inquiry(*, inquiry, actor) -> Decision | None:
    """Called by inquiry_create when the caller did not name an owner (pool targets do not apply)."""
    from tradecrm.audit.services import audit_record
    from tradecrm.followups.notifications import notify
    from tradecrm.sales.models import Inquiry

    assigner = Assigner("inquiry")
    if not assigner:
        return None
    values = {"channel": inquiry.channel, "country": inquiry.buyer_country, "status": inquiry.status,
              "destination_country": inquiry.destination_country, "subject": inquiry.subject,
              "message": inquiry.message, "owner": inquiry.owner_id, "company": inquiry.company_id}  # fmt: skip
    decision = assigner.decide(values)
    if decision is None or not decision.user_id:
        return None
    Inquiry.objects.filter(pk=inquiry.pk).update(owner_id=decision.user_id, team_id=decision.team_id)
    inquiry.owner_id, inquiry.team_id = decision.user_id, decision.team_id
    assigner.save_state()
    audit_record(actor=actor, action="automation.assign", obj=inquiry,
                 changes={"owner": [None, decision.user_id], "rule": decision.rule_id, "why": decision.why})  # fmt: skip
    if decision.user_id != getattr(actor, "pk", None):
        from tradecrm.accounts.models import User

        uid, subject, rule = decision.user_id, inquiry.subject or inquiry.buyer_company, decision.rule_name

        def tell():
            user = User.objects.filter(pk=uid).first()
            if user:
                notify(user, NOTICE, {"company": subject, "rule": rule, "why": "; ".join(decision.why[1:])})

        transaction.on_commit(tell)
    return decision


def render_notice(p: dict) -> str:
    return _("%(company)s was assigned to you by the rule “%(rule)s” (%(why)s)") % {
        "company": p.get("company", ""), "rule": p.get("rule", ""), "why": p.get("why", "")}  # fmt: skip
