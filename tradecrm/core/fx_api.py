"""JSON API for exchange rates (mounted under /api/v1/exchange-rates).

Every signed-in user reads rates and converts amounts; administrators and managers change them
(others get 403). Lists are keyset paged, newest date first. A CSV import is validated whole
first: with one bad row nothing is imported and the answer (422) lists every row error.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile

from tradecrm.core import fx
from tradecrm.core import fx_validation as v
from tradecrm.core.api import (
    DELETE,
    LIST,
    PATCH,
    READ,
    WRITE,
    Error,
    Id,
    check_delete_version,
    created_response,
    json_response,
    not_modified,
    object_response,
    page_response,
    person_name,
    required_version,
    user_ref,
)
from tradecrm.core.errors import Errors
from tradecrm.core.models import ExchangeRate
from tradecrm.core.money import format_money, quantize_money

from .fx_schemas import (
    ConvertOut,
    ConvertQuery,
    ImportOut,
    ImportRefused,
    RateListQuery,
    RateOut,
    RatePage,
    RatePatch,
    RateSetIn,
)

rates = Router(tags=["exchange rates"])

PLAIN = ("id", "base", "quote", "date", "source", "version", "created_at", "updated_at")
USER = ("updated_by_id", "updated_by__username", "updated_by__first_name", "updated_by__last_name")


def rate_out(rate: ExchangeRate) -> dict:
    out = {k: getattr(rate, k) for k in PLAIN}
    out["rate"] = str(rate.rate)
    out["updated_by"] = user_ref(rate.updated_by)
    return out


def _row(r: dict) -> dict:
    out = {k: r[k] for k in PLAIN}
    out["rate"] = str(r["rate"])
    out["updated_by"] = (
        None
        if r["updated_by_id"] is None
        else {
            "id": r["updated_by_id"],
            "username": r["updated_by__username"],
            "name": person_name(
                r["updated_by__first_name"], r["updated_by__last_name"], r["updated_by__username"]
            ),
        }
    )
    return out


def _may_change(request: HttpRequest) -> None:
    if not fx.can_change_rates(request.auth):
        raise PermissionDenied(_("Only administrators and managers may change exchange rates."))


def _query_values(errors: Errors, **parsers) -> dict:
    out = {}
    for name, (parse, raw) in parsers.items():
        if raw in (None, ""):
            out[name] = None
            continue
        try:
            out[name] = parse(raw)
        except v.FieldProblem as exc:
            errors.add(name, str(exc))
            out[name] = None
    return out


@rates.get("", response={200: RatePage, **LIST}, summary="List exchange rates")
def list_rates(request: HttpRequest, query: Query[RateListQuery]):
    """Newest date first. `base`, `quote`, `date_from`, `date_to` combine with AND."""
    errors = Errors()
    f = _query_values(
        errors,
        base=(v.currency_code, query.base),
        quote=(v.currency_code, query.quote),
        date_from=(v.rate_date, query.date_from),
        date_to=(v.rate_date, query.date_to),
    )
    errors.raise_if_any()
    filters = fx.RateFilters(base=f["base"] or "", quote=f["quote"] or "", date_from=f["date_from"],
                             date_to=f["date_to"])  # fmt: skip
    rows, nxt, prev = fx.rate_list(
        request.auth, filters, cursor=query.cursor or None, limit=query.limit, fields=(*PLAIN, "rate", *USER)
    )
    return page_response([_row(r) for r in rows], nxt, prev)


@rates.post("", response={200: RateOut, 201: RateOut, **WRITE}, summary="Set a day's exchange rate")
def set_rate(request: HttpRequest, payload: RateSetIn):
    """Creates the pair's rate for that day (201) or replaces it (200). Administrators and managers."""
    _may_change(request)
    data = payload.model_dump(exclude_unset=True)
    rate = fx.rate_set(
        actor=request.auth,
        base=data["base"],
        quote=data["quote"],
        date=data["date"],
        rate=data["rate"],
        source=data.get("source") or "manual",
    )
    if rate.was_created:
        return created_response(rate_out(rate), "exchange-rates")
    return object_response(rate_out(rate))


