"""Fast bench loader: N companies (and their contacts, tags, followers) from the demo generator.

    .venv/bin/python bench/load.py --companies 1000000 --contacts-per-company 2 --database sqlite
    .venv/bin/python bench/load.py --companies 1000000 --contacts-per-company 2 --database postgres

Builds a fresh database (SQLite file under var/bench/, or PostgreSQL database tradecrm_bench_<n>),
migrates it, creates ~50 users in several teams (so the visibility rule has realistic
selectivity) and the bench personas, then generates rows in worker processes while the main
process inserts them: raw sqlite3 `executemany` in large transactions, or psycopg COPY. Secondary
indexes, foreign keys and the search index are dropped for the load and rebuilt after it
(FTS5 'rebuild' / pg_trgm GIN), then ANALYZE. Prints JSON with the timings and rows/s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

CHUNK = 20_000
TEAMS = (  # name, parent, sales reps
    ("Sales", None, 0),
    ("East", "Sales", 10),
    ("West", "Sales", 10),
    ("South", "Sales", 8),
    ("North", "Sales", 8),
    ("Key Accounts", None, 0),
    ("KA Europe", "Key Accounts", 5),
    ("KA Americas", "Key Accounts", 5),
)

_gen = None


def _worker_init(seed: int, owners, tag_ids, follower_ids, per_company, now) -> None:
    global _gen
    common.setup_django(*_worker_db)
    from tradecrm.customers.demo import DemoGenerator

    _gen = DemoGenerator(
        seed=seed,
        owners=owners,
        tag_ids=tag_ids,
        follower_ids=follower_ids,
        now=now,
        contacts_per_company=per_company,
    )


_worker_db: tuple[str, int] = ("sqlite", 0)


def _build_chunk(args):
    """Rows for chunk k: the generator is re-seeded per chunk so the data does not depend on
    which worker built it; company ids are fixed by the chunk, contact ids left to the database."""
    k, first_id, size, fmt = args
    from tradecrm.customers.demo import Rows, pg_dt, sqlite_dt

    _gen.rnd.seed(_gen.seed * 1_000_003 + k)
    rows = Rows(first_id, 1, sqlite_dt if fmt == "sqlite" else pg_dt)
    companies, contacts, tags, followers = rows.build(_gen.companies(size))
    return companies, [c[1:] for c in contacts], tags, followers


def fresh_database(database: str, companies: int) -> None:
    env = {**os.environ, **common.db_env(database, companies)}
    if database == "sqlite":
        path = Path(env["TRADECRM_SQLITE_PATH"])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        name = common.pg_name(companies)
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", name], check=True
        )
        subprocess.run(
            [
                "createdb",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-T",
                "template0",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                name,
            ],
            check=True,
        )
    subprocess.run(
        [sys.executable, str(common.ROOT / "manage.py"), "migrate", "-v", "0"],
        env=env,
        check=True,
        cwd=common.ROOT,
    )


def make_users():
    """~50 users in nested teams, plus the personas the benchmarks sign in as."""
    from tradecrm.accounts.models import Team, User
    from tradecrm.customers.demo import Owner, ensure_demo_tags

    teams: dict[str, Team] = {}
    for name, parent, _n in TEAMS:
        teams[name] = Team.objects.create(name=name, parent=teams.get(parent) if parent else None)
    users = []
    for name, _parent, n in TEAMS:
        if n:
            users.append(
                User(username=f"mgr.{name.lower().replace(' ', '')}", role="manager", team=teams[name])
            )
        for i in range(n):
            users.append(
                User(username=f"rep.{name.lower().replace(' ', '')}.{i + 1}", role="sales", team=teams[name])
            )
    for u in users:
        u.set_unusable_password()
    User.objects.bulk_create(users)
    personas = []
    for role, username in common.PERSONAS.items():
        team = None if role == "admin" else teams["East"]
        u = User(
            username=username,
            role=role,
            team=team,
            is_staff=role == "admin",
            is_superuser=role == "admin",
            first_name=role.capitalize(),
            last_name="Bench",
        )
        u.set_password(common.BENCH_PASSWORD)
        u.save()
        personas.append(u)
    all_users = list(User.objects.all())
    owners = [Owner(u.pk, u.team_id) for u in all_users if u.role == "sales"]
    return owners, [u.pk for u in all_users], ensure_demo_tags()


# --- index handling -------------------------------------------------------------------------

TABLES = ("customers_company", "customers_contact", "customers_companytag", "customers_companyfollower")


def sqlite_drop_indexes(conn) -> list[str]:
    from tradecrm.core.search import fts_drop_sql

    index_sql = common.sqlite_drop_indexes(conn, TABLES)
    for table in ("customers_company", "customers_contact"):
        for sql in fts_drop_sql(table, "sqlite"):
            conn.execute(sql)
    return index_sql


def sqlite_restore(conn, index_sql: list[str], timings: dict) -> None:
    from tradecrm.core.search import fts_install_sql

    t = time.perf_counter()
    for sql in index_sql:
        conn.execute(sql)
    timings["indexes_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    for table in ("customers_company", "customers_contact"):
        for sql in fts_install_sql(table, "sqlite"):  # creates the FTS table, triggers, then 'rebuild'
            conn.execute(sql)
    timings["search_index_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA optimize")
    timings["analyze_s"] = round(time.perf_counter() - t, 1)


def pg_drop_indexes(cur) -> tuple[list[str], list[tuple[str, str, str]]]:
    return common.pg_drop_indexes(cur, TABLES)


def pg_restore(cur, index_sql: list[str], fks, timings: dict) -> None:
    cur.execute("SET maintenance_work_mem = '512MB'")
    t = time.perf_counter()
    for sql in index_sql:
        if "gin_trgm_ops" not in sql:
            cur.execute(sql)
    timings["indexes_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    for sql in index_sql:
        if "gin_trgm_ops" in sql:
            cur.execute(sql)
    timings["search_index_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    common.pg_restore_foreign_keys(cur, fks, ("customers_company", "customers_contact"))
    timings["foreign_keys_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    cur.execute("VACUUM ANALYZE")
    timings["analyze_s"] = round(time.perf_counter() - t, 1)


# --- load --------------------------------------------------------------------------------------


def load(args) -> dict:
    global _worker_db
    import datetime as dt

    timings: dict = {}
    t0 = time.perf_counter()
    fresh_database(args.database, args.companies)
    common.setup_django(args.database, args.companies)
    from tradecrm.customers.demo import COMPANY_COLUMNS, CONTACT_COLUMNS, _copy, _insert_sql

    owners, follower_ids, tag_ids = make_users()
    timings["schema_users_s"] = round(time.perf_counter() - t0, 1)

    from django.db import connection

    connection.close()
    _worker_db = (args.database, args.companies)
    now = dt.datetime.now(dt.UTC)
    chunks = [
        (k, 1 + k * CHUNK, min(CHUNK, args.companies - k * CHUNK), args.database)
        for k in range((args.companies + CHUNK - 1) // CHUNK)
    ]
    counts = {"companies": 0, "contacts": 0, "tags": 0, "followers": 0}
    ctx = mp.get_context("fork")
    t = time.perf_counter()
    contact_cols = CONTACT_COLUMNS[1:]
    if args.database == "sqlite":
        import sqlite3

        conn = sqlite3.connect(os.environ["TRADECRM_SQLITE_PATH"], isolation_level=None)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-1000000",
            "temp_store=MEMORY",
            "locking_mode=EXCLUSIVE",
            "foreign_keys=OFF",
        ):
            conn.execute(f"PRAGMA {pragma}")
        index_sql = sqlite_drop_indexes(conn)
        insert = (
            _insert_sql("customers_company", COMPANY_COLUMNS),
            _insert_sql("customers_contact", contact_cols),
            "INSERT INTO customers_companytag (company_id, tag_id) VALUES (?, ?)",
            "INSERT INTO customers_companyfollower (company_id, user_id) VALUES (?, ?)",
        )

        def write(parts):
            conn.execute("BEGIN")
            for sql, rows in zip(insert, parts, strict=True):
                conn.executemany(sql, rows)
            conn.execute("COMMIT")
    else:
        import psycopg

        conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        cur = conn.cursor()
        index_sql, fks = pg_drop_indexes(cur)
        copy_cols = (
            ("customers_company", COMPANY_COLUMNS),
            ("customers_contact", contact_cols),
            ("customers_companytag", ("company_id", "tag_id")),
            ("customers_companyfollower", ("company_id", "user_id")),
        )

        def write(parts):
            with conn.transaction():
                for (table, cols), rows in zip(copy_cols, parts, strict=True):
                    _copy(cur, table, cols, rows)

    with ctx.Pool(
        args.workers,
        initializer=_worker_init,
        initargs=(args.seed, owners, tag_ids, follower_ids, args.contacts_per_company, now),
    ) as pool:
        for i, parts in enumerate(pool.imap(_build_chunk, chunks)):
            write(parts)
            for key, rows in zip(counts, parts, strict=True):
                counts[key] += len(rows)
            if not args.quiet and (i + 1) % 10 == 0:
                el = time.perf_counter() - t
                print(
                    f"  {counts['companies']:,} companies, {el:.0f} s, {counts['companies'] / el:,.0f}/s",
                    file=sys.stderr,
                )
    timings["insert_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    if args.database == "sqlite":
        sqlite_restore(conn, index_sql, timings)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.close()
    else:
        pg_restore(cur, index_sql, fks, timings)
        conn.close()
    timings["post_load_s"] = round(time.perf_counter() - t, 1)
    total = time.perf_counter() - t0
    rows_total = sum(counts.values())
    result = {
        "benchmark": "load",
        "database": args.database,
        **counts,
        "rows_total": rows_total,
        "seconds": round(total, 1),
        "insert_rows_per_s": round(rows_total / timings["insert_s"]),
        "companies_per_s_overall": round(counts["companies"] / total),
        "timings": timings,
        "workers": args.workers,
        "seed": args.seed,
        "machine": common.machine(),
    }
    if args.database == "sqlite":
        result["db_bytes"] = Path(os.environ["TRADECRM_SQLITE_PATH"]).stat().st_size
    return result


def existing_companies(database: str, companies: int) -> int | None:
    """Companies in the cached bench database after bringing its schema up to date; None if absent."""
    env = {**os.environ, **common.db_env(database, companies)}
    if database == "sqlite":
        if not Path(env["TRADECRM_SQLITE_PATH"]).exists():
            return None
    else:
        probe = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-Atc",
                f"SELECT 1 FROM pg_database WHERE datname = '{common.pg_name(companies)}'",
            ],
            capture_output=True,
            text=True,
        )
        if probe.stdout.strip() != "1":
            return None
    subprocess.run(
        [sys.executable, str(common.ROOT / "manage.py"), "migrate", "-v", "0"],
        env=env,
        check=True,
        cwd=common.ROOT,
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, 'bench'); import common; "
            f"common.setup_django({database!r}, {companies}); "
            "from tradecrm.customers.models import Company; print(Company.objects.count())",
        ],
        env=env,
        cwd=common.ROOT,
        capture_output=True,
        text=True,
    )
    try:
        return int(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--companies", type=int, default=1_000_000)
    p.add_argument("--contacts-per-company", type=int, default=2)
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--save", action="store_true", help="also write bench/results/load-<db>-<size>.json")
    p.add_argument("--if-missing", action="store_true", help="keep an existing database of this size")
    args = p.parse_args(argv)
    if args.if_missing:
        existing = existing_companies(args.database, args.companies)
        if existing == args.companies:
            result = {"benchmark": "load", "database": args.database, "companies": existing, "cached": True}
            print(json.dumps(result, indent=2))
            return result
    result = load(args)
    if args.save:
        common.save(f"load-{args.database}-{common.size_label(args.companies)}", result)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
