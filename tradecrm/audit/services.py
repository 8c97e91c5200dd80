from __future__ import annotations

from typing import Any

from django.db import router

from . import chain
from .context import current
from .models import AuditEvent


def audit_record(
    *,
    actor,
    action: str,
    obj=None,
    object_type: str = "",
    object_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Call inside the transaction of the change it records. Source and IP come from the audit
    context (audit.context); the event is sealed into the hash chain after the commit."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk
    ctx = current()
    actor = actor if getattr(actor, "pk", None) else None
    event = AuditEvent.objects.create(
        actor=actor, actor_name=getattr(actor, "username", "") if actor else "", action=action,
        object_type=object_type, object_id=object_id, changes=changes or {}, source=ctx.source, ip=ctx.ip,
    )  # fmt: skip
    chain.seal_after_commit(router.db_for_write(AuditEvent))
    return event
