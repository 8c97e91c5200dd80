import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tradecrm.accounts.models import Role
from tradecrm.accounts.services import user_create


class Command(BaseCommand):
    help = "Create a user. The password comes from TRADECRM_PASSWORD, else from a prompt."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--team", default="", help="team name; created when it does not exist")
        parser.add_argument("--email", default="")
        parser.add_argument("--language", default="en", choices=["en", "zh-hans"])

    def handle(self, *args, **o):
        password = os.environ.get("TRADECRM_PASSWORD")
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords differ.")
        try:
            user = user_create(actor=None, username=o["username"], password=password, role=o["role"],
                               team_name=o["team"], email=o["email"], language=o["language"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{f}: {' '.join(m)}" for f, m in exc.message_dict.items())) from None
        team = f" in team {user.team.name}" if user.team else ""
        self.stdout.write(f"Created {user.role} {user.username}{team}.")
