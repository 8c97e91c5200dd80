"""Import jobs, step by step: upload → columns and options → dry run → run in the background
(resumable) → rejected rows file → undo. The web pages, the API, the CLI and the worker all call
these; the row work itself is in engine.py.
"""

from __future__ import annotations

import csv
import logging
import shutil
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.accounts.access import tag_visibility_q, visible_team_ids
from tradecrm.audit.services import audit_record
from tradecrm.core import geo
from tradecrm.core.errors import ConcurrentEditError, Errors
from tradecrm.core.ids import parse_id
from tradecrm.customers.validation import assignable_owner_error

from . import engine
from .models import Entity, ImportChange, ImportChunk, ImportJob, ImportRejection, JobStatus, MappingTemplate

log = logging.getLogger(__name__)

EDITABLE = (JobStatus.UPLOADED, JobStatus.CHECKED)
ON_DUPLICATE = ("merge", "skip", "create")
STALLED_AFTER = 120  # seconds without a committed chunk before a running job counts as crashed


def _actor_id(actor) -> int | None:
    return actor.pk if getattr(actor, "pk", None) else None


def _file_error(exc: ValidationError) -> ValidationError:
    return ValidationError({"file": exc.messages})


def _check_entity_source(actor, entity: str, source: str) -> None:
    from .sources import SOURCES

    errors = Errors()
    if entity not in Entity.values:
        errors.add("entity", _("Unknown kind of import “%(entity)s”.") % {"entity": entity})
    src = SOURCES.get(source)
    if src is None:
        errors.add("source", _("Unknown source “%(source)s”.") % {"source": source})
    elif entity in Entity.values and entity not in src.entities:
        errors.add("source", _("A file from “%(source)s” cannot hold %(entity)s.")
                   % {"source": src.label, "entity": Entity(entity).label.lower()})  # fmt: skip
    errors.raise_if_any()
    if entity in (Entity.COMPANIES, Entity.CONTACTS) and actor is not None:
        # permissions by action: importing customers is creating them ("create" in the role's policy)
        from tradecrm.accounts.access import require_action

        require_action(actor, "create")
    if entity == Entity.PRODUCTS and actor is not None:
        from tradecrm.catalog.services import require_catalog_editor

        require_catalog_editor(actor)


def _table_fields(table) -> dict:
    return {
        "file_kind": table.kind,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "sheet": table.sheet,
        "header_row": table.header_row,
        "headers": list(table.headers),
        "total_rows": table.total_rows,
    }


# --- upload ------------------------------------------------------------------------------------


def import_job_create(*, actor, upload, filename: str, entity: str, source: str, mapping_name: str = "",
                      sheet: str = "") -> ImportJob:  # fmt: skip
    """Stores the upload under DATA_DIR/imports/<id>/, reads its columns and maps them: from the
    saved mapping `mapping_name`, else automatically. ValidationError({"file": …}) when the file
    cannot be imported (too big, a program, damaged, empty…); nothing is kept then."""
    from .mapping import apply_template, auto_map
    from .readers import FileRejected, open_table, store_upload

    _check_entity_source(actor, entity, source)
    template = None
    if mapping_name:
        from .selectors import mapping_templates_for_user

        template = (
            mapping_templates_for_user(actor, entity=entity).filter(name=mapping_name).first() if actor else
            MappingTemplate.objects.filter(entity=entity, name=mapping_name).first()
        )  # fmt: skip
        if template is None:
            raise ValidationError(
                {"mapping_name": [_("No saved mapping named “%(name)s”.") % {"name": mapping_name}]}
            )
    filename = (Path(str(filename or "").replace("\\", "/")).name or "import")[-255:]
    with transaction.atomic():
        job = ImportJob.objects.create(
            entity=entity, source=source, filename=filename, created_by_id=_actor_id(actor),
            team_id=getattr(actor, "team_id", None), mapping_name=template.name if template else "",
        )  # fmt: skip
        folder = engine.job_dir(job)
        suffix = Path(filename).suffix.lower()[:10]
        dest = folder / f"upload{suffix if suffix.isascii() else ''}"
        try:
            stored = store_upload(upload, dest=dest, limit=settings.TRADECRM_IMPORT_MAX_BYTES)
            job.stored_path = str(dest.relative_to(settings.DATA_DIR))
            table = open_table(dest, filename=filename, sheet=sheet)
        except FileRejected as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise _file_error(exc) from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        for k, v in _table_fields(table).items():
            setattr(job, k, v)
        job.file_size, job.file_sha256 = stored["size"], stored["sha256"]
        headers = job.headers
        if template is not None:
            mapping = apply_template(headers, template.mapping)
        else:
            mapping = auto_map(headers, entity=entity, source=source)
        job.mapping = {str(k): v for k, v in mapping.items()}
        job.options = default_options(actor, entity)
        job.save()
        audit_record(actor=actor, action="import.upload", obj=job,
                     changes={"file": filename, "size": job.file_size, "entity": entity, "source": source})  # fmt: skip
    return job


