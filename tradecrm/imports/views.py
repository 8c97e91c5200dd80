"""HTML views of imports (thin): upload → column mapping and options → dry run report → the run
in the background with a progress bar → rejected rows file, undo. Plus the saved mappings.

Every page that names a job loads it through `selectors.import_job_get_for_user` (its creator,
the managers above the creator's team, admins; 404 for everyone else).

The upload refuses a file over `TRADECRM_IMPORT_MAX_BYTES` from the request's Content-Length,
before anything is read: the CSRF check (which reads the form, and so the whole upload) runs
only after that check.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tradecrm.catalog.services import can_edit_catalog
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.paging import BadCursor, Sort, keyset_page
from tradecrm.core.uploads import human_size, upload_name

from . import selectors, services
from .forms import MappingForm, UploadForm, apply_errors, mapping_initial
from .mapping import apply_template, auto_map, targets
from .models import Entity, JobStatus
from .readers import column_letter
from .sources import SOURCES, sources_for

REPORT_PAGE = 50
LIST_PAGE = 30
ACTIONS = ("created", "updated", "merged", "unchanged", "rejected")
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
EDITABLE = (JobStatus.UPLOADED, JobStatus.CHECKED)
UNDOABLE = (JobStatus.DONE, JobStatus.FAILED)


def _entities(user) -> list[tuple[str, str]]:
    # the catalogue is written by managers and administrators only (see catalog.services)
    return [(v, label) for v, label in Entity.choices if v != Entity.PRODUCTS or can_edit_catalog(user)]


def _source_label(key: str) -> str:
    source = SOURCES.get(key)
    return str(source.label) if source else key


def _concurrent_message(exc: ConcurrentEditError) -> str:
    by = exc.by if exc.by and exc.by != "?" else _("someone else")
    return _(
        "This import was changed by %(by)s while you were looking at it. Your changes were not saved: "
        "check the page again and repeat them."
    ) % {"by": by}


def _messages_of(exc: ValidationError) -> list[str]:
    return [m for ms in exc.message_dict.values() for m in ms] if hasattr(exc, "error_dict") else exc.messages


# --- the list of jobs ---------------------------------------------------------------------------


_LIST_FIELDS = ("id", "filename", "entity", "source", "status", "created_at", "total_rows", "rows_done",
                "rows_read", "created", "updated", "merged", "rejected", "unchanged", "error",
                "created_by__username", "created_by__first_name", "created_by__last_name")  # fmt: skip


@login_required
@require_GET
def job_list(request):
    user = request.user
    qs = selectors.import_jobs_for_user(user)
    status = request.GET.get("status", "")
    if status in JobStatus.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    cursor = request.GET.get("cursor") or None
    sort = Sort("created_at", True, "datetime")
    try:
        rows, nxt, prev = keyset_page(qs, sort, cursor, LIST_PAGE, _LIST_FIELDS)
    except BadCursor:
        return redirect(request.path)
    entities, statuses = dict(Entity.choices), dict(JobStatus.choices)
    for r in rows:
        r["entity_label"] = entities.get(r["entity"], r["entity"])
        r["source_label"] = _source_label(r["source"])
        r["status_label"] = statuses.get(r["status"], r["status"])
        r["by"] = " ".join(filter(None, (r["created_by__first_name"], r["created_by__last_name"]))) or (
            r["created_by__username"] or ""
        )
        r["percent"] = _percent(r["rows_done"], r["total_rows"])
        r["active"] = r["status"] in ACTIVE
    base = reverse("imports:list")
    params = {"status": status} if status else {}
    ctx = {
        "nav": "imports",
        "rows": rows,
        "status": status,
        "statuses": JobStatus.choices,
        "polling": any(r["active"] for r in rows),
        "here": f"{base}?{urlencode({**params, 'cursor': cursor})}"
        if cursor
        else f"{base}?{urlencode(params)}",
        "next_url": f"{base}?{urlencode({**params, 'cursor': nxt})}" if nxt else "",
        "prev_url": f"{base}?{urlencode({**params, 'cursor': prev})}" if prev else "",
    }
    template = (
        "imports/_job_table.html" if request.htmx and not request.htmx.boosted else "imports/job_list.html"
    )
    response = render(request, template, ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _percent(done: int, total: int | None) -> int | None:
    if not total:
        return None
    return max(0, min(100, int(done * 100 / total)))


# --- step 1: upload -----------------------------------------------------------------------------


def _upload_form(request, data=None, files=None):
    user = request.user
    src = data if data is not None else request.GET
    entities = _entities(user)
    entity = src.get("entity") if src.get("entity") in dict(entities) else entities[0][0]
    sources = sources_for(entity)
    source_keys = [s.key for s in sources]
    source = (
        src.get("source") if src.get("source") in source_keys else (source_keys[0] if source_keys else "")
    )
    names = list(
        selectors.mapping_templates_for_user(user, entity=entity, source=source).values_list(
            "name", flat=True
        )
    )
    form = UploadForm(
        data,
        files,
        entities=entities,
        sources=[(s.key, s.label) for s in sources],
        mapping_names=names,
        initial={"entity": entity, "source": source, "mapping_name": src.get("mapping_name", "")},
    )
    return form, {s.key: s for s in sources}.get(source)


def _new_ctx(form, source) -> dict:
    limit = settings.TRADECRM_IMPORT_MAX_BYTES
    return {
        "nav": "imports",
        "form": form,
        "source": source,
        "limit": human_size(limit),
        "limit_bytes": limit,
        "file_errors": form.errors.get("file", []) if form.is_bound else [],
    }


def _too_big(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.TRADECRM_IMPORT_MAX_BYTES


@csrf_exempt  # checked below, once the size is known to be acceptable (see the module's docstring)
@login_required
@require_http_methods(["GET", "POST"])
def job_new(request):
    if request.method == "POST" and _too_big(request):
        form, source = _upload_form(request)  # unbound: the request's form is not read
        message = _(
            "The file is larger than %(limit)s, the most one import takes. Split it into smaller files."
        ) % {"limit": human_size(settings.TRADECRM_IMPORT_MAX_BYTES)}
        ctx = {**_new_ctx(form, source), "file_errors": [message]}
        # the upload is neither parsed nor stored: the answer comes before any of it is read
        return render(request, "imports/job_new.html", ctx, status=413)
    return _job_new(request)


@csrf_protect
def _job_new(request):
    user = request.user
    if request.method == "GET":
        form, source = _upload_form(request)
        if request.htmx and request.GET.get("partial") == "choices":
            return render(request, "imports/_new_choices.html", _new_ctx(form, source))
        return render(request, "imports/job_new.html", _new_ctx(form, source))
    form, source = _upload_form(request, request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data.get("file")
        if upload is None:
            form.add_error("file", _("Choose the file to import."))
        else:
            try:
                job = services.import_job_create(
                    actor=user,
                    upload=upload,
                    filename=upload_name(upload, "import"),
                    entity=form.cleaned_data["entity"],
                    source=form.cleaned_data["source"],
                    mapping_name=form.cleaned_data.get("mapping_name") or "",
                )
            except ValidationError as exc:
                apply_errors(form, exc, default_field="file")
            else:
                return redirect("imports:mapping", pk=job.pk)
    return render(request, "imports/job_new.html", _new_ctx(form, source), status=422)


# --- step 2: columns and options ----------------------------------------------------------------


def _selected(job, headers: list[str]) -> dict[int, str]:
    """The target per column to preselect: the job's mapping (set on upload from the saved mapping
    or automatically), else the automatic one."""
    if job.mapping:
        return {int(k): v for k, v in job.mapping.items() if str(k).isdigit() and int(k) < len(headers)}
    return auto_map(headers, entity=job.entity, source=job.source)


def _mapping_ctx(request, job, form, preview, *, template_note: str = "") -> dict:
    samples = preview.get("samples") or []
    columns = []
    for i, header, field in form.columns():
        values = [row[i] for row in samples if i < len(row) and str(row[i]).strip()]
        columns.append({"index": i, "letter": column_letter(i), "header": header, "field": field,
                        "samples": values[:5]})  # fmt: skip
    user = request.user
    templates = selectors.mapping_templates_for_user(user, entity=job.entity, source=job.source)
    return {
        "nav": "imports",
        "job": job,
        "form": form,
        "columns": columns,
        "preview": preview,
        "mapped": sum(1 for c in columns if c["field"].value()),
        "templates": list(templates.values("id", "name")),
        "template_note": template_note,
        "source_label": _source_label(job.source),
        "entity_label": dict(Entity.choices).get(job.entity, job.entity),
        "delimiter_label": _delimiter_label(preview.get("delimiter") or job.delimiter),
    }


def _delimiter_label(d: str) -> str:
    return {",": _("comma"), ";": _("semicolon"), "\t": _("tab"), "|": _("vertical bar")}.get(d, d)


def _editable_or_redirect(job):
    if job.status in EDITABLE:
        return None
    return redirect("imports:progress", pk=job.pk)


@login_required
@require_http_methods(["GET", "POST"])
def job_mapping(request, pk: int):
    user = request.user
    job = selectors.import_job_get_for_user(user, pk)
    if (response := _editable_or_redirect(job)) is not None:
        return response
    try:
        preview = services.import_job_preview(job, rows=5)
    except ValidationError as exc:  # the stored file can no longer be read (removed, damaged)
        for m in _messages_of(exc):
            messages.error(request, m)
        return redirect("imports:list")
    headers = list(preview.get("headers") or job.headers or [])
    tgts = targets(job.entity, job.source)
    selected = _selected(job, headers)
    template_note = ""
    template_id = request.GET.get("template", "")
    if request.method == "GET" and template_id.isdigit():
        saved = (
            selectors.mapping_templates_for_user(user, entity=job.entity, source=job.source)
            .filter(pk=int(template_id))
            .first()
        )
        if saved is not None:
            selected = apply_template(headers, saved.mapping)
            template_note = _("The columns were set from the saved mapping “%(name)s”.") % {
                "name": saved.name
            }
    form_kw = {"user": user, "job": job, "headers": headers, "targets": tgts, "selected": selected,
               "sheets": list(preview.get("sheets") or [])}  # fmt: skip
    if request.method == "GET":
        form = MappingForm(initial=mapping_initial(user, job), **form_kw)
        return render(
            request,
            "imports/job_mapping.html",
            _mapping_ctx(request, job, form, preview, template_note=template_note),
        )
    form = MappingForm(request.POST, initial=mapping_initial(user, job), **form_kw)
    action = request.POST.get("action", "dry_run")
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        sheet = data.get("sheet") or None
        header_row = data.get("header_row")
        reread = (sheet is not None and sheet != job.sheet) or (header_row and header_row != job.header_row)
        try:
            job = services.import_job_configure(
                actor=user,
                job=job,
                version=data.get("version") or 0,
                mapping={} if reread else form.mapping(),
                options=form.options(user),
                save_as="" if reread else data.get("save_as", ""),
                sheet=sheet,
                header_row=header_row,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(exc))
            status = 409
        else:
            if reread:
                messages.info(request, _("The columns were read again: check where each one goes."))
                return redirect("imports:mapping", pk=job.pk)
            if data.get("save_as"):
                messages.success(request, _("Mapping saved as “%(name)s”.") % {"name": data["save_as"]})
            if action == "start":
                return _start(request, job)
            return _dry_run(request, job)
    return render(
        request, "imports/job_mapping.html", _mapping_ctx(request, job, form, preview), status=status
    )


def _dry_run(request, job):
    try:
        services.import_job_dry_run(actor=request.user, job=job)
    except ValidationError as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
        return redirect("imports:mapping", pk=job.pk)
    return redirect("imports:report", pk=job.pk)


def _start(request, job):
    try:
        services.import_job_start(actor=request.user, job=job)
    except ValidationError as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
        target = "imports:report" if job.report else "imports:mapping"
        return redirect(target, pk=job.pk)
    return redirect("imports:progress", pk=job.pk)


# --- step 3: dry run report ---------------------------------------------------------------------


def _target_url(entity: str, target_id) -> str:
    if not target_id:
        return ""
    name = {
        Entity.COMPANIES: "customers:company_detail",
        Entity.CONTACTS: "customers:contact_edit",
        Entity.PRODUCTS: "catalog:product_detail",
        Entity.CUSTOMS: "customs:detail",
    }.get(entity)
    try:
        return reverse(name, args=[target_id]) if name else ""
    except NoReverseMatch:
        return ""


@login_required
@require_GET
def job_report(request, pk: int):
    job = selectors.import_job_get_for_user(request.user, pk)
    report = job.report or {}
    if not report:
        if job.status in EDITABLE:
            return redirect("imports:mapping", pk=job.pk)
        return redirect("imports:progress", pk=job.pk)
    rows = list(report.get("rows") or [])
    show = request.GET.get("show", "")
    if show in ACTIONS:
        rows = [r for r in rows if r.get("action") == show]
    else:
        show = ""
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    pages = max(1, (len(rows) + REPORT_PAGE - 1) // REPORT_PAGE)
    page = min(page, pages)
    shown = rows[(page - 1) * REPORT_PAGE : page * REPORT_PAGE]
    for r in shown:
        r["url"] = _target_url(job.entity, r.get("target_id")) if r.get("action") != "rejected" else ""
    base = reverse("imports:report", args=[job.pk])

    def page_url(n: int) -> str:
        params = {k: v for k, v in (("show", show), ("page", n if n > 1 else "")) if v}
        return f"{base}?{urlencode(params)}" if params else base

    counts = {k: report.get(k, 0) for k in ("rows_read", *ACTIONS)}
    ctx = {
        "nav": "imports",
        "job": job,
        "report": report,
        "counts": counts,
        "rows": shown,
        "show": show,
        "filters": [(a, counts[a]) for a in ACTIONS],
        "page": page,
        "pages": pages,
        "first_row_number": (page - 1) * REPORT_PAGE,
        "prev_url": page_url(page - 1) if page > 1 else "",
        "next_url": page_url(page + 1) if page < pages else "",
        "base_url": base,
        "can_start": job.status in EDITABLE,
        "checked_at": parse_datetime(str(report.get("checked_at") or "")),
        "source_label": _source_label(job.source),
        "entity_label": dict(Entity.choices).get(job.entity, job.entity),
    }
    return render(request, "imports/job_report.html", ctx)


@login_required
@require_POST
def job_start(request, pk: int):
    job = selectors.import_job_get_for_user(request.user, pk)
    if job.status in ACTIVE or job.status in (JobStatus.DONE, JobStatus.UNDONE):
        return redirect("imports:progress", pk=job.pk)
    return _start(request, job)


# --- step 4: the run ----------------------------------------------------------------------------


def _progress_ctx(job, progress: dict) -> dict:
    status = progress.get("status") or job.status
    percent = progress.get("percent")
    if status == JobStatus.DONE:
        percent = 100
    statuses = dict(JobStatus.choices)
    return {
        "nav": "imports",
        "job": job,
        "p": progress,
        "status": status,
        "status_label": statuses.get(status, status),
        "percent": None if percent is None else max(0, min(100, int(percent))),
        "polling": status in ACTIVE,
        "finished": status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.UNDONE),
        "can_undo": status in UNDOABLE and bool(job.rows_done),
        "can_resume": status == JobStatus.FAILED,
        "has_rejected": bool(progress.get("rejected")) and status in (JobStatus.DONE, JobStatus.FAILED,
                                                                        JobStatus.UNDONE),
        "source_label": _source_label(job.source),
        "entity_label": dict(Entity.choices).get(job.entity, job.entity),
        "list_url": _list_url_for(job.entity),
    }  # fmt: skip


def _list_url_for(entity: str) -> str:
    name = {Entity.COMPANIES: "customers:company_list", Entity.PRODUCTS: "catalog:product_list",
            Entity.CUSTOMS: "customs:list"}.get(entity)  # fmt: skip
    try:
        return reverse(name) if name else ""
    except NoReverseMatch:
        return ""


@login_required
@require_GET
def job_progress(request, pk: int):
    """The run's page. Asked by htmx (every second while the job is queued or running) it answers
    the progress block alone; that block stops asking once the job has finished."""
    job = selectors.import_job_get_for_user(request.user, pk)
    if job.status in EDITABLE and not (request.htmx and not request.htmx.boosted):
        return redirect("imports:report" if job.report else "imports:mapping", pk=job.pk)
    ctx = _progress_ctx(job, services.import_job_progress(job))
    if request.htmx and not request.htmx.boosted:
        response = render(request, "imports/_progress.html", ctx)
    else:
        response = render(request, "imports/job_progress.html", ctx)
    patch_vary_headers(response, ["HX-Request"])
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def job_rejected(request, pk: int):
    job = selectors.import_job_get_for_user(request.user, pk)
    try:
        path = Path(services.rejected_rows_file(job))
    except ValidationError as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
        return redirect("imports:progress", pk=job.pk)
    if not path.exists():
        raise Http404
    stem = job.filename.rsplit(".", 1)[0] or "import"
    response = FileResponse(path.open("rb"), as_attachment=True, filename=f"{stem}-rejected.csv",
                            content_type="text/csv; charset=utf-8")  # fmt: skip
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def job_undo(request, pk: int):
    job = selectors.import_job_get_for_user(request.user, pk)
    if job.status not in UNDOABLE:
        messages.error(request, _("Only a finished (or stopped) import can be undone."))
        return redirect("imports:progress", pk=job.pk)
    if request.method == "POST":
        try:
            result = services.import_undo(actor=request.user, job=job)
        except ValidationError as exc:
            for m in _messages_of(exc):
                messages.error(request, m)
        else:
            messages.success(request, _undo_message(result))
            for kept in (result or {}).get("kept") or []:
                messages.warning(request, kept)
        return redirect("imports:progress", pk=job.pk)
    counts = {k: getattr(job, k) for k in ("created", "updated", "merged")}
    return render(request, "imports/confirm.html", {
        "nav": "imports",
        "title": _("Undo the import"),
        "question": _("Undo the import of “%(name)s”? The %(created)d records it created are deleted and the "
                      "%(changed)d records it updated or merged into get their earlier values back.")
        % {"name": job.filename, "created": counts["created"], "changed": counts["updated"] + counts["merged"]},
        "button": _("Undo the import"),
        "cancel_url": reverse("imports:progress", args=[job.pk]),
        "testid": "confirm-undo",
    })  # fmt: skip


def _undo_message(result) -> str:
    if isinstance(result, dict) and ("deleted" in result or "restored" in result):
        return _(
            "Import undone: %(deleted)d records deleted, %(restored)d given their earlier values back."
        ) % {
            "deleted": int(result.get("deleted") or 0),
            "restored": int(result.get("restored") or 0),
        }
    return _("Import undone.")


# --- saved mappings -----------------------------------------------------------------------------


@login_required
@require_GET
def mapping_list(request):
    user = request.user
    entity = request.GET.get("entity", "")
    entity = entity if entity in Entity.values else ""
    qs = selectors.mapping_templates_for_user(user, entity=entity).select_related("created_by", "team")
    entities = dict(Entity.choices)
    labels: dict[tuple[str, str], dict[str, str]] = {}
    items = []
    for t in qs[:500]:
        key = (t.entity, t.source)
        if key not in labels:
            labels[key] = {x.field: str(x.label) for x in targets(t.entity, t.source)}
        items.append({
            "template": t,
            "entity_label": entities.get(t.entity, t.entity),
            "source_label": _source_label(t.source),
            "pairs": [(header, labels[key].get(field, field)) for header, field in (t.mapping or {}).items()
                      if field],  # "" marks a column deliberately left out
            "can_delete": _can_delete(user, t),
        })  # fmt: skip
    return render(request, "imports/mapping_list.html", {
        "nav": "imports", "items": items, "entity": entity, "entities": Entity.choices,
    })  # fmt: skip


def _can_delete(user, template) -> bool:
    """What the page offers; `mapping_template_delete` decides."""
    if user.is_admin or template.created_by_id == user.pk:
        return True
    return bool(user.is_manager)


@login_required
@require_http_methods(["GET", "POST"])
def mapping_delete(request, pk: int):
    template = selectors.mapping_template_get_for_user(request.user, pk)
    if request.method == "POST":
        name = template.name
        try:
            services.mapping_template_delete(actor=request.user, template=template)
        except ValidationError as exc:
            for m in _messages_of(exc):
                messages.error(request, m)
        except PermissionDenied as exc:
            messages.error(request, str(exc) or _("You may not delete this saved mapping."))
        else:
            messages.success(request, _("Saved mapping “%(name)s” deleted.") % {"name": name})
        return redirect("imports:mappings")
    return render(request, "imports/confirm.html", {
        "nav": "imports",
        "title": _("Delete saved mapping"),
        "question": _("Delete the saved mapping “%(name)s”? Imports already made with it are not changed.")
        % {"name": template.name},
        "button": _("Delete"),
        "danger": True,
        "cancel_url": reverse("imports:mappings"),
        "testid": "confirm-delete-mapping",
    })  # fmt: skip
