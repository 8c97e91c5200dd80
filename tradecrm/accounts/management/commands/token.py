from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tradecrm.accounts.models import ApiToken, User
from tradecrm.security.scopes import ALL_SCOPES
from tradecrm.security.services import api_token_create


class Command(BaseCommand):
    help = (
        "Manage API tokens: `token create USERNAME [--scope customers:read ...] [--days N]` prints the "
        "new token on the last line."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token for a user")
        create.add_argument("username")
        create.add_argument("--name", default="")
        create.add_argument(
            "--scope",
            action="append",
            default=[],
            metavar="AREA:read|write",
            help=f"repeat for several; none = all the user's rights. One of: {', '.join(ALL_SCOPES)}",
        )
        create.add_argument("--days", type=int, default=None, help="expires after N days (default: never)")
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
            try:
                token, raw = api_token_create(
                    actor=None, user=user, name=o["name"], scopes=o["scope"], days=o["days"]
                )
            except ValidationError as exc:
                raise CommandError(
                    "; ".join(f"{f}: {m}" for f, ms in exc.message_dict.items() for m in ms)
                ) from None
            scopes = ", ".join(token.scopes) or "all of the user's rights"
            expiry = (
                f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "does not expire"
            )
            self.stdout.write(
                f"API token for {user.username} ({scopes}; {expiry}; shown once; stored hashed):"
            )
            self.stdout.write(raw)
        elif o["action"] == "list":
            for t in ApiToken.objects.filter(user=self._user(o["username"])).order_by("created_at"):
                state = "revoked" if t.revoked_at else "active"
                scopes = ",".join(t.scopes) or "all"
                expires = f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never"
                self.stdout.write(
                    f"{t.prefix}…  {t.name or '-'}  {t.created_at:%Y-%m-%d}  {state}  scopes={scopes}  expires={expires}"
                )
        else:
            from django.utils import timezone

            n = ApiToken.objects.filter(prefix=o["prefix"], revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            if not n:
                raise CommandError(f"No active token with prefix {o['prefix']!r}.")
            self.stdout.write(f"Revoked {n} token(s).")
