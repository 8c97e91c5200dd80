"""Association rules over order lines (“customers who buy shirts also buy ties”) and the per-product
figures for up-sell suggestions.

A “basket” is everything one customer has bought (over all its non-cancelled orders), not one
order: exporters' buyers split purchases across orders, and the question asked is “which products
do the same buyers take”. Phases:

1. read — one GROUP BY over order lines × orders gives the distinct (customer, product) pairs with
   their quantity and amount in the base currency (the order's frozen rate; lines of orders
   without a rate in a foreign currency are left out of the price), summed per product in numpy
   (a separate GROUP BY per product measured 4x slower on SQLite: it walks the lines in product
   order and looks every order up);
2. count — a sparse customer × product matrix X (scipy); Xᵀ·X holds, for every product pair, the
   number of customers who bought both, and on its diagonal each product's buyers;
3. rules — support = both / buyers, confidence = both / antecedent's buyers,
   lift = confidence / (consequent's buyers / buyers); kept when support ≥ `min_support`,
   confidence ≥ `min_confidence` and at least `MIN_PAIR_CUSTOMERS` customers bought both, at most
   `per_product` rules per antecedent (by confidence);
4. write — rules and product figures replaced in one transaction.
"""

from __future__ import annotations

import math
import time
from decimal import Decimal

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from tradecrm.core import fx

from .models import AssociationRule, ProductStat, RuleRun, RunStatus

MIN_SUPPORT = 0.001  # 0.1 % of the buying customers
MIN_CONFIDENCE = 0.05
MIN_PAIR_CUSTOMERS = 2  # never a rule from a single customer's habits
PER_PRODUCT = 20


def _tables():
    from tradecrm.orders.models import Order, OrderLine

    return Order._meta.db_table, OrderLine._meta.db_table


