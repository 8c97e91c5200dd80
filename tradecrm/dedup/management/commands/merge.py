"""`tradecrm merge --keep ID ID2 [ID3…] [--entity companies|contacts] [--as USERNAME] [--json]`."""

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from tradecrm.accounts.models import User
from tradecrm.core.api import dumps, user_ref
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.dedup import merge


def actor_for(username: str):
    """The user to act as; None (the system: no visibility limits) without --as."""
    if not username:
        return None
    try:
        return User.objects.get(username=username, is_active=True)
    except User.DoesNotExist:
        raise CommandError(f"No active user named {username!r}.") from None


def summary_json(record) -> dict:
    out = merge.merge_summary(record)
    out["actor"] = user_ref(out["actor"])
    out["undone_by"] = user_ref(out["undone_by"])
    return json.loads(dumps(out))


def describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
        return " ".join(exc.messages)
    if isinstance(exc, Http404):
        return "Not found (or not visible to this user)."
    return str(exc)


class Command(BaseCommand):
    help = (
        "Merge duplicate customers (or contacts) into the one given with --keep: every related record "
        "moves to it, the others are deleted; `tradecrm merge_undo MERGE_ID` reverses it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--keep", type=int, required=True, metavar="ID", help="the record that survives")
        parser.add_argument("ids", nargs="+", type=int, metavar="ID", help="the records merged into it")
        parser.add_argument("--entity", choices=["companies", "contacts"], default="companies")
        parser.add_argument("--choose", action="append", default=[], metavar="FIELD=ID",
                            help="take FIELD from record ID (repeatable; 0 combines notes); default: the kept "
                                 "record's value, else the first non-empty one")  # fmt: skip
        parser.add_argument("--as", dest="as_user", default="", metavar="USERNAME",
                            help="act as this user (their visibility and rights); default: the system")  # fmt: skip
        parser.add_argument("--json", action="store_true", help="print the merge as one JSON object")

    def handle(self, *args, keep, ids, entity, choose, as_user, json: bool, **options):
        actor = actor_for(as_user)
        chosen = {}
        for item in choose:
            field, sep, value = item.partition("=")
            if not sep or not value.strip().isdigit():
                raise CommandError(f"--choose takes FIELD=ID, not {item!r}.")
            chosen[field.strip()] = int(value)
        service = merge.company_merge if entity == "companies" else merge.contact_merge
        try:
            record = service(actor=actor, keep_id=keep, merge_ids=ids, chosen=chosen)
        except (ValidationError, PermissionDenied, Http404, ConcurrentEditError) as exc:
            raise CommandError(describe(exc)) from None
        data = summary_json(record)
        if json:
            self.stdout.write(dumps(data).decode())
            return
        merged = ", ".join(f"#{r['id']} {r['label']}" for r in data["merged"])
        self.stdout.write(f"Merge #{record.pk}: {merged} → #{data['kept']['id']} {data['kept']['label']}")
        for m in data["moved"]:
            self.stdout.write(f"  moved   {m['count']:>6}  {m['label']}")
        for m in data["removed"]:
            self.stdout.write(f"  removed {m['count']:>6}  {m['label']} (duplicates of the kept record's)")
        self.stdout.write(f"Undo with: tradecrm merge_undo {record.pk}")
