"""`tradecrm mail sync [--mailbox ID] [--json]` and `tradecrm mail send-due`."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Email: sync mailboxes now (all that are not paused, or one), or send the due scheduled mails."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["sync", "send-due"])
        parser.add_argument("--mailbox", type=int, default=None, help="Only this mailbox (its id).")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, action, mailbox, json: bool, **opts):
        from tradecrm.mailbox.models import Mailbox
        from tradecrm.mailbox.selectors import mailboxes_to_sync
        from tradecrm.mailbox.sending import send_due
        from tradecrm.mailbox.sync import mailbox_sync

        if action == "send-due":
            n = send_due()
            self.stdout.write(_dumps({"sent": n}) if json else f"{n} scheduled mail(s) sent")
            return
        if mailbox is not None:
            box = Mailbox.objects.select_related("user").filter(pk=mailbox).first()
            if box is None:
                raise CommandError(f"mailbox {mailbox} does not exist")
            boxes = [box]
        else:
            boxes = list(mailboxes_to_sync())
        results = [mailbox_sync(b).as_dict() for b in boxes]
        if json:
            self.stdout.write(_dumps(results))
            return
        for r in results:
            line = (f"mailbox {r['mailbox']}: {r['status']}, {r['fetched']} read, {r['stored']} stored, "
                    f"{r['unknown']} not a customer's, {r['skipped']} already stored, {r['seconds']} s")
            self.stdout.write(line)
            for e in r["errors"][:20]:
                self.stdout.write(f"  {e}")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
