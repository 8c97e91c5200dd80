"""Gap-free quotation numbers under concurrent issue.

    .venv/bin/python bench/numbering.py --database postgres [--count 1000] [--threads 8] [--save]
    .venv/bin/python bench/numbering.py --database sqlite

Creates a scratch database (PostgreSQL: `tradecrm_bench_numbering` on the local server, dropped
and created again; SQLite: a fresh file under var/bench/), migrates it, writes `--count` draft
quotations (one line each) through `quotation_create`, then issues them from `--threads` threads
at once, each thread with its own database connection, calling the real `quotation_issue`
service. Then checks the numbers: exactly Q-YYYY-0001 … Q-YYYY-<count>, no duplicate, no gap,
every draft issued. Prints JSON; `--save` writes bench/results/numbering-<database>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

PG_NAME = "tradecrm_bench_numbering"


def prepare_database(database: str) -> str:
    os.environ.setdefault("TRADECRM_LOG_LEVEL", "ERROR")
    os.environ["TRADECRM_DATA_DIR"] = str(common.BENCH_DIR / "data")
    common.BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if database == "postgres":
        import psycopg

        with psycopg.connect(f"{common.PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
            conn.execute(f"CREATE DATABASE \"{PG_NAME}\" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'")
        os.environ["DATABASE_URL"] = f"{common.PG}/{PG_NAME}"
        return f"{common.PG}/{PG_NAME}"
    path = common.BENCH_DIR / "numbering.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = ""
    os.environ["TRADECRM_SQLITE_PATH"] = str(path)
    return str(path)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()

    target = prepare_database(args.database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if str(common.ROOT) not in sys.path:
        sys.path.insert(0, str(common.ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.utils import timezone

    from tradecrm.accounts.models import Team, User
    from tradecrm.customers.services import company_create
    from tradecrm.documents.models import Quotation
    from tradecrm.documents.services import quotation_create, quotation_issue

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - t0

    team = Team.objects.create(name="Bench")
    rep = User.objects.create(username="bench.numbering", role="sales", team=team, first_name="Bench")
    company = company_create(
        actor=rep, data={"name": "Numbering Bench Ltd", "country": "US", "currency": "USD"}
    )
    t0 = time.perf_counter()
    line = [{"name": "Bench item", "quantity": "10", "unit_price": "1.25"}]
    drafts = [
        quotation_create(actor=rep, company=company, data={"incoterm": "FOB", "incoterm_place": "Ningbo"},
                         lines=line).pk
        for _ in range(args.count)
    ]  # fmt: skip
    create_s = time.perf_counter() - t0
    year = timezone.localdate().year
    connection.close()  # the main thread's connection goes back before the workers take theirs

    errors: list[str] = []
    per_thread: list[int] = [0] * args.threads
    start = threading.Barrier(args.threads)

    def work(index: int, ids: list[int]) -> None:
        try:
            start.wait()
            for pk in ids:
                q = Quotation.objects.get(pk=pk)
                quotation_issue(actor=rep, quotation=q, version=q.version)
                per_thread[index] += 1
        except Exception as exc:  # noqa: BLE001 - counted and reported
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=work, args=(i, drafts[i :: args.threads]), name=f"issuer-{i}")
        for i in range(args.threads)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    issue_s = time.perf_counter() - t0

    numbers = list(Quotation.objects.exclude(number="").values_list("number", flat=True))
    expected = {f"Q-{year}-{n:04d}" for n in range(1, args.count + 1)}
    distinct = set(numbers)
    result = {
        "bench": "numbering",
        "database": args.database,
        "target": target,
        "drafts": args.count,
        "threads": args.threads,
        "migrate_s": round(migrate_s, 2),
        "create_drafts_s": round(create_s, 2),
        "issue_s": round(issue_s, 3),
        "issues_per_s": round(len(numbers) / issue_s, 1) if issue_s else None,
        "issued": len(numbers),
        "issued_per_thread": per_thread,
        "duplicates": len(numbers) - len(distinct),
        "gaps": sorted(expected - distinct)[:20],
        "gap_count": len(expected - distinct),
        "unexpected": sorted(distinct - expected)[:20],
        "still_draft": Quotation.objects.filter(status="draft").count(),
        "errors": errors[:20],
        "error_count": len(errors),
        "first": min(numbers) if numbers else None,
        "last": max(numbers) if numbers else None,
        "ok": not errors and distinct == expected and len(numbers) == args.count,
        "machine": common.machine(),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.save:
        common.save(f"numbering-{args.database}", result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
