"""The exchange-rate pages: the newest rate of every pair with a converter, a pair's history, the
forms, and the CSV import (upload → preview, a dry run → import). Everyone signed in reads;
administrators and managers change rates. Thin: every change goes through core.fx.

Between the preview and the import the upload waits under the data dir
(`media/fx-imports/<user id>/<token>`) so it is not sent twice; the import deletes it, and
uploads left behind are removed after a day.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tradecrm.core import fx
from tradecrm.core import fx_validation as v
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.money import format_money, is_currency, quantize_money
from tradecrm.core.paging import BadCursor
from tradecrm.customers.views import _concurrent_message

from .fx_forms import ConvertForm, ImportForm, RateForm

PAGE = 50
PENDING_DIR = "fx-imports"
PENDING_TTL = dt.timedelta(days=1)
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_PAIR = re.compile(r"^([A-Z]{3})-([A-Z]{3})$")


def _check_can_change(user) -> None:
    if not fx.can_change_rates(user):
        raise PermissionDenied(_("Only administrators and managers may change exchange rates."))


def _ctx(request, **extra) -> dict:
    return {
        "nav": "fx",
        "can_change": fx.can_change_rates(request.user),
        "base_currency": fx.base_currency(),
        "max_age": fx.max_age_days(),
        **extra,
    }


# --- the list and the converter -----------------------------------------------------------------


def _conversion(request) -> dict | None:
    """The converter's answer for the GET parameters amount, frm, to, date; None without them."""
    q = request.GET
    if not q.get("amount"):
        return None
    errors: list[str] = []
    values = {}
    for name, parse, raw in (
        ("amount", v.amount_value, q.get("amount", "")),
        ("frm", v.currency_code, q.get("frm", "")),
        ("to", v.currency_code, q.get("to", "")),
    ):
        try:
            values[name] = parse(raw)
        except v.FieldProblem as exc:
            errors.append(str(exc))
    try:
        values["date"] = v.rate_date(q["date"]) if q.get("date") else fx.user_today(request.user)
    except v.FieldProblem as exc:
        errors.append(str(exc))
    if errors:
        return {"errors": errors}
    try:
        quote = fx.rate_on(values["frm"], values["to"], values["date"])
    except fx.MissingRate as exc:
        return {"errors": exc.messages, "missing": True}
    result = quantize_money(values["amount"] * quote.rate, values["to"])
    return {
        **values,
        "amount_text": format_money(values["amount"], values["frm"]),
        "result": result,
        "result_text": format_money(result, values["to"]),
        "quote": quote,
    }


@login_required
@require_GET
def rate_list(request):
    form = ConvertForm(
        initial={
            "frm": "EUR",
            "to": fx.base_currency(),
            "amount": "100",
            "date": fx.user_today(request.user).isoformat(),
        }
    )
    if request.GET.get("amount"):
        form = ConvertForm(request.GET)
    rows = fx.latest_rates(fx.user_today(request.user))
    for r in rows:
        r["inverse"] = (Decimal(1) / r["rate"]).quantize(Decimal("1e-6")) if r["rate"] else None
    ctx = _ctx(request, rows=rows, form=form, conversion=_conversion(request))
    return render(request, "core/fx_list.html", ctx)


@login_required
@require_GET
def rate_convert(request):
    """The converter's answer, swapped in by htmx."""
    return render(
        request,
        "core/fx_convert.html",
        {"conversion": _conversion(request), "can_change": fx.can_change_rates(request.user)},
    )


# --- a pair's history ---------------------------------------------------------------------------


def _pair(pair: str) -> tuple[str, str]:
    m = _PAIR.match(pair or "")
    if not m or not all(is_currency(c) for c in m.groups()) or m[1] == m[2]:
        raise Http404
    return m[1], m[2]