@rates.get("/convert", response={200: ConvertOut, **LIST}, summary="Convert an amount")
def convert_amount(request: HttpRequest, query: Query[ConvertQuery]):
    """`amount` of `from` in `to` with the rate for `date` (the newest on or before it, at most
    the configured number of days old; inverse and cross rates included). 422 when there is none."""
    errors = Errors()
    parsed = _query_values(
        errors,
        amount=(v.amount_value, query.amount),
        from_currency=(v.currency_code, query.from_currency),
        to=(v.currency_code, query.to),
        date=(v.rate_date, query.date),
    )
    if parsed["amount"] is None and "amount" not in errors.by_field:
        errors.add("amount", _("Enter the amount."))
    if "from_currency" in errors.by_field:
        errors.by_field["from"] = errors.by_field.pop("from_currency")
    errors.raise_if_any()
    day = parsed["date"] or fx.user_today(request.auth)
    quote = fx.rate_on(parsed["from_currency"], parsed["to"], day)
    result = quantize_money(parsed["amount"] * quote.rate, parsed["to"])
    return json_response(
        {
            "amount": str(parsed["amount"]),
            "from": parsed["from_currency"],
            "to": parsed["to"],
            "date": day,
            "result": str(result),
            "formatted": format_money(result, parsed["to"]),
            "rate": str(quote.rate),
            "rate_date": quote.date,
            "source": quote.source,
        }
    )


@rates.post(
    "/import",
    response={200: ImportOut, 201: ImportOut, 401: Error, 403: Error, 413: Error, 422: ImportRefused},
    summary="Import exchange rates from CSV",
)
def import_rates(
    request: HttpRequest,
    file: File[UploadedFile],
    base: Form[str] = "",
    dry_run: Form[bool] = False,
):
    """Multipart: `file` (CSV: `date,base,quote,rate[,source]` per row, or a date column and one
    column per currency quoted against `base`, like the ECB files), `base`, `dry_run`. 200 for
    a dry run (nothing written), 201 after importing; 422 with every row error when any row is
    bad, and then nothing is imported."""
    _may_change(request)
    if file.size > fx.MAX_IMPORT_BYTES:
        return json_response(
            {"detail": _("The file is larger than %(limit)d MB.") % {"limit": fx.MAX_IMPORT_BYTES // 2**20}},
            status=413,
        )
    result = fx.rates_import_csv(
        actor=request.auth, file=file, filename=file.name or "upload.csv", base=base or None, dry_run=dry_run
    )
    body = result.as_dict()
    if result.errors:
        body["detail"] = [
            {"field": e["field"] or "file", "message": fx.describe_error(e)} for e in result.errors
        ]
        return json_response(body, status=422)
    return json_response(body, status=200 if dry_run else 201)


@rates.get("/{int:rate_id}", response={200: RateOut, 304: None, **READ}, summary="Get an exchange rate")
def get_rate(request: HttpRequest, rate_id: Id):
    rate = fx.rate_get_for_user(request.auth, rate_id)
    return not_modified(request, rate.version) or object_response(rate_out(rate))


@rates.patch("/{int:rate_id}", response={200: RateOut, **PATCH}, summary="Change an exchange rate")
def patch_rate(request: HttpRequest, rate_id: Id, payload: RatePatch):
    """Send only what changes, plus the `version` you last read (or If-Match)."""
    rate = fx.rate_get_for_user(request.auth, rate_id)
    _may_change(request)
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    rate = fx.rate_update(actor=request.auth, rate_obj=rate, version=version, data=data)
    return object_response(rate_out(rate))


@rates.delete("/{int:rate_id}", response={204: None, **DELETE}, summary="Delete an exchange rate")
def delete_rate(request: HttpRequest, rate_id: Id):
    """Documents keep the rate they were made with; only later lookups change."""
    rate = fx.rate_get_for_user(request.auth, rate_id)
    _may_change(request)
    check_delete_version(request, rate)
    fx.rate_delete(actor=request.auth, rate_obj=rate)
    return HttpResponse(status=204)
