"""Writes of quotations (报价单) and proforma invoices (形式发票): one function per change a user can
name. The views, the API, the CLI and the periodic tasks all call these.

Lifecycle of a quotation:

    draft ──submit──► pending ──approve──► approved ──issue──► issued ──accept──► accepted
      ▲                  │ reject approval                        │  ├─reject──► rejected
      └──────────────────┘                                        │  └─expire──► expired
    draft ──issue (when no approval is needed)──► issued          └─revise──► new draft (R2)
    draft / pending / approved ──cancel──► cancelled               (the old one is superseded
                                                                     when the revision is issued)

Approval is needed before issuing when the setting `TRADECRM_QUOTATION_APPROVAL` is on, and for a
quotation someone submitted for approval (status pending) in any case.

Content (header and lines) changes only while the status is in EDITABLE_STATUSES; every save
recalculates the line figures, totals and cost totals through `documents.lines`. Issuing takes the
next number of the series inside the transaction (a failed issue gives it back), freezes the
exchange rate to the base currency, and stores the snapshot the PDF is printed from.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tradecrm.accounts.access import can_see_costs
from tradecrm.audit.models import AuditEvent
from tradecrm.audit.services import audit_record
from tradecrm.core import fx
from tradecrm.core.errors import ConcurrentEditError, Errors
from tradecrm.core.money import quantize_money
from tradecrm.customers.models import Company
from tradecrm.sales.services import opportunity_advance

from . import lines as figures
from .models import (
    EDITABLE_STATUSES,
    DocumentStatus,
    PaymentTerms,
    ProformaInvoice,
    ProformaLine,
    Quotation,
    QuotationLine,
    SeriesKind,
)
from .numbering import revision_number, take_number
from .tasks import queue_pdf_warmup
from .validation import (
    STORED_LINE_FIELDS,
    CleanLines,
    clean_header,
    clean_lines_collect,
    default_bank_account,
)

S = DocumentStatus
DEPOSIT_DUE_DAYS = 7  # a deposit is due a week after the proforma invoice's date
# Terms paid in full before production: without a deposit the whole amount is due like one.
PAID_BEFORE_PRODUCTION = frozenset({PaymentTerms.TT, PaymentTerms.PAYPAL, PaymentTerms.WU})
# Statuses an issued document may be revised from
REVISABLE = frozenset({S.ISSUED, S.ACCEPTED, S.REJECTED, S.EXPIRED})


def approval_required() -> bool:
    """Whether every quotation needs a manager's approval before it is issued."""
    return bool(getattr(settings, "TRADECRM_QUOTATION_APPROVAL", False))


def can_approve(user) -> bool:
    return bool(getattr(user, "is_admin", False) or getattr(user, "is_manager", False))


# --- errors -------------------------------------------------------------------------------------


class DocumentLocked(ValidationError):
    """A change of a document whose status does not allow it (an issued one above all). The API
    answers it with 409; forms show it above the fields."""

    def __init__(self, message: str, status: str):
        super().__init__({"status": [message]}, code="locked")
        self.status = status
        self.message_text = message


_LOCKED = {
    ("quotation", S.PENDING_APPROVAL): None,
    ("quotation", S.ISSUED): lambda: _(
        "Quotation %(number)s is issued and cannot be changed; make a revision."
    ),
    ("quotation", S.ACCEPTED): lambda: _(
        "Quotation %(number)s was accepted and cannot be changed; make a revision."
    ),
    ("quotation", S.REJECTED): lambda: _(
        "Quotation %(number)s was rejected and cannot be changed; make a revision."
    ),
    ("quotation", S.EXPIRED): lambda: _(
        "Quotation %(number)s has expired and cannot be changed; make a revision."
    ),
    ("quotation", S.SUPERSEDED): lambda: _(
        "Quotation %(number)s was replaced by a revision and cannot be changed; change the latest revision."
    ),
    ("quotation", S.CANCELLED): lambda: _("Quotation %(number)s is cancelled and cannot be changed."),
    ("proforma", S.ISSUED): lambda: _(
        "Proforma invoice %(number)s is issued and cannot be changed; make a revision."
    ),
    ("proforma", S.ACCEPTED): lambda: _(
        "Proforma invoice %(number)s was accepted and cannot be changed; make a revision."
    ),
    ("proforma", S.REJECTED): lambda: _(
        "Proforma invoice %(number)s was rejected and cannot be changed; make a revision."
    ),
    ("proforma", S.EXPIRED): lambda: _(
        "Proforma invoice %(number)s has expired and cannot be changed; make a revision."
    ),
    ("proforma", S.SUPERSEDED): lambda: _(
        "Proforma invoice %(number)s was replaced by a revision and cannot be changed; change the latest revision."
    ),
    ("proforma", S.CANCELLED): lambda: _("Proforma invoice %(number)s is cancelled and cannot be changed."),
}


def label(doc) -> str:
    """The document's number, or “draft #12” before it has one."""
    return doc.number or _("draft #%(id)s") % {"id": doc.pk}


def locked_error(kind: str, doc) -> DocumentLocked:
    make = _LOCKED.get((kind, doc.status))
    message = make() if make else _("%(number)s cannot be changed in its current status.")
    return DocumentLocked(message % {"number": label(doc)}, doc.status)


def _status_error(doc, message: str) -> ValidationError:
    return ValidationError({"status": [message % {"number": label(doc)}]})


def _conflict(model, pk: int) -> ConcurrentEditError:
    current = model.objects.select_related("updated_by").filter(pk=pk).first()
    if current is None:
        from django.http import Http404

        raise Http404
    by = str(current.updated_by) if current.updated_by else "?"
    return ConcurrentEditError(by=by, at=current.updated_at, current_version=current.version)


def _by(actor):
    return actor if getattr(actor, "pk", None) else None


