"""`tradecrm campaigns send-due [--json]`: send the campaign mails that are due now (what the
background worker does every minute), honouring each campaign's throttle and send window."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Email campaigns: send the due mails now (throttled per mailbox, in each recipient's send window)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["send-due"])
        parser.add_argument("--batch", type=int, default=200, help="At most this many mails per mailbox.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, action, batch: int, json: bool, **opts):
        from tradecrm.campaigns.sending import send_due

        r = send_due(batch=batch)
        if json:
            self.stdout.write(_dumps(r))
            return
        self.stdout.write(f"{r['sent']} sent, {r['bounced']} bounced, {r['failed']} failed, {r['skipped']} skipped "
                          f"(unsubscribed), {r['deferred']} deferred")  # fmt: skip
        for e in r["errors"][:20]:
            self.stdout.write(f"  {e}")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
