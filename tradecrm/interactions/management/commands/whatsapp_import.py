from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from tradecrm.accounts.models import User
from tradecrm.core.api import dumps
from tradecrm.customers.selectors import company_get_for_user
from tradecrm.interactions.whatsapp_services import whatsapp_import


class Command(BaseCommand):
    help = (
        "Import a chat exported from WhatsApp (.txt, or .zip with media) into a customer's timeline, "
        "as USER: `whatsapp_import COMPANY_ID PATH --user U --me 'My Name' [--me +8613800138000]`. "
        "Messages imported before are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("company_id", type=int)
        parser.add_argument("path", type=Path)
        parser.add_argument("--user", required=True, help="who imports (must see the customer)")
        parser.add_argument(
            "--me", action="append", default=[], help="your name or number in the chat (repeatable)"
        )
        parser.add_argument(
            "--timezone", default="", help="time zone of the exporting phone (default: the user's)"
        )
        parser.add_argument("--date-order", choices=["DMY", "MDY", "YMD"], help="override the date order")
        parser.add_argument("--dry-run", action="store_true", help="read and count, import nothing")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the result as JSON")

    def handle(self, *args, company_id, path, user, me, timezone, date_order, dry_run, as_json, **o):
        try:
            actor = User.objects.get(username=user, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user named {user!r}.") from None
        try:
            company = company_get_for_user(actor, company_id)
        except Http404:
            raise CommandError(f"{actor.username} has no customer with id {company_id}.") from None
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        try:
            with path.open("rb") as fh:
                result = whatsapp_import(
                    actor=actor,
                    company=company,
                    file=fh,
                    my_names=me,
                    timezone=timezone or None,
                    date_order=date_order,
                    dry_run=dry_run,
                    file_name=path.name,
                )
        except ValidationError as exc:  # WhatsAppFileInvalid names the unreadable line
            raise CommandError(" ".join(exc.messages)) from None
        if as_json:
            self.stdout.write(dumps(result.as_dict()).decode())
            return
        self._report(result, company)

    def _report(self, r, company):
        verb = "would import" if r.dry_run else "imported"
        self.stdout.write(
            f"{company.name}: {r.messages} messages read ({r.format}, dates {r.date_order}"
            f"{', ambiguous' if r.date_order_ambiguous else ''}, {r.timezone}); {verb} {r.created}, "
            f"{r.duplicates} already on the timeline, {r.system_lines} system notes skipped."
        )
        if r.unmatched_senders:
            self.stdout.write("Senders without a matching contact: " + ", ".join(r.unmatched_senders))
        if r.attachments_stored or r.attachments_refused:
            self.stdout.write(
                f"Media attached: {r.attachments_stored}; refused: {len(r.attachments_refused)}"
            )
            for refused in r.attachments_refused:
                self.stdout.write(f"  {refused['name']}: {refused['reason']}")
        if r.date_order_ambiguous:
            self.stdout.write(
                self.style.WARNING(
                    "Every date could be day-first or month-first; check them or pass --date-order."
                )
            )
