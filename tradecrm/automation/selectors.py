"""Reads of automation, scoped to the user: administrators see every rule; managers see the rules
they built; everyone else sees none (404, as if missing)."""

from __future__ import annotations

from django.http import Http404

from .models import AssignmentRule, Rule, RuleRun


def rules_for_user(user):
    qs = Rule.objects.select_related("created_by")
    if user.is_admin:
        return qs
    if user.is_manager:
        return qs.filter(created_by=user)
    return qs.none()


def rule_get_for_user(user, rule_id: int) -> Rule:
    rule = rules_for_user(user).filter(pk=rule_id).first()
    if rule is None:
        raise Http404
    return rule


def runs_for_user(user, rule: Rule | None = None):
    qs = RuleRun.objects.select_related("rule").filter(rule__in=rules_for_user(user))
    if rule is not None:
        qs = qs.filter(rule=rule)
    return qs


def run_get_for_user(user, run_id: int) -> RuleRun:
    run = runs_for_user(user).filter(pk=run_id).first()
    if run is None:
        raise Http404
    return run


def assignment_rules_for_user(user, entity: str | None = None):
    if not user.is_admin:
        return AssignmentRule.objects.none()
    qs = AssignmentRule.objects.select_related("user", "team", "pool").order_by("entity", "position", "id")
    return qs.filter(entity=entity) if entity else qs


def assignment_get_for_user(user, rule_id: int) -> AssignmentRule:
    rule = assignment_rules_for_user(user).filter(pk=rule_id).first()
    if rule is None:
        raise Http404
    return rule


def approvals_of_record(
    obj_type: str, obj_id: int, *, company_id: int | None = None, limit: int = 20
) -> list:
    """The approval requests about one record (newest first), for its page; the caller has already
    loaded the record for the user (`<entity>_get_for_user`). On a customer's page
    (`company_id`), also the requests about the customer's documents and pool claims."""
    from django.db.models import Q

    from .models import Approval

    q = Q(obj_type=obj_type, obj_id=obj_id)
    if company_id:
        q |= Q(company_id=company_id) | Q(obj_type="pool_claim", obj_id=company_id)
    return list(Approval.objects.filter(q).select_related("requested_by", "decided_by").order_by("-created_at",
                                                                                              "-id")[:limit])  # fmt: skip
