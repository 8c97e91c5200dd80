"""`tradecrm import_undo JOB_ID [--json] [--as USERNAME]` (also `tradecrm import-undo`): deletes what
an import created and restores what it updated or merged into."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tradecrm.accounts.models import User
from tradecrm.imports import services
from tradecrm.imports.models import ImportJob


class Command(BaseCommand):
    help = "Undo an import: delete the records it created, restore the ones it changed."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int)
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--as", dest="as_user", default="", help="undo as this user (default: the system)"
        )

    def handle(self, *args, job_id: int, **o):
        actor = None
        if o["as_user"]:
            actor = User.objects.filter(username=o["as_user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user named {o['as_user']!r}.")
        job = ImportJob.objects.filter(pk=job_id).first()
        if actor is not None and job is not None:
            from tradecrm.imports.selectors import import_jobs_for_user

            job = import_jobs_for_user(actor).filter(pk=job_id).first()
        if job is None:
            raise CommandError(f"No import {job_id}.")
        try:
            result = services.import_undo(actor=actor, job=job)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if o["json"]:
            self.stdout.write(json.dumps({"job_id": job_id, **result}, ensure_ascii=False))
            return
        self.stdout.write(
            f"Import {job_id} undone: {result['deleted']:,} records deleted, {result['restored']:,} restored."
        )
        for line in result["kept"]:
            self.stdout.write(f"  {line}")
