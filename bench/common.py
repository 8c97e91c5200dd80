"""Shared by the bench scripts: where the bench databases live and how to point Django at one.

Bench databases are cached under var/bench/ (git-ignored): SQLite files there, PostgreSQL
databases named tradecrm_bench_<size> on the local server.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
RESULTS_DIR = ROOT / "bench" / "results"
PG = os.environ.get("TRADECRM_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BENCH_PASSWORD = "bench-password-not-secret"  # only for the local bench personas, never a real install
PERSONAS = {"admin": "bench.admin", "manager": "bench.manager", "sales": "bench.sales"}


def size_label(companies: int) -> str:
    if companies % 1_000_000 == 0:
        return f"{companies // 1_000_000}m"
    if companies % 1000 == 0:
        return f"{companies // 1000}k"
    return str(companies)


def pg_name(companies: int) -> str:
    return f"tradecrm_bench_{size_label(companies)}"


def db_env(database: str, companies: int) -> dict[str, str]:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    env = {"TRADECRM_DATA_DIR": str(BENCH_DIR / "data"), "TRADECRM_LOG_LEVEL": "ERROR"}
    if database == "sqlite":
        # TRADECRM_BENCH_SQLITE_PATH: another bench file (a variant of a size, e.g. fewer order lines)
        env["TRADECRM_SQLITE_PATH"] = os.environ.get("TRADECRM_BENCH_SQLITE_PATH") or str(
            BENCH_DIR / f"sqlite-{size_label(companies)}.sqlite3"
        )
        env["DATABASE_URL"] = ""
    elif database == "postgres":
        env["DATABASE_URL"] = f"{PG}/{pg_name(companies)}"
    else:
        raise SystemExit(f"unknown database {database!r} (sqlite or postgres)")
    return env


def setup_django(database: str, companies: int) -> None:
    os.environ.update(db_env(database, companies))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def machine() -> dict:
    info = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}
    try:
        model = [ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")]
        info["cpu"] = model[0].split(":", 1)[1].strip() if model else ""
    except OSError:
        pass
    try:
        info["git"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        pass
    return info


def percentiles(samples_ms: list[float]) -> dict:
    s = sorted(samples_ms)
    if not s:
        return {}

    def pct(p: float) -> float:
        return round(s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))], 3)

    return {
        "n": len(s),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "max_ms": round(s[-1], 3),
        "mean_ms": round(statistics.fmean(s), 3),
    }


def save(name: str, result: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


# --- bulk loads: indexes and foreign keys dropped for the load, rebuilt after it -------------------


def _quoted_list(tables) -> str:
    return ",".join(f"'{t}'" for t in tables)


def sqlite_drop_indexes(conn, tables) -> list[str]:
    """Drop the indexes of `tables` (a sqlite3 connection); their CREATE statements, to restore."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({_quoted_list(tables)})"
    ).fetchall()
    for name, _sql in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in rows]


def pg_drop_indexes(cur, tables) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Drop the foreign keys and the indexes (not those behind constraints) of `tables` (a psycopg
    cursor): (index definitions, (table, name, definition) of the foreign keys), to restore."""
    names = _quoted_list(tables)
    cur.execute(f"""SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                    WHERE contype = 'f' AND conrelid::regclass::text IN ({names})""")
    fks = cur.fetchall()
    for table, name, _d in fks:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cur.execute(f"""SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename IN ({names})
                    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""")
    indexes = cur.fetchall()
    for name, _d in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    return [d for _n, d in indexes], fks


def pg_restore_foreign_keys(cur, fks, tables) -> None:
    """Add the dropped foreign keys back and move the id sequences of `tables` past their rows."""
    for table, name, definition in fks:
        cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for table in tables:
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
        )
