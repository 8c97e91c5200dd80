"""Writes of the reports app: who may export."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from tradecrm.accounts.models import Role, User
from tradecrm.audit.services import audit_record


@transaction.atomic
def export_permission_set(*, actor, user: User, allowed: bool) -> User:
    """Allow or stop a sales rep's exports (`User.can_export`). Administrators only; managers and
    administrators may always export, so their flag changes nothing and is left alone."""
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only an administrator can change who may export."))
    if user.role != Role.SALES or user.is_superuser:
        raise PermissionDenied(_("Managers and administrators may always export."))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.can_export != allowed:
        User.objects.filter(pk=user.pk).update(can_export=allowed)
        audit_record(
            actor=actor,
            action="export_permission",
            obj=user,
            changes={"can_export": [user.can_export, allowed]},
        )
        user.can_export = allowed
    return user