def actor_today(actor) -> dt.date:
    """Today in the actor's time zone (a rep in Shanghai is a day ahead of one in Chicago); the
    server's date for the system (actor None)."""
    return fx.user_today(actor) if getattr(actor, "pk", None) else timezone.localdate()


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):  # and datetime
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _changes(before: dict, after: dict) -> dict:
    return {k: [_jsonable(before.get(k)), _jsonable(v)] for k, v in after.items() if before.get(k) != v}


# --- what quotations and proforma invoices share ------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str  # "quotation" | "proforma"
    model: type
    line_model: type
    series: str

    @property
    def audit(self) -> str:
        return self.name


QUOTATION = Kind("quotation", Quotation, QuotationLine, SeriesKind.QUOTATION)
PROFORMA = Kind("proforma", ProformaInvoice, ProformaLine, SeriesKind.PROFORMA)

TOTAL_FIELDS = (
    "subtotal", "discount_total", "total_amount", "total_cartons", "total_gross_weight_kg",
    "total_net_weight_kg", "total_cbm", "total_cost_cny", "total_rebate_cny",
)  # fmt: skip


def _totals_fields(clean: CleanLines) -> dict:
    t = clean.totals or figures.totals([])
    return {
        "subtotal": t.subtotal,
        "discount_total": t.discount_total,
        "total_amount": t.total_amount,
        "total_cartons": t.total_cartons,
        "total_gross_weight_kg": t.total_gross_weight_kg,
        "total_net_weight_kg": t.total_net_weight_kg,
        "total_cbm": t.total_cbm,
        "total_cost_cny": clean.total_cost_cny,
        "total_rebate_cny": clean.total_rebate_cny,
    }


def _write_lines(kind: Kind, doc, clean: CleanLines) -> None:
    """Make the document's lines exactly `clean.lines`: a line that names an existing one (its id)
    is updated in place and keeps its id, the others are new; lines not named are deleted."""
    model = kind.line_model
    kept = [line for line in clean.lines if line.get("id")]
    model.objects.filter(document_id=doc.pk).exclude(pk__in=[line["id"] for line in kept]).delete()
    if kept:
        model.objects.bulk_update(
            [
                model(pk=line["id"], document_id=doc.pk, **{k: line[k] for k in STORED_LINE_FIELDS})
                for line in kept
            ],
            list(STORED_LINE_FIELDS),
            batch_size=200,
        )
    model.objects.bulk_create(
        [model(document_id=doc.pk, **{k: line[k] for k in STORED_LINE_FIELDS}) for line in clean.lines
         if not line.get("id")]
    )  # fmt: skip


