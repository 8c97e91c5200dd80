"""Bench of the service app's whole-table paths on a fresh SQLite (or PostgreSQL) database.

    .venv/bin/python bench/service.py [--companies 20000] [--tickets 100000] [--surveys 50000] [--save]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tradecrm_bench_service .venv/bin/python bench/service.py

Creates the database (SQLite: a temporary file; PostgreSQL: the DATABASE_URL, which must be empty or
hold this bench's data), then `--tickets` tickets over `--companies` customers (1% past a due time),
`--surveys` answered surveys, and measures (median of 5 warm runs, ms): the overdue scan with nothing
new to alert (what runs every 10 minutes), the first scan that records and alerts the breaches, the
first page of the ticket list (administrator, a sales rep, overdue only), the customer card, the
causes report, the survey report, and the grading satisfaction query. Prints JSON; `--save` writes
bench/results/service-<database>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn, runs: int = 5) -> float:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(out), 2)


GRADING_SQL = "SELECT v.company_id, AVG(v.score_5) FROM service_survey v WHERE v.score_5 IS NOT NULL GROUP BY v.company_id"


def _fetchall(connection, sql: str) -> int:
    with connection.cursor() as cur:
        cur.execute(sql)
        return len(cur.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=20_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--surveys", type=int, default=50_000)
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-service-"))
    os.environ.setdefault("TRADECRM_DATA_DIR", str(tmp))
    if not os.environ.get("DATABASE_URL"):
        os.environ["TRADECRM_SQLITE_PATH"] = str(tmp / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("TRADECRM_LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench.common import machine, save
    from tradecrm.accounts.models import Team, User
    from tradecrm.customers.models import Company
    from tradecrm.service import selectors, services
    from tradecrm.service.models import Survey, Ticket

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - t0
    rnd = random.Random(7)
    now = timezone.now()
    team = Team.objects.create(name="Bench East")
    manager = User.objects.create(username="bench.mgr", role="manager", team=team)
    reps = [User.objects.create(username=f"bench.rep{i}", role="sales", team=team) for i in range(20)]
    admin = User.objects.create(username="bench.admin", role="admin", is_superuser=True, is_staff=True)
    t0 = time.perf_counter()
    Company.objects.bulk_create(
        [
            Company(name=f"Buyer {i}", country="US", owner=reps[i % 20], team=team)
            for i in range(args.companies)
        ],
        batch_size=2000,
    )
    ids = list(Company.objects.values_list("id", flat=True))
    tickets = []
    for i in range(args.tickets):
        opened = now - dt.timedelta(hours=rnd.randrange(24 * 400))
        late = rnd.random() < 0.01
        done = not late and rnd.random() < 0.8
        tickets.append(Ticket(
            number=f"TK-B-{i:07d}", company_id=rnd.choice(ids), kind=rnd.choice(["quality", "damage", "short", "late"]),
            severity=rnd.choice(["low", "medium", "high", "critical"]), title=f"Problem {i}", owner=reps[i % 20],
            status="resolved" if done else ("investigating" if not late else "open"), opened_at=opened,
            first_response_due=(now - dt.timedelta(hours=1)) if late else opened + dt.timedelta(hours=8),
            first_response_at=None if late else opened + dt.timedelta(hours=1),
            resolution_due=(now - dt.timedelta(minutes=5)) if late else max(opened, now) + dt.timedelta(days=3),
            root_cause=rnd.choice(["packaging", "production", "logistics", "supplier", ""]),
            supplier=rnd.choice(["Ningbo A", "Yiwu B", "Foshan C"]),
        ))  # fmt: skip
    Ticket.objects.bulk_create(tickets, batch_size=2000)
    del tickets
    Survey.objects.bulk_create([
        Survey(company_id=rnd.choice(ids), email="x@example.com", scale="nps" if i % 2 else "five", token=f"b{i}",
               created_at=now - dt.timedelta(days=rnd.randrange(365)), sent_at=now, expires_at=now,
               score=(s := rnd.randrange(11) if i % 2 else rnd.randrange(1, 6)),
               score_5=services.score_5("nps" if i % 2 else "five", s), answered_at=now)
        for i in range(args.surveys)], batch_size=2000)  # fmt: skip
    load_s = time.perf_counter() - t0
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    else:
        with connection.cursor() as cur:
            cur.execute("ANALYZE service_ticket; ANALYZE service_survey")
    t0 = time.perf_counter()
    first = services.ticket_scan_overdue()
    first_ms = (time.perf_counter() - t0) * 1000
    company_id = Ticket.objects.values_list("company_id", flat=True).first()
    rep = reps[0]
    result = {
        "bench": "service",
        "database": connection.vendor,
        "companies": args.companies,
        "tickets": args.tickets,
        "surveys": args.surveys,
        "migrate_s": round(migrate_s, 1),
        "load_s": round(load_s, 1),
        "first_scan": {**first, "ms": round(first_ms, 1)},
        "ms": {
            "scan_nothing_new": timed(services.ticket_scan_overdue),
            "list_admin": timed(lambda: selectors.ticket_list(admin)),
            "list_rep": timed(lambda: selectors.ticket_list(rep)),
            "list_manager_overdue": timed(
                lambda: selectors.ticket_list(manager, selectors.TicketFilters(overdue=True))
            ),
            "list_admin_active_high": timed(
                lambda: selectors.ticket_list(
                    admin, selectors.TicketFilters(status="active", severity="high")
                )
            ),
            "company_card": timed(
                lambda: (selectors.company_tickets(company_id), selectors.company_satisfaction(company_id))
            ),
            "causes_report_admin": timed(lambda: selectors.causes_report(admin), runs=3),
            "causes_report_supplier": timed(lambda: selectors.causes_report(admin, by="supplier"), runs=3),
            "survey_report_admin": timed(lambda: selectors.survey_report(admin), runs=3),
            "grading_satisfaction_sql": timed(lambda: _fetchall(connection, GRADING_SQL), runs=3),
        },
        "machine": machine(),
    }
    print(__import__("json").dumps(result, indent=2, default=str))
    if args.save:
        save(f"service-{connection.vendor}", result)


if __name__ == "__main__":
    main()
