"""`tradecrm run`: migrate, collect static files, make sure an admin exists, then serve the web app
with gunicorn and run the huey worker beside it, until Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve TradeCRM (web server + background worker)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("TRADECRM_WEB_WORKERS") or os.cpu_count() or 2),
                            help="web worker processes (default: one per CPU, measured best in decision 0001)")
        parser.add_argument("--no-worker", action="store_true", help="do not start the background worker")
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args, **o):
        from tradecrm.core import crypto

        # encryption at rest needs a key before the first encrypted value (decision 0011)
        if not settings.TRADECRM_ENCRYPTION_KEYS and not crypto.key_file_named_explicitly():
            path, created = crypto.init_key_file()
            if created:
                self.stdout.write(self.style.WARNING(f"Created the encryption key file {path} — back it up "
                                                     "separately from the database."))  # fmt: skip
        if not o["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG and not settings.TESTING:
            call_command("collectstatic", interactive=False, verbosity=0)
        from tradecrm.accounts.bootstrap import ensure_first_admin

        username, password = ensure_first_admin()
        url = f"http://{o['host']}:{o['port']}/"
        self.stdout.write(self.style.SUCCESS(f"TradeCRM is starting at {url}"))
        self.stdout.write(f"  data directory: {settings.DATA_DIR}")
        self.stdout.write(f"  database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
        if password:
            self.stdout.write(self.style.WARNING(f"  sign in as: {username} / {password}"))
            self.stdout.write("  (change this password after signing in; it is shown until you do)")
        else:
            self.stdout.write(f"  sign in as: {username} (password already changed)")
        self.stdout.flush()

        env = dict(os.environ)
        procs: list[subprocess.Popen] = []
        if not o["no_worker"]:
            procs.append(subprocess.Popen([sys.executable, "-m", "tradecrm.cli", "run_huey", "--workers", "1", "--quiet",
                                           "--worker-type", "thread"], env=env))
        procs.append(subprocess.Popen([
            sys.executable, "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"{o['host']}:{o['port']}", "--workers", str(o["workers"]),
            "--worker-class", "sync", "--timeout", "60", "--graceful-timeout", "5",
            "--max-requests", "20000", "--max-requests-jitter", "2000", "--log-level", "warning",
        ], env=env, cwd=str(settings.BASE_DIR)))

        def stop(*_):
            for p in procs:
                if p.poll() is None:
                    p.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        finally:
            stop()
            for p in procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        codes = [p.returncode for p in procs]
        if any(c not in (0, -signal.SIGTERM, None) for c in codes):
            sys.exit(1)
