"""HTML views (thin) of customs records: the list with its filters, a record's page (with linking
to a customer for managers), and the lazily loaded panel on the customer page. Every object is
loaded through a `*_get_for_user` helper ("missing" and "not yours" are the same 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tradecrm.core.paging import BadCursor
from tradecrm.customers.selectors import companies_for_user, company_get_for_user

from . import selectors, services
from .forwarders import consignee_kind

LINK_CANDIDATES = 10


@login_required
def record_list(request):
    user = request.user
    f, errors = selectors.filters_from_params(request.GET)
    if not selectors.can_see_unlinked(user) and f.linked in ("unlinked", "forwarder"):
        f.linked = ""
    for message in errors.values():
        messages.warning(request, message)
    try:
        rows, nxt, prev = selectors.customs_record_list(user, f, cursor=request.GET.get("cursor") or None)
    except BadCursor:
        return redirect(request.path)
    company = None
    if f.company is not None:
        try:
            company = company_get_for_user(user, f.company)
        except Http404:
            company = None
    query = request.GET.copy()
    query.pop("cursor", None)
    ctx = {
        "nav": "customs", "rows": rows, "next_cursor": nxt, "prev_cursor": prev, "f": f, "company": company,
        "query": query.urlencode(), "can_see_unlinked": selectors.can_see_unlinked(user),
        "params": request.GET,
    }  # fmt: skip
    return render(request, "customs/record_list.html", ctx)


def _candidates(user, text: str) -> list:
    text = " ".join(text.split())[:100]
    if not text:
        return []
    return list(
        companies_for_user(user).filter(name__icontains=text).order_by("name", "id")
        .select_related("owner").only("id", "name", "country", "owner__username", "owner__first_name")[:LINK_CANDIDATES]
    )  # fmt: skip


@login_required
def record_detail(request, pk: int):
    user = request.user
    record = selectors.customs_record_get_for_user(user, pk)
    ctx = {"nav": "customs", "r": record, "kind": consignee_kind(record.importer_name),
           "can_link": selectors.can_link(user)}  # fmt: skip
    if ctx["can_link"]:
        search = request.GET.get("cq")
        if search is None:
            search = record.importer_key if not record.is_forwarder else ""
        ctx["cq"] = search
        ctx["candidates"] = _candidates(user, search)
        current = (
            {"company__isnull": True} if record.company_id is None else {"company_id": record.company_id}
        )
        ctx["same_importer_count"] = (
            selectors.customs_records_for_user(user)
            .filter(selectors.same_importer_q(record))
            .filter(**current)
            .count()
        )
    return render(request, "customs/record_detail.html", ctx)


@login_required
@require_POST
def record_link(request, pk: int):
    user = request.user
    record = selectors.customs_record_get_for_user(user, pk)
    if not selectors.can_link(user):
        raise PermissionDenied
    same = request.POST.get("same_importer") == "1"
    try:
        company = company_get_for_user(user, request.POST.get("company"))
    except Http404:
        messages.error(request, _("Choose a customer you can see."))
        return redirect("customs:detail", pk=record.pk)
    try:
        moved = services.customs_record_link(actor=user, record=record, company=company, same_importer=same)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(count)s record(s) linked to %(company)s.") % {"count": moved, "company": company.name},
        )
    return redirect("customs:detail", pk=record.pk)


@login_required
@require_POST
def record_unlink(request, pk: int):
    user = request.user
    record = selectors.customs_record_get_for_user(user, pk)
    if not selectors.can_link(user):
        raise PermissionDenied
    changed = services.customs_record_unlink(
        actor=user, record=record, same_importer=request.POST.get("same_importer") == "1"
    )
    messages.success(request, _("%(count)s record(s) no longer linked to a customer.") % {"count": changed})
    return redirect("customs:detail", pk=record.pk)


@login_required
def company_panel(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    summary = selectors.company_customs_summary(company)
    chart = selectors.trend_chart(summary["trend"]) if summary["count"] else None
    return render(request, "customs/_panel_body.html", {"company": company, "s": summary, "chart": chart})