def _validate(
    kind: Kind, *, actor, company: Company, data: dict, lines, current=None
) -> tuple[dict, CleanLines]:
    """Header and lines checked together, so one answer names every bad field."""
    errors = Errors()
    header: dict = {}
    try:
        header = clean_header(
            data, actor=actor, company=company, kind=kind.name, current=current, today=actor_today(actor)
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            for m in messages:
                errors.add(name, m)
    currency = header.get("currency") or (current.currency if current else "USD")
    on = header.get("document_date") or (current.document_date if current else actor_today(actor))
    existing = list(current.lines.select_related("product")) if current is not None else []
    if lines is None:
        # header-only change: the lines stay, their figures are worked out again (e.g. a new currency)
        lines = [{"id": line.pk} for line in existing]
    clean, line_errors = clean_lines_collect(
        lines, currency=currency, on=on, allow_costs=can_see_costs(actor) if getattr(actor, "pk", None) else True,
        existing=existing,
    )  # fmt: skip
    for name, messages in line_errors.by_field.items():
        for m in messages:
            errors.add(name, m)
    errors.raise_if_any()
    return header, clean


def _create(kind: Kind, *, actor, company: Company, data: dict, lines, extra: dict | None = None):
    header, clean = _validate(kind, actor=actor, company=company, data=data, lines=lines or [])
    if kind is PROFORMA and "bank_account" not in header:
        seller = header.get("seller")
        header["bank_account"] = default_bank_account(seller.pk if seller else None, header["currency"])
    doc = kind.model(
        company=company,
        owner=_by(actor),
        created_by=_by(actor),
        updated_by=_by(actor),
        status=S.DRAFT,
        **header,
        **_totals_fields(clean),
        **(extra or {}),
    )
    doc.save()
    _write_lines(kind, doc, clean)
    audit_record(
        actor=actor,
        action=f"{kind.audit}.create",
        obj=doc,
        changes={
            "company": company.pk,
            **{k: _jsonable(v) for k, v in header.items()},
            "lines": len(clean.lines),
            "total_amount": str(doc.total_amount),
            **{k: _jsonable(v) for k, v in (extra or {}).items()},
        },
    )
    return doc


def _update(kind: Kind, *, actor, doc, version: int, data: dict, lines=None):
    if doc.status not in EDITABLE_STATUSES:
        raise locked_error(kind.name, doc)
    if doc.version != version:
        raise _conflict(kind.model, doc.pk)
    header, clean = _validate(kind, actor=actor, company=doc.company, data=data, lines=lines, current=doc)
    before = {k: getattr(doc, k) for k in header}
    fields = {**header, **_totals_fields(clean)}
    if doc.status != S.DRAFT:
        # the approval was given for the old content: the changed quotation must be approved again
        fields.update(status=S.DRAFT, approved_at=None, approved_by=None)
    now = timezone.now()
    updated = kind.model.objects.filter(pk=doc.pk, version=version, status__in=EDITABLE_STATUSES).update(
        **fields, version=F("version") + 1, updated_at=now, updated_by=_by(actor)
    )
    if not updated:
        fresh = kind.model.objects.get(pk=doc.pk)
        if fresh.status not in EDITABLE_STATUSES:
            raise locked_error(kind.name, fresh)
        raise _conflict(kind.model, doc.pk)
    _write_lines(kind, doc, clean)
    for k, v in fields.items():
        setattr(doc, k, v)
    doc.version = version + 1
    doc.updated_at = now
    doc.updated_by = _by(actor)
    changes = _changes(before, header)
    if lines is not None:
        changes["lines"] = len(clean.lines)
    changes["total_amount"] = str(doc.total_amount)
    audit_record(actor=actor, action=f"{kind.audit}.update", obj=doc, changes=changes)
    return doc


def _locked_row(kind: Kind, doc, version: int | None):
    """The document's row, locked for the rest of the transaction; a stale version is refused."""
    fresh = kind.model.objects.select_for_update().filter(pk=doc.pk).first()
    if fresh is None:
        from django.http import Http404

        raise Http404
    if version is not None and fresh.version != version:
        raise _conflict(kind.model, doc.pk)
    return fresh


def _set(kind: Kind, doc, fresh, actor, fields: dict) -> None:
    """Write `fields` on the locked row (version + 1) and mirror them on the caller's object."""
    now = timezone.now()
    new_version = fresh.version + 1
    kind.model.objects.filter(pk=fresh.pk).update(
        **fields, version=new_version, updated_at=now, updated_by=_by(actor)
    )
    for target in (doc, fresh):
        for k, v in fields.items():
            setattr(target, k, v)
        target.version = new_version
        target.updated_at = now
        target.updated_by = _by(actor)


def _freeze_rate(doc) -> fx.RateQuote:
    """The rate of the document's currency in the base currency on the document's date; a missing
    rate refuses the issue with its message on the currency field."""
    try:
        return fx.rate_on(doc.currency, fx.base_currency(), doc.document_date)
    except fx.MissingRate as exc:
        raise ValidationError({"currency": exc.messages}) from None


def _issue_number(kind: Kind, doc) -> tuple[str, str]:
    """(number, base_number): a revision keeps its base number with -R<n>; a first issue takes the
    next number of the series."""
    if doc.revision > 1 and doc.base_number:
        return revision_number(doc.base_number, doc.revision), doc.base_number
    number = take_number(kind.series, doc.document_date)
    return number, number


def _number_and_snapshot(kind: Kind, fresh, fields: dict, snapshot) -> str:
    """Apply `fields` to the locked row's object, build the snapshot, then take the number. The
    series row stays locked from `take_number` to the commit, so everything slow (the snapshot's
    reads) happens before it: concurrent issues wait on each other as briefly as possible."""
    for k, v in fields.items():
        setattr(fresh, k, v)
    snap = snapshot()
    number, base = _issue_number(kind, fresh)
    snap["doc"]["number"] = number
    fresh.number, fresh.base_number = number, base
    fields.update(number=number, base_number=base, snapshot=snap)
    return number


def _supersede_previous(kind: Kind, actor, doc) -> None:
    if not doc.previous_id:
        return
    updated = kind.model.objects.filter(pk=doc.previous_id, status__in=REVISABLE).update(
        status=S.SUPERSEDED, version=F("version") + 1, updated_at=timezone.now(), updated_by=_by(actor)
    )
    if updated:
        audit_record(
            actor=actor,
            action=f"{kind.audit}.supersede",
            object_type=kind.model._meta.label_lower,
            object_id=doc.previous_id,
            changes={"by": doc.pk, "number": doc.number},
        )


def _copy_header(doc) -> dict:
    names = (
        "company_id", "contact_id", "opportunity_id", "seller_id", "language", "currency", "incoterm",
        "incoterm_place", "port_of_loading", "port_of_destination", "payment_terms", "deposit_percent",
        "payment_days", "payment_terms_note", "lead_time_days", "shipping_marks", "packing_notes", "remarks",
        *TOTAL_FIELDS,
    )  # fmt: skip
    return {k: getattr(doc, k) for k in names}


def _copy_lines(source_lines, line_model, document_id: int) -> None:
    line_model.objects.bulk_create(
        [
            line_model(document_id=document_id, **{k: getattr(line, k) for k in STORED_LINE_FIELDS})
            for line in source_lines
        ]
    )


def _revise(kind: Kind, *, actor, doc, today: dt.date | None = None, extra=None):
    if doc.status not in REVISABLE:
        if doc.status == S.SUPERSEDED:
            raise _status_error(
                doc, _("%(number)s was replaced by a revision already; revise the latest one.")
            )
        raise _status_error(doc, _("Only an issued document can be revised; %(number)s is not issued."))
    nxt = kind.model.objects.filter(previous_id=doc.pk).first()
    if nxt is not None:
        if nxt.status != S.CANCELLED:
            raise _status_error(
                doc,
                _("%(number)s has a revision already (%(revision)s); change that one.")
                % {"number": "%(number)s", "revision": label(nxt)},
            )
        kind.model.objects.filter(pk=nxt.pk).update(previous=None)  # a cancelled draft frees its place
    today = today or actor_today(actor)
    new = kind.model(
        **_copy_header(doc),
        **(extra or {}),
        base_number=doc.base_number or doc.number,
        revision=doc.revision + 1,
        previous_id=doc.pk,
        status=S.DRAFT,
        document_date=today,
        owner=_by(actor) or doc.owner,
        created_by=_by(actor),
        updated_by=_by(actor),
    )
    new.save()
    _copy_lines(doc.lines.all(), kind.line_model, new.pk)
    audit_record(
        actor=actor,
        action=f"{kind.audit}.revise",
        obj=new,
        changes={"previous": doc.pk, "number": doc.number, "revision": new.revision},
    )
    return new


def _cancel_draft(kind: Kind, *, actor, doc, version: int | None):
    fresh = _locked_row(kind, doc, version)
    if fresh.status not in EDITABLE_STATUSES:
        if fresh.status == S.CANCELLED:
            raise _status_error(fresh, _("%(number)s is cancelled already."))
        raise _status_error(
            fresh,
            _("Only a draft can be cancelled; %(number)s is issued: make a revision or record the answer."),
        )
    _set(kind, doc, fresh, actor, {"status": S.CANCELLED})
    audit_record(actor=actor, action=f"{kind.audit}.cancel", obj=doc)
    return doc


def _delete_draft(kind: Kind, *, actor, doc) -> None:
    fresh = _locked_row(kind, doc, None)
    if fresh.number or fresh.issued_at:
        raise DocumentLocked(
            _("%(number)s was issued: it is kept for the record and cannot be deleted.")
            % {"number": label(fresh)},
            fresh.status,
        )
    audit_record(
        actor=actor,
        action=f"{kind.audit}.delete",
        obj=fresh,
        changes={
            "company": fresh.company_id,
            "total_amount": str(fresh.total_amount),
            "currency": fresh.currency,
        },
    )
    kind.model.objects.filter(previous_id=fresh.pk).update(previous=None)
    fresh.delete()


# --- snapshot -----------------------------------------------------------------------------------


def _s(value) -> str:
    """JSON-safe text of a Decimal / date / None."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _plain(value: Decimal | None) -> str:
    """A quantity without trailing zeros or exponent: 1000.000 → "1000", 2.500 → "2.5"."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _country(code: str) -> str:
    if not code:
        return ""
    from tradecrm.core.geo import country_name

    try:
        return country_name(code, "en")
    except Exception:  # noqa: BLE001 - an unknown code prints as it is
        return code


def build_snapshot(doc, kind: str, *, bank=None) -> dict:
    """Everything printed on the document, frozen at issue. Keys follow the context contract of
    `documents/pdf.py` (seller, buyer, doc, lines, totals, terms, bank) plus `fx`; Decimals and
    dates are strings (ISO dates), so the JSON column keeps them exactly."""
    with translation.override("en"):  # labels in English; the printer translates by code
        seller = doc.seller
        company = doc.company
        contact = doc.contact
        lines = list(doc.lines.all())
        payment_label = str(PaymentTerms(doc.payment_terms).label) if doc.payment_terms else ""
        payment = ", ".join(p for p in (payment_label, doc.payment_terms_note) if p)
        if doc.deposit_percent is not None and doc.payment_terms:
            payment = f"{payment} ({_plain(doc.deposit_percent)}% deposit)"
        title = "Quotation" if kind == "quotation" else "Proforma Invoice"
        est = figures.container_estimate(doc.total_cbm, doc.total_gross_weight_kg)
        total_qty = sum((line.quantity for line in lines), Decimal("0"))
        snap: dict[str, Any] = {
            "seller": {
                "name": seller.name_en if seller else "",
                "name_en": seller.name_en if seller else "",
                "name_zh": seller.name_zh if seller else "",
                "address": seller.address_en if seller else "",
                "address_en": seller.address_en if seller else "",
                "address_zh": seller.address_zh if seller else "",
                "phone": seller.phone if seller else "",
                "email": seller.email if seller else "",
                "website": seller.website if seller else "",
                "tax_id": seller.tax_id if seller else "",
                "logo": seller.logo.name if seller and seller.logo else "",
            },
            "buyer": {
                "name": company.name,
                "name_local": company.name_local,
                "contact": contact.full_name if contact else "",
                "address": company.address,
                "city": company.city,
                "country": _country(company.country),
                "country_code": company.country,
                "email": (contact.email if contact else "") or company.email,
                "phone": (contact.phones[0] if contact and contact.phones else "")
                or (company.phones[0] if company.phones else ""),
                "tax_id": "",
            },
            "doc": {
                "kind": kind,
                "title": title,
                "number": doc.number,
                "revision": doc.revision,
                "date": _s(doc.document_date),
                "valid_until": _s(getattr(doc, "valid_until", None)),
                "currency": doc.currency,
                "language": doc.language,
                "reference": "",
                "sales_rep": str(doc.owner) if doc.owner else "",
                "show_discount": any(line.discount_percent for line in lines),
                "show_packing": any(line.cartons for line in lines),
                "incoterm": doc.incoterm,
                "incoterm_place": doc.incoterm_place,
                "port_of_loading": doc.port_of_loading,
                "port_of_destination": doc.port_of_destination,
                "payment_terms": payment_label,
                "payment_terms_code": doc.payment_terms,
                "payment_terms_note": doc.payment_terms_note,
                "deposit_percent": _s(doc.deposit_percent),
                "payment_days": doc.payment_days,
                "lead_time_days": doc.lead_time_days,
                "shipping_marks": doc.shipping_marks,
                "packing_notes": doc.packing_notes,
                "remarks": doc.remarks,
            },
            "lines": [
                {
                    "no": i,
                    "sku": line.sku,
                    "name": line.name,
                    "name_zh": line.name_zh,
                    "spec": line.specification,
                    "hs_code": line.hs_code,
                    "qty": _plain(line.quantity),
                    "unit": line.unit,
                    "unit_price": _s(line.unit_price),
                    "discount": _s(line.discount_percent) if line.discount_percent else "",
                    "amount": _s(line.amount),
                    "cartons": line.cartons,
                    "gw": _s(line.gross_weight_kg),
                    "nw": _s(line.net_weight_kg),
                    "cbm": _s(line.cbm),
                    "note": line.note,
                }
                for i, line in enumerate(lines, start=1)
            ],
            "totals": {
                "subtotal": _s(doc.subtotal),
                "discount": _s(doc.discount_total),
                "total": _s(doc.total_amount),
                "qty": _plain(total_qty),
                "cartons": doc.total_cartons,
                "gw": _s(doc.total_gross_weight_kg),
                "nw": _s(doc.total_net_weight_kg),
                "cbm": _s(doc.total_cbm),
                "containers": est["suggested"],
                "container_detail": {k: v for k, v in est.items() if k in ("20GP", "40GP", "40HQ")},
                "lcl": est["lcl"],
            },
            "terms": {
                "incoterm": doc.incoterm,
                "incoterm_place": doc.incoterm_place,
                "payment": payment,
                "lead_time": f"{doc.lead_time_days} days" if doc.lead_time_days is not None else "",
                "lead_time_days": doc.lead_time_days,
                "port_loading": doc.port_of_loading,
                "port_destination": doc.port_of_destination,
                "shipping_marks": doc.shipping_marks,
                "packing": doc.packing_notes,
                "remarks": doc.remarks,
            },
            "fx": {
                "rate": _s(doc.fx_rate),
                "date": _s(doc.fx_date),
                "source": doc.fx_source,
                "base": doc.base_currency,
            },
        }
        if kind == "proforma":
            snap["totals"].update(
                deposit_percent=_s(doc.deposit_percent),
                deposit=_s(doc.deposit_amount),
                balance=_s(doc.balance_amount),
                deposit_due=_s(doc.deposit_due_date),
                balance_due=_s(doc.balance_due_date),
            )
        if bank is not None:
            snap["bank"] = {
                "beneficiary": bank.beneficiary,
                "beneficiary_address": bank.beneficiary_address,
                "bank_name": bank.bank_name,
                "bank_address": bank.bank_address,
                "account": bank.account_number,
                "account_number": bank.account_number,
                "swift": bank.swift,
                "iban": bank.iban,
                "routing": "",
                "intermediary": bank.intermediary_bank,
                "currency": bank.currency,
            }
    return snap


def draft_snapshot(doc, kind: str) -> dict:
    """What a draft would print if it were issued now (no number, no frozen rate): the snapshot
    its PDF preview is printed from. A proforma invoice gets the bank account, seller and the
    deposit/balance split with due dates that `proforma_issue` would give it. Nothing is saved."""
    if kind == "quotation":
        return build_snapshot(doc, "quotation")
    preview = copy.copy(doc)  # the figures are set on a copy: the caller's object stays as it was
    bank = doc.bank_account or default_bank_account(doc.seller_id, doc.currency)
    if preview.seller_id is None and bank is not None:
        preview.seller = bank.seller
    percent = doc.deposit_percent or Decimal("0")
    deposit = quantize_money(doc.total_amount * percent / Decimal("100"), doc.currency)
    balance = doc.total_amount - deposit
    preview.deposit_amount, preview.balance_amount = deposit, balance
    preview.deposit_due_date, preview.balance_due_date = _due_dates(preview, deposit, balance)
    return build_snapshot(preview, "proforma", bank=bank)


# --- quotations ---------------------------------------------------------------------------------


@transaction.atomic
def quotation_create(*, actor, company: Company, data: dict, lines: list | None = None) -> Quotation:
    """A draft quotation for `company`. `data`: contact, opportunity, inquiry, seller (the default
    seller profile when not given), currency (the customer's settlement currency by default),
    document_date (today), valid_until (+30 days), language, incoterm + incoterm_place, ports,
    payment_terms + deposit_percent + payment_days + payment_terms_note, lead_time_days,
    shipping_marks, packing_notes, remarks. `lines`: dicts with product (its details, packing,
    cost and price copied in) or a free description, quantity, unit_price, discount_percent…"""
    return _create(QUOTATION, actor=actor, company=company, data=data, lines=lines)


@transaction.atomic
def quotation_update(
    *, actor, quotation: Quotation, version: int, data: dict, lines: list | None = None
) -> Quotation:
    """Change header fields (only those in `data`) and, when `lines` is given, replace the whole
    line list (a line with the `id` of an existing one keeps what it does not repeat). Refused
    for an issued quotation: make a revision."""
    return _update(QUOTATION, actor=actor, doc=quotation, version=version, data=data, lines=lines)


@transaction.atomic
def quotation_submit(*, actor, quotation: Quotation, version: int | None = None) -> Quotation:
    """Ask a manager to approve the quotation before it is issued."""
    fresh = _locked_row(QUOTATION, quotation, version)
    if fresh.status != S.DRAFT:
        raise _status_error(
            fresh, _("Only a draft can be submitted for approval; %(number)s is not a draft.")
        )
    if not fresh.lines.exists():
        raise ValidationError({"lines": [_("Add at least one line before submitting the quotation.")]})
    _set(QUOTATION, quotation, fresh, actor, {"status": S.PENDING_APPROVAL})
    audit_record(actor=actor, action="quotation.submit", obj=quotation)
    from tradecrm.automation.approvals import quotation_submitted

    quotation_submitted(actor=actor, quotation=fresh)  # the requests in the approvals inbox
    return quotation


def _check_approver(actor) -> None:
    if not can_approve(actor):
        raise PermissionDenied(_("Only a manager or an administrator may approve quotations."))


@transaction.atomic
def quotation_approve(
    *, actor, quotation: Quotation, version: int | None = None, note: str = ""
) -> Quotation:
    _check_approver(actor)
    fresh = _locked_row(QUOTATION, quotation, version)
    if fresh.status != S.PENDING_APPROVAL:
        raise _status_error(fresh, _("%(number)s is not waiting for approval."))
    _set(QUOTATION, quotation, fresh, actor,
         {"status": S.APPROVED, "approved_at": timezone.now(), "approved_by": _by(actor)})  # fmt: skip
    audit_record(
        actor=actor, action="quotation.approve", obj=quotation, changes={"note": (note or "").strip()}
    )
    from tradecrm.automation.approvals import quotation_decided

    quotation_decided(actor=actor, quotation=fresh, approved=True, note=note)
    return quotation


@transaction.atomic
def quotation_approval_reject(
    *, actor, quotation: Quotation, note: str, version: int | None = None
) -> Quotation:
    """Send a quotation waiting for approval back to its author as a draft, saying what to change."""
    _check_approver(actor)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("Say what has to change before the quotation can be approved.")]})
    if len(note) > 2000:
        raise ValidationError({"note": [_("At most %(limit)d characters.") % {"limit": 2000}]})
    fresh = _locked_row(QUOTATION, quotation, version)
    if fresh.status != S.PENDING_APPROVAL:
        raise _status_error(fresh, _("%(number)s is not waiting for approval."))
    _set(QUOTATION, quotation, fresh, actor, {"status": S.DRAFT, "approved_at": None, "approved_by": None})
    audit_record(actor=actor, action="quotation.approval_reject", obj=quotation, changes={"note": note})
    from tradecrm.automation.approvals import quotation_decided

    quotation_decided(actor=actor, quotation=fresh, approved=False, note=note)
    return quotation


