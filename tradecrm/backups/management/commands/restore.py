"""`tradecrm restore PATH [--data-dir DIR] [--json]`: restore a backup into an empty data dir (and,
on PostgreSQL, the empty database of DATABASE_URL), then verify row counts and the audit chain."""

import json

from django.core.management.base import BaseCommand, CommandError

from tradecrm.backups.crypto import BackupError
from tradecrm.backups.services import restore_backup


class Command(BaseCommand):
    help = "Restore an encrypted backup into an empty data dir and verify it."
    requires_system_checks = []  # do not touch the (empty) database before checking it

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file.")
        parser.add_argument(
            "--data-dir", help="The empty data dir to restore into (default: TRADECRM_DATA_DIR)."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        try:
            result = restore_backup(options["path"], data_dir=options["data_dir"])
        except BackupError as exc:
            raise CommandError(f"Nothing was restored: {exc}") from None
        if options["json"]:
            self.stdout.write(json.dumps(result, default=str))
            return
        audit = result["audit"]
        self.stdout.write(
            f"Restored {result['path']} (made {result['created_at']}) into {result['data_dir']}: "
            f"{result['tables']} tables, {result['rows']:,} rows — counts match the backup; "
            + (f"audit chain verified up to seq {audit['head_seq']}." if audit else "no audit trail in it.")
        )
