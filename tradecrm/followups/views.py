"""HTML views of follow-ups: "My day", the team view, the customer panel (htmx), the forms, and
the reminder-rules admin. Thin: every object is loaded through a `*_get_for_user` helper ("missing"
and "not yours" are the same 404), every change goes through a service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.ids import parse_id
from tradecrm.customers.models import Status
from tradecrm.customers.selectors import company_get_for_user
from tradecrm.customers.views import _concurrent_message, _save_versioned

from . import selectors, services
from .forms import CompleteForm, FollowUpForm, RuleForm

# where a form posted from decides what an htmx answer re-renders
PLACES = ("panel", "day", "team")


def _place(request) -> str:
    place = request.POST.get("from") or request.GET.get("from") or "panel"
    return place if place in PLACES else "panel"


def _back(request, fallback: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return fallback


def _refresh(request, followup_or_company_id: int, place: str) -> HttpResponse:
    """After a change made by htmx: re-render what the change was made from."""
    if place == "panel":
        response = company_panel(request, followup_or_company_id)
        response["HX-Retarget"] = "#followup-panel"
        response["HX-Reswap"] = "innerHTML"
        return response
    response = HttpResponse(status=204)
    response["HX-Refresh"] = "true"  # "My day" and the team view regroup: reload them whole
    return response


def _warn(request, followup) -> None:
    for w in getattr(followup, "warnings", []):
        messages.warning(request, w)


# --- my day and the team ------------------------------------------------------------------------


@login_required
def my_day(request):
    now = timezone.now()
    day = selectors.my_day(request.user, now)
    return render(
        request,
        "followups/my_day.html",
        {"nav": "followups", "day": day, "now": now, "can_see_team": selectors.can_see_team(request.user)},
    )


@login_required
def team(request):
    user = request.user
    if not selectors.can_see_team(user):
        raise PermissionDenied(_("The team view is for managers and administrators."))
    now = timezone.now()
    view = selectors.team_followups(user, now, parse_id(request.GET.get("member")))
    return render(
        request, "followups/team.html", {"nav": "followups", "view": view, "day": view.day, "now": now}
    )


@login_required
def overdue_badge(request):
    """The nav badge, fetched by htmx after the page rendered (no query on every page)."""
    count = selectors.overdue_count(request.user, timezone.now())
    return render(request, "followups/_badge.html", {"count": count})


# --- a customer's panel -------------------------------------------------------------------------


def _panel(request, company, warnings=(), planned: bool = False) -> HttpResponse:
    data = selectors.company_followups(company, include_closed=3)
    ctx = {"company": company, "open": data["open"], "closed": data["closed"], "now": timezone.now(),
           "warnings": warnings, "planned": planned}  # fmt: skip
    return render(request, "followups/_panel_list.html", ctx)


@login_required
def company_panel(request, company_pk: int):
    return _panel(request, company_get_for_user(request.user, company_pk))


@login_required
@require_http_methods(["GET", "POST"])
def followup_create(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    form = FollowUpForm(request.POST or None, user=request.user, company=company)
    if request.method == "POST" and form.is_valid():
        try:
            followup = services.followup_create(actor=request.user, company=company, data=form.service_data())
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            if request.htmx:
                # the form sits outside the list: the answer replaces the list and the form empties
                response = _panel(request, company, followup.warnings, planned=True)
                response["HX-Retarget"] = "#followup-panel"
                response["HX-Reswap"] = "innerHTML"
                return response
            messages.success(request, _("Follow-up “%(title)s” planned.") % {"title": followup.title})
            _warn(request, followup)
            return redirect("customers:company_detail", pk=company.pk)
    template = "followups/_form.html" if request.htmx else "followups/followup_form.html"
    return render(
        request,
        template,
        {"nav": "customers", "form": form, "company": company, "followup": None, "next": ""},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def followup_edit(request, pk: int):
    followup = selectors.followup_get_for_user(request.user, pk)
    company = followup.company
    form = FollowUpForm(request.POST or None, user=request.user, company=company, followup=followup)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            followup = services.followup_update(actor=request.user, followup=followup,
                                                version=form.cleaned_data.get("version") or 0,
                                                data=form.service_data())  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(request.user, exc))
            stale = True
        else:
            messages.success(request, _("Follow-up saved."))
            _warn(request, followup)
            return redirect(_back(request, reverse("customers:company_detail", args=[company.pk])))
    ctx = {"nav": "customers", "form": form, "company": company, "followup": followup, "stale": stale,
           "next": _back(request, "")}  # fmt: skip
    status = (409 if stale else 422) if form.errors else 200
    return render(request, "followups/followup_form.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def followup_complete(request, pk: int):
    followup = selectors.followup_get_for_user(request.user, pk)
    place = _place(request)
    form = CompleteForm(request.POST or None, initial={"version": followup.version})
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            services.followup_complete(actor=request.user, followup=followup,
                                       version=form.cleaned_data.get("version") or 0, log=form.log_data())  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(request.user, exc))
            stale = True
        else:
            if request.htmx:
                response = _refresh(request, followup.company_id, place)
                if form.log_data() is not None:
                    response["HX-Trigger"] = "followup-logged"  # the timeline reloads its first page
                return response
            messages.success(request, _("Follow-up “%(title)s” done.") % {"title": followup.title})
            return redirect(_back(request, reverse("customers:company_detail", args=[followup.company_id])))
    template = "followups/_complete_form.html" if request.htmx else "followups/complete.html"
    ctx = {"nav": "followups", "form": form, "followup": followup, "place": place, "stale": stale}
    return render(request, template, ctx, status=(409 if stale else 422) if form.errors else 200)


def _simple_change(request, pk: int, service, done_message: str):
    followup = selectors.followup_get_for_user(request.user, pk)
    place = _place(request)
    try:
        service(actor=request.user, followup=followup, version=parse_id(request.POST.get("version")) or 0)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ConcurrentEditError as exc:
        messages.error(request, _concurrent_message(request.user, exc))
    else:
        messages.success(request, done_message % {"title": followup.title})
    if request.htmx:
        return _refresh(request, followup.company_id, place)
    return redirect(_back(request, reverse("customers:company_detail", args=[followup.company_id])))


@login_required
@require_POST
def followup_cancel(request, pk: int):
    return _simple_change(request, pk, services.followup_cancel, _("Follow-up “%(title)s” cancelled."))


@login_required
@require_POST
def followup_reopen(request, pk: int):
    return _simple_change(request, pk, services.followup_reopen, _("Follow-up “%(title)s” reopened."))


@login_required
@require_http_methods(["GET", "POST"])
def followup_delete(request, pk: int):
    followup = selectors.followup_get_for_user(request.user, pk)
    if not services.can_delete_followup(request.user, followup):
        raise PermissionDenied(
            _(
                "Only the assignee, the person who planned it, the customer's owner or a manager may delete a follow-up."
            )
        )
    back = reverse("customers:company_detail", args=[followup.company_id])
    if request.method == "POST":
        services.followup_delete(actor=request.user, followup=followup)
        messages.success(request, _("Follow-up “%(title)s” deleted.") % {"title": followup.title})
        return redirect(back)
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": "customers",
            "title": _("Delete follow-up"),
            "question": _("Delete the follow-up “%(title)s” of %(company)s?")
            % {"title": followup.title, "company": followup.company.name},
            "cancel_url": back,
        },
    )


@login_required
@require_POST
def company_reviewed(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    services.company_mark_reviewed(actor=request.user, company=company)
    messages.success(request, _("Profile of “%(name)s” marked as reviewed.") % {"name": company.name})
    return redirect("customers:company_detail", pk=company.pk)


# --- reminder rules (administrators) ------------------------------------------------------------


def _admin(request) -> None:
    if not request.user.is_admin:
        raise PermissionDenied(_("Only an administrator may see and change reminder rules."))


@login_required
def rule_list(request):
    _admin(request)
    rules = selectors.rule_list()
    labels = dict(Status.choices)
    for r in rules:
        r.status_label = labels.get(r.status, r.status)
    return render(request, "followups/rule_list.html", {"nav": "followups", "rules": rules})


@login_required
@require_http_methods(["GET", "POST"])
def rule_create(request):
    _admin(request)
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.rule_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Rule “%(name)s” created.") % {"name": rule.name})
            return redirect("followups:rule_list")
    return render(request, "followups/rule_form.html", {"nav": "followups", "form": form, "rule": None},
                  status=422 if form.errors else 200)  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk: int):
    rule = selectors.rule_get_for_user(request.user, pk)
    form = RuleForm(request.POST or None, rule=rule)
    stale = False
    if request.method == "POST" and form.is_valid():
        saved, stale = _save_versioned(request, form, services.rule_update, rule=rule)
        if saved:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
            return redirect("followups:rule_list")
    ctx = {"nav": "followups", "form": form, "rule": rule, "stale": stale}
    return render(
        request, "followups/rule_form.html", ctx, status=(409 if stale else 422) if form.errors else 200
    )


@login_required
@require_POST
def rule_toggle(request, pk: int):
    rule = selectors.rule_get_for_user(request.user, pk)
    try:
        services.rule_update(actor=request.user, rule=rule, version=parse_id(request.POST.get("version")) or 0,
                             data={"active": not rule.active})  # fmt: skip
    except ConcurrentEditError as exc:
        messages.error(request, _concurrent_message(request.user, exc))
    else:
        text = _("Rule “%(name)s” switched on.") if rule.active else _("Rule “%(name)s” switched off.")
        messages.success(request, text % {"name": rule.name})
    return redirect("followups:rule_list")


@login_required
@require_http_methods(["GET", "POST"])
def rule_delete(request, pk: int):
    rule = selectors.rule_get_for_user(request.user, pk)
    if request.method == "POST":
        services.rule_delete(actor=request.user, rule=rule)
        messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
        return redirect("followups:rule_list")
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": "followups",
            "title": _("Delete reminder rule"),
            "question": _("Delete the rule “%(name)s”? Follow-ups it created stay.") % {"name": rule.name},
            "cancel_url": reverse("followups:rule_list"),
        },
    )
