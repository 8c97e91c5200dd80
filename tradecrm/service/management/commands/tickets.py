"""`tradecrm tickets scan [--json]`: the overdue-ticket scan (normally every 10 minutes)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Tickets: record the due times missed since the last scan and alert owners and managers."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["scan"])
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, action, json: bool, **opts):
        from tradecrm.service.services import ticket_scan_overdue

        result = ticket_scan_overdue()
        if json:
            self.stdout.write(_json.dumps(result))
            return
        self.stdout.write(f"{result['checked']} ticket(s) newly late, {result['breaches']} new breach(es), "
                          f"{result['alerts']} alert(s)")  # fmt: skip


_json = json
