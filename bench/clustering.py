"""Clustering benchmark: k-means on the RFM features of 1,000,000 customers, per phase, and the
quality of the app's k-means (full KMeans, one start) against 4 starts and MiniBatchKMeans.

    .venv/bin/python bench/clustering.py --database sqlite [--companies 1000000] [--k 4] [--save]
    .venv/bin/python bench/clustering.py --database postgres --save

Source of the features: the grading table (`grading_companygrade`) when it holds at least
--companies graded customers (the grading run filled it); otherwise synthetic RFM features for
the bench database's first --companies company ids (a deterministic mixture of four buyer types,
heavy-tailed like real order data) are put into a TEMP table with the same columns, so the read
phase still reads 1M rows through the same SQL. The write phase replaces analysis_companycluster
(one transaction) exactly as the app does. --graded clusters the graded buyers whatever their
number (the bench database's 1M customers have ~283k buyers). Prints JSON; --save writes
bench/results/clustering-<db>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def synthetic(n: int, seed: int = 7):
    import numpy as np

    rnd = np.random.default_rng(seed)
    kind = rnd.choice(4, size=n, p=[0.15, 0.35, 0.3, 0.2])
    rec_mu = np.array([3.0, 4.0, 5.5, 6.3])[kind]  # log days: ~20, ~55, ~245, ~545
    freq_mu = np.array([2.5, 1.2, 0.7, 0.3])[kind]
    amt_mu = np.array([11.5, 9.5, 9.0, 8.0])[kind]
    recency = np.exp(rnd.normal(rec_mu, 0.5)).astype(np.int64)
    orders = np.maximum(1, np.exp(rnd.normal(freq_mu, 0.6))).astype(np.int64)
    amount = np.round(np.exp(rnd.normal(amt_mu, 0.9)), 2)
    return recency, orders, amount


def fill_temp(n: int) -> str:
    from django.db import connection

    recency, orders, amount = synthetic(n)
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM customers_company ORDER BY id LIMIT %s", [n])
        ids = [r[0] for r in cur.fetchall()]
        cur.execute("DROP TABLE IF EXISTS bench_grades")
        cur.execute("CREATE TEMP TABLE bench_grades (company_id bigint PRIMARY KEY, recency_days integer, "
                    "orders_count integer, amount_base numeric(18, 2))")  # fmt: skip
        rows = list(zip(ids, recency[: len(ids)].tolist(), orders[: len(ids)].tolist(), amount[: len(ids)].tolist(),
                        strict=True))  # fmt: skip
        cur.executemany("INSERT INTO bench_grades VALUES (%s, %s, %s, %s)", rows)
    return "bench_grades"


def quality(x, k: int) -> dict:
    """Inertia (sum of squared distances, standardised units) and fit time on every row: the
    app's choice (full KMeans, 1 start) against full KMeans with 4 starts and MiniBatchKMeans."""
    from sklearn.cluster import KMeans

    from tradecrm.analysis import clustering

    out = {}
    for name, fn in (
        ("kmeans_1_start", lambda: clustering.fit(x, k, method="kmeans")[2]),
        ("kmeans_4_starts", lambda: float(KMeans(n_clusters=k, random_state=0, n_init=4).fit(x).inertia_)),
        ("minibatch", lambda: clustering.fit(x, k, method="minibatch")[2]),
    ):
        t = time.perf_counter()
        inertia = fn()
        out[name] = {"inertia": round(inertia, 1), "seconds": round(time.perf_counter() - t, 3)}
    best = out["kmeans_4_starts"]["inertia"]
    for v in out.values():
        v["vs_4_starts"] = round(v["inertia"] / best, 5)
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--companies", type=int, default=1_000_000)
    p.add_argument("--k", type=int, default=4)
    p.add_argument("--no-quality", action="store_true", help="Skip the KMeans comparison.")
    p.add_argument("--save", action="store_true")
    p.add_argument("--graded", action="store_true",
                   help="cluster the customers the grading run gave RFM values (the buyers), however many")  # fmt: skip
    args = p.parse_args(argv)
    common.setup_django(args.database, args.companies)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from tradecrm.analysis import clustering
    from tradecrm.analysis.models import ClusterRun, CompanyCluster

    call_command("migrate", "analysis", verbosity=0)
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM grading_companygrade WHERE recency_days IS NOT NULL")
        graded = cur.fetchone()[0]
    source, table = "grades", "grading_companygrade"
    t = time.perf_counter()
    if graded < args.companies and not args.graded:
        source, table = "synthetic", fill_temp(args.companies)
    prepare = time.perf_counter() - t

    import numpy as np  # noqa: F401 - imported before the clock starts, as in the worker
    import sklearn.cluster  # noqa: F401

    phases = {}
    t0 = time.perf_counter()
    ids, raw = clustering.read_features(table)
    phases["read"] = time.perf_counter() - t0
    t = time.perf_counter()
    x, mean, sd = clustering.transform(raw)
    labels, centres, inertia, method = clustering.fit(x, args.k)
    phases["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    clusters = clustering.summarise(raw, labels, centres, mean, sd)
    phases["label"] = time.perf_counter() - t
    t = time.perf_counter()
    from django.db import transaction

    with transaction.atomic():
        clustering.write_labels(ids, labels)
        ClusterRun.objects.create(created_at=timezone.now(), finished_at=timezone.now(), status="done", k=args.k,
                                  method=method, trigger="cli", customers=len(ids), inertia=inertia, clusters=clusters,
                                  phases={k: round(v, 3) for k, v in phases.items()})  # fmt: skip
    phases["write"] = time.perf_counter() - t
    total = time.perf_counter() - t0
    assert CompanyCluster.objects.count() == len(ids)
    result = {
        "benchmark": "clustering", "database": args.database, "source": source, "customers": int(len(ids)),
        "k": args.k, "method": method, "phases_s": {k: round(v, 3) for k, v in phases.items()},
        "total_s": round(total, 3), "target_s": 20, "prepare_s": round(prepare, 3),
        "clusters": [{"label": c["label"], "size": c["size"], "centroid": c["centroid"]} for c in clusters],
        "inertia": round(inertia, 1), "machine": common.machine(),
    }  # fmt: skip
    if not args.no_quality:
        result["quality"] = quality(x, args.k)
    print(json.dumps(result, indent=2, default=str))
    if args.save:
        common.save(f"clustering-{args.database}" + ("-graded" if source == "grades" else ""), result)
    return result


if __name__ == "__main__":
    main()