def issue_blockers(quotation: Quotation) -> list[str]:
    """Why the quotation cannot be issued as it is (approval), for the page's buttons."""
    if quotation.status == S.PENDING_APPROVAL:
        return [_("Waiting for a manager's approval.")]
    if quotation.status == S.DRAFT and approval_required():
        return [_("Quotations need a manager's approval before they are issued: submit it for approval.")]
    from tradecrm.automation.approvals import quotation_needs_approval

    if quotation.status == S.DRAFT and quotation_needs_approval(quotation):
        return [_("A discount above the limit, a margin below the floor or credit terms (O/A, D/A) need a manager's "
                  "approval: submit it.")]
    return []


@transaction.atomic
def quotation_issue(*, actor, quotation: Quotation, version: int) -> Quotation:
    """Issue the quotation: take its number (Q-2026-0012, or Q-2026-0012-R2 for a revision),
    freeze the exchange rate to the base currency for the document's date, store the snapshot,
    and supersede the revision it replaces. Refused (and nothing changes) without lines, without
    a rate for the document's date, after its validity date, or without a needed approval."""
    fresh = _locked_row(QUOTATION, quotation, version)
    if fresh.status not in (S.DRAFT, S.APPROVED):
        if fresh.status == S.PENDING_APPROVAL:
            raise _status_error(
                fresh, _("%(number)s is waiting for approval; it can be issued once approved.")
            )
        raise _status_error(fresh, _("%(number)s is issued already."))
    if fresh.status == S.DRAFT and approval_required():
        raise _status_error(
            fresh,
            _("%(number)s needs a manager's approval before it is issued: submit it for approval first."),
        )
    from tradecrm.automation.approvals import quotation_needs_approval

    if fresh.status == S.DRAFT and quotation_needs_approval(fresh):  # discount above the limit, O/A or D/A
        raise _status_error(
            fresh,
            _("%(number)s needs a manager's approval (discount above the limit or credit terms): submit it for "
              "approval first."),
        )
    errors = Errors()
    if not fresh.lines.exists():
        errors.add("lines", _("Add at least one line before issuing the quotation."))
    if fresh.valid_until and fresh.valid_until < actor_today(actor):
        errors.add(
            "valid_until",
            _("The validity date %(date)s has passed; set a later one before issuing.")
            % {"date": fresh.valid_until.isoformat()},
        )
    errors.raise_if_any()
    rate = _freeze_rate(fresh)
    now = timezone.now()
    fields = {
        "fx_rate": rate.rate,
        "fx_date": rate.date,
        "fx_source": rate.source[:120],
        "base_currency": fx.base_currency(),
        "issued_at": now,
        "issued_by": _by(actor),
        "status": S.ISSUED,
    }
    number = _number_and_snapshot(QUOTATION, fresh, fields, lambda: build_snapshot(fresh, "quotation"))
    _set(QUOTATION, quotation, fresh, actor, fields)
    _supersede_previous(QUOTATION, actor, fresh)
    audit_record(
        actor=actor,
        action="quotation.issue",
        obj=quotation,
        changes={
            "number": number,
            "fx_rate": str(rate.rate),
            "fx_date": rate.date.isoformat(),
            "fx_source": rate.source,
            "total_amount": str(fresh.total_amount),
            "currency": fresh.currency,
        },
    )
    opportunity_advance(actor=actor, opportunity_id=fresh.opportunity_id, keys=("quoted",))
    queue_pdf_warmup("quotation", quotation.pk)
    return quotation


