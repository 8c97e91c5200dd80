"""`tradecrm audit verify [--json]` / `tradecrm audit seal [--json]`: check the audit trail's hash
chain (exit code 1 and the first broken seq when the history was changed) or seal pending events."""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from tradecrm.audit import chain
from tradecrm.audit.context import audit_context


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain, or seal the events not yet in it."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="Recompute the chain; non-zero exit on tampering.")
        verify.add_argument("--json", action="store_true", help="Print one JSON object.")
        verify.add_argument("--seal", action="store_true", help="Seal pending events first.")
        seal = sub.add_parser("seal", help="Give pending events their seq and hash now.")
        seal.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, **options):
        with audit_context(source="cli"):
            if options["action"] == "seal":
                started = time.perf_counter()
                n = chain.seal()
                took = time.perf_counter() - started
                if options["json"]:
                    self.stdout.write(json.dumps({"sealed": n, "seconds": round(took, 3)}))
                else:
                    self.stdout.write(f"{n} event(s) sealed in {took:.2f} s.")
                return
            if options["seal"]:
                chain.seal()
            started = time.perf_counter()
            result = chain.verify()
            took = time.perf_counter() - started
        out = {**result.as_dict(), "seconds": round(took, 3)}
        if options["json"]:
            self.stdout.write(json.dumps(out))
        elif result.ok:
            self.stdout.write(
                f"OK: {result.sealed} sealed event(s), head seq {result.head_seq} {result.head_hash[:16]}…, "
                f"{result.unsealed} not sealed yet ({took:.2f} s)."
            )
        if not result.ok:
            raise CommandError(
                f"audit chain broken at seq {result.first_broken_seq} (event id {result.event_id}): "
                f"{result.problem}. {result.sealed} event(s) before it verify.",
                returncode=1,
            )
