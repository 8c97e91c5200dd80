"""The audit trail viewer for administrators (anyone else: 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tradecrm.core.paging import BadCursor

from . import privacy, selectors
from .models import SourceChoices


@login_required
def event_list(request):
    selectors.require_viewer(request.user)
    f, errors = selectors.filters_from_params(request.GET)
    for message in errors.values():
        messages.warning(request, message)
    try:
        rows, nxt, prev = selectors.event_list(request.user, f, cursor=request.GET.get("cursor") or None)
    except BadCursor:
        return redirect(request.path)
    labels = dict(SourceChoices.choices)
    for r in rows:
        r["source_label"] = labels.get(r["source"], r["source"])
    query = request.GET.copy()
    query.pop("cursor", None)
    ctx = {"nav": "audit", "rows": rows, "next_cursor": nxt, "prev_cursor": prev, "f": f,
           "query": query.urlencode(), "sources": SourceChoices.choices, "params": request.GET}  # fmt: skip
    return render(request, "audit/event_list.html", ctx)


@login_required
def event_detail(request, pk: int):
    event = selectors.event_get_for_user(request.user, pk)
    rows, other = selectors.change_rows(event.changes)
    ctx = {"nav": "audit", "e": event, "change_rows": rows, "other": other}
    return render(request, "audit/event_detail.html", ctx)


# --- data-subject requests (privacy.py) ---------------------------------------------------------


def _privacy_company(request, pk: int):
    from tradecrm.customers.selectors import company_get_for_user

    company = company_get_for_user(request.user, pk)  # 404 for a customer the user cannot see
    privacy.require_handler(request.user, company)  # 403 for sales reps who can
    return company


@login_required
def company_data_export(request, pk: int):
    company = _privacy_company(request, pk)
    content = privacy.customer_data_export(actor=request.user, company=company)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{privacy.export_filename(company)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def company_erase(request, pk: int):
    from tradecrm.interactions.models import Attachment, Interaction

    company = _privacy_company(request, pk)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm") == "1":
            privacy.customer_data_erase(actor=request.user, company=company)
            messages.success(request, _("The customer's personal data was erased."))
            return redirect("customers:company_detail", company.pk)
        error = _("Tick the box to confirm: the erasure cannot be undone.")
    ctx = {
        "company": company, "error": error, "contacts": company.contacts.count(),
        "interactions": Interaction.objects.filter(company=company).count(),
        "attachments": Attachment.objects.filter(interaction__company=company).count(),
    }  # fmt: skip
    return render(request, "audit/company_erase.html", ctx, status=400 if error else 200)
