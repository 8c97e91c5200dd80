"""Writes of the grading app: the configuration, the tiers (with their service strategy, kept in
sync with the tier cadence rules of the follow-up scan), veto rules, manual overrides and the
request of a recalculation. One function per action; keyword-only, an `actor`, one transaction,
its audit event."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.errors import ConcurrentEditError, Errors, ValidationError

from .config import VETO_FIELDS, validate_config, validate_tiers, validate_veto
from .models import CompanyGrade, GradeChange, GradingConfig, Tier, VetoRule

MAX_OVERRIDE_DAYS = 730
OVERRIDE_ROLES = ("admin", "manager")


def _check_admin(actor) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only an administrator may change the grading configuration."))


def can_override(user) -> bool:
    return bool(getattr(user, "is_admin", False) or getattr(user, "role", "") == "manager")


def _conflict(obj, version: int | None) -> None:
    if version is not None and version != obj.version:
        by = getattr(getattr(obj, "updated_by", None), "username", "") or ""
        raise ConcurrentEditError(by=by, at=getattr(obj, "updated_at", None), current_version=obj.version)


@transaction.atomic
def config_update(*, actor, data: dict, version: int | None = None) -> GradingConfig:
    _check_admin(actor)
    clean = validate_config(data)
    cfg, _created = GradingConfig.objects.select_for_update().get_or_create(pk=1, defaults={"data": clean})
    _conflict(cfg, version)
    cfg.data = clean
    cfg.version += 1
    cfg.updated_at = timezone.now()
    cfg.updated_by = actor
    cfg.save()
    audit_record(actor=actor, action="grading.config_update", obj=cfg, changes={"version": cfg.version})
    return cfg


def _tier_rule_name(tier: dict) -> str:
    return f"Tier {tier['code']} · {tier['name']}: follow up every {tier['followup_days']} days"[:120]


def sync_tier_cadences() -> None:
    """One cadence rule (kind cadence, any status, tier = code) per tier with a follow-up cadence;
    none for a tier without one or a tier that no longer exists. The reminder scan reads rules,
    so the tier's `followup_days` reaches it through this rule."""
    from tradecrm.followups.models import CadenceRule, RuleKind

    tiers = {t.code: t for t in Tier.objects.all()}
    rules = {r.tier: r for r in CadenceRule.objects.filter(kind=RuleKind.CADENCE, status="").exclude(tier="")}
    for code, rule in rules.items():
        if code not in tiers or tiers[code].followup_days is None:
            rule.delete()
    for code, tier in tiers.items():
        if tier.followup_days is None:
            continue
        name = _tier_rule_name({"code": code, "name": tier.name, "followup_days": tier.followup_days})
        rule = rules.get(code)
        if rule is None:
            CadenceRule.objects.create(kind=RuleKind.CADENCE, status="", tier=code, days=tier.followup_days,
                                       name=name, active=True)  # fmt: skip
        elif rule.days != tier.followup_days or rule.name != name or not rule.active:
            rule.days, rule.name, rule.active = tier.followup_days, name, True
            rule.version += 1
            rule.save(update_fields=["days", "name", "active", "version", "updated_at"])


@transaction.atomic
def tiers_update(*, actor, tiers: list[dict]) -> list[Tier]:
    """Replace the tiers by `tiers` (best first). A code kept keeps its tier row (renaming is
    editing its name); a code that disappears must not be the cap of a veto rule."""
    _check_admin(actor)
    clean = validate_tiers(tiers)
    codes = [t["code"] for t in clean]
    errors = Errors()
    for v in VetoRule.objects.exclude(cap_tier__in=codes):
        errors.add("tiers", _("Tier “%(tier)s” is the cap of the veto rule “%(rule)s”: change that rule first.")
                   % {"tier": v.cap_tier, "rule": v.name})  # fmt: skip
    errors.raise_if_any()
    existing = {t.code: t for t in Tier.objects.select_for_update()}
    Tier.objects.exclude(code__in=codes).delete()
    # ranks are unique: move the kept rows out of the way first
    Tier.objects.filter(code__in=codes).update(rank=models_offset())
    out = []
    for rank, t in enumerate(clean, start=1):
        obj = existing.get(t["code"]) or Tier(code=t["code"])
        for k in ("name", "min_score", "color", "followup_days", "requires_account_manager", "checklist"):
            setattr(obj, k, t[k])
        obj.rank = rank
        obj.version = (obj.version or 0) + 1 if obj.pk else 1
        obj.save()
        out.append(obj)
    sync_tier_cadences()
    audit_record(actor=actor, action="grading.tiers_update", object_type="grading.tier",
                 changes={"tiers": [{k: t[k] for k in ("code", "name", "min_score", "followup_days")} for t in clean]})  # fmt: skip
    return out


def models_offset():
    from django.db.models import F

    return F("rank") + 1000


def _veto_data(rule: VetoRule | None, data: dict) -> dict:
    base = {k: getattr(rule, k) for k in VETO_FIELDS} if rule else {}
    base.update({k: v for k, v in data.items() if k in VETO_FIELDS})
    return validate_veto(base, list(Tier.objects.values_list("code", flat=True)))


@transaction.atomic
def veto_create(*, actor, data: dict) -> VetoRule:
    _check_admin(actor)
    rule = VetoRule.objects.create(**_veto_data(None, data))
    audit_record(actor=actor, action="grading.veto_create", obj=rule, changes={"name": rule.name})
    return rule


