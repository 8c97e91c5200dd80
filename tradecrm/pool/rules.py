"""A pool's recall and claim rules: defaults, validation (specific messages), a summary in words,
and which pool an owned customer falls under.

Rules (every "days" value may be empty = the rule is off):
- no_touch_days: recall after N days without a verifiable touch (`touch_kinds`);
- no_opportunity_days: recall after N days without an opportunity (an open one always counts as
  recent; otherwise the latest created or closed);
- no_order_days: recall after N days without an order (cancelled orders do not count);
- protection_days: a customer claimed or assigned from the pool goes back N days later unless it
  ordered since; during those days the other recall rules do not apply;
- the clocks never start before the owner got the customer (claim/assignment, else creation);
- exemptions: locked customers (`exempt_locked`), customers of a tier in `exempt_tiers`
  (grading.CompanyGrade.tier), customers that ordered within `exempt_ordered_within_days`;
- warn_days: the owner is warned N days before the recall (once per customer and due date);
- claim_limit_per_day, max_customers_per_rep, cooldown_days (before a previous owner may claim a
  customer they released or lost again).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tradecrm.core import geo
from tradecrm.core.errors import Errors

# Touch kinds a pool may count as verifiable. A typed note never counts: anyone can type one.
TOUCH_KINDS = {
    "email": gettext_lazy("Emails sent or received"),
    "call": gettext_lazy("Calls logged with a duration"),
    "meeting": gettext_lazy("Meetings"),
    "video": gettext_lazy("Video calls"),
    "visit": gettext_lazy("Visits"),
    "trade_show": gettext_lazy("Trade-show meetings"),
    "whatsapp": gettext_lazy("WhatsApp messages"),
    "wechat": gettext_lazy("WeChat messages"),
    "chat": gettext_lazy("Other chats"),
    "quotation": gettext_lazy("Quotations issued"),
    "sample": gettext_lazy("Samples sent"),
}
DEFAULT_TOUCH_KINDS = ["email", "call", "meeting", "video", "visit", "quotation", "sample"]
# the interaction types behind each kind ("sample" also reads sales.Sample.sent_on,
# "quotation" documents.Quotation.issued_at)
INTERACTION_KINDS = ("email", "call", "meeting", "video", "visit", "trade_show", "whatsapp", "wechat", "chat",
                     "sample")  # fmt: skip

DAY_FIELDS = (
    "no_touch_days", "no_opportunity_days", "no_order_days", "protection_days", "exempt_ordered_within_days",
    "warn_days", "cooldown_days",
)  # fmt: skip
COUNT_FIELDS = ("claim_limit_per_day", "max_customers_per_rep")
RECALL_FIELDS = ("no_touch_days", "no_opportunity_days", "no_order_days", "protection_days")
MAX_DAYS = 3650
MAX_COUNT = 1_000_000

DEFAULT_RULES: dict = {
    "no_touch_days": 60,
    "no_opportunity_days": None,
    "no_order_days": None,
    "protection_days": None,
    "touch_kinds": DEFAULT_TOUCH_KINDS,
    "exempt_locked": True,
    "exempt_tiers": [],
    "exempt_ordered_within_days": 180,
    "warn_days": 7,
    "claim_limit_per_day": 10,
    "max_customers_per_rep": 500,
    "cooldown_days": 7,
}


def _labels() -> dict[str, str]:
    return {
        "no_touch_days": _("Days without a verifiable touch"),
        "no_opportunity_days": _("Days without an opportunity"),
        "no_order_days": _("Days without an order"),
        "protection_days": _("Protection period after a claim (days)"),
        "exempt_ordered_within_days": _("Exempt when ordered within (days)"),
        "warn_days": _("Warn the owner (days before)"),
        "cooldown_days": _("Cooldown before a previous owner may claim again (days)"),
        "claim_limit_per_day": _("Claims per rep per day"),
        "max_customers_per_rep": _("Maximum customers per rep"),
    }


def _as_int(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError


def tier_codes() -> list[str]:
    from tradecrm.grading.models import Tier

    return list(Tier.objects.order_by("rank").values_list("code", flat=True))


def clean_rules(data: dict, errors: Errors | None = None) -> dict:
    """Validated rules (unknown keys, negative or absurd numbers, unknown touch kinds or tiers, a
    warning that would come after the recall are refused with a message naming the field)."""
    own = errors is None
    errors = errors or Errors()
    if not isinstance(data, dict):
        errors.add("rules", _("Enter the rules as an object."))
        errors.raise_if_any()
    clean = dict(DEFAULT_RULES)
    for key in data:
        if key not in DEFAULT_RULES:
            errors.add(key, _("Unknown rule “%(key)s”.") % {"key": key})
    for key in (*DAY_FIELDS, *COUNT_FIELDS):
        if key not in data:
            continue
        try:
            value = _as_int(data[key])
        except ValueError:
            errors.add(key, _("Enter a whole number of days or leave it empty.") if key in DAY_FIELDS
                       else _("Enter a whole number or leave it empty."))  # fmt: skip
            continue
        if value is not None and value < 0:
            errors.add(
                key,
                _("%(label)s cannot be negative (%(value)s).") % {"label": _labels()[key], "value": value},
            )
            continue
        top = MAX_DAYS if key in DAY_FIELDS else MAX_COUNT
        if value is not None and value > top:
            errors.add(key, _("%(label)s: at most %(max)s.") % {"label": _labels()[key], "max": top})
            continue
        if value == 0 and key in (*RECALL_FIELDS, *COUNT_FIELDS):
            errors.add(key, _("%(label)s: enter at least 1, or leave it empty to switch it off.")
                       % {"label": _labels()[key]})  # fmt: skip
            continue
        clean[key] = value
    if "touch_kinds" in data:
        kinds = data["touch_kinds"]
        if isinstance(kinds, str):
            kinds = [k.strip() for k in kinds.split(",") if k.strip()]
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            errors.add("touch_kinds", _("Enter a list of touch kinds."))
        else:
            unknown = [k for k in kinds if k not in TOUCH_KINDS]
            for k in unknown:
                if k == "note":
                    errors.add("touch_kinds", _("A note is not a verifiable touch: anyone can type one."))
                else:
                    errors.add("touch_kinds", _("Unknown touch kind “%(kind)s” (known: %(known)s).")
                               % {"kind": k, "known": ", ".join(TOUCH_KINDS)})  # fmt: skip
            if not unknown:
                clean["touch_kinds"] = [k for k in TOUCH_KINDS if k in kinds]
    if "exempt_locked" in data:
        if not isinstance(data["exempt_locked"], bool):
            errors.add("exempt_locked", _("Enter true or false."))
        else:
            clean["exempt_locked"] = data["exempt_locked"]
    if "exempt_tiers" in data:
        tiers = data["exempt_tiers"]
        if isinstance(tiers, str):
            tiers = [t.strip() for t in tiers.split(",") if t.strip()]
        if not isinstance(tiers, list) or not all(isinstance(t, str) for t in tiers):
            errors.add("exempt_tiers", _("Enter a list of tier codes."))
        else:
            known = tier_codes()
            bad = [t for t in tiers if t not in known]
            for t in bad:
                errors.add("exempt_tiers", _("Unknown tier “%(tier)s” (tiers: %(known)s).")
                           % {"tier": t, "known": ", ".join(known) or "—"})  # fmt: skip
            if not bad:
                clean["exempt_tiers"] = list(dict.fromkeys(tiers))
    if clean["no_touch_days"] and not clean["touch_kinds"]:
        errors.add(
            "touch_kinds", _("Choose at least one kind of touch that counts, or switch off the touch rule.")
        )
    recall_days = [clean[k] for k in RECALL_FIELDS if clean[k]]
    if clean["warn_days"] and recall_days and clean["warn_days"] >= min(recall_days):
        errors.add("warn_days", _(
            "The warning must come before the recall: warn fewer than %(days)s days before "
            "(the earliest recall rule is %(days)s days)."
        ) % {"days": min(recall_days)})  # fmt: skip
    if own:
        errors.raise_if_any()
    return clean


def effective_rules(pool) -> dict:
    """The pool's stored rules over the defaults (rules saved before a new key existed)."""
    return {**DEFAULT_RULES, **(pool.rules or {})}


