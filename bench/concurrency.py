"""Concurrency on SQLite with the real server: 20 API clients editing companies while 4 imports run.

    .venv/bin/python bench/concurrency.py [--seconds 60] [--clients 20] [--companies 40] [--rows 20000]

Starts `tradecrm run` (gunicorn sync workers + the huey worker) on a fresh temporary data dir
(SQLite, WAL), creates the users, their API tokens and `--companies` companies, then for
`--seconds`:
- `--clients` threads, each with its own user and token, loop GET /companies/{id} then
  PATCH /companies/{id} with the version read (If-Match) and a value of their own in `city`; the
  companies are few on purpose so that clients collide and get 409s;
- 4 imports of `--rows` companies each: 2 uploaded and started through the API (run by the
  worker, one after the other: it has one thread) and 2 with `tradecrm import` in their own
  processes at the same time.
Then it checks:
- no 5xx, no "database is locked" in any response nor in the server log;
- no lost update: per company, the accepted PATCHes (200) have distinct base versions, and the
  final row holds the value of the accepted write with the highest version;
- every 409 was a real conflict: its base version was consumed by an accepted write of someone else;
- every import accounted for all its rows (created + updated + merged + rejected + unchanged = rows).
Prints JSON (latencies in ms, medians and p95).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(data_dir: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "TRADECRM_DATA_DIR": str(data_dir), "DATABASE_URL": "", "TRADECRM_SQLITE_PATH": str(data_dir / "db.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "config.settings", "TRADECRM_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
    })  # fmt: skip
    # Load the app once in gunicorn's master: on a loaded machine a worker importing Django can
    # overrun `run`'s 60 s worker timeout and be killed in a loop before serving anything.
    env["GUNICORN_CMD_ARGS"] = "--preload"
    env.pop("TRADECRM_TESTING", None)
    env.pop("TRADECRM_REDIS_URL", None)
    return env


def share_static(data_dir: Path) -> None:
    """`tradecrm run` collects the static files into DATA_DIR/staticfiles at every start: point it at
    a cache kept between bench runs so that only the first run pays for the copy."""
    cache = ROOT / "var" / "bench" / "staticfiles"
    cache.mkdir(parents=True, exist_ok=True)
    (data_dir / "staticfiles").symlink_to(cache, target_is_directory=True)


def manage(env, *args, check=True, capture=True):
    return subprocess.run([PY, "-m", "tradecrm.cli", *args], env=env, cwd=ROOT, check=check,
                          capture_output=capture, text=True)  # fmt: skip


SETUP = r"""
import json, sys
from tradecrm.accounts.models import ApiToken, Team, User
from tradecrm.customers.services import company_create
n_clients, n_companies = int(sys.argv[1]), int(sys.argv[2])
team = Team.objects.create(name="Bench")
users = []
for i in range(n_clients + 1):
    u = User(username=f"bench{i}", role="admin", team=team, is_staff=True)
    u.set_password("bench-password-not-secret")
    u.save()
    users.append(u)
tokens = [ApiToken.issue(u, name="bench")[1] for u in users]
ids = [company_create(actor=users[0], data={"name": f"Contested Buyer {i} {w}", "country": "US"}).pk
       for i, w in zip(range(n_companies), ["Ltd", "GmbH", "LLC", "Inc", "SARL"] * 1000)]
