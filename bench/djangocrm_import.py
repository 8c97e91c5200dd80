"""The peer: import the same 100,000-company file through django-crm 0.9.0's own import path.

    .venv/bin/python bench/djangocrm_import.py [--rows N] [--database sqlite|postgres] [--save]

What django-crm 0.9.0 on PyPI is: MicroPyramid's "Django-CRM" (BottleCRM's predecessor), an API-only
Django 3 / DRF project; the wheel declares no dependencies and ships top-level packages `crm`,
`common`, `accounts`, `leads`… It has no import for companies ("Accounts"): its only file import
is the leads CSV upload, `POST /api/leads/upload/` (`leads.api_views.LeadUploadView`): the form
`leads.forms.LeadListForm` reads the CSV (decoded as ISO-8859-1, fixed lower-case headers, only
`title` required), then the Celery task `leads.tasks.create_lead_from_file` creates one `Lead` per
row with `lead.save()` — skipping, silently, a row whose `title` already exists (a query per row
on an unindexed column) or whose `email` does not match its regex. A lead carries the company
(`account_name`, `website`, address) and one person: that is where a user of django-crm puts a
trade-show list of companies.

What this script does (all of it under var/bench/, git-ignored, never a project dependency):
1. creates the virtualenv var/bench/djangocrm-venv (if missing) with `python -m venv` and
   `pip install django-crm==0.9.0` plus the pinned libraries its code imports (PEERS_PINS below;
   the wheel lists none), Python = the interpreter running this script;
2. writes the peer's input from bench/import_files.py's `companies-100k.csv` (the same 100,000
   rows): its fixed columns `title, account_name, first name, last name, email, phone, address,
   city, country, website, description` — Company Name → title and account_name, Contact Person →
   first/last name, E-mail (else Contact Email) → email, first number of Tel → phone, Country →
   ISO code (its column takes 3 characters), Main Products + Remarks → description; UTF-8;
3. runs itself inside that virtualenv (`--inner`): Django settings = the package's `crm.settings`
   with the database switched to a fresh SQLite file (or a fresh PostgreSQL database), `migrate`,
   one ADMIN user, Celery's app set to run tasks eagerly (in process, as a worker would run them);
   then ONE timed request through DRF's test client, authenticated as that user:
   `POST /api/leads/upload/` with the file — the view, the form, and the task creating the leads;
4. reports rows/s, leads created, rows skipped, names stored garbled (the ISO-8859-1 decoding),
   peak RSS of the inner process (os.wait4) — JSON on stdout, `--save` → bench/results/djangocrm.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
BENCH_DIR = HERE.parent.parent / "var" / "bench"
VENV = BENCH_DIR / "djangocrm-venv"
WORK = BENCH_DIR / "djangocrm"
if "--inner" in sys.argv:
    # django-crm has a top-level package `common`, and so has bench/ (common.py): keep bench/ off the path
    sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE.parent]
else:
    sys.path.insert(0, str(HERE.parent))
    import common  # noqa: E402
PEER = "django-crm==0.9.0"
# what django-crm 0.9.0's modules import, at versions of its time that run on Python 3.11
PEERS_PINS = (
    "Django==3.2.25",
    "djangorestframework==3.12.4",
    "drf-yasg==1.20.0",
    "djangorestframework-jwt==1.11.0",
    "PyJWT==1.7.1",
    "django-phonenumber-field==5.2.0",
    "phonenumbers==8.13.55",
    "arrow==1.3.0",
    "celery==5.2.7",
    "python-dotenv==1.0.1",
    "django-cors-headers==3.13.0",
    "six==1.16.0",
    "pytz==2024.1",
    "django-settings-export==1.2.1",
    "psycopg2-binary==2.9.10",
)
PEER_COLUMNS = (
    "title",
    "account_name",
    "first name",
    "last name",
    "email",
    "phone",
    "address",
    "city",
    "country",
    "website",
    "description",
)


# --- outer side (any Python 3.11) ------------------------------------------------------------------


def ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    marker = VENV / "bench-pins.txt"
    wanted = "\n".join((PEER, *PEERS_PINS)) + "\n"
    if py.exists() and marker.exists() and marker.read_text() == wanted:
        return py
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PEER, *PEERS_PINS],
        check=True,
    )
    marker.write_text(wanted)
    return py


def _country_code(text: str, table: dict[str, str]) -> str:
    return table.get(text.strip().casefold(), "")


def write_peer_file(src: Path, dest: Path, rows: int | None, encoding: str) -> dict:
    """`encoding`: "utf-8" (the file as users have it) or "latin-1" (characters outside ISO-8859-1
    replaced by "?": the only way its ISO-8859-1 reader takes the file without breaking rows)."""
    import import_files

    table = import_files.country_code_table()
    n = 0
    with (
        open(src, encoding="utf-8-sig", newline="") as f,
        open(dest, "w", encoding=encoding, errors="replace", newline="") as out,
    ):
        r = csv.DictReader(f)
        w = csv.writer(out, lineterminator="\r\n")
        w.writerow(PEER_COLUMNS)
        for row in r:
            if rows is not None and n >= rows:
                break
            first, _, last = row["Contact Person"].strip().partition(" ")
            desc = "; ".join(x for x in (row["Main Products"], row["Remarks"]) if x)
            w.writerow(
                (
                    row["Company Name"],
                    row["Company Name"],
                    first,
                    last,
                    row["E-mail"] or row["Contact Email"],
                    row["Tel"].split(";")[0].strip(),
                    row["Address"],
                    row["City"],
                    _country_code(row["Country"], table),
                    row["Website"],
                    desc,
                )
            )
            n += 1
    return {"rows": n, "path": str(dest), "bytes": dest.stat().st_size, "encoding": encoding}


def run_peer(py: Path, peer_file: Path, database: str, rows: int, encoding: str) -> dict:
    """Run the inner side in the peer's virtualenv; peak RSS from os.wait4 on that process."""
    WORK.mkdir(parents=True, exist_ok=True)
    out_path = WORK / "inner.json"
    out_path.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "TRADECRM_"))}
    env["PYTHONPATH"] = ""
    with open(WORK / "inner.log", "w") as log:
        t = time.perf_counter()
        p = subprocess.Popen(
            [
                str(py),
                str(HERE),
                "--inner",
                "--file",
                str(peer_file),
                "--database",
                database,
                "--rows",
                str(rows),
                "--out",
                str(out_path),
                "--encoding",
                encoding,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=WORK,
            env=env,
        )
        _pid, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0 or not out_path.exists():
        tail = (WORK / "inner.log").read_text()[-3000:]
        raise SystemExit(f"django-crm run failed (exit {os.waitstatus_to_exitcode(status)}):\n{tail}")
    result = json.loads(out_path.read_text())
    result["process_wall_s"] = round(wall, 2)
    result["peak_rss_mb"] = round(ru.ru_maxrss / 1024, 1)
    return result


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000, help="first N rows of the 100k file")
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument(
        "--encoding",
        choices=("utf-8", "latin-1"),
        action="append",
        help="peer file encoding(s) to run; default both: utf-8 as users have it, latin-1 as the peer reads it",
    )
    p.add_argument("--save", action="store_true")
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner:
        return inner(args)
    import import_files

    src = import_files.ensure("csv-100k")
    py = ensure_venv()
    WORK.mkdir(parents=True, exist_ok=True)
    runs = {}
    for encoding in args.encoding or ("utf-8", "latin-1"):
        peer_file = WORK / f"leads-{common.size_label(args.rows)}-{encoding}.csv"
        prepared = write_peer_file(src, peer_file, args.rows, encoding)
        print(f"django-crm: {args.rows:,} rows, {encoding} file …", file=sys.stderr)
        runs[encoding] = {
            "peer_file": prepared,
            **run_peer(py, peer_file, args.database, args.rows, encoding),
        }
    versions = subprocess.run(
        [str(py), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
    )
    pkgs = {d["name"].lower(): d["version"] for d in json.loads(versions.stdout or "[]")}
    result = {
        "benchmark": "djangocrm_import",
        "peer": PEER,
        "what": "POST /api/leads/upload/ (LeadUploadView → LeadListForm → create_lead_from_file, "
        "Celery eager), DRF test client, one request",
        "database": args.database,
        "source_file": str(src),
        "runs": runs,
        "peer_versions": {k: pkgs.get(k) for k in ("django-crm", "django", "djangorestframework", "celery")},
        "peer_python": subprocess.run([str(py), "-V"], capture_output=True, text=True).stdout.strip(),
        "machine": common.machine(),
    }
    if args.save:
        common.save(f"djangocrm-{args.database}-{common.size_label(args.rows)}", result)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


# --- inner side (runs in the peer's virtualenv) ------------------------------------------------------


def inner(args) -> dict:
    import importlib
    import resource

    import django
    from django.conf import settings

    base = importlib.import_module("crm.settings")
    conf = {k: getattr(base, k) for k in dir(base) if k.isupper()}
    # django_ses is only its production mail backend (boto3); nothing in the import path uses it
    conf["INSTALLED_APPS"] = [a for a in conf["INSTALLED_APPS"] if a != "django_ses"]
    conf["DEBUG"] = False
    conf["LOGGING"] = {"version": 1, "disable_existing_loggers": False}
    conf["ALLOWED_HOSTS"] = ["testserver", "localhost", "127.0.0.1"]
    conf["DATA_UPLOAD_MAX_MEMORY_SIZE"] = None
    conf["MEDIA_ROOT"] = str(WORK / "media")
    if args.database == "sqlite":
        db = WORK / "peer.sqlite3"
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        conf["DATABASES"] = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(db)}}
    else:
        name = "djangocrm_bench"
        for cmd in (
            ["dropdb", "--if-exists", "--force", name],
            ["createdb", "-E", "UTF8", "-T", "template0", name],
        ):
            subprocess.run([*cmd[:1], "-h", "127.0.0.1", "-U", "postgres", *cmd[1:]], check=True)
        conf["DATABASES"] = {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": name,
                "USER": "postgres",
                "HOST": "127.0.0.1",
                "PORT": "5432",
            }
        }
    settings.configure(**conf)
    django.setup()
    from django.core.management import call_command

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - t

    from celery.signals import task_failure
    from common.models import User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from leads import tasks as lead_tasks
    from leads.models import Lead
    from rest_framework.test import APIClient

    lead_tasks.app.conf.task_always_eager = True  # the worker's work, in this process
    task_errors: list[str] = []  # a worker would log these; the API has already answered 200

    @task_failure.connect
    def _failed(sender=None, exception=None, **_kw):
        task_errors.append(f"{type(exception).__name__}: {exception}")

    user = User.objects.create(username="bench", email="bench@example.com", role="ADMIN", is_superuser=True)
    client = APIClient()
    client.force_authenticate(user=user)  # its JWT authentication, skipped: one request
    data = Path(args.file).read_bytes()
    upload = SimpleUploadedFile("leads.csv", data, content_type="text/csv")

    t = time.perf_counter()
    cpu0 = time.process_time()
    response = client.post("/api/leads/upload/", {"leads_file": upload}, format="multipart")
    seconds = time.perf_counter() - t
    cpu = time.process_time() - cpu0

    created = Lead.objects.count()
    with open(args.file, encoding=args.encoding[0], newline="") as f:
        titles = [row["title"] for row in csv.DictReader(f)]
    stored = set(Lead.objects.values_list("title", flat=True))
    intact = sum(1 for t_ in set(titles) if t_[:64] in stored)
    non_latin1 = {t_ for t_ in titles if not all(ord(c) < 256 for c in t_)}
    result = {
        "rows_in_file": len(titles),
        "distinct_titles": len(set(titles)),
        "http_status": response.status_code,
        "response": response.json() if response.status_code < 500 else response.content[:500].decode(),
        "seconds": round(seconds, 2),
        "cpu_s": round(cpu, 2),
        "rows_per_s": round(len(titles) / seconds, 1),  # rows in the file ÷ time, imported or not
        "leads_created_per_s": round(created / seconds, 1),
        "task_errors": task_errors,
        "leads_created": created,
        "rows_not_imported": len(titles) - created,
        "titles_stored_intact": intact,
        "titles_non_latin1_in_file": len(non_latin1),
        "titles_non_latin1_stored_intact": sum(1 for t_ in non_latin1 if t_[:64] in stored),
        "titles_with_chars_replaced_by_question_mark": sum(1 for t_ in titles if "?" in t_),
        "migrate_s": round(migrate_s, 1),
        "inner_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": sys.version.split()[0],
        "django": django.get_version(),
    }
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
