"""Approvals: request, approve, reject — for quotations (discount above the limit, O/A or D/A
credit terms), pool claims above the daily quota, and rules that ask for one.

The decision, who took it and the reason stay on the Approval and in the audit trail of the record
it is about; the requester is told. Deciding applies the decision to the record where there is
something to apply (a quotation goes to approved / back to draft; an approved pool claim is carried
out), then emits `approval.decided` for rules.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.errors import ValidationError

from . import events
from .models import Approval, ApprovalKind, ApprovalStatus

NOTICE_REQUESTED = "approval_requested"
NOTICE_DECIDED = "approval_decided"
CREDIT_TERMS = ("oa", "da")


def discount_limit() -> Decimal:
    return Decimal(str(getattr(settings, "TRADECRM_APPROVAL_DISCOUNT_PERCENT", 10)))


def can_decide(user, approval: Approval) -> bool:
    from tradecrm.accounts.access import visible_team_ids

    if not user.is_active or approval.requested_by_id == user.id:
        return False  # nobody decides their own request
    if user.is_admin or approval.approver_id == user.id:
        return True
    return (
        user.is_manager
        and approval.approver_id is None
        and approval.team_id in (visible_team_ids(user) or [])
    )


def approvals_for_user(user, *, status: str | None = ApprovalStatus.PENDING):
    """The inbox: what the user may decide, and what they asked for themselves."""
    from tradecrm.accounts.access import visible_team_ids

    qs = Approval.objects.select_related("requested_by", "decided_by", "company")
    if status:
        qs = qs.filter(status=status)
    if user.is_admin:
        return qs
    q = Q(requested_by=user) | Q(approver=user)
    if user.is_manager:
        q |= Q(approver__isnull=True, team_id__in=visible_team_ids(user) or [])
    return qs.filter(q)


def approval_get_for_user(user, approval_id: int) -> Approval:
    a = approvals_for_user(user, status=None).filter(pk=approval_id).first()
    if a is None:
        raise Http404
    return a


def _kind_label(kind: str) -> str:
    return str(dict(ApprovalKind.choices).get(kind, kind))


@transaction.atomic
def approval_request(*, actor, kind: str, obj_type: str, obj_id: int, title: str, company=None,
                     params: dict | None = None, approver_id: int | None = None, run=None) -> Approval:  # fmt: skip
    """Ask for a decision. One pending request per (kind, record): asking again returns it."""
    if kind not in ApprovalKind.values:
        raise ValidationError({"kind": [_("Unknown approval kind “%(kind)s”.") % {"kind": kind}]})
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": [_("Say what is to be approved.")]})
    existing = Approval.objects.filter(
        kind=kind, obj_type=obj_type, obj_id=obj_id, status=ApprovalStatus.PENDING
    ).first()
    if existing:
        return existing
    team_id = getattr(company, "team_id", None) or getattr(actor, "team_id", None)
    try:
        with transaction.atomic():
            a = Approval.objects.create(
                kind=kind, obj_type=obj_type, obj_id=obj_id, company=company, title=title[:255], params=params or {},
                requested_by=actor if getattr(actor, "pk", None) else None, team_id=team_id,
                approver_id=approver_id, run=run, created_at=timezone.now())  # fmt: skip
    except IntegrityError:
        return Approval.objects.get(
            kind=kind, obj_type=obj_type, obj_id=obj_id, status=ApprovalStatus.PENDING
        )
    audit_record(actor=actor, action="approval.request", object_type=_label(obj_type), object_id=obj_id,
                 changes={"approval": a.pk, "kind": kind, "title": a.title, **(params or {})})  # fmt: skip
    _tell_approvers(a)
    return a


def _label(obj_type: str) -> str:
    return {"company": "customers.company", "quotation": "documents.quotation", "inquiry": "sales.inquiry",
            "pool_claim": "customers.company", "proforma": "documents.proformainvoice"}.get(obj_type, obj_type)  # fmt: skip


def _tell_approvers(a: Approval) -> None:
    from tradecrm.accounts.models import Role, Team, User
    from tradecrm.followups.notifications import notify

    if a.approver_id:
        people = list(User.objects.filter(pk=a.approver_id, is_active=True))
    else:
        team = Team.objects.filter(pk=a.team_id).first() if a.team_id else None
        ancestors = [int(x) for x in (team.path.strip("/").split("/") if team else []) if x]
        people = list(User.objects.filter(role=Role.MANAGER, is_active=True, team_id__in=ancestors))
        if not people:
            people = list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id")[:1])
    aid, title, kind = a.pk, a.title, a.kind

    def send():
        from django.urls import reverse

        for u in people:
            if u.pk != a.requested_by_id:
                notify(u, NOTICE_REQUESTED, {"title": title, "kind": kind}, url=reverse("automation:approvals"),
                       key=f"approval:{aid}")  # fmt: skip

    transaction.on_commit(send)


@transaction.atomic
def approval_decide(
    *, actor, approval: Approval, approve: bool, reason: str = "", apply: bool = True
) -> Approval:
    """Approve or reject (a rejection needs the reason). `apply=False`: the record's own service
    already applied the decision (e.g. quotation_approve) and only the request is closed."""
    reason = (reason or "").strip()
    fresh = Approval.objects.select_for_update().get(pk=approval.pk)
    if fresh.status != ApprovalStatus.PENDING:
        raise ValidationError({"status": [_("This request was decided already (%(status)s).")
                                          % {"status": fresh.get_status_display()}]})  # fmt: skip
    if not can_decide(actor, fresh):
        raise PermissionDenied(_("You may not decide this request."))
    if not approve and not reason:
        raise ValidationError({"reason": [_("Say why you reject it (the requester reads it).")]})
    if len(reason) > 2000:
        raise ValidationError({"reason": [_("At most %(limit)d characters.") % {"limit": 2000}]})
    fresh.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    fresh.decided_by, fresh.decided_at, fresh.reason = actor, timezone.now(), reason
    fresh.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    audit_record(actor=actor, action=f"approval.{fresh.status}", object_type=_label(fresh.obj_type),
                 object_id=fresh.obj_id, changes={"approval": fresh.pk, "kind": fresh.kind, "reason": reason})  # fmt: skip
    if apply:
        _apply(fresh, actor, approve, reason)
    _tell_requester(fresh)
    events.emit(events.APPROVAL_DECIDED, obj_type=events.OBJ_APPROVAL, obj_id=fresh.pk, actor=actor,
                changes={"status": [ApprovalStatus.PENDING, fresh.status]})  # fmt: skip
    approval.__dict__.update(fresh.__dict__)
    return fresh


def _apply(a: Approval, actor, approve: bool, reason: str) -> None:
    if a.obj_type == "quotation" and a.kind in (ApprovalKind.QUOTATION_DISCOUNT, ApprovalKind.QUOTATION_MARGIN,
                                                ApprovalKind.CREDIT_TERMS):  # fmt: skip
        from tradecrm.documents import services as docs
        from tradecrm.documents.models import DocumentStatus, Quotation

        q = Quotation.objects.filter(pk=a.obj_id).first()
        others = Approval.objects.filter(obj_type="quotation", obj_id=a.obj_id, status=ApprovalStatus.PENDING)
        if q is None or q.status != DocumentStatus.PENDING_APPROVAL:
            return
        if not approve:
            others.update(status=ApprovalStatus.CANCELLED, decided_at=timezone.now())
            docs.quotation_approval_reject(actor=actor, quotation=q, note=reason)
        elif not others.exists():
            docs.quotation_approve(actor=actor, quotation=q, note=reason)
    elif a.kind == ApprovalKind.POOL_CLAIM and approve:
        from tradecrm.pool.models import PoolEntry
        from tradecrm.pool.services import _take

        entry = (
            PoolEntry.objects.select_for_update().select_related("pool").filter(company_id=a.obj_id).first()
        )
        if entry is None:
            raise ValidationError({"status": [_("The customer is no longer in the pool.")]})
        _take(entry=entry, user=a.requested_by, kind="claim", actor=actor, now=timezone.now())


def _tell_requester(a: Approval) -> None:
    from tradecrm.followups.notifications import notify

    if not a.requested_by_id or a.requested_by_id == a.decided_by_id:
        return
    user, params = a.requested_by, {"title": a.title, "status": a.status, "reason": a.reason}
    transaction.on_commit(lambda: notify(user, NOTICE_DECIDED, params, key=f"approval_decided:{a.pk}"))


# --- hooks other apps call ----------------------------------------------------------------------------


def quotation_reasons(quotation) -> list[tuple[str, str, dict]]:
    """Why the quotation needs a manager: [(kind, title, params)] (empty: it does not)."""
    out = []
    top = max((line.discount_percent or Decimal(0) for line in quotation.lines.all()), default=Decimal(0))
    limit = discount_limit()
    if top > limit:
        out.append((ApprovalKind.QUOTATION_DISCOUNT,
                    _("Discount of %(d)s%% on quotation %(q)s (limit %(limit)s%%)") % {"d": top.normalize(), "q": _qlabel(quotation), "limit": limit.normalize()},
                    {"discount": str(top), "limit": str(limit)}))  # fmt: skip
    low = margin_below_floor(quotation)
    if low is not None:
        out.append((ApprovalKind.QUOTATION_MARGIN,
                    _("Margin below the %(floor)s%% floor on quotation %(q)s") % {"floor": low[1].normalize(), "q": _qlabel(quotation)},
                    {"margin_percent": str(low[0]), "floor": str(low[1])}))  # fmt: skip
    if (quotation.payment_terms or "") in CREDIT_TERMS:
        out.append((ApprovalKind.CREDIT_TERMS,
                    _("Credit terms %(terms)s on quotation %(q)s") % {"terms": quotation.get_payment_terms_display(), "q": _qlabel(quotation)},
                    {"payment_terms": quotation.payment_terms}))  # fmt: skip
    return out


def margin_floor() -> Decimal | None:
    """The lowest margin (percent of revenue, after the export tax rebate) a quotation may have
    without a manager's approval (TRADECRM_APPROVAL_MARGIN_FLOOR_PERCENT); unset or empty: no floor."""
    value = getattr(settings, "TRADECRM_APPROVAL_MARGIN_FLOOR_PERCENT", None)
    return None if value in (None, "") else Decimal(str(value))