def _check_answerable(fresh: Quotation) -> None:
    if fresh.status != S.ISSUED:
        if fresh.status in (S.ACCEPTED, S.REJECTED, S.EXPIRED):
            raise _status_error(fresh, _("%(number)s has its answer already (%(status)s).") % {
                "number": "%(number)s", "status": fresh.get_status_display()})  # fmt: skip
        raise _status_error(fresh, _("Only an issued quotation can be accepted, rejected or expired."))


@transaction.atomic
def quotation_accept(*, actor, quotation: Quotation, version: int | None = None, note: str = "") -> Quotation:
    """The buyer accepted the quotation (next: a proforma invoice)."""
    fresh = _locked_row(QUOTATION, quotation, version)
    _check_answerable(fresh)
    if fresh.valid_until and fresh.valid_until < actor_today(actor):
        raise _status_error(
            fresh,
            _("%(number)s expired on %(date)s; make a revision with today's terms for the buyer to accept.")
            % {"number": "%(number)s", "date": fresh.valid_until.isoformat()},
        )
    _set(QUOTATION, quotation, fresh, actor,
         {"status": S.ACCEPTED, "decided_at": timezone.now(), "decision_note": (note or "").strip()})  # fmt: skip
    audit_record(
        actor=actor, action="quotation.accept", obj=quotation, changes={"note": quotation.decision_note}
    )
    return quotation


