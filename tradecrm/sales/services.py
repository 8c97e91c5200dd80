"""Writes of the sales app: inquiries (询盘), opportunities (商机) and their pipelines, samples (寄样).

One function per change a user can name; the views, the API and the CLI call these. Each runs in
one transaction with its audit event; editable records are updated with
`UPDATE … WHERE id = ? AND version = ?` and refuse a stale version with ConcurrentEditError.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.models import AuditEvent
from tradecrm.audit.services import audit_record
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.search import search_document
from tradecrm.customers.masking import unmask_single
from tradecrm.customers.models import Company, Contact, Source
from tradecrm.customers.validation import assignable_owner_error

from .models import (
    Courier,
    Inquiry,
    InquiryChannel,
    InquiryItem,
    InquiryStatus,
    LossReason,
    Opportunity,
    OpportunityStageChange,
    OpportunityStatus,
    Pipeline,
    Sample,
    SampleItem,
    SampleStatus,
    Stage,
    StageKind,
)
from .validation import (
    can_see_company,
    clean_feedback,
    clean_inquiry,
    clean_loss,
    clean_opportunity,
    clean_pipeline,
    clean_received,
    clean_sample,
    clean_sent,
    clean_stage,
)

POSITION_STEP = 1024.0
MIN_GAP = 1e-6  # below this the column is renumbered
AMOUNT_PLACES = Decimal("0.01")


# --- shared helpers -----------------------------------------------------------------------------


def _jsonable(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _changes(before: dict, after: dict) -> dict:
    return {k: [_jsonable(before.get(k)), _jsonable(v)] for k, v in after.items() if before.get(k) != v}


def _actor(actor):
    return actor if getattr(actor, "pk", None) else None


def _last_editor(obj) -> str:
    by = getattr(obj, "updated_by", None)
    if by is not None:
        return str(by)
    event = (
        AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=obj.pk)
        .select_related("actor")
        .order_by("-id")
        .first()
    )
    return str(event.actor) if event and event.actor else "?"


def _conflict(model, pk: int) -> ConcurrentEditError:
    current = model.objects.filter(pk=pk).first()
    if current is None:
        return ConcurrentEditError(by="?", at=timezone.now(), current_version=0)
    return ConcurrentEditError(
        by=_last_editor(current), at=current.updated_at, current_version=current.version
    )


def _versioned_update(obj, version: int, fields: dict[str, Any], actor=None) -> dt.datetime:
    """UPDATE … WHERE id = ? AND version = ?; ConcurrentEditError when someone saved first."""
    model = type(obj)
    now = timezone.now()
    extra = {"updated_at": now}
    if actor is not None and hasattr(obj, "updated_by_id"):
        extra["updated_by"] = _actor(actor)
    updated = model.objects.filter(pk=obj.pk, version=version).update(
        **fields, **extra, version=F("version") + 1
    )
    if not updated:
        raise _conflict(model, obj.pk)
    for name, value in {**fields, **extra}.items():
        setattr(obj, name, value)
    obj.version = version + 1
    return now


def _check_version(obj, version: int | None) -> None:
    if version is not None and obj.version != version:
        raise _conflict(type(obj), obj.pk)


def _may_delete(actor, owner_id: int | None) -> bool:
    return bool(actor.is_admin or actor.is_manager or (owner_id is not None and owner_id == actor.pk))


# --- inquiries ----------------------------------------------------------------------------------


def inquiry_search_text(inquiry: Inquiry) -> str:
    return search_document(inquiry.subject, inquiry.buyer_company, inquiry.buyer_name, inquiry.buyer_email,
                           inquiry.channel_detail, inquiry.destination_port)  # fmt: skip


def _save_items(model, parent_field: str, parent, items: list[dict], *, with_price: bool = True) -> None:
    model.objects.filter(**{parent_field: parent}).delete()
    rows = []
    for item in items:
        row = {
            parent_field: parent,
            "position": item["position"],
            "product": item.get("product"),
            "description": item.get("description", "")[:500],
            "quantity": item.get("quantity"),
            "unit": item.get("unit") or "",
        }
        if with_price:
            row["target_price"] = item.get("target_price")
        rows.append(model(**row))
    model.objects.bulk_create(rows)


def _items_audit(items: list[dict]) -> list[dict]:
    return [
        {
            k: _jsonable(v)
            for k, v in item.items()
            if k in ("product", "description", "quantity", "unit", "target_price")
        }
        for item in items
    ]


@transaction.atomic
def inquiry_create(*, actor, data: dict, external_id: str = "") -> Inquiry:
    """Record an inquiry (from any channel), with its item lines."""
    clean = clean_inquiry(data, actor=actor)
    items = clean.pop("items", [])
    owner = clean.get("owner")
    inquiry = Inquiry(
        **clean,
        team_id=owner.team_id if owner else None,
        external_id=(external_id or "")[:128],
        created_by=_actor(actor),
        updated_by=_actor(actor),
    )
    if inquiry.status == InquiryStatus.REPLIED and inquiry.replied_at is None:
        inquiry.replied_at = timezone.now()
    if (
        external_id
        and Inquiry.objects.filter(channel=inquiry.channel, external_id=inquiry.external_id).exists()
    ):
        raise ValidationError({"external_id": [_("This inquiry was imported already.")]})
    inquiry.search_text = inquiry_search_text(inquiry)
    inquiry.save()
    _save_items(InquiryItem, "inquiry", inquiry, items)
    audit_record(
        actor=actor,
        action="inquiry.create",
        obj=inquiry,
        changes={"channel": inquiry.channel, "company": inquiry.company_id, "items": _items_audit(items)},
    )
    if not data.get("owner"):  # nobody named: the assignment rules for inquiries decide
        from tradecrm.automation.assignment import assign_new_inquiry

        assign_new_inquiry(inquiry=inquiry, actor=actor)
    from tradecrm.automation import events

    events.emit(events.INQUIRY_CREATED, obj_type=events.OBJ_INQUIRY, obj_id=inquiry.pk, actor=actor)
    return inquiry


@transaction.atomic
def inquiry_update(*, actor, inquiry: Inquiry, version: int, data: dict) -> Inquiry:
    # a masked buyer email/phone sent back unchanged (an edit form, an API client) keeps the stored one
    data = unmask_single(data, inquiry, ("buyer_email", "buyer_phone"))
    clean = clean_inquiry(data, actor=actor, partial=True, current=inquiry)
    items = clean.pop("items", None)
    before = {k: getattr(inquiry, k) for k in clean}
    fields = {k: v for k, v in clean.items() if before.get(k) != v}
    if "owner" in fields:
        fields["team_id"] = fields["owner"].team_id if fields["owner"] else None
    if fields.get("status") == InquiryStatus.REPLIED and inquiry.replied_at is None:
        fields["replied_at"] = timezone.now()
    probe = Inquiry(**{f.attname: getattr(inquiry, f.attname) for f in Inquiry._meta.concrete_fields})
    for k, v in fields.items():
        setattr(probe, k, v)
    fields["search_text"] = inquiry_search_text(probe)
    _versioned_update(inquiry, version, fields, actor)
    if items is not None:
        _save_items(InquiryItem, "inquiry", inquiry, items)
    changes = _changes(before, clean)
    if items is not None:
        changes["items"] = _items_audit(items)
    audit_record(actor=actor, action="inquiry.update", obj=inquiry, changes=changes)
    return inquiry


@transaction.atomic
def inquiry_set_status(*, actor, inquiry: Inquiry, version: int, status: str) -> Inquiry:
    """New → replied (dates the first reply) → qualified; spam, closed. "Converted" only by
    `inquiry_convert`."""
    return inquiry_update(actor=actor, inquiry=inquiry, version=version, data={"status": status})


@transaction.atomic
def inquiry_reply(*, actor, inquiry: Inquiry, version: int, log: dict | None = None) -> Inquiry:
    """The buyer was answered: status "replied" (first reply dated). With `log` (type, subject,
    body…) and a linked customer, the answer is also written to the customer's timeline."""
    if inquiry.status == InquiryStatus.CONVERTED:
        _check_version(inquiry, version)
        fields: dict[str, Any] = {}
        if inquiry.replied_at is None:
            fields["replied_at"] = timezone.now()
        if fields:
            _versioned_update(inquiry, version, fields, actor)
    else:
        inquiry_update(actor=actor, inquiry=inquiry, version=version, data={"status": InquiryStatus.REPLIED})
    if log is not None:
        if inquiry.company_id is None:
            raise ValidationError(
                {"log": [_("Link the inquiry to a customer to log the reply on its timeline.")]}
            )
        from tradecrm.interactions.services import interaction_create

        data = {k: v for k, v in log.items() if v not in (None, "")}
        data.setdefault("type", "email")
        data.setdefault("direction", "out")
        data.setdefault("occurred_at", timezone.now())
        data.setdefault("subject", _("Re: %(subject)s") % {"subject": inquiry.subject or str(inquiry)})
        if inquiry.contact_id:
            data.setdefault("contact", inquiry.contact_id)
        try:
            interaction_create(actor=actor, company=inquiry.company, data=data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise ValidationError({f"log.{k}": v for k, v in exc.message_dict.items()}) from None
            raise
    return inquiry


@transaction.atomic
def inquiry_delete(*, actor, inquiry: Inquiry) -> None:
    if not _may_delete(actor, inquiry.owner_id):
        raise PermissionDenied(_("Only the inquiry's owner, a manager or an administrator may delete it."))
    audit_record(actor=actor, action="inquiry.delete", obj=inquiry,
                 changes={"subject": inquiry.subject, "opportunity": inquiry.opportunity_id})  # fmt: skip
    inquiry.delete()


CHANNEL_SOURCES = {
    InquiryChannel.ALIBABA: Source.B2B, InquiryChannel.MADE_IN_CHINA: Source.B2B,
    InquiryChannel.GLOBAL_SOURCES: Source.B2B, InquiryChannel.OTHER_B2B: Source.B2B,
    InquiryChannel.WEBSITE: Source.WEBSITE, InquiryChannel.TRADE_SHOW: Source.TRADE_SHOW,
    InquiryChannel.SOCIAL: Source.SOCIAL, InquiryChannel.REFERRAL: Source.REFERRAL,
}  # fmt: skip


def buyer_company_data(inquiry: Inquiry) -> dict:
    """A new customer's fields from the inquiry's buyer details (what the convert page prefills)."""
    name = inquiry.buyer_company or inquiry.buyer_name or inquiry.buyer_email
    source = CHANNEL_SOURCES.get(inquiry.channel, Source.OTHER)
    detail = " · ".join(str(p) for p in (InquiryChannel(inquiry.channel).label, inquiry.channel_detail) if p)
    data = {
        "name": name,
        "country": inquiry.buyer_country,
        "source": source,
        "source_detail": str(detail)[:255],
    }
    if inquiry.buyer_email:
        data["email"] = inquiry.buyer_email
    if inquiry.target_currency:
        data["currency"] = inquiry.target_currency
    return data


def buyer_contact_data(inquiry: Inquiry) -> dict:
    """A contact's fields from the buyer's name, email and phone (empty dict: nothing to add)."""
    name = (inquiry.buyer_name or "").strip()
    if not name and inquiry.buyer_email:
        name = inquiry.buyer_email.split("@", 1)[0]
    if not name and not inquiry.buyer_phone:
        return {}
    first, _sep, last = name.partition(" ")
    data: dict[str, Any] = {"first_name": first, "last_name": last}
    if inquiry.buyer_email:
        data["emails"] = [inquiry.buyer_email]
    if inquiry.buyer_phone:
        data["phones"] = [inquiry.buyer_phone]
    return data


def inquiry_amount(inquiry: Inquiry) -> Decimal:
    """Σ quantity × target price over the lines that have both."""
    total = Decimal("0")
    for quantity, price in inquiry.items.values_list("quantity", "target_price"):
        if quantity is not None and price is not None:
            total += quantity * price
    return total.quantize(AMOUNT_PLACES)


def inquiry_opportunity_name(inquiry: Inquiry) -> str:
    if inquiry.subject:
        return inquiry.subject[:255]
    names = [d for d in inquiry.items.values_list("description", flat=True) if d]
    if names:
        return ", ".join(names)[:255]
    return (
        _("Inquiry from %(buyer)s") % {"buyer": inquiry.buyer_company or inquiry.buyer_name or inquiry.pk}
    )[:255]


def _prefixed(exc: ValidationError, prefix: str) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError(
            {f"{prefix}.{k}" if k != "__all__" else prefix: v for k, v in exc.message_dict.items()}
        )
    return ValidationError({prefix: exc.messages})


def _matching_contact(company: Company, email: str) -> Contact | None:
    if not email:
        return None
    for contact in Contact.objects.filter(company=company).only("id", "email", "emails"):
        if contact.email == email or email in (contact.emails or []):
            return contact
    return None


@transaction.atomic
def inquiry_convert(
    *,
    actor,
    inquiry: Inquiry,
    company: Company | None = None,
    new_company_data: dict | None = None,
    pipeline: Pipeline | None = None,
    opportunity_data: dict | None = None,
    contact_data: dict | None = None,
    add_contact: bool = True,
    version: int | None = None,
) -> Opportunity:
    """Turn an inquiry into an opportunity in one step: link it to `company` (a customer the actor
    sees) or create one from `new_company_data` over the buyer's details (and the buyer as its
    contact), open an opportunity in the pipeline's first open stage (name from the subject or the
    products, value Σ quantity × target price), and mark the inquiry converted. A second convert is
    refused. Errors of the new customer / contact come back as `new_company.<field>` /
    `contact.<field>`."""
    locked = (
        Inquiry.objects.select_for_update(of=("self",))
        .select_related("company", "contact")
        .get(pk=inquiry.pk)
    )
    _check_version(locked, version)
    if locked.opportunity_id or locked.status == InquiryStatus.CONVERTED:
        raise ValidationError({"status": [_("This inquiry has been converted already.")]})
    owner = locked.owner or actor
    if company is None and new_company_data is None and locked.company_id:
        company = locked.company
    if company is not None:
        if not can_see_company(actor, company):
            raise ValidationError({"company": [_("No customer with id %(id)s.") % {"id": company.pk}]})
        created_company = False
    else:
        data = {**buyer_company_data(locked), **(new_company_data or {})}
        if "owner" not in data and owner.pk != actor.pk and assignable_owner_error(actor, owner) is None:
            data["owner"] = owner.pk
        from tradecrm.customers.services import company_create

        try:
            company = company_create(actor=actor, data=data)
        except ValidationError as exc:
            raise _prefixed(exc, "new_company") from None
        created_company = True

    contact = locked.contact if locked.contact_id and locked.company_id == company.pk else None
    if contact is None and add_contact:
        contact = _matching_contact(company, locked.buyer_email) if not created_company else None
        if contact is None:
            cdata = contact_data if contact_data is not None else buyer_contact_data(locked)
            if cdata:
                from tradecrm.customers.services import contact_create

                try:
                    contact = contact_create(actor=actor, company=company, data=cdata)
                except ValidationError as exc:
                    raise _prefixed(exc, "contact") from None

    opp_data: dict[str, Any] = {
        "name": inquiry_opportunity_name(locked),
        "amount": inquiry_amount(locked),
        "currency": locked.target_currency or company.currency or _base_currency(),
        "company": company,
        "contact": contact,
    }
    if pipeline is not None:
        opp_data["pipeline"] = pipeline
    if can_see_company(owner, company):
        opp_data["owner"] = owner
    opp_data.update({k: v for k, v in (opportunity_data or {}).items() if k != "company"})
    try:
        opportunity = opportunity_create(actor=actor, data=opp_data)
    except ValidationError as exc:
        raise _prefixed(exc, "opportunity") from None

    fields: dict[str, Any] = {
        "status": InquiryStatus.CONVERTED,
        "opportunity": opportunity,
        "company": company,
    }
    if contact is not None and locked.contact_id is None:
        fields["contact"] = contact
    _versioned_update(locked, locked.version, fields, actor)
    inquiry.refresh_from_db()
    audit_record(
        actor=actor,
        action="inquiry.convert",
        obj=locked,
        changes={"company": company.pk, "new_company": created_company, "opportunity": opportunity.pk,
                 "contact": contact.pk if contact else None},
    )  # fmt: skip
    return opportunity


def _base_currency() -> str:
    from django.conf import settings

    return str(getattr(settings, "TRADECRM_BASE_CURRENCY", "USD")).upper()


# --- opportunities ------------------------------------------------------------------------------


def opportunity_search_text(name: str, company_name: str) -> str:
    return search_document(name, company_name)


def column_top_position(pipeline_id: int, stage_id: int, exclude_id: int | None = None) -> float:
    """A position above every card of the column (new and moved cards go on top)."""
    qs = Opportunity.objects.filter(pipeline_id=pipeline_id, stage_id=stage_id)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    low = qs.aggregate(m=Min("position"))["m"]
    return 0.0 if low is None else float(low) - POSITION_STEP


def position_between(before: float | None, after: float | None) -> float | None:
    """The position of a card dropped between `before` (the card above) and `after` (below). None
    when the gap is too small: the column must be renumbered first."""
    if before is None and after is None:
        return 0.0
    if before is None:
        return after - POSITION_STEP
    if after is None:
        return before + POSITION_STEP
    if after - before < MIN_GAP:
        return None
    return (before + after) / 2


def renumber_column(pipeline_id: int, stage_id: int) -> None:
    """Spread the positions of a column evenly, keeping its order (rare: only after many drops
    between the same two cards). Positions order cards; they are not an edit, so no version moves."""
    ids = list(
        Opportunity.objects.filter(pipeline_id=pipeline_id, stage_id=stage_id)
        .order_by("position", "id")
        .values_list("id", flat=True)
    )
    rows = [Opportunity(pk=pk, position=i * POSITION_STEP) for i, pk in enumerate(ids)]
    Opportunity.objects.bulk_update(rows, ["position"], batch_size=500)


def position_for_drop(
    opportunity: Opportunity, stage: Stage, before_id: int | None, after_id: int | None
) -> float:
    """Where a card dropped into `stage` between two others goes (the ids of the cards above and
    below it, as the board showed them). Neighbours that are not in that column are ignored; with
    none the card goes on top."""
    ids = [i for i in (before_id, after_id) if i and i != opportunity.pk]

    def neighbours() -> tuple[float | None, float | None]:
        found = dict(Opportunity.objects.filter(pk__in=ids, stage_id=stage.pk).values_list("id", "position"))
        before, after = found.get(before_id), found.get(after_id)
        if before is not None and after is not None and before > after:
            before, after = after, before
        return before, after

    before, after = neighbours() if ids else (None, None)
    if before is None and after is None:
        return column_top_position(stage.pipeline_id, stage.pk, exclude_id=opportunity.pk)
    position = position_between(before, after)
    if position is None:
        renumber_column(stage.pipeline_id, stage.pk)
        position = position_between(*neighbours())
    return float(position if position is not None else 0.0)


@transaction.atomic
def opportunity_create(*, actor, data: dict) -> Opportunity:
    """Open an opportunity; it starts on top of its stage's column."""
    clean = clean_opportunity(data, actor=actor)
    now = timezone.now()
    stage: Stage = clean["stage"]
    company: Company = clean["company"]
    opportunity = Opportunity(
        **clean,
        status=OpportunityStatus.OPEN,
        stage_entered_at=now,
        position=column_top_position(stage.pipeline_id, stage.pk),
        created_by=_actor(actor),
        updated_by=_actor(actor),
    )
    opportunity.amount = (opportunity.amount or Decimal("0")).quantize(AMOUNT_PLACES)
    opportunity.search_text = opportunity_search_text(opportunity.name, company.name)
    opportunity.save()
    OpportunityStageChange.objects.create(
        opportunity=opportunity, from_stage=None, to_stage=stage, changed_at=now, changed_by=_actor(actor)
    )
    audit_record(
        actor=actor,
        action="opportunity.create",
        obj=opportunity,
        changes={"company": company.pk, "pipeline": opportunity.pipeline_id, "stage": stage.pk,
                 "amount": str(opportunity.amount), "currency": opportunity.currency},
    )  # fmt: skip
    return opportunity


@transaction.atomic
def opportunity_update(*, actor, opportunity: Opportunity, version: int, data: dict) -> Opportunity:
    """Change name, customer, contact, value, currency, probability, close date, owner or description."""
    clean = clean_opportunity(data, actor=actor, partial=True, current=opportunity)
    if "amount" in clean and clean["amount"] is not None:
        clean["amount"] = clean["amount"].quantize(AMOUNT_PLACES)
    before = {k: getattr(opportunity, k) for k in clean}
    fields = {k: v for k, v in clean.items() if before.get(k) != v}
    if {"name", "company"} & fields.keys():
        company = fields.get("company", opportunity.company)
        fields["search_text"] = opportunity_search_text(fields.get("name", opportunity.name), company.name)
    _versioned_update(opportunity, version, fields, actor)
    audit_record(actor=actor, action="opportunity.update", obj=opportunity, changes=_changes(before, clean))
    return opportunity


@transaction.atomic
def opportunity_move_stage(
    *,
    actor,
    opportunity: Opportunity,
    stage: Stage,
    position: float | None = None,
    loss_reason: LossReason | int | None = None,
    loss_note: str = "",
    version: int | None = None,
) -> Opportunity:
    """Move to another stage of the same pipeline (or reorder within the stage). A lost stage needs a
    loss reason; won/lost set the status and `closed_at`, an open stage clears them (re-opened).
    A stage change is recorded with the seconds spent in the previous stage. `position` orders the
    card in its column (default: on top). `version` (the board's) refuses a stale move."""
    if version is not None and opportunity.version != version:
        raise _conflict(Opportunity, opportunity.pk)
    if stage.pipeline_id != opportunity.pipeline_id:
        raise ValidationError({"stage": [_("This stage belongs to another pipeline.")]})
    reason, note = clean_loss(stage=stage, loss_reason=loss_reason, loss_note=loss_note)
    now = timezone.now()
    if position is None:
        position = column_top_position(stage.pipeline_id, stage.pk, exclude_id=opportunity.pk)
    fields: dict[str, Any] = {"position": float(position)}
    changed = stage.pk != opportunity.stage_id
    previous_stage_id = opportunity.stage_id
    seconds = None
    if changed:
        seconds = max(0, int((now - opportunity.stage_entered_at).total_seconds()))
        status = OpportunityStatus.OPEN if stage.kind == StageKind.OPEN else stage.kind
        fields.update(stage=stage, stage_entered_at=now, stale_notified_at=None, status=status)
        if status == OpportunityStatus.OPEN:
            fields.update(closed_at=None, loss_reason=None, loss_note="")
        elif status == OpportunityStatus.WON:
            fields.update(closed_at=now, loss_reason=None, loss_note="")
        else:
            fields.update(closed_at=now, loss_reason=reason, loss_note=note)
    elif stage.kind == StageKind.LOST and (
        reason != opportunity.loss_reason or note != opportunity.loss_note
    ):
        fields.update(loss_reason=reason, loss_note=note)
    _versioned_update(opportunity, opportunity.version, fields, actor)
    if changed:
        OpportunityStageChange.objects.create(
            opportunity=opportunity, from_stage_id=previous_stage_id, to_stage=stage, changed_at=now,
            changed_by=_actor(actor), seconds_in_from=seconds,
        )  # fmt: skip
        audit_record(
            actor=actor,
            action="opportunity.move",
            obj=opportunity,
            changes={"stage": [previous_stage_id, stage.pk], "status": opportunity.status,
                     "loss_reason": opportunity.loss_reason_id, "seconds_in_previous": seconds},
        )  # fmt: skip
        from tradecrm.automation import events

        events.emit(events.STAGE_CHANGED, obj_type=events.OBJ_OPPORTUNITY, obj_id=opportunity.pk, actor=actor,
                    changes={"stage": [previous_stage_id, stage.pk]})
    else:
        audit_record(
            actor=actor, action="opportunity.reorder", obj=opportunity, changes={"position": position}
        )
    return opportunity


def opportunity_advance(*, actor, opportunity_id: int | None, keys: tuple[str, ...]) -> bool:
    """What the deal flow does to a linked opportunity: a quotation issued moves it to "quoted",
    a PI to "contract", an order to "won". Moves forward only, to the first stage of its pipeline
    whose seeded key is in `keys`; a closed deal, a renamed-away stage or a refusal leaves it as it
    is and never fails the document's own change. Returns whether it moved."""
    if not opportunity_id:
        return False
    opp = Opportunity.objects.select_related("stage").filter(pk=opportunity_id).first()
    if opp is None or opp.status != OpportunityStatus.OPEN:
        return False
    target = Stage.objects.filter(pipeline_id=opp.pipeline_id, key__in=keys).order_by("position").first()
    if target is None or target.position <= opp.stage.position:
        return False
    try:
        with transaction.atomic():
            opportunity_move_stage(actor=actor, opportunity=opp, stage=target)
    except (ValidationError, ConcurrentEditError, PermissionDenied):
        return False
    return True


@transaction.atomic
def opportunity_delete(*, actor, opportunity: Opportunity) -> None:
    if not _may_delete(actor, opportunity.owner_id):
        raise PermissionDenied(
            _("Only the opportunity's owner, a manager or an administrator may delete it.")
        )
    audit_record(actor=actor, action="opportunity.delete", obj=opportunity,
                 changes={"name": opportunity.name, "company": opportunity.company_id})  # fmt: skip
    Inquiry.objects.filter(opportunity=opportunity).update(status=InquiryStatus.QUALIFIED)
    opportunity.delete()


# --- pipelines and stages (administrators) ------------------------------------------------------


def _check_admin(actor) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only an administrator may change pipelines, stages and loss reasons."))


def _make_default(pipeline: Pipeline) -> None:
    Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)


