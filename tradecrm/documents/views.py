"""HTML views of quotations and proforma invoices: lists, detail pages with their status actions,
the create/edit form with its htmx line editor, and the customer page's card. Thin: every object
is loaded through a `*_get_for_user` selector (missing and not yours are the same 404) and every
change goes through a service."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tradecrm.accounts.access import can_see_costs
from tradecrm.audit.models import AuditEvent
from tradecrm.catalog.models import Product
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.fx import user_today
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import BadCursor
from tradecrm.customers.selectors import companies_for_user, company_get_for_user
from tradecrm.customers.views import _concurrent_message

from . import selectors, services
from .forms import (
    UNIT_CHOICES,
    DocumentForm,
    Editor,
    NoteForm,
    row_from_product,
    rows_from_lines,
    rows_from_post,
    service_lines,
    split_errors,
)
from .models import DocumentStatus, ProformaInvoice, Quotation
from .validation import default_currency, to_date

S = DocumentStatus
PAGE = 50
PDF_LANGUAGES = (("en", "English"), ("zh-hans", "中文"), ("bilingual", "English + 中文"))


def pdf_url(kind: str, pk: int) -> str | None:
    """The print helper's PDF URL of the document, or None while it does not exist."""
    name = f"documents_print:{kind}_pdf"
    for how in ({"args": [pk]}, {"kwargs": {"pk": pk}}):
        try:
            return reverse(name, **how)
        except NoReverseMatch:
            continue
    return None


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- lists --------------------------------------------------------------------------------------


def _filters(request) -> selectors.DocumentFilters:
    g = request.GET
    status = g.get("status", "")
    return selectors.DocumentFilters(
        status=status if status in S.values else "",
        company=parse_id(g.get("company")) if g.get("company") else None,
        owner=(request.user.pk if g.get("owner") == "me" else parse_id(g.get("owner")))
        if g.get("owner")
        else None,
        date_from=to_date(g.get("date_from", "")),
        date_to=to_date(g.get("date_to", "")),
        q=g.get("q", "").replace("\x00", "").strip()[:100],
    )


def _list(request, kind: str):
    f = _filters(request)
    lister = selectors.quotation_list if kind == "quotation" else selectors.proforma_list
    try:
        rows, nxt, prev = lister(request.user, f, cursor=request.GET.get("cursor") or None, limit=PAGE)
    except BadCursor:
        rows, nxt, prev = lister(request.user, f, limit=PAGE)
    labels = dict(S.choices)
    for r in rows:
        r["status_label"] = labels.get(r["status"], r["status"])
    query = request.GET.copy()
    query.pop("cursor", None)
    ctx = {
        "nav": "quotations" if kind == "quotation" else "proformas",
        "kind": kind,
        "rows": rows,
        "next_cursor": nxt,
        "prev_cursor": prev,
        "filters": f,
        "query": query.urlencode(),
        "statuses": S.choices,
        "owner_me": request.GET.get("owner") == "me",
    }
    template = "documents/_list_rows.html" if request.htmx else "documents/document_list.html"
    return render(request, template, ctx)


@login_required
def quotation_list(request):
    return _list(request, "quotation")


@login_required
def proforma_list(request):
    return _list(request, "proforma")


# --- detail -------------------------------------------------------------------------------------


def _last_approval_note(quotation: Quotation):
    if quotation.status != S.DRAFT:
        return None
    return (
        AuditEvent.objects.filter(
            object_type="documents.quotation",
            object_id=quotation.pk,
            action__in=(
                "quotation.approval_reject",
                "quotation.approve",
                "quotation.update",
                "quotation.submit",
            ),
        )  # fmt: skip
        .select_related("actor")
        .order_by("-id")
        .first()
    )


def _detail_context(request, kind: str, doc) -> dict:
    lines = list(doc.lines.all())
    user = request.user
    containers = selectors.containers(doc)
    ctx = {
        "nav": "quotations" if kind == "quotation" else "proformas",
        "kind": kind,
        "doc": doc,
        "lines": lines,
        "containers": containers,
        "container_rows": [(name, containers[name]) for name in ("20GP", "40GP", "40HQ")],
        "margin": selectors.document_margin(user, doc, lines),
        "can_see_costs": can_see_costs(user),
        "editable": doc.status in services.EDITABLE_STATUSES,
        "pdf_url": pdf_url(kind, doc.pk) if doc.number else None,
        "pdf_languages": PDF_LANGUAGES,
        "note_form": NoteForm(),
        "show_discount": any(line.discount_percent for line in lines),
    }
    if kind == "quotation":
        event = _last_approval_note(doc)
        ctx.update(
            history=selectors.quotation_history(doc),
            approval_note=event if event and event.action == "quotation.approval_reject" else None,
            can_approve=services.can_approve(user),
            approval_required=services.approval_required(),
            issue_blockers=services.issue_blockers(doc),
            next_revision=Quotation.objects.filter(previous_id=doc.pk).exclude(status=S.CANCELLED).first(),
            proformas=list(doc.proformas.order_by("-id")[:10]),
        )
    else:
        ctx.update(
            history=selectors.proforma_history(doc),
            next_revision=ProformaInvoice.objects.filter(previous_id=doc.pk)
            .exclude(status=S.CANCELLED)
            .first(),
            bank=doc.bank_account or services.default_bank_account(doc.seller_id, doc.currency),
        )
    return ctx


