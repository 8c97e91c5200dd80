from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tradecrm.accounts.models import User
from tradecrm.core import fx
from tradecrm.core import fx_validation as v
from tradecrm.core.money import format_money


class Command(BaseCommand):
    help = (
        "Exchange rates. `fx import FILE [--base EUR] [--dry-run] [--user U]` reads a CSV (date,base,"
        "quote,rate[,source] per row, or a date column and one column per currency quoted against "
        "--base, like the ECB reference rates); with any bad row nothing is imported, each error is "
        "printed as “row 12, rate: …” and the exit code is 1. `fx convert AMOUNT FROM TO [--date D]` "
        "converts with the rate documents of that date would use."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import rates from a CSV file")
        imp.add_argument("file")
        imp.add_argument("--base", default="", help="the currency the rates are quoted against")
        imp.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        imp.add_argument(
            "--user", dest="username", default="", help="import as this administrator or manager"
        )
        conv = sub.add_parser("convert", help="convert an amount")
        conv.add_argument("amount")
        conv.add_argument("from_currency", metavar="FROM")
        conv.add_argument("to_currency", metavar="TO")
        conv.add_argument("--date", default="", help="YYYY-MM-DD; today by default")

    def handle(self, *args, **o):
        if o["action"] == "import":
            self._import(o)
        else:
            self._convert(o)

    def _import(self, o):
        actor = None  # the operator at the console
        if o["username"]:
            try:
                actor = User.objects.get(username=o["username"], is_active=True)
            except User.DoesNotExist:
                raise CommandError(f"No active user named {o['username']!r}.") from None
            if not fx.can_change_rates(actor):
                raise CommandError(
                    f"{actor.username} may not change exchange rates (administrators and managers may)."
                )
        path = Path(o["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from None
        result = fx.rates_import_csv(
            actor=actor, file=data, filename=path.name, base=o["base"] or None, dry_run=o["dry_run"]
        )
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        if result.errors:
            for error in result.errors:
                self.stderr.write(fx.describe_error(error))
            raise CommandError(f"{path.name}: errors in the file; nothing was imported.", returncode=1)
        what = "would import" if o["dry_run"] else "imported"
        self.stdout.write(
            f"{path.name}: {what} {result.rates} rates ({result.first_date} to {result.last_date}): "
            f"{result.created} new, {result.updated} changed, {result.unchanged} unchanged."
        )

    def _convert(self, o):
        try:
            amount = v.amount_value(o["amount"])
            frm = v.currency_code(o["from_currency"])
            to = v.currency_code(o["to_currency"])
            day = v.rate_date(o["date"]) if o["date"] else fx.user_today(None)
        except v.FieldProblem as exc:
            raise CommandError(str(exc)) from None
        try:
            quote = fx.rate_on(frm, to, day)
        except fx.MissingRate as exc:
            raise CommandError(exc.messages[0]) from None
        result = fx.convert(amount, frm, to, day)
        self.stdout.write(
            f"{format_money(amount, frm, 'en')} = {format_money(result, to, 'en')} on {day} "
            f"(1 {frm} = {quote.rate.normalize():f} {to}, rate of {quote.date}, {quote.source})"
        )
