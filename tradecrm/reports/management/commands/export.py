"""`tradecrm export --entity companies --format csv|xlsx --out PATH [--as USERNAME] [filters]`.

Filters are the list page's: --q, --country, --status, --owner (username or id), --tag (name or id),
--source, --business-type, and any other as --filter KEY=VALUE (repeatable), e.g.
`--entity orders --filter date_from=2024-01-01`. Without --as the export sees everything (the
system); with --as it sees what that user sees and needs their export permission."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from tradecrm.accounts.models import User
from tradecrm.reports import exports as ex


class Command(BaseCommand):
    help = "Export a filtered list (the same filters as its page) to a CSV or XLSX file, in constant memory."

    def add_arguments(self, parser):
        parser.add_argument("--entity", required=True, choices=ex.ENTITY_KEYS, help="which list")
        parser.add_argument(
            "--format", choices=ex.FORMATS, default="", help="csv or xlsx (default: from --out)"
        )
        parser.add_argument("--out", required=True, type=Path, help="the file to write")
        parser.add_argument("--as", dest="as_user", default="", metavar="USERNAME",
                            help="export what this user sees (needs their export permission)")  # fmt: skip
        for name in ("q", "country", "status", "owner", "tag", "source"):
            parser.add_argument(f"--{name}", default="")
        parser.add_argument("--business-type", dest="business_type", default="")
        parser.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE",
                            help="any other filter of the list page (repeatable)")  # fmt: skip
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, entity, out: Path, as_user: str, **options):
        actor = ex.SystemUser()
        if as_user:
            actor = User.objects.filter(username=as_user, is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user named {as_user!r}.")
        fmt = options["format"] or (
            out.suffix.lower().lstrip(".") if out.suffix.lower() in (".csv", ".xlsx") else "csv"
        )
        params = {
            k: options[k] for k in ("q", "country", "status", "owner", "tag", "source", "business_type")
        }
        for item in options["filter"]:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise CommandError(f"--filter needs KEY=VALUE, not {item!r}.")
            params[key.strip()] = value
        params = {k: v for k, v in params.items() if v}
        if not out.parent.is_dir():
            raise CommandError(f"No directory {out.parent}.")
        try:
            export = ex.export_prepare(actor=actor, entity=entity, fmt=fmt, params=params, via="cli")
            rows = export.write_to(out)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError(
                " ".join(f"{k}: {m}" for k, msgs in exc.message_dict.items() for m in msgs)
            ) from None
        except Http404:
            raise CommandError("Not found: a filter names a record this user cannot see.") from None
        size = out.stat().st_size
        if options["json"]:
            self.stdout.write(json.dumps({"entity": entity, "format": fmt, "rows": rows, "path": str(out),
                                         "bytes": size, "filters": export.used_params}, ensure_ascii=False))  # fmt: skip
        else:
            self.stdout.write(f"Exported {rows:,} rows of {entity} to {out} ({size:,} bytes).")