def margin_below_floor(quotation) -> tuple[Decimal, Decimal] | None:
    """(margin percent, floor) when the quotation's lines that have a catalog cost earn less than
    the floor; None when they do not, when no line has a cost, or when no rate to CNY is known for
    the document's date (the margin cannot be computed then; the issue check names the rate)."""
    floor = margin_floor()
    if floor is None:
        return None
    costed = [line for line in quotation.lines.all() if line.unit_cost_cny is not None]
    if not costed:
        return None
    from tradecrm.core import fx
    from tradecrm.documents.lines import margin

    try:
        rate = fx.rate_on(quotation.currency, "CNY", quotation.document_date).rate
    except fx.MissingRate:
        return None
    m = margin(costed, rate_to_cny=rate)
    if m.margin_percent is None or m.margin_percent >= floor:
        return None
    return m.margin_percent, floor


def _qlabel(q) -> str:
    return q.number or f"#{q.pk}"


def quotation_needs_approval(quotation) -> bool:
    """True while a reason exists and no approval of it was granted since."""
    reasons = quotation_reasons(quotation)
    if not reasons:
        return False
    granted = set(Approval.objects.filter(obj_type="quotation", obj_id=quotation.pk, status=ApprovalStatus.APPROVED)
                  .values_list("kind", flat=True))  # fmt: skip
    return any(kind not in granted for kind, _t, _p in reasons)


