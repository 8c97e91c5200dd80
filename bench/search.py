"""Free-text search latency through the real selector, `company_list(user, CompanyFilters(q=...))`.

    .venv/bin/python bench/search.py --database sqlite --companies 1000000
    .venv/bin/python bench/search.py --database postgres --companies 1000000

Queries are cut from rows of the bench database (so most of them hit, as a user's do), in the
categories the targets name: Latin words, Chinese of 3+ characters, phone and e-mail fragments,
and 1–2 Chinese characters; each runs as the admin, a manager (the East team) and a sales rep.
Prints JSON with p50/p95/max per category and persona and the targets beside them.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TARGETS_MS = {"sqlite": {"p95": 20, "short_cjk": 250}, "postgres": {"p95": 30, "short_cjk": 250}}
_CJK = re.compile(r"[\u4e00-\u9fff]+")


def pick_queries(seed: int, per_category: int) -> dict[str, list[str]]:
    """Fragments of real rows: what a rep remembers of a customer."""
    from django.db import connection

    rnd = random.Random(seed)
    with connection.cursor() as cur:
        cur.execute("SELECT MAX(id) FROM customers_company")
        max_id = cur.fetchone()[0]

        def sample(sql: str, n: int) -> list[tuple]:
            ids = [rnd.randrange(1, max_id + 1) for _ in range(n * 40)]
            out = []
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                cur.execute(sql.format(ids=",".join(map(str, part))))
                out += cur.fetchall()
                if len(out) >= n * 4:
                    break
            rnd.shuffle(out)
            return out

        names = sample(
            "SELECT name FROM customers_company WHERE id IN ({ids}) AND name_local = ''", per_category
        )
        chinese = sample(
            "SELECT name_local FROM customers_company WHERE id IN ({ids}) AND name_local <> '' ",
            per_category * 8,
        )
        phones = sample("SELECT phones FROM customers_contact WHERE company_id IN ({ids})", per_category)
        emails = sample(
            "SELECT email FROM customers_contact WHERE company_id IN ({ids}) AND email <> ''", per_category
        )
    stop = {"inc", "llc", "ltd", "corp", "gmbh", "co", "and", "the", "trading", "group", "s.a.", "de", "c.v."}
    latin = []
    for (name,) in names:
        words = [
            w.strip(",.")
            for w in name.split()
            if len(w.strip(",.")) >= 4 and w.lower().strip(",.") not in stop
        ]
        if words:
            w = rnd.choice(words)
            latin.append(w[: rnd.randrange(4, len(w) + 1)].lower() if rnd.random() < 0.5 else w)
    cjk_long, cjk_short = [], []
    for (local,) in chinese:
        runs = [r for r in _CJK.findall(local) if len(r) >= 4]
        if not runs:
            continue
        run = rnd.choice(runs)
        start = rnd.randrange(0, len(run) - 2)
        cjk_long.append(run[start : start + rnd.choice((3, 4))])
        start = rnd.randrange(0, len(run) - 1)
        cjk_short.append(run[start : start + rnd.choice((1, 2, 2))])
    phone_q = []
    for (raw,) in phones:
        nums = json.loads(raw) if isinstance(raw, str) else raw
        if not nums:
            continue
        digits = nums[0].lstrip("+")
        if rnd.random() < 0.5:  # the last 7-8 digits, as read off a business card
            phone_q.append(digits[-rnd.choice((7, 8)) :])
        else:  # international with spaces, as pasted from WhatsApp
            phone_q.append(f"+{digits[:2]} {digits[2:5]} {digits[5:]}")
    email_q = []
    for (email,) in emails:
        local, _, domain = email.partition("@")
        email_q.append(rnd.choice((email, domain, f"{local}@", domain.split(".")[0])))
    misses = ["zzqxv", "nonexistent-buyer", "不存在的客户", "9999999999"]
    return {
        "latin": latin[:per_category] + misses[:2],
        "chinese_3plus": cjk_long[:per_category] + misses[2:3],
        "phone": phone_q[:per_category] + misses[3:],
        "email": email_q[:per_category],
        "chinese_1_2": cjk_short[:per_category],
    }


def run(database: str, companies: int, per_category: int, repeat: int, seed: int, budget_s: float) -> dict:
    common.setup_django(database, companies)
    from django.db import connection

    from tradecrm.accounts.models import User
    from tradecrm.customers.selectors import CompanyFilters, company_list

    queries = pick_queries(seed, per_category)
    personas = {role: User.objects.get(username=u) for role, u in common.PERSONAS.items()}
    # warm the caches the way a running server is warm
    for user in personas.values():
        company_list(user, CompanyFilters())
    results: dict = {}
    worst: list = []
    deadline = time.monotonic() + budget_s
    for category, qs in queries.items():
        results[category] = {}
        for role, user in personas.items():
            samples, warm, rows_found = [], [], []
            for q in qs:
                for i in range(repeat):
                    t = time.perf_counter()
                    rows, _n, _p = company_list(user, CompanyFilters(q=q))
                    ms = (time.perf_counter() - t) * 1000
                    samples.append(ms)
                    if i:
                        warm.append(ms)
                    worst.append((ms, category, role, q))
                rows_found.append(len(rows))
                if time.monotonic() > deadline:
                    break
            stats = common.percentiles(samples)
            # repeats of a query: its pages are in SQLite's/PostgreSQL's cache, as for a busy office
            stats["warm"] = common.percentiles(warm)
            stats["queries_with_hits"] = sum(1 for r in rows_found if r)
            stats["queries"] = len(rows_found)
            results[category][role] = stats
    target = TARGETS_MS[database]
    verdict = {}
    for category, by_role in results.items():
        limit = target["short_cjk"] if category == "chinese_1_2" else target["p95"]
        verdict[category] = {
            "target_p95_ms": limit,
            "worst_p95_ms": max(s["p95_ms"] for s in by_role.values()),
            "met": all(s["p95_ms"] <= limit for s in by_role.values()),
            "worst_warm_p95_ms": max(s["warm"].get("p95_ms", 0) for s in by_role.values()),
        }
    worst.sort(reverse=True)
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM customers_company")
        n_companies = cur.fetchone()[0]
    return {
        "benchmark": "search",
        "database": database,
        "companies": n_companies,
        "selector": "company_list(user, CompanyFilters(q=...)), first page of 50 incl. tags",
        "repeat_per_query": repeat,
        "results": results,
        "verdict": verdict,
        "slowest": [{"ms": round(m, 1), "category": c, "persona": r, "q": q} for m, c, r, q in worst[:8]],
        "queries": queries,
        "machine": common.machine(),
    }


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--companies", type=int, default=1_000_000, help="which bench database (by size)")
    p.add_argument("--per-category", type=int, default=25)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--budget", type=float, default=240, help="stop measuring after this many seconds")
    p.add_argument("--save", action="store_true")
    args = p.parse_args(argv)
    result = run(args.database, args.companies, args.per_category, args.repeat, args.seed, args.budget)
    if args.save:
        common.save(f"search-{args.database}-{common.size_label(args.companies)}", result)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