@login_required
def quotation_detail(request, pk: int):
    doc = selectors.quotation_get_for_user(request.user, pk)
    return render(request, "documents/quotation_detail.html", _detail_context(request, "quotation", doc))


@login_required
def proforma_detail(request, pk: int):
    doc = selectors.proforma_get_for_user(request.user, pk)
    ctx = _detail_context(request, "proforma", doc)
    # the order this PI became (one live order per PI), else the button that makes it
    ctx["order"] = doc.orders.exclude(status="cancelled").only("id", "number").first()
    from tradecrm.automation.approvals import proforma_credit_cleared

    ctx["credit_blocked"] = doc.status == "draft" and not proforma_credit_cleared(doc, request.user)
    return render(request, "documents/proforma_detail.html", ctx)


# --- create and edit ----------------------------------------------------------------------------


def _visible_opportunity(user, opp_id):
    from tradecrm.sales.models import Opportunity

    opp = (
        Opportunity.objects.select_related("company").filter(pk=parse_id(opp_id)).first() if opp_id else None
    )
    if opp is None:
        raise Http404
    company_get_for_user(user, opp.company_id)
    return opp


def _start(request):
    """(company, initial header values, initial rows) from ?company= / ?opportunity= / ?inquiry=."""
    g = request.GET
    initial: dict = {}
    rows: list[dict] = []
    company = None
    if g.get("opportunity"):
        opp = _visible_opportunity(request.user, g["opportunity"])
        company = opp.company
        initial.update(opportunity=str(opp.pk), currency=opp.currency, contact=str(opp.contact_id or ""))
    if g.get("inquiry"):
        from tradecrm.sales.models import Inquiry

        inquiry = Inquiry.objects.filter(pk=parse_id(g["inquiry"]), company__isnull=False).first()
        if inquiry is None:
            raise Http404
        company = company_get_for_user(request.user, inquiry.company_id)
        initial.update(inquiry=str(inquiry.pk), contact=str(inquiry.contact_id or ""))
        if inquiry.target_currency:
            initial["currency"] = inquiry.target_currency
        if inquiry.incoterm:
            initial["incoterm"] = inquiry.incoterm
        if inquiry.destination_port:
            initial["port_of_destination"] = inquiry.destination_port
        if inquiry.opportunity_id:
            initial["opportunity"] = str(inquiry.opportunity_id)
        currency = initial.get("currency") or default_currency(company)
        for item in inquiry.items.select_related("product"):
            if item.product is not None:
                row = row_from_product(item.product, currency=currency, on=user_today(request.user),
                                       quantity=str(item.quantity or ""))  # fmt: skip
            else:
                row = {
                    "name": item.description,
                    "quantity": str(item.quantity or ""),
                    "unit": item.unit or "pcs",
                }
            if item.quantity:
                row["quantity"] = str(item.quantity)
            rows.append(row)
    if company is None and g.get("company"):
        company = company_get_for_user(request.user, g["company"])
    if company is not None:
        initial.setdefault("currency", default_currency(company))
        if not initial.get("contact"):
            primary = company.contacts.filter(is_primary=True).first()
            initial["contact"] = str(primary.pk) if primary else ""
    return company, initial, rows


