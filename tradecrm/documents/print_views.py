"""HTML side of printing: the PDF downloads of quotations and proforma invoices (everyone who
sees the document), and the administrators' pages “Company & bank details” (letterhead, logo, bank
accounts) and “Document templates” (edit, check, preview, put in use). Thin: objects are loaded
through selectors, changes go through print_services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.ids import parse_id
from tradecrm.customers.views import _concurrent_message, _save_versioned

from . import print_selectors as selectors
from . import print_services as services
from . import selectors as document_selectors
from .models import DocumentLanguage, SeriesKind
from .print_forms import BankAccountForm, SellerForm, TemplateForm

NAV = "settings"  # the "More" menu's settings (templates/_nav.html)


def _admin(request) -> None:
    if not services.can_manage_print(request.user):
        raise PermissionDenied(
            _("Only an administrator may change the company details, bank accounts and document templates.")
        )


def pdf_response(document, language: str, *, inline: bool = False) -> HttpResponse:
    """The document's PDF as a download named after its number ("draft-12.pdf" for a draft)."""
    data = services.document_pdf(document, language=language)
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{services.pdf_filename(document)}"'
    response["X-Content-Type-Options"] = "nosniff"
    # a draft changes with every edit; an issued document's bytes never do
    response["Cache-Control"] = (
        "private, max-age=3600" if services.is_issued(document) else "private, no-store"
    )
    return response


def _language(request, document) -> str | None:
    value = request.GET.get("lang") or document.language
    return value if value in services.pdf.LANGUAGES else None


def _bad_language(request) -> HttpResponse:
    return HttpResponseBadRequest(
        _("“%(value)s” is not a document language: use en, zh-hans or bilingual.")
        % {"value": request.GET.get("lang", "")[:20]},
        content_type="text/plain; charset=utf-8",
    )


@login_required
@require_GET
def quotation_pdf(request, pk: int):
    document = document_selectors.quotation_get_for_user(request.user, pk)
    language = _language(request, document)
    return pdf_response(document, language) if language else _bad_language(request)


@login_required
@require_GET
def proforma_pdf(request, pk: int):
    document = document_selectors.proforma_get_for_user(request.user, pk)
    language = _language(request, document)
    return pdf_response(document, language) if language else _bad_language(request)


# --- company & bank details ---------------------------------------------------------------------


@login_required
@require_GET
def seller_list(request):
    _admin(request)
    return render(
        request,
        "documents/print/seller_list.html",
        {"nav": NAV, "sellers": selectors.seller_list(request.user)},
    )


def _seller_form_page(request, form, seller, *, status=200, stale=False):
    ctx = {"nav": NAV, "form": form, "seller": seller, "stale": stale}
    return render(request, "documents/print/seller_form.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def seller_create(request):
    _admin(request)
    form = SellerForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            seller = services.seller_create(actor=request.user, data=form.service_data(),
                                            logo=form.cleaned_data.get("logo"))  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Seller profile “%(name)s” created.") % {"name": seller.name_en})
            return redirect("documents_print:seller_list")
    return _seller_form_page(request, form, None, status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def seller_edit(request, pk: int):
    _admin(request)
    seller = selectors.seller_get_for_user(request.user, pk)
    form = SellerForm(request.POST or None, request.FILES or None, seller=seller)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            services.seller_update(
                actor=request.user, seller=seller, version=form.cleaned_data.get("version") or 0,
                data=form.service_data(), logo=form.cleaned_data.get("logo"),
                remove_logo=bool(form.cleaned_data.get("remove_logo")),
            )  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(request.user, exc))
            stale = True
        else:
            messages.success(request, _("Seller profile “%(name)s” saved.") % {"name": seller.name_en})
            return redirect("documents_print:seller_list")
    status = (409 if stale else 422) if form.errors else 200
    return _seller_form_page(request, form, seller, status=status, stale=stale)


@login_required
@require_http_methods(["GET", "POST"])
def seller_delete(request, pk: int):
    _admin(request)
    seller = selectors.seller_get_for_user(request.user, pk)
    if request.method == "POST":
        try:
            services.seller_delete(actor=request.user, seller=seller)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Seller profile “%(name)s” deleted.") % {"name": seller.name_en})
        return redirect("documents_print:seller_list")
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": NAV,
            "title": _("Delete seller profile"),
            "question": _("Delete the seller profile “%(name)s” with its bank accounts?")
            % {"name": seller.name_en},
            "cancel_url": reverse("documents_print:seller_list"),
        },
    )


