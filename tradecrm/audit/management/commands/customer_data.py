"""`tradecrm customer-data export ID PATH` / `tradecrm customer-data erase ID --yes`: data-subject
requests from the command line (an operator acts: no role check, audited with source "cli")."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tradecrm.audit import privacy
from tradecrm.audit.context import audit_context


class Command(BaseCommand):
    help = "Export a customer's data to a ZIP, or erase its personal data."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        exp = sub.add_parser("export", help="write the customer's data (ZIP) to PATH")
        exp.add_argument("company_id", type=int)
        exp.add_argument("path")
        era = sub.add_parser("erase", help="anonymise the customer's personal data (cannot be undone)")
        era.add_argument("company_id", type=int)
        era.add_argument("--yes", action="store_true", help="do it (without it, only say what would go)")

    def handle(self, *args, **o):
        from tradecrm.customers.models import Company

        company = Company.objects.filter(pk=o["company_id"]).first()
        if company is None:
            raise CommandError(f"No customer with id {o['company_id']}.")
        with audit_context(source="cli"):
            if o["action"] == "export":
                path = Path(o["path"])
                if path.is_dir():
                    path = path / privacy.export_filename(company)
                content = privacy.customer_data_export(actor=None, company=company, check=False)
                path.write_bytes(content)
                self.stdout.write(f"Wrote {path} ({len(content)} bytes).")
                return
            if not o["yes"]:
                self.stdout.write(f"Would erase the personal data of customer {company.pk} “{company.name}”. "
                                  "Run again with --yes to do it.")  # fmt: skip
                return
            counts = privacy.customer_data_erase(actor=None, company=company, check=False)
        self.stdout.write(json.dumps({"company_id": company.pk, "erased": counts}))
