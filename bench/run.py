"""Everything `make bench` measures, as one JSON document (not part of CI).

    .venv/bin/python bench/run.py [--companies 1000000] [--databases sqlite,postgres] [--quick]

Builds each bench database if it is missing (cached under var/bench/ and as PostgreSQL database
tradecrm_bench_<size>), then runs the search and HTTP benchmarks on it, the timeline and reminder-scan benchmarks, and
- after adding about 10M order lines (bench/load_orders.py) and the activity grading reads beside
them (bench/load_activity.py) - grading, dashboard, clustering and
cross-sell rules, then the search-index insert ceiling; every result is also written to
bench/results/<name>.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def step(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, *args], cwd=common.ROOT, capture_output=True, text=True)
    if out.returncode:
        return {"failed": " ".join(args), "stderr": out.stderr[-3000:]}
    try:
        return json.JSONDecoder().raw_decode(out.stdout[out.stdout.index("{") :])[0]
    except ValueError:
        return {"failed": " ".join(args), "stdout": out.stdout[-3000:]}


def has_activity(database: str, companies: int) -> bool:
    """Whether bench/load_activity.py has filled the bench database (any payment allocation)."""
    code = (
        "import sys; sys.path.insert(0, 'bench'); import common; "
        f"common.setup_django({database!r}, {companies}); from django.db import connection; "
        "cur = connection.cursor(); cur.execute('SELECT COUNT(*) FROM orders_paymentallocation'); "
        "print(cur.fetchone()[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=common.ROOT, capture_output=True, text=True)
    return out.returncode == 0 and out.stdout.strip().splitlines()[-1:] != ["0"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--companies", type=int, default=1_000_000)
    p.add_argument("--databases", default="sqlite,postgres")
    p.add_argument("--workers", default="2,3,4", help="gunicorn worker counts to compare")
    p.add_argument("--quick", action="store_true", help="short runs (3 s wrk, fewer queries)")
    args = p.parse_args()
    n = str(args.companies)
    summary: dict = {"benchmark": "all", "companies": args.companies, "machine": common.machine(), "runs": {}}
    for db in args.databases.split(","):
        runs = summary["runs"][db] = {}
        runs["load"] = step(
            ["bench/load.py", "--companies", n, "--database", db, "--if-missing", "--save", "--quiet"]
        )
        search = ["bench/search.py", "--database", db, "--companies", n, "--save"]
        web = ["bench/web.py", "--database", db, "--companies", n, "--workers", args.workers, "--save"]
        if args.quick:
            search += ["--per-category", "8", "--repeat", "2"]
            web += ["--seconds", "3", "--rounds", "2"]
        runs["search"] = step(search)
        runs["http"] = step(web)
        # the timeline (5M interactions) and the reminder scan (1M customers, 5M follow-ups) use
        # databases of their own, built on first use and cached like the others
        runs["timeline"] = step(["bench/timeline.py", "--database", db, "--quiet", "--save"])
        runs["reminders"] = step(["bench/reminders.py", "--database", db, "--save"])
        # the deal-flow history (about 10M order lines) on the same database, then what reads it
        runs["load_orders"] = step(["bench/load_orders.py", "--companies", n, "--database", db, "--if-missing",
                                    "--save", "--quiet"])  # fmt: skip
        # the activity grading reads beside the orders (allocations, interactions, inquiries, samples,
        # surveys, customs records); rebuilt with the orders, since it hangs on them
        grading = ["bench/grading.py", "--database", db, "--companies", n, "--save"]
        if not runs["load_orders"].get("cached") or not has_activity(db, args.companies):
            runs["load_activity"] = step(["bench/load_activity.py", "--companies", n, "--database", db, "--save",
                                          "--quiet"])  # fmt: skip
            grading.append("--recopy")  # the cached grading copy predates the new rows
        runs["grading"] = step(grading)
        runs["dashboard"] = step(["bench/dashboard.py", "--database", db, "--companies", n, "--requests", "10",
                                  "--save"])  # fmt: skip
        runs["clustering"] = step(["bench/clustering.py", "--database", db, "--companies", n, "--save"])
        runs["recommend"] = step(["bench/recommend.py", "--database", db, "--companies", n, "--save"])
        for kind in ("search", "http"):
            runs[kind].pop("queries", None)
            for s in runs[kind].get("in_process", {}).values():
                s.pop("sql", None)
    # what the search index alone can take, beside the import targets
    summary["runs"]["fts_ceiling"] = step(["bench/fts_ceiling.py", "--rows", "200000", "--repeat", "3", "--postgres",
                                           "--save"])  # fmt: skip
    common.save(f"summary-{common.size_label(args.companies)}", summary)
    print(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