def read_pairs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (customer, product) pairs of the non-cancelled orders, with the quantity and the
    amount in the base currency of the lines whose rate is known: four arrays, one GROUP BY."""
    orders, lines = _tables()
    rate = "COALESCE(o.fx_rate, CASE WHEN o.currency = %s THEN 1 END)"
    sql = (
        f"SELECT o.company_id, l.product_id, CAST(SUM(l.amount * {rate}) AS DOUBLE PRECISION), "
        f"CAST(SUM(CASE WHEN {rate} IS NOT NULL THEN l.quantity END) AS DOUBLE PRECISION) "
        f"FROM {lines} l JOIN {orders} o ON o.id = l.order_id "
        "WHERE l.product_id IS NOT NULL AND o.status <> 'cancelled' GROUP BY o.company_id, l.product_id"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [fx.base_currency(), fx.base_currency()])
        rows = cur.fetchall()
    if not rows:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0), np.empty(0)
    arr = np.array(rows, dtype=np.float64)  # NULL -> nan
    return arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2], arr[:, 3]


def prices_of(products: np.ndarray, amount: np.ndarray, qty: np.ndarray) -> dict[int, Decimal]:
    """product id -> average unit price in the base currency (amount ÷ quantity over its lines)."""
    known = ~(np.isnan(amount) | np.isnan(qty))
    p_ids, idx = np.unique(products[known], return_inverse=True)
    amounts = np.bincount(idx, weights=amount[known], minlength=len(p_ids))
    qtys = np.bincount(idx, weights=qty[known], minlength=len(p_ids))
    return {
        int(p): Decimal(repr(round(float(a) / float(q), 4))).quantize(Decimal("0.0001"))
        for p, a, q in zip(p_ids, amounts, qtys, strict=True)
        if q > 0
    }


def compute_rules(
    companies: np.ndarray,
    products: np.ndarray,
    *,
    min_support: float,
    min_confidence: float,
    per_product: int = PER_PRODUCT,
) -> tuple[list[tuple], dict[int, int], int]:
    """(rules as (antecedent, consequent, pair_count, antecedent_count, support, confidence, lift),
    {product: buyers}, number of buying customers)."""
    from scipy import sparse

    if len(companies) == 0:
        return [], {}, 0
    c_ids, c_idx = np.unique(companies, return_inverse=True)
    p_ids, p_idx = np.unique(products, return_inverse=True)
    n = len(c_ids)
    x = sparse.csr_matrix(
        (np.ones(len(c_idx), dtype=np.int32), (c_idx, p_idx)), shape=(n, len(p_ids)), dtype=np.int32
    )
    co = (x.T @ x).tocoo()
    buyers = np.asarray(x.sum(axis=0)).ravel()
    min_pairs = max(MIN_PAIR_CUSTOMERS, math.ceil(min_support * n))
    keep = (co.row != co.col) & (co.data >= min_pairs)
    a, b, both = co.row[keep], co.col[keep], co.data[keep].astype(np.float64)
    confidence = both / buyers[a]
    keep = confidence >= min_confidence
    a, b, both, confidence = a[keep], b[keep], both[keep], confidence[keep]
    lift = confidence / (buyers[b] / n)
    # best `per_product` per antecedent: sort by (antecedent, -confidence, -lift)
    order = np.lexsort((-lift, -confidence, a))
    a, b, both, confidence, lift = a[order], b[order], both[order], confidence[order], lift[order]
    rank = np.arange(len(a)) - np.searchsorted(a, a, side="left")
    keep = rank < per_product
    rules = [
        (int(p_ids[ai]), int(p_ids[bi]), int(nb), int(buyers[ai]), float(nb / n), float(cf), float(lf))
        for ai, bi, nb, cf, lf in zip(a[keep], b[keep], both[keep], confidence[keep], lift[keep], strict=True)
    ]
    return rules, {int(p): int(c) for p, c in zip(p_ids, buyers, strict=True)}, n


def write(rules: list[tuple], buyers: dict[int, int], prices: dict[int, Decimal]) -> None:
    rt, pt = AssociationRule._meta.db_table, ProductStat._meta.db_table
    stats = [
        (p, buyers.get(p, 0), str(prices[p]) if p in prices else None) for p in set(buyers) | set(prices)
    ]
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {rt}")
        cur.execute(f"DELETE FROM {pt}")
        cur.executemany(
            f"INSERT INTO {rt} (antecedent_id, consequent_id, pair_count, antecedent_count, support, confidence, lift) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            rules,
        )
        cur.executemany(
            f"INSERT INTO {pt} (product_id, buyers, avg_unit_price_base) VALUES (%s, %s, %s)", stats
        )


def execute(run: RuleRun, *, fail_after=None) -> RuleRun:
    """Compute the rules for `run`; a failure leaves the previous rules and marks the run failed."""
    params = {"min_support": MIN_SUPPORT, "min_confidence": MIN_CONFIDENCE, "per_product": PER_PRODUCT,
              **(run.params or {})}  # fmt: skip
    phases: dict[str, float] = {}
    run.status, run.started_at, run.params = RunStatus.RUNNING, timezone.now(), params
    run.save(update_fields=["status", "started_at", "params"])
    try:
        t = time.perf_counter()
        companies, products, amount, qty = read_pairs()
        phases["read"] = time.perf_counter() - t
        t = time.perf_counter()
        prices = prices_of(products, amount, qty)
        t = time.perf_counter()
        rules, buyers, n = compute_rules(
            companies, products, min_support=params["min_support"], min_confidence=params["min_confidence"],
            per_product=params["per_product"],
        )  # fmt: skip
        phases["rules"] = time.perf_counter() - t
        t = time.perf_counter()
        with transaction.atomic():
            write(rules, buyers, prices)
            if fail_after:
                fail_after("write")
            phases["write"] = time.perf_counter() - t
            run.status, run.finished_at = RunStatus.DONE, timezone.now()
            run.counts = {
                "pairs": int(len(companies)),
                "customers": n,
                "products": len(buyers),
                "rules": len(rules),
            }
            run.phases = {k: round(v, 3) for k, v in phases.items()}
            run.save()
    except Exception as exc:  # noqa: BLE001 - the run records why it failed
        run.status, run.finished_at, run.error = RunStatus.FAILED, timezone.now(), str(exc)[:2000]
        run.phases = {k: round(v, 3) for k, v in phases.items()}
        run.save(update_fields=["status", "finished_at", "error", "phases"])
    return run
