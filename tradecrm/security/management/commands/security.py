from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tradecrm.accounts.models import User
from tradecrm.security import selectors, services


class Command(BaseCommand):
    help = ("Sign-in security: `security unlock USER` lifts a lockout, `security locked` lists them, "
            "`security reset-2fa USER` removes a user's two-factor sign-in, `security policy ROLE MODE` "
            "sets the two-factor policy of a role (off, optional, enforced).")  # fmt: skip

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("unlock", help="forget the failed sign-ins of a user name").add_argument("username")
        sub.add_parser("locked", help="list the locked-out user name / address pairs")
        sub.add_parser("reset-2fa", help="remove a user's authenticator and recovery codes").add_argument(
            "username"
        )
        policy = sub.add_parser("policy", help="two-factor policy of a role")
        policy.add_argument("role")
        policy.add_argument("mode", choices=["off", "optional", "enforced"])

    def handle(self, *args, **o):
        action = o["action"]
        if action == "unlock":
            n = services.lockout_reset(actor=None, username=o["username"])
            self.stdout.write(
                f"{o['username']}: {n} failed sign-in record(s) removed; the user can sign in again."
            )
        elif action == "locked":
            rows = selectors.locked_out_attempts()
            for r in rows:
                self.stdout.write(f"{r['username']}  {r['ip_address'] or '-'}  {r['failures_since_start']} failures  "
                                  f"last {r['attempt_time']:%Y-%m-%d %H:%M} UTC")  # fmt: skip
            if not rows:
                self.stdout.write("Nobody is locked out.")
        elif action == "reset-2fa":
            user = User.objects.filter(username=o["username"]).first()
            if user is None:
                raise CommandError(f"No user named {o['username']!r}.")
            admin = User(pk=0, role="admin", is_superuser=True)  # the console acts as an administrator
            try:
                services.totp_disable(actor=admin, user=user)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            self.stdout.write(f"Two-factor sign-in of {user.username} is reset.")
        else:
            try:
                services.policy_set(actor=None, role=o["role"], mode=o["mode"])
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            self.stdout.write(f"Two-factor sign-in for role {o['role']}: {o['mode']}.")
