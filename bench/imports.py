"""Import benchmark: the generated company files through the product's real entry point.

    .venv/bin/python bench/imports.py [--database sqlite,postgres] [--repeat 3] [--save]
    .venv/bin/python bench/imports.py --only raw --file csv-100k          # quick: the baseline alone
    .venv/bin/python bench/imports.py --only peer --peer run --save       # side by side, peer re-run

What is measured, in one run (files from bench/import_files.py, under var/bench/files/):

* `csv`: `companies-1m.csv` (1,000,000 rows) imported end to end by the CLI
  `python -m tradecrm.cli import PATH --entity companies --source generic --json --as bench.admin`
  as a child process on a fresh database (a copy of a freshly migrated template holding one admin),
  SQLite and PostgreSQL. Wall time of the process (Django start-up included; the start-up alone is
  measured too), rows/s = rows_read / wall, peak RSS of the importing process (`os.wait4`: the
  largest of it and its waited-for children) and of its whole process tree (sum of VmRSS sampled
  every 0.1 s: shared pages of forked workers count twice), CPU seconds; the JSON the CLI prints,
  checked: created + updated + merged + rejected = rows_read = rows in the file; then the rows in
  the database (companies, contacts, duplicate keys, search index entries).
* `raw`: the baseline the issue asks for, in the same run, next to each engine run: every row of the
  same file, read with `csv` and turned into `customers_company` tuples (country to ISO code, JSON
  lists, `search_text` by `tradecrm.core.search.search_document`, untimed), then
  `sqlite3.executemany` into a fresh database with the real `customers_company` table and its
  indexes (the app's PRAGMAs: WAL, synchronous=NORMAL), one transaction per 5,000 rows (the
  importer's chunk size). Timed: executemany + COMMIT only. Also with the FTS5 trigram trigger the
  real schema has ("raw + search index"). On PostgreSQL: COPY into the real table with its indexes
  (pg_trgm GIN included). Ratio = engine rows/s ÷ raw rows/s.
* `xlsx`: `companies-100k-20col.xlsx` (100,000 × 20, Chinese headers) through the same CLI, SQLite.
* `peer`: `companies-100k.csv` through the same CLI on SQLite, beside django-crm 0.9.0's leads CSV
  upload (bench/djangocrm_import.py): its saved result (`--peer saved`, default) or a new run
  (`--peer run`, 10–40 minutes: it commits every row and checks each title with an unindexed query).

Medians over `--repeat` runs (100k files; `--repeat-1m` for the 1M file, default 1); every run's
figures are in the JSON. `--save` writes
bench/results/imports.json. Databases: var/bench/imports/*.sqlite3, PostgreSQL databases
tradecrm_bench_import*, dropped and re-created per run.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import import_files  # noqa: E402

WORK = common.BENCH_DIR / "imports"
USER = "bench.admin"
PG_TEMPLATE = "tradecrm_bench_import_tpl"
PG_RUN = "tradecrm_bench_import"
PG_RAW = "tradecrm_bench_import_raw"
CHUNK = 5000
TARGETS = {
    "sqlite_rows_per_s": 50_000,
    "postgres_rows_per_s": 100_000,
    "peak_rss_mb": 500,
    "xlsx_100k_seconds": 4.0,
}


def log(msg: str) -> None:
    print(f"[imports {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


# --- databases ---------------------------------------------------------------------------------------


def child_env(database: str, sqlite_path: Path | None = None, pg_name: str = PG_RUN) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        TRADECRM_DATA_DIR=str(WORK / "data"),
        TRADECRM_LOG_LEVEL="ERROR",
        TRADECRM_PASSWORD=common.BENCH_PASSWORD,
        PYTHONUNBUFFERED="1",
    )
    if database == "sqlite":
        env["TRADECRM_SQLITE_PATH"] = str(sqlite_path)
        env["DATABASE_URL"] = ""
    else:
        env["DATABASE_URL"] = f"{common.PG}/{pg_name}"
        env.pop("TRADECRM_SQLITE_PATH", None)
    return env


def manage(args: list[str], env: dict) -> None:
    subprocess.run(
        [sys.executable, str(common.ROOT / "manage.py"), *args, "--skip-checks"],
        env=env,
        cwd=common.ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _unlink_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def sqlite_template() -> Path:
    """A freshly migrated database with the bench admin; each run starts from a copy of it."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "template.sqlite3"
    _unlink_sqlite(path)
    env = child_env("sqlite", path)
    manage(["migrate", "-v", "0"], env)
    manage(["createuser", "--username", USER, "--role", "admin"], env)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to copy
    conn.close()
    return path


