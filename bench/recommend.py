"""Association-rules benchmark: the recommendation computation (tradecrm/analysis/recommend.py)
over the order lines of a bench database filled by bench/load_orders.py, per phase.

    .venv/bin/python bench/recommend.py --database sqlite [--companies 1000000] [--save]
    .venv/bin/python bench/recommend.py --database postgres --save

Prints JSON (phases, counts, the strongest rules); --save writes bench/results/recommend-<db>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--companies", type=int, default=1_000_000)
    p.add_argument("--save", action="store_true")
    args = p.parse_args(argv)
    common.setup_django(args.database, args.companies)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from tradecrm.analysis import recommend
    from tradecrm.analysis.models import AssociationRule, RuleRun

    call_command("migrate", "analysis", verbosity=0)
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM orders_orderline")
        lines = cur.fetchone()[0]
    import scipy.sparse  # noqa: F401 - imported before the clock starts, as in the worker

    t = time.perf_counter()
    run = recommend.execute(RuleRun.objects.create(created_at=timezone.now(), trigger="cli"))
    total = time.perf_counter() - t
    top = list(
        AssociationRule.objects.order_by("-lift").values(
            "antecedent__name_en", "consequent__name_en", "support", "confidence", "lift"
        )[:5]
    )
    result = {
        "benchmark": "recommend", "database": args.database, "order_lines": lines, "status": run.status,
        "error": run.error, "params": run.params, "phases_s": run.phases, "total_s": round(total, 3),
        "counts": run.counts, "top_rules": top, "machine": common.machine(),
    }  # fmt: skip
    print(json.dumps(result, indent=2, default=str))
    if args.save:
        common.save(f"recommend-{args.database}", result)
    return result


if __name__ == "__main__":
    main()
