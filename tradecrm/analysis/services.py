"""Writes of customer analysis: starting a clustering run or a rules computation (managers and
administrators; the work runs in the worker after commit) and planning a follow-up from a win-back
suggestion (through the follow-up service)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.accounts.models import Role
from tradecrm.audit.services import audit_record
from tradecrm.core.errors import ValidationError
from tradecrm.followups.models import FollowUp

from .clustering import K_MAX, K_MIN
from .models import ClusterRun, RuleRun, RunStatus


def can_run_analysis(user) -> bool:
    """Clustering and rules are computed over every customer: managers and administrators start them."""
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and (user.is_admin or user.role == Role.MANAGER))  # fmt: skip


def clean_k(value) -> int:
    try:
        k = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({"k": [_("Enter a whole number of clusters between %(min)s and %(max)s.")
                                     % {"min": K_MIN, "max": K_MAX}]}) from None  # fmt: skip
    if not K_MIN <= k <= K_MAX:
        raise ValidationError({"k": [_("The number of clusters must be between %(min)s and %(max)s (got %(k)s).")
                                     % {"min": K_MIN, "max": K_MAX, "k": k}]})  # fmt: skip
    return k


@transaction.atomic
def cluster_run_start(*, actor, k, trigger: str = "manual") -> ClusterRun:
    """Queue a k-means run with `k` clusters (2–8); one queued or running run at a time."""
    if actor is not None and not can_run_analysis(actor):
        raise PermissionDenied(_("Only managers and administrators may start a clustering run."))
    k = clean_k(k)
    busy = ClusterRun.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).first()
    if busy is not None:
        raise ValidationError(
            {"k": [_("Clustering run #%(id)s has not finished yet; wait for it.") % {"id": busy.pk}]}
        )
    run = ClusterRun.objects.create(created_at=timezone.now(), k=k, trigger=trigger,
                                    actor=actor if getattr(actor, "pk", None) else None)  # fmt: skip
    audit_record(actor=actor, action="analysis.cluster_run", obj=run, changes={"k": k})
    from . import tasks

    run_id = run.pk
    transaction.on_commit(lambda: tasks.cluster_run(run_id))
    return run


@transaction.atomic
def rule_run_start(*, actor, trigger: str = "manual", params: dict | None = None) -> RuleRun:
    """Queue a computation of the association rules (one queued or running at a time)."""
    if actor is not None and not can_run_analysis(actor):
        raise PermissionDenied(_("Only managers and administrators may recompute the recommendations."))
    busy = RuleRun.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).first()
    if busy is not None:
        raise ValidationError(
            _("The recommendations are being computed (run #%(id)s); wait for it.") % {"id": busy.pk}
        )
    run = RuleRun.objects.create(created_at=timezone.now(), trigger=trigger, params=params or {},
                                 actor=actor if getattr(actor, "pk", None) else None)  # fmt: skip
    audit_record(actor=actor, action="analysis.rule_run", obj=run, changes=params or {})
    from . import tasks

    run_id = run.pk
    transaction.on_commit(lambda: tasks.rule_run(run_id))
    return run


@transaction.atomic
def winback_followup_create(
    *, actor, company, suggestion: str, suggestions: list[dict], due: dt.date | None = None
) -> FollowUp:
    """Plan a follow-up for `actor` from one of the customer's current win-back suggestions (the
    caller computed `suggestions` for the customer the actor sees); due tomorrow by default."""
    from tradecrm.followups.services import followup_create

    match = next((s for s in suggestions if s["code"] == suggestion), None)
    if match is None:
        raise ValidationError({"suggestion": [_("“%(value)s” is not one of this customer's current suggestions.")
                                              % {"value": suggestion}]})  # fmt: skip
    due = due or (timezone.localdate() + dt.timedelta(days=1))
    followup = followup_create(
        actor=actor, company=company,
        data={"title": match["text"][:255], "notes": _("From the win-back list."), "due_at": due.isoformat(),
              "priority": 3},
    )  # fmt: skip
    audit_record(actor=actor, action="analysis.winback_followup", obj=company,
                 changes={"suggestion": suggestion, "followup": followup.pk})  # fmt: skip
    return followup
