"""The grading configuration: its defaults and its validation.

A configuration is JSON (stored in the single `GradingConfig` row and copied into every
`GradingRun.config`):

    {"window_days": 365,
     "dimensions": {"frequency": {"weight": 20, "thresholds": [{"value": 1, "points": 20}, …]}, …},
     "lifecycle": {"new_days": 90, "at_risk": 1.5, "dormant": 2.5, "lost": 4.0,
                   "default_interval_days": 180}}

A dimension's points come from its thresholds: for the dimensions where more is better, the points
of the highest threshold the value reaches (0 below the first); for recency (days since the last
order, fewer is better), the points of the lowest threshold the value stays within (0 beyond the
last). A value that does not exist (no receivable yet, no feedback yet) gets the dimension's
`neutral` points, so a missing source neither helps nor hurts. The score is the weighted mean of
the points: 0–100.
"""

from __future__ import annotations

import copy
import math
import re

import pycountry
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tradecrm.core.errors import Errors

# (code, label, more_is_better)
DIMENSIONS: tuple[tuple[str, object, bool], ...] = (
    ("frequency", gettext_lazy("Purchase frequency"), True),
    ("amount", gettext_lazy("Purchase amount"), True),
    ("recency", gettext_lazy("Recency"), False),
    ("repeat", gettext_lazy("Repeat purchases"), True),
    ("timeliness", gettext_lazy("Payment timeliness"), True),
    ("satisfaction", gettext_lazy("Feedback / satisfaction"), True),
    ("engagement", gettext_lazy("Engagement"), True),
    ("potential", gettext_lazy("Potential"), True),
)
DIMENSION_CODES = tuple(d[0] for d in DIMENSIONS)
DIMENSION_LABELS = {code: label for code, label, _up in DIMENSIONS}
MORE_IS_BETTER = {code: up for code, _label, up in DIMENSIONS}
# Dimensions whose value may not exist; the others are 0 when there is nothing (no order: 0 orders).
NULLABLE = ("recency", "repeat", "timeliness", "satisfaction")

MAX_THRESHOLDS = 20
TIER_CODE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_TIERS = 10


def _t(*pairs: tuple[float, float]) -> list[dict]:
    return [{"value": v, "points": p} for v, p in pairs]


DEFAULT_CONFIG: dict = {
    "window_days": 365,
    "dimensions": {
        # orders (not cancelled) in the window
        "frequency": {"weight": 20, "thresholds": _t((1, 20), (2, 50), (4, 80), (8, 100))},
        # order totals in the window, base currency at each order's frozen rate
        "amount": {"weight": 25, "thresholds": _t((1000, 20), (10000, 50), (50000, 80), (200000, 100))},
        # days since the last order; never ordered: 0 points
        "recency": {"weight": 15, "neutral": 0, "thresholds": _t((30, 100), (90, 80), (180, 50), (365, 20))},
        # (distinct order days − 1) ÷ distinct order days: 0 for one order, 0.5 for two, 0.75 for four
        "repeat": {
            "weight": 10,
            "neutral": 0,
            "thresholds": _t((0.5, 50), (0.66, 70), (0.8, 90), (0.9, 100)),
        },
        # share of the amount due so far that arrived by its due date
        "timeliness": {"weight": 10, "neutral": 50, "thresholds": _t((0.5, 30), (0.8, 70), (0.95, 100))},
        # average rating (1–5) the customer gave our samples; none yet: neutral
        "satisfaction": {"weight": 5, "neutral": 50, "thresholds": _t((2, 20), (3, 50), (4, 80), (4.5, 100))},
        # replies and messages from the customer, meetings and visits (×2), samples (×2) in the window
        "engagement": {"weight": 5, "thresholds": _t((1, 30), (5, 60), (15, 100))},
        # 0–100 from inquiries (intent), customs-record volume and company size / purchase band
        "potential": {"weight": 10, "thresholds": _t((10, 20), (30, 50), (60, 80), (80, 100))},
    },
    "lifecycle": {"new_days": 90, "at_risk": 1.5, "dormant": 2.5, "lost": 4.0, "default_interval_days": 180},
}