def quotation_submitted(*, actor, quotation) -> list[Approval]:
    """quotation_submit asks for each reason (or a plain approval when none applies)."""
    reasons = quotation_reasons(quotation) or [
        (ApprovalKind.QUOTATION_DISCOUNT, _("Approve quotation %(q)s") % {"q": _qlabel(quotation)}, {})
    ]
    return [approval_request(actor=actor, kind=k, obj_type="quotation", obj_id=quotation.pk, title=t,
                             company=quotation.company, params=p) for k, t, p in reasons]  # fmt: skip


def quotation_decided(*, actor, quotation, approved: bool, note: str = "") -> None:
    """quotation_approve / quotation_approval_reject close the pending requests of the quotation."""
    for a in Approval.objects.filter(
        obj_type="quotation", obj_id=quotation.pk, status=ApprovalStatus.PENDING
    ):
        if can_decide(actor, a):
            approval_decide(actor=actor, approval=a, approve=approved, reason=note or ("" if approved else "-"),
                            apply=False)  # fmt: skip


def proforma_credit_cleared(proforma, actor=None) -> bool:
    """Whether a proforma invoice may be issued on its payment terms: credit terms (O/A, D/A) need
    a manager's approval of these terms, given on the PI or on the quotation it comes from; managers
    and admins, who decide such requests, issue without one."""
    terms = proforma.payment_terms or ""
    if terms not in CREDIT_TERMS:
        return True
    if actor is not None and (getattr(actor, "is_admin", False) or getattr(actor, "is_manager", False)):
        return True
    where = Q(obj_type="proforma", obj_id=proforma.pk)
    if proforma.quotation_id:
        where |= Q(obj_type="quotation", obj_id=proforma.quotation_id)
    return Approval.objects.filter(where, kind=ApprovalKind.CREDIT_TERMS, status=ApprovalStatus.APPROVED,
                                   params__payment_terms=terms).exists()  # fmt: skip


