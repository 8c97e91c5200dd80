"""`tradecrm analyse [--clusters] [--k 4] [--rules] [--json]`: run the clustering and/or the
association rules now (in this process) and print the per-phase times and counts."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tradecrm.analysis import clustering, recommend
from tradecrm.analysis.models import ClusterRun, RuleRun, RunStatus
from tradecrm.analysis.services import clean_k


class Command(BaseCommand):
    help = "Cluster the customers on RFM and/or recompute the product association rules."

    def add_arguments(self, parser):
        parser.add_argument("--clusters", action="store_true", help="Run k-means on the RFM features.")
        parser.add_argument("--k", default=clustering.K_DEFAULT, help="Number of clusters (2–8).")
        parser.add_argument("--rules", action="store_true", help="Recompute the association rules.")
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args, **opts):
        from django.core.exceptions import ValidationError

        if not opts["clusters"] and not opts["rules"]:
            opts["clusters"] = opts["rules"] = True
        try:
            k = clean_k(opts["k"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        out = {}
        failed = False
        if opts["rules"]:
            run = recommend.execute(RuleRun.objects.create(created_at=timezone.now(), trigger="cli"))
            out["rules"] = {"run": run.pk, "status": run.status, "phases": run.phases, "counts": run.counts,
                            "error": run.error}  # fmt: skip
            failed |= run.status != RunStatus.DONE
        if opts["clusters"]:
            run = clustering.execute(ClusterRun.objects.create(created_at=timezone.now(), trigger="cli", k=k))
            out["clusters"] = {"run": run.pk, "status": run.status, "phases": run.phases, "customers": run.customers,
                               "inertia": run.inertia, "method": run.method, "error": run.error,
                               "sizes": [c["size"] for c in run.clusters]}  # fmt: skip
            failed |= run.status != RunStatus.DONE
        if opts["json"]:
            self.stdout.write(json.dumps(out, indent=2, default=str))
        else:
            for name, r in out.items():
                phases = ", ".join(f"{p} {s:.2f} s" for p, s in r["phases"].items())
                self.stdout.write(
                    f"{name}: {r['status']} ({phases}) {r.get('counts') or r.get('sizes') or ''} {r['error']}"
                )
        if failed:
            raise CommandError("a run failed")
