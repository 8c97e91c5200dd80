"""HTML views (thin) of the public pool: pools, a pool's customers with Claim / Assign, the rule
editor (administrators), the recall run log, and the lazily loaded card on the customer page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tradecrm.accounts.access import visible_team_ids
from tradecrm.accounts.models import User
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.paging import BadCursor
from tradecrm.customers.selectors import company_get_for_user

from . import selectors, services
from .rules import (
    COUNT_FIELDS,
    DAY_FIELDS,
    DEFAULT_RULES,
    TOUCH_KINDS,
    _labels,
    effective_rules,
    summary,
    tier_codes,
)


def _messages_of(exc: ValidationError) -> list[str]:
    return [m for ms in exc.message_dict.values() for m in ms] if hasattr(exc, "error_dict") else exc.messages


def assignable_users(user) -> list[User]:
    if not services.can_manage(user):
        return []
    qs = User.objects.filter(is_active=True).exclude(role="admin").order_by("first_name", "username")
    if not user.is_admin:
        qs = qs.filter(team_id__in=visible_team_ids(user) or [])
    return list(qs.only("id", "username", "first_name", "last_name")[:500])


@login_required
def pool_list(request):
    ctx = {"nav": "pool", "pools": selectors.pool_list(request.user), "is_admin": request.user.is_admin,
           "claims_today": selectors.claims_today(request.user),
           "can_manage": services.can_manage(request.user)}  # fmt: skip
    return render(request, "pool/pool_list.html", ctx)


@login_required
def pool_detail(request, pk: int):
    user = request.user
    pool = selectors.pool_get_for_user(user, pk)
    f, errors = selectors.filters_from_params(request.GET)
    for message in errors.values():
        messages.warning(request, message)
    try:
        rows, nxt, prev = selectors.pool_entries(pool, f, cursor=request.GET.get("cursor") or None)
    except BadCursor:
        return redirect(request.path)
    query = request.GET.copy()
    query.pop("cursor", None)
    rules = effective_rules(pool)
    ctx = {
        "nav": "pool", "pool": pool, "rows": rows, "next_cursor": nxt, "prev_cursor": prev, "f": f,
        "query": query.urlencode(), "summary": summary(rules), "rules": rules,
        "owners": selectors.previous_owners(pool), "assignees": assignable_users(user),
        "claims_today": selectors.claims_today(user), "is_admin": user.is_admin,
    }  # fmt: skip
    return render(request, "pool/pool_detail.html", ctx)


def _back(request, fallback: str) -> str:
    nxt = request.POST.get("next") or ""
    return nxt if nxt.startswith("/") and not nxt.startswith("//") else fallback


@login_required
@require_POST
def claim(request, company_pk: int):
    entry = selectors.entry_get_for_user(request.user, company_pk)
    back = _back(request, reverse("pool:detail", args=[entry.pool_id]))
    try:
        services.pool_claim(actor=request.user, company_id=entry.company_id)
    except ValidationError as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
        return redirect(back)
    messages.success(request, _("%(company)s is now yours.") % {"company": entry.company.name})
    return redirect(reverse("customers:company_detail", args=[entry.company_id]))


@login_required
@require_POST
def assign(request, company_pk: int):
    entry = selectors.entry_get_for_user(request.user, company_pk)
    back = _back(request, reverse("pool:detail", args=[entry.pool_id]))
    if not services.can_manage(request.user):
        raise PermissionDenied(_("Only managers and administrators may assign customers from the pool."))
    to_id = request.POST.get("owner") or ""
    to_user = User.objects.filter(pk=int(to_id)).first() if to_id.isdigit() else None
    if to_user is None or to_user.id not in {u.id for u in assignable_users(request.user)}:
        messages.error(request, _("Choose the rep to assign the customer to."))
        return redirect(back)
    try:
        services.pool_assign(actor=request.user, company_id=entry.company_id, to_user=to_user)
    except ValidationError as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
        return redirect(back)
    messages.success(request, _("%(company)s assigned to %(rep)s.")
                     % {"company": entry.company.name, "rep": to_user.get_full_name() or to_user.username})  # fmt: skip
    return redirect(back)


@login_required
@require_POST
def release(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    pool = None
    if request.POST.get("pool"):
        raw = request.POST["pool"]
        pool = selectors.pool_get_for_user(request.user, int(raw)) if raw.isdigit() else None
    try:
        services.pool_release(
            actor=request.user, company=company, reason=request.POST.get("reason", ""), pool=pool
        )
    except ValidationError as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
    else:
        messages.success(request, _("%(company)s is in the pool now.") % {"company": company.name})
    return redirect(reverse("customers:company_detail", args=[company.pk]))


@login_required
@require_POST
def lock(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    if request.POST.get("unlock"):
        services.pool_unlock(actor=request.user, company=company)
    else:
        services.pool_lock(actor=request.user, company=company, reason=request.POST.get("reason", ""))
    return redirect(reverse("customers:company_detail", args=[company.pk]))


@login_required
def company_panel(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    state = selectors.company_pool_state(company)
    ctx = {"company": company, "s": state, "moves": selectors.company_moves(company.pk, 5),
           "can_release": bool(company.owner_id) and (company.owner_id == request.user.id
                                                      or services.can_manage(request.user, company)),
           "can_lock": services.can_manage(request.user, company),
           "pools": list(selectors.pools_for_user(request.user).filter(active=True))}  # fmt: skip
    if state.get("entry"):
        ctx["can_claim"] = selectors.pools_for_user(request.user).filter(pk=state["entry"].pool_id).exists()
    return render(request, "pool/_panel_body.html", ctx)


@login_required
def run_list(request):
    if not services.can_manage(request.user):
        raise PermissionDenied(_("The recall log is for managers and administrators."))
    return render(request, "pool/run_list.html", {"nav": "pool", "runs": selectors.runs(100)})


def _rules_from_post(post) -> dict:
    data: dict = {}
    for key in (*DAY_FIELDS, *COUNT_FIELDS):
        if key in post:
            data[key] = post.get(key, "").strip() or None
    data["touch_kinds"] = post.getlist("touch_kinds")
    data["exempt_locked"] = post.get("exempt_locked") == "on"
    data["exempt_tiers"] = post.getlist("exempt_tiers")
    return data


def _pool_form(request, pool):
    if not request.user.is_admin:
        raise PermissionDenied(_("Only administrators may change pools."))
    from tradecrm.accounts.models import Team

    errors: dict[str, list[str]] = {}
    values = effective_rules(pool) if pool else dict(DEFAULT_RULES)
    if request.method == "POST":
        data = {
            "name": request.POST.get("name", ""), "description": request.POST.get("description", ""),
            "countries": request.POST.get("countries", ""), "active": request.POST.get("active") == "on",
            "teams": [t for t in request.POST.getlist("teams") if t.isdigit()], "rules": _rules_from_post(request.POST),
        }  # fmt: skip
        try:
            if pool is None:
                pool = services.pool_create(actor=request.user, data=data)
            else:
                version = request.POST.get("version", "")
                pool = services.pool_update(actor=request.user, pool=pool,
                                            version=int(version) if version.isdigit() else 0, data=data)  # fmt: skip
        except ValidationError as exc:
            errors = exc.message_dict
            values = {**values, **data["rules"]}
        except ConcurrentEditError:
            errors = {
                "__all__": [
                    _("Someone changed this pool meanwhile: reload the page and apply your change again.")
                ]
            }
        else:
            messages.success(request, _("Saved. The rules apply from the next recall run."))
            return redirect(reverse("pool:detail", args=[pool.pk]))
    ctx = {"nav": "pool", "pool": pool, "values": values, "errors": errors, "touch_kinds": TOUCH_KINDS.items(),
           "tiers": tier_codes(), "teams": Team.objects.order_by("name"),
           "team_ids": {t.id for t in pool.teams.all()} if pool else set(), "post": request.POST,
           "fields": [(k, _labels()[k]) for k in (*DAY_FIELDS, *COUNT_FIELDS)]}  # fmt: skip
    return render(request, "pool/pool_rules.html", ctx)


@login_required
def pool_rules(request, pk: int):
    pool = selectors.pool_get_for_user(request.user, pk)  # 404 first: another team's pool is "missing"
    return _pool_form(request, pool)


@login_required
def pool_create(request):
    return _pool_form(request, None)