def proforma_credit_request(*, actor, proforma) -> Approval:
    """Ask a manager to approve the credit terms of a draft proforma invoice."""
    from tradecrm.documents.models import DocumentStatus

    terms = proforma.payment_terms or ""
    if terms not in CREDIT_TERMS:
        raise ValidationError({"payment_terms": [_("Only credit terms (O/A, D/A) need a manager's approval.")]})
    if proforma.status != DocumentStatus.DRAFT:
        raise ValidationError({"status": [_("Only a draft proforma invoice can be sent for approval.")]})
    label = proforma.number or f"#{proforma.pk}"
    return approval_request(
        actor=actor, kind=ApprovalKind.CREDIT_TERMS, obj_type="proforma", obj_id=proforma.pk,
        title=_("Credit terms %(terms)s on proforma invoice %(pi)s") % {"terms": proforma.get_payment_terms_display(),
                                                                        "pi": label},
        company=proforma.company, params={"payment_terms": terms},
    )  # fmt: skip


def render_requested(p: dict) -> str:
    return _("Approval requested: %(title)s") % {"title": p.get("title", "")}


def render_decided(p: dict) -> str:
    if p.get("status") == ApprovalStatus.APPROVED:
        return _("Approved: %(title)s") % {"title": p.get("title", "")}
    return _("Rejected: %(title)s — %(reason)s") % {
        "title": p.get("title", ""),
        "reason": p.get("reason", ""),
    }


def pool_claim_request(*, actor, company_id: int, reason: str = "") -> Approval:
    """A rep at the daily claim limit asks a manager to approve one more claim; approved, the
    claim is carried out for the rep (the quota is the manager's to waive)."""
    from tradecrm.pool.selectors import entry_get_for_user

    entry = entry_get_for_user(actor, company_id)  # 404 when not in a pool the rep sees
    company = entry.company
    title = _("Claim %(company)s from the pool “%(pool)s” above the daily quota") % {
        "company": company.name, "pool": entry.pool.name}  # fmt: skip
    a = approval_request(actor=actor, kind=ApprovalKind.POOL_CLAIM, obj_type="pool_claim", obj_id=company_id,
                         title=title, company=None, params={"reason": (reason or "")[:500], "pool": entry.pool_id})  # fmt: skip
    if a.team_id is None and actor.team_id:
        Approval.objects.filter(pk=a.pk).update(team_id=actor.team_id)
        a.team_id = actor.team_id
    return a