@transaction.atomic
def pipeline_create(*, actor, data: dict, copy_stages_from: Pipeline | None = None) -> Pipeline:
    """A new pipeline: with a copy of another pipeline's stages, or with New / Won / Lost."""
    _check_admin(actor)
    clean = clean_pipeline(data)
    if clean.get("is_default"):
        Pipeline.objects.filter(is_default=True).update(is_default=False)
    position = (Pipeline.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    pipeline = Pipeline.objects.create(position=position, **clean)
    if copy_stages_from is not None:
        stages = [
            Stage(pipeline=pipeline, name=s.name, key=s.key, position=s.position, probability=s.probability,
                  kind=s.kind, stale_days=s.stale_days)
            for s in copy_stages_from.stages.order_by("position", "id")
        ]  # fmt: skip
    else:
        stages = [
            Stage(
                pipeline=pipeline,
                name=_("New"),
                position=0,
                probability=10,
                kind=StageKind.OPEN,
                stale_days=14,
            ),
            Stage(pipeline=pipeline, name="Won", key="won", position=1, probability=100, kind=StageKind.WON),
            Stage(pipeline=pipeline, name="Lost", key="lost", position=2, probability=0, kind=StageKind.LOST),
        ]
    Stage.objects.bulk_create(stages)
    audit_record(actor=actor, action="pipeline.create", obj=pipeline,
                 changes={"name": pipeline.name, "stages": [s.name for s in stages]})  # fmt: skip
    return pipeline


@transaction.atomic
def pipeline_update(*, actor, pipeline: Pipeline, version: int, data: dict) -> Pipeline:
    """Rename, make the default, switch on or off."""
    _check_admin(actor)
    clean = clean_pipeline(data, partial=True, current=pipeline)
    before = {k: getattr(pipeline, k) for k in clean}
    if clean.get("is_default") and not pipeline.is_default:
        _make_default(pipeline)
    if clean.get("is_default") is False and pipeline.is_default:
        raise ValidationError({"is_default": [_("Make another pipeline the default instead.")]})
    _versioned_update(pipeline, version, clean)
    audit_record(actor=actor, action="pipeline.update", obj=pipeline, changes=_changes(before, clean))
    return pipeline


@transaction.atomic
def stage_create(*, actor, pipeline: Pipeline, data: dict) -> Stage:
    """A new stage, placed before the pipeline's won and lost stages unless `position` is given."""
    _check_admin(actor)
    clean = clean_stage(data, pipeline=pipeline)
    stages = list(pipeline.stages.order_by("position", "id"))
    closed = [s for s in stages if s.kind != StageKind.OPEN]
    index = len(stages) - len(closed) if clean.get("kind", StageKind.OPEN) == StageKind.OPEN else len(stages)
    stage = Stage(pipeline=pipeline, **clean)
    stages.insert(index, stage)
    stage.position = index
    stage.save()
    _renumber_stages(stages)
    audit_record(
        actor=actor, action="stage.create", obj=stage, changes={k: _jsonable(v) for k, v in clean.items()}
    )
    return stage


@transaction.atomic
def stage_update(*, actor, stage: Stage, data: dict) -> Stage:
    """Rename, change the win probability, the kind (while empty) or the stale days."""
    _check_admin(actor)
    clean = clean_stage(data, pipeline=stage.pipeline, partial=True, current=stage)
    if clean.get("kind", stage.kind) != StageKind.OPEN and stage.kind == StageKind.OPEN:
        others = stage.pipeline.stages.filter(kind=StageKind.OPEN).exclude(pk=stage.pk)
        if not others.exists():
            raise ValidationError({"kind": [_("A pipeline needs at least one open stage.")]})
    before = {k: getattr(stage, k) for k in clean}
    for k, v in clean.items():
        setattr(stage, k, v)
    stage.save(update_fields=list(clean) or None)
    audit_record(actor=actor, action="stage.update", obj=stage, changes=_changes(before, clean))
    return stage


def _renumber_stages(stages: list[Stage]) -> None:
    for i, s in enumerate(stages):
        if s.position != i:
            s.position = i
            Stage.objects.filter(pk=s.pk).update(position=i)


@transaction.atomic
def stage_reorder(*, actor, pipeline: Pipeline, stage_ids: list[int]) -> list[Stage]:
    """Put the pipeline's stages in this order (every stage of the pipeline, each once)."""
    _check_admin(actor)
    stages = {s.pk: s for s in pipeline.stages.all()}
    if sorted(stage_ids) != sorted(stages):
        raise ValidationError({"stages": [_("List every stage of this pipeline exactly once.")]})
    ordered = [stages[i] for i in stage_ids]
    _renumber_stages(ordered)
    audit_record(actor=actor, action="pipeline.reorder", obj=pipeline, changes={"stages": stage_ids})
    return ordered


@transaction.atomic
def stage_move(*, actor, stage: Stage, offset: int) -> list[Stage]:
    """One step up (-1) or down (+1) in its pipeline."""
    ids = list(stage.pipeline.stages.order_by("position", "id").values_list("id", flat=True))
    i = ids.index(stage.pk)
    j = min(max(i + offset, 0), len(ids) - 1)
    ids.insert(j, ids.pop(i))
    return stage_reorder(actor=actor, pipeline=stage.pipeline, stage_ids=ids)


@transaction.atomic
def stage_delete(*, actor, stage: Stage) -> None:
    """Refused while the stage holds opportunities (move them first) or when it is the last open one."""
    _check_admin(actor)
    held = Opportunity.objects.filter(stage=stage).count()
    if held:
        raise ValidationError({"stage": [
            _("This stage holds %(count)d opportunities; move them to another stage first.") % {"count": held}
        ]})  # fmt: skip
    if (
        stage.kind == StageKind.OPEN
        and not stage.pipeline.stages.filter(kind=StageKind.OPEN).exclude(pk=stage.pk).exists()
    ):
        raise ValidationError({"stage": [_("A pipeline needs at least one open stage.")]})
    pipeline = stage.pipeline
    audit_record(
        actor=actor, action="stage.delete", obj=stage, changes={"name": stage.name, "pipeline": pipeline.pk}
    )
    stage.delete()
    _renumber_stages(list(pipeline.stages.order_by("position", "id")))


@transaction.atomic
def loss_reason_create(*, actor, name: str) -> LossReason:
    _check_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the loss reason a name.")]})
    if len(name) > 120:
        raise ValidationError(
            {
                "name": [
                    _("At most %(limit)d characters (this has %(length)d).")
                    % {"limit": 120, "length": len(name)}
                ]
            }
        )
    if LossReason.objects.filter(name__iexact=name).exists():
        raise ValidationError(
            {"name": [_("A loss reason named “%(name)s” exists already.") % {"name": name}]}
        )
    position = (LossReason.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    reason = LossReason.objects.create(name=name, position=position)
    audit_record(actor=actor, action="loss_reason.create", obj=reason, changes={"name": name})
    return reason


@transaction.atomic
def loss_reason_set_active(*, actor, reason: LossReason, active: bool) -> LossReason:
    _check_admin(actor)
    LossReason.objects.filter(pk=reason.pk).update(active=active)
    reason.active = active
    audit_record(actor=actor, action="loss_reason.update", obj=reason, changes={"active": active})
    return reason


# --- samples ------------------------------------------------------------------------------------


@transaction.atomic
def sample_create(*, actor, company: Company, data: dict) -> Sample:
    """A sample request for `company`, with its items."""
    clean = clean_sample(data, actor=actor, company=company)
    items = clean.pop("items")
    sample = Sample(company=company, **clean, created_by=_actor(actor), updated_by=_actor(actor))
    sample.save()
    _save_items(SampleItem, "sample", sample, items, with_price=False)
    audit_record(actor=actor, action="sample.create", obj=sample,
                 changes={"company": company.pk, "items": _items_audit(items)})  # fmt: skip
    return sample


def _check_sample_open(sample: Sample, allowed: tuple[str, ...], message: str) -> None:
    if sample.status not in allowed:
        raise ValidationError({"status": [message]})


@transaction.atomic
def sample_update(*, actor, sample: Sample, version: int, data: dict) -> Sample:
    clean = clean_sample(data, actor=actor, company=sample.company, partial=True)
    items = clean.pop("items", None)
    if items is not None and sample.status not in (SampleStatus.REQUESTED, SampleStatus.PREPARING):
        raise ValidationError({"items": [_("The sample has been sent; its items cannot change any more.")]})
    before = {k: getattr(sample, k) for k in clean}
    fields = {k: v for k, v in clean.items() if before.get(k) != v}
    _versioned_update(sample, version, fields, actor)
    if items is not None:
        _save_items(SampleItem, "sample", sample, items, with_price=False)
    changes = _changes(before, clean)
    if items is not None:
        changes["items"] = _items_audit(items)
    audit_record(actor=actor, action="sample.update", obj=sample, changes=changes)
    return sample


def _sent_occurred_at(sent_on: dt.date, actor) -> dt.datetime:
    from tradecrm.interactions.validation import user_zone

    zone = user_zone(actor)
    now = timezone.now()
    if sent_on >= now.astimezone(zone).date():
        return now
    return dt.datetime.combine(sent_on, dt.time(12, 0), tzinfo=zone).astimezone(dt.UTC)


def _quantity_text(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"


def sample_items_text(sample: Sample) -> str:
    from tradecrm.catalog.models import Unit

    units = dict(Unit.choices)
    lines = []
    for item in sample.items.all():
        unit = units.get(item.unit, item.unit)
        lines.append(f"{_quantity_text(item.quantity)} {unit} · {item.description}")
    return "\n".join(lines)


@transaction.atomic
def sample_mark_sent(*, actor, sample: Sample, version: int, data: dict) -> Sample:
    """The parcel left: courier, tracking number, date, cost and who pays. Logs a "sample sent" entry
    on the customer's timeline (subject with courier and tracking number, the items in the body)."""
    _check_version(sample, version)
    _check_sample_open(sample, (SampleStatus.REQUESTED, SampleStatus.PREPARING),
                       _("Only a requested or prepared sample can be marked sent."))  # fmt: skip
    clean = clean_sent(data)
    courier = dict(Courier.choices).get(clean["courier"], clean["courier"])
    tracking = clean.get("tracking_number") or ""
    if tracking:
        subject = _("Sample sent by %(courier)s, tracking %(tracking)s") % {
            "courier": courier,
            "tracking": tracking,
        }
    else:
        subject = _("Sample sent by %(courier)s") % {"courier": courier}
    body = sample_items_text(sample)
    if sample.opportunity_id:
        body += "\n" + _("Opportunity: %(name)s") % {"name": sample.opportunity.name}
    from tradecrm.interactions.services import interaction_create

    interaction = interaction_create(
        actor=actor,
        company=sample.company,
        data={
            "type": "sample",
            "direction": "out",
            "occurred_at": _sent_occurred_at(clean["sent_on"], actor),
            "subject": str(subject)[:255],
            "body": body,
            "contact": sample.contact_id,
        },
    )
    before = {k: getattr(sample, k) for k in clean}
    _versioned_update(
        sample, version, {**clean, "status": SampleStatus.SENT, "interaction": interaction}, actor
    )
    audit_record(actor=actor, action="sample.sent", obj=sample,
                 changes={**_changes(before, clean), "interaction": interaction.pk})  # fmt: skip
    return sample


@transaction.atomic
def sample_mark_received(*, actor, sample: Sample, version: int, data: dict) -> Sample:
    _check_version(sample, version)
    _check_sample_open(sample, (SampleStatus.SENT,), _("Only a sent sample can be marked received."))
    clean = clean_received(data, sent_on=sample.sent_on)
    _versioned_update(sample, version, {**clean, "status": SampleStatus.RECEIVED}, actor)
    audit_record(
        actor=actor,
        action="sample.received",
        obj=sample,
        changes={"received_on": _jsonable(clean["received_on"])},
    )
    return sample


@transaction.atomic
def sample_feedback(*, actor, sample: Sample, version: int, data: dict) -> Sample:
    """What the customer thought of it, with a rating from 1 to 5."""
    _check_version(sample, version)
    _check_sample_open(sample, (SampleStatus.SENT, SampleStatus.RECEIVED, SampleStatus.FEEDBACK),
                       _("Feedback can be recorded once the sample has been sent."))  # fmt: skip
    clean = clean_feedback(data)
    fields = {**clean, "status": SampleStatus.FEEDBACK}
    if sample.received_on is None:
        fields["received_on"] = timezone.localdate()
    _versioned_update(sample, version, fields, actor)
    audit_record(actor=actor, action="sample.feedback", obj=sample,
                 changes={"rating": clean.get("feedback_rating")})  # fmt: skip
    return sample


@transaction.atomic
def sample_cancel(*, actor, sample: Sample, version: int) -> Sample:
    _check_version(sample, version)
    _check_sample_open(sample, (SampleStatus.REQUESTED, SampleStatus.PREPARING),
                       _("Only a sample that has not been sent can be cancelled."))  # fmt: skip
    _versioned_update(sample, version, {"status": SampleStatus.CANCELLED}, actor)
    audit_record(actor=actor, action="sample.cancel", obj=sample)
    return sample


@transaction.atomic
def sample_set_preparing(*, actor, sample: Sample, version: int) -> Sample:
    _check_version(sample, version)
    _check_sample_open(
        sample, (SampleStatus.REQUESTED,), _("Only a requested sample can go into preparation.")
    )
    _versioned_update(sample, version, {"status": SampleStatus.PREPARING}, actor)
    audit_record(actor=actor, action="sample.preparing", obj=sample)
    return sample


@transaction.atomic
def sample_delete(*, actor, sample: Sample) -> None:
    if not _may_delete(actor, sample.owner_id):
        raise PermissionDenied(_("Only the sample's owner, a manager or an administrator may delete it."))
    audit_record(actor=actor, action="sample.delete", obj=sample, changes={"company": sample.company_id})
    sample.delete()
