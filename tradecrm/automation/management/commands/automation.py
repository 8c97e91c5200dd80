"""`tradecrm automation dry-run RULE_ID --since DATE`: what the rule would have done since DATE
(JSON, nothing changed). `tradecrm automation run-scheduled`: the due scheduled rules now."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class Command(BaseCommand):
    help = "Automation rules: dry-run RULE_ID --since DATE | run-scheduled | scan-timers"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        dry = sub.add_parser("dry-run", help="What the rule would have done since DATE (nothing changes).")
        dry.add_argument("rule_id", type=int)
        dry.add_argument("--since", required=True, help="YYYY-MM-DD")
        dry.add_argument("--limit", type=int, default=200)
        sub.add_parser("run-scheduled", help="Run the due scheduled rules now.")
        sub.add_parser("scan-timers", help="Fire the timer rules (follow-up overdue, …) now.")

    def handle(self, *args, **opts):
        from tradecrm.automation import engine
        from tradecrm.automation.models import Rule

        if opts["action"] == "dry-run":
            rule = Rule.objects.filter(pk=opts["rule_id"]).first()
            if rule is None:
                raise CommandError(f"There is no rule with id {opts['rule_id']}.")
            try:
                day = dt.date.fromisoformat(opts["since"])
            except ValueError:
                raise CommandError(f"--since: “{opts['since']}” is not a date (YYYY-MM-DD).") from None
            since = timezone.make_aware(dt.datetime.combine(day, dt.time()))
            out = engine.dry_run(rule, since, limit=opts["limit"])
        elif opts["action"] == "run-scheduled":
            out = {"runs": engine.run_due_scheduled()}
        else:
            out = {"fired": engine.scan_timers()}
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2, default=str))
