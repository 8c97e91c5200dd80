"""`tradecrm pool recall [--dry-run] [--json] [--limit N]` and `tradecrm pool warn`."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Public pool: run the recall (or preview it with --dry-run) or send the recall warnings."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["recall", "warn"])
        parser.add_argument("--dry-run", action="store_true", help="Only list what would be recalled.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        parser.add_argument("--limit", type=int, default=None, help="Recall at most N customers.")

    def handle(self, *args, action, dry_run, json: bool, limit, **opts):
        from tradecrm.pool.services import pool_recall_run, pool_warn_run

        # audit events written here carry the default source, "cli"
        if action == "warn":
            n = pool_warn_run()
            self.stdout.write(_dumps({"warnings": n}) if json else f"{n} warning(s) sent")
            return
        run = pool_recall_run(dry_run=dry_run, trigger="cli", limit=limit)
        out = {"run": run.pk, "dry_run": run.dry_run, "status": run.status, "due": run.due, "recalled": run.recalled,
               "skipped": run.skipped, "seconds": run.seconds, "phases": run.phases,
               "rule_versions": {k: v["version"] for k, v in run.rules.items()}}  # fmt: skip
        if dry_run:
            out["preview"] = run.preview[:100]
        if json:
            self.stdout.write(_dumps(out))
            return
        verb = "would be recalled" if dry_run else "recalled"
        self.stdout.write(f"run {run.pk}: {run.due} due, {run.recalled if not dry_run else run.due} {verb}, "
                          f"{run.skipped} skipped, {run.seconds:.2f} s")  # fmt: skip
        if dry_run:
            for p in run.preview[:50]:
                self.stdout.write(f"  #{p['company']} {p['name']}: {p['reason']}")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