def _form_page(request, kind: str, doc=None):
    user = request.user
    fixed_company, initial, start_rows = (doc.company if doc else None), {}, []
    if doc is None:
        fixed_company, initial, start_rows = _start(request)
        today = user_today(user)
        initial.setdefault("document_date", today.isoformat())
        if kind == "quotation":
            initial.setdefault("valid_until", (today + dt.timedelta(days=30)).isoformat())
        from .validation import default_seller

        seller = default_seller()
        initial.setdefault("seller", str(seller.pk) if seller else "")
    companies = None
    if fixed_company is None and doc is None:
        companies = list(companies_for_user(user).order_by("name").only("id", "name")[:1000])
    form_kwargs = {"kind": kind, "company": fixed_company, "companies": companies, "doc": doc}
    if doc is None:
        form_kwargs["initial"] = initial
    form = DocumentForm(request.POST or None, **form_kwargs)
    inquiry = initial.get("inquiry") or request.POST.get("inquiry", "")
    stale = False
    if request.method == "POST":
        rows = rows_from_post(request.POST)
        editor_errors = None
        if form.is_valid():
            company = fixed_company
            if company is None:
                try:
                    company = company_get_for_user(user, form.cleaned_data.get("company"))
                except Http404:
                    form.add_error("company", _("Choose the customer."))
            if company is not None:
                data = form.service_data()
                if kind == "quotation" and doc is None and inquiry:
                    data["inquiry"] = inquiry
                lines = service_lines(rows, with_costs=can_see_costs(user))
                try:
                    saved = _save(kind, user, doc, company, form, data, lines)
                except ValidationError as exc:
                    header, editor_errors = split_errors(exc)
                    if header:
                        form.apply_errors(ValidationError(header))
                except ConcurrentEditError as exc:
                    form.add_error(None, _concurrent_message(user, exc))
                    stale = True
                else:
                    messages.success(request, _("Saved."))
                    return redirect(f"documents:{kind}_detail", pk=saved.pk)
        currency = request.POST.get("currency") or (doc.currency if doc else "USD")
        on = to_date(request.POST.get("document_date", "")) or user_today(user)
        editor = Editor(
            rows, currency=currency, on=on, errors=editor_errors if editor_errors is not None else {}
        )
    else:
        if doc is not None:
            rows = rows_from_lines(doc.lines.all())
            currency, on = doc.currency, doc.document_date
        else:
            rows = start_rows
            currency, on = initial.get("currency") or "USD", user_today(user)
        editor = Editor(rows, currency=currency, on=on, errors={})
    status = (
        (409 if stale else 422) if (form.errors or editor.has_errors) and request.method == "POST" else 200
    )
    ctx = {
        "nav": "quotations" if kind == "quotation" else "proformas",
        "kind": kind,
        "doc": doc,
        "company": fixed_company,
        "form": form,
        "editor": editor,
        "inquiry": inquiry,
        "stale": stale,
        **_editor_context(user),
    }
    return render(request, "documents/document_form.html", ctx, status=status)


def _save(kind, user, doc, company, form, data, lines):
    version = form.cleaned_data.get("version") or 0
    if kind == "quotation":
        if doc is None:
            return services.quotation_create(actor=user, company=company, data=data, lines=lines)
        return services.quotation_update(actor=user, quotation=doc, version=version, data=data, lines=lines)
    if doc is None:
        return services.proforma_create(actor=user, company=company, data=data, lines=lines)
    return services.proforma_update(actor=user, proforma=doc, version=version, data=data, lines=lines)


def _editor_context(user) -> dict:
    try:
        picker = reverse("catalog:picker")
    except NoReverseMatch:
        picker = ""
    return {"units": UNIT_CHOICES, "can_see_costs": can_see_costs(user), "picker_url": picker}


@login_required
@require_http_methods(["GET", "POST"])
def quotation_create(request):
    return _form_page(request, "quotation")


@login_required
@require_http_methods(["GET", "POST"])
def proforma_create(request):
    return _form_page(request, "proforma")


def _editable_or_back(request, kind: str, doc):
    if doc.status not in services.EDITABLE_STATUSES:
        messages.error(request, services.locked_error(kind, doc).messages[0])
        return redirect(f"documents:{kind}_detail", pk=doc.pk)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def quotation_edit(request, pk: int):
    doc = selectors.quotation_get_for_user(request.user, pk)
    return _editable_or_back(request, "quotation", doc) or _form_page(request, "quotation", doc)


@login_required
@require_http_methods(["GET", "POST"])
def proforma_edit(request, pk: int):
    doc = selectors.proforma_get_for_user(request.user, pk)
    return _editable_or_back(request, "proforma", doc) or _form_page(request, "proforma", doc)


@login_required
@require_POST
def line_editor(request):
    """The htmx line editor: works out every line and the totals again from the posted form;
    `add_product=<id>` adds a row filled from the product, `add_free=1` an empty row,
    `remove=<row>` drops one."""
    rows = rows_from_post(request.POST)
    currency = (request.POST.get("currency") or "USD").strip().upper()[:3]
    on = to_date(request.POST.get("document_date", "")) or user_today(request.user)
    remove = request.POST.get("remove")
    if remove is not None and remove.isdigit() and int(remove) < len(rows):
        rows.pop(int(remove))
    product_id = parse_id(request.POST.get("add_product")) if request.POST.get("add_product") else None
    if product_id:
        product = Product.objects.filter(pk=product_id, active=True).first()
        if product is not None:
            rows.append(row_from_product(product, currency=currency, on=on))
    if request.POST.get("add_free"):
        rows.append({"unit": "pcs"})
    editor = Editor(rows, currency=currency, on=on)
    return render(request, "documents/_line_editor.html", {"editor": editor, **_editor_context(request.user)})