DEFAULT_TIERS: list[dict] = [
    {"code": "A", "name": "Key", "min_score": 75, "color": "#d63939", "followup_days": None,
     "requires_account_manager": True,
     "checklist": ["Quarterly business review", "Priority sample handling", "Visit once a year"]},
    {"code": "B", "name": "Important", "min_score": 55, "color": "#f76707", "followup_days": None,
     "requires_account_manager": False, "checklist": ["Monthly check-in", "New collection first"]},
    {"code": "C", "name": "Ordinary", "min_score": 30, "color": "#206bc4", "followup_days": None,
     "requires_account_manager": False, "checklist": []},
    {"code": "D", "name": "Potential", "min_score": 0, "color": "#667382", "followup_days": None,
     "requires_account_manager": False, "checklist": []},
]  # fmt: skip


def default_config() -> dict:
    return copy.deepcopy(DEFAULT_CONFIG)


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return None
        else:
            return None
    value = float(value)
    return value if math.isfinite(value) else None


def validate_config(data) -> dict:
    """A clean copy of `data`, or ValidationError naming every bad field (`dimensions.amount.weight`)."""
    errors = Errors()
    if not isinstance(data, dict):
        errors.add("config", _("The configuration must be an object."))
        errors.raise_if_any()
    clean: dict = {"dimensions": {}, "lifecycle": {}}

    window = _number(data.get("window_days", DEFAULT_CONFIG["window_days"]))
    if window is None or window != int(window) or not 1 <= window <= 3650:
        errors.add("window_days", _("The window must be a whole number of days from 1 to 3650."))
    else:
        clean["window_days"] = int(window)

    dims = data.get("dimensions")
    if not isinstance(dims, dict):
        errors.add("dimensions", _("The dimensions must be an object keyed by dimension."))
        dims = {}
    for key in dims:
        if key not in DIMENSION_CODES:
            errors.add(f"dimensions.{key}", _("Unknown dimension “%(key)s”: use one of %(known)s.")
                       % {"key": key, "known": ", ".join(DIMENSION_CODES)})  # fmt: skip
    total_weight = 0.0
    for code in DIMENSION_CODES:
        field = f"dimensions.{code}"
        label = str(DIMENSION_LABELS[code])
        dim = dims.get(code)
        if dim is None:
            if dims:
                errors.add(field, _("The dimension “%(dim)s” is missing.") % {"dim": label})
            continue
        if not isinstance(dim, dict):
            errors.add(field, _("The dimension “%(dim)s” must be an object.") % {"dim": label})
            continue
        out: dict = {}
        weight = _number(dim.get("weight"))
        if weight is None:
            errors.add(f"{field}.weight", _("The weight of “%(dim)s” must be a number.") % {"dim": label})
        elif weight < 0:
            errors.add(f"{field}.weight", _("The weight of “%(dim)s” must not be negative (%(w)s).")
                       % {"dim": label, "w": dim.get("weight")})  # fmt: skip
        elif weight > 1000:
            errors.add(f"{field}.weight", _("The weight of “%(dim)s” must be at most 1000.") % {"dim": label})
        else:
            out["weight"] = weight
            total_weight += weight
        if "neutral" in dim or code in NULLABLE:
            neutral = _number(dim.get("neutral", DEFAULT_CONFIG["dimensions"][code].get("neutral", 0)))
            if neutral is None or not 0 <= neutral <= 100:
                errors.add(f"{field}.neutral", _("The points for “%(dim)s” without a value must be from 0 to 100.")
                           % {"dim": label})  # fmt: skip
            else:
                out["neutral"] = neutral
        thresholds = dim.get("thresholds")
        if not isinstance(thresholds, list) or not thresholds:
            errors.add(f"{field}.thresholds", _("“%(dim)s” needs at least one threshold.") % {"dim": label})
        elif len(thresholds) > MAX_THRESHOLDS:
            errors.add(f"{field}.thresholds", _("“%(dim)s” has more than %(n)s thresholds.")
                       % {"dim": label, "n": MAX_THRESHOLDS})  # fmt: skip
        else:
            rows, previous = [], None
            for i, t in enumerate(thresholds, start=1):
                value = _number(t.get("value")) if isinstance(t, dict) else None
                points = _number(t.get("points")) if isinstance(t, dict) else None
                if value is None or points is None:
                    errors.add(f"{field}.thresholds",
                               _("Threshold %(i)s of “%(dim)s” needs a numeric value and points.")
                               % {"i": i, "dim": label})  # fmt: skip
                    continue
                if value < 0:
                    errors.add(f"{field}.thresholds", _("Threshold %(i)s of “%(dim)s” must not be negative.")
                               % {"i": i, "dim": label})  # fmt: skip
                if not 0 <= points <= 100:
                    errors.add(f"{field}.thresholds", _("The points of threshold %(i)s of “%(dim)s” must be from 0 to 100.")
                               % {"i": i, "dim": label})  # fmt: skip
                if previous is not None and value <= previous:
                    errors.add(f"{field}.thresholds",
                               _("The thresholds of “%(dim)s” must rise strictly: %(v)s comes after %(p)s.")
                               % {"dim": label, "v": t.get("value"), "p": previous})  # fmt: skip
                previous = value
                rows.append({"value": value, "points": points})
            out["thresholds"] = rows
        clean["dimensions"][code] = out
    if dims and total_weight == 0 and not any(f.endswith(".weight") for f in errors.by_field):
        errors.add("dimensions", _("All weights are zero: give at least one dimension a weight above zero."))

    life = data.get("lifecycle", DEFAULT_CONFIG["lifecycle"])
    if not isinstance(life, dict):
        errors.add("lifecycle", _("The lifecycle settings must be an object."))
        life = {}
    values = {}
    for key, low, high in (("new_days", 1, 3650), ("default_interval_days", 1, 3650),
                           ("at_risk", 1, 100), ("dormant", 1, 100), ("lost", 1, 100)):  # fmt: skip
        v = _number(life.get(key, DEFAULT_CONFIG["lifecycle"][key]))
        if v is None or not low <= v <= high:
            errors.add(f"lifecycle.{key}", _("“%(key)s” must be a number from %(low)s to %(high)s.")
                       % {"key": key, "low": low, "high": high})  # fmt: skip
        else:
            values[key] = v
    if all(k in values for k in ("at_risk", "dormant", "lost")) and not (
        values["at_risk"] < values["dormant"] < values["lost"]
    ):
        errors.add("lifecycle", _("The lifecycle ratios must rise strictly: at risk < dormant < lost."))
    for key in ("new_days", "default_interval_days"):
        if key in values:
            values[key] = int(values[key])
    clean["lifecycle"] = values
    errors.raise_if_any()
    return clean


