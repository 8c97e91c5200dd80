"""Cost per audit event (`python -m tradecrm.audit.bench [N]`): a transaction writing one audit
event, with and without the hash chain's after-commit sealing, on a scratch database (SQLite in a
temporary data dir, or the empty database of DATABASE_URL). Prints JSON."""

import json
import os
import statistics
import sys
import tempfile
import time

os.environ["TRADECRM_DATA_DIR"] = tempfile.mkdtemp()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
import django

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

call_command("migrate", verbosity=0)
from tradecrm.audit import chain  # noqa: E402
from tradecrm.audit.services import audit_record  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000


def run(seal: bool):
    orig = chain.seal_after_commit
    if not seal:
        chain.seal_after_commit = lambda using="default": None
    import tradecrm.audit.services as s

    s.chain.seal_after_commit = chain.seal_after_commit
    times = []
    for i in range(N):
        t = time.perf_counter()
        with transaction.atomic():
            audit_record(
                actor=None,
                action="bench.update",
                object_type="x.thing",
                object_id=i,
                changes={"name": ["a", "b"], "city": ["Boston", "Denver"]},
            )
        times.append(time.perf_counter() - t)
    chain.seal_after_commit = orig
    s.chain.seal_after_commit = orig
    return times


plain = run(False)
chain.seal()
sealed = run(True)
t = time.perf_counter()
v = chain.verify()
vt = time.perf_counter() - t
print(
    json.dumps(
        {
            "db": connection.vendor,
            "events": N,
            "median_ms_without_chain": round(statistics.median(plain) * 1000, 3),
            "median_ms_with_chain": round(statistics.median(sealed) * 1000, 3),
            "p95_ms_with_chain": round(sorted(sealed)[int(N * 0.95)] * 1000, 3),
            "verify_events_per_s": round(v.sealed / vt),
            "verified": v.ok,
            "sealed": v.sealed,
        }
    )
)
