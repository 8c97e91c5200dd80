"""`tradecrm dedup --entity companies|contacts [--threshold T] [--json]`: run the duplicate sweep now
and list the candidate groups; `--rebuild-keys` recomputes the match keys first (or alone, with
`--no-sweep`)."""

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tradecrm.dedup.keys import rebuild_keys
from tradecrm.dedup.sweep import open_groups, sweep


class Command(BaseCommand):
    help = "Find duplicate companies or contacts: prints groups with their score and reasons."

    def add_arguments(self, parser):
        parser.add_argument("--entity", choices=("companies", "contacts"), default="companies")
        parser.add_argument(
            "--threshold", type=float, default=None, help="Score from 0 to 1 (default: the setting)."
        )
        parser.add_argument(
            "--json", action="store_true", help='Print a JSON array of {"ids", "score", "reasons"}.'
        )
        parser.add_argument("--rebuild-keys", action="store_true", help="Recompute every match key first.")
        parser.add_argument("--no-sweep", action="store_true", help="List the groups of the last sweep only.")
        parser.add_argument("--workers", type=int, default=None, help="Scoring processes (default: 2).")

    def _progress(self, label):
        last = [0.0]

        def report(*args):
            now = time.monotonic()
            if now - last[0] > 1:
                last[0] = now
                sys.stderr.write(f"\r{label}: {args[-1]:,}   ")
                sys.stderr.flush()

        return report

    def handle(self, *args, **options):
        threshold = options["threshold"]
        if threshold is not None and not 0 <= threshold <= 1:
            raise CommandError(_("--threshold must be between 0 and 1."))
        quiet = options["json"]
        entity = options["entity"]
        if options["rebuild_keys"]:
            n = rebuild_keys(entity, progress=None if quiet else self._progress(_("records")))
            if not quiet:
                sys.stderr.write("\n")
                self.stdout.write(_("%(n)d match keys written.") % {"n": n})
        if not options["no_sweep"]:
            stats = sweep(
                entity,
                threshold=threshold,
                workers=options["workers"],
                progress=None if quiet else self._progress(_("progress")),
            )
            if not quiet:
                sys.stderr.write("\n")
                self.stdout.write(
                    _(
                        "%(records)d records, %(candidates)d candidate pairs scored, %(pairs)d likely pairs in %(s).1f s."
                    )
                    % {
                        "records": stats["records"],
                        "candidates": stats["candidate_pairs"],
                        "pairs": stats["pairs"],
                        "s": stats["total_s"],
                    }
                )
        groups = open_groups(entity, threshold=threshold)
        if quiet:
            self.stdout.write(
                json.dumps(
                    [{"ids": g["ids"], "score": g["score"], "reasons": g["reasons"]} for g in groups],
                    ensure_ascii=False,
                )
            )
            return
        for g in groups:
            self.stdout.write(f"{g['score']:.2f}  {', '.join(map(str, g['ids']))}  {'; '.join(g['reasons'])}")
        self.stdout.write(_("%(n)d groups.") % {"n": len(groups)})
