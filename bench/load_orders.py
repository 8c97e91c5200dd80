"""Bench loader for the deal-flow history: orders, order lines, receivables and payments added to
a bench database of companies built by bench/load.py.

    .venv/bin/python bench/load_orders.py --companies 1000000 --lines 10000000 --database sqlite
    .venv/bin/python bench/load_orders.py --companies 1000000 --lines 1000000 --database postgres

About 30% of the companies are buyers. Each buyer has its own rhythm (a typical interval between
orders of 20–200 days), its own product categories (with paired categories bought together, so
association rules have something to find), its own currency, and a fate: still ordering, slowing
down, or gone quiet some months ago. Every order gets 1–9 lines, one balance receivable (paid on
time, late, or still open) and a payment for what was paid, in the base currency at a fixed rate.

The existing orders, lines, receivables and payments of the bench database are replaced. Indexes
of those tables are dropped for the load and rebuilt after it, then ANALYZE. Prints JSON with the
counts and timings. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TABLES = ("orders_order", "orders_orderline", "orders_receivable", "orders_payment")
BUYER_SHARE = 0.30
HISTORY_DAYS = 6 * 365  # the order history starts at most six years back
CHUNK = 20_000  # companies per worker task
CATEGORIES = (
    "Shirts", "Ties", "Trousers", "Jackets", "Socks", "Scarves", "Gloves", "Hats", "Bags", "Belts",
    "Towels", "Bed linen", "Curtains", "Tablecloths", "Cushions", "Cups", "Plates", "Bowls", "Cutlery",
    "Teapots", "LED bulbs", "LED strips", "Switches", "Sockets", "Cables", "Adapters",
)  # fmt: skip
PRODUCTS_PER_CATEGORY = 20
CURRENCIES = (("USD", 1.0, 60), ("EUR", 1.08, 25), ("GBP", 1.27, 5), ("CNY", 0.14, 10))

_w: dict = {}  # per-worker state (fork)


def paired(category: int) -> int:
    """The category bought together with `category` (shirts with ties, cups with plates…)."""
    return category + 1 if category % 2 == 0 else category - 1


def _init_worker(seed, products, owners, today, lines_per_buyer, database):
    _w.update(seed=seed, products=products, owners=owners, today=today, lpb=lines_per_buyer, db=database)


def _build(task):
    """Rows for the companies [first, first + count): orders, lines, receivables, payments. Ids are
    derived from the company id so chunks never collide."""
    first, count = task
    rnd = random.Random(_w["seed"] * 1_000_003 + first)
    products, owners, today, lpb, pg = (
        _w["products"],
        _w["owners"],
        _w["today"],
        _w["lpb"],
        _w["db"] == "postgres",
    )
    orders, lines, recs, pays = [], [], [], []
    ts = f"{today.isoformat()} 08:00:00" + ("+00" if pg else "")
    for company_id in range(first, first + count):
        if rnd.random() >= BUYER_SHARE:
            continue
        owner = owners.get(company_id)
        cur, rate, _w8 = rnd.choices(CURRENCIES, weights=[c[2] for c in CURRENCIES])[0]
        cats = rnd.sample(range(len(CATEGORIES)), rnd.choice((1, 1, 2, 3)))
        interval = rnd.uniform(20, 200)
        fate = rnd.random()  # < 0.6 active, < 0.8 slowing, else gone quiet
        stop = today if fate < 0.6 else today - dt.timedelta(days=int(interval * rnd.uniform(1.5, 3)))
        if fate >= 0.8:
            stop = today - dt.timedelta(days=int(interval * rnd.uniform(3, 8)))
        n_orders = max(1, min(120, int(rnd.expovariate(1.0 / max(1.0, lpb / 5.0)) + 0.5)))
        day = stop - dt.timedelta(days=int(interval * n_orders * rnd.uniform(0.8, 1.2)))
        day = max(day, today - dt.timedelta(days=HISTORY_DAYS))
        base_order = company_id * 1000
        for k in range(n_orders):
            day = day + dt.timedelta(days=max(1, int(interval * rnd.uniform(0.5, 1.5))))
            if day > today:
                break
            order_id = base_order + k
            total = 0.0
            n_lines = rnd.randint(1, 9)
            for pos in range(n_lines):
                cat = rnd.choice(cats)
                if rnd.random() < 0.35:
                    cat = paired(cat)
                pid, sku, name, hs, price = products[
                    cat * PRODUCTS_PER_CATEGORY + rnd.randrange(PRODUCTS_PER_CATEGORY)
                ]
                qty = rnd.randrange(100, 5000, 50)
                unit = round(price * rnd.uniform(0.9, 1.1), 2)
                amount = round(qty * unit, 2)
                total += amount
                lines.append(
                    (order_id * 10 + pos, order_id, pos, pid, sku, name, hs, "pcs", qty, unit, amount)
                )
            total = round(total, 2)
            age = (today - day).days
            cancelled = rnd.random() < 0.02
            if cancelled:
                status = "cancelled"
            elif age > 90:
                status = "completed"
            else:
                status = ("confirmed", "production", "shipped", "delivered")[min(3, age // 23)]
            due = day + dt.timedelta(days=rnd.choice((30, 45, 60)))
            paid = 0.0
            rec_status = "open"
            pay_on = None
            if not cancelled and due <= today:
                luck = rnd.random()
                if luck < 0.80:
                    pay_on, paid = due - dt.timedelta(days=rnd.randint(0, 10)), total
                elif luck < 0.95:
                    pay_on, paid = due + dt.timedelta(days=rnd.randint(5, 60)), total
                    if pay_on > today:
                        pay_on, paid = None, 0.0
                rec_status = "paid" if paid else "open"
            orders.append((order_id, ts, ts, company_id, f"SO-B{order_id}", f"SO-B{order_id}", day.isoformat(), cur,
                           "USD", rate, day.isoformat(), "bench", total, total, status, paid, owner))  # fmt: skip
            if not cancelled:
                recs.append(
                    (order_id, order_id, company_id, "balance", due.isoformat(), total, cur, paid, rec_status)
                )
                if pay_on:
                    pays.append((order_id, order_id, company_id, order_id, pay_on.isoformat(), total, cur, total,
                                 rate, pay_on.isoformat(), "bench", round(total * rate, 2), ts))  # fmt: skip
    return orders, lines, recs, pays


ORDER_COLS = ("id", "created_at", "updated_at", "company_id", "number", "base_number", "document_date", "currency",
              "base_currency", "fx_rate", "fx_date", "fx_source", "subtotal", "total_amount", "status", "paid_amount",
              "owner_id")  # fmt: skip
LINE_COLS = ("id", "order_id", "position", "product_id", "sku", "name", "hs_code", "unit", "quantity", "unit_price",
             "amount")  # fmt: skip
REC_COLS = ("id", "order_id", "company_id", "kind", "due_date", "amount", "currency", "paid_amount", "status")
PAY_COLS = ("id", "order_id", "company_id", "receivable_id", "received_on", "amount", "currency", "applied_amount",
            "fx_rate", "fx_date", "fx_source", "base_amount", "created_at")  # fmt: skip


def _defaults(model, given: tuple[str, ...]) -> tuple[tuple[str, ...], tuple]:
    """The columns not generated here that are NOT NULL without a database default: filled with the
    model default (or '' for text), so the rows are what the application itself would write."""
    import enum
    from decimal import Decimal

    cols, vals = [], []
    for f in model._meta.concrete_fields:
        if f.column in given or f.null:
            continue
        v = f.get_default() if f.has_default() else ""
        if isinstance(v, enum.Enum):
            v = v.value
        elif isinstance(v, Decimal):
            v = str(v)
        elif isinstance(v, dict | list):
            v = json.dumps(v)
        cols.append(f.column)
        vals.append(v)
    return tuple(cols), tuple(vals)


def ensure_products(today) -> list[tuple]:
    """PRODUCTS_PER_CATEGORY bench products per category (created once, through the ORM: few rows)."""
    from tradecrm.catalog.models import Product

    rnd = random.Random(7)
    have = {p.sku: p for p in Product.objects.filter(sku__startswith="BENCH-")}
    new = []
    for c, cat in enumerate(CATEGORIES):
        for i in range(PRODUCTS_PER_CATEGORY):
            sku = f"BENCH-{c:02d}-{i:02d}"
            if sku not in have:
                new.append(Product(sku=sku, name_en=f"{cat} model {i + 1}", category=cat,
                                   hs_code=f"{6100 + c:04d}{i:02d}00", unit="pcs"))  # fmt: skip
    Product.objects.bulk_create(new)
    prices = {}
    out = []
    for p in Product.objects.filter(sku__startswith="BENCH-").order_by("sku"):
        price = prices.setdefault(p.sku, round(rnd.uniform(0.5, 40), 2))
        out.append((p.id, p.sku, p.name_en, p.hs_code, price))
    return out


def load(args) -> dict:
    common.setup_django(args.database, args.companies)
    from django.db import connection

    from tradecrm.orders.models import Order, OrderLine, Payment, Receivable

    timings: dict = {}
    t0 = time.perf_counter()
    today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    products = ensure_products(today)
    with connection.cursor() as cur:
        cur.execute("SELECT id, owner_id FROM customers_company")
        owners = dict(cur.fetchall())
    n_companies = len(owners)
    connection.close()
    extra = {
        t: _defaults(m, cols)
        for t, m, cols in (
            ("orders_order", Order, ORDER_COLS),
            ("orders_orderline", OrderLine, LINE_COLS),
            ("orders_receivable", Receivable, REC_COLS),
            ("orders_payment", Payment, PAY_COLS),
        )
    }
    columns = {
        "orders_order": ORDER_COLS + extra["orders_order"][0],
        "orders_orderline": LINE_COLS + extra["orders_orderline"][0],
        "orders_receivable": REC_COLS + extra["orders_receivable"][0],
        "orders_payment": PAY_COLS + extra["orders_payment"][0],
    }
    # the six-year cap and the random fates cut about 13% of the planned orders: planned a bit higher
    lines_per_buyer = 1.15 * args.lines / max(1, n_companies * BUYER_SHARE)
    timings["prepare_s"] = round(time.perf_counter() - t0, 1)

    if args.database == "sqlite":
        import sqlite3

        conn = sqlite3.connect(os.environ["TRADECRM_SQLITE_PATH"], isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000", "temp_store=MEMORY",
                       "locking_mode=EXCLUSIVE", "foreign_keys=OFF"):  # fmt: skip
            conn.execute(f"PRAGMA {pragma}")
        index_sql = common.sqlite_drop_indexes(conn, TABLES)
        for table in reversed(TABLES):
            conn.execute(f"DELETE FROM {table}")
        sqls = {
            t: f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})"
            for t, c in columns.items()
        }

        def write(parts):
            conn.execute("BEGIN")
            for table, rows in zip(TABLES, parts, strict=True):
                tail = extra[table][1]
                conn.executemany(sqls[table], (r + tail for r in rows))
            conn.execute("COMMIT")
    else:
        import psycopg

        from tradecrm.customers.demo import _copy

        conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        cur = conn.cursor()
        index_sql, fks = common.pg_drop_indexes(cur, TABLES)
        cur.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")

        def write(parts):
            with conn.transaction():
                for table, rows in zip(TABLES, parts, strict=True):
                    tail = extra[table][1]
                    _copy(cur, table, columns[table], [r + tail for r in rows])

    counts = dict.fromkeys(("orders", "lines", "receivables", "payments"), 0)
    ids = sorted(owners)
    tasks = [
        (ids[0] + k, min(CHUNK, ids[-1] + 1 - ids[0] - k)) for k in range(0, ids[-1] + 1 - ids[0], CHUNK)
    ]
    t = time.perf_counter()
    ctx = mp.get_context("fork")
    with ctx.Pool(args.workers, initializer=_init_worker,
                  initargs=(args.seed, products, owners, today, lines_per_buyer, args.database)) as pool:  # fmt: skip
        for i, parts in enumerate(pool.imap(_build, tasks)):
            write(parts)
            for key, rows in zip(counts, parts, strict=True):
                counts[key] += len(rows)
            if not args.quiet and (i + 1) % 5 == 0:
                el = time.perf_counter() - t
                print(
                    f"  {counts['lines']:,} lines, {el:.0f} s, {counts['lines'] / el:,.0f}/s", file=sys.stderr
                )
    timings["insert_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    if args.database == "sqlite":
        for sql in index_sql:
            conn.execute(sql)
        timings["indexes_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.close()
    else:
        cur.execute("SET maintenance_work_mem = '512MB'")
        for sql in index_sql:
            cur.execute(sql)
        common.pg_restore_foreign_keys(cur, fks, TABLES)
        timings["indexes_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        cur.execute("VACUUM ANALYZE")
        conn.close()
    timings["analyze_s"] = round(time.perf_counter() - t, 1)
    total = time.perf_counter() - t0
    return {
        "benchmark": "load_orders",
        "database": args.database,
        "companies": n_companies,
        **counts,
        "lines_per_s": round(counts["lines"] / timings["insert_s"]) if timings["insert_s"] else None,
        "seconds": round(total, 1),
        "timings": timings,
        "today": today.isoformat(),
        "seed": args.seed,
        "workers": args.workers,
        "machine": common.machine(),
    }


def existing_lines(database: str, companies: int) -> int | None:
    common.setup_django(database, companies)
    from django.db import connection

    try:
        with connection.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM orders_orderline")
            n = cur.fetchone()[0]
    finally:
        connection.close()
    return n


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--companies", type=int, default=1_000_000, help="which bench database (bench/load.py size)"
    )
    p.add_argument("--lines", type=int, default=10_000_000, help="order lines wanted (about)")
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--today", default="", help="ISO date the history ends (default: today)")
    p.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    p.add_argument("--quiet", action="store_true")
    p.add_argument(
        "--save", action="store_true", help="also write bench/results/load-orders-<db>-<lines>.json"
    )
    p.add_argument(
        "--if-missing", action="store_true", help="keep existing orders if --lines (within 5%) are there"
    )
    args = p.parse_args(argv)
    if args.if_missing:
        have = existing_lines(args.database, args.companies)
        if have and abs(have - args.lines) <= args.lines * 0.05:
            result = {"benchmark": "load_orders", "database": args.database, "lines": have, "cached": True}
            print(json.dumps(result, indent=2))
            return result
    result = load(args)
    if args.save:
        common.save(f"load-orders-{args.database}-{common.size_label(args.lines)}", result)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
