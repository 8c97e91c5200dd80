"""`tradecrm customs_alerts [--company ID …] [--json]`: run the customs alert scan now (it also runs
nightly and after every customs import)."""

import json

from django.core.management.base import BaseCommand

from tradecrm.customs.alerts import alert_days, scan


class Command(BaseCommand):
    help = "Notify customers' owners of new suppliers, volume surges, sample-size purchases and new HS codes."

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, action="append", help="Only this customer (repeatable).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        created = scan(options["company"])
        if options["json"]:
            self.stdout.write(json.dumps({"notifications": created, "days": alert_days()}))
        else:
            self.stdout.write(f"{created} notification(s) created (records of the last {alert_days()} days).")
