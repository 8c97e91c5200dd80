"""`tradecrm products import FILE [--dry-run] [--user U]` and `tradecrm products export FILE`."""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from tradecrm.accounts.models import User
from tradecrm.catalog import spreadsheets


class Command(BaseCommand):
    help = (
        "Import products from an XLSX/XLS/ODS/CSV file (matched by SKU; all rows or none) or export "
        "every product to an XLSX file."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import products from FILE")
        imp.add_argument("path", type=Path)
        imp.add_argument("--dry-run", action="store_true", help="check every row and count, write nothing")
        imp.add_argument(
            "--user", default="", help="who imports (a manager or administrator); default: system"
        )
        exp = sub.add_parser("export", help="export products to FILE (.xlsx)")
        exp.add_argument("path", type=Path)
        exp.add_argument("--user", default="", help="export as this user (sales reps get no cost columns)")
        exp.add_argument("--active-only", action="store_true", help="leave out inactive products")

    def _user(self, username: str):
        if not username:
            return None
        try:
            return User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user named {username!r}.") from None

    def handle(self, *args, action, path, user="", **options):
        actor = self._user(user)
        if action == "export":
            from tradecrm.reports.exports import SystemUser, export_prepare

            params = {"active": "1" if options.get("active_only") else "all"}
            try:
                prepared = export_prepare(actor=actor or SystemUser(), entity="products", fmt="xlsx",
                                          params=params, via="cli")  # fmt: skip
            except PermissionDenied as exc:
                raise CommandError(str(exc)) from None
            rows = prepared.write_to(path)
            self.stdout.write(f"Exported {rows:,} products to {path}.")
            return
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        dry_run = options["dry_run"]
        try:
            result = spreadsheets.products_import(
                actor=actor, file=path.read_bytes(), filename=path.name, dry_run=dry_run
            )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        for error in result.errors:
            self.stderr.write(spreadsheets.describe_error(error))
        if result.ignored_columns:
            self.stdout.write("Columns ignored: " + ", ".join(result.ignored_columns))
        verb = "Would import" if dry_run else "Imported"
        summary = (
            f"{result.rows} rows (header on row {result.header_row}): {result.created} new, "
            f"{result.updated} updated, {result.unchanged} unchanged."
        )
        if not result.ok:
            raise CommandError(f"Nothing imported: {len(result.errors)} problem(s) in {path.name}. {summary}")
        self.stdout.write(f"{verb} {summary}")
