"""HTTP throughput and latency of the real server on a bench database, measured with wrk.

    .venv/bin/python bench/web.py --database sqlite --companies 1000000
    .venv/bin/python bench/web.py --database sqlite --server gunicorn --workers 2,3,4

For each server configuration it starts `tradecrm run --no-worker` (gunicorn, sync workers) or
granian (WSGI, when installed) on 127.0.0.1, then runs wrk for a bounded time against:
  list_api      GET /api/v1/companies?country=..&limit=50   (Bearer token)
  list_page     GET /customers/?country=..                    (session cookie)
  detail_page   GET /customers/<id>/                          (session cookie)
  detail_api    GET /api/v1/companies/<id>                    (Bearer token)
Separately, in process with Django's test client, it counts the SQL queries of each request and
times it (the server-side time without HTTP). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

EXTRA = common.BENCH_DIR / "extra"  # tools measured but not depended on (granian)
COUNTRIES = ("DE", "US", "MX", "AE", "FR", "BR", "MY", "GB", "VN", "ES")
TARGETS = {
    "list_api": {"rps": 1000, "p99_ms": 50, "queries": 10},
    "list_page": {"rps": 1000, "p99_ms": 50, "queries": 10},
    "detail_page": {"queries": 8, "server_ms": 15},
    "detail_api": {"queries": 8, "server_ms": 15},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(persona: str, n_ids: int, seed: int) -> dict:
    """A token and a session for the persona, and paths of customers it may see."""
    from django.test import Client

    from tradecrm.accounts.models import ApiToken, User
    from tradecrm.customers.selectors import CompanyFilters, company_list

    user = User.objects.get(username=common.PERSONAS[persona])
    _tok, raw = ApiToken.issue(user, name="bench")
    client = Client()
    client.force_login(user)
    rnd = random.Random(seed)
    ids = []
    for country in COUNTRIES:
        rows, _n, _p = company_list(user, CompanyFilters(country=country), limit=50)
        ids += [r["id"] for r in rows]
    rnd.shuffle(ids)
    return {"user": user, "token": raw, "cookie": client.cookies["sessionid"].value, "ids": ids[:n_ids]}


def endpoints(ctx: dict) -> dict[str, list[str]]:
    return {
        "list_api": [f"/api/v1/companies?country={c}&limit=50" for c in COUNTRIES],
        "list_page": [f"/customers/?country={c}" for c in COUNTRIES],
        "detail_page": [f"/customers/{i}/" for i in ctx["ids"]],
        "detail_api": [f"/api/v1/companies/{i}" for i in ctx["ids"]],
    }


def headers_for(name: str, ctx: dict) -> dict[str, str]:
    if name.endswith("_api"):
        return {"Authorization": f"Bearer {ctx['token']}"}
    return {"Cookie": f"sessionid={ctx['cookie']}"}


def in_process(ctx: dict, paths: dict[str, list[str]], rounds: int) -> dict:
    """Queries per request and server-side time, through Django's test client (no HTTP)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out = {}
    for name, urls in paths.items():
        client = Client(headers=headers_for(name, ctx)) if name.endswith("_api") else Client()
        if not name.endswith("_api"):
            client.cookies["sessionid"] = ctx["cookie"]
        for url in urls[:3]:  # warm
            client.get(url)
        times, queries, statuses, sizes = [], [], set(), []
        for _ in range(rounds):
            for url in urls[:10]:
                with CaptureQueriesContext(connection) as cq:
                    t = time.perf_counter()
                    resp = client.get(url)
                    times.append((time.perf_counter() - t) * 1000)
                queries.append(len(cq.captured_queries))
                statuses.add(resp.status_code)
                sizes.append(len(resp.content))
        sample = None
        with CaptureQueriesContext(connection) as cq:
            client.get(urls[0])
        sample = [q["sql"][:300] for q in cq.captured_queries]
        out[name] = {
            "queries_max": max(queries),
            "queries_median": statistics.median(queries),
            "server_ms_p50": round(statistics.median(times), 2),
            "server_ms_p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 2),
            "statuses": sorted(statuses),
            "bytes_median": int(statistics.median(sizes)),
            "sql": sample,
        }
    return out


def write_lua(name: str, urls: list[str], headers: dict[str, str]) -> Path:
    path = common.BENCH_DIR / f"wrk-{name}.lua"
    lines = ["local paths = {" + ",".join(json.dumps(u) for u in urls) + "}", "local i = 0"]
    for k, v in headers.items():
        lines.append(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}")
    lines += ["request = function()", "  i = i % #paths + 1", "  return wrk.format(nil, paths[i])", "end"]
    path.write_text("\n".join(lines) + "\n")
    return path


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    return round(float(m.group(1)) * _UNITS[m.group(2)], 2) if m else float("nan")


