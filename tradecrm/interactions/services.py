"""Writes to the timeline. One function per change a user can name; the views, the API, the
follow-ups (a completed follow-up with a log) and the importers (WhatsApp) all call these.

Every change keeps `Company.last_contact_at` = the latest `occurred_at` of the company's
interactions of a contact type (a note or a sample parcel is not a contact).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.crypto import decrypt_bytes, encrypt_bytes
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.search import search_document
from tradecrm.core.uploads import check_upload as _check_upload
from tradecrm.core.uploads import human_size  # noqa: F401  (whatsapp_services and views use it from here)
from tradecrm.customers.models import Company, Contact

from .models import CONTACT_TYPES, Attachment, Interaction, InteractionRevision, InteractionSource
from .validation import clean_interaction, html_to_text

# uploaded files are stored AES-GCM encrypted under this associated data (core/crypto.py)
ATTACHMENT_LABEL = "interactions.attachment.file"
TRACKED_FIELDS = ("type", "direction", "occurred_at", "duration_minutes", "subject", "body", "contact_id")


# --- helpers other apps call -----------------------------------------------------------------


def interaction_search_text(subject: str, body_html: str, extra: str = "") -> str:
    """The `search_text` of an interaction: subject, the body's words and `extra` (contact
    names), normalized, with CJK gram tokens so 1–2-character Chinese queries find it."""
    return search_document(subject, html_to_text(body_html), extra)


def company_refresh_last_contact(company_id: int) -> None:
    """Set Company.last_contact_at to the latest contact-type interaction (None without one)."""
    latest = Interaction.objects.filter(company_id=company_id, type__in=CONTACT_TYPES).aggregate(
        m=Max("occurred_at")
    )["m"]
    # .update(): not an edit of the customer, so neither its version nor updated_at move
    Company.objects.filter(pk=company_id).update(last_contact_at=latest)


# --- interactions -------------------------------------------------------------------------------


def _contact_names(contact: Contact | None, contact_ids: Iterable[int]) -> str:
    ids = [i for i in contact_ids if not contact or i != contact.pk]
    names = []
    if contact is not None:
        names.append(f"{contact.first_name} {contact.last_name} {contact.name_local}")
    if ids:
        for first, last, local in (
            Contact.objects.filter(pk__in=ids)
            .order_by("id")
            .values_list("first_name", "last_name", "name_local")
        ):
            names.append(f"{first} {last} {local}")
    return " ".join(names)


def _snapshot(interaction: Interaction) -> dict[str, Any]:
    """The interaction's state as JSON, kept in an InteractionRevision before each edit."""
    data: dict[str, Any] = {f: getattr(interaction, f) for f in TRACKED_FIELDS}
    data["occurred_at"] = interaction.occurred_at.isoformat()
    data["contacts"] = sorted(interaction.contacts.values_list("id", flat=True))
    data["participants"] = sorted(interaction.participants.values_list("id", flat=True))
    data["saved_by"] = str(interaction.updated_by) if interaction.updated_by_id else ""
    data["saved_at"] = interaction.updated_at.isoformat() if interaction.updated_at else None
    return data


def _changes(before: dict, clean: dict) -> dict:
    out = {}
    for k, v in clean.items():
        key = "contact_id" if k == "contact" else k
        new = v.pk if isinstance(v, Contact) else v
        old = before.get(key)
        if k in ("contacts", "participants"):
            old = before.get(k)
        if old != new:
            out[k] = [_jsonable(old), _jsonable(new)]
    return out


