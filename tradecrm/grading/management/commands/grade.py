"""`tradecrm grade [--json]`: recalculate every customer's grade now (it also runs nightly) and
print the seconds per phase and the counts."""

import json

from django.core.management.base import BaseCommand, CommandError

from tradecrm.grading.engine import run


class Command(BaseCommand):
    help = "Recalculate the grade, RFM segment, lifecycle stage and churn risk of every customer."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        r = run(trigger="cli")
        out = {"run": r.pk, "status": r.status, "phases": r.phases, "counts": r.counts, "error": r.error}
        if options["json"]:
            self.stdout.write(json.dumps(out))
        else:
            self.stdout.write(f"Run {r.pk}: {r.status}")
            for k, v in (r.phases or {}).items():
                self.stdout.write(f"  {k:<11} {v:8.3f} s")
            for k, v in (r.counts or {}).items():
                self.stdout.write(f"  {k:<16} {v}")
        if r.status != "done":
            raise CommandError(r.error or "the grading run failed")