@transaction.atomic
def veto_update(*, actor, rule: VetoRule, data: dict, version: int | None = None) -> VetoRule:
    _check_admin(actor)
    rule = VetoRule.objects.select_for_update().get(pk=rule.pk)
    _conflict(rule, version)
    for k, v in _veto_data(rule, data).items():
        setattr(rule, k, v)
    rule.version += 1
    rule.save()
    audit_record(actor=actor, action="grading.veto_update", obj=rule, changes={"name": rule.name})
    return rule


@transaction.atomic
def veto_delete(*, actor, rule: VetoRule) -> None:
    _check_admin(actor)
    audit_record(actor=actor, action="grading.veto_delete", obj=rule, changes={"name": rule.name})
    rule.delete()


def _notify_owner(company, actor, change: GradeChange) -> None:
    from tradecrm.automation import events

    events.emit(events.TIER_CHANGED, obj_type=events.OBJ_COMPANY, obj_id=company.pk, actor=actor,
                changes={"tier": [change.from_tier, change.to_tier]})
    if not company.owner_id or company.owner_id == getattr(actor, "pk", None):
        return
    from django.urls import reverse

    from tradecrm.followups.notifications import notify

    def send():
        notify(company.owner, "tier_changed",
               {"company": company.name, "from": change.from_tier, "to": change.to_tier, "reason": change.reason},
               url=reverse("customers:company_detail", args=[company.pk]), company=company,
               key=f"tier:{change.pk}")  # fmt: skip

    transaction.on_commit(send)


@transaction.atomic
def override_set(*, actor, company, tier: str, reason: str, until) -> CompanyGrade:
    """A manual tier for `company` until the given day (inclusive), with the reason. Managers and
    administrators only. The next run after that day ends it."""
    if not can_override(actor):
        raise PermissionDenied(_("Only a manager or an administrator may set a tier by hand."))
    errors = Errors()
    codes = list(Tier.objects.values_list("code", flat=True))
    if tier not in codes:
        errors.add(
            "tier",
            _("Unknown tier “%(tier)s”: use one of %(known)s.") % {"tier": tier, "known": ", ".join(codes)},
        )
    reason = " ".join(str(reason or "").split())
    if not reason:
        errors.add("reason", _("Give the reason for the manual tier."))
    elif len(reason) > 255:
        errors.add("reason", _("The reason must have at most 255 characters."))
    today = timezone.localdate()
    if isinstance(until, str):
        try:
            until = dt.date.fromisoformat(until.strip())
        except ValueError:
            errors.add("until", _("Give the last day as YYYY-MM-DD."))
            until = None
    if until is None and "until" not in errors.by_field:
        errors.add("until", _("Give the last day the manual tier holds."))
    elif isinstance(until, dt.date):
        if until < today:
            errors.add("until", _("The last day must not be in the past."))
        elif until > today + dt.timedelta(days=MAX_OVERRIDE_DAYS):
            errors.add("until", _("The manual tier may hold at most %(n)s days.") % {"n": MAX_OVERRIDE_DAYS})
    errors.raise_if_any()
    grade, _created = CompanyGrade.objects.select_for_update().get_or_create(company=company)
    before = grade.tier
    grade.override_tier, grade.override_reason, grade.override_until, grade.override_by = (
        tier,
        reason,
        until,
        actor,
    )
    grade.tier = tier
    grade.save()
    change = None
    if before != tier:
        change = GradeChange.objects.create(company=company, from_tier=before, to_tier=tier, from_score=grade.score,
                                            to_score=grade.score, reason="override", note=reason[:255],
                                            changed_by=actor, changed_at=timezone.now())  # fmt: skip
        _notify_owner(company, actor, change)
    audit_record(actor=actor, action="grading.override_set", obj=company,
                 changes={"tier": [before, tier], "reason": reason, "until": until.isoformat()})  # fmt: skip
    return grade


@transaction.atomic
def override_clear(*, actor, company) -> CompanyGrade:
    """End a manual tier now: the customer takes its computed tier again."""
    if not can_override(actor):
        raise PermissionDenied(_("Only a manager or an administrator may set a tier by hand."))
    grade = CompanyGrade.objects.select_for_update().filter(company=company).first()
    if grade is None or not grade.override_tier:
        raise ValidationError({"tier": [_("This customer has no manual tier.")]})
    before = grade.tier
    grade.tier = grade.computed_tier
    grade.override_tier, grade.override_reason, grade.override_until, grade.override_by = "", "", None, None
    grade.save()
    if before != grade.tier:
        change = GradeChange.objects.create(company=company, from_tier=before, to_tier=grade.tier,
                                            from_score=grade.score, to_score=grade.score, reason="override_end",
                                            changed_by=actor, changed_at=timezone.now())  # fmt: skip
        _notify_owner(company, actor, change)
    audit_record(
        actor=actor, action="grading.override_clear", obj=company, changes={"tier": [before, grade.tier]}
    )
    return grade


def request_run(*, actor, trigger: str = "manual") -> None:
    """Queue a recalculation in the worker (after the caller's transaction commits)."""
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only an administrator may start a grading run."))
    from .tasks import grading_run

    with transaction.atomic():
        audit_record(actor=actor, action="grading.run_request", object_type="grading.gradingrun")
        actor_id = actor.pk
        transaction.on_commit(lambda: grading_run(trigger=trigger, actor_id=actor_id))
