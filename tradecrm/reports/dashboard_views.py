"""HTML views of the dashboard (every report as a chart) and of each report's own page (chart +
table + export to XLSX/PDF). Thin: the figures come from `dashboard`, the files from
`report_files`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tradecrm.accounts.access import can_export

from . import dashboard as reports
from . import report_files


def _filters(request):
    """(filters, errors): bad parameters give the form's errors and no figures."""
    try:
        return reports.parse_filters(request.user, request.GET), {}
    except ValidationError as exc:
        return None, exc.message_dict


def _form_context(request, filters, errors) -> dict:
    return {
        "nav": "reports",
        "teams": reports.teams_for(request.user),
        "filters": filters,
        "errors": errors,
        "params": request.GET,
        "query": (filters.as_params() if filters else {}),
        "report_list": list(reports.REPORTS.values()),
        "can_export": can_export(request.user),
    }


@login_required
@require_GET
def dashboard(request):
    filters, errors = _filters(request)
    ctx = _form_context(request, filters, errors)
    ctx["widgets"] = reports.dashboard_data(request.user, filters) if filters else []
    return render(request, "reports/dashboard.html", ctx, status=400 if errors else 200)


@login_required
@require_GET
def report(request, key: str):
    if key not in reports.REPORTS:
        raise Http404
    filters, errors = _filters(request)
    ctx = _form_context(request, filters, errors)
    ctx["report_key"] = key
    ctx["report_title"] = reports.REPORTS[key].title
    ctx["data"] = reports.report_data(request.user, key, filters) if filters else None
    return render(request, "reports/report.html", ctx, status=400 if errors else 200)


@login_required
@require_GET
def report_export(request, key: str):
    if key not in reports.REPORTS:
        raise Http404
    filters, errors = _filters(request)
    if errors:
        problems = [f"{name}: {m}" for name, msgs in errors.items() for m in msgs]
        return render(request, "reports/export_error.html", {"problems": problems}, status=400)
    data = reports.report_data(request.user, key, filters)
    try:
        file = report_files.report_export(actor=request.user, data=data, filters=filters,
                                          fmt=request.GET.get("format") or "xlsx")  # fmt: skip
    except ValidationError as exc:
        problems = [f"{name}: {m}" for name, msgs in exc.message_dict.items() for m in msgs]
        return render(request, "reports/export_error.html", {"problems": problems}, status=400)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response["Cache-Control"] = "no-store"
    return response
