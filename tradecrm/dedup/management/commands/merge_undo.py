"""`tradecrm merge_undo MERGE_ID [--as USERNAME] [--json]`."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from tradecrm.core.api import dumps
from tradecrm.dedup import merge
from tradecrm.dedup.models import MergeRecord

from .merge import actor_for, describe, summary_json


class Command(BaseCommand):
    help = "Undo a merge: the merged records come back with their ids and everything that moved goes back."

    def add_arguments(self, parser):
        parser.add_argument("merge_id", type=int, metavar="MERGE_ID")
        parser.add_argument("--as", dest="as_user", default="", metavar="USERNAME",
                            help="act as this user (their visibility and rights); default: the system")  # fmt: skip
        parser.add_argument("--json", action="store_true", help="print the result as one JSON object")

    def handle(self, *args, merge_id, as_user, json: bool, **options):
        actor = actor_for(as_user)
        try:
            record = (
                merge.merge_get_for_user(actor, merge_id) if actor else MergeRecord.objects.get(pk=merge_id)
            )
            result = merge.merge_undo(actor=actor, record=record)
        except MergeRecord.DoesNotExist:
            raise CommandError(f"No merge #{merge_id}.") from None
        except (ValidationError, PermissionDenied, Http404) as exc:
            raise CommandError(describe(exc)) from None
        record.refresh_from_db()
        data = {**summary_json(record), "result": result}
        if json:
            self.stdout.write(dumps(data).decode())
            return
        restored = ", ".join(f"#{r['id']} {r['label']}" for r in data["merged"])
        self.stdout.write(
            f"Merge #{merge_id} undone: {restored} restored; {result['moved_back']} rows moved back."
        )
        if result["fields_kept"]:
            self.stdout.write(
                "Changed since the merge, left as they are: " + ", ".join(result["fields_kept"])
            )
        if result["gone"] or result["skipped"]:
            n = result["gone"] + len(result["skipped"])
            self.stdout.write(f"{n} related rows could not go back (moved or deleted after the merge).")
