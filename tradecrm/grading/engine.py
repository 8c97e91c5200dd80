"""The grading engine: one run grades every customer.

Phases (each timed into `GradingRun.phases`):

  load        customers (country, credit rating, size band, age) and their current grades
  orders      one GROUP BY over orders (not cancelled): counts in the window and in all, amounts
              in the base currency at each order's frozen rate, distinct order days, first/last
              order (served by the covering index `order_grading_idx`, orders migration 0002)
  payments    receivables due so far, what arrived by the due date (allocations × payments),
              overdue amount and days
  engagement  interactions (messages from the customer, meetings and visits), samples (count,
              average feedback rating = satisfaction, unless the customer answered satisfaction
              surveys: then their average on the 1–5 scale), inquiries (intent)
  potential   customs records in the window
  score       numpy over arrays of one element per customer: thresholds → points, weighted mean,
              tier, veto caps, overrides, RFM segment, lifecycle and churn risk
  write       one transaction: the rows into a temporary staging table (executemany on SQLite,
              COPY on PostgreSQL), one INSERT … SELECT … ON CONFLICT DO UPDATE into CompanyGrade
              touching only rows that change, GradeChange rows for changed tiers, tier_changed
              notifications for the owners, the run marked done. A failure anywhere before the
              commit leaves the previous grades as they were.

Definitions (documented in docs/decisions/0009-grading-engine.md):
- RFM: R = days since the last order, F = orders in all, M = amount in all (base currency), each
  "high" against the average of the customers with at least one order (R high = at most the
  average number of days). Averages rather than medians: order counts are small integers, and the
  median of a population where most bought once is 1, which would call every repeat buyer "high".
- Lifecycle: no order yet → acquisition while the customer is younger than `new_days`, nurture
  after; with orders, ratio = days since the last order ÷ the customer's typical interval between
  order days (or `default_interval_days` with a single order day): active up to `at_risk`, at risk
  up to `dormant`, dormant up to `lost`, lost beyond. A customer that was dormant or lost and
  orders again is win-back until its next order.
- Churn risk: 0 while the ratio is at most 1, rising linearly to 1 at the `lost` ratio.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from tradecrm.core import fx

from .config import DIMENSION_CODES, MORE_IS_BETTER
from .models import GradingRun, Lifecycle, RfmSegment, RunStatus, Tier, VetoKind, VetoRule

GRADE = "grading_companygrade"
CHANGE = "grading_gradechange"
STAGE = "grading_stage"
NOTIFICATION = "followups_notification"
COMPANY = "customers_company"

SIZE_POINTS = {"1-10": 3, "11-50": 6, "51-200": 9, "201-1000": 12, "1000+": 15}
BAND_POINTS = {"<50k": 3, "50k-200k": 6, "200k-1m": 9, "1m-5m": 12, ">5m": 15}
MEETING_TYPES = ("meeting", "visit", "video", "trade_show")

# (rfm bits R, F, M) -> segment
RFM = {
    (1, 1, 1): RfmSegment.IMPORTANT_VALUE,
    (1, 0, 1): RfmSegment.IMPORTANT_DEVELOP,
    (0, 1, 1): RfmSegment.IMPORTANT_KEEP,
    (0, 0, 1): RfmSegment.IMPORTANT_WIN_BACK,
    (1, 1, 0): RfmSegment.GENERAL_VALUE,
    (1, 0, 0): RfmSegment.GENERAL_DEVELOP,
    (0, 1, 0): RfmSegment.GENERAL_KEEP,
    (0, 0, 0): RfmSegment.GENERAL_WIN_BACK,
}
LIFECYCLES = [
    Lifecycle.ACQUISITION, Lifecycle.NURTURE, Lifecycle.ACTIVE, Lifecycle.AT_RISK, Lifecycle.DORMANT,
    Lifecycle.LOST, Lifecycle.WIN_BACK,
]  # fmt: skip


class GradingFailed(Exception):
    pass


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _days_since(expr: str) -> str:
    """Whole days from the date `expr` to the parameter %s (today)."""
    if _pg():
        return f"(CAST(%s AS date) - CAST({expr} AS date))"
    return f"CAST(julianday(%s) - julianday(date({expr})) AS INTEGER)"


def _base(amount: str, order: str = "o") -> str:
    """An amount of an order's currency in the base currency at the order's frozen rate."""
    return (f"CASE WHEN {order}.fx_rate IS NOT NULL THEN {amount} * {order}.fx_rate "
            f"WHEN {order}.currency = %s THEN {amount} ELSE 0 END")  # fmt: skip


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


@dataclass
class Data:
    ids: np.ndarray
    n: int
    cols: dict[str, np.ndarray] = field(default_factory=dict)

    def positions(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each id sits in `ids` (and whether it is there at all)."""
        pos = np.searchsorted(self.ids, ids)
        ok = (pos < self.n) & (self.ids[np.minimum(pos, max(self.n - 1, 0))] == ids) if self.n else pos < 0
        return pos, ok

    def place(self, rows: list[tuple], names: tuple[str, ...], fill=np.nan) -> None:
        """Spread per-customer rows (company_id first) over arrays aligned with `ids`."""
        for name in names:
            if name not in self.cols:
                self.cols[name] = np.full(self.n, fill, dtype=float)
        if not rows:
            return
        arr = np.array([[np.nan if v is None else float(v) for v in r] for r in rows], dtype=float) \
            if len(rows) < 1000 else _to_array(rows)  # fmt: skip
        pos, ok = self.positions(arr[:, 0].astype(np.int64))
        for j, name in enumerate(names, start=1):
            self.cols[name][pos[ok]] = arr[ok, j]