def default_options(actor, entity: str) -> dict:
    return {
        "owner_id": _actor_id(actor),
        "tag_ids": [],
        "on_duplicate": "merge",
        "default_country": "",
        "create_companies": True,
    }


def import_job_preview(job: ImportJob, *, rows: int = 5) -> dict:
    """The columns as read, with the first rows' cells, and what was detected."""
    from .readers import FileRejected

    try:
        table = engine.open_job_table(job)
    except FileRejected as exc:
        raise _file_error(exc) from None
    except FileNotFoundError:
        raise ValidationError(
            {"file": [_("The uploaded file is no longer stored; upload it again.")]}
        ) from None
    samples = []
    rows = max(0, min(int(rows), 100))
    if rows:
        for _num, cells in table.rows():
            samples.append(list(cells))
            if len(samples) >= rows:
                break
    return {
        "headers": list(table.headers),
        "header_row": table.header_row,
        "samples": samples,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "sheets": list(table.sheets),
        "sheet": table.sheet,
        "kind": table.kind,
        "total_rows": table.total_rows,
    }


# --- mapping and options -----------------------------------------------------------------------


def _clean_options(actor, entity: str, options: dict) -> dict:
    errors = Errors()
    out = dict(default_options(actor, entity))
    out.update({k: v for k, v in (options or {}).items() if k in out})
    User = get_user_model()
    owner_id = out.get("owner_id")
    if owner_id in ("", None):
        out["owner_id"] = _actor_id(actor)
    else:
        pk = parse_id(owner_id)
        owner = User.objects.filter(pk=pk, is_active=True).first() if pk else None
        if owner is None:
            errors.add("owner_id", _("No active user with id %(ids)s.") % {"ids": owner_id})
        else:
            msg = assignable_owner_error(actor, owner) if _actor_id(actor) else None
            if msg:
                errors.add("owner_id", msg)
            out["owner_id"] = owner.pk
    raw_tags = out.get("tag_ids") or []
    if not isinstance(raw_tags, list | tuple):
        raw_tags = [raw_tags]
    tag_ids = [parse_id(t) for t in raw_tags]
    if None in tag_ids:
        errors.add("tag_ids", _("Enter tag ids."))
    else:
        from tradecrm.customers.models import Tag

        qs = Tag.objects.filter(id__in=tag_ids)
        q = tag_visibility_q(actor) if _actor_id(actor) else None
        if q is not None:
            qs = qs.filter(q)
        found = set(qs.values_list("id", flat=True))
        missing = [t for t in tag_ids if t not in found]
        if missing:
            errors.add("tag_ids", _("No tag with id %(ids)s.") % {"ids": ", ".join(map(str, missing))})
        out["tag_ids"] = sorted(set(tag_ids))
    if out.get("on_duplicate") not in ON_DUPLICATE:
        errors.add(
            "on_duplicate",
            _("“%(value)s” is not one of the available choices.") % {"value": out.get("on_duplicate")},
        )
    country = str(out.get("default_country") or "").strip().upper()
    if country and country not in geo.country_codes():
        errors.add("default_country", _("Unknown country code “%(value)s” (use ISO 3166 alpha-2, e.g. DE).")
                   % {"value": country})  # fmt: skip
    out["default_country"] = country
    value = out.get("create_companies")
    out["create_companies"] = (
        value.lower() in ("1", "true", "on", "yes") if isinstance(value, str) else bool(value)
    )
    errors.raise_if_any()
    return out


