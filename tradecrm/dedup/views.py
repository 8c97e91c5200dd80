"""HTML views (thin): the review page of duplicate groups, "Not duplicates", the check-while-typing
panels of the company and contact forms, and "run the sweep now"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tradecrm.core.ids import parse_id
from tradecrm.customers.validation import as_list

from . import selectors
from .api import merge_url
from .sweep import pairs_dismiss

PER_PAGE = 25
CHECK_FIELDS = ("name", "name_local", "country", "email", "email_domains", "website", "phones", "tax_id")
CONTACT_CHECK_FIELDS = ("first_name", "last_name", "name_local", "emails", "phones", "whatsapp")


class Page:
    """The slice of groups shown, with what the template's pager needs."""

    def __init__(self, object_list: list, number: int, num_pages: int, count: int):
        self.object_list, self.number, self.num_pages, self.count = object_list, number, num_pages, count
        self.has_previous = number > 1
        self.has_next = number < num_pages
        self.has_other_pages = num_pages > 1
        self.previous_page_number = number - 1
        self.next_page_number = number + 1


def can_sweep(user) -> bool:
    """Starting the sweep is part of merging duplicates: the roles with "merge" that are not
    limited to their own customers (the sweep reads every record)."""
    from tradecrm.accounts.access import has_action, visibility_scope

    return bool(user.is_admin or (has_action(user, "merge") and visibility_scope(user) != "own"))


def _entity(request) -> str:
    entity = request.GET.get("entity") or request.POST.get("entity") or "companies"
    return entity if entity in ("companies", "contacts") else "companies"


def _threshold(request) -> float | None:
    raw = request.GET.get("threshold") or ""
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0 <= value <= 1 else None


def _owner(r: dict) -> str:
    full = f"{r.get('owner__first_name') or ''} {r.get('owner__last_name') or ''}".strip()
    return full or r.get("owner__username") or ""


@login_required
def duplicate_groups(request):
    """Groups of likely duplicates from the last sweep that the user can see entirely."""
    entity = _entity(request)
    threshold = _threshold(request)
    number = max(1, parse_id(request.GET.get("page") or "1") or 1)
    groups, total = selectors.duplicate_groups_for_user(
        request.user, entity, threshold=threshold, limit=PER_PAGE, offset=(number - 1) * PER_PAGE
    )
    page = Page(groups, number, -(-total // PER_PAGE), total)
    for g in page.object_list:
        g["merge_url"] = merge_url(entity, g["ids"]) if g["size"] <= selectors.SHOW_RECORDS else None
        for r in g["records"]:
            r["owner_name"] = _owner(r)
    ctx = {
        "nav": "duplicates",
        "entity": entity,
        "page": page,
        "threshold": threshold if threshold is not None else selectors.threshold(),
        "can_sweep": can_sweep(request.user),
    }
    template = "dedup/_groups.html" if request.headers.get("HX-Request") else "dedup/groups.html"
    return render(request, template, ctx)


@login_required
@require_POST
def dismiss(request):
    """ "Not duplicates" for every open pair among the posted ids (404 unless all are visible)."""
    entity = _entity(request)
    ids = [parse_id(i) for i in request.POST.getlist("ids")]
    if len(ids) < 2 or None in ids:
        raise Http404
    seen = (selectors.visible_company_ids if entity == "companies" else selectors.visible_contact_ids)(
        request.user, set(ids)
    )
    if seen != set(ids):
        raise Http404
    n = pairs_dismiss(actor=request.user, entity=entity, ids=ids)
    if request.headers.get("HX-Request"):
        return HttpResponse("")  # the group's card disappears
    messages.success(request, _("Marked as not duplicates (%(n)d pairs).") % {"n": n})
    return redirect(f"{request.path.rsplit('dismiss/', 1)[0]}?entity={entity}")


@login_required
@require_POST
def sweep_now(request):
    if not can_sweep(request.user):
        raise PermissionDenied(
            _("Your role may not start the duplicate sweep: it needs the “merge” permission.")
        )
    from .tasks import dedup_sweep_now

    entity = _entity(request)
    dedup_sweep_now(entity)
    messages.success(request, _("The duplicate sweep has started; the list fills when it ends."))
    return redirect(f"{request.path.rsplit('sweep/', 1)[0]}?entity={entity}")


def _form_values(post, fields) -> dict:
    values = {}
    for f in fields:
        v = post.get(f, "")
        if f in ("phones", "email_domains", "emails"):
            values[f] = as_list(v)
        else:
            values[f] = v.strip()
    return values


@login_required
@require_http_methods(["POST"])
def check_company(request):
    """The panel under the company form: existing companies like what is being typed."""
    values = _form_values(request.POST, CHECK_FIELDS)
    exclude = parse_id(request.POST.get("dedup_exclude") or "")
    candidates = selectors.check_company(request.user, values, exclude_id=exclude) if values.get("name") or any(
        values.get(f) for f in ("email", "website", "phones", "tax_id")
    ) else []  # fmt: skip
    return render(
        request,
        "dedup/_check_panel.html",
        {"candidates": candidates, "entity": "companies", "policy": selectors.policy_for("form")},
    )


@login_required
@require_http_methods(["POST"])
def check_contact(request):
    values = _form_values(request.POST, CONTACT_CHECK_FIELDS)
    values["company_id"] = parse_id(request.POST.get("dedup_company") or "")
    exclude = parse_id(request.POST.get("dedup_exclude") or "")
    candidates = selectors.check_contact(request.user, values, exclude_id=exclude)
    return render(
        request,
        "dedup/_check_panel.html",
        {"candidates": candidates, "entity": "contacts", "policy": selectors.policy_for("form")},
    )
