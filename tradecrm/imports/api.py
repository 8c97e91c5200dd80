"""JSON API of imports: jobs (upload, mapping, dry run, run, progress, rejected rows, undo) and saved mappings.

    POST /api/v1/imports                 multipart: file, entity, source, [mapping_name], [sheet] → 201 job
    GET  /api/v1/imports                 your jobs (and your teams' for managers), newest first, keyset paged
    GET  /api/v1/imports/{id}            the job
    GET  /api/v1/imports/{id}/preview    headers, detected encoding/delimiter/sheet, first rows
    POST /api/v1/imports/{id}/configure  {version, mapping: {"0": "name", …}, options: {…}, save_as, sheet, header_row}
    POST /api/v1/imports/{id}/dry-run    the report: counts and the rows with their reasons
    POST /api/v1/imports/{id}/start      202: queued for the background worker (also resumes a failed run)
    GET  /api/v1/imports/{id}/progress   status, rows done, counts
    GET  /api/v1/imports/{id}/rejected   CSV: the file's columns + Reason
    POST /api/v1/imports/{id}/undo       deletes what it created, restores what it changed
    GET/POST /api/v1/import-mappings, DELETE /api/v1/import-mappings/{id}

Thin like the other apps' APIs: jobs are loaded through `selectors.import_job_get_for_user`
(404 for "missing" and "not yours" alike), changes go through the services (422 naming the field).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field

from tradecrm.core.api import (
    DELETE,
    LIST,
    READ,
    WRITE,
    Error,
    Id,
    Text,
    Version,
    json_response,
    object_response,
    page_response,
    user_ref,
)
from tradecrm.core.paging import Sort, keyset_page
from tradecrm.core.uploads import upload_name

from . import selectors, services
from .models import Entity, ImportJob, JobStatus, MappingTemplate

imports = Router(tags=["imports"])
import_mappings = Router(tags=["import mappings"])

JOB_FIELDS = (
    "id", "entity", "source", "status", "filename", "file_size", "file_kind", "encoding", "delimiter", "sheet",
    "header_row", "headers", "mapping", "mapping_name", "options", "total_rows", "rows_done", "rows_read",
    "created", "updated", "merged", "rejected", "unchanged", "error", "created_at", "updated_at", "started_at",
    "finished_at", "undone_at", "version",
)  # fmt: skip


# --- schemas ------------------------------------------------------------------------------------


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class JobOut(Schema):
    id: int
    entity: str
    source: str
    status: str = Field(
        description="uploaded → checked (dry run) → queued → running → done | failed; undone."
    )
    filename: str
    file_size: int
    file_kind: str = Field(description="csv, xlsx, xls, xlsb, ods or vcf (read from the bytes).")
    encoding: str
    delimiter: str
    sheet: str
    header_row: int
    headers: list[str]
    mapping: dict[str, str] = Field(description="Column index (as text) → target field.")
    mapping_name: str
    options: dict
    total_rows: int | None
    rows_done: int
    rows_read: int
    created: int
    updated: int
    merged: int
    rejected: int
    unchanged: int = Field(description="Of updated + merged: the rows that changed nothing.")
    error: str
    created_by: dict | None
    created_at: dt.datetime
    updated_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    undone_at: dt.datetime | None
    version: int


class JobPage(Schema):
    items: list[JobOut]
    next_cursor: str | None
    prev_cursor: str | None


class JobQuery(Schema):
    cursor: Text | None = Field(None, max_length=1000)
    limit: int = Field(30, ge=1, le=200)
    status: Literal[tuple(JobStatus.values)] | None = None  # type: ignore[valid-type]
    entity: Literal[tuple(Entity.values)] | None = None  # type: ignore[valid-type]


class PreviewOut(Schema):
    headers: list[str]
    header_row: int
    samples: list[list[str]]
    encoding: str
    delimiter: str
    sheets: list[str]
    sheet: str
    kind: str
    total_rows: int | None


class PreviewQuery(Schema):
    rows: int = Field(5, ge=0, le=100)


class OptionsIn(Input):
    owner_id: Id | None = Field(None, description="Owner of the companies created; you by default.")
    tag_ids: list[Id] = Field(
        default_factory=list, description="Tags put on every company created or merged into."
    )
    on_duplicate: Literal["merge", "skip", "create"] = Field(
        "merge",
        description="A row matching a record: fill its empty fields (merge), leave it (skip), or create anyway.",
    )
    default_country: Text = Field("", max_length=2, description="ISO code for rows without a country.")
    create_companies: bool = Field(
        True, description="Contacts and customs records: create companies not found."
    )


class ConfigureIn(Input):
    version: Version
    mapping: dict[str, Text] = Field(
        description='Column index (as text, 0-based) → target field; "" leaves it out.'
    )
    options: OptionsIn = Field(default_factory=OptionsIn)
    save_as: Text = Field("", max_length=120, description="Also save this mapping under this name.")
    sheet: Text | None = Field(None, max_length=120, description="Another sheet: its columns are read again.")
    header_row: int | None = Field(None, ge=1, le=1000, description="Another header row (1-based).")


class ReportRow(Schema):
    row: int
    action: str = Field(description="created, updated, merged, unchanged or rejected.")
    name: str
    reasons: list[str]
    target_id: int | None


class ReportOut(Schema):
    rows_read: int
    created: int
    updated: int
    merged: int
    rejected: int
    unchanged: int
    rows: list[ReportRow] = Field(
        description="Up to 500 rows: every rejected one first, then merges and updates."
    )
    rejected_rows: list[ReportRow]
    truncated: bool


class ProgressOut(Schema):
    status: str
    rows_done: int
    total_rows: int | None
    percent: int | None
    rows_read: int
    created: int
    updated: int
    merged: int
    rejected: int
    unchanged: int
    error: str


class UndoOut(Schema):
    deleted: int
    restored: int
    kept: list[str] = Field(description="Fields changed by someone after the import, left as they are.")


class MappingOut(Schema):
    id: int
    name: str
    entity: str
    source: str
    mapping: dict[str, str] = Field(description='Normalised header text → target field ("": left out).')
    created_by: dict | None
    updated_at: dt.datetime
    version: int


class MappingPage(Schema):
    items: list[MappingOut]


class MappingQuery(Schema):
    entity: Literal[tuple(Entity.values)] | None = None  # type: ignore[valid-type]
    source: Text = Field("", max_length=32)


class MappingIn(Input):
    name: Text = Field(max_length=120)
    entity: Literal[tuple(Entity.values)]  # type: ignore[valid-type]
    source: Text = Field("generic", max_length=32)
    mapping: dict[str, Text] = Field(description="Header text → target field.")


# --- helpers ------------------------------------------------------------------------------------


def job_out(job: ImportJob) -> dict:
    out = {f: getattr(job, f) for f in JOB_FIELDS}
    out["created_by"] = user_ref(job.created_by) if job.created_by_id else None
    return out


def _job(request, job_id: int) -> ImportJob:
    return selectors.import_job_get_for_user(request.auth, job_id)


# --- jobs ---------------------------------------------------------------------------------------


@imports.get("", response={200: JobPage, **LIST}, summary="List imports")
def list_jobs(request: HttpRequest, query: Query[JobQuery]):
    """Your imports (managers: also their teams'; administrators: all), newest first."""
    qs = selectors.import_jobs_for_user(request.auth).select_related("created_by")
    if query.status:
        qs = qs.filter(status=query.status)
    if query.entity:
        qs = qs.filter(entity=query.entity)
    rows, nxt, prev = keyset_page(
        qs, Sort("created_at", True, "datetime"), query.cursor or None, query.limit, ("id",)
    )
    jobs = {j.pk: j for j in qs.filter(id__in=[r["id"] for r in rows])}
    return page_response([job_out(jobs[r["id"]]) for r in rows if r["id"] in jobs], nxt, prev)


@imports.post("", response={201: JobOut, **WRITE}, summary="Upload a file to import")
def upload(
    request: HttpRequest,
    file: File[UploadedFile],
    entity: Form[Literal[tuple(Entity.values)]],  # type: ignore[valid-type]
    source: Form[str] = "generic",
    mapping_name: Form[str] = "",
    sheet: Form[str] = "",
):
    """Stores the file, detects its encoding, delimiter, sheet and header row, and maps its
    columns (from the saved mapping `mapping_name`, else automatically). Nothing is imported yet."""
    job = services.import_job_create(actor=request.auth, upload=file, filename=upload_name(file, "import"),
                                     entity=entity, source=source, mapping_name=mapping_name, sheet=sheet)  # fmt: skip
    response = object_response(job_out(job), status=201)
    response["Location"] = f"/api/v1/imports/{job.pk}"
    return response


@imports.get("/{int:job_id}", response={200: JobOut, **READ}, summary="Get an import")
def get_job(request: HttpRequest, job_id: Id):
    return object_response(job_out(_job(request, job_id)))


@imports.get(
    "/{int:job_id}/preview", response={200: PreviewOut, 422: Error, **READ}, summary="Columns and first rows"
)
def preview(request: HttpRequest, job_id: Id, query: Query[PreviewQuery]):
    return json_response(services.import_job_preview(_job(request, job_id), rows=query.rows))


@imports.post(
    "/{int:job_id}/configure", response={200: JobOut, **WRITE, 409: Error}, summary="Set mapping and options"
)
def configure(request: HttpRequest, job_id: Id, payload: ConfigureIn):
    """The mapping by column index, the options; `version` as last read (409 when it changed)."""
    job = _job(request, job_id)
    mapping = {}
    for k, v in payload.mapping.items():
        if not k.isdigit() or len(k) > 6:
            raise ValidationError({"mapping": [_("“%(key)s” is not a column number.") % {"key": k}]})
        mapping[int(k)] = v
    job = services.import_job_configure(actor=request.auth, job=job, version=payload.version, mapping=mapping,
                                        options=payload.options.model_dump(), save_as=payload.save_as,
                                        sheet=payload.sheet, header_row=payload.header_row)  # fmt: skip
    return object_response(job_out(job))


@imports.post(
    "/{int:job_id}/dry-run", response={200: ReportOut, **WRITE}, summary="Check every row, write nothing"
)
def dry_run(request: HttpRequest, job_id: Id):
    return json_response(services.import_job_dry_run(actor=request.auth, job=_job(request, job_id)))


@imports.post(
    "/{int:job_id}/start", response={202: JobOut, **WRITE}, summary="Run the import in the background"
)
def start(request: HttpRequest, job_id: Id):
    """Queues the run; a failed run is resumed after its last committed chunk."""
    job = services.import_job_start(actor=request.auth, job=_job(request, job_id))
    return object_response(job_out(job), status=202)


@imports.get("/{int:job_id}/progress", response={200: ProgressOut, **READ}, summary="Progress of the run")
def progress(request: HttpRequest, job_id: Id):
    return json_response(services.import_job_progress(_job(request, job_id)))


@imports.get("/{int:job_id}/rejected", response={200: None, **READ}, summary="Rejected rows (CSV)")
def rejected(request: HttpRequest, job_id: Id):
    """The rejected rows in the file's own columns, plus "Reason" (UTF-8 with BOM)."""
    job = _job(request, job_id)
    path = services.rejected_rows_file(job)
    stem = job.filename.rsplit(".", 1)[0] or "import"
    response = FileResponse(path.open("rb"), as_attachment=True, filename=f"{stem}-rejected.csv",
                            content_type="text/csv; charset=utf-8")  # fmt: skip
    response["X-Content-Type-Options"] = "nosniff"
    return response


@imports.post("/{int:job_id}/undo", response={200: UndoOut, **WRITE}, summary="Undo an import")
def undo(request: HttpRequest, job_id: Id):
    """Deletes the records the import created and restores those it updated or merged into
    (fields changed since are kept). 422 saying why when records it created have been worked on."""
    return json_response(services.import_undo(actor=request.auth, job=_job(request, job_id)))


# --- saved mappings -----------------------------------------------------------------------------


def mapping_out(t: MappingTemplate) -> dict:
    return {"id": t.pk, "name": t.name, "entity": t.entity, "source": t.source, "mapping": t.mapping,
            "created_by": user_ref(t.created_by) if t.created_by_id else None, "updated_at": t.updated_at,
            "version": t.version}  # fmt: skip


@import_mappings.get("", response={200: MappingPage, **LIST}, summary="List saved mappings")
def list_mappings(request: HttpRequest, query: Query[MappingQuery]):
    qs = selectors.mapping_templates_for_user(request.auth, entity=query.entity or "", source=query.source)
    return json_response({"items": [mapping_out(t) for t in qs.select_related("created_by")[:500]]})


@import_mappings.post("", response={201: MappingOut, **WRITE}, summary="Save a mapping")
def create_mapping(request: HttpRequest, payload: MappingIn):
    """Saves a mapping by header text for your team (a mapping of the same name is replaced)."""
    t = services.mapping_template_save(actor=request.auth, entity=payload.entity, source=payload.source,
                                       name=payload.name, mapping_by_header=payload.mapping)  # fmt: skip
    response = object_response(mapping_out(t), status=201)
    response["Location"] = f"/api/v1/import-mappings/{t.pk}"
    return response


@import_mappings.get("/{int:mapping_id}", response={200: MappingOut, **READ}, summary="Get a saved mapping")
def get_mapping(request: HttpRequest, mapping_id: Id):
    return object_response(mapping_out(selectors.mapping_template_get_for_user(request.auth, mapping_id)))


@import_mappings.delete("/{int:mapping_id}", response={204: None, **DELETE}, summary="Delete a saved mapping")
def delete_mapping(request: HttpRequest, mapping_id: Id):
    t = selectors.mapping_template_get_for_user(request.auth, mapping_id)
    services.mapping_template_delete(actor=request.auth, template=t)
    return HttpResponse(status=204)