def _check_editable(job: ImportJob) -> None:
    if job.status not in EDITABLE:
        raise ValidationError(
            _(
                "This import has already been started (%(status)s): its columns and options can no longer change."
            )
            % {"status": JobStatus(job.status).label}
        )


@transaction.atomic
def import_job_configure(*, actor, job: ImportJob, version: int, mapping: dict[int, str], options: dict,
                         save_as: str = "", sheet: str | None = None, header_row: int | None = None) -> ImportJob:  # fmt: skip
    """Sets the column mapping and the options (and, when given, another sheet or header row: the
    columns are read again and mapped automatically when `mapping` is empty). A changed mapping
    makes the last dry run void. ConcurrentEditError when someone changed the job in between."""
    from .mapping import auto_map, mapping_errors, template_mapping
    from .readers import FileRejected

    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.version != version:
        raise ConcurrentEditError(
            by=str(job.created_by or "?"), at=job.updated_at, current_version=job.version
        )
    _check_editable(job)
    reread = (sheet is not None and sheet != job.sheet) or (
        header_row is not None and header_row != job.header_row
    )
    if reread:
        old = (job.sheet, job.header_row)
        job.sheet = job.sheet if sheet is None else sheet
        job.header_row = job.header_row if header_row is None else int(header_row)
        try:
            table = engine.open_job_table(job)
        except FileRejected as exc:
            job.sheet, job.header_row = old
            raise ValidationError({"sheet" if sheet is not None else "header_row": exc.messages}) from None
        for k, v in _table_fields(table).items():
            setattr(job, k, v)
    mapping = {int(k): str(v) for k, v in (mapping or {}).items() if v}
    if reread and not mapping:
        mapping = auto_map(job.headers, entity=job.entity, source=job.source)
    errors = mapping_errors(mapping, entity=job.entity, headers=job.headers)
    if errors:
        raise ValidationError({"mapping": errors})
    job.options = _clean_options(actor, job.entity, options)
    job.mapping = {str(k): v for k, v in sorted(mapping.items())}
    job.report = {}
    job.status = JobStatus.UPLOADED
    job.version += 1
    job.save()
    if save_as:
        mapping_template_save(actor=actor, entity=job.entity, source=job.source, name=save_as,
                              mapping_by_header=template_mapping(job.headers, mapping))  # fmt: skip
        job.mapping_name = save_as.strip()
        job.save(update_fields=["mapping_name"])
    audit_record(actor=actor, action="import.configure", obj=job,
                 changes={"mapping": job.mapping, "options": job.options})  # fmt: skip
    return job


def _check_ready(job: ImportJob) -> None:
    from .mapping import mapping_errors

    errors = mapping_errors({int(k): v for k, v in (job.mapping or {}).items()}, entity=job.entity,
                            headers=job.headers)  # fmt: skip
    if errors:
        raise ValidationError({"mapping": errors})


def import_job_dry_run(*, actor, job: ImportJob) -> dict:
    """Checks and matches every row without writing anything; the report is kept on the job."""
    from .readers import FileRejected

    _check_editable(job)
    _check_ready(job)
    _check_entity_source(actor, job.entity, job.source)
    try:
        report = engine.dry_run(job, actor)
    except FileRejected as exc:
        raise _file_error(exc) from None
    # the check itself writes nothing and may take minutes: only its outcome is one short transaction
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(report=report, status=JobStatus.CHECKED, version=F("version") + 1,
                                                   total_rows=report["rows_read"], updated_at=timezone.now())  # fmt: skip
        audit_record(actor=actor, action="import.check", obj=job, changes={"rows_read": report["rows_read"]})
    job.refresh_from_db()
    return report


# --- the run -----------------------------------------------------------------------------------


def import_job_start(*, actor, job: ImportJob, background: bool = True) -> ImportJob:
    """Queues the run (or the resumption of a failed one) for the background worker; with
    background=False the caller runs it itself (the CLI: `import_job_run` in the foreground)."""
    from . import tasks

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in (*EDITABLE, JobStatus.FAILED):
            raise ValidationError(_("This import is %(status)s: it cannot be started again.")
                                  % {"status": JobStatus(job.status).label.lower()})  # fmt: skip
        _check_ready(job)
        _check_entity_source(actor, job.entity, job.source)
        job.status = JobStatus.QUEUED
        job.error = ""
        job.version += 1
        job.save(update_fields=["status", "error", "version", "updated_at"])
        audit_record(actor=actor, action="import.start", obj=job, changes={"resume_after": job.rows_done})
        job_id = job.pk
        if background:
            transaction.on_commit(lambda: tasks.run_import(job_id))
    return job