def sqlite_fresh(template: Path, name: str) -> Path:
    path = WORK / name
    _unlink_sqlite(path)
    shutil.copyfile(template, path)
    return path


def _pg(args: list[str]) -> None:
    subprocess.run(
        [args[0], "-h", "127.0.0.1", "-U", "postgres", *args[1:]], check=True, stdout=subprocess.DEVNULL
    )


def pg_template() -> None:
    _pg(["dropdb", "--if-exists", "--force", PG_TEMPLATE])
    _pg(["createdb", "-T", "template0", "-E", "UTF8", "--locale=C.UTF-8", PG_TEMPLATE])
    env = child_env("postgres", pg_name=PG_TEMPLATE)
    manage(["migrate", "-v", "0"], env)
    manage(["createuser", "--username", USER, "--role", "admin"], env)


def pg_fresh(name: str) -> None:
    _pg(["dropdb", "--if-exists", "--force", name])
    _pg(["createdb", "-T", PG_TEMPLATE, name])


def pg_drop(*names: str) -> None:
    for name in names:
        _pg(["dropdb", "--if-exists", "--force", name])


# --- child processes: time, peak RSS ------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler(threading.Thread):
    """Peak of the summed RSS of a process and its descendants, sampled."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.max_procs = 1
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            pids, todo = [], [self.pid]
            while todo:
                p = todo.pop()
                pids.append(p)
                todo += _children(p)
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in pids))
            self.max_procs = max(self.max_procs, len(pids))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def run_child(cmd: list[str], env: dict, tag: str) -> dict:
    out_path, err_path = WORK / f"{tag}.out", WORK / f"{tag}.err"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=common.ROOT)
        sampler = TreeSampler(p.pid)
        sampler.start()
        _pid, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        sampler.stop()
    return {
        "exit": os.waitstatus_to_exitcode(status),
        "wall_s": round(wall, 3),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 2),
        "peak_rss_mb": round(ru.ru_maxrss / 1024, 1),
        "tree_peak_rss_mb": round(sampler.peak_kb / 1024, 1),
        "processes": sampler.max_procs,
        "stdout": out_path.read_text(errors="replace"),
        "stderr_tail": err_path.read_text(errors="replace")[-2000:],
    }


def cli_import_cmd(path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tradecrm.cli",
        "import",
        str(path),
        "--entity",
        "companies",
        "--source",
        "generic",
        "--json",
        "--as",
        USER,
    ]


def startup_seconds(env: dict, n: int = 3) -> float:
    """Python + Django start-up of the CLI (what every end-to-end wall time includes)."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tradecrm.cli", "import", "--help"],
            env=env,
            cwd=common.ROOT,
            capture_output=True,
        )
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 3)


