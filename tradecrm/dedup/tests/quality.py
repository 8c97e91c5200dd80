"""Precision and recall of the duplicate check on the labelled set (data/labelled_companies.txt).

The set is run through the same blocking and scoring as the sweep (`sweep.find_company_pairs`),
so a duplicate that blocking never pairs counts as missed. Two measures:
  * pairs  — the pairs the sweep stores (score ≥ threshold)
  * groups — every pair inside one connected group, as the review page shows them
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

DATA = Path(__file__).parent / "data" / "labelled_companies.txt"
FIELDS = ("name", "name_local", "country", "email", "website", "phones", "tax_id")


HOLDOUT_MARK = "# ===="


def load(path: Path = DATA) -> list[dict]:
    """Records with "id" (1-based line order), "cluster" (the real company) and "holdout" (written
    after the score was tuned)."""
    records: list[dict] = []
    cluster = 0
    in_block = False
    holdout = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            in_block = False
            continue
        if line.startswith(HOLDOUT_MARK):
            holdout = True
        if line.startswith("#"):
            continue
        if not in_block:
            cluster += 1
            in_block = True
        cells = [c.strip() for c in line.split("|")]
        cells += [""] * (len(FIELDS) - len(cells))
        rec = dict(zip(FIELDS, cells, strict=False))
        rec["phones"] = [rec["phones"]] if rec["phones"] else []
        rec["id"] = len(records) + 1
        rec["cluster"] = cluster
        rec["holdout"] = holdout
        records.append(rec)
    return records


def _pr(predicted: set, truth: set) -> dict:
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "true_positives": tp,
        "false_positives": len(predicted - truth),
        "false_negatives": len(truth - predicted),
    }


def evaluate(threshold: float | None = None, *, path: Path = DATA, details: bool = False) -> dict:
    from tradecrm.dedup.keys import company_keys
    from tradecrm.dedup.scoring import company_profile
    from tradecrm.dedup.sweep import default_threshold, find_company_pairs, groups_of

    threshold = default_threshold() if threshold is None else threshold
    records = load(path)
    by_id = {r["id"]: r for r in records}
    profiles = {r["id"]: company_profile(r) for r in records}
    key_rows = [(key, r["id"]) for r in records for _kind, key in company_keys(r)]
    found = find_company_pairs(profiles, key_rows, threshold=threshold)
    truth = {(a["id"], b["id"]) for a, b in combinations(records, 2) if a["cluster"] == b["cluster"]}
    direct = {(a, b) for a, b, _s, _r in found}
    grouped = {pair for g in groups_of(direct) for pair in combinations(g, 2)}
    held = {r["id"] for r in records if r["holdout"]}
    result = {
        "threshold": threshold,
        "records": len(records),
        "clusters": len({r["cluster"] for r in records}),
        "duplicate_pairs": len(truth),
        "pairs": _pr(direct, truth),
        "groups": _pr(grouped, truth),
        "holdout": {
            "records": len(held),
            "pairs": _pr({p for p in direct if p[0] in held}, {p for p in truth if p[0] in held}),
        },
    }
    if details:

        def show(pair):
            a, b = by_id[pair[0]], by_id[pair[1]]
            return f"{a['name'] or a['name_local']} ({a['country']}) ~ {b['name'] or b['name_local']} ({b['country']})"

        scores = {(a, b): (s, r) for a, b, s, r in found}
        result["false_positives"] = [[show(p), scores.get(p, (None,))[0]] for p in sorted(direct - truth)]
        result["false_negatives"] = [show(p) for p in sorted(truth - direct)]
    return result