def _to_array(rows: list[tuple]) -> np.ndarray:
    # Decimals and None: column by column through float() is the cheap path for large results.
    width = len(rows[0])
    out = np.empty((len(rows), width), dtype=float)
    for j in range(width):
        col = [r[j] for r in rows]
        try:
            out[:, j] = np.array(col, dtype=float)
        except TypeError:
            out[:, j] = np.array([np.nan if v is None else float(v) for v in col], dtype=float)
    return out


# --- hooks for tests ----------------------------------------------------------------------------


def checkpoint(name: str) -> None:
    """Called between the steps of the write phase; tests replace it to inject a failure."""


# --- phases -------------------------------------------------------------------------------------


def _case(column: str, points: dict[str, int]) -> tuple[str, list]:
    sql = f"CASE {column}" + " WHEN %s THEN %s" * len(points) + " ELSE 0 END"
    return sql, [x for pair in points.items() for x in pair]


def load(today: dt.date) -> Data:
    """The customers (id order) with their size and purchase-band points and their age, and the
    fingerprint of their current grade (0: none yet); customers with a manual tier are marked
    (their rows are always rewritten: the upsert ends expired manual tiers)."""
    size_sql, size_params = _case("company_size", SIZE_POINTS)
    band_sql, band_params = _case("annual_purchase", BAND_POINTS)
    rows = _fetch(
        f"SELECT id, {size_sql}, {band_sql}, {_days_since('created_at')} FROM {COMPANY} ORDER BY id",
        [*size_params, *band_params, today],
    )
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    data = Data(ids=arr[:, 0].copy(), n=len(arr))
    data.cols["size_pts"] = arr[:, 1].astype(float)
    data.cols["band_pts"] = arr[:, 2].astype(float)
    data.cols["age_days"] = arr[:, 3].astype(float)
    del rows, arr
    prev = np.array(_fetch(f"SELECT company_id, fingerprint FROM {GRADE}", []), dtype=np.int64).reshape(-1, 2)
    data.cols["prev_fp"] = np.zeros(data.n, dtype=np.int64)
    data.cols["graded"] = np.zeros(data.n, dtype=bool)
    pos, ok = data.positions(prev[:, 0])
    data.cols["prev_fp"][pos[ok]] = prev[ok, 1]
    data.cols["graded"][pos[ok]] = True
    overridden = np.array([r[0] for r in _fetch(f"SELECT company_id FROM {GRADE} WHERE override_tier <> ''", [])],
                          dtype=np.int64)  # fmt: skip
    data.cols["overridden"] = np.zeros(data.n, dtype=bool)
    pos, ok = data.positions(overridden)
    data.cols["overridden"][pos[ok]] = True
    return data


def veto_matches(data: Data, rule: dict) -> np.ndarray:
    """The customers a veto rule matches (country and credit rating read through SQL: only the
    few matching ids come back)."""
    kind = rule["kind"]
    c = data.cols
    if kind in (VetoKind.COUNTRY, VetoKind.CREDIT_RATING):
        values = list(rule["countries"] if kind == VetoKind.COUNTRY else rule["ratings"])
        column = "country" if kind == VetoKind.COUNTRY else "credit_rating"
        match = np.zeros(data.n, dtype=bool)
        if values:
            marks = ", ".join(["%s"] * len(values))
            ids = np.array([r[0] for r in _fetch(f"SELECT id FROM {COMPANY} WHERE {column} IN ({marks})", values)],
                           dtype=np.int64)  # fmt: skip
            pos, ok = data.positions(ids)
            match[pos[ok]] = True
        return match
    if kind == VetoKind.OVERDUE_AMOUNT:
        return c["overdue_amount"] > float(rule["threshold"] or 0)
    if kind == VetoKind.OVERDUE_DAYS:
        return np.nan_to_num(c["overdue_days"], nan=-1) > float(rule["threshold"] or 0)
    return np.zeros(data.n, dtype=bool)