def _last_json(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    try:
        return json.loads(text)
    except ValueError:
        return None


def sqlite_counts(path: Path) -> dict:
    conn = sqlite3.connect(path)
    out = {}
    for key, sql in (
        ("companies", "SELECT count(*) FROM customers_company"),
        ("contacts", "SELECT count(*) FROM customers_contact"),
        ("company_keys", "SELECT count(*) FROM dedup_companykey"),
        ("search_index_rows", "SELECT count(*) FROM customers_company_fts_docsize"),
    ):
        try:
            out[key] = conn.execute(sql).fetchone()[0]
        except sqlite3.Error as exc:
            out[key] = f"error: {exc}"
    conn.close()
    return out


def pg_counts(name: str) -> dict:
    import psycopg

    out = {}
    with psycopg.connect(f"{common.PG}/{name}", autocommit=True) as conn:
        for key, sql in (
            ("companies", "SELECT count(*) FROM customers_company"),
            ("contacts", "SELECT count(*) FROM customers_contact"),
            ("company_keys", "SELECT count(*) FROM dedup_companykey"),
        ):
            try:
                out[key] = conn.execute(sql).fetchone()[0]
            except psycopg.Error as exc:
                out[key] = f"error: {exc}"
    return out


def engine_run(path: Path, manifest: dict, database: str, template: Path | None, tag: str) -> dict:
    if database == "sqlite":
        db = sqlite_fresh(template, f"{tag}.sqlite3")
        env = child_env("sqlite", db)
    else:
        pg_fresh(PG_RUN)
        env = child_env("postgres")
    shutil.rmtree(WORK / "data" / "imports", ignore_errors=True)
    r = run_child(cli_import_cmd(path), env, tag)
    out = _last_json(r.pop("stdout"))
    r["cli_json"] = out
    rows = manifest["rows"]
    if r["exit"] == 0 and out:
        read = out.get("rows_read")
        r["rows_per_s"] = round((read or 0) / r["wall_s"])
        parts = [out.get(k) or 0 for k in ("created", "updated", "merged", "rejected")]
        r["checks"] = {
            "rows_read_equals_file_rows": read == rows,
            "accounted": sum(parts) == read,
            "rejected_vs_bad_rows_in_file": [out.get("rejected"), manifest["bad_rows"]],
        }
        r["database_rows"] = sqlite_counts(db) if database == "sqlite" else pg_counts(PG_RUN)
    else:
        r["rows_per_s"] = None
    if database == "sqlite":
        _unlink_sqlite(db)
    shutil.rmtree(WORK / "data" / "imports", ignore_errors=True)
    return r


# --- the raw baseline -----------------------------------------------------------------------------------


def _setup_django() -> None:
    os.environ.update(child_env("sqlite", WORK / "unused.sqlite3"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if str(common.ROOT) not in sys.path:
        sys.path.insert(0, str(common.ROOT))
    import django

    django.setup()


def raw_chunks(path: Path, *, pg: bool):
    """The file's rows as customers_company tuples (COMPANY_COLUMNS order), CHUNK at a time."""
    from tradecrm.core.search import phone_search_tokens, search_document
    from tradecrm.customers.demo import pg_dt, sqlite_dt

    countries = import_files.country_code_table()
    now = dt.datetime.now(dt.UTC)
    stamp = pg_dt(now) if pg else sqlite_dt(now)
    chunk, next_id = [], 1
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        head = next(reader)
        ix = {h: i for i, h in enumerate(head)}
        c_name, c_local, c_country, c_city = ix["Company Name"], ix["Local Name"], ix["Country"], ix["City"]
        c_addr, c_web, c_email, c_tel = ix["Address"], ix["Website"], ix["E-mail"], ix["Tel"]
        c_ind, c_prod, c_rem = ix["Industry"], ix["Main Products"], ix["Remarks"]
        c_person, c_cmail = ix["Contact Person"], ix["Contact Email"]
        for row in reader:
            email = row[c_email].strip().lower()
            domain = email.partition("@")[2]
            phones = [p.strip() for p in row[c_tel].split(";") if p.strip()]
            name = row[c_name].strip()
            search = search_document(
                name,
                row[c_local],
                email,
                row[c_city],
                domain,
                *(phone_search_tokens(p) for p in phones),
                row[c_person],
                row[c_cmail],
            )
            chunk.append(
                (
                    next_id,
                    stamp,
                    stamp,
                    name,
                    row[c_local],
                    countries.get(row[c_country].strip().casefold(), ""),
                    row[c_city],
                    row[c_addr],
                    row[c_web],
                    email,
                    json.dumps([domain] if domain else []),
                    json.dumps(phones),
                    row[c_ind],
                    "",
                    "",
                    "",
                    "",
                    row[c_prod],
                    "[]",
                    "",
                    "",
                    "",
                    None,
                    None,
                    "",
                    "",
                    "",
                    None,
                    "lead",
                    None,
                    None,
                    row[c_rem],
                    search,
                    None,
                    None,
                    None,
                    1,
                    None,
                    None,
                )
            )
            next_id += 1
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


SQLITE_VARIANTS = {
    # name: (keep secondary indexes, keep the FTS5 trigger)
    "indexes": (True, False),  # the table as migrated, with its indexes: the baseline
    "indexes_fts": (True, True),  # … and the trigram search index kept by its trigger, as the app has it
    "table_only": (False, False),  # primary key only: the ceiling
}
PG_VARIANTS = {
    "indexes": lambda name, d: False,  # every index the migrations create, pg_trgm GIN included
    "no_trigram": lambda name, d: "gin" in d.lower(),
    "table_only": lambda name, d: not name.endswith("_pkey"),
}


class RawSqlite:
    def __init__(self, template: Path, variant: str):
        keep_indexes, keep_fts = SQLITE_VARIANTS[variant]
        self.db = sqlite_fresh(template, f"raw-{variant}.sqlite3")
        self.conn = conn = sqlite3.connect(self.db, isolation_level=None)
        if not keep_fts:
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='customers_company'"
            ).fetchall():
                conn.execute(f'DROP TRIGGER "{name}"')
        if not keep_indexes:
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='customers_company' "
                "AND sql IS NOT NULL"
            ).fetchall():
                conn.execute(f'DROP INDEX "{name}"')
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "temp_store=MEMORY", "cache_size=-65536"):
            conn.execute(f"PRAGMA {pragma}")  # the app's settings (config/settings.py)
        self.indexes = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='index' AND tbl_name='customers_company'"
        ).fetchone()[0]
        from tradecrm.customers.demo import COMPANY_COLUMNS, _insert_sql

        self.sql = _insert_sql("customers_company", COMPANY_COLUMNS)

    def write(self, chunk: list[tuple]) -> None:
        self.conn.execute("BEGIN")
        self.conn.executemany(self.sql, chunk)
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()
        _unlink_sqlite(self.db)