@transaction.atomic
def quotation_reject(*, actor, quotation: Quotation, note: str = "", version: int | None = None) -> Quotation:
    """The buyer turned the quotation down; `note` says why (price, lead time…)."""
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationError({"note": [_("At most %(limit)d characters.") % {"limit": 2000}]})
    fresh = _locked_row(QUOTATION, quotation, version)
    _check_answerable(fresh)
    _set(QUOTATION, quotation, fresh, actor,
         {"status": S.REJECTED, "decided_at": timezone.now(), "decision_note": note})  # fmt: skip
    audit_record(actor=actor, action="quotation.reject", obj=quotation, changes={"note": note})
    return quotation


@transaction.atomic
def quotation_expire(*, actor, quotation: Quotation, version: int | None = None) -> Quotation:
    """Mark an issued quotation as expired (the buyer did not answer in time)."""
    fresh = _locked_row(QUOTATION, quotation, version)
    _check_answerable(fresh)
    _set(QUOTATION, quotation, fresh, actor, {"status": S.EXPIRED, "decided_at": timezone.now()})
    audit_record(actor=actor, action="quotation.expire", obj=quotation)
    return quotation


@transaction.atomic
def quotations_expire_due(*, today: dt.date | None = None, actor=None) -> int:
    """Expire every issued quotation whose validity date is before `today` (the local date by
    default). Set-based, for the periodic task and the reminder scan; returns how many."""
    today = today or timezone.localdate()
    due = Quotation.objects.select_for_update().filter(status=S.ISSUED, valid_until__lt=today)
    ids = list(due.values_list("id", flat=True))
    if not ids:
        return 0
    now = timezone.now()
    Quotation.objects.filter(pk__in=ids, status=S.ISSUED).update(
        status=S.EXPIRED, decided_at=now, version=F("version") + 1, updated_at=now
    )
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=_by(actor),
                action="quotation.expire",
                object_type="documents.quotation",
                object_id=pk,
                changes={"valid_until_before": today.isoformat(), "automatic": True},
            )
            for pk in ids
        ]  # fmt: skip
    )
    return len(ids)