def run_wrk(url: str, lua: Path, seconds: int, connections: int, threads: int) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(lua), url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    res = {"connections": connections}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = round(float(m.group(1))) if m else 0
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        res[f"p{pct}_ms"] = _ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    if m:
        res["socket_errors"] = m.group(1)
    return res


def check_endpoint(port: int, url: str, headers: dict[str, str]) -> None:
    """The server must answer 200 itself: a redirect to the sign-in page would look fast to wrk."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", url, headers=headers)
    status = conn.getresponse().status
    conn.close()
    if status != 200:
        raise SystemExit(f"{url} answered {status}, not 200")


def start_server(kind: str, workers: int, port: int, env: dict) -> subprocess.Popen:
    py = sys.executable
    if kind == "gunicorn":  # the real entry point
        cmd = [
            str(Path(py).parent / "tradecrm"),
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-worker",
            "--no-migrate",
        ]
    elif kind == "granian":  # not a dependency: pip install --target var/bench/extra granian
        env = {**env, "PYTHONPATH": str(EXTRA)}
        cmd = [
            py,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            "1",
            "--runtime-mode",
            "st",
            "--log-level",
            "warning",
            "config.wsgi:application",
        ]
    else:
        raise SystemExit(f"unknown server {kind}")
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=common.ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                time.sleep(1.0)  # let every worker finish booting
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}") from None
            time.sleep(0.3)
    stop_server(proc)
    raise SystemExit("server did not start in 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run(args) -> dict:
    if args.settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = args.settings
    common.setup_django(args.database, args.companies)
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    ctx = prepare(args.persona, 200, args.seed)
    paths = endpoints(ctx)
    if args.only:
        paths = {k: v for k, v in paths.items() if k in args.only.split(",")}
    result = {
        "benchmark": "http",
        "database": args.database,
        "companies": args.companies,
        "persona": args.persona,
        "settings": args.settings or "config.settings",
        "wrk": {"seconds": args.seconds, "threads": args.threads},
        "in_process": in_process(ctx, paths, args.rounds),
        "servers": [],
        "targets": TARGETS,
        "machine": common.machine(),
    }
    from django.db import connections

    connections.close_all()
    env = {**os.environ, **common.db_env(args.database, args.companies)}
    for kind in args.server.split(","):
        if kind == "granian" and not (EXTRA / "granian").is_dir():
            result["servers"].append({"server": "granian", "skipped": "not installed"})
            continue
        for workers in [int(w) for w in args.workers.split(",")]:
            port = free_port()
            proc = start_server(kind, workers, port, env)
            entry = {"server": kind, "workers": workers, "endpoints": {}}
            try:
                for name, urls in paths.items():
                    check_endpoint(port, urls[0], headers_for(name, ctx))
                    lua = write_lua(name, urls, headers_for(name, ctx))
                    conns = args.connections or max(4, workers * 2)
                    run_wrk(f"http://127.0.0.1:{port}", lua, 2, conns, args.threads)  # warm every worker
                    entry["endpoints"][name] = run_wrk(
                        f"http://127.0.0.1:{port}", lua, args.seconds, conns, args.threads
                    )
            finally:
                stop_server(proc)
            result["servers"].append(entry)
            print(json.dumps(entry), file=sys.stderr)
    best = {}
    for name in paths:
        cands = [
            (s["endpoints"][name]["rps"], s["server"], s["workers"])
            for s in result["servers"]
            if "endpoints" in s
        ]
        if cands:
            rps, server, workers = max(cands)
            best[name] = {"server": server, "workers": workers, "rps": rps}
    result["best"] = best
    return result


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--companies", type=int, default=1_000_000)
    p.add_argument("--server", default="gunicorn", help="comma-separated: gunicorn,granian")
    p.add_argument("--workers", default="2,4", help="comma-separated worker counts")
    p.add_argument("--connections", type=int, default=0, help="wrk connections (default: 2 per worker)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--rounds", type=int, default=5, help="in-process rounds for query counts and server time")
    p.add_argument("--persona", choices=tuple(common.PERSONAS), default="admin")
    p.add_argument(
        "--settings", default="", help="Django settings module for the server (default: config.settings)"
    )
    p.add_argument("--only", default="", help="comma-separated endpoints (default: all)")
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--save", action="store_true")
    args = p.parse_args(argv)
    result = run(args)
    if args.save:
        tag = "-" + args.settings.rsplit(".", 1)[-1].removeprefix("settings_") if args.settings else ""
        common.save(f"http-{args.database}-{common.size_label(args.companies)}-{args.persona}{tag}", result)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
