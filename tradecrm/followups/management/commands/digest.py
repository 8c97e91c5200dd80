from django.core.management.base import BaseCommand, CommandError

from tradecrm.accounts.models import User
from tradecrm.followups.digest import send_digest, send_due_digests


class Command(BaseCommand):
    help = (
        "Daily digest emails. `digest send` sends the digests due now (users whose local time is "
        "08:xx), as the hourly background task does; `--user U` sends U's digest now, whatever "
        "the hour; `--force` sends even if one already went out today."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        send = sub.add_parser("send", help="send digests")
        send.add_argument("--user", dest="username", default="", help="only this user, at any hour")
        send.add_argument("--force", action="store_true", help="send even if one went out today")

    def handle(self, *args, **o):
        if o["username"]:
            try:
                user = User.objects.get(username=o["username"], is_active=True)
            except User.DoesNotExist:
                raise CommandError(f"No active user named {o['username']!r}.") from None
            result = send_digest(user, force=o["force"])
            messages = {
                "sent": f"Digest sent to {user.email}.",
                "empty": f"Nothing to say to {user.username} today: no digest sent.",
                "already": f"{user.username} already had today's digest (use --force to send again).",
                "no-email": f"{user.username} has no email address.",
            }
            self.stdout.write(messages[result])
            return
        if o["force"]:
            counts: dict[str, int] = {}
            wanting = User.objects.filter(is_active=True, daily_digest=True).exclude(email="").order_by("id")
            for user in wanting:
                result = send_digest(user, force=True)
                counts[result] = counts.get(result, 0) + 1
        else:
            counts = send_due_digests()
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no user due"
        self.stdout.write(f"Daily digests — {summary}.")
