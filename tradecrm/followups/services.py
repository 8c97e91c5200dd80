"""Writes for follow-ups (跟进) and reminder rules. One function per change a user can name; the
views, the API, the CLI and the reminder scan's callers all go through these.

Every change keeps `Company.next_followup_at` (the earliest due time of the customer's open
follow-ups) in step, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.accounts.access import require_writer
from tradecrm.audit.models import AuditEvent
from tradecrm.audit.services import audit_record
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.customers.models import Company

from .models import CadenceRule, FollowUp, FollowUpKind, FollowUpStatus, Notification, Recurrence
from .validation import clean_followup, clean_rule, user_zone

LOG_FIELDS = ("type", "direction", "occurred_at", "subject", "body", "contact")


# --- helpers ------------------------------------------------------------------------------------


def company_url(company_id: int) -> str:
    return reverse("customers:company_detail", args=[company_id])


def sync_next_followup(company_id: int) -> None:
    """Company.next_followup_at = the earliest due time of its open follow-ups (None: none)."""
    earliest = (
        FollowUp.objects.filter(company_id=OuterRef("pk"), status=FollowUpStatus.OPEN)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    Company.objects.filter(pk=company_id).update(next_followup_at=Subquery(earliest))


def notify(
    user, kind: str, params: dict, *, url: str = "", company=None, followup=None, key: str = ""
) -> None:
    """One in-app notification, through the notifications module when it is there."""
    try:
        from .notifications import notify as deliver
    except ImportError:  # the notifications module lands separately; the row is what matters
        deliver = None
    if deliver is not None:
        deliver(user, kind, params, url=url, company=company, followup=followup, key=key)
        return
    Notification.objects.create(
        user=user,
        kind=kind,
        params=params,
        url=url,
        company=company,
        followup=followup,
        key=key,
        created_at=timezone.now(),
    )


def _last_editor(followup_id: int) -> str:
    event = (
        AuditEvent.objects.filter(object_type="followups.followup", object_id=followup_id)
        .select_related("actor")
        .order_by("-id")
        .first()
    )
    return str(event.actor) if event and event.actor else "?"


def _conflict(followup: FollowUp) -> ConcurrentEditError:
    current = FollowUp.objects.get(pk=followup.pk)
    return ConcurrentEditError(
        by=_last_editor(followup.pk), at=current.updated_at, current_version=current.version
    )


def _versioned_update(followup: FollowUp, version: int, fields: dict[str, Any]) -> dt.datetime:
    """UPDATE … WHERE id = ? AND version = ?; raises ConcurrentEditError when someone saved first."""
    now = timezone.now()
    updated = FollowUp.objects.filter(pk=followup.pk, version=version).update(
        **fields, version=F("version") + 1, updated_at=now
    )
    if not updated:
        raise _conflict(followup)
    for name, value in fields.items():
        setattr(followup, name, value)
    followup.version = version + 1
    followup.updated_at = now
    return now


def _jsonable(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _changes(before: dict, after: dict) -> dict:
    return {k: [_jsonable(before.get(k)), _jsonable(v)] for k, v in after.items() if before.get(k) != v}


def due_warnings(due_at: dt.datetime, now: dt.datetime | None = None) -> list[str]:
    """A due time in the past is allowed (people log what they meant to do) but flagged."""
    if due_at < (now or timezone.now()):
        return [_("The due time is in the past: this follow-up is overdue from the start.")]
    return []


def _assigned_notice(actor, followup: FollowUp) -> None:
    if followup.assignee_id == getattr(actor, "pk", None):
        return
    notify(
        followup.assignee,
        "followup_assigned",
        {"title": followup.title, "company": followup.company.name, "by": str(actor)},
        url=company_url(followup.company_id),
        company=followup.company,
        followup=followup,
    )


def _integrity_to_validation(exc: IntegrityError) -> ValidationError:
    # followup_one_open_auto: one open follow-up per customer and automatic kind
    return ValidationError(
        {
            "status": [
                _(
                    "This customer already has an open follow-up of this kind; complete or cancel that one first."
                )
            ]
        }
    )


# --- recurrence ---------------------------------------------------------------------------------

_STEPS = {
    Recurrence.DAILY: lambda n: relativedelta(days=1),
    Recurrence.WEEKLY: lambda n: relativedelta(weeks=1),
    Recurrence.MONTHLY: lambda n: relativedelta(months=1),
    Recurrence.EVERY_N_DAYS: lambda n: relativedelta(days=n or 1),
}


def next_occurrence(
    due_at: dt.datetime, recurrence: str, interval: int | None, tz: ZoneInfo, after: dt.datetime
) -> dt.datetime | None:
    """The first repetition of `due_at` later than `after`, stepped in wall-clock time of `tz`: a
    weekly 09:00 stays 09:00 local across a daylight-saving change (the UTC time moves instead).
    Counted from the original due time (k steps), so monthly on the 31st gives 28/29/30/31, not
    a date that drifts."""
    step = _STEPS.get(recurrence)
    if step is None:
        return None
    local = due_at.astimezone(tz).replace(tzinfo=None)
    delta = step(interval)
    for k in range(1, 100_000):
        candidate = (local + delta * k).replace(tzinfo=tz).astimezone(dt.UTC)
        if candidate > after:
            return candidate
    return None


# --- follow-ups ---------------------------------------------------------------------------------


@transaction.atomic
def followup_create(
    *, actor, company: Company, data: dict, kind: str = FollowUpKind.MANUAL, previous: FollowUp | None = None
) -> FollowUp:
    """Plan a follow-up. The result carries `warnings` (e.g. a due time in the past)."""
    require_writer(actor)
    clean = clean_followup(data, actor=actor, company=company)
    followup = FollowUp(
        company=company,
        created_by=actor if getattr(actor, "pk", None) else None,
        kind=kind,
        previous=previous,
        **clean,
    )
    try:
        with transaction.atomic():
            followup.save()
    except IntegrityError as exc:
        raise _integrity_to_validation(exc) from None
    sync_next_followup(company.pk)
    audit_record(
        actor=actor,
        action="followup.create",
        obj=followup,
        changes={
            "company": company.pk,
            "title": followup.title,
            "due_at": followup.due_at.isoformat(),
            "assignee": followup.assignee_id,
        },
    )
    _assigned_notice(actor, followup)
    followup.warnings = due_warnings(followup.due_at)
    return followup


@transaction.atomic
def followup_update(*, actor, followup: FollowUp, version: int, data: dict) -> FollowUp:
    """Change title, notes, due time, priority, contact, assignee or recurrence of an open or
    closed follow-up. Moving the due time re-arms its reminder."""
    require_writer(actor)
    clean = clean_followup(data, actor=actor, company=followup.company, partial=True, current=followup)
    before = {k: getattr(followup, k) for k in clean}
    fields = {k: v for k, v in clean.items() if before.get(k) != v}
    if "due_at" in fields:
        fields["reminded_at"] = None
    old_assignee = followup.assignee_id
    _versioned_update(followup, version, fields)
    if "due_at" in fields:
        sync_next_followup(followup.company_id)
    audit_record(actor=actor, action="followup.update", obj=followup, changes=_changes(before, clean))
    if followup.assignee_id != old_assignee:
        _assigned_notice(actor, followup)
    followup.warnings = (
        due_warnings(followup.due_at) if "due_at" in fields and followup.status == "open" else []
    )
    return followup


def _check_open(followup: FollowUp) -> None:
    if followup.status != FollowUpStatus.OPEN:
        raise ValidationError({"status": [_("This follow-up is not open any more.")]})


def _log_interaction(actor, followup: FollowUp, log: dict, now: dt.datetime):
    from tradecrm.interactions.services import interaction_create

    data = {k: log[k] for k in LOG_FIELDS if log.get(k) is not None}
    if not data.get("occurred_at"):
        data["occurred_at"] = now
    if not data.get("subject"):
        data["subject"] = followup.title
    if followup.contact_id and not data.get("contact"):
        data["contact"] = followup.contact_id
    data.setdefault("direction", "out")  # "" (internal) when asked for
    try:
        return interaction_create(actor=actor, company=followup.company, data=data, source="followup")
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise ValidationError(
                {("log." + k if k != "__all__" else "log"): v for k, v in exc.message_dict.items()}
            ) from None
        raise ValidationError({"log": exc.messages}) from None


@transaction.atomic
def followup_complete(*, actor, followup: FollowUp, version: int, log: dict | None = None) -> FollowUp:
    """Mark done in one step. With `log` (type, direction, occurred_at, subject, body, contact) the
    contact is written to the customer's timeline in the same transaction and becomes the
    follow-up's outcome. A repeating follow-up plans its next occurrence (`next_occurrence` on
    the result), at the same local time for the assignee."""
    require_writer(actor)
    if followup.version != version:
        raise _conflict(followup)
    _check_open(followup)
    now = timezone.now()
    _versioned_update(
        followup,
        version,
        {"status": FollowUpStatus.DONE, "completed_at": now, "completed_by": actor},
    )
    outcome = None
    if log:
        outcome = _log_interaction(actor, followup, log, now)
        FollowUp.objects.filter(pk=followup.pk).update(outcome=outcome)
        followup.outcome = outcome
    followup.next_occurrence = None
    if followup.recurrence:
        tz = user_zone(followup.assignee)
        due = next_occurrence(followup.due_at, followup.recurrence, followup.recurrence_interval, tz, now)
        if due is not None:
            nxt = FollowUp.objects.create(
                company_id=followup.company_id,
                contact_id=followup.contact_id,
                assignee_id=followup.assignee_id,
                title=followup.title,
                notes=followup.notes,
                due_at=due,
                priority=followup.priority,
                kind=followup.kind,
                rule_id=followup.rule_id,
                recurrence=followup.recurrence,
                recurrence_interval=followup.recurrence_interval,
                previous=followup,
                created_by=actor,
            )
            followup.next_occurrence = nxt
    if followup.kind == FollowUpKind.REVIEW:
        # completing the review is reviewing the profile; the scan would otherwise ask again
        Company.objects.filter(pk=followup.company_id).update(reviewed_at=now)
    sync_next_followup(followup.company_id)
    audit_record(
        actor=actor,
        action="followup.complete",
        obj=followup,
        changes={
            "outcome": outcome.pk if outcome else None,
            "next": followup.next_occurrence.pk if followup.next_occurrence else None,
        },
    )
    return followup


@transaction.atomic
def followup_cancel(*, actor, followup: FollowUp, version: int) -> FollowUp:
    require_writer(actor)
    if followup.version != version:
        raise _conflict(followup)
    _check_open(followup)
    _versioned_update(
        followup,
        version,
        {"status": FollowUpStatus.CANCELLED, "completed_at": timezone.now(), "completed_by": actor},
    )
    sync_next_followup(followup.company_id)
    audit_record(actor=actor, action="followup.cancel", obj=followup)
    return followup


@transaction.atomic
def followup_reopen(*, actor, followup: FollowUp, version: int) -> FollowUp:
    require_writer(actor)
    if followup.version != version:
        raise _conflict(followup)
    if followup.status == FollowUpStatus.OPEN:
        raise ValidationError({"status": [_("This follow-up is open already.")]})
    try:
        with transaction.atomic():
            _versioned_update(
                followup,
                version,
                {
                    "status": FollowUpStatus.OPEN,
                    "completed_at": None,
                    "completed_by": None,
                    "reminded_at": None,
                },
            )
    except IntegrityError as exc:
        raise _integrity_to_validation(exc) from None
    sync_next_followup(followup.company_id)
    audit_record(actor=actor, action="followup.reopen", obj=followup)
    followup.warnings = due_warnings(followup.due_at)
    return followup


def can_delete_followup(user, followup: FollowUp) -> bool:
    return (
        user.is_admin
        or user.is_manager
        or user.pk in (followup.assignee_id, followup.created_by_id, followup.company.owner_id)
    )


@transaction.atomic
def followup_delete(*, actor, followup: FollowUp) -> None:
    require_writer(actor)
    if not can_delete_followup(actor, followup):
        raise PermissionDenied(
            _(
                "Only the assignee, the person who planned it, the customer's owner or a manager may delete a follow-up."
            )
        )
    company_id = followup.company_id
    audit_record(
        actor=actor,
        action="followup.delete",
        obj=followup,
        changes={"company": company_id, "title": followup.title},
    )
    followup.delete()
    sync_next_followup(company_id)


@transaction.atomic
def company_mark_reviewed(*, actor, company: Company) -> int:
    """The customer's profile was checked now: set reviewed_at and complete the open profile-review
    follow-up (the scan plans the next one when the rule's period has passed again). Returns the
    number of review follow-ups completed."""
    require_writer(actor)
    now = timezone.now()
    Company.objects.filter(pk=company.pk).update(reviewed_at=now)
    company.reviewed_at = now
    done = FollowUp.objects.filter(
        company_id=company.pk, kind=FollowUpKind.REVIEW, status=FollowUpStatus.OPEN
    ).update(
        status=FollowUpStatus.DONE,
        completed_at=now,
        completed_by=actor,
        version=F("version") + 1,
        updated_at=now,
    )
    sync_next_followup(company.pk)
    audit_record(actor=actor, action="company.review", obj=company, changes={"reviewed_at": now.isoformat()})
    return done


# --- reminder rules -----------------------------------------------------------------------------


def _check_admin(actor) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only an administrator may change reminder rules."))


def _rule_unique(clean: dict, rule: CadenceRule | None) -> None:
    kind = clean.get("kind", rule.kind if rule else "")
    status = clean.get("status", rule.status if rule else "")
    tier = clean.get("tier", rule.tier if rule else "")
    qs = CadenceRule.objects.filter(kind=kind, status=status, tier=tier)
    if rule is not None:
        qs = qs.exclude(pk=rule.pk)
    if qs.exists():
        raise ValidationError(
            {"status": [_("A rule of this kind for this status exists already; edit that one.")]}
        )


@transaction.atomic
def rule_create(*, actor, data: dict) -> CadenceRule:
    _check_admin(actor)
    clean = clean_rule(data)
    _rule_unique(clean, None)
    rule = CadenceRule.objects.create(**clean)
    audit_record(
        actor=actor,
        action="reminder_rule.create",
        obj=rule,
        changes={k: _jsonable(v) for k, v in clean.items()},
    )
    return rule


@transaction.atomic
def rule_update(*, actor, rule: CadenceRule, version: int, data: dict) -> CadenceRule:
    _check_admin(actor)
    clean = clean_rule(data, partial=True, current=rule)
    _rule_unique(clean, rule)
    before = {k: getattr(rule, k) for k in clean}
    now = timezone.now()
    if not CadenceRule.objects.filter(pk=rule.pk, version=version).update(
        **clean, version=F("version") + 1, updated_at=now
    ):
        current = CadenceRule.objects.get(pk=rule.pk)
        raise ConcurrentEditError(by="?", at=current.updated_at, current_version=current.version)
    for k, v in clean.items():
        setattr(rule, k, v)
    rule.version = version + 1
    rule.updated_at = now
    audit_record(actor=actor, action="reminder_rule.update", obj=rule, changes=_changes(before, clean))
    return rule


@transaction.atomic
def rule_delete(*, actor, rule: CadenceRule) -> None:
    _check_admin(actor)
    audit_record(actor=actor, action="reminder_rule.delete", obj=rule, changes={"name": rule.name})
    rule.delete()
