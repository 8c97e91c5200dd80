"""Dashboard benchmark: the dashboard page with all its widgets (GET /dashboard/, the default
period: the last twelve months) on a bench database of 1,000,000 customers with their order history
(bench/load.py, then bench/load_orders.py), server time in-process per persona, and each report's
selector alone.

    .venv/bin/python bench/dashboard.py --database sqlite [--save]
    .venv/bin/python bench/dashboard.py --database postgres [--save]
    .venv/bin/python bench/dashboard.py --sqlite-path var/bench/other.sqlite3 --label 1m-1mlines
    .venv/bin/python bench/dashboard.py --database sqlite --no-refresh --personas manager,sales \
        --from 2026-01-15 --to 2026-11-10 --requests 5 --label sqlite-1m-midmonth --save

A period that starts or ends mid-month reads those days live (the rollups are monthly): the
--from/--to run measures that path (results dashboard-*-midmonth.json).

The dashboard reads monthly rollups (tradecrm/reports/rollups.py) for the whole months of the
period and the live tables for the rest; the script first rebuilds them in full and once more
incrementally (nothing changed: the current month, receivables) and reports both costs, then
measures. No result cache: every request runs every query (what is warm is only the database's
page cache and the process: templates compiled; the first request is reported apart). The
manager is `bench.manager` (East team, ~22 % of the customers). Prints JSON; --save writes
bench/results/dashboard-<label or database>.json. Target: p95 ≤ 300 ms for a manager.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TARGET_MS = 300


def counts(period_from: dt.date, period_to: dt.date) -> dict:
    from django.db import connection

    with connection.cursor() as cur:

        def one(sql, params=()):
            cur.execute(sql, params)
            return cur.fetchone()[0]

        return {
            "companies": one("SELECT COUNT(*) FROM customers_company"),
            "orders": one("SELECT COUNT(*) FROM orders_order"),
            "order_lines": one("SELECT COUNT(*) FROM orders_orderline"),
            "orders_in_period": one("SELECT COUNT(*) FROM orders_order WHERE document_date BETWEEN %s AND %s",
                                    (period_from, period_to)),
            "order_lines_in_period": one(
                "SELECT COUNT(*) FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id "
                "WHERE o.document_date BETWEEN %s AND %s", (period_from, period_to)),
            "opportunities": one("SELECT COUNT(*) FROM sales_opportunity"),
            "followups": one("SELECT COUNT(*) FROM followups_followup"),
            "receivables": one("SELECT COUNT(*) FROM orders_receivable"),
            "grades": one("SELECT COUNT(*) FROM grading_companygrade"),
        }  # fmt: skip


def rollup_rows() -> dict:
    from tradecrm.reports import models as m

    return {model.__name__: model.objects.count() for model in (m.SalesRollup, m.ProductRollup, m.CustomerRollup,
                                                                 m.TierRollup, m.ReceivableRollup)}  # fmt: skip


def _client_for(user):
    """A signed-in test client without the login signal (whose receivers write audit rows: this
    benchmark touches no table but its own)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"  # the backend that loads users (axes only refuses)
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def measure(args) -> dict:
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import override_settings

    from tradecrm.accounts.models import User
    from tradecrm.reports import dashboard as rd

    settings.ALLOWED_HOSTS = ["*"]
    static = override_settings(STORAGES={
        **settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    })  # fmt: skip
    static.enable()
    out: dict = {"personas": {}}
    params = {}
    if args.period_from:
        params["from"] = args.period_from
    if args.period_to:
        params["to"] = args.period_to
    for role in args.personas.split(","):
        user = User.objects.get(username=common.PERSONAS[role])
        filters = rd.parse_filters(user, params)
        if "period" not in out:
            out["period"] = {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat()}
            out["data"] = counts(filters.date_from, filters.date_to)
        client = _client_for(user)
        t = time.perf_counter()
        response = client.get("/dashboard/", params)
        first = (time.perf_counter() - t) * 1000
        assert response.status_code == 200, response.status_code
        connection.force_debug_cursor = True
        reset_queries()
        client.get("/dashboard/", params)
        queries = len(connection.queries)
        connection.force_debug_cursor = False
        page = []
        for _ in range(args.requests):
            t = time.perf_counter()
            assert client.get("/dashboard/", params).status_code == 200
            page.append((time.perf_counter() - t) * 1000)
        per_report: dict[str, list[float]] = {k: [] for k in rd.REPORTS}
        for _ in range(max(3, args.requests // 5)):
            u = User.objects.get(pk=user.pk)  # no team ids remembered between runs
            ctx = rd.context_for(u, rd.parse_filters(u, params))
            for key, report in rd.REPORTS.items():
                t = time.perf_counter()
                report.build(ctx)
                per_report[key].append((time.perf_counter() - t) * 1000)
        sales = rd.report_data(user, "sales_month", filters)
        out["personas"][role] = {
            "first_request_ms": round(first, 1),
            "queries": queries,
            "page_bytes": len(response.content),
            "dashboard_page": common.percentiles(page),
            "report_median_ms": {k: round(statistics.median(v), 1) for k, v in per_report.items()},
            "visible_orders_in_period": sales.totals["orders"],
            "visible_amount_in_period": str(sales.totals["amount"]),
        }
    static.disable()
    out["vendor"] = connection.vendor
    if "manager" in out["personas"]:
        p95 = out["personas"]["manager"]["dashboard_page"]["p95_ms"]
        out["manager_p95_ms"] = p95
        out["target_ms"] = TARGET_MS
        out["meets_target"] = p95 <= TARGET_MS
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--companies", type=int, default=1_000_000, help="which bench database (its size)")
    p.add_argument(
        "--sqlite-path", help="another SQLite bench file instead of var/bench/sqlite-<size>.sqlite3"
    )
    p.add_argument("--database-url", help="another PostgreSQL database instead of tradecrm_bench_<size>")
    p.add_argument("--from", dest="period_from", default="", help="period start (default: 12 months back)")
    p.add_argument("--to", dest="period_to", default="", help="period end (default: today)")
    p.add_argument("--personas", default="admin,manager,sales")
    p.add_argument("--requests", type=int, default=20, help="timed dashboard requests per persona")
    p.add_argument("--label", default="", help="name of the result file: dashboard-<label>.json")
    p.add_argument("--no-refresh", action="store_true", help="measure without rebuilding the rollups first")
    p.add_argument("--save", action="store_true")
    args = p.parse_args(argv)
    env = common.db_env(args.database, args.companies)
    if args.sqlite_path:
        env.update({"TRADECRM_SQLITE_PATH": str(Path(args.sqlite_path).resolve()), "DATABASE_URL": ""})
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    # only this app's tables: the bench database is shared with the other benchmarks
    call_command("migrate", "reports", verbosity=0)
    result = {"benchmark": "dashboard", "database": args.database, "machine": common.machine()}
    if not args.no_refresh:
        from tradecrm.reports import rollups

        t = time.perf_counter()
        full = rollups.refresh(full=True)
        result["rollups_full_refresh"] = {
            "seconds": round(time.perf_counter() - t, 2),
            "phases": full["phases"],
        }
        t = time.perf_counter()
        inc = rollups.refresh()
        result["rollups_incremental_refresh"] = {"seconds": round(time.perf_counter() - t, 2), "phases": inc["phases"],
                                                 "order_months": inc["order_months"]}  # fmt: skip
        result["rollup_rows"] = rollup_rows()
    result.update(measure(args))
    print(json.dumps(result, indent=2, default=str))
    if args.save:
        path = common.save(f"dashboard-{args.label or args.database}", result)
        print(f"saved {path}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
