"""Reads of the reports app."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tradecrm.accounts.models import Role, User
from tradecrm.audit.models import AuditEvent


def export_permission_users() -> QuerySet:
    """The active sales reps, whose export permission an administrator sets, by team and name."""
    return (
        User.objects.filter(is_active=True, role=Role.SALES, is_superuser=False)
        .select_related("team")
        .order_by("team__name", "first_name", "username")
    )


def always_exporting_users() -> QuerySet:
    """Managers and administrators: they may always export."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(role__in=(Role.ADMIN, Role.MANAGER)) | Q(is_superuser=True))
        .order_by("username")
    )


def recent_exports(*, limit: int = 50) -> list[AuditEvent]:
    """The latest exports, newest first (who, which list, filters, rows)."""
    return list(
        AuditEvent.objects.filter(action="export").select_related("actor").order_by("-at", "-id")[:limit]
    )