def _history(request, base: str, quote: str) -> dict:
    cursor = request.GET.get("cursor") or None
    try:
        rows, nxt, prev = fx.rate_list(request.user, fx.RateFilters(base=base, quote=quote), cursor=cursor, limit=PAGE,
                                       fields=(*fx.RATE_FIELDS, "updated_by__username"))  # fmt: skip
    except BadCursor:
        rows, nxt, prev = fx.rate_list(request.user, fx.RateFilters(base=base, quote=quote), limit=PAGE,
                                       fields=(*fx.RATE_FIELDS, "updated_by__username"))  # fmt: skip
    return {"base": base, "quote": quote, "pair": f"{base}-{quote}", "history": rows, "next_cursor": nxt,
            "prev_cursor": prev}  # fmt: skip


@login_required
@require_GET
def rate_pair(request, pair: str):
    base, quote = _pair(pair)
    data = _history(request, base, quote)
    if request.htmx and request.GET.get("cursor"):
        return render(request, "core/fx_history.html", _ctx(request, **data))
    form = None
    if fx.can_change_rates(request.user):
        form = RateForm(initial={"base": base, "quote": quote, "date": fx.user_today(request.user).isoformat(),
                                 "source": "manual"})  # fmt: skip
    return render(request, "core/fx_pair.html", _ctx(request, form=form, **data))


# --- add, edit, delete --------------------------------------------------------------------------


def _set(request, form: RateForm):
    d = form.cleaned_data
    return fx.rate_set(actor=request.user, base=d["base"], quote=d["quote"], date=d["date"], rate=d["rate"],
                       source=d["source"] or "manual")  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def rate_create(request):
    """A day's rate of a pair (replacing that day's rate if there is one). From the pair page,
    htmx swaps the history in place and empties the form."""
    _check_can_change(request.user)
    initial = {
        "date": fx.user_today(request.user).isoformat(),
        "source": "manual",
        "quote": fx.base_currency(),
    }
    form = RateForm(request.POST or None, initial=initial)
    inline = request.POST.get("from") == "pair"
    if request.method == "POST" and form.is_valid():
        try:
            rate = _set(request, form)
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            text = (_("Rate %(base)s→%(quote)s on %(date)s added.") if rate.was_created
                    else _("Rate %(base)s→%(quote)s on %(date)s replaced."))  # fmt: skip
            text %= {"base": rate.base, "quote": rate.quote, "date": rate.date.isoformat()}
            if inline and request.htmx:
                data = _history(request, rate.base, rate.quote)
                fresh = RateForm(initial={"base": rate.base, "quote": rate.quote, "date": rate.date.isoformat(),
                                          "source": rate.source})  # fmt: skip
                return render(
                    request, "core/fx_pair_body.html", _ctx(request, form=fresh, saved=text, **data)
                )
            messages.success(request, text)
            return redirect("core:fx_pair", pair=f"{rate.base}-{rate.quote}")
    status = 422 if form.errors else 200
    if inline and request.htmx:
        return render(request, "core/fx_form_inline.html", _ctx(request, form=form), status=status)
    return render(request, "core/fx_form.html", _ctx(request, form=form, rate=None), status=status)


@login_required
@require_http_methods(["GET", "POST"])
def rate_edit(request, pk: int):
    rate = fx.rate_get_for_user(request.user, pk)
    _check_can_change(request.user)
    form = RateForm(request.POST or None, rate=rate)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            rate = fx.rate_update(actor=request.user, rate_obj=rate, version=form.cleaned_data.get("version") or 0,
                                  data=form.service_data())  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(request.user, exc))
            stale = True
        else:
            messages.success(request, _("Rate %(base)s→%(quote)s on %(date)s saved.")
                             % {"base": rate.base, "quote": rate.quote, "date": rate.date.isoformat()})  # fmt: skip
            return redirect("core:fx_pair", pair=f"{rate.base}-{rate.quote}")
    status = (409 if stale else 422) if form.errors else 200
    return render(
        request, "core/fx_form.html", _ctx(request, form=form, rate=rate, stale=stale), status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def rate_delete(request, pk: int):
    rate = fx.rate_get_for_user(request.user, pk)
    _check_can_change(request.user)
    back = reverse("core:fx_pair", kwargs={"pair": f"{rate.base}-{rate.quote}"})
    label = {
        "base": rate.base,
        "quote": rate.quote,
        "date": rate.date.isoformat(),
        "rate": f"{rate.rate.normalize():f}",
    }
    if request.method == "POST":
        fx.rate_delete(actor=request.user, rate_obj=rate)
        messages.success(request, _("Rate %(base)s→%(quote)s on %(date)s deleted.") % label)
        return redirect(back)
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": "fx",
            "title": _("Delete exchange rate"),
            "question": _(
                "Delete the rate 1 %(base)s = %(rate)s %(quote)s of %(date)s? Documents made with it keep it."
            )
            % label,
            "cancel_url": back,
        },
    )


