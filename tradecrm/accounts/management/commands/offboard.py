from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from tradecrm.accounts.models import User
from tradecrm.accounts.services import user_offboard


class Command(BaseCommand):
    help = (
        "Hand over a leaving user's customers, open follow-ups and open opportunities to another user "
        "(--to) or the customers to a pool (--pool), in chunked, audited transactions."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--to", default="", help="username of who takes over")
        parser.add_argument("--pool", type=int, default=None, help="pool id for the customers")
        parser.add_argument("--deactivate", action="store_true", help="deactivate the account afterwards")

    def handle(self, *args, **o):
        from tradecrm.pool.models import Pool

        leaving = User.objects.filter(username=o["username"]).first()
        if leaving is None:
            raise CommandError(f"No user named {o['username']!r}.")
        to_user = None
        if o["to"]:
            to_user = User.objects.filter(username=o["to"]).first()
            if to_user is None:
                raise CommandError(f"--to: no user named {o['to']!r}.")
        pool = None
        if o["pool"] is not None:
            pool = Pool.objects.filter(pk=o["pool"]).first()
            if pool is None:
                raise CommandError(f"--pool: no pool with id {o['pool']}.")
        if to_user is None and pool is None:
            raise CommandError("Give --to USERNAME or --pool POOL_ID.")
        try:
            counts = user_offboard(actor=None, user=leaving, to_user=to_user, pool=pool, deactivate=o["deactivate"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        target = f"pool {pool.name}" if pool else to_user.username
        self.stdout.write(
            f"Handed over from {leaving.username} to {target}: {counts['customers']} customers, "
            f"{counts['followups']} open follow-ups, {counts['opportunities']} open opportunities"
            + (f"; left with the user: {counts['followups_left']} follow-ups, {counts['opportunities_left']} "
               "opportunities" if counts["followups_left"] or counts["opportunities_left"] else "")
            + ("; account deactivated." if counts["deactivated"] else ".")
        )