@login_required
@require_GET
def seller_logo(request, pk: int):
    """The letterhead logo, for the pages (PDFs read it from the data dir)."""
    seller = selectors.seller_get_for_user(request.user, pk)
    if not seller.logo:
        raise Http404
    try:
        handle = seller.logo.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=300"
    return response


def _account_page(request, form, seller, account, *, status=200, stale=False):
    ctx = {"nav": NAV, "form": form, "seller": seller, "account": account, "stale": stale}
    return render(request, "documents/print/bank_account_form.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def bank_account_create(request, seller_pk: int):
    _admin(request)
    seller = selectors.seller_get_for_user(request.user, seller_pk)
    form = BankAccountForm(request.POST or None, seller=seller)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.bank_account_create(
                actor=request.user, seller=seller, data=form.service_data()
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Bank account “%(account)s” added.") % {"account": account})
            return redirect("documents_print:seller_list")
    return _account_page(request, form, seller, None, status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def bank_account_edit(request, seller_pk: int, pk: int):
    _admin(request)
    account = selectors.bank_account_get_for_user(request.user, pk, seller_id=seller_pk)
    form = BankAccountForm(request.POST or None, account=account)
    stale = False
    if request.method == "POST" and form.is_valid():
        saved, stale = _save_versioned(request, form, services.bank_account_update, account=account)
        if saved:
            messages.success(request, _("Bank account “%(account)s” saved.") % {"account": account})
            return redirect("documents_print:seller_list")
    status = (409 if stale else 422) if form.errors else 200
    return _account_page(request, form, account.seller, account, status=status, stale=stale)


@login_required
@require_http_methods(["GET", "POST"])
def bank_account_delete(request, seller_pk: int, pk: int):
    _admin(request)
    account = selectors.bank_account_get_for_user(request.user, pk, seller_id=seller_pk)
    if request.method == "POST":
        try:
            services.bank_account_delete(actor=request.user, account=account)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Bank account “%(account)s” deleted.") % {"account": account})
        return redirect("documents_print:seller_list")
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": NAV,
            "title": _("Delete bank account"),
            "question": _("Delete the bank account “%(account)s” (%(currency)s, %(swift)s)?")
            % {"account": account, "currency": account.currency, "swift": account.swift},
            "cancel_url": reverse("documents_print:seller_list"),
        },
    )


# --- document templates -------------------------------------------------------------------------


def _in_use_table(templates) -> list[dict]:
    """For each kind and language: the administrator's template in use, or the built-in file."""
    active = {(t.kind, t.language): t for t in templates if t.active}
    kinds = dict(SeriesKind.choices)
    rows = []
    for kind in services.KINDS:
        for language, language_label in DocumentLanguage.choices:
            rows.append({"kind": kind, "kind_label": kinds[kind], "language": language,
                         "language_label": language_label, "template": active.get((kind, language))})  # fmt: skip
    return rows


@login_required
@require_GET
def template_list(request):
    _admin(request)
    templates = selectors.template_list(request.user)
    return render(
        request,
        "documents/print/template_list.html",
        {
            "nav": NAV,
            "templates": templates,
            "in_use": _in_use_table(templates),
            "kinds": services.KINDS,
            "languages": DocumentLanguage.choices,
        },  # fmt: skip
    )


def _template_page(request, form, template, *, status=200, stale=False):
    ctx = {"nav": NAV, "form": form, "template": template, "stale": stale,
           "variables": TEMPLATE_VARIABLES}  # fmt: skip
    return render(request, "documents/print/template_form.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def template_create(request):
    """A new template, prefilled with the built-in file of the kind asked for (?kind=proforma)."""
    _admin(request)
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            try:
                template = services.template_create(actor=request.user, data=form.service_data())
            except ValidationError as exc:
                form.apply_errors(exc)
            else:
                messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
                return redirect("documents_print:template_list")
        return _template_page(request, form, None, status=422 if form.errors else 200)
    kind = request.GET.get("kind") if request.GET.get("kind") in services.KINDS else "quotation"
    language = request.GET.get("language") if request.GET.get("language") in DocumentLanguage.values else "en"
    labels = dict(SeriesKind.choices)
    form = TemplateForm(initial={
        "kind": kind, "language": language, "source": services.builtin_template_source(kind),
        "name": _("%(document)s, own layout") % {"document": labels[kind]},
    })  # fmt: skip
    return _template_page(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, pk: int):
    _admin(request)
    template = selectors.template_get_for_user(request.user, pk)
    form = TemplateForm(request.POST or None, template=template)
    stale = False
    if request.method == "POST" and form.is_valid():
        saved, stale = _save_versioned(request, form, services.template_update, template=template)
        if saved:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
            return redirect("documents_print:template_list")
    status = (409 if stale else 422) if form.errors else 200
    return _template_page(request, form, template, status=status, stale=stale)


def _preview_response(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def template_preview_source(request):
    """The sample document through the text in the form (not saved): the form's “Preview”. A
    template that cannot be used comes back as the form with the reasons on the template field."""
    _admin(request)
    template = None
    if parse_id(request.POST.get("template")):
        template = selectors.template_get_for_user(request.user, request.POST["template"])
    form = TemplateForm(request.POST, template=template)
    if form.is_valid():
        data = form.cleaned_data
        try:
            pdf_bytes = services.template_preview(kind=data["kind"], language=data["language"],
                                                  source=data.get("source") or "")  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            return _preview_response(pdf_bytes, f"preview-{data['kind']}-{data['language']}.pdf")
    return _template_page(request, form, template, status=422)


@login_required
@require_GET
def template_preview(request, pk: int):
    """A saved template with the sample document, in its language (or ?lang=)."""
    _admin(request)
    template = selectors.template_get_for_user(request.user, pk)
    language = request.GET.get("lang") or template.language
    if language not in services.pdf.LANGUAGES:
        return _bad_language(request)
    data = services.template_preview(kind=template.kind, language=language, template=template)
    return _preview_response(data, f"preview-{template.kind}-{language}.pdf")


@login_required
@require_GET
def builtin_preview(request, kind: str):
    """A built-in template file with the sample document."""
    _admin(request)
    if kind not in services.KINDS:
        raise Http404
    language = request.GET.get("lang") or "en"
    if language not in services.pdf.LANGUAGES:
        return _bad_language(request)
    return _preview_response(
        services.template_preview(kind=kind, language=language), f"preview-{kind}-{language}.pdf"
    )


@login_required
@require_POST
def template_toggle(request, pk: int):
    _admin(request)
    template = selectors.template_get_for_user(request.user, pk)
    template = services.template_set_active(actor=request.user, template=template, active=not template.active)
    if template.active:
        messages.success(request, _("Template “%(name)s” is now in use.") % {"name": template.name})
    else:
        messages.success(request, _("Template “%(name)s” is switched off; the built-in layout is used.")
                         % {"name": template.name})  # fmt: skip
    return redirect("documents_print:template_list")


@login_required
@require_http_methods(["GET", "POST"])
def template_delete(request, pk: int):
    _admin(request)
    template = selectors.template_get_for_user(request.user, pk)
    if request.method == "POST":
        services.template_delete(actor=request.user, template=template)
        messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
        return redirect("documents_print:template_list")
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": NAV,
            "title": _("Delete document template"),
            "question": _("Delete the template “%(name)s”?") % {"name": template.name},
            "cancel_url": reverse("documents_print:template_list"),
        },
    )


# What a template may print, shown beside the editor (the context contract of documents/pdf.py).
TEMPLATE_VARIABLES = (
    ("seller", "name, name_zh, address, address_zh, phone, email, website, tax_id, logo"),
    ("buyer", "name, name_local, contact, address, city, country, phone, email"),
    ("doc", "title, number, revision, date, valid_until, currency, sales_rep, show_discount, show_packing, draft"),
    ("lines", "no, sku, name, name_zh, spec, note, hs_code, qty, unit, unit_price, discount, amount, cartons, "
              "gw, nw, cbm"),
    ("totals", "subtotal, discount, total, qty, cartons, gw, nw, cbm, containers, lcl, deposit_percent, deposit, "
               "balance, deposit_due, balance_due"),
    ("terms", "incoterm, incoterm_place, payment, lead_time, port_loading, port_destination, shipping_marks, "
              "packing, remarks"),
    ("bank", "beneficiary, beneficiary_address, bank_name, bank_address, account, swift, iban, intermediary, "
             "currency"),
    ("pdf_language", "en, zh-hans or bilingual"),
)  # fmt: skip