print(json.dumps({"tokens": tokens, "companies": ids}))
"""


def write_csv(path: Path, rows: int, tag: str) -> None:
    rng = random.Random(tag)
    words = [
        "Amber",
        "Blue",
        "Cedar",
        "Delta",
        "Eagle",
        "Falcon",
        "Granite",
        "Harbor",
        "Iris",
        "Jade",
        "Kite",
        "Lotus",
        "Maple",
        "Nova",
        "Orchid",
        "Pine",
        "Quartz",
        "River",
        "Summit",
        "Tiger",
        "Umber",
        "Vista",
    ]
    countries = ["US", "DE", "FR", "GB", "BR", "IN", "JP", "AE", "NG", "MX"]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Company name", "Country", "City", "Email"])
        for i in range(rows):
            name = f"{rng.choice(words)} {rng.choice(words)} {tag}{i:06d} {rng.choice(['Trading', 'Imports', 'Co'])}"
            w.writerow([name, rng.choice(countries), "", f"buyer{i}@{tag.lower()}{i}.example"])


class Api:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body=None, headers=None, raw: bytes | None = None, ctype=None):
        h = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        elif raw is not None:
            data, h["Content-Type"] = raw, ctype
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode(errors="replace")
        return status, text, (time.perf_counter() - t0) * 1000


def multipart(fields: dict, file_field: str, filename: str, content: bytes):
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                 f"Content-Type: text/csv\r\n\r\n".encode() + content + b"\r\n")  # fmt: skip
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def wait_up(base: str, proc, log: Path, timeout=1200):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-2000:]}")
        try:  # any HTTP answer will do (401 here); not the OpenAPI file, which is slow to build
            urllib.request.urlopen(base + "/api/v1/companies", timeout=5)
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.5)
    raise SystemExit(f"server did not come up: {log.read_text()[-2000:]}")


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))], 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--companies", type=int, default=40)
    ap.add_argument("--rows", type=int, default=20000, help="rows per import file")
    ap.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    a = ap.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="tcrm-conc-"))
    env = env_for(data_dir)
    share_static(data_dir)
    manage(env, "migrate", "--noinput")
    setup = subprocess.run([PY, "-c", "import django; django.setup()\n" + SETUP, str(a.clients), str(a.companies)],
                           env=env, cwd=ROOT, check=True, capture_output=True, text=True)  # fmt: skip
    world = json.loads(setup.stdout.strip().splitlines()[-1])
    tokens, company_ids = world["tokens"], world["companies"]
    files = []
    for k in range(4):
        p = data_dir / f"import{k}.csv"
        write_csv(p, a.rows, f"IMP{k}")
        files.append(p)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = data_dir / "server.log"
    server = subprocess.Popen([PY, "-m", "tradecrm.cli", "run", "--port", str(port), "--workers", str(a.workers),
                               "--no-migrate"], env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                              start_new_session=True)  # fmt: skip
    result: dict = {"seconds": a.seconds, "clients": a.clients, "companies": a.companies, "rows_per_import": a.rows,
                    "gunicorn_workers": a.workers, "database": "sqlite",
                    "load_average_before": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip
    try:
        wait_up(base, server, log)
        stop = threading.Event()
        lock = threading.Lock()
        accepted: list[tuple[int, int, int, str]] = []  # company, base version, new version, value
        conflicts: list[tuple[int, int]] = []  # company, base version
        errors: list[str] = []
        lat = {"get": [], "patch": []}
        counts = {"get": 0, "patch_200": 0, "patch_409": 0, "other_4xx": 0, "5xx": 0, "locked": 0}

        def client(n: int):
            api = Api(base, tokens[n + 1])
            rng = random.Random(n)
            seq = 0
            while not stop.is_set():
                # half the clients fight over the first 5 companies, the others spread out
                cid = rng.choice(company_ids[:5] if n % 2 == 0 else company_ids)
                s, text, ms = api.call("GET", f"/api/v1/companies/{cid}")
                with lock:
                    counts["get"] += 1
                    lat["get"].append(ms)
                if s != 200:
                    with lock:
                        counts["5xx" if s >= 500 else "other_4xx"] += 1
                        counts["locked"] += "database is locked" in text
                        errors.append(f"GET {cid}: {s} {text[:200]}")
                    continue
                version = json.loads(text)["version"]
                seq += 1
                value = f"c{n}-{seq}"
                s, text, ms = api.call("PATCH", f"/api/v1/companies/{cid}", {"city": value},
                                       headers={"If-Match": str(version)})  # fmt: skip
                with lock:
                    lat["patch"].append(ms)
                    counts["locked"] += "database is locked" in text
                    if s == 200:
                        counts["patch_200"] += 1
                        accepted.append((cid, version, json.loads(text)["version"], value))
                    elif s == 409:
                        counts["patch_409"] += 1
                        conflicts.append((cid, version))
                    else:
                        counts["5xx" if s >= 500 else "other_4xx"] += 1
                        errors.append(f"PATCH {cid}: {s} {text[:200]}")

        imports: dict = {}

        def api_import(k: int):
            api = Api(base, tokens[0])
            body, ctype = multipart({"entity": "companies", "source": "generic"}, "file", files[k].name,
                                    files[k].read_bytes())  # fmt: skip
            t0 = time.time()
            s, text, _ = api.call("POST", "/api/v1/imports", raw=body, ctype=ctype)
            if s != 201:
                imports[f"api{k}"] = {"error": f"upload {s}: {text[:300]}"}
                return
            job = json.loads(text)["id"]
            s, text, _ = api.call("POST", f"/api/v1/imports/{job}/start")
            if s != 202:
                imports[f"api{k}"] = {"error": f"start {s}: {text[:300]}"}
                return
            while True:
                s, text, _ = api.call("GET", f"/api/v1/imports/{job}/progress")
                p = json.loads(text) if s == 200 else {"status": f"http {s}"}
                if p.get("status") in ("done", "failed") or time.time() - t0 > 1800:
                    break
                time.sleep(1)
            imports[f"api{k}"] = {**p, "job_id": job, "seconds": round(time.time() - t0, 1)}

        def cli_import(k: int):
            t0 = time.time()
            r = manage(
                env, "import", str(files[k]), "--entity", "companies", "--json", "--as", "bench0", check=False
            )
            try:
                out = json.loads(r.stdout.strip().splitlines()[-1])
            except Exception:
                out = {"error": (r.stdout + r.stderr)[-500:]}
            out["exit_code"] = r.returncode
            out["locked_lines_in_output"] = [ln[:300] for ln in (r.stdout + r.stderr).splitlines()
                                             if "database is locked" in ln][:3]  # fmt: skip
            imports[f"cli{k}"] = {**out, "wall_seconds": round(time.time() - t0, 1)}

        threads = [threading.Thread(target=client, args=(n,)) for n in range(a.clients)]
        importers = [threading.Thread(target=api_import, args=(0,)), threading.Thread(target=api_import, args=(1,)),
                     threading.Thread(target=cli_import, args=(2,)), threading.Thread(target=cli_import, args=(3,))]  # fmt: skip
        t0 = time.time()
        for t in threads + importers:
            t.start()
        time.sleep(a.seconds)
        stop.set()
        for t in threads:
            t.join()
        edit_seconds = time.time() - t0
        for t in importers:
            t.join()

        # --- checks ---
        final = {}
        api0 = Api(base, tokens[0])
        for cid in company_ids:
            s, text, _ = api0.call("GET", f"/api/v1/companies/{cid}")
            final[cid] = json.loads(text)
        lost, dup_base = [], []
        by_company: dict[int, list] = {}
        for cid, basev, newv, value in accepted:
            by_company.setdefault(cid, []).append((basev, newv, value))
        for cid, writes in by_company.items():
            bases = [w[0] for w in writes]
            if len(bases) != len(set(bases)):
                dup_base.append(cid)
            last = max(writes, key=lambda w: w[1])
            if final[cid]["city"] != last[2] or final[cid]["version"] != last[1]:
                lost.append(
                    {
                        "company": cid,
                        "final": [final[cid]["city"], final[cid]["version"]],
                        "last_accepted": last,
                    }
                )
        consumed = {(cid, b) for cid, b, _n, _v in accepted}
        initial_versions = {cid: 1 for cid in company_ids}
        false_409 = [c for c in conflicts if c not in consumed and c[1] >= initial_versions[c[0]]]
        server_log = log.read_text(errors="replace")
        rows_ok = {}
        for name, imp in imports.items():
            total = sum(imp.get(k, 0) or 0 for k in ("created", "updated", "merged", "rejected", "unchanged"))
            rows_ok[name] = total == a.rows and imp.get("rows_read", a.rows) == a.rows
        result.update({
            "edit_seconds": round(edit_seconds, 1),
            "requests": counts,
            "patches_per_second": round((counts["patch_200"] + counts["patch_409"]) / edit_seconds, 1),
            "latency_ms": {k: {"median": round(statistics.median(v), 1) if v else None, "p95": pct(v, 0.95),
                               "max": round(max(v), 1) if v else None} for k, v in lat.items()},  # fmt: skip
            "lost_updates": len(lost),
            "lost_update_examples": lost[:5],
            "duplicate_base_versions": len(dup_base),
            "conflicts_409": len(conflicts),
            "false_conflicts": len(false_409),
            "database_locked_in_responses": counts["locked"],
            "database_locked_in_server_log": server_log.count("database is locked"),
            "server_log_errors": server_log.count("Traceback"),
            "imports": imports,
            "imports_all_rows_accounted": rows_ok,
            "error_examples": errors[:5],
        })  # fmt: skip
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        except Exception:
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:  # the server had already exited (its log is in the error)
                pass
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        if not a.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            result["data_dir"] = str(data_dir)
    ok = (result.get("lost_updates") == 0 and result.get("false_conflicts") == 0
          and result.get("requests", {}).get("5xx") == 0 and result.get("database_locked_in_responses") == 0
          and result.get("database_locked_in_server_log") == 0
          and not any(i.get("locked_lines_in_output") for i in result.get("imports", {}).values()) and all(result.get("imports_all_rows_accounted", {0: 0}).values()))  # fmt: skip
    result["ok"] = ok
    print(json.dumps(result, indent=2, default=str))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
