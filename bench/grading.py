"""Grading run at scale: every customer of a bench database graded, time per phase.

    .venv/bin/python bench/grading.py --database sqlite [--companies 1000000] [--save]
    .venv/bin/python bench/grading.py --database postgres --save
    .venv/bin/python bench/grading.py --sqlite-path var/bench/x.sqlite3      # any SQLite file
    .venv/bin/python bench/grading.py --database-url postgres://…/db        # any PostgreSQL database

The database is the one bench/load.py built (1M customers) with the orders bench/load_orders.py
added (10M order lines), then the activity bench/load_activity.py added (payment allocations,
about 3M interactions, inquiries, samples, satisfaction surveys, customs records), so that the
payments, engagement and potential phases read real rows. Build the database in this order:

    .venv/bin/python bench/load.py --companies 1000000 --database sqlite
    .venv/bin/python bench/load_orders.py --companies 1000000 --lines 10000000 --database sqlite
    .venv/bin/python bench/load_activity.py --companies 1000000 --database sqlite

By default the bench works on a copy (SQLite: a file copy under var/bench/grading/; PostgreSQL:
CREATE DATABASE … TEMPLATE), so it neither disturbs nor is disturbed by other users of the bench
database; --in-place uses the database itself; --recopy after reloading the bench database. Only
the migrations of grading and orders (with their dependencies) are applied to the copy.

Runs, each in this process with `tradecrm.grading.engine.run`:
  first      no grade exists yet: 1M rows inserted, 1M first-grade history rows
  next_day   the next night: every buyer's recency moved by a day, so their rows change
  same_day   again the same night: nothing changes (rows compared, none rewritten)
With --compare-index, `next_day` is repeated without the covering index order_grading_idx.
Prints JSON (phases per run, counts, machine); --save writes bench/results/grading-<db>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

DIR = common.BENCH_DIR / "grading"


def _prepare(args) -> tuple[str, str]:
    """(vendor, label) after pointing the environment at the database to use."""
    label = common.size_label(args.companies)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
        return "postgres", label
    if args.sqlite_path:
        os.environ.update({"DATABASE_URL": "", "TRADECRM_SQLITE_PATH": str(Path(args.sqlite_path).resolve())})
        return "sqlite", label
    env = common.db_env(args.database, args.companies)
    if args.in_place:
        os.environ.update(env)
        return args.database, label
    if args.database == "sqlite":
        DIR.mkdir(parents=True, exist_ok=True)
        src = Path(env["TRADECRM_SQLITE_PATH"])
        work = DIR / f"sqlite-{label}-work.sqlite3"
        if args.recopy or not work.exists():
            t = time.perf_counter()
            subprocess.run(["sqlite3", str(src), f".backup '{work}'"], check=True)
            print(f"copied {src.name} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        env["TRADECRM_SQLITE_PATH"] = str(work)
    else:
        src_name = common.pg_name(args.companies)
        work_name = f"{src_name}_grading"
        import psycopg

        with psycopg.connect(f"{common.PG}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [work_name]).fetchone()
            if args.recopy and exists:
                conn.execute(f'DROP DATABASE "{work_name}"')
                exists = None
            if not exists:
                t = time.perf_counter()
                conn.execute(f'CREATE DATABASE "{work_name}" TEMPLATE "{src_name}"')
                print(f"copied {src_name} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        env["DATABASE_URL"] = f"{common.PG}/{work_name}"
    os.environ.update(env)
    return args.database, label


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if str(common.ROOT) not in sys.path:
        sys.path.insert(0, str(common.ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    for app in ("orders", "grading"):
        call_command("migrate", app, verbosity=0)
    # A worker has its URLconf loaded; loading it here keeps that one-time import (seconds: it
    # imports every app's views) out of the first run's write phase, where the notifications need it.
    from django.urls import reverse

    reverse("customers:company_detail", args=[1])


def _counts() -> dict:
    from django.db import connection

    out = {}
    with connection.cursor() as cur:
        for table in ("customers_company", "orders_order", "orders_orderline", "orders_receivable",
                      "orders_payment", "orders_paymentallocation", "interactions_interaction",
                      "sales_inquiry", "sales_sample", "service_survey", "customs_customsrecord"):  # fmt: skip
            cur.execute(f"SELECT COUNT(*) FROM {table}")
            out[table] = cur.fetchone()[0]
    return out


def _reset() -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        for table in (
            "followups_notification",
            "grading_gradechange",
            "grading_companygrade",
            "grading_gradingrun",
        ):
            if table == "followups_notification":
                cur.execute(f"DELETE FROM {table} WHERE kind = 'tier_changed'")
            else:
                cur.execute(f"DELETE FROM {table}")


def _index(present: bool) -> float:
    from django.db import connection

    index = importlib.import_module("tradecrm.orders.migrations.0002_order_grading_index")
    with connection.cursor() as cur:
        t = time.perf_counter()
        cur.execute(
            index.create_sql(connection.vendor) if present else "DROP INDEX IF EXISTS order_grading_idx"
        )
        cur.execute("ANALYZE orders_order")
        return round(time.perf_counter() - t, 3)


def _run(label: str, now: dt.datetime) -> dict:
    import resource

    from tradecrm.grading.engine import run

    t = time.perf_counter()
    r = run(trigger="bench", now=now)
    wall = round(time.perf_counter() - t, 3)
    if r.status != "done":
        raise SystemExit(f"{label}: run failed: {r.error}")
    return {"wall_s": wall, "phases": r.phases, "counts": r.counts,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}  # fmt: skip


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument(
        "--companies", type=int, default=1_000_000, help="which bench database (bench/load.py size)"
    )
    p.add_argument("--sqlite-path", default="", help="grade this SQLite file instead (in place)")
    p.add_argument("--database-url", default="", help="grade this PostgreSQL database instead (in place)")
    p.add_argument("--in-place", action="store_true", help="use the bench database itself, not a copy")
    p.add_argument("--recopy", action="store_true", help="make a fresh copy of the bench database")
    p.add_argument("--today", default="", help="ISO date of the first run (default: today)")
    p.add_argument(
        "--compare-index", action="store_true", help="also time next_day without order_grading_idx"
    )
    p.add_argument("--save", action="store_true")
    args = p.parse_args(argv)
    vendor, label = _prepare(args)
    _setup()
    from django.db import connection

    today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    now = dt.datetime.combine(today, dt.time(1, 10), tzinfo=dt.UTC)
    result: dict = {"benchmark": "grading", "database": connection.vendor, "size": label, "rows": _counts()}
    _reset()
    result["first"] = _run("first", now)
    result["next_day"] = _run("next_day", now + dt.timedelta(days=1))
    result["same_day"] = _run("same_day", now + dt.timedelta(days=1, hours=1))
    if args.compare_index:
        _index(False)
        try:
            result["next_day_without_index"] = _run("next_day_without_index", now + dt.timedelta(days=2))
        finally:
            result["index_build_s"] = _index(True)
    result["target_s"] = 30
    result["machine"] = common.machine()
    print(json.dumps(result, indent=2))
    if args.save:
        common.save(f"grading-{'postgres' if connection.vendor == 'postgresql' else 'sqlite'}", result)
    return result


if __name__ == "__main__":
    main()