def aggregate_orders(data: Data, today: dt.date, since: dt.date) -> int:
    table = "orders_order"
    base = _base("o.total_amount")
    sql = (
        f"SELECT o.company_id, COUNT(*), "
        f"SUM(CASE WHEN o.document_date >= %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN o.document_date >= %s THEN {base} ELSE 0 END), "
        f"SUM({base}), COUNT(DISTINCT o.document_date), "
        f"{_days_since('MIN(o.document_date)')}, {_days_since('MAX(o.document_date)')} "
        f"FROM {table} o WHERE o.status <> 'cancelled' AND o.document_date <= %s "
        f"GROUP BY o.company_id"
    )
    cur_ccy = fx.base_currency()
    rows = _fetch(sql, [since, since, cur_ccy, cur_ccy, today, today, today])
    data.place(rows, ("orders_total", "orders_count", "amount_base", "amount_total", "order_days",
                      "first_ago", "last_ago"))  # fmt: skip
    for name in ("orders_total", "orders_count", "amount_base", "amount_total", "order_days"):
        np.nan_to_num(data.cols[name], copy=False, nan=0.0)
    return len(rows)


def aggregate_payments(data: Data, today: dt.date) -> int:
    ccy = fx.base_currency()
    open_ = "r.status IN ('open', 'partial') AND r.due_date < %s"
    due = _fetch(
        f"SELECT r.company_id, SUM(CASE WHEN r.due_date <= %s THEN {_base('r.amount')} ELSE 0 END), "
        f"SUM(CASE WHEN {open_} THEN {_base('(r.amount - r.paid_amount)')} ELSE 0 END), "
        f"MAX(CASE WHEN {open_} THEN {_days_since('r.due_date')} END) "
        f"FROM orders_receivable r JOIN orders_order o ON o.id = r.order_id "
        f"WHERE r.status <> 'written_off' GROUP BY r.company_id",
        [today, ccy, today, ccy, today, today],
    )
    data.place(due, ("due_amount", "overdue_amount", "overdue_days"))
    on_time = _fetch(
        f"SELECT r.company_id, SUM({_base('a.amount')}) "
        f"FROM orders_paymentallocation a JOIN orders_receivable r ON r.id = a.receivable_id "
        f"JOIN orders_payment p ON p.id = a.payment_id JOIN orders_order o ON o.id = r.order_id "
        f"WHERE r.due_date <= %s AND p.received_on <= r.due_date GROUP BY r.company_id",
        [ccy, today],
    )
    data.place(on_time, ("on_time_amount",), fill=0.0)
    np.nan_to_num(data.cols["overdue_amount"], copy=False, nan=0.0)
    due_amount = data.cols["due_amount"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(due_amount > 0, np.minimum(data.cols["on_time_amount"] / due_amount, 1.0), np.nan)
    data.cols["on_time_rate"] = rate
    return len(due)


def aggregate_engagement(data: Data, today: dt.date, since: dt.date) -> int:
    since_dt = connection.ops.adapt_datetimefield_value(
        dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    )
    meetings = ", ".join(["%s"] * len(MEETING_TYPES))
    interactions = _fetch(
        f"SELECT i.company_id, SUM(CASE WHEN i.type IN ({meetings}) THEN 2 WHEN i.direction = 'in' THEN 1 ELSE 0 END) "
        f"FROM interactions_interaction i WHERE i.occurred_at >= %s GROUP BY i.company_id",
        [*MEETING_TYPES, since_dt],
    )
    data.place(interactions, ("eng_interactions",), fill=0.0)
    samples = _fetch(
        "SELECT s.company_id, SUM(CASE WHEN s.requested_on >= %s AND s.status <> 'cancelled' THEN 1 ELSE 0 END), "
        "AVG(s.feedback_rating) FROM sales_sample s GROUP BY s.company_id",
        [since],
    )
    data.place(samples, ("eng_samples", "satisfaction"))
    # Satisfaction-survey answers (service app, all on the 1–5 scale: NPS 0–10 is stored mapped)
    # replace the sample ratings for the customers that answered any.
    surveys = _fetch(
        "SELECT v.company_id, AVG(v.score_5) FROM service_survey v WHERE v.score_5 IS NOT NULL "
        "GROUP BY v.company_id",
        [],
    )
    data.place(surveys, ("satisfaction",))
    np.nan_to_num(data.cols["eng_samples"], copy=False, nan=0.0)
    data.cols["engagement"] = data.cols["eng_interactions"] + 2 * data.cols["eng_samples"]
    inquiries = _fetch(
        "SELECT q.company_id, SUM(CASE WHEN q.status IN ('qualified', 'converted') THEN 2 "
        "WHEN q.status = 'spam' THEN 0 ELSE 1 END) FROM sales_inquiry q "
        "WHERE q.company_id IS NOT NULL AND q.received_at >= %s GROUP BY q.company_id",
        [since_dt],
    )
    data.place(inquiries, ("intent",), fill=0.0)
    return len(interactions) + len(samples) + len(inquiries)


def aggregate_potential(data: Data, today: dt.date, since: dt.date) -> int:
    customs = _fetch(
        "SELECT c.company_id, COUNT(*) FROM customs_customsrecord c "
        "WHERE c.company_id IS NOT NULL AND c.date >= %s GROUP BY c.company_id",
        [since],
    )
    data.place(customs, ("customs",), fill=0.0)
    c = data.cols
    c["potential"] = (np.minimum(c["intent"] * 10, 40) + np.minimum(c["customs"] * 2, 30) + c["size_pts"]
                      + c["band_pts"])  # fmt: skip
    return len(customs)


# --- scoring ------------------------------------------------------------------------------------


def points_for(code: str, dim: dict, values: np.ndarray) -> np.ndarray:
    """Points 0–100 of every value of a dimension (NaN: the dimension's neutral points)."""
    ts = dim["thresholds"]
    limits = np.array([t["value"] for t in ts], dtype=float)
    pts = np.array([t["points"] for t in ts], dtype=float)
    clean = np.nan_to_num(values, nan=0.0)
    if MORE_IS_BETTER[code]:
        idx = np.searchsorted(limits, clean, side="right") - 1  # highest threshold reached
        out = np.where(idx >= 0, pts[np.maximum(idx, 0)], 0.0)
    else:
        idx = np.searchsorted(limits, clean, side="left")  # lowest threshold not exceeded
        out = np.where(idx < len(limits), pts[np.minimum(idx, len(limits) - 1)], 0.0)
    return np.where(np.isnan(values), float(dim.get("neutral", 0)), out)


def dimension_values(data: Data) -> dict[str, np.ndarray]:
    c = data.cols
    bought = c["orders_total"] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        repeat = np.where(c["order_days"] > 0, (c["order_days"] - 1) / c["order_days"], np.nan)
    return {
        "frequency": c["orders_count"],
        "amount": c["amount_base"],
        "recency": np.where(bought, c["last_ago"], np.nan),
        "repeat": repeat,
        "timeliness": c["on_time_rate"],
        "satisfaction": c["satisfaction"],
        "engagement": c["engagement"],
        "potential": c["potential"],
    }


@dataclass
class Scored:
    stage: np.ndarray  # lifecycle index (before win-back)
    score: np.ndarray
    points: dict[str, np.ndarray]
    computed_idx: np.ndarray  # tier index before the caps
    capped_idx: np.ndarray
    capped_by: np.ndarray  # object: rule name or ""
    rfm: np.ndarray  # object
    lifecycle: np.ndarray  # object
    churn: np.ndarray
    interval: np.ndarray
    values: dict[str, np.ndarray]
    cap_rule: np.ndarray  # index of the veto rule that capped the tier, −1: none
    rfm_code: np.ndarray  # R·4 + F·2 + M, −1: no order
    fingerprint: np.ndarray | None = None


def score(data: Data, config: dict, tiers: list[dict], vetoes: list[dict]) -> Scored:
    c = data.cols
    values = dimension_values(data)
    dims = config["dimensions"]
    points = {code: points_for(code, dims[code], values[code]) for code in DIMENSION_CODES}
    weights = {code: float(dims[code]["weight"]) for code in DIMENSION_CODES}
    total = sum(weights.values()) or 1.0
    s = sum(points[code] * weights[code] for code in DIMENSION_CODES) / total
    s = np.round(s, 1)

    mins = np.array([t["min_score"] for t in tiers], dtype=float)  # falling
    computed_idx = np.minimum((s[:, None] < mins[None, :]).sum(axis=1), len(tiers) - 1)

    # veto caps: a matching rule puts the best reachable tier at its cap
    rank_of = {t["code"]: i for i, t in enumerate(tiers)}
    cap_idx = np.zeros(data.n, dtype=np.int64)
    cap_rule = np.full(data.n, -1, dtype=np.int64)
    for i, rule in enumerate(vetoes):
        if rule["cap_tier"] not in rank_of:
            continue
        match = veto_matches(data, rule)
        idx = rank_of[rule["cap_tier"]]
        tighter = match & (idx > cap_idx)
        cap_idx = np.where(tighter, idx, cap_idx)
        cap_rule = np.where(tighter, i, cap_rule)
    capped_idx = np.maximum(computed_idx, cap_idx)
    cap_rule = np.where(capped_idx > computed_idx, cap_rule, -1)
    names = np.array([""] + [v["name"] for v in vetoes], dtype=object)
    capped_by = names[cap_rule + 1]

    # RFM against the averages of the customers who bought
    bought = c["orders_total"] > 0
    rfm = np.full(data.n, "", dtype=object)
    rfm_code = np.full(data.n, -1, dtype=np.int64)
    if bought.any():
        r_hi = (c["last_ago"] <= np.nanmean(c["last_ago"][bought])).astype(int)
        f_hi = (c["orders_total"] >= c["orders_total"][bought].mean()).astype(int)
        m_hi = (c["amount_total"] >= c["amount_total"][bought].mean()).astype(int)
        code = r_hi * 4 + f_hi * 2 + m_hi
        table = np.empty(8, dtype=object)
        for (r, f, m), seg in RFM.items():
            table[r * 4 + f * 2 + m] = str(seg)
        rfm = np.where(bought, table[code], "")
        rfm_code = np.where(bought, code, -1)

    # lifecycle and churn risk against the customer's own interval
    life_cfg = config["lifecycle"]
    with np.errstate(divide="ignore", invalid="ignore"):
        interval = np.where(
            c["order_days"] >= 2, (c["first_ago"] - c["last_ago"]) / (c["order_days"] - 1), np.nan
        )
        expected = np.where(
            np.isnan(interval), float(life_cfg["default_interval_days"]), np.maximum(interval, 1.0)
        )
        ratio = np.where(bought, c["last_ago"] / expected, np.nan)
    at_risk, dormant, lost = float(life_cfg["at_risk"]), float(life_cfg["dormant"]), float(life_cfg["lost"])
    stage = np.select(
        [~bought & (c["age_days"] <= life_cfg["new_days"]), ~bought, ratio <= at_risk, ratio <= dormant,
         ratio <= lost],
        [0, 1, 2, 3, 4],
        default=5,
    )  # fmt: skip
    # win-back (was dormant or lost, ordered again) needs the previous stage: the upsert decides it
    life_names = np.array([str(x) for x in LIFECYCLES], dtype=object)
    lifecycle = life_names[stage]
    churn = np.where(bought, np.clip((ratio - 1.0) / (lost - 1.0), 0.0, 1.0), np.nan)
    return Scored(stage=stage, score=s, points=points, computed_idx=computed_idx, capped_idx=capped_idx,
                  capped_by=capped_by, rfm=rfm, lifecycle=lifecycle, churn=np.round(churn, 3),
                  interval=np.round(interval, 1), values=values, cap_rule=cap_rule, rfm_code=rfm_code)  # fmt: skip


def _dates(days_ago: np.ndarray, today: dt.date) -> np.ndarray:
    """'YYYY-MM-DD' (or '') for `today` minus each number of days."""
    out = np.full(len(days_ago), "", dtype=object)
    ok = ~np.isnan(days_ago)
    if ok.any():
        d = np.datetime64(today, "D") - days_ago[ok].astype("timedelta64[D]")
        out[ok] = np.datetime_as_string(d, unit="D").astype(object)
    return out


# --- write --------------------------------------------------------------------------------------

COLUMNS = (
    "company_id", "tier", "computed_tier", "score", "capped_by", "override_tier", "override_reason",
    "override_until", "override_by_id", "orders_count", "orders_total", "amount_base", "amount_total_base",
    "recency_days", "repeat_rate", "on_time_rate", "overdue_amount_base", "overdue_days", "satisfaction",
    "engagement", "potential", "points", "first_order_on", "last_order_on", "typical_interval_days",
    "rfm_segment", "lifecycle", "churn_risk", "computed_at", "fingerprint", "run_id",
)  # fmt: skip
OVERRIDE_COLUMNS = ("override_tier", "override_reason", "override_until", "override_by_id")
FNV_OFFSET, FNV_PRIME = np.uint64(14695981039346656037), np.uint64(1099511628211)


def fingerprint(data: Data, sc: Scored) -> np.ndarray:
    """A 64-bit hash per customer of everything a run writes into its row (FNV-1a over the 64-bit
    words): equal hashes, nothing to rewrite."""
    c = data.cols
    parts = [
        sc.capped_idx, sc.score, sc.cap_rule, sc.rfm_code, sc.stage, sc.churn, sc.interval,
        c["orders_count"], c["orders_total"], c["amount_base"], c["amount_total"], c["first_ago"], c["last_ago"],
        c["on_time_rate"], c["overdue_amount"], c["overdue_days"], c["satisfaction"], c["engagement"],
        c["potential"], *(sc.points[code] for code in DIMENSION_CODES),
    ]  # fmt: skip
    h = np.full(data.n, FNV_OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for part in parts:
            words = np.nan_to_num(np.asarray(part, dtype=np.float64), nan=-1.5e300).view(np.uint64)
            h ^= words
            h *= FNV_PRIME
    return h.view(np.int64)


def _nullable(arr: np.ndarray, digits: int | None = None) -> list:
    if digits is not None:
        arr = np.round(arr, digits)
    return [None if v != v else v for v in arr.tolist()]


def _ints(arr: np.ndarray) -> list:
    return [None if v != v else int(v) for v in arr.tolist()]


def _strs(arr: np.ndarray) -> list:
    return [v or None for v in arr.tolist()]


def build_rows(data: Data, sc: Scored, tiers: list[dict], today: dt.date, now_param, run_id: int,
               rows: np.ndarray) -> list[tuple]:  # fmt: skip
    """The staging rows of the customers at positions `rows`."""
    c = {k: v[rows] for k, v in data.cols.items() if isinstance(v, np.ndarray) and len(v) == data.n}
    codes = np.array([t["code"] for t in tiers], dtype=object)
    capped = codes[sc.capped_idx[rows]].tolist()
    tmpl = "{" + ",".join(f'"{code}":%d' for code in DIMENSION_CODES) + "}"
    pts = np.column_stack([np.round(sc.points[code][rows]) for code in DIMENSION_CODES]).astype(int).tolist()
    points = [tmpl % tuple(p) for p in pts]
    n = len(rows)
    bought = c["orders_total"] > 0
    cols = [
        data.ids[rows].tolist(), capped, capped, sc.score[rows].tolist(), sc.capped_by[rows].tolist(),
        [""] * n, [""] * n, [None] * n, [None] * n,
        c["orders_count"].astype(int).tolist(), c["orders_total"].astype(int).tolist(),
        np.round(c["amount_base"], 2).tolist(), np.round(c["amount_total"], 2).tolist(),
        _ints(np.where(bought, c["last_ago"], np.nan)), _nullable(sc.values["repeat"][rows], 4),
        _nullable(c["on_time_rate"], 4), np.round(c["overdue_amount"], 2).tolist(), _ints(c["overdue_days"]),
        _nullable(c["satisfaction"], 2), c["engagement"].tolist(), c["potential"].tolist(), points,
        _strs(_dates(np.where(bought, c["first_ago"], np.nan), today)),
        _strs(_dates(np.where(bought, c["last_ago"], np.nan), today)),
        _nullable(sc.interval[rows]), sc.rfm[rows].tolist(), sc.lifecycle[rows].tolist(), _nullable(sc.churn[rows]),
        [now_param] * n, sc.fingerprint[rows].tolist(), [run_id] * n,
    ]  # fmt: skip
    return list(zip(*cols, strict=True))


def _stage_sql() -> str:
    types = {
        "company_id": "bigint", "tier": "varchar(16)", "computed_tier": "varchar(16)", "score": "double precision",
        "capped_by": "varchar(64)", "override_tier": "varchar(16)", "override_reason": "varchar(255)",
        "override_until": "date", "override_by_id": "bigint", "orders_count": "integer", "orders_total": "integer",
        "amount_base": "numeric(18,2)", "amount_total_base": "numeric(18,2)", "recency_days": "integer",
        "repeat_rate": "double precision", "on_time_rate": "double precision",
        "overdue_amount_base": "numeric(18,2)", "overdue_days": "integer", "satisfaction": "double precision",
        "engagement": "double precision", "potential": "double precision",
        "points": "jsonb" if _pg() else "text", "first_order_on": "date", "last_order_on": "date",
        "typical_interval_days": "double precision", "rfm_segment": "varchar(24)", "lifecycle": "varchar(12)",
        "churn_risk": "double precision", "computed_at": "timestamptz" if _pg() else "datetime",
        "fingerprint": "bigint", "run_id": "bigint",
    }  # fmt: skip
    body = ", ".join(f"{c} {types[c]}" for c in COLUMNS)
    if _pg():
        return f"CREATE TEMP TABLE {STAGE} ({body}) ON COMMIT DROP"
    return f"CREATE TEMP TABLE {STAGE} ({body})"


def _holds(g: str) -> str:
    """A manual tier that still holds on the day %s."""
    return f"({g}.override_tier <> '' AND ({g}.override_until IS NULL OR {g}.override_until >= %s))"


def _expired(g: str) -> str:
    return f"({g}.override_tier <> '' AND {g}.override_until IS NOT NULL AND {g}.override_until < %s)"


def _upsert_sql() -> tuple[str, int]:
    """Insert new grades, update the staged ones. A manual tier that still holds stays (also one
    set while the run computed); an expired one ends here. Win-back: a customer that was dormant
    or lost and is active again, or was win-back and has not ordered since."""
    g = GRADE
    sets = [
        f"{c} = excluded.{c}"
        for c in COLUMNS
        if c not in ("company_id", "tier", "lifecycle", *OVERRIDE_COLUMNS)
    ]
    sets.append(f"tier = CASE WHEN {_holds(g)} THEN {g}.override_tier ELSE excluded.tier END")
    sets.append(
        f"lifecycle = CASE WHEN excluded.lifecycle = 'active' AND ({g}.lifecycle IN ('dormant', 'lost') "
        f"OR ({g}.lifecycle = 'win_back' AND {g}.last_order_on = excluded.last_order_on)) "
        f"THEN 'win_back' ELSE excluded.lifecycle END"
    )
    for col, empty in (("override_tier", "''"), ("override_reason", "''"), ("override_until", "NULL"),
                       ("override_by_id", "NULL")):  # fmt: skip
        sets.append(f"{col} = CASE WHEN {_expired(g)} THEN {empty} ELSE {g}.{col} END")
    cols = ", ".join(COLUMNS)
    select = ", ".join(f"s.{c}" for c in COLUMNS)
    sql = (
        f"INSERT INTO {g} ({cols}) SELECT {select} FROM {STAGE} s JOIN {COMPANY} c ON c.id = s.company_id "
        f"WHERE true ON CONFLICT (company_id) DO UPDATE SET {', '.join(sets)}"
    )
    return sql, 1 + 4


def _changes_sql() -> tuple[str, int]:
    """GradeChange rows for every staged customer whose effective tier this run changes (a manual
    tier that holds is not changed; one that expired ends: reason override_end)."""
    sql = (
        f"INSERT INTO {CHANGE} (company_id, from_tier, to_tier, from_score, to_score, reason, note, run_id, changed_at) "
        f"SELECT s.company_id, COALESCE(g.tier, ''), s.tier, g.score, s.score, "
        f"CASE WHEN {_expired('g')} THEN 'override_end' ELSE 'run' END, '', s.run_id, s.computed_at "
        f"FROM {STAGE} s JOIN {COMPANY} c ON c.id = s.company_id LEFT JOIN {GRADE} g ON g.company_id = s.company_id "
        f"WHERE g.company_id IS NULL OR (NOT {_holds('g')} AND g.tier <> s.tier)"
    )
    return sql, 2


STAGE_CHUNK = 50_000  # rows built and written at a time: bounded memory, same speed


def _write_stage(build, changed: np.ndarray) -> None:
    """Create the staging table and fill it with the rows `build(positions)` makes, chunk by chunk."""
    with connection.cursor() as cur:
        # (inside an outer transaction, e.g. a test's, PostgreSQL's ON COMMIT DROP has not run yet)
        cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cur.execute(_stage_sql())
        placeholders = ", ".join(["%s"] * len(COLUMNS))
        for i in range(0, len(changed), STAGE_CHUNK):
            rows = build(changed[i : i + STAGE_CHUNK])
            if _pg():
                with cur.cursor.copy(f"COPY {STAGE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cur.executemany(f"INSERT INTO {STAGE} ({', '.join(COLUMNS)}) VALUES ({placeholders})", rows)


def _notify_changes(run_id: int, now_param) -> int:
    """A tier_changed notification to the owner for every change of an existing tier this run
    made (a first grade is not news)."""
    from django.urls import reverse

    prefix, suffix = reverse("customers:company_detail", args=[987654321]).split("987654321")
    text = "CAST(x.id AS TEXT)" if not _pg() else "(x.id)::text"
    cid = "CAST(x.company_id AS TEXT)" if not _pg() else "(x.company_id)::text"
    obj = "jsonb_build_object" if _pg() else "json_object"
    sql = (
        f'INSERT INTO {NOTIFICATION} (user_id, kind, params, url, company_id, followup_id, "key", created_at) '
        f"SELECT c.owner_id, 'tier_changed', {obj}('company', c.name, 'from', x.from_tier, 'to', x.to_tier, "
        f"'reason', x.reason), '{prefix}' || {cid} || '{suffix}', x.company_id, NULL, 'tier:' || {text}, %s "
        f"FROM {CHANGE} x JOIN {COMPANY} c ON c.id = x.company_id "
        f"JOIN accounts_user u ON u.id = c.owner_id AND u.is_active "
        f"WHERE x.run_id = %s AND x.from_tier <> '' ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [now_param, run_id])
        return max(cur.rowcount, 0)


# --- the run ------------------------------------------------------------------------------------


def current_setup() -> tuple[dict, list[dict], list[dict], int]:
    from .models import GradingConfig

    cfg = GradingConfig.objects.filter(pk=1).first()
    if cfg is None:
        from .config import default_config

        data, version = default_config(), 0
    else:
        data, version = cfg.data, cfg.version
    tiers = list(Tier.objects.order_by("rank").values("code", "name", "min_score", "rank"))
    vetoes = [
        {"name": v.name, "kind": v.kind, "countries": v.countries, "ratings": v.ratings,
         "threshold": str(v.threshold) if v.threshold is not None else None, "cap_tier": v.cap_tier}
        for v in VetoRule.objects.filter(active=True).order_by("id")
    ]  # fmt: skip
    return data, tiers, vetoes, version


def run(*, trigger: str = "manual", actor=None, now: dt.datetime | None = None) -> GradingRun:
    """Grade every customer. Returns the finished run (status done or failed; a failed run raised
    nothing to the caller but kept the previous grades; see `GradingRun.error`)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    config, tiers, vetoes, version = current_setup()
    if not tiers:
        raise GradingFailed("no tiers")
    run_obj = GradingRun.objects.create(
        started_at=now, trigger=trigger, actor=actor if getattr(actor, "pk", None) else None,
        config={"version": version, "config": config, "tiers": tiers, "vetoes": vetoes},
    )  # fmt: skip
    phases: dict[str, float] = {}
    counts: dict[str, int] = {}

    def timed(name, fn, *args):
        t = time.perf_counter()
        out = fn(*args)
        phases[name] = round(time.perf_counter() - t, 3)
        return out

    try:
        since = today - dt.timedelta(days=int(config["window_days"]))
        data = timed("load", load, today)
        counts["customers"] = data.n
        counts["buyers"] = timed("orders", aggregate_orders, data, today, since)
        counts["with_receivables"] = timed("payments", aggregate_payments, data, today)
        timed("engagement", aggregate_engagement, data, today, since)
        timed("potential", aggregate_potential, data, today, since)
        t = time.perf_counter()
        sc = score(data, config, tiers, vetoes)
        sc.fingerprint = fingerprint(data, sc)
        c = data.cols
        changed = np.flatnonzero(~c["graded"] | (c["prev_fp"] != sc.fingerprint) | c["overridden"])
        now_param = connection.ops.adapt_datetimefield_value(now)
        phases["score"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        p_today = connection.ops.adapt_datefield_value(today)
        with transaction.atomic():
            _write_stage(
                lambda part: build_rows(data, sc, tiers, today, now_param, run_obj.pk, part), changed
            )
            checkpoint("staged")
            with connection.cursor() as cur:
                sql, n = _changes_sql()
                cur.execute(sql, [p_today] * n)
                counts["tier_changes"] = max(cur.rowcount, 0)
                checkpoint("changes")
                sql, n = _upsert_sql()
                cur.execute(sql, [p_today] * n)
                counts["grades_written"] = max(cur.rowcount, 0)
                cur.execute(f"DROP TABLE {STAGE}")
            checkpoint("upserted")
            counts["notified"] = _notify_changes(run_obj.pk, now_param)
            counts["capped"] = int((sc.capped_by != "").sum())
            GradingRun.objects.filter(pk=run_obj.pk).update(status=RunStatus.DONE, counts=counts)
        # the write phase includes the commit (PostgreSQL checks the deferred foreign keys there)
        phases["write"] = round(time.perf_counter() - t, 3)
        phases["total"] = round(sum(phases.values()), 3)
        GradingRun.objects.filter(pk=run_obj.pk).update(finished_at=timezone.now(), phases=phases)
    except Exception as exc:  # noqa: BLE001 - any failure: keep the previous grades, record why
        if not _pg():
            with connection.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
        GradingRun.objects.filter(pk=run_obj.pk).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), phases=phases, counts=counts,
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )  # fmt: skip
    run_obj.refresh_from_db()
    if run_obj.status == RunStatus.DONE and counts.get("tier_changes"):
        # automation: "tier changed" rules for every change this run made, queued in batches
        from tradecrm.automation.events import emit_grading_changes

        emit_grading_changes(run_id=run_obj.pk, actor=actor)
    return run_obj
