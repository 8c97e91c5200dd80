"""Crash bench: SIGKILL the server, the worker and a pool recall in the middle of a big import.

    .venv/bin/python bench/crash.py [--rows 200000] [--due 30000] [--kill-at 0.25]

On a fresh temporary data dir (SQLite, WAL):
1. creates an admin, 4 sales reps and `--due` customers owned by them, untouched for 200 days, and
   a catch-all pool with the default rules (so every one of them is due for recall);
2. starts `tradecrm run` (gunicorn + huey worker) and uploads and starts an import of `--rows`
   companies through the API (the worker runs it), and `tradecrm pool recall` in its own process;
3. when the import has committed `--kill-at` of its rows and the recall has moved at least one
   chunk, SIGKILLs every process of both (their whole process groups), mid-transaction;
4. checks the database file: `PRAGMA integrity_check` and `PRAGMA foreign_key_check`, and that no
   customer is half-moved (owner cleared ⇔ pool entry ⇔ recall move ⇔ audit event);
5. restarts the server: the worker's watchdog (imports.tasks.requeue_stalled_imports, every minute)
   queues the interrupted job again once its last chunk is older than STALLED_AFTER, and the run
   goes on after its last committed chunk; measures how long that takes, then checks that every
   row is accounted for exactly once (contiguous chunks, created ids = created count);
6. runs the recall again (it closes the interrupted run and moves the rest) and checks the pool
   once more: every due customer moved exactly once.
Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from concurrency import ROOT, Api, env_for, free_port, manage, multipart, share_static, wait_up, write_csv  # noqa: E402

PY = sys.executable

SETUP = r"""
import datetime as dt, json, sys
from django.utils import timezone
from tradecrm.accounts.models import ApiToken, Team, User
from tradecrm.customers.models import Company
from tradecrm.pool.models import Pool, PoolEntry, PoolMove
from tradecrm.pool.rules import DEFAULT_RULES
from tradecrm.audit.models import AuditEvent
due = int(sys.argv[1])
team = Team.objects.create(name="Field")
admin = User(username="crash.admin", role="admin", is_staff=True)
admin.set_password("bench-password-not-secret"); admin.save()
reps = []
for i in range(4):
    u = User(username=f"crash.rep{i}", role="sales", team=team)
    u.set_password("bench-password-not-secret"); u.save(); reps.append(u)
Pool.objects.create(name="Everyone", rules=dict(DEFAULT_RULES))
batch = [Company(name=f"Due Customer {i:06d}", country="US", owner=reps[i % 4], team=team) for i in range(due)]
Company.objects.bulk_create(batch, batch_size=2000)
Company.objects.filter(name__startswith="Due Customer").update(created_at=timezone.now() - dt.timedelta(days=200))
print(json.dumps({"token": ApiToken.issue(admin, name="crash")[1],
                  "tables": {"company": Company._meta.db_table, "entry": PoolEntry._meta.db_table,
                             "move": PoolMove._meta.db_table, "audit": AuditEvent._meta.db_table}}))
