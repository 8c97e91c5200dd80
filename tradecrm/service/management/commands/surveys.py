"""`tradecrm surveys send [--json]`: the daily survey job, run by hand or from cron."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Satisfaction surveys: send the surveys due today (orders delivered N days ago)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["send"])
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, action, json: bool, **opts):
        from tradecrm.service.services import surveys_send_due

        result = surveys_send_due()
        if json:
            self.stdout.write(_dumps(result))
            return
        self.stdout.write(f"{result['created']} survey(s) sent, {result['no_email']} order(s) without an email "
                          f"address, {result['retried']} earlier survey(s) retried")  # fmt: skip


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
