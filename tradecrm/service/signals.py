"""A ticket file's bytes leave the disk when its row is deleted, whichever way: removed by a user,
or with its ticket or customer (a cascade, e.g. the erasure of a customer's data). After the
commit only, so a rolled-back delete keeps its file."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import TicketAttachment


@receiver(post_delete, sender=TicketAttachment, dispatch_uid="service.ticket_file_deleted")
def ticket_file_deleted(sender, instance: TicketAttachment, **kwargs) -> None:
    name = instance.file.name
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))
