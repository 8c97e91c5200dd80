"""Pipeline board benchmark: the kanban board of a pipeline holding 10,000 open opportunities, among
100,000 opportunities over 20,000 customers (other pipelines, won and lost deals as noise).

    .venv/bin/python bench/kanban.py --database sqlite [--save]
    .venv/bin/python bench/kanban.py --database postgres [--save]
    .venv/bin/python bench/kanban.py --database sqlite --rebuild      # build the database again

The bench database is built once and cached (SQLite var/bench/sqlite-kanban-<n>.sqlite3, PostgreSQL
tradecrm_bench_kanban_<n>): customers, contacts and users by bench/load.py's loader (~50 users in
nested teams and the bench personas), then the opportunities written with raw sqlite3 `executemany`
/ psycopg COPY: the default "Export" pipeline (seeded by the sales migrations) gets 10,000 open deals
over its five open stages and 20,000 closed ones (won/lost over two years, some in the last 30
days), two more pipelines get the remaining 70,000. Amounts in USD, EUR, GBP and CNY, with exchange
rates to USD, so the column totals convert.

Measured with Django's test Client in-process around each request of the board page
(GET /pipelines/<id>/board/: the grouped count/sum, the first 20 cards of every column, the whole
page rendered), signed in as the admin (sees all 10,000), a manager (their teams') and a sales rep
(their own customers'); also the selector alone and a "more" request of one column. Prints JSON;
--save writes bench/results/kanban-<database>.json. Target: ≤ 200 ms server time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import load  # noqa: E402

TABLE = "sales_opportunity"
TARGET_MS = 200
_LABEL = "100k"

COLUMNS = (
    "id", "name", "company_id", "contact_id", "pipeline_id", "stage_id", "status", "amount", "currency",
    "probability", "expected_close_date", "owner_id", "loss_reason_id", "loss_note", "closed_at",
    "stage_entered_at", "stale_notified_at", "position", "description", "search_text", "version",
    "created_by_id", "updated_by_id", "created_at", "updated_at",
)  # fmt: skip
PRODUCTS = (
    "LED panel light", "solar inverter", "stainless steel valve", "PVC pipe", "ceramic floor tile",
    "cotton T-shirt", "lithium battery pack", "office chair", "hydraulic pump", "bluetooth speaker",
    "aluminium profile", "silicone kitchenware", "electric scooter", "glass bottle", "copper cable",
)  # fmt: skip
CURRENCIES = (("USD", 70), ("EUR", 20), ("GBP", 5), ("CNY", 5))
RATES = {"EUR": Decimal("1.0850"), "GBP": Decimal("1.2700"), "CNY": Decimal("0.1390")}


def _db_env(database: str, companies: int) -> dict[str, str]:
    common.BENCH_DIR.mkdir(parents=True, exist_ok=True)
    env = {"TRADECRM_DATA_DIR": str(common.BENCH_DIR / "data"), "TRADECRM_LOG_LEVEL": "ERROR"}
    if database == "sqlite":
        env["TRADECRM_SQLITE_PATH"] = str(common.BENCH_DIR / f"sqlite-kanban-{_LABEL}.sqlite3")
        env["DATABASE_URL"] = ""
    else:
        env["DATABASE_URL"] = f"{common.PG}/tradecrm_bench_kanban_{_LABEL}"
    return env


def _use_own_database(label: str) -> None:
    """Point bench/load.py's helpers at this benchmark's own database, not the shared 1M one."""
    global _LABEL
    _LABEL = label
    common.db_env = _db_env
    common.pg_name = lambda companies: f"tradecrm_bench_kanban_{_LABEL}"


def database_exists(database: str) -> bool:
    if database == "sqlite":
        return Path(_db_env("sqlite", 0)["TRADECRM_SQLITE_PATH"]).exists()
    import psycopg

    with psycopg.connect(f"{common.PG}/postgres", autocommit=True) as conn:
        name = f"tradecrm_bench_kanban_{_LABEL}"
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


# --- build ---------------------------------------------------------------------------------------


def _pipelines():
    """The seeded Export pipeline and two more with copies of its stages."""
    from tradecrm.accounts.models import User
    from tradecrm.sales.models import Pipeline
    from tradecrm.sales.services import pipeline_create

    admin = User.objects.get(username=common.PERSONAS["admin"])
    export = Pipeline.objects.get(name="Export")
    others = [
        Pipeline.objects.filter(name=name).first()
        or pipeline_create(actor=admin, data={"name": name}, copy_stages_from=export)
        for name in ("Projects", "Distributors")
    ]
    return export, others


def _rows(args, export, others, now: dt.datetime) -> list[tuple]:
    """100k opportunity rows: `open_in_board` open in Export, `closed_in_board` closed in Export,
    the rest spread over the other pipelines (about a third open)."""
    from tradecrm.customers.models import Company
    from tradecrm.sales.models import LossReason, StageKind

    r = random.Random(args.seed)
    fmt = (lambda v: v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")) if args.database == "sqlite" else (
        lambda v: v.isoformat())  # fmt: skip
    owners = dict(Company.objects.values_list("id", "owner_id"))
    company_ids = sorted(owners)
    reasons = list(LossReason.objects.values_list("id", flat=True))
    currencies, weights = zip(*CURRENCIES, strict=True)

    def stages_of(p):
        stages = list(p.stages.order_by("position"))
        return ([s for s in stages if s.kind == StageKind.OPEN], next(s for s in stages if s.kind == StageKind.WON),
                next(s for s in stages if s.kind == StageKind.LOST))  # fmt: skip

    plan = [(export, args.open_in_board, "open"), (export, args.closed_in_board, "closed")]
    rest = args.opportunities - args.open_in_board - args.closed_in_board
    for i, p in enumerate(others):
        share = rest // len(others) + (rest % len(others) if i == 0 else 0)
        plan += [(p, share // 3, "open"), (p, share - share // 3, "closed")]
    rows, pk = [], 0
    positions: dict[int, float] = {}
    for pipeline, n, kind in plan:
        open_stages, won, lost = stages_of(pipeline)
        open_weights = [30, 25, 20, 15, 10][: len(open_stages)]
        for _ in range(n):
            pk += 1
            company = company_ids[int(len(company_ids) * r.random() ** 1.3)]
            owner = owners[company]
            created = now - dt.timedelta(days=r.uniform(1, 730))
            if kind == "open":
                stage = r.choices(open_stages, open_weights)[0]
                status, closed_at, reason = "open", None, None
                entered = min(now, created + dt.timedelta(days=r.uniform(0, 60)))
            else:
                stage = won if r.random() < 0.35 else lost
                status = stage.kind
                closed_at = min(now, created + dt.timedelta(days=r.uniform(5, 120)))
                entered = closed_at
                reason = r.choice(reasons) if stage.kind == "lost" else None
            positions[stage.pk] = positions.get(stage.pk, 0.0) + 1024.0
            currency = r.choices(currencies, weights)[0]
            amount = Decimal(r.randrange(500, 250_000)).quantize(Decimal("0.01"))
            name = f"{r.choice(PRODUCTS)} · {r.choice((100, 500, 1000, 5000, 20000))} pcs"
            close_date = (created + dt.timedelta(days=r.randrange(30, 240))).date()
            stamp = fmt(created)
            rows.append((
                pk, name, company, None, pipeline.pk, stage.pk, status, str(amount), currency, None,
                close_date.isoformat(), owner, reason, "", fmt(closed_at) if closed_at else None, fmt(entered), None,
                positions[stage.pk], "", name.lower(), 1, owner, owner, stamp, fmt(entered),
            ))  # fmt: skip
    return rows


def build_database(args) -> dict:
    timings: dict = {}
    t0 = time.perf_counter()
    load.load(argparse.Namespace(companies=args.companies, contacts_per_company=1, database=args.database,
                                 seed=args.seed, workers=args.workers, quiet=True, save=False, if_missing=False))  # fmt: skip
    timings["companies_s"] = round(time.perf_counter() - t0, 1)
    from django.db import connection

    from tradecrm.core.models import ExchangeRate

    now = dt.datetime.now(dt.UTC)
    export, others = _pipelines()
    ExchangeRate.objects.bulk_create([
        ExchangeRate(base=c, quote="USD", date=now.date() - dt.timedelta(days=d), rate=rate, source="bench")
        for c, rate in RATES.items() for d in range(0, 3)
    ])  # fmt: skip
    t = time.perf_counter()
    rows = _rows(args, export, others, now)
    timings["generate_s"] = round(time.perf_counter() - t, 1)
    connection.close()
    t = time.perf_counter()
    if args.database == "sqlite":
        import sqlite3

        conn = sqlite3.connect(os.environ["TRADECRM_SQLITE_PATH"], isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-500000", "foreign_keys=OFF"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", rows
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA optimize")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.close()
    else:
        import psycopg

        from tradecrm.customers.demo import _copy

        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            cur = conn.cursor()
            with conn.transaction():
                _copy(cur, TABLE, COLUMNS, rows)
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), (SELECT MAX(id) FROM {TABLE}))"
            )
            cur.execute(f"VACUUM ANALYZE {TABLE}")
    timings["opportunities_insert_s"] = round(time.perf_counter() - t, 1)
    timings["total_s"] = round(time.perf_counter() - t0, 1)
    return {"companies": args.companies, "opportunities": len(rows), **timings}


# --- measurements --------------------------------------------------------------------------------


def measure(args) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings

    from tradecrm.accounts.models import User
    from tradecrm.sales import selectors
    from tradecrm.sales.models import Opportunity, Pipeline

    settings.ALLOWED_HOSTS = ["*"]
    static = override_settings(STORAGES={
        **settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    })  # fmt: skip
    static.enable()
    export = Pipeline.objects.get(name="Export")
    out: dict = {
        "pipeline_open": Opportunity.objects.filter(pipeline=export, status="open").count(),
        "opportunities": Opportunity.objects.count(),
        "target_ms": TARGET_MS,
        "personas": {},
    }
    url = f"/pipelines/{export.pk}/board/"
    for role in ("admin", "manager", "sales"):
        user = User.objects.get(username=common.PERSONAS[role])
        client = Client()
        client.force_login(user)
        for _ in range(3):  # warm: templates compiled, pages cached
            assert client.get(url).status_code == 200
        # the request resets connection.queries when it starts: read them right after it
        connection.force_debug_cursor = True
        response = client.get(url)
        queries = len(connection.queries)
        connection.force_debug_cursor = False
        html = response.content.decode()
        page = []
        for _ in range(args.requests):
            t = time.perf_counter()
            assert client.get(url).status_code == 200
            page.append((time.perf_counter() - t) * 1000)
        selector = []
        for _ in range(args.requests):
            u = User.objects.get(pk=user.pk)  # no cached team ids between runs
            t = time.perf_counter()
            b = selectors.board(u, export)
            selector.append((time.perf_counter() - t) * 1000)
        column = max(b.columns, key=lambda c: c.count)
        more = []
        if column.next_cursor:
            more_url = f"/pipelines/{export.pk}/board/{column.stage.pk}/?cursor={column.next_cursor}"
            for _ in range(max(10, args.requests // 3)):
                t = time.perf_counter()
                assert client.get(more_url, HTTP_HX_REQUEST="true").status_code == 200
                more.append((time.perf_counter() - t) * 1000)
        out["personas"][role] = {
            "visible_open": sum(c.count for c in b.columns if c.stage.kind == "open"),
            "cards_on_page": html.count('data-testid="board-card"'),
            "queries": queries,
            "page_bytes": len(response.content),
            "board_page": common.percentiles(page),
            "selector": common.percentiles(selector),
            "more_column": common.percentiles(more),
            "columns": {c.label: c.count for c in b.columns},
        }
    static.disable()
    out["vendor"] = connection.vendor
    worst = max(p["board_page"]["p95_ms"] for p in out["personas"].values())
    out["board_p95_worst_ms"] = worst
    out["meets_target"] = worst <= TARGET_MS
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--companies", type=int, default=20_000)
    p.add_argument("--opportunities", type=int, default=100_000)
    p.add_argument("--open-in-board", type=int, default=10_000)
    p.add_argument("--closed-in-board", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--workers", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    p.add_argument("--requests", type=int, default=30, help="timed board requests per persona")
    p.add_argument("--rebuild", action="store_true", help="build the bench database even if it exists")
    p.add_argument("--save", action="store_true", help="write bench/results/kanban-<database>.json")
    args = p.parse_args(argv)
    _use_own_database(common.size_label(args.opportunities))
    result: dict = {"benchmark": "kanban", "database": args.database}
    if args.rebuild or not database_exists(args.database):
        result["build"] = build_database(args)
    else:
        env = _db_env(args.database, args.companies)
        import subprocess

        subprocess.run([sys.executable, str(common.ROOT / "manage.py"), "migrate", "-v", "0"],
                       env={**os.environ, **env}, check=True, cwd=common.ROOT)  # fmt: skip
        common.setup_django(args.database, args.companies)
        result["build"] = {"cached": True}
    from django.db import connection

    connection.ensure_connection()
    result["board"] = measure(args)
    result["machine"] = common.machine()
    if args.save:
        common.save(f"kanban-{args.database}", result)
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return result


if __name__ == "__main__":
    main()
