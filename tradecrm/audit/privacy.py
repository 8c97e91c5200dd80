"""Data-subject requests for one customer: export everything stored about it (one ZIP), and erase
its personal data while the business records the law requires stay (decision 0011).

Who: administrators, and managers who can see the customer. Both write an audit event ("export",
"erasure") in the same transaction; the erasure event stays, like every audit event.

What erasure does (and keeps):
  * contacts (people): names, e-mails, phones, messenger ids, LinkedIn, Skype, title, birthday,
    notes emptied; the contact rows stay as "Erased contact" so orders and documents that point to
    them stay whole;
  * the company: e-mail, e-mail domains, phones, website, address, tax id and notes emptied; its
    name, country, city, status, owner and commercial classification stay (a company is not a data
    subject; its name is on the invoices the law makes us keep);
  * timeline: subjects and contents emptied, edit history deleted, attachments (rows and files)
    deleted; follow-up notes emptied; inquiries: buyer name, e-mail, phone and message emptied;
  * kept untouched: quotations, proforma invoices and orders (amounts, numbers, issued snapshots —
    the legal record), receivables and payments;
  * known limit: audit events written before the erasure keep what they recorded (the trail is
    append-only and hash-chained; values of encrypted fields were never written there).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AuditEvent
from .services import audit_record

ERASED_CONTACT = "Erased contact"
ERASED_TEXT = ""


def can_handle_requests(user, company) -> bool:
    """Admins; managers (who already passed company_get_for_user, i.e. can see the customer)."""
    return bool(getattr(user, "is_admin", False) or getattr(user, "is_manager", False))


def require_handler(user, company) -> None:
    if not can_handle_requests(user, company):
        raise PermissionDenied(_("Only an administrator or a manager may export or erase a customer's data."))


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _rows(model, q: Q, fields: tuple[str, ...] | None = None) -> list[dict]:
    if model is None:
        return []
    if fields is None:
        fields = tuple(f.attname for f in model._meta.concrete_fields if f.attname != "search_text")
    return list(model._base_manager.filter(q).order_by("pk").values(*fields))


# What the export holds: (section, model, filter on the company id, fields or None for all).
HEADER_FIELDS = (
    "id", "number", "revision", "status", "document_date", "currency", "total_amount", "incoterm",
    "payment_terms", "contact_id", "owner_id", "issued_at", "created_at", "updated_at",
)  # fmt: skip


def _sections(company_id: int) -> list[tuple[str, str, Q, tuple[str, ...] | None]]:
    on = Q(company_id=company_id)
    return [
        ("contacts", "customers.Contact", on, None),
        ("interactions", "interactions.Interaction", on, None),
        ("attachments", "interactions.Attachment", Q(interaction__company_id=company_id),
         ("id", "interaction_id", "name", "size", "content_type", "sha256", "uploaded_by_id", "uploaded_at")),
        ("followups", "followups.FollowUp", on, None),
        ("inquiries", "sales.Inquiry", on, None),
        ("opportunities", "sales.Opportunity", on, None),
        ("samples", "sales.Sample", on, None),
        ("quotations", "documents.Quotation", on, HEADER_FIELDS),
        ("proforma_invoices", "documents.ProformaInvoice", on, HEADER_FIELDS),
        ("orders", "orders.Order", on, HEADER_FIELDS),
    ]  # fmt: skip


def _audit_q(company_id: int, contact_ids: list[int], interaction_ids: list[int]) -> Q:
    q = Q(object_type="customers.company", object_id=company_id)
    if contact_ids:
        q |= Q(object_type="customers.contact", object_id__in=contact_ids)
    if interaction_ids:
        q |= Q(object_type="interactions.interaction", object_id__in=interaction_ids)
    return q


def _read_attachment(att) -> bytes | None:
    from tradecrm.interactions.services import attachment_read

    try:
        return attachment_read(att)
    except FileNotFoundError:
        return None


@transaction.atomic
def customer_data_export(*, actor, company, check: bool = True) -> bytes:
    """One ZIP: data.json (the company and everything about it, decrypted) and attachments/…
    (the files, decrypted). Audited as "export"."""
    if check:
        require_handler(actor, company)
    from tradecrm.interactions.models import Attachment

    data: dict[str, Any] = {
        "format": "tradecrm-customer-export", "version": 1, "exported_at": timezone.now(),
        "exported_by": getattr(actor, "username", None) or "cli",
        "company": _rows(type(company), Q(pk=company.pk))[0],
        "tags": list(company.tags.values_list("name", flat=True)),
    }  # fmt: skip
    for section, label, q, fields in _sections(company.pk):
        data[section] = _rows(_model(label), q, fields)
    contact_ids = [c["id"] for c in data["contacts"]]
    interaction_ids = [i["id"] for i in data["interactions"]]
    data["audit_events"] = list(
        AuditEvent.objects.filter(_audit_q(company.pk, contact_ids, interaction_ids))
        .order_by("id").values("id", "at", "actor_name", "action", "object_type", "object_id", "changes", "source")
    )  # fmt: skip
    buf = io.BytesIO()
    missing = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for att in Attachment.objects.filter(interaction__company_id=company.pk).order_by("pk"):
            content = _read_attachment(att)
            if content is None:
                missing.append(att.pk)
                continue
            zf.writestr(f"attachments/{att.pk}-{att.name}", content)
        data["attachments_missing"] = missing
        zf.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
    audit_record(actor=actor, action="export", obj=company,
                 changes={"kind": "data-subject export", **{k: len(data[k]) for k, *_ in _sections(company.pk)}})  # fmt: skip
    return buf.getvalue()


def export_filename(company) -> str:
    return f"customer-{company.pk}-data-{timezone.localdate():%Y%m%d}.zip"


# --- erasure ------------------------------------------------------------------------------------


def _blank(model, q: Q, names: tuple[str, ...], overrides: dict | None = None) -> int:
    """Empty the listed fields (that the model has) on the rows matching q: text "", JSON its
    default, nullable others NULL."""
    if model is None:
        return 0
    values: dict[str, Any] = {}
    for name in names:
        try:
            f = model._meta.get_field(name)
        except Exception:  # noqa: BLE001 - a field another version of the app does not have
            continue
        if isinstance(f, models.JSONField):
            values[name] = f.get_default()
        elif isinstance(f, models.CharField | models.TextField):
            values[name] = ""
        elif f.null:
            values[name] = None
    values.update(overrides or {})
    return model._base_manager.filter(q).update(**values) if values else 0


CONTACT_FIELDS = ("last_name", "name_local", "title", "emails", "phones", "email", "whatsapp", "wechat", "linkedin",
                  "skype", "birthday", "notes", "search_text")  # fmt: skip
COMPANY_FIELDS = ("email", "email_domains", "phones", "website", "address", "tax_id", "notes")
INTERACTION_FIELDS = ("subject", "body", "search_text", "external_id")
INQUIRY_FIELDS = ("buyer_name", "buyer_email", "buyer_phone", "message", "subject")


@transaction.atomic
def customer_data_erase(*, actor, company, check: bool = True) -> dict[str, int]:
    """Anonymise the customer's personal data (see the module docstring for what stays). Returns
    counts; audited as "erasure" (an event that stays)."""
    if check:
        require_handler(actor, company)
    from tradecrm.customers.models import Contact
    from tradecrm.customers.services import company_search_text
    from tradecrm.dedup.keys import refresh_company_keys, refresh_contact_keys
    from tradecrm.interactions.models import Attachment, Interaction, InteractionRevision

    cid = company.pk
    on = Q(company_id=cid)
    contact_ids = list(Contact.objects.filter(on).values_list("pk", flat=True))
    counts = {"contacts": _blank(Contact, on, CONTACT_FIELDS, {"first_name": ERASED_CONTACT})}
    for name in COMPANY_FIELDS:
        setattr(company, name, type(company)._meta.get_field(name).get_default())
    company.updated_at = timezone.now()
    company.save(update_fields=[*COMPANY_FIELDS, "updated_at"])
    names = list(Attachment.objects.filter(interaction__company_id=cid).values_list("file", flat=True))
    counts["attachments"] = Attachment.objects.filter(interaction__company_id=cid).delete()[0]
    counts["interaction_revisions"] = InteractionRevision.objects.filter(interaction__company_id=cid).delete()[0]
    counts["interactions"] = _blank(Interaction, on, INTERACTION_FIELDS)
    counts["followups"] = _blank(_model("followups.FollowUp"), on, ("notes",))
    counts["inquiries"] = _blank(_model("sales.Inquiry"), on, INQUIRY_FIELDS)
    type(company)._base_manager.filter(pk=cid).update(search_text=company_search_text(company))
    refresh_company_keys([cid])
    refresh_contact_keys(contact_ids)
    audit_record(actor=actor, action="erasure", obj=company,
                 changes={"kind": "data-subject erasure", "counts": counts,
                          "emptied": {"company": list(COMPANY_FIELDS), "contacts": list(CONTACT_FIELDS),
                                      "interactions": list(INTERACTION_FIELDS), "inquiries": list(INQUIRY_FIELDS)},
                          "kept": ["quotations", "proforma invoices", "orders", "receivables", "payments"],
                          "at": dt.datetime.now(dt.UTC).isoformat()})  # fmt: skip
    transaction.on_commit(lambda: [default_storage.delete(n) for n in names if n])
    return counts
