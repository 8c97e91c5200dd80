"""JSON API of exports: any filtered list to CSV or XLSX, streamed.

`GET /api/v1/exports/{list}?format=csv|xlsx&<filters>`: the filters are the query parameters of the
list page (and of the list endpoint) of that list; see `exports.Entity.params`."""

from __future__ import annotations

from typing import Any, Literal

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from tradecrm.core.api import LIST, READ, Error, ValidationErrors, json_response

from . import dashboard as rd
from . import exports as ex
from . import report_files
from .views import download_response

exports = Router(tags=["exports"])
reports = Router(tags=["reports"])

_FILTERS = "\n".join(
    f"- `{key}`: " + ", ".join(f"`{name}`" for name in spec.params) for key, spec in ex.entities().items()
)
DOWNLOAD = {
    "200": {
        "description": "The file, streamed as a download.",
        "content": {ex.CSV_CONTENT_TYPE: {}, ex.XLSX_CONTENT_TYPE: {}},
    }
}


class ExportQuery(Schema):
    format: Literal["csv", "xlsx"] = "csv"


@exports.get(
    "/{entity}",
    response={200: None, **READ, 403: Error, 422: ValidationErrors},
    summary="Export a filtered list as CSV or XLSX",
    description=(
        "Every row of the list matching the filters (the list page's query parameters), the rows you "
        "can see, streamed: CSV is UTF-8 with a BOM, XLSX one sheet per 1,048,575 rows. Headers are "
        "the field names in your language plus `ID`; cost columns only for managers and administrators. "
        "403 without the export permission; 422 naming the parameter for a bad filter value; 404 for a "
        "customer you cannot see. Lists and their filters (`owner`: `me`, an id or a username; `tag`: "
        "an id or a name; `company`: an id, also as `company_id`):\n" + _FILTERS
    ),
    openapi_extra={"responses": DOWNLOAD},
)
def export_list(request: HttpRequest, entity: str, query: Query[ExportQuery]):
    if entity not in ex.ENTITY_KEYS:
        raise Http404
    params = {k: v for k, v in request.GET.items() if k not in ("format", "cursor")}
    prepared = ex.export_prepare(
        actor=request.auth, entity=entity, fmt=query.format, params=params, via="api"
    )
    return download_response(prepared)


# --- report data --------------------------------------------------------------------------------


class ReportQuery(Schema):
    date_from: str = Field(
        "",
        alias="from",
        description="First day of the period (YYYY-MM-DD); "
        "default: the first day of the month eleven months ago.",
    )
    date_to: str = Field("", alias="to", description="Last day of the period (YYYY-MM-DD); default: today.")
    team: str = Field(
        "",
        description="A team id: only that team's (and its sub-teams') customers. "
        "Only teams whose figures you may see.",
    )


class ReportExportQuery(ReportQuery):
    format: Literal["xlsx", "pdf"] = "xlsx"


class ReportRef(Schema):
    key: str
    title: str


class ReportColumn(Schema):
    key: str
    label: str
    kind: str = Field(description="text, int, number, money (a decimal string), percent or days.")


class ReportOut(Schema):
    key: str
    title: str
    description: str
    period: dict[str, Any] = Field(description="{from, to, team} as applied.")
    base_currency: str
    columns: list[ReportColumn]
    rows: list[dict[str, Any]] = Field(description="One object per table row, keyed by the columns' keys.")
    totals: dict[str, Any]
    chart: dict[str, Any] = Field(
        description="The chart's series: {type, categories?, series: [{name, data}]}."
    )
    notes: list[str]


def _report_filters(request: HttpRequest) -> rd.ReportFilters:
    return rd.parse_filters(request.auth, request.GET)


@reports.get("", response={200: list[ReportRef], 401: Error}, summary="List the reports")
def report_list(request: HttpRequest):
    """The reports of the dashboard, each readable at `/api/v1/reports/{key}`."""
    return [{"key": r.key, "title": str(r.title)} for r in rd.REPORTS.values()]


@reports.get("/{key}", response={200: ReportOut, **LIST}, summary="Get a report's data")
def report_get(request: HttpRequest, key: str, query: Query[ReportQuery]):
    """One report's table and chart series for the period and team, over the customers you can see
    (a sales rep: own and followed customers; a manager: the team's; an administrator: all).
    Amounts in the base currency at each order's frozen rate, as decimal strings. 422 naming the
    parameter for a bad date, an end before the start, or a team you may not see; 404 for an
    unknown report."""
    if key not in rd.REPORTS:
        raise Http404
    filters = _report_filters(request)
    data = rd.report_data(request.auth, key, filters)
    out = data.as_json()
    out["period"] = {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat(),
                     "team": filters.team.pk if filters.team else None}  # fmt: skip
    out["base_currency"] = rd.fx.base_currency()
    return json_response(out)


@reports.get(
    "/{key}/export",
    response={200: None, **READ, 403: Error, 422: ValidationErrors},
    summary="Export a report as XLSX or PDF",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file.",
                "content": {report_files.XLSX_CONTENT_TYPE: {}, report_files.PDF_CONTENT_TYPE: {}},
            }
        }
    },
)
def report_export(request: HttpRequest, key: str, query: Query[ReportExportQuery]):
    """The report's table as an XLSX workbook or a one-table PDF; 403 without the export permission."""
    if key not in rd.REPORTS:
        raise Http404
    filters = _report_filters(request)
    data = rd.report_data(request.auth, key, filters)
    file = report_files.report_export(
        actor=request.auth, data=data, filters=filters, fmt=query.format, via="api"
    )
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response["Cache-Control"] = "no-store"
    return response