# --- CSV import ---------------------------------------------------------------------------------


def _pending_path(user, token: str) -> str:
    return f"{PENDING_DIR}/{user.pk}/{token}"


def _drop_stale(user) -> None:
    folder = f"{PENDING_DIR}/{user.pk}"
    try:
        _dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - PENDING_TTL
    for name in files:
        try:
            if default_storage.get_modified_time(f"{folder}/{name}") < cutoff:
                default_storage.delete(f"{folder}/{name}")
        except OSError:
            pass


def _too_big(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > fx.MAX_IMPORT_BYTES + 64 * 1024
    except ValueError:
        return False


def _import_page(request, form, result=None, token="", file_name="", status=200):
    ctx = _ctx(request, form=form, result=result, token=token, file_name=file_name,
               limit_mb=fx.MAX_IMPORT_BYTES // 2**20,
               row_errors=[fx.describe_error(e) for e in result.errors] if result else [])  # fmt: skip
    return render(request, "core/fx_import.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def rate_import(request):
    """GET: the upload form. POST with a file: the preview (a dry run listing every row error).
    POST with the preview's token and `action=import`: the import."""
    user = request.user
    _check_can_change(user)
    if request.method == "GET":
        return _import_page(request, ImportForm())
    too_big = _("The file is larger than %(limit)d MB.") % {"limit": fx.MAX_IMPORT_BYTES // 2**20}
    if _too_big(request):
        form = ImportForm({})
        form.full_clean()
        form.add_error("file", too_big)
        return _import_page(request, form, status=413)
    form = ImportForm(request.POST, request.FILES)
    form.full_clean()
    base = form.cleaned_data.get("base") or None
    token = request.POST.get("token", "")
    if token:
        return _from_pending(request, form, token, base)
    upload = form.cleaned_data.get("file")
    if upload is None:
        form.add_error("file", _("Choose the CSV file."))
        return _import_page(request, form, status=422)
    if upload.size > fx.MAX_IMPORT_BYTES:
        form.add_error("file", too_big)
        return _import_page(request, form, status=413)
    result = fx.rates_import_csv(actor=user, file=upload, filename=upload.name, base=base, dry_run=True)
    if result.errors:
        return _import_page(request, form, result, file_name=upload.name, status=422)
    _drop_stale(user)
    token = uuid.uuid4().hex
    upload.seek(0)
    default_storage.save(_pending_path(user, token), upload)
    return _import_page(request, form, result, token=token, file_name=upload.name)


def _from_pending(request, form, token: str, base: str | None):
    user = request.user
    path = _pending_path(user, token) if _TOKEN.match(token) else ""
    if not path or not default_storage.exists(path):
        form.add_error("file", _("The uploaded file has expired or was imported already; choose it again."))
        return _import_page(request, form, status=422)
    file_name = request.POST.get("file_name", "")[:200] or "upload.csv"
    with default_storage.open(path, "rb") as fh:
        data = fh.read()
    dry_run = request.POST.get("action") != "import"
    result = fx.rates_import_csv(actor=user, file=data, filename=file_name, base=base, dry_run=dry_run)
    if result.errors:
        return _import_page(request, form, result, token=token, file_name=file_name, status=422)
    if dry_run:
        return _import_page(request, form, result, token=token, file_name=file_name)
    default_storage.delete(path)
    messages.success(
        request,
        _(
            "Exchange rates imported from %(file)s: %(created)d new, %(updated)d changed, %(unchanged)d unchanged."
        )
        % {
            "file": file_name,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    )
    url = reverse("core:fx_list")
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)
