"""HTML views of the catalogue. Thin: parse the request, call a selector or a service, render.

Every signed-in user reads products and price lists; administrators and managers change them
(a sales rep who opens an edit page gets the 403 page with the reason). Costs, VAT, rebate and
supplier appear only for `can_see_costs` roles, in pages and in exports.

`product_picker` (URL name `catalog:picker`) is the JSON endpoint the quotation form's line
picker calls; its shape is documented on the view.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tradecrm.accounts.access import can_see_costs
from tradecrm.core.api import json_response
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.fx import rate_on
from tradecrm.core.paging import BadCursor
from tradecrm.core.uploads import human_size
from tradecrm.documents.lines import unit_rebate

from . import selectors, services, spreadsheets
from .forms import ImportForm, PriceForm, PriceListForm, ProductForm
from .models import Unit
from .validation import parse_date

PAGE = 50
PENDING_DIR = "catalog-imports"
_TOKEN = re.compile(r"^[0-9a-f]{32}\.(xlsx|xlsm|xls|xlsb|ods|csv|txt|tsv)$")


def _concurrent_message(exc: ConcurrentEditError, user) -> str:
    try:
        zone = ZoneInfo(user.timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    at = timezone.localtime(exc.at, zone).strftime("%Y-%m-%d %H:%M") if exc.at else "?"
    by = exc.by if exc.by and exc.by != "?" else _("someone else")
    return _(
        "This record was changed by %(by)s at %(at)s while you were editing. Your changes were not saved: "
        "reload the page to see the current version, then make your change again."
    ) % {"by": by, "at": at}


def _save_versioned(request, form, update, **target) -> tuple[bool, bool]:
    try:
        update(
            actor=request.user,
            version=form.cleaned_data.get("version") or 0,
            data=form.service_data(),
            **target,
        )
    except ValidationError as exc:
        form.apply_errors(exc)
    except ConcurrentEditError as exc:
        form.add_error(None, _concurrent_message(exc, request.user))
        return False, True
    else:
        return True, False
    return False, False


def _editor(request) -> None:
    services.require_catalog_editor(request.user)


def _plain(value) -> str:
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _price(value) -> str:
    """A unit price with at least two decimals and no trailing zeros beyond: 12.5 → "12.50",
    0.0125 → "0.0125"."""
    text = _plain(value)
    if not text:
        return ""
    whole, _dot, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


# --- product list -------------------------------------------------------------------------------


def _sort_choices():
    return [
        ("name", _("Name A–Z")),
        ("-name", _("Name Z–A")),
        ("sku", _("SKU")),
        ("-updated_at", _("Recently updated")),
    ]


def _filters(request) -> tuple[selectors.ProductFilters, dict]:
    g = {k: v.replace("\x00", "") for k, v in request.GET.items()}
    status = g.get("active", "1")
    if status not in ("1", "0", "all"):
        status = "1"
    filters = selectors.ProductFilters(
        q=g.get("q", "").strip()[:200],
        category=g.get("category", "")[:120],
        active=None if status == "all" else status == "1",
        hs_code=g.get("hs", "").strip()[:14],
        sort=g.get("sort") if g.get("sort") in selectors.PRODUCT_SORTS else "name",
    )
    params = {
        k: v for k, v in (("q", filters.q), ("category", filters.category), ("hs", filters.hs_code)) if v
    }
    if status != "1":
        params["active"] = status
    if filters.sort != "name":
        params["sort"] = filters.sort
    return filters, params


def _unit_labels() -> dict:
    return {k: str(v) for k, v in Unit.choices}


def _decorate(rows: list[dict]) -> None:
    units = _unit_labels()
    for r in rows:
        r["unit_label"] = units.get(r["unit"], r["unit"])
        r["cbm"] = r["carton_cbm"]
        r["hs_display"] = services.format_hs_code(r["hs_code"]) if r["hs_code"] else ""
        for k in ("moq", "carton_cbm"):
            r[k + "_plain"] = _plain(r[k])
        if "purchase_cost_cny" in r:
            r["purchase_cost_cny_plain"] = _price(r["purchase_cost_cny"])


@login_required
def product_list(request):
    user = request.user
    filters, params = _filters(request)
    cursor = request.GET.get("cursor") or None
    try:
        rows, nxt, prev = selectors.product_list(user, filters, cursor=cursor, limit=PAGE)
    except BadCursor:
        rows, nxt, prev = selectors.product_list(user, filters, limit=PAGE)
        cursor = None
    _decorate(rows)
    base = reverse("catalog:product_list")
    page_url = lambda c: f"{base}?{urlencode({**params, 'cursor': c})}"  # noqa: E731
    ctx = {
        "nav": "products",
        "rows": rows,
        "filters": filters,
        "status": params.get("active", "1"),
        "filtered": bool(params.keys() - {"sort"}),
        "costs": can_see_costs(user),
        "can_edit": services.can_edit_catalog(user),
        "next_url": page_url(nxt) if nxt else "",
        "prev_url": page_url(prev) if prev else "",
        "first_url": f"{base}?{urlencode(params)}" if cursor else "",
        "export_url": reverse("catalog:product_export") + (f"?{urlencode(params)}" if params else ""),
    }
    if request.htmx and not request.htmx.boosted:
        response = render(request, "catalog/_product_results.html", ctx)
        here = {**params, "cursor": cursor} if cursor else params
        response["HX-Push-Url"] = f"{base}?{urlencode(here)}" if here else base
    else:
        ctx["categories"] = selectors.product_categories()
        ctx["sorts"] = _sort_choices()
        response = render(request, "catalog/product_list.html", ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- product detail -----------------------------------------------------------------------------


def _price_rows(user, product) -> list[dict]:
    """The product's prices; for cost roles with the margin against the net cost (purchase
    cost minus the export rebate) at today's exchange rate, when there is one."""
    rows = selectors.product_prices(product)
    costs = can_see_costs(user) and product.purchase_cost_cny
    net_cost = None
    if costs:
        net_cost = product.purchase_cost_cny - unit_rebate(
            product.purchase_cost_cny, product.vat_rate, product.tax_rebate_rate
        )
    today = timezone.localdate()
    rates: dict[str, Decimal | None] = {}
    for r in rows:
        r["unit_price_plain"] = _price(r["unit_price"])
        r["min_quantity_plain"] = _plain(r["min_quantity"])
        if net_cost is None:
            continue
        currency = r["price_list__currency"]
        if currency not in rates:
            try:
                rates[currency] = rate_on(currency, "CNY", today).rate
            except ValidationError:  # MissingRate: no rate to CNY recent enough
                rates[currency] = None
        rate = rates[currency]
        if rate and r["unit_price"]:
            revenue = r["unit_price"] * rate
            r["margin_percent"] = ((revenue - net_cost) / revenue * 100).quantize(Decimal("0.1"))
    return rows


