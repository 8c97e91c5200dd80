"""HTML views (thin) of customer analysis: RFM segments, the customers of a segment / stage /
cluster, clusters, the win-back list with its follow-up action, the recommendation rules, and the
customer page's recommendations panel. Customers are loaded through `company_get_for_user`
("missing" and "not yours" are the same 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tradecrm.core.paging import BadCursor
from tradecrm.customers.selectors import company_get_for_user
from tradecrm.grading.models import Lifecycle, RfmSegment

from . import selectors, services
from .clustering import K_DEFAULT, K_MAX, K_MIN
from .models import AssociationRule, ClusterRun, RuleRun


def _query(request) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    return query.urlencode()


@login_required
def segments(request):
    ctx = {"nav": "analysis", **selectors.segment_summary(request.user)}
    return render(request, "analysis/segments.html", ctx)


@login_required
def customer_list(request):
    f, errors = selectors.filters_from_params(request.GET)
    for message in errors.values():
        messages.warning(request, message)
    try:
        rows, nxt, prev = selectors.customer_list(request.user, f, cursor=request.GET.get("cursor") or None)
    except BadCursor:
        return redirect(request.path)
    title = _("Customers")
    if f.segment:
        title = dict(RfmSegment.choices)[f.segment]
    elif f.lifecycle == "winback":
        title = _("Win-back list")
    elif f.lifecycle:
        title = dict(Lifecycle.choices)[f.lifecycle]
    elif f.cluster is not None:
        title = _("Cluster %(n)s") % {"n": f.cluster + 1}
    ctx = {"nav": "analysis", "rows": rows, "next_cursor": nxt, "prev_cursor": prev, "f": f, "title": title,
           "query": _query(request)}  # fmt: skip
    return render(request, "analysis/customer_list.html", ctx)


@login_required
def win_back(request):
    f, errors = selectors.filters_from_params(request.GET)
    for message in errors.values():
        messages.warning(request, message)
    try:
        rows, nxt, prev = selectors.win_back_list(
            request.user, f, today=timezone.localdate(), cursor=request.GET.get("cursor") or None
        )
    except BadCursor:
        return redirect(request.path)
    stages = [(c, n) for c, n in Lifecycle.choices if c in selectors.WIN_BACK_STAGES]
    ctx = {"nav": "analysis", "rows": rows, "next_cursor": nxt, "prev_cursor": prev, "f": f, "stages": stages,
           "query": _query(request)}  # fmt: skip
    return render(request, "analysis/win_back.html", ctx)


@login_required
@require_POST
def win_back_followup(request, company_pk: int):
    user = request.user
    company = company_get_for_user(user, company_pk)
    suggestions = selectors.company_suggestions(company, today=timezone.localdate())
    try:
        followup = services.winback_followup_create(
            actor=user,
            company=company,
            suggestion=request.POST.get("suggestion", ""),
            suggestions=suggestions,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Follow-up planned: %(title)s") % {"title": followup.title})
    return redirect(request.POST.get("next") or "analysis:win_back")


@login_required
def clusters(request):
    summary = selectors.cluster_summary(request.user)
    ctx = {
        "nav": "analysis", "summary": summary, "can_run": services.can_run_analysis(request.user),
        "k_choices": range(K_MIN, K_MAX + 1), "k_default": summary["run"].k if summary else K_DEFAULT,
        "pending": ClusterRun.objects.exclude(status__in=("done",)).first(),
    }  # fmt: skip
    if summary:
        ctx["scatter"] = [
            {"name": f'{c["cluster"] + 1}. {c["name"]}', "recency": c["centroid"]["recency_days"],
             "orders": c["centroid"]["orders"], "amount": c["centroid"]["amount"], "size": c["size"]}
            for c in summary["clusters"]
        ]  # fmt: skip
    return render(request, "analysis/clusters.html", ctx)


@login_required
@require_POST
def cluster_start(request):
    if not services.can_run_analysis(request.user):
        raise PermissionDenied
    try:
        run = services.cluster_run_start(actor=request.user, k=request.POST.get("k", K_DEFAULT))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Clustering run #%(id)s started; the page shows it when it is done.") % {"id": run.pk}
        )
    return redirect("analysis:clusters")


@login_required
def rules(request):
    if not services.can_run_analysis(request.user):
        raise PermissionDenied
    top = (
        AssociationRule.objects.order_by("-lift", "-confidence", "id")
        .values("antecedent_id", "antecedent__name_en", "consequent_id", "consequent__name_en", "support",
                "confidence", "lift", "pair_count", "antecedent_count")[:100]
    )  # fmt: skip
    ctx = {"nav": "analysis", "rules": list(top), "runs": list(RuleRun.objects.all()[:10]),
           "total": AssociationRule.objects.count()}  # fmt: skip
    return render(request, "analysis/rules.html", ctx)


@login_required
@require_POST
def rules_start(request):
    if not services.can_run_analysis(request.user):
        raise PermissionDenied
    try:
        run = services.rule_run_start(actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Recommendations run #%(id)s started.") % {"id": run.pk})
    return redirect("analysis:rules")


@login_required
def company_panel(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    recs = selectors.company_recommendations(company)
    return render(request, "analysis/_panel_body.html", {"company": company, "r": recs})