def _claim(job_id: int) -> ImportJob | None:
    """Takes a queued (or crashed) job for this process; None when another one has it."""
    stale = timezone.now() - timezone.timedelta(seconds=STALLED_AFTER)
    claimed = ImportJob.objects.filter(
        Q(pk=job_id) & (Q(status__in=(JobStatus.QUEUED, JobStatus.FAILED)) | Q(status=JobStatus.RUNNING, updated_at__lt=stale))
    ).update(status=JobStatus.RUNNING, error="", updated_at=timezone.now(), runner=uuid.uuid4().hex)  # fmt: skip
    if not claimed:
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.started_at is None:
        job.started_at = timezone.now()
        job.save(update_fields=["started_at"])
    return job


def import_job_run(job_id: int, *, progress=None, use_process: bool | None = None,
                   stop_after: int | None = None) -> ImportJob | None:  # fmt: skip
    """The run itself (the worker's task, the CLI in the foreground): resumes after the last
    committed chunk. On an error the job is marked failed with the reason, and can be started
    again: it then goes on where it stopped. Its audit events are attributed to the import
    (keeping the IP of whoever runs it)."""
    from tradecrm.audit.context import Source, audit_context, current

    with audit_context(source=Source.IMPORT, ip=current().ip):
        return _import_job_run(job_id, progress=progress, use_process=use_process, stop_after=stop_after)


