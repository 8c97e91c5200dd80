from __future__ import annotations

from typing import Any

from .models import AuditEvent


def audit_record(*, actor, action: str, obj=None, object_type: str = "", object_id: int | None = None,
                 changes: dict[str, Any] | None = None) -> AuditEvent:
    """Call inside the transaction of the change it records."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk
    return AuditEvent.objects.create(actor=actor if getattr(actor, "pk", None) else None, action=action,
                                     object_type=object_type, object_id=object_id, changes=changes or {})
