"""Webhook events from the audit trail.

Every service that creates, changes or deletes a customer, opportunity, order or payment writes an
audit event in its transaction (services change rows with `.update()` too, which fires no
post_save on the model, so model signals would miss changes). This handler reads that event and,
only when an active endpoint subscribes to what it maps to, queues the webhook after the commit.
When no endpoint exists the cost per save is one string lookup and one cache read, no query.
"""

from __future__ import annotations

from .models import IMPORT_COMPLETED

ENTITY_OF = {
    "customers.company": "company",
    "sales.opportunity": "opportunity",
    "orders.order": "order",
    "orders.payment": "payment",
}
# audit verbs that mean the object is gone (a merged-away duplicate too)
GONE = frozenset({"delete", "merged_into"})


def event_for(action: str, object_type: str) -> tuple[str, str] | None:
    """(event, entity) for an audit event, or None when no webhook event matches it."""
    if action == "import.run":
        return IMPORT_COMPLETED, "import"
    entity = ENTITY_OF.get(object_type)
    if entity is None:
        return None
    verb = action.rsplit(".", 1)[-1]
    suffix = "created" if verb == "create" else "deleted" if verb in GONE else "updated"
    return f"{entity}.{suffix}", entity


def on_audit_event(sender, instance, created, raw=False, **kwargs) -> None:
    if not created or raw:
        return
    found = event_for(instance.action, instance.object_type)
    if found is None:
        return
    from . import services

    event, entity = found
    if event not in services.subscribed_events():
        return
    if event == IMPORT_COMPLETED:
        if instance.object_id is not None:
            services.queue_import_completed(instance.object_id, occurred_at=instance.at)
        return
    if event.endswith(".deleted"):
        data = {
            "id": instance.object_id,
            "deleted": True,
            **{k: v for k, v in (instance.changes or {}).items() if isinstance(k, str) and k != "id"},
        }
        services.queue_event(
            event, entity=entity, object_id=instance.object_id, occurred_at=instance.at, data=data
        )
        return
    services.queue_event(event, entity=entity, object_id=instance.object_id, occurred_at=instance.at)
