"""Which customer an address belongs to, for one user: first a contact with that address, then a
company that uses it (a free-mail address on the company), then a company with that email domain
(free-mail and shared-platform domains excluded: dedup.normalize.email_domain_key). Only customers
the user can see count. Lookups go through the duplicate-check key tables (hashed, indexed), in
batches, and are remembered for the rest of the sync."""

from __future__ import annotations

from dataclasses import dataclass

from tradecrm.accounts.access import company_visibility_q
from tradecrm.customers.models import Company, Contact
from tradecrm.dedup.keys import DOMAIN, EMAIL, key_hash
from tradecrm.dedup.models import CompanyKey, ContactKey
from tradecrm.dedup.normalize import email_domain_key

_CHUNK = 400


@dataclass(frozen=True)
class Match:
    company_id: int
    contact_id: int | None


class Matcher:
    def __init__(self, user):
        self.user = user
        self._q = company_visibility_q(user)
        self._cache: dict[str, Match | None] = {}

    def _visible(self, company_ids) -> set[int]:
        ids = set(company_ids)
        if not ids:
            return set()
        qs = Company.objects.filter(id__in=ids)
        if self._q is not None:
            qs = qs.filter(self._q)
        return set(qs.values_list("id", flat=True))

    def match_many(self, addresses) -> dict[str, Match | None]:
        todo = sorted({a.lower() for a in addresses if a} - self._cache.keys())
        for i in range(0, len(todo), _CHUNK):
            self._resolve(todo[i : i + _CHUNK])
        return {a.lower(): self._cache.get(a.lower()) for a in addresses if a}

    def match(self, address: str) -> Match | None:
        return self.match_many([address]).get(address.lower())

    def _resolve(self, addrs: list[str]) -> None:
        found: dict[str, Match] = {}
        # 1. a contact with this address (primary or any of its emails)
        by_hash = {key_hash(EMAIL, a): a for a in addrs}
        pairs = list(ContactKey.objects.filter(kind=EMAIL, key__in=list(by_hash)).values_list("contact_id", "key"))
        if pairs:
            rows = {r["id"]: r for r in Contact.objects.filter(id__in={c for c, _k in pairs})
                    .values("id", "company_id", "email", "emails")}  # fmt: skip
            visible = self._visible(r["company_id"] for r in rows.values())
            for contact_id, key in sorted(pairs):
                r, addr = rows.get(contact_id), by_hash.get(key)
                if r is None or addr is None or addr in found or r["company_id"] not in visible:
                    continue
                own = {(r["email"] or "").lower(), *((e or "").lower() for e in r["emails"] or [])}
                if addr in own:  # not a hash collision
                    found[addr] = Match(r["company_id"], r["id"])
        rest = [a for a in addrs if a not in found]
        # 2. a company's own (free-mail) address, 3. its email domain
        keys: dict[tuple[int, int], list[str]] = {}
        for a in rest:
            keys.setdefault((EMAIL, key_hash(EMAIL, a)), []).append(a)
            d = email_domain_key(a)
            if d:
                keys.setdefault((DOMAIN, key_hash(DOMAIN, d)), []).append(a)
        if keys:
            hits = list(
                CompanyKey.objects.filter(kind__in=[EMAIL, DOMAIN], key__in=[k for _kind, k in keys])
                .values_list("company_id", "kind", "key")
            )
            visible = self._visible(c for c, _k, _h in hits)
            best: dict[str, tuple[int, int]] = {}
            for company_id, kind, key in hits:
                if company_id not in visible:
                    continue
                for a in keys.get((kind, key), []):
                    rank = (0 if kind == EMAIL else 1, company_id)  # exact address first, then oldest
                    if a not in best or rank < best[a]:
                        best[a] = rank
            for a, (_rank, company_id) in best.items():
                found[a] = Match(company_id, None)
        for a in addrs:
            self._cache[a] = found.get(a)
