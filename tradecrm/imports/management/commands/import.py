"""`tradecrm import PATH --entity companies|contacts|products|customs --source SOURCE …`

Runs an import in the foreground, with a progress bar on stderr (none with --json). With --json
it prints exactly one JSON object:
{"rows_read", "created", "updated", "merged", "rejected", "unchanged", "rejected_file", "job_id", "status",
 "seconds", "rows_per_second"}.
A run that stops (a crash, Ctrl-C) is continued with `--resume JOB_ID`: it goes on after the last
committed chunk and never writes a row twice.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from tradecrm.accounts.models import User
from tradecrm.imports import services
from tradecrm.imports.models import Entity, ImportJob, JobStatus


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(
            f"{field}: {m}" if field != "__all__" else m for field, ms in exc.message_dict.items() for m in ms
        )
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Import companies, contacts, products or customs records from a CSV, XLSX/XLS/ODS or vCard file."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", type=Path, help="the file (not needed with --resume)")
        parser.add_argument("--entity", choices=Entity.values, default="companies")
        parser.add_argument("--source", default="generic", help="generic, trade_show, customs, b2b, salesforce, hubspot, "
                            "zoho, google_contacts, outlook_contacts, vcard, tradecrm (default: generic)")  # fmt: skip
        parser.add_argument(
            "--mapping", default="", help="a saved mapping's name (default: map columns automatically)"
        )
        parser.add_argument("--dry-run", action="store_true", help="check and match every row, write nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON object, no progress bar")
        parser.add_argument(
            "--as", dest="as_user", default="", help="import as this user (default: the system)"
        )
        parser.add_argument(
            "--owner", default="", help="owner of the companies created (default: the --as user)"
        )
        parser.add_argument("--on-duplicate", choices=services.ON_DUPLICATE, default="merge")
        parser.add_argument("--default-country", default="", help="ISO code for rows without a country")
        parser.add_argument(
            "--tag", action="append", default=[], help="tag id to put on every company (repeatable)"
        )
        parser.add_argument(
            "--sheet", default="", help="the sheet of a workbook (default: the first with data)"
        )
        parser.add_argument("--no-create-companies", action="store_true",
                            help="contacts / customs records: do not create companies that are not found")  # fmt: skip
        parser.add_argument(
            "--resume", type=int, default=None, metavar="JOB_ID", help="go on with a stopped import"
        )

    def _user(self, username: str):
        if not username:
            return None
        try:
            return User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user named {username!r}.") from None

    def handle(self, *args, path=None, **o):
        as_json = o["json"]
        actor = self._user(o["as_user"])
        started = time.perf_counter()
        try:
            if o["resume"] is not None:
                job = ImportJob.objects.filter(pk=o["resume"]).first()
                if job is None:
                    raise CommandError(f"No import {o['resume']}.")
                if job.status not in (JobStatus.FAILED, JobStatus.RUNNING, JobStatus.QUEUED):
                    raise CommandError(f"Import {job.pk} is {job.status}: there is nothing to resume.")
                ImportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(status=JobStatus.FAILED)
                ImportJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(status=JobStatus.FAILED)
            else:
                job = self._create(path, actor, o)
            if o["dry_run"]:
                report = services.import_job_dry_run(actor=actor, job=job)
                return self._finish(job, report, started, as_json, dry_run=True)
            if job.status != JobStatus.FAILED:
                job = services.import_job_start(actor=actor, job=job, background=False)
            bar = None if as_json else _Bar(self.stderr, job.total_rows)
            job = services.import_job_run(job.pk, progress=bar.update if bar else None)
            if bar:
                bar.close()
            if job is None:
                raise CommandError("The import is being run by another process.")
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        counts = {
            k: getattr(job, k) for k in ("rows_read", "created", "updated", "merged", "rejected", "unchanged")
        }
        self._finish(job, counts, started, as_json)
        if job.status == JobStatus.FAILED:
            raise CommandError(job.error or "The import failed.")

    def _create(self, path, actor, o) -> ImportJob:
        if path is None:
            raise CommandError("Give the file to import (or --resume JOB_ID).")
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        with open(path, "rb") as f:
            job = services.import_job_create(actor=actor, upload=f, filename=path.name, entity=o["entity"],
                                             source=o["source"], mapping_name=o["mapping"], sheet=o["sheet"])  # fmt: skip
        owner = self._user(o["owner"])
        options = {
            **job.options,
            "owner_id": owner.pk if owner else job.options.get("owner_id"),
            "on_duplicate": o["on_duplicate"],
            "default_country": o["default_country"],
            "tag_ids": o["tag"],
            "create_companies": not o["no_create_companies"],
        }
        return services.import_job_configure(actor=actor, job=job, version=job.version,
                                             mapping={int(k): v for k, v in job.mapping.items()}, options=options)  # fmt: skip

    def _finish(
        self, job: ImportJob, counts: dict, started: float, as_json: bool, dry_run: bool = False
    ) -> None:
        job.refresh_from_db()
        seconds = time.perf_counter() - started
        rejected_file = None
        if not dry_run and job.rejected:
            rejected_file = str(services.rejected_rows_file(job))
        out = {
            k: counts.get(k, 0)
            for k in ("rows_read", "created", "updated", "merged", "rejected", "unchanged")
        }
        out.update(rejected_file=rejected_file, job_id=job.pk, status=job.status, dry_run=dry_run,
                   seconds=round(seconds, 2), rows_per_second=round(out["rows_read"] / seconds) if seconds else None)  # fmt: skip
        if as_json:
            self.stdout.write(json.dumps(out, ensure_ascii=False))
            return
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb} {job.filename} (job {job.pk}): {out['rows_read']:,} rows read — {out['created']:,} created, "
            f"{out['updated']:,} updated, {out['merged']:,} merged ({out['unchanged']:,} of them unchanged), "
            f"{out['rejected']:,} rejected; {seconds:.1f} s, {out['rows_per_second'] or 0:,} rows/s."
        )
        if rejected_file:
            self.stdout.write(f"Rejected rows with their reasons: {rejected_file}")
        if dry_run:
            for r in counts.get("rejected_rows", [])[:20]:
                self.stdout.write(f"  row {r['row']}: " + "; ".join(r["reasons"]))


class _Bar:
    """A one-line progress bar on stderr, redrawn after each committed chunk."""

    def __init__(self, stream, total: int | None):
        self.stream = stream
        self.total = total or 0
        self.started = time.perf_counter()
        self.tty = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()

    def update(self, job: ImportJob) -> None:
        done = job.rows_done
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        if self.total:
            share = min(done / self.total, 1.0)
            bar = "#" * int(share * 30)
            line = f"[{bar:<30}] {share:6.1%} {done:,}/{self.total:,} rows, {rate:,.0f} rows/s"
        else:
            line = f"{done:,} rows, {rate:,.0f} rows/s"
        self.stream.write(("\r" if self.tty else "") + line, ending="" if self.tty else "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("")
