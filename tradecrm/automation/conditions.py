"""The condition language of assignment and workflow rules.

A condition is a small JSON tree::

    {"all": [{"field": "country", "op": "in", "value": ["DE", "FR"]},
             {"any": [{"field": "source", "op": "eq", "value": "trade_show"},
                      {"field": "hs_codes", "op": "startswith", "value": "8471"}]}]}

An empty dict (or {"all": []}) always holds. Fields come from a registry per record type
(`FIELDS`); an unknown field, an operator the field's type does not have, a value of the wrong
kind, or an "all" group that can never hold (``amount > 10`` and ``amount < 5``) is refused with
the path of the bad node. A valid tree compiles once to a Python predicate over a dict of values
(`compile_predicate`, used per record and per import row) and, for customers, to a Django Q
(`to_q`, used by scheduled rules and dry runs, set-based).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tradecrm.core.errors import Errors

STR, CHOICE, NUMBER, LIST, TEXT, BOOL = "str", "choice", "number", "list", "text", "bool"

OPS: dict[str, tuple[str, ...]] = {
    STR: ("eq", "ne", "in", "not_in", "contains", "startswith", "empty", "not_empty"),
    CHOICE: ("eq", "ne", "in", "not_in", "empty", "not_empty"),
    NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte", "empty", "not_empty"),
    LIST: ("contains", "startswith", "empty", "not_empty"),
    TEXT: ("contains", "empty", "not_empty"),
    BOOL: ("eq",),
}
OP_LABELS = {
    "eq": gettext_lazy("is"), "ne": gettext_lazy("is not"), "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is none of"), "contains": gettext_lazy("contains"),
    "startswith": gettext_lazy("starts with"), "empty": gettext_lazy("is empty"),
    "not_empty": gettext_lazy("is not empty"), "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
}  # fmt: skip
NO_VALUE = frozenset({"empty", "not_empty"})
MAX_NODES = 100


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: Any
    path: str = ""  # ORM path on the record's model; "" = not queryable set-based
    choices: Callable[[], list[str]] | None = None
    upper: bool = False
    settable: bool = False  # the "set a field" action may write it

    @property
    def orm(self) -> str:
        return self.path or self.name


def _choices(enum_path: str) -> Callable[[], list[str]]:
    def get() -> list[str]:
        module, name = enum_path.rsplit(".", 1)
        mod = __import__(module, fromlist=[name])
        return [v for v, _label in getattr(mod, name).choices]

    return get


def _tiers() -> list[str]:
    from tradecrm.grading.models import Tier

    return list(Tier.objects.values_list("code", flat=True))


_C = "tradecrm.customers.models."
COMPANY_FIELDS = [
    Field("name", STR, gettext_lazy("Company name")),
    Field("country", STR, gettext_lazy("Country"), upper=True),
    Field("city", STR, gettext_lazy("City")),
    Field("source", CHOICE, gettext_lazy("Source"), choices=_choices(_C + "Source"), settable=True),
    Field("source_detail", STR, gettext_lazy("Source detail")),
    Field("status", CHOICE, gettext_lazy("Lifecycle status"), choices=_choices(_C + "Status"), settable=True),
    Field("business_type", CHOICE, gettext_lazy("Business type"), choices=_choices(_C + "BusinessType"),
          settable=True),
    Field("company_size", CHOICE, gettext_lazy("Company size"), choices=_choices(_C + "CompanySize")),
    Field("annual_purchase", CHOICE, gettext_lazy("Annual purchase"), choices=_choices(_C + "PurchaseBand")),
    Field("credit_rating", CHOICE, gettext_lazy("Credit rating"), choices=_choices(_C + "CreditRating"),
          settable=True),
    Field("preferred_language", STR, gettext_lazy("Language")),
    Field("industry", STR, gettext_lazy("Industry"), settable=True),
    Field("main_products", TEXT, gettext_lazy("Product line (main products)")),
    Field("hs_codes", LIST, gettext_lazy("HS codes")),
    Field("tier", CHOICE, gettext_lazy("Tier"), path="grade__tier", choices=_tiers),
    Field("owner", NUMBER, gettext_lazy("Owner (user id)"), path="owner_id"),
    Field("team", NUMBER, gettext_lazy("Team (id)"), path="team_id"),
]  # fmt: skip
INQUIRY_FIELDS = [
    Field("channel", CHOICE, gettext_lazy("Channel (source)"), choices=_choices("tradecrm.sales.models.InquiryChannel")),
    Field("country", STR, gettext_lazy("Buyer's country"), path="buyer_country", upper=True),
    Field("destination_country", STR, gettext_lazy("Destination country"), upper=True),
    Field("subject", STR, gettext_lazy("Subject")),
    Field("message", TEXT, gettext_lazy("Message")),
    Field("status", CHOICE, gettext_lazy("Status"), choices=_choices("tradecrm.sales.models.InquiryStatus")),
    Field("owner", NUMBER, gettext_lazy("Owner (user id)"), path="owner_id"),
    Field("company", NUMBER, gettext_lazy("Customer (id)"), path="company_id"),
]  # fmt: skip
# What an event tells beyond the record: `event.<name>` in conditions.
EVENT_FIELDS: dict[str, list[Field]] = {
    "stage.changed": [Field("event.stage_from", NUMBER, gettext_lazy("Stage before (id)")),
                      Field("event.stage_to", NUMBER, gettext_lazy("Stage after (id)"))],
    "tier.changed": [Field("event.tier_from", STR, gettext_lazy("Tier before")),
                     Field("event.tier_to", STR, gettext_lazy("Tier after"))],
    "order.status_changed": [Field("event.status_from", STR, gettext_lazy("Order status before")),
                             Field("event.status_to", STR, gettext_lazy("Order status after"))],
    "survey.score_received": [Field("event.score", NUMBER, gettext_lazy("Survey score"))],
    "ticket.sla_breached": [Field("event.priority", STR, gettext_lazy("Ticket priority"))],
    "mail.received": [Field("event.subject", STR, gettext_lazy("Mail subject"))],
    "record.updated": [Field("event.changed", LIST, gettext_lazy("Changed fields"))],
    "followup.overdue": [Field("event.days_overdue", NUMBER, gettext_lazy("Days overdue"))],
    "payment.overdue": [Field("event.days_overdue", NUMBER, gettext_lazy("Days overdue"))],
    "quotation.expiring": [Field("event.days_left", NUMBER, gettext_lazy("Days left"))],
    "approval.decided": [Field("event.status", STR, gettext_lazy("Decision"))],
}  # fmt: skip
FIELDS: dict[str, dict[str, Field]] = {
    "company": {f.name: f for f in COMPANY_FIELDS},
    "inquiry": {f.name: f for f in INQUIRY_FIELDS},
}


def fields_for(entity: str, event: str = "") -> dict[str, Field]:
    out = dict(FIELDS.get(entity, FIELDS["company"]))
    for f in EVENT_FIELDS.get(event, []):
        out[f.name] = f
    return out


# --- validation -----------------------------------------------------------------------------------


@dataclass
class _Bounds:
    eq: set = field(default_factory=set)
    ne: set = field(default_factory=set)
    ins: list = field(default_factory=list)
    not_in: set = field(default_factory=set)
    lo: tuple | None = None  # (value, strict)
    hi: tuple | None = None
    empty: bool = False
    not_empty: bool = False


def _number(v) -> Decimal | None:
    if isinstance(v, bool):
        return None
    try:
        return Decimal(str(v))
    except (InvalidOperation, ValueError):
        return None


def _clean_value(f: Field, op: str, value, where: str, errors: Errors):
    if op in NO_VALUE:
        return None
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            errors.add(where, _("“%(field)s %(op)s” needs a non-empty list of values.")
                       % {"field": f.label, "op": OP_LABELS[op]})  # fmt: skip
            return None
        return [_clean_value(f, "eq", v, where, errors) for v in value]
    if f.type == NUMBER:
        n = _number(value)
        if n is None:
            errors.add(
                where,
                _("“%(field)s” compares with a number, not “%(value)s”.")
                % {"field": f.label, "value": value},
            )
            return None
        return int(n) if n == n.to_integral_value() else float(n)
    if f.type == BOOL:
        if not isinstance(value, bool):
            errors.add(where, _("“%(field)s” is true or false.") % {"field": f.label})
        return bool(value)
    if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value).strip() == "":
        errors.add(where, _("Enter a value for “%(field)s”.") % {"field": f.label})
        return None
    value = str(value).strip()
    if f.upper:
        value = value.upper()
    if f.type == CHOICE and f.choices and op in ("eq", "ne"):
        allowed = f.choices()
        if value not in allowed:
            errors.add(where, _("“%(value)s” is not a value of “%(field)s” (allowed: %(allowed)s).")
                       % {"value": value, "field": f.label, "allowed": ", ".join(a for a in allowed if a) or "—"})  # fmt: skip
    return value


def _check_possible(bounds: dict[str, _Bounds], labels: dict[str, Any], where: str, errors: Errors) -> None:
    for name, b in bounds.items():
        label = labels[name]
        msg = None
        allowed = None
        for s in b.ins:
            allowed = set(s) if allowed is None else allowed & set(s)
        if len(b.eq) > 1:
            msg = _("“%(field)s” cannot equal %(values)s at once.") % {
                "field": label,
                "values": " and ".join(map(str, sorted(b.eq, key=str))),
            }
        elif b.eq and (b.eq & b.ne or b.eq & b.not_in):
            msg = _("“%(field)s” is required to be and not to be %(value)s.") % {
                "field": label,
                "value": next(iter(b.eq)),
            }
        elif allowed is not None and not (allowed - b.ne - b.not_in):
            msg = _("No value of “%(field)s” satisfies all the lists it must be one of.") % {"field": label}
        elif b.eq and allowed is not None and not (b.eq & allowed):
            msg = _("“%(field)s” must equal %(value)s but also be one of a list without it.") % {
                "field": label,
                "value": next(iter(b.eq)),
            }
        elif b.empty and (b.not_empty or b.eq or b.ins or b.lo or b.hi):
            msg = _("“%(field)s” cannot be empty and have a value at once.") % {"field": label}
        elif b.lo and b.hi and (b.lo[0] > b.hi[0] or (b.lo[0] == b.hi[0] and (b.lo[1] or b.hi[1]))):
            msg = _("“%(field)s” cannot be above %(lo)s and below %(hi)s at once.") % {
                "field": label,
                "lo": b.lo[0],
                "hi": b.hi[0],
            }
        elif b.eq and (b.lo or b.hi):
            v = _number(next(iter(b.eq)))
            if v is not None and (
                (b.lo and (v < b.lo[0] or (v == b.lo[0] and b.lo[1])))
                or (b.hi and (v > b.hi[0] or (v == b.hi[0] and b.hi[1])))
            ):
                msg = _("“%(field)s” = %(value)s contradicts its other bounds.") % {
                    "field": label,
                    "value": v,
                }
        if msg:
            errors.add(where, _("Impossible condition: %(why)s") % {"why": msg})  # fmt: skip


def clean_conditions(tree, fields: dict[str, Field], errors: Errors, where: str = "conditions") -> dict:
    """The validated, normalised tree ({"all": [...]} or {"any": [...]}); errors name the node."""
    if tree in (None, "", {}):
        return {}
    count = [0]

    def node(n, path: str):
        count[0] += 1
        if count[0] > MAX_NODES:
            errors.add(where, _("At most %(n)s conditions per rule.") % {"n": MAX_NODES})
            return None
        if not isinstance(n, dict):
            errors.add(path, _("A condition is an object with field, op and value, or a group with all/any."))
            return None
        for key in ("all", "any"):
            if key in n:
                items = n[key]
                if not isinstance(items, list):
                    errors.add(path, _("“%(key)s” holds a list of conditions.") % {"key": key})
                    return None
                out = [
                    c for i, item in enumerate(items) if (c := node(item, f"{path}.{key}[{i}]")) is not None
                ]
                if key == "all":
                    _group_possible(out, path)
                return {key: out}
        name = n.get("field")
        op = n.get("op")
        f = fields.get(name) if isinstance(name, str) else None
        if f is None:
            errors.add(path, _("Unknown field “%(field)s” (known: %(known)s).")
                       % {"field": name, "known": ", ".join(sorted(fields))})  # fmt: skip
            return None
        if op not in OPS[f.type]:
            errors.add(path, _("“%(field)s” has no operator “%(op)s” (use one of: %(ops)s).")
                       % {"field": f.label, "op": op, "ops": ", ".join(OPS[f.type])})  # fmt: skip
            return None
        value = _clean_value(f, op, n.get("value"), path, errors)
        out = {"field": name, "op": op}
        if op not in NO_VALUE:
            out["value"] = value
        return out

    def _group_possible(items: list, path: str) -> None:
        bounds: dict[str, _Bounds] = {}
        for c in items:
            if "field" not in c:
                continue
            b = bounds.setdefault(c["field"], _Bounds())
            op, v = c["op"], c.get("value")
            if v is None and op not in NO_VALUE:
                continue
            if op == "eq":
                b.eq.add(v)
            elif op == "ne":
                b.ne.add(v)
            elif op == "in":
                b.ins.append(v)
            elif op == "not_in":
                b.not_in |= set(v)
            elif op in ("gt", "gte"):
                n = _number(v)
                cand = (n, op == "gt")
                if b.lo is None or cand[0] > b.lo[0] or (cand[0] == b.lo[0] and cand[1]):
                    b.lo = cand
            elif op in ("lt", "lte"):
                n = _number(v)
                cand = (n, op == "lt")
                if b.hi is None or cand[0] < b.hi[0] or (cand[0] == b.hi[0] and cand[1]):
                    b.hi = cand
            elif op == "empty":
                b.empty = True
            elif op == "not_empty":
                b.not_empty = True
        _check_possible(bounds, {k: fields[k].label for k in bounds}, path, errors)

    out = node(tree, where)
    if out is None:
        return {}
    return out


def fields_used(tree) -> set[str]:
    if not tree:
        return set()
    if "field" in tree:
        return {tree["field"]}
    out: set[str] = set()
    for c in tree.get("all", tree.get("any", [])):
        out |= fields_used(c)
    return out


def top_level_requirements(tree) -> list[dict]:
    """The leaf conditions every match must satisfy (the top "all" group's leaves)."""
    if not tree:
        return []
    if "field" in tree:
        return [tree]
    return [c for c in tree.get("all", []) if "field" in c]


# --- evaluation -------------------------------------------------------------------------------------


def _leaf(c: dict) -> Callable[[dict], bool]:
    name, op, v = c["field"], c["op"], c.get("value")
    get = lambda r: r.get(name)  # noqa: E731
    if op == "eq":
        return lambda r: _eq(get(r), v)
    if op == "ne":
        return lambda r: not _eq(get(r), v)
    if op == "in":
        vs = frozenset(v)
        return lambda r: _norm(get(r)) in vs
    if op == "not_in":
        vs = frozenset(v)
        return lambda r: _norm(get(r)) not in vs
    if op == "contains":
        low = str(v).lower()
        return lambda r: _contains(get(r), low)
    if op == "startswith":
        low = str(v).lower()
        return lambda r: _startswith(get(r), low)
    if op == "empty":
        return lambda r: get(r) in (None, "", [], {})
    if op == "not_empty":
        return lambda r: get(r) not in (None, "", [], {})
    num = _number(v)
    cmp = {
        "gt": lambda a: a > num,
        "gte": lambda a: a >= num,
        "lt": lambda a: a < num,
        "lte": lambda a: a <= num,
    }[op]

    def compare(r):
        a = _number(get(r)) if get(r) not in (None, "") else None
        return a is not None and cmp(a)

    return compare


def _norm(x):
    if isinstance(x, str):
        return x
    return x if not isinstance(x, bool) else x


def _eq(a, b) -> bool:
    if a == b:
        return True
    if isinstance(a, (int, float, Decimal)) or isinstance(b, (int, float, Decimal)):
        na, nb = _number(a), _number(b)
        return na is not None and na == nb
    return False


def _contains(x, low: str) -> bool:
    if isinstance(x, (list, tuple)):
        return any(str(i).lower() == low for i in x)
    return x is not None and low in str(x).lower()


def _startswith(x, low: str) -> bool:
    if isinstance(x, (list, tuple)):
        return any(str(i).lower().startswith(low) for i in x)
    return x is not None and str(x).lower().startswith(low)


def compile_predicate(tree) -> Callable[[dict], bool]:
    """A function of a values dict that tells whether the (validated) tree holds."""
    if not tree:
        return lambda r: True
    if "field" in tree:
        return _leaf(tree)
    if "all" in tree:
        parts = [compile_predicate(c) for c in tree["all"]]
        if len(parts) == 1:
            return parts[0]
        return lambda r: all(p(r) for p in parts)
    parts = [compile_predicate(c) for c in tree["any"]]
    return lambda r: any(p(r) for p in parts)


# --- candidate index (many rules, one record at a time) ----------------------------------------------
#
# With dozens of assignment rules most records fail most rules, and an import asks once per row.
# `RuleIndex` files each rule under a condition every match must meet (a country, a source, a
# language, an HS-code prefix, …): a record then only tries the rules filed under its own values
# plus the rules with no such condition ("generic"), in their original order. Each key mirrors
# the predicate exactly (same comparison), so the first rule that holds is the same as when trying
# them all.

EQ_KEY, PREFIX_KEY = "eq", "prefix"


def _leaf_keys(c: dict, fields: dict[str, Field]) -> tuple[float, list[tuple]] | None:
    """(estimated share of records that pass, keys) for an indexable leaf; None if not."""
    f = fields.get(c["field"])
    if f is None:
        return None
    op, v = c["op"], c.get("value")
    if op in ("eq", "in") and f.type in (STR, CHOICE):
        vals = [v] if op == "eq" else list(v or [])
        if not vals or not all(isinstance(x, str) for x in vals):
            return None
        share = len(vals) / (8 if f.type == CHOICE else 100)
        return share, [(EQ_KEY, c["field"], x) for x in vals]
    if op == "startswith" and f.type in (STR, LIST) and isinstance(v, str) and v:
        low = v.lower()
        return 10.0 ** -min(len(low), 6) * 10, [(PREFIX_KEY, c["field"], low)]
    return None


def index_keys(tree, fields: dict[str, Field]) -> list[tuple] | None:
    """Keys of which a record that satisfies `tree` hits at least one; None: the tree may hold
    for a record without any (the rule is generic)."""
    best = _keys(tree, fields)
    return best[1] if best else None


def _keys(tree, fields) -> tuple[float, list[tuple]] | None:
    if not tree:
        return None
    if "field" in tree:
        return _leaf_keys(tree, fields)
    if "all" in tree:
        options = [k for c in tree["all"] if (k := _keys(c, fields)) is not None]
        return min(options, key=lambda o: o[0]) if options else None
    parts = [_keys(c, fields) for c in tree.get("any", [])]
    if not parts or any(p is None for p in parts):
        return None
    return sum(p[0] for p in parts), [k for p in parts for k in p[1]]


class RuleIndex:
    """Which of `trees` (in order) a record may satisfy: `candidates(values)` gives their positions,
    ascending, a superset of the trees that hold."""

    def __init__(self, trees: list, fields: dict[str, Field]):
        self.generic: list[int] = []
        self.eq: dict[str, dict[str, list[int]]] = {}
        self.prefix: dict[str, dict[str, list[int]]] = {}
        self.prefix_lengths: dict[str, list[int]] = {}
        for i, tree in enumerate(trees):
            keys = index_keys(tree, fields)
            if keys is None:
                self.generic.append(i)
                continue
            for kind, name, value in set(keys):
                target = self.eq if kind == EQ_KEY else self.prefix
                target.setdefault(name, {}).setdefault(value, []).append(i)
        for name, by in self.prefix.items():
            self.prefix_lengths[name] = sorted({len(p) for p in by})
        self.all = list(range(len(trees)))
        self._eq_items = list(self.eq.items())
        self._prefix_items = [(n, by, self.prefix_lengths[n]) for n, by in self.prefix.items()]

    def candidates(self, values: dict) -> list[int]:
        hits: list[int] = []
        for name, by in self._eq_items:
            v = values.get(name)
            if type(v) is str:
                found = by.get(v)
                if found:
                    hits += found
            elif v is not None:  # not a string: compare the way the predicate does, rule by rule
                for found in by.values():
                    hits += found
        for name, by, lengths in self._prefix_items:
            v = values.get(name)
            if v is None:
                continue
            items = v if isinstance(v, (list, tuple)) else (v,)
            for item in items:
                low = str(item).lower()
                for n in lengths:
                    if n > len(low):
                        break
                    found = by.get(low[:n])
                    if found:
                        hits += found
        if not hits:
            return self.generic
        hits += self.generic
        return sorted(set(hits))


def describe(c: dict, fields: dict[str, Field]) -> str:
    f = fields.get(c["field"])
    label = str(f.label) if f else c["field"]
    if c["op"] in NO_VALUE:
        return f"{label} {OP_LABELS[c['op']]}"
    v = c.get("value")
    shown = ", ".join(map(str, v)) if isinstance(v, list) else str(v)
    return f"{label} {OP_LABELS[c['op']]} {shown}"


def explain(tree, values: dict, fields: dict[str, Field]) -> tuple[bool, list[dict]]:
    """(holds, [{"text", "ok", "actual"}]) for each leaf, for "which rule would fire and why"."""
    lines: list[dict] = []

    def ev(n) -> bool:
        if not n:
            return True
        if "field" in n:
            ok = _leaf(n)(values)
            lines.append({"text": describe(n, fields), "ok": ok, "actual": _show(values.get(n["field"]))})
            return ok
        if "all" in n:
            return all([ev(c) for c in n["all"]])
        return any([ev(c) for c in n["any"]])

    return ev(tree), lines


def _show(v) -> str:
    if v in (None, "", []):
        return "—"
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return str(v)


# --- set-based ----------------------------------------------------------------------------------------


def needs_hs_text(tree) -> bool:
    return "hs_codes" in fields_used(tree)


def annotate_for(qs, tree):
    if needs_hs_text(tree):
        qs = qs.annotate(_hs_text=Cast("hs_codes", TextField()))
    return qs


def to_q(tree, fields: dict[str, Field]) -> Q:
    """The tree as a Q on the record's model (annotate_for must have been applied to the queryset)."""
    if not tree:
        return Q()
    if "field" in tree:
        return _leaf_q(tree, fields[tree["field"]])
    if "all" in tree:
        q = Q()
        for c in tree["all"]:
            q &= to_q(c, fields)
        return q
    q = Q(pk__in=[])
    for c in tree["any"]:
        q |= to_q(c, fields)
    return q


def _leaf_q(c: dict, f: Field) -> Q:
    if f.name.startswith("event."):
        raise ValueError("event fields are not queryable")
    p, op, v = f.orm, c["op"], c.get("value")
    if f.type == LIST:
        if op == "contains":
            return Q(_hs_text__icontains=f'"{v}"')
        if op == "startswith":
            return Q(_hs_text__icontains=f'"{v}')
        if op == "empty":
            return Q(_hs_text__in=["[]", ""]) | Q(_hs_text__isnull=True)
        return ~(Q(_hs_text__in=["[]", ""]) | Q(_hs_text__isnull=True))
    if op == "eq":
        return Q(**{p: v})
    if op == "ne":
        return ~Q(**{p: v}) | Q(**{f"{p}__isnull": True})
    if op == "in":
        return Q(**{f"{p}__in": v})
    if op == "not_in":
        return ~Q(**{f"{p}__in": v}) | Q(**{f"{p}__isnull": True})
    if op == "contains":
        return Q(**{f"{p}__icontains": v})
    if op == "startswith":
        return Q(**{f"{p}__istartswith": v})
    if op == "empty":
        return Q(**{f"{p}__isnull": True}) | (Q(**{p: ""}) if f.type != NUMBER else Q(pk__in=[]))
    if op == "not_empty":
        q = Q(**{f"{p}__isnull": False})
        return q & ~Q(**{p: ""}) if f.type != NUMBER else q
    return Q(**{f"{p}__{op}": v})


IDENT = re.compile(r"^[a-z_][a-z0-9_.]*$")
