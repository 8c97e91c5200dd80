"""Precision and recall of the duplicate check on the labelled set, as JSON.

    .venv/bin/python bench/dedup_quality.py [--threshold 0.85] [--details] [--sweep 0.7,0.8,0.85,0.9]

Reads tradecrm/dedup/tests/data/labelled_companies.txt (a few hundred company records in clusters
of real duplicates, and look-alikes that are not), runs them through the sweep's blocking and
scoring (no database needed) and prints precision and recall over pairs and over groups.
Targets (issue #5): precision ≥ 0.98 and recall ≥ 0.95 at the default threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--details", action="store_true", help="list the false positives and negatives")
    parser.add_argument("--sweep", default="", help="comma-separated thresholds to compare")
    parser.add_argument("--save", action="store_true", help="write bench/results/dedup-quality.json")
    args = parser.parse_args(argv)
    common.setup_django("sqlite", 1000)  # settings only: the evaluation runs in memory
    from tradecrm.dedup.tests.quality import evaluate

    result = evaluate(args.threshold, details=args.details)
    if args.sweep:
        result["by_threshold"] = {
            t: {k: evaluate(float(t))[k] for k in ("pairs", "groups")} for t in args.sweep.split(",")
        }
    result["machine"] = common.machine()
    if args.save:
        common.save("dedup-quality", result)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
