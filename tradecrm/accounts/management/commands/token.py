from django.core.management.base import BaseCommand, CommandError

from tradecrm.accounts.models import ApiToken, User
from tradecrm.accounts.services import token_create


class Command(BaseCommand):
    help = "Manage API tokens: `token create USERNAME` prints the new token on the last line."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token for a user")
        create.add_argument("username")
        create.add_argument("--name", default="")
        lst = sub.add_parser("list", help="list a user's tokens (prefixes only)")
        lst.add_argument("username")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def _user(self, username):
        try:
            return User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user named {username!r}.") from None

    def handle(self, *args, **o):
        if o["action"] == "create":
            user = self._user(o["username"])
            token, raw = token_create(actor=None, user=user, name=o["name"])
            self.stdout.write(f"API token for {user.username} (shown once; stored hashed):")
            self.stdout.write(raw)
        elif o["action"] == "list":
            for t in ApiToken.objects.filter(user=self._user(o["username"])).order_by("created_at"):
                state = "revoked" if t.revoked_at else "active"
                self.stdout.write(f"{t.prefix}…  {t.name or '-'}  {t.created_at:%Y-%m-%d}  {state}")
        else:
            from django.utils import timezone

            n = ApiToken.objects.filter(prefix=o["prefix"], revoked_at__isnull=True).update(revoked_at=timezone.now())
            if not n:
                raise CommandError(f"No active token with prefix {o['prefix']!r}.")
            self.stdout.write(f"Revoked {n} token(s).")