@login_required
def product_detail(request, pk: int):
    user = request.user
    product = selectors.product_get_for_user(user, pk)
    costs = can_see_costs(user)
    ctx = {
        "nav": "products",
        "product": product,
        "unit_label": _unit_labels().get(product.unit, product.unit),
        "hs_display": services.format_hs_code(product.hs_code) if product.hs_code else "",
        "photos": selectors.product_photos(product),
        "prices": _price_rows(user, product),
        "costs": costs,
        "can_edit": services.can_edit_catalog(user),
        "n": {
            k: _plain(getattr(product, k))
            for k in (
                "moq",
                "carton_length_cm",
                "carton_width_cm",
                "carton_height_cm",
                "carton_gross_weight_kg",
                "carton_net_weight_kg",
                "carton_cbm",
            )
        },  # fmt: skip
    }
    if costs:
        rebate = (
            unit_rebate(product.purchase_cost_cny, product.vat_rate, product.tax_rebate_rate)
            if product.purchase_cost_cny
            else None
        )
        ctx["cost"] = {
            "purchase": _price(product.purchase_cost_cny),
            "vat": _plain(product.vat_rate),
            "rebate_rate": _plain(product.tax_rebate_rate),
            "rebate": _price(rebate.quantize(Decimal("0.01"))) if rebate is not None else "",
            "net": _price((product.purchase_cost_cny - rebate).quantize(Decimal("0.01")))
            if rebate is not None
            else "",
        }
    if ctx["can_edit"]:
        ctx["price_form"] = PriceForm(by="list", price_lists=list(selectors.price_lists_for_user(user)))
    return render(request, "catalog/product_detail.html", ctx)