@transaction.atomic
def quotation_revise(*, actor, quotation: Quotation) -> Quotation:
    """A new draft revision (revision + 1, same base number) to change an issued quotation. The old
    one stays valid until the revision is issued; then it becomes superseded."""
    fresh = _locked_row(QUOTATION, quotation, None)
    validity = (
        (fresh.valid_until - fresh.document_date).days if fresh.valid_until and fresh.document_date else 30
    )
    today = actor_today(actor)
    return _revise(
        QUOTATION,
        actor=actor,
        doc=fresh,
        today=today,
        extra={"inquiry_id": fresh.inquiry_id, "valid_until": today + dt.timedelta(days=max(validity, 0))},
    )


@transaction.atomic
def quotation_cancel(*, actor, quotation: Quotation, version: int | None = None) -> Quotation:
    """Drop a draft (it keeps no number; an issued quotation is answered or revised instead)."""
    return _cancel_draft(QUOTATION, actor=actor, doc=quotation, version=version)


@transaction.atomic
def quotation_delete(*, actor, quotation: Quotation) -> None:
    """Delete a quotation that was never issued."""
    _delete_draft(QUOTATION, actor=actor, doc=quotation)


# --- proforma invoices --------------------------------------------------------------------------


@transaction.atomic
def proforma_create(*, actor, company: Company, data: dict, lines: list | None = None) -> ProformaInvoice:
    """A draft proforma invoice made directly (not from a quotation); fields as for a quotation,
    plus bank_account (the seller's default account in the currency when not given) and optional
    deposit_due_date / balance_due_date (worked out at issue otherwise)."""
    return _create(PROFORMA, actor=actor, company=company, data=data, lines=lines)


@transaction.atomic
def proforma_from_quotation(*, actor, quotation: Quotation) -> ProformaInvoice:
    """A draft proforma invoice with the lines and terms of an issued or accepted quotation."""
    fresh = _locked_row(QUOTATION, quotation, None)
    if fresh.status not in (S.ISSUED, S.ACCEPTED):
        messages = {
            S.SUPERSEDED: _(
                "%(number)s was replaced by a revision; make the proforma invoice from the latest one."
            ),
            S.REJECTED: _("%(number)s was rejected by the buyer; make a revision first."),
            S.EXPIRED: _("%(number)s has expired; make a revision first."),
            S.CANCELLED: _("%(number)s is cancelled."),
        }
        raise _status_error(
            fresh,
            messages.get(fresh.status)
            or _("%(number)s is not issued yet; issue it (or make the proforma invoice directly)."),
        )
    header = _copy_header(fresh)
    pi = ProformaInvoice(
        **header,
        quotation_id=fresh.pk,
        bank_account=default_bank_account(fresh.seller_id, fresh.currency),
        document_date=actor_today(actor),
        status=S.DRAFT,
        owner=_by(actor) or fresh.owner,
        created_by=_by(actor),
        updated_by=_by(actor),
    )
    pi.save()
    _copy_lines(fresh.lines.all(), ProformaLine, pi.pk)
    audit_record(
        actor=actor,
        action="proforma.create",
        obj=pi,
        changes={"quotation": fresh.pk, "number": fresh.number, "total_amount": str(pi.total_amount)},
    )
    return pi


@transaction.atomic
def proforma_update(*, actor, proforma: ProformaInvoice, version: int, data: dict, lines: list | None = None):
    """Change a draft proforma invoice (as quotation_update)."""
    return _update(PROFORMA, actor=actor, doc=proforma, version=version, data=data, lines=lines)


def _due_dates(
    pi: ProformaInvoice, deposit: Decimal, balance: Decimal
) -> tuple[dt.date | None, dt.date | None]:
    """Deposit: a week after the invoice date. Balance: for terms paid before production like a
    deposit; otherwise at the expected shipment (date + lead time) plus the payment days (usance
    L/C, D/A, O/A)."""
    deposit_due = pi.deposit_due_date
    if deposit_due is None and deposit > 0:
        deposit_due = pi.document_date + dt.timedelta(days=DEPOSIT_DUE_DAYS)
    balance_due = pi.balance_due_date
    if balance_due is None and balance > 0:
        if pi.payment_terms in PAID_BEFORE_PRODUCTION and not deposit:
            balance_due = pi.document_date + dt.timedelta(days=DEPOSIT_DUE_DAYS)
        else:
            shipment = pi.document_date + dt.timedelta(days=pi.lead_time_days or 0)
            balance_due = shipment + dt.timedelta(days=pi.payment_days or 0)
            # never before the deposit: with no lead time the shipment date is the PI's own date,
            # and a payment applied "oldest due first" would settle the balance before the deposit
            if deposit_due is not None:
                balance_due = max(balance_due, deposit_due)
    return deposit_due, balance_due


