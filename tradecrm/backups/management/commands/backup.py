"""`tradecrm backup PATH [--json]`: one encrypted file with the database and the uploaded files.
PATH may be a directory (a dated file is written inside it)."""

import json

from django.core.management.base import BaseCommand, CommandError

from tradecrm.audit.context import audit_context
from tradecrm.backups.crypto import BackupError
from tradecrm.backups.services import create_backup


class Command(BaseCommand):
    help = "Write an encrypted backup (database + uploaded files) to PATH."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file to write, or a directory for a dated file.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        try:
            with audit_context(source="cli"):
                result = create_backup(options["path"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(result, default=str))
            return
        self.stdout.write(
            f"Backup written: {result['path']} ({result['size']:,} bytes, {len(result['tables'])} tables, "
            f"{sum(result['tables'].values()):,} rows, {result['media_files']} uploaded files)."
        )
        self.stdout.write(f"Encrypted with the key from {result['key']} (key id {result['key_id']}).")
        if result["key"].endswith("(new)"):
            self.stdout.write(self.style.WARNING(
                "A new backup key was created. Copy it somewhere safe and apart from the backups (a password "
                "manager, another machine): without it no backup can be restored, and with it anyone holding "
                "a backup can read it."
            ))  # fmt: skip
