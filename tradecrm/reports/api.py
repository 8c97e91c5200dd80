"""JSON API of exports: any filtered list to CSV or XLSX, streamed.

`GET /api/v1/exports/{list}?format=csv|xlsx&<filters>`: the filters are the query parameters of the
list page (and of the list endpoint) of that list; see `exports.Entity.params`."""

from __future__ import annotations

from typing import Literal

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema

from tradecrm.core.api import READ, Error, ValidationErrors

from . import exports as ex
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
