"""Assignment rules inside an import: compiled once per import, evaluated per new customer row in
Python, the owner and team written in the same INSERT as the row (the importer's raw, chunked
writer). Rows that name an owner, and imports with an owner chosen for the whole file, keep it.

Pool decisions add a pool entry per customer in the chunk's transaction. At the end the import
writes one audit event per rule (how many customers it gave to whom, tagged with the import job)
and tells each new owner once, instead of one event and one notification per row.
"""

from __future__ import annotations

import json
from collections import Counter

from django.db import transaction
from django.utils.translation import gettext as _

from .assignment import NOTICE, Assigner

_MID = ("name", "name_local", "country", "city", "address", "website", "email", "email_domains", "phones", "industry",
        "tax_id", "business_type", "company_size", "annual_purchase", "main_products", "hs_codes", "source",
        "source_detail", "timezone", "preferred_language", "currency", "credit_rating", "cooperation_since",
        "status")  # fmt: skip
_INDEX = {f: i for i, f in enumerate(_MID)}


class ImportAssigner:
    def __init__(self, job, actor, assigner: Assigner, *, dry_run: bool):
        self.job, self.actor, self.assigner, self.dry_run = job, actor, assigner, dry_run
        needed = [f for f in assigner.needed if f in _INDEX]
        self.picks = [(f, _INDEX[f]) for f in needed]
        self.json_fields = {"hs_codes", "email_domains", "phones"} & set(needed)
        self.counts: Counter = Counter()  # (rule id, rule name, owner id, pool id) -> customers
        self.pending_pool: int | None = None
        self.pools: dict[int, int] = {}  # id(rec) -> pool id
        self.rows = 0

    @classmethod
    def for_import(cls, job, actor, *, dry_run: bool, explicit_owner: bool) -> ImportAssigner | None:
        if explicit_owner or getattr(job, "entity", "companies") != "companies":
            return None
        assigner = Assigner("company")
        if not assigner:
            return None
        return cls(job, actor, assigner, dry_run=dry_run)

    def values(self, row) -> dict:
        if row.values is not None:
            v = dict(row.values)
        else:
            mid = row.prep[0]
            v = {f: mid[i] for f, i in self.picks}
            for f in self.json_fields:
                if isinstance(v.get(f), str):
                    v[f] = json.loads(v[f])
        v.setdefault("tier", "")
        return v

    def decide(self, row, default: tuple) -> tuple:
        """(owner id, team id) for a new row; remembers a pool decision for `bind`."""
        self.pending_pool = None
        self.rows += 1
        d = self.assigner.decide(self.values(row))
        if d is None:
            return default
        self.counts[(d.rule_id, d.rule_name, d.user_id, d.pool_id)] += 1
        if d.pool_id:
            self.pending_pool = d.pool_id
            return (None, None)
        return (d.user_id, d.team_id)

    def bind(self, rec) -> None:
        if self.pending_pool:
            self.pools[id(rec)] = self.pending_pool
            self.pending_pool = None

    def after_insert(self, w, new_recs, now) -> None:
        """Pool entries of the chunk's customers the rules sent to a pool (same transaction)."""
        if not self.pools:
            return
        rows = []
        for rec in new_recs:
            pool_id = self.pools.pop(id(rec), None)
            if pool_id:
                country = (rec.values or {}).get("country") if rec.prep is None else rec.prep[0][2]
                rows.append(
                    (rec.id, pool_id, now, None, "release", _("Assignment rule")[:255], country or "")
                )
        if rows:
            w.insert("pool_poolentry", ("company_id", "pool_id", "since", "previous_owner_id", "kind", "reason",
                                        "country"), rows)  # fmt: skip

    def finish(self) -> None:
        if self.dry_run or not self.counts:
            return
        from tradecrm.accounts.models import User
        from tradecrm.audit.services import audit_record
        from tradecrm.followups.notifications import notify

        self.assigner.save_state()
        by_rule: dict[int, dict] = {}
        for (rule_id, name, user_id, pool_id), n in self.counts.items():
            r = by_rule.setdefault(rule_id, {"rule": rule_id, "rule_name": name, "owners": {}, "pools": {}})
            if pool_id:
                r["pools"][str(pool_id)] = r["pools"].get(str(pool_id), 0) + n
            else:
                r["owners"][str(user_id)] = r["owners"].get(str(user_id), 0) + n
        with transaction.atomic():
            for info in by_rule.values():
                audit_record(actor=self.actor, action="automation.assign_import", object_type="imports.importjob",
                             object_id=self.job.pk, changes=info)  # fmt: skip
        users = {u.pk: u for u in User.objects.filter(pk__in={k[2] for k in self.counts if k[2]})}
        totals: Counter = Counter()
        for (_rule_id, name, user_id, _pool_id), n in self.counts.items():
            if user_id:
                totals[(user_id, name)] += n
        for (user_id, name), n in totals.items():
            if user_id in users and user_id != getattr(self.actor, "pk", None):
                notify(users[user_id], NOTICE, {"company": _("%(n)s customers of import #%(job)s") % {"n": n, "job": self.job.pk},
                                                "rule": name, "why": _("import")},
                       key=f"import_assign:{self.job.pk}:{user_id}:{name}"[:128])  # fmt: skip
        self.counts.clear()
