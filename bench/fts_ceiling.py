"""The ceiling the search index puts on import speed: how many companies per second SQLite's FTS5
trigram index can take, against a plain table, for the real `search_text` of the bench database.

    .venv/bin/python bench/fts_ceiling.py --rows 200000 [--save]

Reads `search_text` of the first --rows companies of the 1M bench database (bench/load.py), then
inserts them into an in-memory database three times: a plain table (the raw executemany rate),
the FTS5 table the product uses (`tokenize='trigram'`), and the cheapest trigram variant that
still answers substring searches (`detail=none, columnsize=0`). Each variant runs --repeat times;
the medians are printed as JSON. No import can index companies faster than the FTS rate.\nWith --postgres, the same rows are COPYed into PostgreSQL with and without the pg_trgm GIN index.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

VARIANTS = {
    "plain_table": "CREATE TABLE t (id INTEGER PRIMARY KEY, search_text TEXT)",
    "fts5_trigram": "CREATE VIRTUAL TABLE t USING fts5(search_text, tokenize='trigram')",
    "fts5_trigram_detail_none": (
        "CREATE VIRTUAL TABLE t USING fts5(search_text, tokenize='trigram', detail=none, columnsize=0)"
    ),
}


def postgres_ceiling(rows: list[tuple], repeat: int) -> dict:
    """The same rows COPYed into a PostgreSQL table without an index and with the pg_trgm GIN
    index the product uses for search (in a scratch database that is dropped afterwards)."""
    import subprocess

    import psycopg

    name = "tradecrm_bench_fts_ceiling"
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "-T", "template0", "-E", "UTF8",
                    "--locale=C.UTF-8", name], check=True)  # fmt: skip
    result = {}
    try:
        with psycopg.connect(f"{common.PG}/{name}", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for variant, index in (("plain_table", ""),
                                   ("gin_trigram", "CREATE INDEX ON t USING gin (search_text gin_trgm_ops)")):  # fmt: skip
                rates = []
                for _ in range(repeat):
                    conn.execute("DROP TABLE IF EXISTS t")
                    conn.execute("CREATE TABLE t (id bigint PRIMARY KEY, search_text text)")
                    if index:
                        conn.execute(index)
                    t = time.perf_counter()
                    with conn.transaction(), conn.cursor().copy("COPY t (id, search_text) FROM STDIN") as cp:
                        for row in rows:
                            cp.write_row(row)
                    rates.append(len(rows) / (time.perf_counter() - t))
                result[variant] = {"rows_per_s_median": round(statistics.median(rates)),
                                   "runs": [round(r) for r in rates]}  # fmt: skip
    finally:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=True)
    result["gin_trigram"]["ratio_to_plain"] = round(
        result["gin_trigram"]["rows_per_s_median"] / result["plain_table"]["rows_per_s_median"], 3
    )
    return result


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--save", action="store_true")
    p.add_argument("--postgres", action="store_true", help="also COPY the rows into PostgreSQL with / without pg_trgm GIN")
    args = p.parse_args(argv)
    path = common.db_env("sqlite", 1_000_000)["TRADECRM_SQLITE_PATH"]
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = src.execute(
        "SELECT id, search_text FROM customers_company ORDER BY id LIMIT ?", (args.rows,)
    ).fetchall()
    src.close()
    out: dict = {"benchmark": "fts_ceiling", "rows": len(rows),
                 "avg_chars": round(sum(len(r[1]) for r in rows) / max(1, len(rows)), 1), "variants": {}}  # fmt: skip
    for name, ddl in VARIANTS.items():
        rates = []
        for _ in range(args.repeat):
            db = sqlite3.connect(":memory:")
            db.execute(ddl)
            t = time.perf_counter()
            db.execute("BEGIN")
            db.executemany("INSERT INTO t (rowid, search_text) VALUES (?, ?)", rows)
            db.execute("COMMIT")
            rates.append(len(rows) / (time.perf_counter() - t))
            db.close()
        out["variants"][name] = {
            "rows_per_s_median": round(statistics.median(rates)),
            "runs": [round(r) for r in rates],
        }
    plain = out["variants"]["plain_table"]["rows_per_s_median"]
    for v in out["variants"].values():
        v["ratio_to_plain"] = round(v["rows_per_s_median"] / plain, 3)
    if args.postgres:
        out["postgres"] = postgres_ceiling(rows, args.repeat)
    out["machine"] = common.machine()
    if args.save:
        common.save("fts-ceiling-sqlite", out)
    print(__import__("json").dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
