"""Export throughput and memory: the customer list through the real export path
(`tradecrm.reports.exports.export_prepare(...).write_to(path)`), CSV and XLSX, per persona.

    .venv/bin/python bench/export.py --database sqlite --companies 1000000 --save
    .venv/bin/python bench/export.py --database sqlite --companies 100000 --build   # builds it if missing

Each (format, persona) runs in a fresh child process, so its peak RSS (`ru_maxrss`) is that
export's alone. The personas see different amounts of the same database (admin: everything;
manager: the East team, ~22 %; sales: one rep's ~24k), so equal peaks across them show that memory
does not grow with the list. Prints one JSON document: rows, seconds, rows/s, file size, peak RSS
(`ru_maxrss`, which includes the SQLite database pages mapped in through `mmap_size` — up to 1 GB
by the settings — and its 64 MB page cache), and the process's anonymous memory (`RssAnon`: what
Python holds) after Django setup and at its peak, sampled after every page.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def _rss_mb() -> float:
    # Linux: ru_maxrss in KiB
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def child(database: str, companies: int, fmt: str, persona: str, entity: str) -> dict:
    common.setup_django(database, companies)
    from tradecrm.accounts.models import User
    from tradecrm.reports.exports import export_prepare

    user = User.objects.get(username=common.PERSONAS[persona])
    if not user.can_export:  # the sales persona: allowed, as an administrator would
        User.objects.filter(pk=user.pk).update(can_export=True)
        user.can_export = True
    # warm the imports and the connection outside the measurement
    User.objects.filter(pk=user.pk).exists()
    rss_before = _status_mb("VmRSS")
    anon_before = _status_mb("RssAnon")
    anon_peak = anon_before
    with tempfile.TemporaryDirectory(prefix="tradecrm-bench-export-") as tmp:
        out = Path(tmp) / f"export.{fmt}"
        t0 = time.perf_counter()
        export = export_prepare(actor=user, entity=entity, fmt=fmt, params={}, via="bench")
        pages = export._pages

        def sampled():
            # the process's own (anonymous) memory after every page: what the export holds, as
            # opposed to the SQLite file pages mapped in by mmap_size (file-backed, reclaimable)
            nonlocal anon_peak
            for page in pages():
                yield page
                anon_peak = max(anon_peak, _status_mb("RssAnon"))

        export._pages = sampled
        rows = export.write_to(out)
        seconds = time.perf_counter() - t0
        size = out.stat().st_size
    return {
        "entity": entity,
        "format": fmt,
        "persona": persona,
        "rows": rows,
        "columns": len(export.columns),
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds) if seconds else None,
        "bytes": size,
        "rss_after_setup_mb": rss_before,
        "peak_rss_mb": _rss_mb(),
        "anon_rss_after_setup_mb": anon_before,
        "anon_rss_peak_mb": anon_peak,
    }


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--companies", type=int, default=1_000_000, help="size of the bench database")
    p.add_argument("--formats", default="csv,xlsx")
    p.add_argument("--personas", default="admin,manager,sales")
    p.add_argument("--entities", default="companies", help="comma-separated: companies,contacts")
    p.add_argument("--build", action="store_true", help="build the bench database first if it is missing")
    p.add_argument("--save", action="store_true", help="also write bench/results/export-<db>-<size>.json")
    p.add_argument("--child", nargs=3, metavar=("FORMAT", "PERSONA", "ENTITY"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        fmt, persona, entity = args.child
        print(json.dumps(child(args.database, args.companies, fmt, persona, entity)))
        return {}

    if args.build:
        subprocess.run(
            [sys.executable, str(common.ROOT / "bench" / "load.py"), "--companies", str(args.companies),
             "--database", args.database, "--if-missing", "--quiet"],
            check=True,
        )  # fmt: skip
    runs = []
    for entity in args.entities.split(","):
        for fmt in args.formats.split(","):
            for persona in args.personas.split(","):
                cmd = [sys.executable, __file__, "--database", args.database, "--companies", str(args.companies),
                       "--child", fmt, persona, entity]  # fmt: skip
                out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
                if out.returncode:
                    raise SystemExit(f"{fmt} {persona} {entity} failed:\n{out.stderr}")
                result = json.loads(out.stdout.strip().splitlines()[-1])
                print(json.dumps(result), file=sys.stderr)
                runs.append(result)
    result = {
        "bench": "export",
        "database": args.database,
        "companies": args.companies,
        "machine": common.machine(),
        "runs": runs,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.save:
        common.save(f"export-{args.database}-{common.size_label(args.companies)}", result)
    return result


if __name__ == "__main__":
    main()