# --- product create / edit / delete -------------------------------------------------------------


def _form_ctx(form, product=None, stale=False) -> dict:
    return {
        "nav": "products",
        "form": form,
        "product": product,
        "stale": stale,
        "categories": selectors.product_categories(),
        # "%s" is filled in by the page's script as the dimensions are typed
        "cbm_label": _("From the carton size: %s m³"),
    }


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request):
    _editor(request)
    user = request.user
    form = ProductForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=user, data=form.service_data())
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Product “%(sku)s” created.") % {"sku": product.sku})
            return redirect("catalog:product_detail", pk=product.pk)
    return render(request, "catalog/product_form.html", _form_ctx(form), status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request, pk: int):
    user = request.user
    product = selectors.product_get_for_user(user, pk)
    _editor(request)
    form = ProductForm(request.POST or None, user=user, product=product)
    stale = False
    if request.method == "POST" and form.is_valid():
        saved, stale = _save_versioned(request, form, services.product_update, product=product)
        if saved:
            messages.success(request, _("Product “%(sku)s” saved.") % {"sku": product.sku})
            return redirect("catalog:product_detail", pk=product.pk)
    status = (409 if stale else 422) if form.errors else 200
    return render(request, "catalog/product_form.html", _form_ctx(form, product, stale), status=status)


@login_required
@require_http_methods(["GET", "POST"])
def product_delete(request, pk: int):
    product = selectors.product_get_for_user(request.user, pk)
    _editor(request)
    if request.method == "POST":
        sku = product.sku
        services.product_delete(actor=request.user, product=product)
        messages.success(request, _("Product “%(sku)s” deleted.") % {"sku": sku})
        return redirect("catalog:product_list")
    return render(
        request,
        "catalog/confirm_delete.html",
        {
            "nav": "products",
            "title": _("Delete product"),
            "question": _("Delete the product “%(sku)s %(name)s” with its photos and prices?")
            % {"sku": product.sku, "name": product.name_en},
            "usage": services.product_usage(product),
            "product": product,
            "cancel_url": reverse("catalog:product_detail", args=[product.pk]),
        },
    )


# --- photos -------------------------------------------------------------------------------------


@login_required
@require_POST
def photo_upload(request, pk: int):
    product = selectors.product_get_for_user(request.user, pk)
    _editor(request)
    files = request.FILES.getlist("file")
    if not files:
        messages.error(request, _("Choose a photo to upload."))
    added = 0
    for upload in files[:10]:
        try:
            services.product_photo_add(actor=request.user, product=product, upload=upload)
            added += 1
        except ValidationError as exc:
            messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    if added:
        messages.success(request, ngettext("%(n)d photo added.", "%(n)d photos added.", added) % {"n": added})
    return redirect(reverse("catalog:product_detail", args=[product.pk]) + "#photos")


@login_required
@require_GET
def photo_file(request, pk: int):
    """The photo itself, shown inline: its type was sniffed from the bytes on upload and only
    images are accepted, so the browser is told exactly that type and not to guess."""
    photo = selectors.photo_get_for_user(request.user, pk)
    try:
        handle = photo.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=photo.content_type, filename=photo.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_POST
def photo_delete(request, pk: int):
    photo = selectors.photo_get_for_user(request.user, pk)
    _editor(request)
    product_id = photo.product_id
    services.product_photo_delete(actor=request.user, photo=photo)
    messages.success(request, _("Photo deleted."))
    return redirect(reverse("catalog:product_detail", args=[product_id]) + "#photos")