# --- status actions -----------------------------------------------------------------------------


def _version(request) -> int | None:
    return parse_id(request.POST.get("version"))


def _note(request) -> str:
    return (request.POST.get("note") or "").replace("\x00", "").strip()


QUOTATION_ACTIONS = {
    "submit": (lambda r, d: services.quotation_submit(actor=r.user, quotation=d, version=_version(r)),
               _("Submitted for approval.")),
    "approve": (lambda r, d: services.quotation_approve(actor=r.user, quotation=d, version=_version(r),
                                                        note=_note(r)), _("Approved.")),
    "reject-approval": (lambda r, d: services.quotation_approval_reject(actor=r.user, quotation=d, note=_note(r),
                                                                        version=_version(r)),
                        _("Sent back to the author.")),
    "issue": (lambda r, d: services.quotation_issue(actor=r.user, quotation=d, version=_version(r) or 0),
              _("Issued.")),
    "accept": (lambda r, d: services.quotation_accept(actor=r.user, quotation=d, version=_version(r),
                                                      note=_note(r)), _("Marked as accepted by the buyer.")),
    "reject": (lambda r, d: services.quotation_reject(actor=r.user, quotation=d, note=_note(r), version=_version(r)),
               _("Marked as rejected by the buyer.")),
    "expire": (lambda r, d: services.quotation_expire(actor=r.user, quotation=d, version=_version(r)),
               _("Marked as expired.")),
    "cancel": (lambda r, d: services.quotation_cancel(actor=r.user, quotation=d, version=_version(r)),
               _("Cancelled.")),
    "revise": (lambda r, d: services.quotation_revise(actor=r.user, quotation=d),
               _("Revision created: change it and issue it.")),
    "proforma": (lambda r, d: services.proforma_from_quotation(actor=r.user, quotation=d),
                 _("Proforma invoice created from the quotation.")),
}  # fmt: skip
PROFORMA_ACTIONS = {
    "issue": (lambda r, d: services.proforma_issue(actor=r.user, proforma=d, version=_version(r) or 0), _("Issued.")),
    "cancel": (lambda r, d: services.proforma_cancel(actor=r.user, proforma=d, version=_version(r)), _("Cancelled.")),
    "revise": (lambda r, d: services.proforma_revise(actor=r.user, proforma=d),
               _("Revision created: change it and issue it.")),
}  # fmt: skip


def _act(request, kind: str, doc, actions: dict, action: str):
    if action not in actions:
        raise Http404
    run, done = actions[action]
    try:
        result = run(request, doc)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    except ConcurrentEditError as exc:
        messages.error(request, _concurrent_message(request.user, exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You are not allowed to do this."))
    else:
        messages.success(request, done)
        if isinstance(result, ProformaInvoice):
            return redirect("documents:proforma_detail", pk=result.pk)
        if isinstance(result, Quotation):
            return redirect("documents:quotation_detail", pk=result.pk)
    return redirect(f"documents:{kind}_detail", pk=doc.pk)


@login_required
@require_POST
def quotation_action(request, pk: int, action: str):
    doc = selectors.quotation_get_for_user(request.user, pk)
    return _act(request, "quotation", doc, QUOTATION_ACTIONS, action)


@login_required
@require_POST
def proforma_action(request, pk: int, action: str):
    doc = selectors.proforma_get_for_user(request.user, pk)
    return _act(request, "proforma", doc, PROFORMA_ACTIONS, action)


def _delete(request, kind: str, doc, service, list_url: str):
    try:
        service(request, doc)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect(f"documents:{kind}_detail", pk=doc.pk)
    messages.success(request, _("Draft deleted."))
    return redirect(list_url)


@login_required
@require_POST
def quotation_delete(request, pk: int):
    doc = selectors.quotation_get_for_user(request.user, pk)
    return _delete(request, "quotation", doc, lambda r, d: services.quotation_delete(actor=r.user, quotation=d),
                   reverse("documents:quotation_list"))  # fmt: skip


@login_required
@require_POST
def proforma_delete(request, pk: int):
    doc = selectors.proforma_get_for_user(request.user, pk)
    return _delete(request, "proforma", doc, lambda r, d: services.proforma_delete(actor=r.user, proforma=d),
                   reverse("documents:proforma_list"))  # fmt: skip


# --- the customer page's card -------------------------------------------------------------------


@login_required
def company_panel(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    docs = selectors.company_documents(company)
    return render(request, "documents/_company_panel_body.html", {"company": company, **docs})
