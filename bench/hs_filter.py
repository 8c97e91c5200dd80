"""The customer list filtered by HS code, through the real selector `company_list(user,
CompanyFilters(hs=...))`, as the admin, a manager and a sales rep of a bench database.

    .venv/bin/python bench/hs_filter.py --database sqlite --companies 200000 [--repeat 5] [--save]

Prefixes are taken from the database: the most common 2-digit chapter of the order lines, a
4-digit heading of middling frequency, the rarest 6-digit code, and a prefix nothing has
("0000"). Each runs with the shipped plan choice (`hs_company_ids` collects the customers of a
rare prefix by index ranges, a common one is walked customer by customer) and with the walk
forced (what every prefix did before), so the two plans are compared in one run on one
machine. Both plans must return the same first page; the script fails if they do not.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def pick_prefixes() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT substr(hs_code, 1, 2) p, COUNT(*) n FROM orders_orderline WHERE hs_code <> '' "
            "GROUP BY p ORDER BY n DESC LIMIT 1"
        )
        common_2 = cur.fetchone()[0]
        cur.execute(
            "SELECT substr(hs_code, 1, 4) p, COUNT(*) n FROM orders_orderline WHERE hs_code <> '' "
            "GROUP BY p ORDER BY n"
        )
        heads = cur.fetchall()
        middle_4 = heads[len(heads) // 2][0]
        cur.execute(
            "SELECT substr(hs_code, 1, 6) p, COUNT(*) n FROM orders_orderline WHERE length(hs_code) >= 6 "
            "GROUP BY p ORDER BY n LIMIT 1"
        )
        rare_6 = cur.fetchone()[0]
    return {"common": common_2, "middle": middle_4, "rare": rare_6, "none": "0000"}


def timed(user, prefix: str, repeat: int) -> tuple[list[float], list[int]]:
    from tradecrm.customers.selectors import CompanyFilters, company_list

    times, ids = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        rows, _n, _p = company_list(user, CompanyFilters(hs=prefix))
        times.append((time.perf_counter() - t) * 1000)
        ids = [r["id"] for r in rows]
    return times, ids


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--companies", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--walk-repeat", type=int, default=2, help="runs of the forced walk (slow)")
    p.add_argument("--save", action="store_true")
    args = p.parse_args(argv)
    common.setup_django(args.database, args.companies)
    from tradecrm.accounts.models import User
    from tradecrm.customers import selectors

    prefixes = pick_prefixes()
    out = {"database": args.database, "companies": args.companies, "prefixes": prefixes, "runs": {}}
    for persona, username in common.PERSONAS.items():
        user = User.objects.get(username=username)
        for kind, prefix in prefixes.items():
            shipped, ids = timed(user, prefix, args.repeat)
            collected = selectors.hs_company_ids(prefix, selectors.HS_ID_CAP)
            shipped_collect = selectors.hs_company_ids
            selectors.hs_company_ids = lambda prefix, cap: None  # the walk, whatever the count
            try:
                walk, walk_ids = timed(user, prefix, args.walk_repeat)
            finally:
                selectors.hs_company_ids = shipped_collect
            if ids != walk_ids:
                raise SystemExit(f"{persona} {prefix}: the two plans disagree on the first page")
            out["runs"][f"{persona}/{kind}"] = {
                "prefix": prefix,
                "plan": "walk" if collected is None else f"ids ({len(collected)})",
                "page_rows": len(ids),
                "shipped_ms_median": round(statistics.median(shipped), 1),
                "forced_walk_ms_median": round(statistics.median(walk), 1),
            }
            print(json.dumps({f"{persona}/{kind}": out["runs"][f"{persona}/{kind}"]}), file=sys.stderr)
    out["machine"] = common.machine()
    if args.save:
        path = common.RESULTS_DIR / f"hs-filter-{args.database}-{common.size_label(args.companies)}.json"
        path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
