"""The one entry point other apps use to tell automation that something happened.

Call ``emit(EVENT, obj_type=..., obj_id=..., actor=..., changes=...)`` from a service. It defers
itself to ``transaction.on_commit`` and evaluates the matching rules in a huey task, so a slow or
failing action never blocks (or rolls back) the user's save. Calling it outside a transaction
simply runs after the current autocommit statement.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

# -- Event names (stable strings: stored in rules, run logs and the API) -------------------------
RECORD_CREATED = "record.created"
RECORD_UPDATED = "record.updated"
STAGE_CHANGED = "stage.changed"
TIER_CHANGED = "tier.changed"
FOLLOWUP_OVERDUE = "followup.overdue"
INQUIRY_CREATED = "inquiry.created"
INQUIRY_UNANSWERED = "inquiry.unanswered"
QUOTATION_EXPIRING = "quotation.expiring"
ORDER_STATUS_CHANGED = "order.status_changed"
PAYMENT_OVERDUE = "payment.overdue"
TICKET_SLA_BREACHED = "ticket.sla_breached"
SURVEY_SCORE_RECEIVED = "survey.score_received"
MAIL_RECEIVED = "mail.received"
SCHEDULED = "scheduled"
APPROVAL_DECIDED = "approval.decided"

EVENT_CHOICES: list[tuple[str, Any]] = [
    (RECORD_CREATED, _("Record created")),
    (RECORD_UPDATED, _("Record updated")),
    (STAGE_CHANGED, _("Stage changed")),
    (TIER_CHANGED, _("Tier changed")),
    (FOLLOWUP_OVERDUE, _("Follow-up overdue")),
    (INQUIRY_CREATED, _("Inquiry received")),
    (INQUIRY_UNANSWERED, _("Inquiry unanswered for N hours")),
    (QUOTATION_EXPIRING, _("Quotation expiring")),
    (ORDER_STATUS_CHANGED, _("Order status changed")),
    (PAYMENT_OVERDUE, _("Payment overdue")),
    (TICKET_SLA_BREACHED, _("Ticket SLA breached")),
    (SURVEY_SCORE_RECEIVED, _("Survey score received")),
    (MAIL_RECEIVED, _("Mail received from a customer")),
    (APPROVAL_DECIDED, _("Approval decided")),
    (SCHEDULED, _("Scheduled (cron)")),
]
EVENTS = frozenset(name for name, _label in EVENT_CHOICES)

# obj_type values: the lower-case model label without the app ("company", "inquiry", "ticket", …)
OBJ_COMPANY = "company"
OBJ_INQUIRY = "inquiry"
OBJ_OPPORTUNITY = "opportunity"
OBJ_QUOTATION = "quotation"
OBJ_ORDER = "order"
OBJ_PAYMENT = "payment"
OBJ_FOLLOWUP = "followup"
OBJ_TICKET = "ticket"
OBJ_SURVEY_RESPONSE = "survey_response"
OBJ_MAIL = "mail"
OBJ_APPROVAL = "approval"


def emit(
    event: str,
    *,
    obj_type: str,
    obj_id: int,
    actor=None,
    changes: dict | None = None,
    depth: int = 0,
    chain: list[int] | None = None,
) -> None:
    """Queue the rules for ``event`` on one object, after the current transaction commits.

    ``changes`` is ``{field: [old, new]}`` (or any small JSON dict the event documents, e.g.
    ``{"score": [None, 3]}`` for a survey). ``depth`` and ``chain`` (the rules that led here) are
    set by automation itself when an action produces another event; callers leave them out.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown automation event {event!r}")
    actor_id = getattr(actor, "pk", actor)
    payload = {
        "event": event,
        "obj_type": obj_type,
        "obj_id": obj_id,
        "actor_id": actor_id,
        "changes": _jsonable(changes or {}),
        "depth": depth,
        "chain": list(chain or []),
    }

    def _queue() -> None:
        from tradecrm.automation import engine, tasks

        if not engine.has_rules_for(event):
            return
        if sync():
            tasks.automation_handle_event.call_local(payload)
        else:
            tasks.automation_handle_event(payload)

    transaction.on_commit(_queue)


BATCH = 500  # events per queued task when a bulk run emits many


def emit_many(event: str, items: list[dict], *, actor=None) -> int:
    """The bulk form of `emit` for runs that change many records at once (the nightly grading run):
    ``items`` are ``{"obj_type", "obj_id", "changes"}``; after the commit they are queued in tasks
    of BATCH events (not one task each), and nothing is queued when no rule listens. Returns how
    many events were given."""
    if event not in EVENTS:
        raise ValueError(f"unknown automation event {event!r}")
    if not items:
        return 0
    actor_id = getattr(actor, "pk", actor)
    payloads = [
        {"event": event, "obj_type": it["obj_type"], "obj_id": it["obj_id"], "actor_id": actor_id,
         "changes": _jsonable(it.get("changes") or {}), "depth": 0, "chain": []}
        for it in items
    ]  # fmt: skip

    def _queue() -> None:
        from tradecrm.automation import engine, tasks

        if not engine.has_rules_for(event):
            return
        for i in range(0, len(payloads), BATCH):
            part = payloads[i : i + BATCH]
            if sync():
                tasks.automation_handle_events.call_local(part)
            else:
                tasks.automation_handle_events(part)

    transaction.on_commit(_queue)
    return len(payloads)


def emit_grading_changes(*, run_id: int, actor=None) -> int:
    """`tier.changed` for every customer a grading run moved from one tier to another (a first
    grade is not a change), read from the run's GradeChange rows."""
    from django.db.models import F

    from tradecrm.automation import engine
    from tradecrm.grading.models import GradeChange

    if not engine.has_rules_for(TIER_CHANGED):  # the usual night: nothing listens, read nothing
        return 0
    rows = (
        GradeChange.objects.filter(run_id=run_id)
        .exclude(from_tier="")
        .exclude(from_tier=F("to_tier"))
        .order_by("id")
        .values_list("company_id", "from_tier", "to_tier")
    )
    items = [{"obj_type": OBJ_COMPANY, "obj_id": cid, "changes": {"tier": [a, b]}} for cid, a, b in rows]
    return emit_many(TIER_CHANGED, items, actor=actor)


def emit_mail_received(messages) -> int:
    """`mail.received` for each stored inbound message of a customer (the mailbox sync calls it once
    per batch, after storing it): ``messages`` are MailMessage rows (pk, company_id, subject,
    direction)."""
    items = [
        {"obj_type": OBJ_MAIL, "obj_id": m.pk, "changes": {"subject": (m.subject or "")[:255]}}
        for m in messages
        if getattr(m, "company_id", None) and getattr(m, "direction", "in") == "in"
    ]
    return emit_many(MAIL_RECEIVED, items)


def sync() -> bool:
    """Run rules in the caller's thread (after the commit) instead of the queue: huey's immediate
    mode, or TRADECRM_AUTOMATION_SYNC (tests, the browser test's live server)."""
    from django.conf import settings

    return bool(getattr(settings, "TRADECRM_AUTOMATION_SYNC", False) or settings.HUEY.get("immediate"))


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
