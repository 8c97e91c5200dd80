"""HTML pages of merging: choose the records, compare them side by side and pick the surviving
value per field, the history of merges with undo. Thin: records are loaded for the user through
`merge.merge_preview` / `merge.merge_get_for_user` (404 alike for missing and not yours), every
change goes through `merge.company_merge`, `merge.contact_merge` or `merge.merge_undo`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tradecrm.accounts.access import can_reveal
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import BadCursor, Sort, keyset_page
from tradecrm.customers.models import Contact
from tradecrm.customers.selectors import (
    CompanyFilters,
    companies_for_user,
    company_get_for_user,
    company_list,
)

from . import merge
from .models import DuplicatePair, MergeRecord, PairStatus
from .scoring import reason_texts
from .selectors import check_company

SUGGESTIONS = 8
SEARCH_RESULTS = 15


def _ids(request) -> list[int]:
    """Ids from ?ids=1,2 (or repeated ids=1&ids=2 from checkboxes), in order, without repeats;
    anything that is not an id is a 404 like an id nobody may see."""
    out: list[int] = []
    for raw in request.POST.getlist("ids") or request.GET.getlist("ids"):
        for part in raw.split(","):
            if not part.strip():
                continue
            pk = parse_id(part.strip())
            if pk is None:
                raise Http404
            if pk not in out:
                out.append(pk)
    return out[: merge.MAX_RECORDS]


def _url(name: str, ids: list[int], **extra) -> str:
    query = {"ids": ",".join(str(i) for i in ids), **{k: v for k, v in extra.items() if v}}
    return f"{reverse(name)}?{urlencode(query)}"


# --- choosing the records -----------------------------------------------------------------------


def _company_candidates(request, ids: list[int]) -> tuple[list[dict], list[dict]]:
    """(likely duplicates of the chosen companies, search results for ?q=), visible ones only."""
    user = request.user
    suggestions: dict[int, dict] = {}
    pairs = DuplicatePair.objects.filter(entity="company", status=PairStatus.OPEN).filter(
        Q(a_id__in=ids) | Q(b_id__in=ids)
    )
    for p in pairs.order_by("-score")[: SUGGESTIONS * 2]:
        other = p.b_id if p.a_id in ids else p.a_id
        if other not in ids and other not in suggestions:
            suggestions[other] = {"id": other, "score": p.score,
                                  "reasons": reason_texts(p.reasons, masked=not can_reveal(user))}  # fmt: skip
    if ids:
        first = company_get_for_user(user, ids[0])
        values = {f: getattr(first, f) for f in ("name", "name_local", "country", "email", "email_domains",
                                                  "website", "phones", "tax_id")}  # fmt: skip
        for c in check_company(user, values, exclude_id=first.pk, limit=SUGGESTIONS):
            if c.get("visible") and c["id"] not in ids and c["id"] not in suggestions:
                suggestions[c["id"]] = {
                    "id": c["id"],
                    "score": c.get("score"),
                    "reasons": c.get("reasons", []),
                }
    visible = {}
    if suggestions:
        visible = {r["id"]: r for r in companies_for_user(user).filter(pk__in=list(suggestions))
                   .values("id", "name", "country", "city")}  # fmt: skip
    found = [{**visible[pk], **s} for pk, s in suggestions.items() if pk in visible]
    q = (request.GET.get("q") or "").strip()[:100]
    results = []
    if q:
        rows, _n, _p = company_list(user, CompanyFilters(q=q), limit=SEARCH_RESULTS + len(ids))
        results = [r for r in rows if r["id"] not in ids][:SEARCH_RESULTS]
    return found[:SUGGESTIONS], results


def _contact_candidates(request, ids: list[int]) -> tuple[dict | None, list[Contact]]:
    """The customer whose contacts are offered (?company= or the first chosen contact's)."""
    from tradecrm.customers.selectors import contact_get_for_user

    company_id = parse_id(request.GET.get("company"))
    if company_id is None and ids:
        company_id = contact_get_for_user(request.user, ids[0]).company_id
    if company_id is None:
        return None, []
    company = company_get_for_user(request.user, company_id)
    return company, list(Contact.objects.filter(company=company).order_by("id"))


# --- the merge screen ---------------------------------------------------------------------------


def _merge_page(request, entity: str):
    ids = _ids(request)
    name = "merge:companies" if entity == "companies" else "merge:contacts"
    errors: list[str] = []
    keep = parse_id(request.POST.get("keep") or request.GET.get("keep"))
    if request.method == "POST":
        chosen = {k[2:]: v for k, v in request.POST.items() if k.startswith("f_")}
        versions = {k[2:]: v for k, v in request.POST.items() if k.startswith("v_") and v.isdigit()}
        service = merge.company_merge if entity == "companies" else merge.contact_merge
        try:
            record = service(actor=request.user, keep_id=keep, merge_ids=[i for i in ids if i != keep],
                             chosen=chosen, versions=versions)  # fmt: skip
        except ValidationError as exc:
            errors = exc.messages
        except PermissionDenied as exc:
            errors = [str(exc)]
        except ConcurrentEditError:
            errors = [_("One of the records was changed after you opened this page. Check the values again.")]
        else:
            n = len(record.merged_ids)
            messages.success(request, _("Merged %(n)d record(s) into “%(name)s”. You can undo this below.")
                             % {"n": n, "name": merge.merge_summary(record)["kept"]["label"]})  # fmt: skip
            return redirect("merge:detail", pk=record.pk)
    ctx = {"nav": "customers", "entity": entity, "ids": ids, "ids_text": ",".join(map(str, ids)), "errors": errors,
           "self_url": reverse(name), "q": (request.GET.get("q") or "").strip()[:100]}  # fmt: skip
    if ids:
        ctx["preview"] = merge.merge_preview(request.user, entity=entity, ids=ids, keep=keep)
        for f in ctx["preview"]["fields"]:
            f["selected"] = request.POST.get(f"f_{f['name']}") or str(f["default"])
            f["empty"] = not any(v["display"] for v in f["values"])  # nothing to choose: not shown
        for r in ctx["preview"]["records"]:
            r["keep_url"] = _url(name, ids, keep=r["id"])
            r["remove_url"] = _url(
                name, [i for i in ids if i != r["id"]], keep=keep if keep != r["id"] else None
            )
        for rel in ctx["preview"]["related"]:
            rel["cells"] = [rel["counts"].get(r["id"], 0) for r in ctx["preview"]["records"]]
    if entity == "companies":
        ctx["suggestions"], ctx["results"] = (
            _company_candidates(request, ids) if ids or ctx["q"] else ([], [])
        )
        for r in ctx["suggestions"] + ctx["results"]:
            r["add_url"] = _url(name, [*ids, r["id"]], keep=keep)
    else:
        ctx["company"], ctx["contacts"] = _contact_candidates(request, ids)
    return render(request, "dedup/merge/merge_form.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def merge_companies(request):
    return _merge_page(request, "companies")


@login_required
@require_http_methods(["GET", "POST"])
def merge_contacts(request):
    return _merge_page(request, "contacts")


# --- history ------------------------------------------------------------------------------------


@login_required
def merge_list(request):
    qs = merge.merges_for_user(request.user)
    entity = request.GET.get("entity") or ""
    if entity in ("companies", "contacts"):
        qs = qs.filter(entity=merge.ENTITY_NAMES[entity])
    try:
        rows, nxt, prev = keyset_page(qs, Sort("created_at", True, "datetime"), request.GET.get("cursor") or None,
                                      50, ("id", "created_at"))  # fmt: skip
    except BadCursor:
        return redirect(request.path)
    records = MergeRecord.objects.select_related("actor", "undone_by").in_bulk([r["id"] for r in rows])
    items = [merge.merge_summary(records[r["id"]]) for r in rows]
    ctx = {"nav": "customers", "items": items, "next_cursor": nxt, "prev_cursor": prev, "entity": entity}
    return render(request, "dedup/merge/merge_list.html", ctx)


@login_required
def merge_detail(request, pk: int):
    record = merge.merge_get_for_user(request.user, pk)
    return render(request, "dedup/merge/merge_detail.html",
                  {"nav": "customers", "m": merge.merge_summary(record), "record": record})  # fmt: skip


@login_required
@require_POST
def merge_undo(request, pk: int):
    record = merge.merge_get_for_user(request.user, pk)
    try:
        result = merge.merge_undo(actor=request.user, record=record)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Merge undone: the merged records are back with their history."))
        if result["fields_kept"]:
            messages.warning(request, _("Changed since the merge, so left as they are: %(fields)s.")
                             % {"fields": ", ".join(result["fields_kept"])})  # fmt: skip
        if result["gone"] or result["skipped"]:
            messages.warning(request, _(
                "%(n)d related record(s) could not be moved back: they were moved or deleted after the merge."
            ) % {"n": result["gone"] + len(result["skipped"])})  # fmt: skip
    return redirect("merge:detail", pk=record.pk)