def _jsonable(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


@transaction.atomic
def interaction_create(
    *,
    actor,
    company: Company,
    data: dict,
    files: Iterable = (),
    source: str = InteractionSource.MANUAL,
    external_id: str = "",
) -> Interaction:
    """Log an interaction on `company`'s timeline. `data`: type, direction, occurred_at (naive
    means the actor's time zone), subject, body (+ body_format "text"|"html"), contact,
    contacts, participants, duration_minutes. `files`: uploads attached to it."""
    if source not in InteractionSource.values:
        raise ValidationError(
            {"source": [_("“%(value)s” is not one of the available choices.") % {"value": source}]}
        )
    external_id = (external_id or "")[:128]
    clean = clean_interaction(data, actor=actor, company=company)
    files = list(files)
    checked = [_check_upload(f) for f in files]  # refuse a bad file before anything is written
    if (
        external_id
        and Interaction.objects.filter(company_id=company.pk, source=source, external_id=external_id).exists()
    ):
        raise ValidationError({"external_id": [_("This entry was imported already.")]})
    contacts, participants = clean.pop("contacts", []), clean.pop("participants", [])
    interaction = Interaction(
        **clean,
        company=company,
        source=source,
        external_id=external_id,
        owner=actor if getattr(actor, "pk", None) else None,
        updated_by=actor if getattr(actor, "pk", None) else None,
    )
    interaction.search_text = interaction_search_text(
        interaction.subject, interaction.body, _contact_names(interaction.contact, contacts)
    )
    interaction.save()
    if contacts:
        interaction.contacts.set(contacts)
    if participants:
        interaction.participants.set(participants)
    stored: list[str] = []
    try:
        for upload, meta in zip(files, checked, strict=True):
            stored.append(_store_attachment(actor, interaction, upload, meta).file.name)
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    if interaction.type in CONTACT_TYPES:
        company_refresh_last_contact(company.pk)
    audit_record(
        actor=actor,
        action="interaction.create",
        obj=interaction,
        changes={"company": company.pk, "type": interaction.type, "source": source},
    )
    return interaction


def can_delete_interaction(user, interaction: Interaction) -> bool:
    """Who logged it, the customer's owner, managers and administrators."""
    return (
        user.is_admin
        or user.is_manager
        or interaction.owner_id == user.id
        or interaction.company.owner_id == user.id
    )


@transaction.atomic
def interaction_update(*, actor, interaction: Interaction, version: int, data: dict) -> Interaction:
    """Apply a partial change, keeping the previous state as an InteractionRevision. Refused with
    ConcurrentEditError when someone saved in between."""
    company = interaction.company
    clean = clean_interaction(data, actor=actor, company=company, partial=True)
    before = _snapshot(interaction)
    contacts, participants = clean.pop("contacts", None), clean.pop("participants", None)
    for k, v in clean.items():
        setattr(interaction, k, v)
    contact_ids = contacts if contacts is not None else before["contacts"]
    interaction.search_text = interaction_search_text(
        interaction.subject, interaction.body, _contact_names(interaction.contact, contact_ids)
    )
    now = timezone.now()
    fields = {k: getattr(interaction, k) for k in clean}
    fields["search_text"] = interaction.search_text
    updated = Interaction.objects.filter(pk=interaction.pk, version=version).update(
        **fields, version=F("version") + 1, updated_at=now, updated_by=actor
    )
    if not updated:
        current = Interaction.objects.select_related("updated_by").get(pk=interaction.pk)
        raise ConcurrentEditError(
            by=str(current.updated_by or "?"), at=current.updated_at, current_version=current.version
        )
    InteractionRevision.objects.create(
        interaction=interaction, version=version, data=before, edited_by=actor, edited_at=now
    )
    if contacts is not None:
        interaction.contacts.set(contacts)
    if participants is not None:
        interaction.participants.set(participants)
    interaction.version = version + 1
    interaction.updated_at = now
    interaction.updated_by = actor
    if {"type", "occurred_at"} & clean.keys():
        company_refresh_last_contact(company.pk)
    changes = _changes(before, clean)
    if contacts is not None and contacts != before["contacts"]:
        changes["contacts"] = [before["contacts"], contacts]
    if participants is not None and participants != before["participants"]:
        changes["participants"] = [before["participants"], participants]
    audit_record(actor=actor, action="interaction.update", obj=interaction, changes=changes)
    return interaction


@transaction.atomic
def interaction_delete(*, actor, interaction: Interaction) -> None:
    if not can_delete_interaction(actor, interaction):
        raise PermissionDenied(
            _(
                "Only who logged it, the customer's owner, a manager or an administrator may delete this entry."
            )
        )
    company_id = interaction.company_id
    names = list(interaction.attachments.values_list("file", flat=True))
    audit_record(
        actor=actor,
        action="interaction.delete",
        obj=interaction,
        changes={"company": company_id, "type": interaction.type, "subject": interaction.subject},
    )
    interaction.delete()
    company_refresh_last_contact(company_id)
    # the files go once the rows are gone for good
    transaction.on_commit(lambda: [default_storage.delete(n) for n in names if n])


# --- attachments --------------------------------------------------------------------------------


def _store_attachment(actor, interaction: Interaction, upload, meta: dict[str, Any]) -> Attachment:
    attachment = Attachment(
        interaction=interaction,
        name=meta["name"],
        size=meta["size"],
        content_type=meta["content_type"],
        sha256=meta["sha256"],
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    attachment.file.save(meta["name"], ContentFile(encrypt_bytes(_read_all(upload), ATTACHMENT_LABEL)), save=False)
    try:
        attachment.save()
        audit_record(
            actor=actor,
            action="attachment.add",
            obj=attachment,
            changes={"interaction": interaction.pk, "name": meta["name"], "size": meta["size"]},
        )
    except BaseException:
        default_storage.delete(attachment.file.name)
        raise
    return attachment


def _read_all(upload) -> bytes:
    if hasattr(upload, "seek"):
        upload.seek(0)
    if hasattr(upload, "chunks"):
        return b"".join(upload.chunks())
    return upload.read()


def attachment_read(attachment: Attachment) -> bytes:
    """The file's plaintext: stored encrypted (core/crypto.py); files stored before that come back
    as they are. FileNotFoundError when the file is gone."""
    with attachment.file.open("rb") as f:
        data = f.read()
    return decrypt_bytes(data, ATTACHMENT_LABEL)


@transaction.atomic
def attachment_add(*, actor, interaction: Interaction, upload) -> Attachment:
    """Attach a file (a django File / UploadedFile). Refused, with nothing stored, when it is over
    settings.TRADECRM_ATTACHMENT_MAX_BYTES, has a forbidden extension or is a program."""
    meta = _check_upload(upload)
    return _store_attachment(actor, interaction, upload, meta)


@transaction.atomic
def attachment_delete(*, actor, attachment: Attachment) -> None:
    interaction = attachment.interaction
    if not (can_delete_interaction(actor, interaction) or attachment.uploaded_by_id == actor.id):
        raise PermissionDenied(_("Only who uploaded it, a manager or an administrator may delete this file."))
    name = attachment.file.name
    audit_record(
        actor=actor,
        action="attachment.delete",
        obj=attachment,
        changes={"interaction": interaction.pk, "name": attachment.name},
    )
    attachment.delete()
    transaction.on_commit(lambda: default_storage.delete(name))