def validate_tiers(tiers) -> list[dict]:
    """Clean tiers in rank order (best first), or ValidationError: codes unique, minimum scores
    from 0 to 100 falling strictly from each tier to the next (no two tiers overlap)."""
    errors = Errors()
    if not isinstance(tiers, list) or not tiers:
        errors.add("tiers", _("Give at least one tier."))
        errors.raise_if_any()
    if len(tiers) > MAX_TIERS:
        errors.add("tiers", _("At most %(n)s tiers.") % {"n": MAX_TIERS})
        errors.raise_if_any()
    clean, seen, previous = [], set(), None
    for i, t in enumerate(tiers, start=1):
        field = f"tiers.{i}"
        if not isinstance(t, dict):
            errors.add(field, _("Tier %(i)s must be an object.") % {"i": i})
            continue
        code = str(t.get("code") or "").strip()
        name = str(t.get("name") or "").strip()
        if not TIER_CODE.match(code):
            errors.add(
                f"{field}.code", _("Tier %(i)s: the code must be 1–16 letters, digits, - or _.") % {"i": i}
            )
        elif code in seen:
            errors.add(f"{field}.code", _("Tier code “%(code)s” is used twice.") % {"code": code})
        seen.add(code)
        if not name or len(name) > 60:
            errors.add(f"{field}.name", _("Tier %(i)s: the name must have 1–60 characters.") % {"i": i})
        score = _number(t.get("min_score"))
        if score is None or not 0 <= score <= 100:
            errors.add(
                f"{field}.min_score", _("Tier %(i)s: the minimum score must be from 0 to 100.") % {"i": i}
            )
        elif previous is not None and score >= previous[1]:
            errors.add(f"{field}.min_score",
                       _("Tier thresholds overlap: “%(code)s” (%(score)s) must be below “%(prev)s” (%(pscore)s).")
                       % {"code": code, "score": score, "prev": previous[0], "pscore": previous[1]})  # fmt: skip
        if score is not None:
            previous = (code, score)
        color = str(t.get("color") or "#206bc4")
        if not COLOR.match(color):
            errors.add(f"{field}.color", _("Tier %(i)s: the colour must look like #206bc4.") % {"i": i})
        days = t.get("followup_days")
        if days in ("", None):
            days = None
        else:
            d = _number(days)
            if d is None or d != int(d) or not 1 <= d <= 3650:
                errors.add(
                    f"{field}.followup_days",
                    _("Tier %(i)s: the follow-up cadence must be 1–3650 days, or empty.") % {"i": i},
                )
            else:
                days = int(d)
        checklist = t.get("checklist") or []
        if isinstance(checklist, str):
            checklist = [line.strip() for line in checklist.splitlines()]
        if not isinstance(checklist, list) or any(not isinstance(x, str) or len(x) > 200 for x in checklist):
            errors.add(f"{field}.checklist", _("Tier %(i)s: the checklist is a list of lines of up to 200 characters.")
                       % {"i": i})  # fmt: skip
            checklist = []
        clean.append({
            "code": code, "name": name, "min_score": score, "color": color, "followup_days": days,
            "requires_account_manager": bool(t.get("requires_account_manager")),
            "checklist": [x.strip() for x in checklist if x.strip()][:30],
        })  # fmt: skip
    errors.raise_if_any()
    return clean