def clean_countries(value, errors: Errors) -> list[str]:
    if isinstance(value, str):
        value = [c for c in value.replace(";", ",").replace(" ", ",").split(",") if c]
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        errors.add("countries", _("Enter a list of ISO country codes."))
        return []
    codes = [c.strip().upper() for c in value]
    known = geo.country_codes()
    for c in codes:
        if c not in known:
            errors.add("countries", _("Unknown country code “%(code)s”.") % {"code": c})
    return list(dict.fromkeys(codes))


def summary(rules: dict) -> list[str]:
    """The rules in words, for the pool list and the rule page."""
    r = {**DEFAULT_RULES, **rules}
    out = []
    if r["no_touch_days"]:
        kinds = ", ".join(str(TOUCH_KINDS[k]).lower() for k in r["touch_kinds"])
        out.append(_("Recall after %(days)s days without a verifiable touch (%(kinds)s)")
                   % {"days": r["no_touch_days"], "kinds": kinds})  # fmt: skip
    if r["no_opportunity_days"]:
        out.append(
            _("Recall after %(days)s days without an opportunity") % {"days": r["no_opportunity_days"]}
        )
    if r["no_order_days"]:
        out.append(_("Recall after %(days)s days without an order") % {"days": r["no_order_days"]})
    if r["protection_days"]:
        out.append(
            _("Claimed customers return after %(days)s days unless they order")
            % {"days": r["protection_days"]}
        )
    if not any(r[k] for k in RECALL_FIELDS):
        out.append(_("No automatic recall"))
    ex = []
    if r["exempt_locked"]:
        ex.append(_("locked customers"))
    if r["exempt_tiers"]:
        ex.append(_("tier %(tiers)s") % {"tiers": ", ".join(r["exempt_tiers"])})
    if r["exempt_ordered_within_days"]:
        ex.append(_("ordered within %(days)s days") % {"days": r["exempt_ordered_within_days"]})
    if ex:
        out.append(_("Exempt: %(list)s") % {"list": "; ".join(str(e) for e in ex)})
    if r["warn_days"]:
        out.append(_("Owner warned %(days)s days before") % {"days": r["warn_days"]})
    limits = []
    if r["claim_limit_per_day"]:
        limits.append(_("%(n)s claims a day") % {"n": r["claim_limit_per_day"]})
    if r["max_customers_per_rep"]:
        limits.append(_("at most %(n)s customers per rep") % {"n": r["max_customers_per_rep"]})
    if r["cooldown_days"]:
        limits.append(_("%(n)s days before a previous owner may claim again") % {"n": r["cooldown_days"]})
    if limits:
        out.append(_("Claiming: %(list)s") % {"list": "; ".join(str(x) for x in limits)})
    return out
