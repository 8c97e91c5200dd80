"""Bench of the public-pool recall scan on a big SQLite database (work on a COPY of the bench db).

    cp var/bench/sqlite-1m.sqlite3 /tmp/pool-1m.sqlite3
    .venv/bin/python bench/pool.py --db /tmp/pool-1m.sqlite3 [--touches 3] [--move 2000] [--save]

Prepares the copy once: applies pending migrations, adds `--touches` interactions per customer on
average (mixed kinds: emails, calls with and without a duration, notes, meetings…, dated over the
last 400 days; the bench loaders write none), and a catch-all pool with the default rules (recall
after 60 days without a verifiable touch, orders within 180 days exempt). Then measures, cold and
warm: the set-based due scan (COUNT of the due customers), the warning scan (due within 7 days),
a full dry run (scan + the facts and reason of every due customer), and a real recall of
`--move` customers (moves per second: owner cleared, entry, move, audit event, notification).
Prints JSON; `--save` writes bench/results/pool-sqlite.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine, save  # noqa: E402

KINDS = [
    ("email", 40),
    ("call", 15),
    ("call0", 10),
    ("note", 15),
    ("meeting", 5),
    ("whatsapp", 10),
    ("visit", 5),
]


def add_interactions(path: str, per_company: float, seed: int = 7) -> int:
    con = sqlite3.connect(path)
    have = con.execute("SELECT COUNT(*) FROM interactions_interaction").fetchone()[0]
    if have:
        con.close()
        return have
    ids = [r[0] for r in con.execute("SELECT id FROM customers_company")]
    rnd = random.Random(seed)
    kinds = [k for k, w in KINDS for _ in range(w)]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    sql = (
        "INSERT INTO interactions_interaction (company_id, type, direction, occurred_at, duration_minutes, subject,"
        " body, source, external_id, search_text, version, created_at, updated_at)"
        " VALUES (?, ?, '', ?, ?, '', '', 'manual', '', '', 1, ?, ?)"
    )
    batch = []
    n = 0
    con.execute("PRAGMA synchronous=OFF")
    for cid in ids:
        for _ in range(int(rnd.expovariate(1 / per_company))):
            kind = rnd.choice(kinds)
            when = (now - dt.timedelta(minutes=rnd.randrange(400 * 24 * 60))).isoformat(sep=" ")
            duration = rnd.randrange(1, 60) if kind == "call" else None
            batch.append((cid, "call" if kind == "call0" else kind, when, duration, when, when))
            if len(batch) >= 50_000:
                con.executemany(sql, batch)
                n += len(batch)
                batch = []
    con.executemany(sql, batch)
    n += len(batch)
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="a COPY of the SQLite bench database")
    ap.add_argument("--touches", type=float, default=3.0, help="interactions per customer (average)")
    ap.add_argument("--move", type=int, default=2000, help="customers to really recall (0: none)")
    ap.add_argument("--save", action="store_true")
    args = ap.parse_args()

    os.environ.update({"TRADECRM_SQLITE_PATH": args.db, "DATABASE_URL": "", "TRADECRM_LOG_LEVEL": "ERROR",
                       "TRADECRM_DATA_DIR": "/tmp/pool-bench-data", "DJANGO_SETTINGS_MODULE": "config.settings"})  # fmt: skip
    import django

    django.setup()
    from django.core.management import call_command

    result: dict = {"bench": "pool-recall", "database": "sqlite", "db": args.db, "machine": machine()}
    t = time.perf_counter()
    call_command("migrate", verbosity=0)  # the copy may lag behind the tree (pool, audit…)
    result["migrate_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    result["interactions"] = add_interactions(args.db, args.touches)
    result["prepare_interactions_s"] = round(time.perf_counter() - t, 2)

    from django.db import connection
    from django.utils import timezone

    from tradecrm.customers.models import Company
    from tradecrm.pool import recall, services
    from tradecrm.pool.models import Pool
    from tradecrm.pool.rules import DEFAULT_RULES

    Pool.objects.get_or_create(name="Bench pool", defaults={"rules": dict(DEFAULT_RULES)})
    result["companies"] = Company.objects.count()
    result["owned"] = Company.objects.filter(owner__isnull=False).count()
    result["rules"] = DEFAULT_RULES
    now = timezone.now()
    scopes = recall.pool_scopes()

    def timed(fn, repeat=2):
        times, value = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            value = fn()
            times.append(round(time.perf_counter() - t0, 3))
        return value, times

    def due_count(at):
        return sum(recall.due_companies(s, at).count() for s in scopes)

    result["due"], result["scan_s"] = timed(lambda: due_count(now))
    print(
        json.dumps({k: result[k] for k in ("companies", "owned", "interactions", "due", "scan_s")}),
        file=sys.stderr,
    )
    with connection.cursor() as cur:
        qs = recall.due_companies(scopes[0], now).values("id")
        sql, params = qs.query.sql_with_params()
        cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        result["plan"] = [r[-1] for r in cur.fetchall()]
    later = now + dt.timedelta(days=7)
    result["due_within_7_days"], result["warn_scan_s"] = timed(lambda: due_count(later) - result["due"])
    run, result["dry_run_s"] = timed(
        lambda: services.pool_recall_run(dry_run=True, now=now, trigger="bench"), 1
    )
    result["dry_run"] = {"due": run.due, "skipped": run.skipped, "phases": run.phases,
                         "sample_reasons": [p["reason"] for p in run.preview[:3]]}  # fmt: skip
    if args.move:
        t0 = time.perf_counter()
        run = services.pool_recall_run(now=now, trigger="bench", limit=args.move)
        secs = time.perf_counter() - t0
        result["recall"] = {"recalled": run.recalled, "seconds": round(secs, 2),
                            "moves_per_s": round(run.recalled / secs, 1) if secs else None}  # fmt: skip
        t0 = time.perf_counter()
        again = services.pool_recall_run(now=now, trigger="bench", dry_run=True)
        result["after_recall_dry_run_due"] = again.due
    print(json.dumps(result, indent=2, default=str))
    if args.save:
        print(save("pool-sqlite", result), file=sys.stderr)


if __name__ == "__main__":
    main()