# --- prices -------------------------------------------------------------------------------------


@login_required
@require_POST
def product_price_set(request, pk: int):
    """Set a price of this product on a list chosen in the form (product page)."""
    user = request.user
    product = selectors.product_get_for_user(user, pk)
    _editor(request)
    form = PriceForm(request.POST, by="list", price_lists=list(selectors.price_lists_for_user(user)))
    form.is_valid()
    try:
        price_list = selectors.price_list_get_for_user(user, form.cleaned_data.get("price_list"))
    except Http404:
        messages.error(request, _("Choose a price list."))
    else:
        _set_price(request, price_list, product, form.cleaned_data)
    return redirect(reverse("catalog:product_detail", args=[product.pk]) + "#prices")


def _set_price(request, price_list, product, data) -> bool:
    try:
        services.price_set(
            actor=request.user,
            price_list=price_list,
            product=product,
            unit_price=data.get("unit_price"),
            min_quantity=data.get("min_quantity"),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
        return False
    messages.success(
        request,
        _("Price of %(sku)s on “%(list)s” saved.") % {"sku": product.sku, "list": price_list.name},
    )
    return True


@login_required
@require_POST
def price_list_price_set(request, pk: int):
    """Set a price on this list for a product given by SKU (price-list page)."""
    user = request.user
    price_list = selectors.price_list_get_for_user(user, pk)
    _editor(request)
    form = PriceForm(request.POST, by="sku")
    form.is_valid()
    sku = (form.cleaned_data.get("sku") or "").strip()
    product = services.sku_owner(sku) if sku else None
    if product is None:
        messages.error(request, _("No product has the SKU “%(sku)s”.") % {"sku": sku})
    else:
        _set_price(request, price_list, product, form.cleaned_data)
    return redirect(reverse("catalog:price_list_detail", args=[price_list.pk]))


@login_required
@require_POST
def price_delete(request, pk: int):
    item = selectors.price_item_get_for_user(request.user, pk)
    _editor(request)
    price_list_id, product_id = item.price_list_id, item.product_id
    services.price_remove(actor=request.user, item=item)
    messages.success(request, _("Price removed."))
    if request.POST.get("next") == "product":
        return redirect(reverse("catalog:product_detail", args=[product_id]) + "#prices")
    return redirect("catalog:price_list_detail", pk=price_list_id)


# --- export / import ----------------------------------------------------------------------------


def _xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def product_export(request):
    """The products of the list's filters as XLSX, through the common export path (the export
    permission, no cost columns for sales reps, an audit event)."""
    from tradecrm.reports.exports import export_prepare
    from tradecrm.reports.views import download_response

    params = {k: v for k, v in request.GET.items() if k not in ("format", "cursor", "sort")}
    try:
        prepared = export_prepare(actor=request.user, entity="products", fmt="xlsx", params=params, via="web")
    except ValidationError as exc:
        problems = [f"{name}: {m}" for name, msgs in exc.message_dict.items() for m in msgs]
        return render(request, "reports/export_error.html", {"problems": problems}, status=400)
    return download_response(prepared)


def _pending_path(user, token: str) -> str:
    return f"{PENDING_DIR}/{user.pk}/{token}"


def _import_view(request, *, run, ctx: dict, done_url: str, done_message):
    """Upload → dry run preview (with every row error) → confirm. Between the two steps the file
    waits under the data dir (media/catalog-imports/<user>/<token>)."""
    user = request.user
    form = ImportForm(request.POST or None, request.FILES or None)
    ctx = {**ctx, "form": form, "result": None, "token": "", "file_name": "",
           "limit": human_size(spreadsheets.MAX_FILE_BYTES)}  # fmt: skip
    template = "catalog/import.html"
    if request.method == "GET":
        return render(request, template, ctx)
    token = request.POST.get("token", "")
    if token:
        path = _pending_path(user, token) if _TOKEN.match(token) else ""
        if not path or not default_storage.exists(path):
            form.is_valid()
            form.add_error(
                "file", _("The uploaded file has expired or was imported already; choose it again.")
            )
            return render(request, template, ctx, status=422)
        file_name = request.POST.get("file_name", "")[:255] or token
        dry_run = request.POST.get("action") != "import"
        with default_storage.open(path, "rb") as fh:
            result = run(file=fh.read(), filename=token, dry_run=dry_run)
        result.file_name = file_name
        if not dry_run and result.ok:
            default_storage.delete(path)
            messages.success(request, done_message(result))
            return redirect(done_url)
        ctx.update(result=result, token=token, file_name=file_name, errors=_errors(result))
        return render(request, template, ctx, status=200 if result.ok else 422)
    upload = form.cleaned_data.get("file") if form.is_valid() else None
    if upload is None:
        form.add_error("file", _("Choose an XLSX or CSV file."))
        return render(request, template, ctx, status=422)
    if upload.size > spreadsheets.MAX_FILE_BYTES:
        form.add_error("file", _("The file is larger than %(limit)s.") % {"limit": ctx["limit"]})
        return render(request, template, ctx, status=413)
    name = upload.name or "upload.xlsx"
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else "xlsx"
    if ext not in ("xlsx", "xlsm", "xls", "xlsb", "ods", "csv", "txt", "tsv"):
        form.add_error("file", _("Choose an XLSX, XLS, ODS or CSV file."))
        return render(request, template, ctx, status=422)
    data = upload.read()
    try:
        result = run(file=data, filename=name, dry_run=True)
    except ValidationError as exc:
        for messages_ in exc.message_dict.values():
            for m in messages_:
                form.add_error("file", m)
        return render(request, template, ctx, status=422)
    token = f"{uuid.uuid4().hex}.{ext}"
    default_storage.save(_pending_path(user, token), ContentFile(data))
    ctx.update(result=result, token=token, file_name=name, errors=_errors(result))
    return render(request, template, ctx, status=200 if result.ok else 422)


def _errors(result) -> list[str]:
    return [spreadsheets.describe_error(e) for e in result.errors]


@login_required
@require_http_methods(["GET", "POST"])
def product_import(request):
    _editor(request)
    user = request.user

    def run(**kw):
        return spreadsheets.products_import(actor=user, **kw)

    def done(result):
        return _("Products imported: %(created)d new, %(updated)d updated, %(unchanged)d unchanged.") % {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }

    return _import_view(
        request,
        run=run,
        ctx={"nav": "products", "kind": "products", "action_url": reverse("catalog:product_import"),
             "back_url": reverse("catalog:product_list")},
        done_url=reverse("catalog:product_list"),
        done_message=done,
    )  # fmt: skip


# --- picker -------------------------------------------------------------------------------------


@login_required
@require_GET
def product_picker(request):
    """JSON for the product picker of quotation / proforma lines.

    GET ?q=<text>&limit=<1..50, default 20>&date=<YYYY-MM-DD, default today>
    → {"items": [{"id", "sku", "name_en", "name_zh", "specification", "hs_code", "unit", "moq",
        "packing": {"units_per_carton", "carton_length_cm", "carton_width_cm", "carton_height_cm",
                    "gross_weight_kg", "net_weight_kg", "cbm"},
        "prices": {"USD": {"unit_price", "min_quantity", "price_list": {"id", "name"},
                           "breaks": [{"min_quantity", "unit_price"}, …]}, …},
        "cost": {"purchase_cost_cny", "vat_rate", "tax_rebate_rate"}   ← managers/admins only
       }, …]}
    Decimals are strings. Active products only, by SKU; `q` searches SKU, names, specification,
    category and HS code."""
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    try:
        limit = max(1, min(int(request.GET.get("limit", 20)), 50))
    except ValueError:
        limit = 20
    try:
        on = parse_date(request.GET["date"]) if request.GET.get("date") else None
    except ValueError:
        on = None
    items = selectors.products_for_picker(request.user, q, limit=limit, on_date=on)
    return json_response({"items": items})


# --- price lists --------------------------------------------------------------------------------


@login_required
def price_list_list(request):
    user = request.user
    return render(
        request,
        "catalog/price_list_list.html",
        {
            "nav": "products",
            "price_lists": selectors.price_list_rows(user),
            "can_edit": services.can_edit_catalog(user),
            "today": timezone.localdate(),
        },
    )


@login_required
def price_list_detail(request, pk: int):
    user = request.user
    price_list = selectors.price_list_get_for_user(user, pk)
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    items = list(selectors.price_list_items(price_list, q=q)[:1000])
    units = _unit_labels()
    for r in items:
        r["unit_label"] = units.get(r["product__unit"], r["product__unit"])
        r["unit_price_plain"] = _price(r["unit_price"])
        r["min_quantity_plain"] = _plain(r["min_quantity"])
    can_edit = services.can_edit_catalog(user)
    return render(
        request,
        "catalog/price_list_detail.html",
        {
            "nav": "products",
            "price_list": price_list,
            "items": items,
            "q": q,
            "truncated": len(items) == 1000,
            "can_edit": can_edit,
            "price_form": PriceForm(by="sku") if can_edit else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def price_list_create(request):
    _editor(request)
    form = PriceListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            price_list = services.price_list_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Price list “%(name)s” created.") % {"name": price_list.name})
            return redirect("catalog:price_list_detail", pk=price_list.pk)
    return render(
        request,
        "catalog/price_list_form.html",
        {"nav": "products", "form": form, "price_list": None},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def price_list_edit(request, pk: int):
    price_list = selectors.price_list_get_for_user(request.user, pk)
    _editor(request)
    form = PriceListForm(request.POST or None, price_list=price_list)
    stale = False
    if request.method == "POST" and form.is_valid():
        saved, stale = _save_versioned(request, form, services.price_list_update, price_list=price_list)
        if saved:
            messages.success(request, _("Price list “%(name)s” saved.") % {"name": price_list.name})
            return redirect("catalog:price_list_detail", pk=price_list.pk)
    return render(
        request,
        "catalog/price_list_form.html",
        {"nav": "products", "form": form, "price_list": price_list, "stale": stale},
        status=(409 if stale else 422) if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def price_list_delete(request, pk: int):
    price_list = selectors.price_list_get_for_user(request.user, pk)
    _editor(request)
    if request.method == "POST":
        name = price_list.name
        services.price_list_delete(actor=request.user, price_list=price_list)
        messages.success(request, _("Price list “%(name)s” deleted.") % {"name": name})
        return redirect("catalog:price_list_list")
    return render(
        request,
        "catalog/confirm_delete.html",
        {
            "nav": "products",
            "title": _("Delete price list"),
            "question": _(
                "Delete the price list “%(name)s” with its %(n)d prices? Quotations already priced from it keep "
                "their prices."
            )
            % {"name": price_list.name, "n": price_list.items.count()},
            "cancel_url": reverse("catalog:price_list_detail", args=[price_list.pk]),
        },
    )


@login_required
@require_GET
def price_list_export(request, pk: int):
    price_list = selectors.price_list_get_for_user(request.user, pk)
    data = spreadsheets.price_list_export_xlsx(request.user, price_list)
    return _xlsx_response(data, f"price-list-{price_list.pk}-{price_list.currency}.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def price_list_import(request, pk: int):
    price_list = selectors.price_list_get_for_user(request.user, pk)
    _editor(request)
    user = request.user

    def run(**kw):
        return spreadsheets.price_list_import(actor=user, price_list=price_list, **kw)

    def done(result):
        return _("Prices imported: %(created)d new, %(updated)d changed, %(unchanged)d unchanged.") % {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        }

    url = reverse("catalog:price_list_detail", args=[price_list.pk])
    return _import_view(
        request,
        run=run,
        ctx={"nav": "products", "kind": "prices", "price_list": price_list,
             "action_url": reverse("catalog:price_list_import", args=[price_list.pk]), "back_url": url},
        done_url=url,
        done_message=done,
    )  # fmt: skip