VETO_FIELDS = ("name", "kind", "countries", "ratings", "threshold", "cap_tier", "active")


def validate_veto(data: dict, tier_codes: list[str]) -> dict:
    """A clean veto rule, or ValidationError (unknown tier, unknown country, missing threshold…)."""
    from decimal import Decimal, InvalidOperation

    from .models import VetoKind

    errors = Errors()
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 64:
        errors.add("name", _("The name must have 1–64 characters."))
    kind = data.get("kind")
    if kind not in VetoKind.values:
        errors.add("kind", _("Unknown kind “%(kind)s”: use one of %(known)s.")
                   % {"kind": kind, "known": ", ".join(VetoKind.values)})  # fmt: skip
    cap = str(data.get("cap_tier") or "")
    if cap not in tier_codes:
        errors.add("cap_tier", _("Unknown tier “%(tier)s”: use one of %(known)s.")
                   % {"tier": cap, "known": ", ".join(tier_codes)})  # fmt: skip
    countries, ratings, threshold = [], [], None
    if kind == VetoKind.COUNTRY:
        raw = data.get("countries") or []
        if isinstance(raw, str):
            raw = re.split(r"[\s,;]+", raw)
        for c in raw:
            c = str(c).strip().upper()
            if not c:
                continue
            if pycountry.countries.get(alpha_2=c) is None:
                errors.add("countries", _("Unknown country code “%(code)s” (use ISO codes such as US, DE).")
                           % {"code": c})  # fmt: skip
            elif c not in countries:
                countries.append(c)
        if not countries and "countries" not in errors.by_field:
            errors.add("countries", _("Give at least one country."))
    elif kind == VetoKind.CREDIT_RATING:
        raw = data.get("ratings") or []
        if isinstance(raw, str):
            raw = re.split(r"[\s,;]+", raw)
        for r in raw:
            r = str(r).strip().upper()
            if not r:
                continue
            if r not in ("A", "B", "C", "D"):
                errors.add("ratings", _("Unknown credit rating “%(r)s” (A, B, C or D).") % {"r": r})
            elif r not in ratings:
                ratings.append(r)
        if not ratings and "ratings" not in errors.by_field:
            errors.add("ratings", _("Give at least one credit rating."))
    elif kind in (VetoKind.OVERDUE_AMOUNT, VetoKind.OVERDUE_DAYS):
        try:
            threshold = Decimal(str(data.get("threshold")))
            if not threshold.is_finite() or threshold < 0 or threshold > Decimal("1e15"):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.add("threshold", _("Give the threshold as a number of 0 or more."))
            threshold = None
        if threshold is not None and kind == VetoKind.OVERDUE_DAYS and threshold != int(threshold):
            errors.add("threshold", _("The number of days must be whole."))
    errors.raise_if_any()
    return {"name": name, "kind": kind, "countries": countries, "ratings": ratings, "threshold": threshold,
            "cap_tier": cap, "active": bool(data.get("active", True))}  # fmt: skip