class RawPg:
    def __init__(self, variant: str):
        import psycopg

        self.name = f"{PG_RAW}_{variant}"
        pg_fresh(self.name)
        self.conn = psycopg.connect(f"{common.PG}/{self.name}", autocommit=True)
        self.cur = self.conn.cursor()
        drop = PG_VARIANTS[variant]
        for name, definition in self.cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customers_company'"
        ).fetchall():
            if drop(name, definition):
                self.cur.execute(f'DROP INDEX "{name}"')
        self.indexes = self.cur.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'customers_company'"
        ).fetchone()[0]

    def write(self, chunk: list[tuple]) -> None:
        from tradecrm.customers.demo import COMPANY_COLUMNS, _copy

        with self.conn.transaction():
            _copy(self.cur, "customers_company", COMPANY_COLUMNS, chunk)

    def close(self) -> None:
        self.conn.close()
        pg_drop(self.name)


def raw_baselines(path: Path, database: str, template: Path | None, variants: list[str]) -> dict:
    """One pass over the file; each chunk of prepared tuples goes into every variant's fresh
    database in turn, each write timed on its own (executemany + COMMIT, or COPY + COMMIT)."""
    targets = {v: (RawSqlite(template, v) if database == "sqlite" else RawPg(v)) for v in variants}
    timed = dict.fromkeys(variants, 0.0)
    rows = 0
    t_all = time.perf_counter()
    load0 = os.getloadavg()[0]
    for chunk in raw_chunks(path, pg=database == "postgres"):
        for v, target in targets.items():
            t = time.perf_counter()
            target.write(chunk)
            timed[v] += time.perf_counter() - t
        rows += len(chunk)
    out = {
        v: {
            "rows": rows,
            "write_s": round(timed[v], 3),
            "rows_per_s": round(rows / timed[v]),
            "indexes_on_table": targets[v].indexes,
        }
        for v in variants
    }
    for target in targets.values():
        target.close()
    out["pass_s"] = round(time.perf_counter() - t_all, 1)
    out["loadavg_1m"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    return out


# --- the benchmark ---------------------------------------------------------------------------------------


def summarize_engine(runs: list[dict]) -> dict:
    ok = [r for r in runs if r.get("rows_per_s")]
    return {
        "runs_ok": len(ok),
        "runs": len(runs),
        "rows_per_s_median": median([r["rows_per_s"] for r in ok]),
        "wall_s_median": median([r["wall_s"] for r in ok]),
        "cpu_s_median": median([r["cpu_s"] for r in ok]),
        "peak_rss_mb_median": median([r["peak_rss_mb"] for r in ok]),
        "peak_rss_mb_max": max((r["peak_rss_mb"] for r in ok), default=None),
        "tree_peak_rss_mb_max": max((r["tree_peak_rss_mb"] for r in ok), default=None),
    }


def bench_csv(args, template: Path | None, database: str, key: str) -> dict:
    path = import_files.ensure(key)
    manifest = json.loads(import_files.manifest_path(path).read_text())
    variants = list(SQLITE_VARIANTS if database == "sqlite" else PG_VARIANTS)
    runs, raws = [], []
    repeat = args.repeat_1m if manifest["rows"] >= 1_000_000 else args.repeat
    for i in range(repeat):
        if "raw" in args.only:
            log(f"{database} raw baselines {variants}, {key}, run {i + 1}")
            raws.append(raw_baselines(path, database, template, variants))
            log("  → " + ", ".join(f"{v} {raws[-1][v]['rows_per_s']:,}/s" for v in variants))
        if "csv" in args.only:
            log(f"{database} engine, {key}, run {i + 1}")
            runs.append(engine_run(path, manifest, database, template, f"engine-{database}-{key}-{i + 1}"))
            log(f"  → {runs[-1].get('rows_per_s')} rows/s, exit {runs[-1]['exit']}")
    out: dict = {"file": manifest["file"], "rows": manifest["rows"]}
    if raws:
        out["raw"] = {
            "method": "sqlite3 executemany, 5,000 rows per transaction, WAL + synchronous=NORMAL"
            if database == "sqlite"
            else "psycopg COPY, 5,000 rows per transaction",
            **{f"{v}_rows_per_s_median": median([r[v]["rows_per_s"] for r in raws]) for v in variants},
            "runs": raws,
        }
    if runs:
        out["engine"] = {**summarize_engine(runs), "runs": runs}
    if raws and runs and out["engine"]["rows_per_s_median"]:
        eng = out["engine"]["rows_per_s_median"]
        out["ratio_engine_to_raw"] = {
            v: round(eng / out["raw"][f"{v}_rows_per_s_median"], 3) for v in variants
        }
        out["ratio_engine_to_raw_per_run"] = [
            round(e["rows_per_s"] / r["indexes"]["rows_per_s"], 3) if e.get("rows_per_s") else None
            for e, r in zip(runs, raws, strict=False)
        ]
    return out


def bench_xlsx(args, template: Path) -> dict:
    path = import_files.ensure("xlsx-100k")
    manifest = json.loads(import_files.manifest_path(path).read_text())
    runs = []
    for i in range(args.repeat):
        log(f"sqlite engine, xlsx 100k×20, run {i + 1}")
        runs.append(engine_run(path, manifest, "sqlite", template, f"engine-sqlite-xlsx-{i + 1}"))
        log(f"  → {runs[-1]['wall_s']} s, exit {runs[-1]['exit']}")
    return {
        "file": manifest["file"],
        "rows": manifest["rows"],
        "columns": len(manifest["columns"]),
        **summarize_engine(runs),
        "runs": runs,
    }


def bench_peer(args, template: Path) -> dict:
    path = import_files.ensure("csv-100k")
    manifest = json.loads(import_files.manifest_path(path).read_text())
    runs = []
    for i in range(args.repeat):
        log(f"sqlite engine, csv 100k (side by side), run {i + 1}")
        runs.append(engine_run(path, manifest, "sqlite", template, f"engine-sqlite-csv-100k-{i + 1}"))
    tradecrm = {**summarize_engine(runs), "runs": runs}
    saved = common.RESULTS_DIR / "djangocrm-sqlite-100k.json"
    if args.peer == "run":
        log("django-crm 0.9.0 on the 100k file (this takes a while)")
        subprocess.run(
            [sys.executable, str(Path(__file__).with_name("djangocrm_import.py")), "--save"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    peer = json.loads(saved.read_text()) if saved.exists() else None
    out = {"file": "companies-100k.csv", "tradecrm": tradecrm}
    if peer:
        out["django_crm"] = {
            "source": str(saved.relative_to(common.ROOT)),
            "what": peer["what"],
            "runs": {
                enc: {
                    k: run.get(k)
                    for k in (
                        "seconds",
                        "rows_per_s",
                        "leads_created",
                        "rows_not_imported",
                        "task_errors",
                        "titles_non_latin1_in_file",
                        "titles_non_latin1_stored_intact",
                        "titles_with_chars_replaced_by_question_mark",
                        "peak_rss_mb",
                    )
                }
                for enc, run in peer["runs"].items()
            },
        }
        for run in out["django_crm"]["runs"].values():
            if run.get("seconds"):
                run["leads_created_per_s"] = round(run["leads_created"] / run["seconds"], 1)
        best = peer["runs"].get("latin-1", {})
        if best.get("rows_per_s") and tradecrm.get("rows_per_s_median"):
            out["tradecrm_over_django_crm"] = round(tradecrm["rows_per_s_median"] / best["rows_per_s"], 1)
    else:
        out["django_crm"] = f"no saved result at {saved}; run bench/djangocrm_import.py --save or --peer run"
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", default="sqlite,postgres")
    p.add_argument("--only", default="raw,csv,xlsx,peer", help="comma list of raw,csv,xlsx,peer")
    p.add_argument("--file", default="csv-1m", choices=("csv-1m", "csv-100k"), help="the CSV for raw/csv")
    p.add_argument("--repeat", type=int, default=3, help="runs of the 100k files")
    p.add_argument("--repeat-1m", type=int, default=1, help="runs of the 1M file")
    p.add_argument("--peer", choices=("saved", "run"), default="saved")
    p.add_argument("--save", action="store_true")
    args = p.parse_args(argv)
    args.only = set(args.only.split(","))
    databases = args.database.split(",")
    WORK.mkdir(parents=True, exist_ok=True)
    _setup_django()
    result: dict = {
        "benchmark": "imports",
        "targets": TARGETS,
        "repeat": args.repeat,
        "repeat_1m": args.repeat_1m,
    }
    result["files"] = {}
    for key in ("csv-1m", "csv-100k", "xlsx-100k"):
        m = import_files.generate(key)
        result["files"][m["file"]] = {
            k: m[k]
            for k in (
                "rows",
                "columns",
                "originals",
                "exact_duplicates",
                "variant_duplicates",
                "bad_rows",
                "bad_rows_by_kind",
                "originals_sharing_a_match_key",
                "bytes",
                "sha256",
            )
        }
    template = None
    if "sqlite" in databases or args.only & {"xlsx", "peer"}:
        log("sqlite template (migrate + admin)")
        template = sqlite_template()
        result["cli_startup_s"] = startup_seconds(child_env("sqlite", template))
    if args.only & {"raw", "csv"}:
        for database in databases:
            if database == "postgres":
                log("postgres template (migrate + admin)")
                pg_template()
            result[database] = bench_csv(args, template, database, args.file)
            if database == "postgres":
                pg_drop(PG_RUN, PG_TEMPLATE)
    if "xlsx" in args.only:
        result["xlsx"] = bench_xlsx(args, template)
    if "peer" in args.only:
        result["side_by_side"] = bench_peer(args, template)
    result["machine"] = common.machine()
    if args.save:  # the full run → imports.json; a partial one gets its own name
        full = args.only == {"raw", "csv", "xlsx", "peer"} and args.file == "csv-1m"
        name = (
            "imports" if full else f"imports-{'-'.join(sorted(args.only))}-{args.file}-{'-'.join(databases)}"
        )
        common.save(name, result)
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return result


if __name__ == "__main__":
    main()
