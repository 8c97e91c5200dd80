"""Writes to customs records besides the import (importing.py): linking a record to the customer it
shows buying, and unlinking it. Records themselves are never edited: they are what the data vendor
delivered, and an import is undone as a whole (by its job).

Who: managers and administrators (they see the records linked to nobody, `selectors.can_link`).
The customer must be one the actor sees. With `same_importer` (the default) every record of the same
importer (the normalised consignee name) that is linked to nobody or to the record's current
customer moves too — the usual case is "this consignee is our customer X", not one shipment. For a
consignee that is not a buyer ("TO ORDER", a forwarder) only the records with the same notify party
move along (`selectors.same_importer_q`).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record

from .models import CustomsRecord
from .selectors import can_link, same_importer_q


def _require(actor) -> None:
    if not can_link(actor):
        raise PermissionDenied(_("Only managers and administrators may link customs records to customers."))


def _same(record: CustomsRecord, same_importer: bool):
    if not same_importer:
        return CustomsRecord.objects.filter(pk=record.pk)
    current = Q(company__isnull=True) if record.company_id is None else Q(company_id=record.company_id)
    return CustomsRecord.objects.filter(Q(pk=record.pk) | (same_importer_q(record) & current))


@transaction.atomic
def customs_record_link(*, actor, record: CustomsRecord, company, same_importer: bool = True) -> int:
    """Link `record` (and with `same_importer` the other records of its importer) to `company`,
    which the caller loaded for the actor (`company_get_for_user`). Returns how many records moved."""
    _require(actor)
    if company is None:
        raise ValidationError({"company": [_("Choose a customer.")]})
    if record.company_id == company.pk and not same_importer:
        return 0
    previous = record.company_id
    ids = list(_same(record, same_importer).exclude(company_id=company.pk).values_list("id", flat=True))
    moved = (
        CustomsRecord.objects.filter(id__in=ids).update(company_id=company.pk, updated_at=timezone.now())
        if ids
        else 0
    )
    audit_record(
        actor=actor, action="customs.link", obj=record,
        changes={"company": [previous, company.pk], "records": ids[:1000], "count": moved},
    )  # fmt: skip
    record.company_id = company.pk
    record.company = company
    return moved


@transaction.atomic
def customs_record_unlink(*, actor, record: CustomsRecord, same_importer: bool = True) -> int:
    """Link `record` (and with `same_importer` the other records of its importer at the same
    customer) to no customer. Returns how many records changed."""
    _require(actor)
    if record.company_id is None:
        return 0
    previous = record.company_id
    ids = list(_same(record, same_importer).values_list("id", flat=True))
    changed = CustomsRecord.objects.filter(id__in=ids).update(company=None, updated_at=timezone.now())
    audit_record(
        actor=actor, action="customs.unlink", obj=record,
        changes={"company": [previous, None], "records": ids[:1000], "count": changed},
    )  # fmt: skip
    record.company_id = None
    record.company = None
    return changed
