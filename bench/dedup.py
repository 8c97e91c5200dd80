"""Duplicate check (查重) at scale: match-key rebuild, check-while-typing latency, and the sweep.

    .venv/bin/python bench/dedup.py --companies 1000000 --save
    .venv/bin/python bench/dedup.py --companies 100000 --skip-sweep

Builds (once, cached) a demo database with bench/load.py under var/bench/dedup/ — its own copy,
because the sweep writes DuplicatePair rows and the key rebuild rewrites dedup_companykey — then:
  1. `rebuild_keys` for companies and contacts (bench/load.py bypasses the services, so the
     database has no keys yet), timed;
  2. `check_company` as a sales rep and as the admin, with what users type: an existing name
     (as is, with another legal form in capitals, with a typo), a Chinese name, a website only,
     and names that are in no record; p50/p95/max per kind and overall (target p95 ≤ 30 ms);
  3. the sweep over every company on 2 cores (target ≤ 5 minutes), with its phases.
Prints JSON; --save writes bench/results/dedup-<db>-<size>.json.

The demo generator draws company names from small pools (a few hundred per market), so the demo
archive is full of same-name companies: far more candidate pairs than a real archive has. The
sweep's figures here are therefore a pessimistic bound.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

common.BENCH_DIR = common.BENCH_DIR / "dedup"  # this benchmark's own databases
TARGET_CHECK_P95_MS = 30
TARGET_SWEEP_S = 300
SUFFIXES = ("CO., LTD.", "GmbH", "S.A.", "LLC", "Limited", "Sdn Bhd", "Pvt Ltd", "Inc.", "")


def _typo(word: str, rnd: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rnd.randrange(1, len(word) - 1)
    return word[:i] + rnd.choice("aeiourstln") + word[i + 1 :]


def pick_queries(seed: int, n: int) -> dict[str, list[dict]]:
    from django.db import connection

    from tradecrm.dedup.normalize import normalize_company_name

    rnd = random.Random(seed)
    with connection.cursor() as cur:
        cur.execute("SELECT MAX(id) FROM customers_company")
        max_id = cur.fetchone()[0]
        ids = ",".join(str(rnd.randrange(1, max_id + 1)) for _ in range(n * 6))
        cur.execute(f"SELECT name, name_local, country, website FROM customers_company WHERE id IN ({ids})")
        rows = cur.fetchall()
    rnd.shuffle(rows)
    latin = [r for r in rows if not r[1]][:n]
    chinese = [r for r in rows if r[1]][:n]
    queries: dict[str, list[dict]] = {
        "exact": [],
        "other_legal_form": [],
        "typo": [],
        "chinese": [],
        "website": [],
    }
    for name, _local, country, website in latin:
        queries["exact"].append({"name": name, "country": country})
        core = normalize_company_name(name)
        queries["other_legal_form"].append(
            {"name": f"{core} {rnd.choice(SUFFIXES)}".upper(), "country": country}
        )
        words = name.split()
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        words[longest] = _typo(words[longest], rnd)
        queries["typo"].append({"name": " ".join(words), "country": country})
        queries["website"].append({"website": website})
    for _name, local, country, _website in chinese:
        queries["chinese"].append({"name": local, "country": country})
    syllables = ("zor", "vex", "quil", "brank", "tov", "mizu", "plek", "xan", "drom", "fyr")
    queries["new"] = [
        {"name": f"{''.join(rnd.sample(syllables, 3)).title()} {rnd.choice(('Trading', 'Industrial', 'Foods'))} Ltd",
         "country": rnd.choice(("DE", "US", "CN", "AE"))}
        for _ in range(n)
    ]  # fmt: skip
    return queries


def time_checks(user, queries: dict[str, list[dict]]) -> dict:
    from tradecrm.dedup.selectors import check_company

    out: dict = {}
    all_ms: list[float] = []
    found = 0
    for kind, items in queries.items():
        samples = []
        for values in items:
            t = time.perf_counter()
            result = check_company(user, values)
            samples.append((time.perf_counter() - t) * 1000)
            found += bool(result)
        out[kind] = common.percentiles(samples)
        all_ms += samples
    out["all"] = common.percentiles(all_ms)
    out["queries_with_candidates"] = found
    return out


SWEEP_CODE = """
import json, resource, sys
sys.path.insert(0, "bench")
import common
common.BENCH_DIR = common.BENCH_DIR / "dedup"
common.setup_django({database!r}, {companies})
from tradecrm.dedup.sweep import sweep
stats = sweep({entity!r}, workers={workers})
stats["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
stats["peak_rss_worker_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
print(json.dumps(stats))
"""


def sweep_in_subprocess(args, entity: str) -> dict:
    """The sweep in a fresh process, as the nightly task runs it, so that its peak memory is its own."""
    import subprocess

    code = SWEEP_CODE.format(
        database=args.database, companies=args.companies, entity=entity, workers=args.workers
    )
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=common.ROOT, capture_output=True, text=True, check=True
    )
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    stats["wall_s"] = round(time.perf_counter() - t, 1)
    return stats


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--companies", type=int, default=1_000_000)
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--queries", type=int, default=100, help="per kind of query")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--skip-sweep", action="store_true")
    p.add_argument("--contacts", action="store_true", help="also sweep the contacts")
    p.add_argument("--rebuild-keys", action="store_true", help="rebuild the keys even when present")
    p.add_argument("--skip-check", action="store_true")
    p.add_argument("--fresh-pairs", action="store_true", help="delete the stored pairs first (a first sweep)")
    p.add_argument("--resweep", action="store_true", help="sweep a second time (pairs already stored)")
    p.add_argument("--save", action="store_true")
    args = p.parse_args(argv)

    import load

    t = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries this benchmark's JSON only
        load.main(
            ["--companies", str(args.companies), "--database", args.database, "--if-missing", "--quiet",
             "--workers", "2"]
        )  # fmt: skip
    load_s = round(time.perf_counter() - t, 1)
    common.setup_django(args.database, args.companies)
    from django.contrib.auth import get_user_model
    from django.db import connection

    from tradecrm.dedup.keys import rebuild_keys
    from tradecrm.dedup.models import CompanyKey

    result: dict = {
        "benchmark": "dedup",
        "database": args.database,
        "companies": args.companies,
        "load_or_reuse_s": load_s,
    }
    keys: dict = {}
    have = (
        CompanyKey.objects.order_by().values("company_id").distinct().count() if not args.rebuild_keys else 0
    )
    if have < args.companies * 0.99:
        for entity in ("companies", "contacts"):
            t = time.perf_counter()
            rows = rebuild_keys(entity)
            s = time.perf_counter() - t
            keys[entity] = {
                "key_rows": rows,
                "seconds": round(s, 1),
                "records_per_s": round(args.companies / s),
            }
    else:
        keys["reused"] = True
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM dedup_companykey")
        keys["company_key_rows"] = cur.fetchone()[0]
    keys["keys_per_company"] = round(keys["company_key_rows"] / args.companies, 2)
    result["keys"] = keys

    if not args.skip_check:
        User = get_user_model()
        queries = pick_queries(args.seed, args.queries)
        check: dict = {"target_p95_ms": TARGET_CHECK_P95_MS, "queries_per_kind": args.queries}
        for persona in ("sales", "admin"):
            user = User.objects.get(username=common.PERSONAS[persona])
            time_checks(user, {k: v[:5] for k, v in queries.items()})  # warm caches and imports
            check[persona] = time_checks(user, queries)
        result["check"] = check

    if not args.skip_sweep:
        entities = ["companies"] + (["contacts"] if args.contacts else [])
        result["sweep"] = {"target_s": TARGET_SWEEP_S}
        if args.fresh_pairs:
            with connection.cursor() as cur:
                cur.execute("DELETE FROM dedup_duplicatepair")
        for entity in entities:
            result["sweep"][entity] = sweep_in_subprocess(args, entity)
            if args.resweep:
                result["sweep"][f"{entity}_again"] = sweep_in_subprocess(args, entity)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["peak_rss_children_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    result["machine"] = common.machine()
    if args.save:
        common.save(f"dedup-{args.database}-{common.size_label(args.companies)}", result)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
