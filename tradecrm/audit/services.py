from __future__ import annotations

from typing import Any

from django.db import router

from . import chain
from .context import current
from .models import AuditEvent

# What an audit event keeps of a value stored encrypted (core/crypto.py): that it changed, not the
# value — the append-only audit table must not become a plaintext copy of encrypted columns.
REDACTED = "[encrypted]"


def _encrypted_names(obj, object_type: str) -> frozenset[str]:
    from django.apps import apps

    from tradecrm.core.crypto_rotate import encrypted_fields

    model = type(obj) if obj is not None else None
    if model is None and object_type:
        try:
            model = apps.get_model(object_type)
        except (LookupError, ValueError):
            return frozenset()
    if model is None:
        return frozenset()
    model = model._meta.concrete_model
    names = _NAMES.get(model)
    if names is None:
        found = encrypted_fields([model])
        names = _NAMES[model] = frozenset(n for f in (found[0][1] if found else []) for n in (f.name, f.attname))
    return names


_NAMES: dict[type, frozenset[str]] = {}


def redact(value, names: frozenset[str]):
    """`value` with the values under keys in `names` replaced by REDACTED, at any depth."""
    if isinstance(value, dict):
        return {k: (_mask(v) if k in names else redact(v, names)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, names) for v in value]
    return value


def _mask(v):
    if isinstance(v, list | tuple):
        return [REDACTED if x not in (None, "") else x for x in v]
    return REDACTED if v not in (None, "") else v


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
        object_type=object_type, object_id=object_id, source=ctx.source, ip=ctx.ip,
        changes=redact(changes, names) if changes and (names := _encrypted_names(obj, object_type)) else changes or {},
    )  # fmt: skip
    chain.seal_after_commit(router.db_for_write(AuditEvent))
    return event