"""


def sql(db: Path, query: str, args=()):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def pool_state(db: Path, t: dict) -> dict:
    """Per due customer: owner cleared, pool entry, recall move(s), recall audit event(s)."""
    rows = sql(db, f"""
        SELECT c.id, c.owner_id IS NULL,
               (SELECT COUNT(*) FROM {t['entry']} e WHERE e.company_id = c.id),
               (SELECT COUNT(*) FROM {t['move']} m WHERE m.company_id = c.id AND m.kind = 'recall'),
               (SELECT COUNT(*) FROM {t['audit']} a WHERE a.object_id = c.id AND a.action = 'pool.recall'
                                                   AND a.object_type = 'customers.company')
        FROM {t['company']} c WHERE c.name LIKE 'Due Customer %'""")  # fmt: skip
    moved = untouched = half = twice = 0
    examples = []
    for cid, no_owner, entries, moves, events in rows:
        if no_owner and entries == 1 and moves == 1 and events == 1:
            moved += 1
        elif not no_owner and entries == 0 and moves == 0 and events == 0:
            untouched += 1
        else:
            half += 1
            twice += moves > 1
            if len(examples) < 5:
                examples.append({"company": cid, "owner_cleared": bool(no_owner), "entries": entries,
                                 "moves": moves, "audit_events": events})  # fmt: skip
    return {"customers": len(rows), "moved": moved, "untouched": untouched, "half_moved": half,
            "moved_twice": twice, "examples": examples}  # fmt: skip


def job_state(db: Path, job_id: int) -> dict:
    cols = ("status", "rows_done", "total_rows", "rows_read", "created", "updated", "merged", "rejected",
            "unchanged", "error")  # fmt: skip
    row = sql(db, f"SELECT {', '.join(cols)} FROM imports_importjob WHERE id = ?", (job_id,))[0]
    return dict(zip(cols, row, strict=True))


def chunks_check(db: Path, job_id: int) -> dict:
    chunks = sql(db, "SELECT seq, first_row, last_row, created_ranges FROM imports_importchunk WHERE job_id = ? "
                     "ORDER BY seq", (job_id,))  # fmt: skip
    gaps_or_overlaps = 0
    created_ids = 0
    for prev, cur in zip(chunks, chunks[1:], strict=False):
        if cur[0] != prev[0] + 1 or cur[1] != prev[2] + 1:
            gaps_or_overlaps += 1
    for c in chunks:
        for ranges in json.loads(c[3] or "{}").values():
            created_ids += sum(b - a + 1 for a, b in ranges)
    return {"chunks": len(chunks), "gaps_or_overlaps": gaps_or_overlaps, "created_ids_in_chunks": created_ids,
            "first_row": chunks[0][1] if chunks else None, "last_row": chunks[-1][2] if chunks else None}  # fmt: skip


def integrity(db: Path) -> dict:
    con = sqlite3.connect(str(db), timeout=60)  # read-write: replays the WAL like the next server start would
    try:
        ic = [r[0] for r in con.execute("PRAGMA integrity_check").fetchall()]
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        con.close()
    return {"integrity_check": ic[0] if len(ic) == 1 else ic[:10], "foreign_key_violations": len(fk)}


def start_server(env, port, log: Path):
    return subprocess.Popen([PY, "-m", "tradecrm.cli", "run", "--port", str(port), "--workers", "2", "--no-migrate"],
                            env=env, cwd=ROOT, stdout=log.open("a"), stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip


def kill_group(proc, sig=signal.SIGKILL):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--due", type=int, default=30_000)
    ap.add_argument("--kill-at", type=float, default=0.25, help="fraction of the import committed before the kill")
    ap.add_argument("--resume-timeout", type=float, default=600)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="tcrm-crash-"))
    env = env_for(data_dir)
    share_static(data_dir)
    db = data_dir / "db.sqlite3"
    result: dict = {"rows": a.rows, "due_customers": a.due, "database": "sqlite"}
    server = recall = None
    try:
        t = time.time()
        manage(env, "migrate", "--noinput")
        out = subprocess.run([PY, "-c", "import django; django.setup()\n" + SETUP, str(a.due)], env=env, cwd=ROOT,
                             check=True, capture_output=True, text=True)  # fmt: skip
        world = json.loads(out.stdout.strip().splitlines()[-1])
        tables, token = world["tables"], world["token"]
        csv_path = data_dir / "big.csv"
        write_csv(csv_path, a.rows, "CRASH")
        result["setup_seconds"] = round(time.time() - t, 1)

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = data_dir / "server.log"
        server = start_server(env, port, log)
        wait_up(base, server, log)
        api = Api(base, token)
        body, ctype = multipart({"entity": "companies", "source": "generic"}, "file", csv_path.name,
                                csv_path.read_bytes())  # fmt: skip
        s, text, ms = api.call("POST", "/api/v1/imports", raw=body, ctype=ctype)
        assert s == 201, f"upload: {s} {text[:500]}"
        job_id = json.loads(text)["id"]
        result["upload_ms"] = round(ms)
        s, text, _ = api.call("POST", f"/api/v1/imports/{job_id}/start")
        assert s == 202, f"start: {s} {text[:500]}"
        started = time.time()
        recall = subprocess.Popen([PY, "-m", "tradecrm.cli", "pool", "recall", "--json"], env=env, cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip

        # --- wait for the middle of both, then kill -9 everything ---
        while True:
            job = job_state(db, job_id)
            moves = sql(db, f"SELECT COUNT(*) FROM {tables['move']} WHERE kind = 'recall'")[0][0]
            import_mid = job["rows_done"] >= a.kill_at * a.rows or job["status"] in ("done", "failed")
            recall_mid = moves > 0 or recall.poll() is not None
            if import_mid and recall_mid:
                break
            if time.time() - started > 900:
                raise SystemExit(f"neither got going: {job} moves={moves}")
            time.sleep(0.05)
        kill_group(server)
        recall_finished_before_kill = recall.poll() is not None
        kill_group(recall)
        killed_at = time.time()
        result["killed_after_seconds"] = round(killed_at - started, 1)
        result["recall_finished_before_kill"] = recall_finished_before_kill
        at_kill = job_state(db, job_id)
        result["import_at_kill"] = {k: at_kill[k] for k in ("status", "rows_done", "total_rows", "created")}

        # --- the file after the crash ---
        result["after_crash"] = integrity(db)
        result["pool_after_crash"] = pool_state(db, tables)

        # --- restart: the interrupted import resumes ---
        t_restart = time.time()
        server = start_server(env, port, log)
        wait_up(base, server, log)
        resumed_at = None
        while time.time() - t_restart < a.resume_timeout:
            job = job_state(db, job_id)
            if resumed_at is None and job["rows_done"] > at_kill["rows_done"]:
                resumed_at = time.time()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(1)
        done_at = time.time()
        job = job_state(db, job_id)
        accounted = sum(job[k] or 0 for k in ("created", "updated", "merged", "rejected", "unchanged"))
        result["import_after_restart"] = {
            **job,
            "resume_started_after_restart_s": round(resumed_at - t_restart, 1) if resumed_at else None,
            "finished_after_restart_s": round(done_at - t_restart, 1),
            "rows_accounted": accounted,
            "all_rows_accounted_once": accounted == a.rows and job["rows_done"] == a.rows,
            **chunks_check(db, job_id),
        }
        crash_rows = sql(db, f"SELECT COUNT(*) FROM {tables['company']} WHERE name LIKE '% CRASH%'")[0][0]
        result["import_after_restart"]["companies_in_table"] = crash_rows
        kill_group(server, signal.SIGTERM)
        server = None

        # --- the recall again: closes the interrupted run, moves the rest ---
        r = manage(env, "pool", "recall", "--json", check=False)
        try:
            result["recall_rerun"] = json.loads(r.stdout.strip().splitlines()[-1])
        except Exception:
            result["recall_rerun"] = {"error": (r.stdout + r.stderr)[-800:]}
        result["pool_after_rerun"] = pool_state(db, tables)
        result["runs"] = [dict(zip(("id", "status", "recalled", "error"), row, strict=True)) for row in
                          sql(db, "SELECT id, status, recalled, error FROM pool_recallrun ORDER BY id")]  # fmt: skip
        result["final"] = integrity(db)
        result["server_log_tracebacks"] = log.read_text(errors="replace").count("Traceback")
    finally:
        for p in (server, recall):
            if p is not None and p.poll() is None:
                kill_group(p)
        if a.keep:
            result["data_dir"] = str(data_dir)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    ok = (result.get("after_crash", {}).get("integrity_check") == "ok" and result.get("final", {}).get("integrity_check") == "ok"
          and result.get("pool_after_crash", {}).get("half_moved") == 0
          and result.get("pool_after_rerun", {}).get("half_moved") == 0
          and result.get("pool_after_rerun", {}).get("moved") == a.due
          and result.get("import_after_restart", {}).get("all_rows_accounted_once") is True
          and result.get("import_after_restart", {}).get("gaps_or_overlaps") == 0)  # fmt: skip
    result["ok"] = ok
    print(json.dumps(result, indent=2, default=str))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