@transaction.atomic
def proforma_issue(*, actor, proforma: ProformaInvoice, version: int) -> ProformaInvoice:
    """Issue the proforma invoice: a bank account in its currency is required (the buyer must know
    where to pay); takes the number (PI-2026-0003), freezes the rate, splits deposit and balance
    with their due dates, and stores the snapshot with the bank details."""
    fresh = _locked_row(PROFORMA, proforma, version)
    if fresh.status not in EDITABLE_STATUSES:
        raise _status_error(fresh, _("%(number)s is issued already."))
    errors = Errors()
    if not fresh.lines.exists():
        errors.add("lines", _("Add at least one line before issuing the proforma invoice."))
    from tradecrm.automation.approvals import proforma_credit_cleared

    if not proforma_credit_cleared(fresh, actor):
        errors.add("payment_terms", _("Credit terms (O/A, D/A) need a manager's approval before the proforma invoice "
                                      "is issued: ask for it on this page."))  # fmt: skip
    bank = fresh.bank_account
    if bank is None:
        bank = default_bank_account(fresh.seller_id, fresh.currency)
    if bank is None:
        seller = fresh.seller
        if seller is None:
            errors.add(
                "bank_account",
                _("Choose a seller profile with a bank account in %(currency)s before issuing: the buyer needs to "
                  "know where to pay.") % {"currency": fresh.currency},
            )  # fmt: skip
        else:
            errors.add(
                "bank_account",
                _("“%(seller)s” has no active bank account in %(currency)s: add one to the seller profile before "
                  "issuing, so the buyer knows where to pay.") % {"seller": seller.name_en, "currency": fresh.currency},
            )  # fmt: skip
    elif bank.currency != fresh.currency or not bank.active:
        errors.add(
            "bank_account",
            _("The bank account “%(account)s” receives %(account_currency)s; this proforma invoice is in "
              "%(currency)s. Choose an account in %(currency)s.")
            % {"account": str(bank), "account_currency": bank.currency, "currency": fresh.currency},
        )  # fmt: skip
    errors.raise_if_any()
    rate = _freeze_rate(fresh)
    percent = fresh.deposit_percent or Decimal("0")
    deposit = quantize_money(fresh.total_amount * percent / Decimal("100"), fresh.currency)
    balance = fresh.total_amount - deposit
    deposit_due, balance_due = _due_dates(fresh, deposit, balance)
    fields = {
        "bank_account": bank,
        "seller": fresh.seller or bank.seller,
        "fx_rate": rate.rate,
        "fx_date": rate.date,
        "fx_source": rate.source[:120],
        "base_currency": fx.base_currency(),
        "deposit_amount": deposit,
        "balance_amount": balance,
        "deposit_due_date": deposit_due,
        "balance_due_date": balance_due,
        "issued_at": timezone.now(),
        "issued_by": _by(actor),
        "status": S.ISSUED,
    }
    number = _number_and_snapshot(
        PROFORMA, fresh, fields, lambda: build_snapshot(fresh, "proforma", bank=bank)
    )
    _set(PROFORMA, proforma, fresh, actor, fields)
    _supersede_previous(PROFORMA, actor, fresh)
    audit_record(
        actor=actor,
        action="proforma.issue",
        obj=proforma,
        changes={
            "number": number, "fx_rate": str(rate.rate), "fx_date": rate.date.isoformat(), "fx_source": rate.source,
            "total_amount": str(fresh.total_amount), "deposit_amount": str(deposit), "currency": fresh.currency,
            "bank_account": bank.pk,
        },
    )  # fmt: skip
    opportunity_advance(actor=actor, opportunity_id=fresh.opportunity_id, keys=("contract",))
    queue_pdf_warmup("proforma", proforma.pk)
    return proforma


@transaction.atomic
def proforma_revise(*, actor, proforma: ProformaInvoice) -> ProformaInvoice:
    """A new draft revision of an issued proforma invoice (PI-2026-0003-R2)."""
    fresh = _locked_row(PROFORMA, proforma, None)
    return _revise(
        PROFORMA,
        actor=actor,
        doc=fresh,
        extra={"quotation_id": fresh.quotation_id, "bank_account_id": fresh.bank_account_id},
    )


@transaction.atomic
def proforma_cancel(*, actor, proforma: ProformaInvoice, version: int | None = None) -> ProformaInvoice:
    """Cancel a draft, or an issued proforma invoice no order was made from (its number stays
    used: the series keeps no gap)."""
    fresh = _locked_row(PROFORMA, proforma, version)
    if fresh.status == S.ISSUED:
        orders = getattr(fresh, "orders", None)
        if orders is not None and orders.exclude(status="cancelled").exists():
            raise _status_error(fresh, _("%(number)s has an order; cancel the order first."))
        _set(PROFORMA, proforma, fresh, actor, {"status": S.CANCELLED})
        audit_record(actor=actor, action="proforma.cancel", obj=proforma, changes={"number": fresh.number})
        return proforma
    return _cancel_draft(PROFORMA, actor=actor, doc=proforma, version=version)


@transaction.atomic
def proforma_delete(*, actor, proforma: ProformaInvoice) -> None:
    """Delete a proforma invoice that was never issued."""
    _delete_draft(PROFORMA, actor=actor, doc=proforma)
