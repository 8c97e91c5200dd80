import json

from django.core.management.base import BaseCommand

from tradecrm.followups.reminders import run_reminders


class Command(BaseCommand):
    help = "Reminders: `reminders run [--json]` runs the reminder scan once and prints what it did."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="run the reminder scan once (the worker runs it every 5 minutes)")
        run.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args, **o):
        result = run_reminders()
        if o["json"]:
            self.stdout.write(json.dumps(result, sort_keys=True))
            return
        skipped = result.pop("skipped")
        seconds = result.pop("seconds")
        for name, count in result.items():
            self.stdout.write(f"{name:28} {count:>9}")
        for name, reason in skipped.items():
            self.stdout.write(f"{name:28} skipped: {reason}")
        self.stdout.write(f"{'seconds':28} {sum(seconds.values()):>9.2f}")