def _import_job_run(job_id: int, *, progress, use_process, stop_after) -> ImportJob | None:
    from django.utils import translation

    from .readers import FileRejected

    job = _claim(job_id)
    if job is None:
        return None
    actor = job.created_by
    lang = getattr(actor, "language", "") or settings.LANGUAGE_CODE
    try:
        with translation.override(lang):
            engine.run(job, actor, progress=progress, use_process=use_process, stop_after=stop_after)
    except Exception as exc:
        if isinstance(exc, FileRejected | ValidationError):
            message = " ".join(exc.messages)
        elif isinstance(exc, engine.ImportStopped):
            message = _("The import stopped after %(rows)d rows; start it again to go on.") % {
                "rows": job.rows_done
            }
        else:
            log.exception("import %s failed", job_id)
            message = _("The import stopped with an error after %(rows)d rows (%(error)s); start it again to go on.") % {
                "rows": job.rows_done, "error": f"{type(exc).__name__}: {exc}"[:300]}  # fmt: skip
        # only while this process still holds the run (not when the watchdog gave it to another)
        ImportJob.objects.filter(pk=job_id, runner=job.runner).update(
            status=JobStatus.FAILED, error=message, updated_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    with transaction.atomic():
        done = ImportJob.objects.filter(pk=job_id, runner=job.runner).update(
            status=JobStatus.DONE,
            finished_at=timezone.now(),
            total_rows=F("rows_read"),
            updated_at=timezone.now(),
        )
        job.refresh_from_db()
        if not done:
            return job
        audit_record(actor=actor, action="import.run", obj=job, changes=_counts(job))
    return job


def _counts(job: ImportJob) -> dict:
    return {
        k: getattr(job, k) for k in ("rows_read", "created", "updated", "merged", "rejected", "unchanged")
    }


def import_job_progress(job: ImportJob) -> dict:
    fields = ("status", "rows_done", "total_rows", "rows_read", "created", "updated", "merged", "rejected",
              "unchanged", "error")  # fmt: skip
    data = ImportJob.objects.filter(pk=job.pk).values(*fields).first() or {f: getattr(job, f) for f in fields}
    total = data["total_rows"]
    if data["status"] == JobStatus.DONE:
        percent = 100
    elif total:
        percent = min(99, int(100 * data["rows_done"] / total))
    else:
        percent = None
    return {**data, "percent": percent}


def requeue_stalled() -> list[int]:
    """Jobs left running by a worker that died: queued again (they resume where they stopped)."""
    from . import tasks

    stale = timezone.now() - timezone.timedelta(seconds=STALLED_AFTER)
    ids = list(
        ImportJob.objects.filter(status=JobStatus.RUNNING, updated_at__lt=stale).values_list("id", flat=True)
    )
    for job_id in ids:
        tasks.run_import(job_id)
    return ids


# --- rejected rows -----------------------------------------------------------------------------


def rejected_rows_file(job: ImportJob) -> Path:
    """CSV (UTF-8 with BOM, for Excel): the file's own columns plus the reason, one line per
    rejected row, in file order. A cell that is a formula is written as text (a leading ')."""
    from .values import formula_error, neutralize_cell

    path = engine.job_dir(job) / "rejected.csv"
    count = ImportRejection.objects.filter(job=job).count()
    if path.exists() and path.stat().st_mtime >= job.updated_at.timestamp() and _rows_in(path) == count:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow([*job.headers, _("Reason")])
        qs = ImportRejection.objects.filter(job=job).order_by("row", "id").values_list("cells", "reasons")
        for cells, reasons in qs.iterator(chunk_size=2000):
            cells = [neutralize_cell(c) if c and formula_error(c) else c for c in cells]
            out.writerow([*cells, "; ".join(reasons)])
    tmp.replace(path)
    return path


def _rows_in(path: Path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return max(0, sum(1 for _r in csv.reader(f)) - 1)


# --- undo --------------------------------------------------------------------------------------

# Rows an import itself makes for a record it creates: deleted with it, never "activity".
_OWN_RELATED = frozenset({
    "customers.contact", "customers.companytag", "customers.companyfollower", "dedup.companykey",
    "dedup.contactkey", "customs.customsrecord", "audit.auditevent", "dedup.duplicatepair",
})  # fmt: skip


def _activity(model_label: str, id_ranges: list[list[int]]) -> list[str]:
    """What other people's work points at the records in these ranges: '3 interactions', …"""
    from django.apps import apps

    model = apps.get_model(model_label)
    found = []
    for rel in model._meta.related_objects:
        related = rel.related_model
        if related._meta.label_lower in _OWN_RELATED or rel.many_to_many:
            continue
        q = Q()
        for a, b in id_ranges:
            q |= Q(**{f"{rel.field.name}__gte": a, f"{rel.field.name}__lte": b})
        n = related._base_manager.filter(q).count()
        if n:
            found.append(
                f"{n} × {related._meta.verbose_name_plural if n > 1 else related._meta.verbose_name}"
            )
    return found


def _merged_ranges(job: ImportJob) -> dict[str, list[list[int]]]:
    out: dict[str, list[list[int]]] = {}
    for cr in job.chunks.values_list("created_ranges", flat=True):
        for model, rs in (cr or {}).items():
            out.setdefault(model, []).extend(rs)
    return out


def import_undo(*, actor, job: ImportJob) -> dict:
    """Deletes what the job created and gives the records it updated or merged into their values
    back — field by field, and only where nobody changed the field since. Refused, saying why,
    when a record it created has since gained work (an interaction, an opportunity, an order…)."""
    from tradecrm.dedup.keys import refresh_company_keys, refresh_contact_keys

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in (JobStatus.DONE, JobStatus.FAILED):
            raise ValidationError(_("Only a finished (or failed) import can be undone; this one is %(status)s.")
                                  % {"status": JobStatus(job.status).label.lower()})  # fmt: skip
        created = _merged_ranges(job)
        problems = []
        for model in ("customers.company", "customers.contact", "catalog.product"):
            if created.get(model):
                for what in _activity(model, created[model]):
                    problems.append(what)
        if created.get("customers.company"):
            from tradecrm.customs.models import CustomsRecord

            q = Q()
            for a, b in created["customers.company"]:
                q |= Q(company_id__gte=a, company_id__lte=b)
            n = CustomsRecord.objects.filter(q).exclude(import_job=job).count()
            if n:
                problems.append(_("%(n)d customs records of other imports") % {"n": n})
        if problems:
            raise ValidationError(
                _("This import cannot be undone: records it created have been worked on since (%(what)s). "
                  "Delete or move that work first, or merge the records instead.") % {"what": ", ".join(problems)}
            )  # fmt: skip
        deleted, restored, kept = 0, 0, []
        # changes first (newest first), then deletions: a merged record may also have been created by us
        changes = list(ImportChange.objects.filter(job=job).order_by("-id"))
        touched_companies: set[int] = set()
        touched_contacts: set[int] = set()
        for ch in changes:
            n, skipped = _restore(ch)
            restored += n
            kept += skipped
            if ch.model == "customers.company":
                touched_companies.add(ch.object_id)
            elif ch.model == "customers.contact":
                touched_contacts.add(ch.object_id)
        with connection.cursor() as cur:
            # companies that keep existing but lose a contact: their search text changes
            for a, b in created.get("customers.contact", []):
                cur.execute(
                    "SELECT DISTINCT company_id FROM customers_contact WHERE id BETWEEN %s AND %s", [a, b]
                )
                touched_companies.update(r[0] for r in cur.fetchall())
            n = _delete_customs(cur, job)
            deleted += n
            for model, table in (("customers.contact", "customers_contact"), ("customers.company", "customers_company"),
                                 ("catalog.product", "catalog_product"), ("customers.tag", "customers_tag")):  # fmt: skip
                for a, b in sorted(created.get(model, [])):
                    deleted += _delete_range(cur, table, a, b)
        if touched_contacts:
            _refresh_contacts(touched_contacts)
            refresh_contact_keys(touched_contacts)
        if touched_companies:
            _refresh_companies(touched_companies)
            refresh_company_keys(touched_companies)
        job.status = JobStatus.UNDONE
        job.undone_at = timezone.now()
        job.undone_by_id = _actor_id(actor)
        job.version += 1
        job.save(update_fields=["status", "undone_at", "undone_by", "version", "updated_at"])
        result = {"deleted": deleted, "restored": restored, "kept": kept}
        audit_record(actor=actor, action="import.undo", obj=job, changes=result)
    return result


def _delete_customs(cur, job: ImportJob) -> int:
    cur.execute("DELETE FROM customs_customsrecord WHERE import_job_id = %s", [job.pk])
    return max(cur.rowcount, 0)


def _delete_range(cur, table: str, a: int, b: int) -> int:
    if table == "customers_company":
        # what belongs to the companies only (activity was refused above)
        cur.execute("DELETE FROM dedup_companykey WHERE company_id BETWEEN %s AND %s", [a, b])
        cur.execute("DELETE FROM customers_companytag WHERE company_id BETWEEN %s AND %s", [a, b])
        cur.execute("DELETE FROM customers_companyfollower WHERE company_id BETWEEN %s AND %s", [a, b])
        cur.execute(
            "DELETE FROM dedup_contactkey WHERE contact_id IN (SELECT id FROM customers_contact WHERE company_id BETWEEN %s AND %s)",
            [a, b],
        )
        cur.execute("DELETE FROM customers_contact WHERE company_id BETWEEN %s AND %s", [a, b])
        cur.execute(
            "UPDATE customs_customsrecord SET company_id = NULL WHERE company_id BETWEEN %s AND %s", [a, b]
        )
    elif table == "customers_contact":
        cur.execute("DELETE FROM dedup_contactkey WHERE contact_id BETWEEN %s AND %s", [a, b])
    elif table == "customers_tag":
        cur.execute(
            "DELETE FROM customers_tag WHERE id BETWEEN %s AND %s AND id NOT IN (SELECT tag_id FROM customers_companytag)",
            [a, b],
        )
        return max(cur.rowcount, 0)
    cur.execute(f"DELETE FROM {table} WHERE id BETWEEN %s AND %s", [a, b])
    return max(cur.rowcount, 0)


def _restore(ch: ImportChange) -> tuple[int, list[str]]:
    """Puts back the fields of one change that still hold what the import wrote."""
    from django.apps import apps

    model = apps.get_model(ch.model)
    obj = model._base_manager.filter(pk=ch.object_id).first()
    if obj is None:
        return 0, []
    kept = []
    updates: dict[str, Any] = {}
    after = ch.after or {}
    for f, old in (ch.before or {}).items():
        if f == "tags":
            from tradecrm.customers.models import CompanyTag

            added = set(after.get("tags") or []) - set(old or [])
            CompanyTag.objects.filter(company_id=ch.object_id, tag_id__in=added).delete()
            continue
        field = model._meta.get_field(f)
        current = field.value_from_object(obj)
        if _same(current, after.get(f)):
            updates[field.attname] = field.to_python(old) if old is not None else None
        else:
            kept.append(_("%(record)s: “%(field)s” was changed after the import and is kept")
                        % {"record": str(obj), "field": field.verbose_name})  # fmt: skip
    if updates:
        extra = {"version": F("version") + 1} if hasattr(obj, "version") else {}
        model._base_manager.filter(pk=ch.object_id).update(**updates, **extra)
    return (1 if updates else 0), kept


def _same(current, written) -> bool:
    from .rows import jsonable

    if hasattr(current, "pk"):
        current = current.pk
    from decimal import Decimal

    if isinstance(current, Decimal):
        current = str(current)
    return jsonable(current) == written


def _refresh_companies(ids: set[int]) -> None:
    from tradecrm.customers.models import Company
    from tradecrm.customers.services import company_search_text

    for company in Company.objects.filter(id__in=ids):
        Company.objects.filter(pk=company.pk).update(search_text=company_search_text(company))


def _refresh_contacts(ids: set[int]) -> None:
    from tradecrm.customers.models import Contact
    from tradecrm.customers.services import contact_search_text

    for contact in Contact.objects.filter(id__in=ids):
        Contact.objects.filter(pk=contact.pk).update(search_text=contact_search_text(contact),
                                                     email=contact.emails[0] if contact.emails else "")  # fmt: skip


# --- saved mappings ----------------------------------------------------------------------------


@transaction.atomic
def mapping_template_save(
    *, actor, entity: str, source: str, name: str, mapping_by_header: dict[str, str]
) -> MappingTemplate:
    """Saves (or replaces, by name) a mapping by header text for the actor's team."""
    name = (name or "").strip()
    errors = Errors()
    if not name:
        errors.add("name", _("Enter a name for the mapping."))
    elif len(name) > 120:
        errors.add(
            "name",
            _("At most %(limit)d characters (this has %(length)d).") % {"limit": 120, "length": len(name)},
        )
    if entity not in Entity.values:
        errors.add("entity", _("Unknown kind of import “%(entity)s”.") % {"entity": entity})
    if not isinstance(mapping_by_header, dict) or not mapping_by_header:
        errors.add("mapping", _("The mapping is empty."))
    elif len(mapping_by_header) > 500:
        errors.add("mapping", _("At most %(limit)d columns.") % {"limit": 500})
    errors.raise_if_any()
    from .mapping import targets

    fields = {t.field for t in targets(entity)}
    unknown = sorted({v for v in mapping_by_header.values() if v and v not in fields})
    if unknown:
        raise ValidationError(
            {"mapping": [_("“%(field)s” is not a field of this import.") % {"field": f} for f in unknown]}
        )
    team_id = getattr(actor, "team_id", None)
    mapping = {str(k)[:200]: str(v or "") for k, v in mapping_by_header.items()}
    template = (
        MappingTemplate.objects.select_for_update().filter(team_id=team_id, entity=entity, name=name).first()
    )
    if template is None:
        template = MappingTemplate.objects.create(name=name, entity=entity, source=source, mapping=mapping,
                                                  team_id=team_id, created_by_id=_actor_id(actor))  # fmt: skip
        action = "mapping.create"
    else:
        template.mapping, template.source = mapping, source
        template.version += 1
        template.save()
        action = "mapping.update"
    audit_record(actor=actor, action=action, obj=template, changes={"name": name, "entity": entity})
    return template


@transaction.atomic
def mapping_template_delete(*, actor, template: MappingTemplate) -> None:
    allowed = (
        getattr(actor, "is_admin", False)
        or template.created_by_id == _actor_id(actor)
        or (getattr(actor, "is_manager", False) and template.team_id in (visible_team_ids(actor) or []))
    )
    if not allowed:
        raise PermissionDenied(
            _("Only whoever saved this mapping, a manager of the team or an administrator may delete it.")
        )
    audit_record(actor=actor, action="mapping.delete", obj=template, changes={"name": template.name})
    template.delete()


__all__ = [
    "import_job_configure",
    "import_job_create",
    "import_job_dry_run",
    "import_job_preview",
    "import_job_progress",
    "import_job_run",
    "import_job_start",
    "import_undo",
    "mapping_template_delete",
    "mapping_template_save",
    "rejected_rows_file",
    "ImportChunk",
]
