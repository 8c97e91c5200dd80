"""Writes of the service app: one function per action, each in one transaction with its audit event.

Decisions (documented for users in docs/user-guide/*/service.md):
- Due times: first response and resolution, in hours after the ticket was opened, from the SLA of
  its severity. A change of severity recomputes both from the opening time (a ticket raised to
  critical becomes due sooner). The first response is the first comment or status change by
  anyone after the ticket was opened.
- The workflow is `models.TRANSITIONS`. Proposing a solution needs the solution in words;
  resolving a complaint or claim needs its root cause (the causes report counts on it).
- The overdue scan records each missed due time once (`TicketBreach`, unique per ticket, kind and
  due time) and only then tells the owner and their manager(s) and emits "ticket.sla_breached":
  running it again, or twice at the same moment, alerts nobody twice.
- Surveys: one per delivered order, sent N days after delivery (per tier); the delivery date is
  the first time the order reached "delivered" (or "completed" when delivered was skipped).
  Orders delivered more than GRACE_DAYS before their due day are not surveyed when surveys are
  switched on later (no flood of old orders). The answer may be changed for ANSWER_CHANGE_DAYS
  after the first answer; unanswered links expire LINK_DAYS after sending.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tradecrm.accounts.models import Role, Team, User
from tradecrm.audit.services import audit_record
from tradecrm.core import money
from tradecrm.core.errors import ConcurrentEditError, Errors, ValidationError
from tradecrm.core.ids import parse_id

from . import selectors, texts
from .models import (
    DONE,
    SCALE_RANGE,
    TRANSITIONS,
    BreachKind,
    Category,
    EventKind,
    Kind,
    RootCause,
    Scale,
    Severity,
    SlaPolicy,
    Status,
    Survey,
    SurveyConfig,
    Ticket,
    TicketBreach,
    TicketEvent,
)

log = logging.getLogger(__name__)

GRACE_DAYS = 14
LINK_DAYS = 30
ANSWER_CHANGE_DAYS = 7
MAX_HOURS = 24 * 365


def _emit(event: str, *, obj_type: str, obj_id: int, actor, changes: dict) -> None:
    """Tell the automation app (when it is installed) that something happened."""
    try:
        from tradecrm.automation.events import emit
    except ImportError:  # automation is optional: without it nothing listens
        return
    emit(event, obj_type=obj_type, obj_id=obj_id, actor=actor, changes=changes)


def _check_admin(actor) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only administrators may change these settings."))


def _event(ticket: Ticket, kind: str, actor, now: dt.datetime, **fields) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, kind=kind, actor=actor if getattr(actor, "pk", None) else None,
                                      at=now, **fields)  # fmt: skip


def _jsonable(value):
    if isinstance(value, Decimal | dt.datetime | dt.date):
        return str(value)
    return value


# --- validation -----------------------------------------------------------------------------------


def _choice(data: dict, key: str, choices, errors: Errors, clean: dict, label: str) -> None:
    if key not in data:
        return
    value = str(data.get(key) or "").strip()
    if value not in choices.values:
        errors.add(
            key, _("Choose a %(what)s: %(values)s.") % {"what": label, "values": ", ".join(choices.values)}
        )
    else:
        clean[key] = value


def _decimal(raw, key: str, errors: Errors, *, low: Decimal, high: Decimal) -> Decimal | None:
    if raw is None or str(raw).strip() == "":
        return None
    if isinstance(raw, float | bool):
        raw = str(raw)
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        errors.add(key, _("“%(value)s” is not a number.") % {"value": str(raw)[:30]})
        return None
    if not value.is_finite() or value < low or value > high:
        errors.add(key, _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high})
        return None
    return value


def _clean_ticket(data: dict, *, actor, company, ticket: Ticket | None = None) -> dict:
    """Validated ticket fields ({field: value}); every bad field is named in one ValidationError."""
    from tradecrm.catalog.selectors import product_get_for_user
    from tradecrm.orders.models import OrderLine
    from tradecrm.orders.selectors import order_get_for_user

    errors = Errors()
    clean: dict = {}
    if "title" in data:
        title = " ".join(str(data.get("title") or "").split())
        if not title:
            errors.add("title", _("Say in a few words what the problem is."))
        elif len(title) > 200:
            errors.add("title", _("At most %(n)s characters.") % {"n": 200})
        clean["title"] = title
    if "description" in data:
        clean["description"] = str(data.get("description") or "")[:20000]
    _choice(data, "category", Category, errors, clean, _("type"))
    _choice(data, "kind", Kind, errors, clean, _("problem"))
    _choice(data, "severity", Severity, errors, clean, _("severity"))
    if "root_cause" in data:
        if data.get("root_cause") in (None, ""):
            clean["root_cause"] = ""
        else:
            _choice(data, "root_cause", RootCause, errors, clean, _("root cause"))
    for key, size in (
        ("root_cause_note", 5000),
        ("solution", 5000),
        ("replacement_note", 255),
        ("supplier", 255),
    ):
        if key in data:
            value = str(data.get(key) or "").strip()
            if len(value) > size:
                errors.add(key, _("At most %(n)s characters.") % {"n": size})
            clean[key] = value[:size]
    if "replacement" in data:
        clean["replacement"] = bool(data.get("replacement"))
    if "owner" in data:
        raw = data.get("owner")
        if raw in (None, ""):
            clean["owner"] = None
        else:
            uid = parse_id(raw)
            user = User.objects.filter(pk=uid, is_active=True).first() if uid else None
            if user is None:
                errors.add("owner", _("There is no active user with id %(id)s.") % {"id": str(raw)[:20]})
            else:
                clean["owner"] = user
    if "compensation_amount" in data:
        clean["compensation_amount"] = _decimal(data.get("compensation_amount"), "compensation_amount", errors,
                                                low=Decimal(0), high=Decimal("9999999999999999"))  # fmt: skip
    if "compensation_currency" in data:
        ccy = str(data.get("compensation_currency") or "").strip().upper()
        if ccy and not money.is_currency(ccy):
            errors.add(
                "compensation_currency",
                _("“%(value)s” is not an ISO 4217 currency code.") % {"value": ccy[:10]},
            )
        clean["compensation_currency"] = ccy
    amount = clean.get("compensation_amount", ticket.compensation_amount if ticket else None)
    ccy = clean.get("compensation_currency", ticket.compensation_currency if ticket else "")
    if amount is not None and not ccy and "compensation_currency" not in errors.by_field:
        errors.add("compensation_currency", _("Say in which currency the compensation is paid."))
    if amount is not None and ccy and money.is_currency(ccy):
        clean["compensation_amount"] = money.quantize_money(amount, ccy)
    if "discount_percent" in data:
        clean["discount_percent"] = _decimal(data.get("discount_percent"), "discount_percent", errors,
                                             low=Decimal(0), high=Decimal(100))  # fmt: skip
        if clean["discount_percent"] is not None:
            clean["discount_percent"] = clean["discount_percent"].quantize(Decimal("0.01"))
    # order, order line, product: they must belong to this customer and to each other
    order = ticket.order if ticket else None
    if "order" in data:
        raw = data.get("order")
        order = None
        if raw not in (None, ""):
            try:
                order = order_get_for_user(actor, raw)
            except Http404:  # missing or not visible: the same message
                errors.add("order", _("There is no order with id %(id)s.") % {"id": str(raw)[:20]})
            else:
                if order.company_id != company.pk:
                    errors.add("order", _("Order %(number)s is not an order of this customer.")
                               % {"number": order.number or order.pk})  # fmt: skip
                    order = None
        clean["order"] = order
    if "order" in data and "order_line" not in data and ticket and ticket.order_line_id:
        if ticket.order_line.order_id != getattr(order, "pk", None):
            clean["order_line"] = None  # the line belonged to the order that was replaced
    if "order_line" in data:
        raw = data.get("order_line")
        line = None
        if raw not in (None, ""):
            lid = parse_id(raw)
            line = OrderLine.objects.select_related("product").filter(pk=lid, order=order).first() if (
                lid and order) else None  # fmt: skip
            if line is None:
                errors.add(
                    "order_line", _("Line %(id)s is not a line of the chosen order.") % {"id": str(raw)[:20]}
                )
        clean["order_line"] = line
        if line is not None and line.product_id and "product" not in data:
            clean["product"] = line.product
    if "product" in data:
        raw = data.get("product")
        clean["product"] = None
        if raw not in (None, ""):
            try:
                clean["product"] = product_get_for_user(actor, raw)
            except Http404:
                errors.add("product", _("There is no product with id %(id)s.") % {"id": str(raw)[:20]})
    product = clean.get("product")
    if product is not None and not clean.get("supplier") and not (ticket and ticket.supplier):
        clean["supplier"] = product.supplier or ""
    errors.raise_if_any()
    return clean


def _due_times(opened_at: dt.datetime, severity: str) -> tuple[dt.datetime, dt.datetime]:
    response, resolution = selectors.sla_hours(severity)
    return opened_at + dt.timedelta(hours=response), opened_at + dt.timedelta(hours=resolution)


# --- tickets --------------------------------------------------------------------------------------------


@transaction.atomic
def ticket_create(*, actor, company, data: dict, now: dt.datetime | None = None) -> Ticket:
    """Open a ticket for a customer the actor sees (load it with company_get_for_user)."""
    now = now or timezone.now()
    data = {"title": "", "kind": "", **data}
    clean = _clean_ticket(data, actor=actor, company=company)
    clean.setdefault("severity", Severity.MEDIUM)
    if "owner" not in clean or clean["owner"] is None:
        clean["owner"] = (
            company.owner if company.owner_id else (actor if getattr(actor, "pk", None) else None)
        )
    response_due, resolution_due = _due_times(now, clean["severity"])
    ticket = Ticket.objects.create(company=company, opened_at=now, first_response_due=response_due,
                                   resolution_due=resolution_due, created_by=actor if getattr(actor, "pk", None)
                                   else None, **clean)  # fmt: skip
    ticket.number = f"TK-{timezone.localdate(now):%Y}-{ticket.pk:05d}"
    Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
    _event(ticket, EventKind.CREATED, actor, now, to_status=Status.OPEN, text=ticket.title)
    audit_record(actor=actor, action="ticket.create", obj=ticket,
                 changes={"number": [None, ticket.number], "company": [None, company.pk],
                          "severity": [None, ticket.severity], "kind": [None, ticket.kind]})  # fmt: skip
    if ticket.owner_id and ticket.owner_id != getattr(actor, "pk", None):
        _notify_assigned(ticket, actor)
    return ticket


def _notify_assigned(ticket: Ticket, actor) -> None:
    from tradecrm.followups.notifications import notify

    by = (actor.get_full_name() or actor.username) if getattr(actor, "pk", None) else ""
    notify(ticket.owner, texts.ASSIGNED, {"number": ticket.number, "title": ticket.title,
                                          "company": ticket.company.name, "by": by},
           url=texts.ticket_url(ticket.pk), company=ticket.company)  # fmt: skip


def _locked(ticket: Ticket, version: int | None) -> Ticket:
    current = Ticket.objects.select_for_update().select_related("company").get(pk=ticket.pk)
    if version is not None and current.version != version:
        raise ConcurrentEditError(by="", at=current.updated_at, current_version=current.version)
    return current


def _mark_response(ticket: Ticket, now: dt.datetime) -> dict:
    return {"first_response_at": now} if ticket.first_response_at is None and now >= ticket.opened_at else {}


@transaction.atomic
def ticket_update(
    *, actor, ticket: Ticket, version: int, data: dict, now: dt.datetime | None = None
) -> Ticket:
    """Change the ticket's fields (not its status: see ticket_set_status). `version` as read."""
    now = now or timezone.now()
    current = _locked(ticket, version)
    for key in ("status", "number", "company", "opened_at"):
        data.pop(key, None)
    clean = _clean_ticket(data, actor=actor, company=current.company, ticket=current)
    changes = {}
    for key, value in clean.items():
        before = getattr(current, key)
        if before != value:
            changes[key] = [getattr(before, "pk", before), getattr(value, "pk", value)]
            setattr(current, key, value)
    if not changes:
        return current
    if "severity" in changes:
        current.first_response_due, current.resolution_due = _due_times(current.opened_at, current.severity)
    current.version += 1
    current.save()
    _event(current, EventKind.UPDATE, actor, now, changes={k: [_jsonable(a), _jsonable(b)] for k, (a, b)
                                                           in changes.items()})  # fmt: skip
    audit_record(actor=actor, action="ticket.update", obj=current,
                 changes={k: [_jsonable(a), _jsonable(b)] for k, (a, b) in changes.items()})  # fmt: skip
    if "owner" in changes and current.owner_id and current.owner_id != getattr(actor, "pk", None):
        _notify_assigned(current, actor)
    return current


def allowed_statuses(ticket: Ticket) -> tuple[str, ...]:
    return TRANSITIONS[ticket.status]


@transaction.atomic
def ticket_set_status(
    *,
    actor,
    ticket: Ticket,
    status: str,
    note: str = "",
    version: int | None = None,
    data: dict | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Move the ticket along the workflow. `data` may carry the fields the step needs (solution,
    root cause, compensation) and is saved with it, all or nothing."""
    now = now or timezone.now()
    current = _locked(ticket, version)
    errors = Errors()
    if status not in Status.values:
        errors.add("status", _("“%(value)s” is not a ticket status.") % {"value": str(status)[:20]})
        errors.raise_if_any()
    if status == current.status:
        errors.add("status", _("The ticket is already “%(status)s”.") % {"status": Status(status).label})
    elif status not in TRANSITIONS[current.status]:
        allowed = ", ".join(str(Status(s).label) for s in TRANSITIONS[current.status]) or "—"
        errors.add("status", _("A ticket that is “%(from)s” cannot become “%(to)s” (allowed: %(allowed)s).")
                   % {"from": Status(current.status).label, "to": Status(status).label, "allowed": allowed})  # fmt: skip
    errors.raise_if_any()
    clean = (
        _clean_ticket(dict(data or {}), actor=actor, company=current.company, ticket=current) if data else {}
    )
    changes: dict = {}
    for key, value in clean.items():
        before = getattr(current, key)
        if before != value:
            changes[key] = [_jsonable(getattr(before, "pk", before)), _jsonable(getattr(value, "pk", value))]
            setattr(current, key, value)
    if status == Status.PROPOSED and not current.solution.strip():
        errors.add("solution", _("Describe the solution you propose to the customer."))
    if status == Status.RESOLVED and current.category != Category.FEEDBACK and not current.root_cause:
        errors.add("root_cause", _("Choose the root cause before resolving a complaint or claim."))
    errors.raise_if_any()
    before = current.status
    current.status = status
    if status == Status.RESOLVED:
        current.resolved_at = now
    elif status == Status.CLOSED:
        current.closed_at = now
        current.resolved_at = current.resolved_at or now
    elif status == Status.INVESTIGATING and before in DONE:
        current.resolved_at = None  # reopened: the resolution clock counts again
    for key, value in _mark_response(current, now).items():
        setattr(current, key, value)
    current.version += 1
    current.save()
    _event(current, EventKind.STATUS, actor, now, from_status=before, to_status=status, text=(note or "")[:5000],
           changes=changes)  # fmt: skip
    audit_record(actor=actor, action="ticket.status", obj=current,
                 changes={"status": [before, status], **changes, **({"note": note[:500]} if note else {})})  # fmt: skip
    return current


@transaction.atomic
def ticket_comment(*, actor, ticket: Ticket, text: str, now: dt.datetime | None = None) -> TicketEvent:
    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("Write the comment first.")]})
    if len(text) > 20000:
        raise ValidationError({"text": [_("At most %(n)s characters.") % {"n": 20000}]})
    current = _locked(ticket, None)
    response = _mark_response(current, now)
    Ticket.objects.filter(pk=current.pk).update(version=F("version") + 1, updated_at=now, **response)
    event = _event(current, EventKind.COMMENT, actor, now, text=text)
    audit_record(actor=actor, action="ticket.comment", obj=current, changes={"comment": event.pk})
    return event


# --- SLA settings ---------------------------------------------------------------------------------------


@transaction.atomic
def sla_update(*, actor, data: dict) -> list[dict]:
    """Administrators: {severity: {"first_response_hours": h, "resolution_hours": h}} for the
    severities to change. Applies to tickets opened (or re-graded) from now on."""
    _check_admin(actor)
    errors = Errors()
    rows = {}
    for severity, hours in (data or {}).items():
        if severity not in Severity.values:
            errors.add(
                str(severity)[:20], _("“%(value)s” is not a severity.") % {"value": str(severity)[:20]}
            )
            continue
        clean = {}
        for key in ("first_response_hours", "resolution_hours"):
            raw = (hours or {}).get(key) if isinstance(hours, dict) else None
            value = parse_id(raw) if not isinstance(raw, float) else None
            if value is None or value > MAX_HOURS:
                errors.add(
                    f"{severity}.{key}",
                    _("Enter a whole number of hours from 1 to %(max)s.") % {"max": MAX_HOURS},
                )
            else:
                clean[key] = value
        if len(clean) == 2 and clean["resolution_hours"] < clean["first_response_hours"]:
            errors.add(
                f"{severity}.resolution_hours", _("The resolution cannot be due before the first response.")
            )
        rows[severity] = clean
    errors.raise_if_any()
    for severity, clean in rows.items():
        policy = SlaPolicy.objects.select_for_update().filter(severity=severity).first()
        before = selectors.sla_hours(severity)
        if policy is None:
            SlaPolicy.objects.create(severity=severity, **clean)
        else:
            SlaPolicy.objects.filter(pk=policy.pk).update(version=F("version") + 1, **clean)
        after = (clean["first_response_hours"], clean["resolution_hours"])
        if tuple(before) != after:
            audit_record(actor=actor, action="ticket.sla_update", object_type="service.slapolicy",
                         changes={"severity": severity, "hours": [list(before), list(after)]})  # fmt: skip
    return selectors.sla_policies()


# --- the overdue scan -----------------------------------------------------------------------------------


def managers_of(user: User) -> list[User]:
    """The active managers of the user's team and of the teams above it."""
    if not user or not user.team_id:
        return []
    team = Team.objects.only("path").filter(pk=user.team_id).first()
    ids = [int(p) for p in (team.path if team else "").strip("/").split("/") if p]
    return list(User.objects.filter(role=Role.MANAGER, is_active=True, team_id__in=ids).exclude(pk=user.pk))


def ticket_scan_overdue(now: dt.datetime | None = None) -> dict:
    """Record each newly missed due time once, and alert the owner and their manager(s).

    One query finds the tickets with a missed due time not recorded yet (a scan with nothing new
    is that query alone); each new breach is then written and alerted in its own transaction."""
    from django.db.models import Exists

    now = now or timezone.now()

    def recorded(kind: str, field: str) -> Exists:
        return Exists(
            TicketBreach.objects.filter(ticket_id=OuterRef("pk"), kind=kind, due_at=OuterRef(field))
        )

    response_new = Q(first_response_at__isnull=True, first_response_due__lt=now, response_seen=False)
    resolution_new = Q(resolution_due__lt=now, resolution_seen=False)
    candidates = list(
        Ticket.objects.exclude(status__in=DONE)
        .filter(Q(resolution_due__lt=now) | Q(first_response_at__isnull=True, first_response_due__lt=now))
        .annotate(response_seen=recorded(BreachKind.RESPONSE, "first_response_due"),
                  resolution_seen=recorded(BreachKind.RESOLUTION, "resolution_due"))
        .filter(response_new | resolution_new)
        .select_related("company__owner", "owner").order_by("id")
    )  # fmt: skip
    breaches = 0
    alerts = 0
    managers: dict[int, list[User]] = {}  # per owner, for this scan
    for ticket in candidates:
        due = []
        if ticket.first_response_at is None and ticket.first_response_due < now and not ticket.response_seen:
            due.append((BreachKind.RESPONSE, ticket.first_response_due))
        if ticket.resolution_due < now and not ticket.resolution_seen:
            due.append((BreachKind.RESOLUTION, ticket.resolution_due))
        for kind, due_at in due:
            try:
                with transaction.atomic():
                    TicketBreach.objects.create(ticket=ticket, kind=kind, due_at=due_at, detected_at=now)
                    alerts += _alert_breach(ticket, kind, due_at, now, managers)
            except IntegrityError:  # another scan recorded it a moment ago: it alerted
                continue
            breaches += 1
    return {"checked": len(candidates), "breaches": breaches, "alerts": alerts}


def _managers(user: User, cache: dict[int, list[User]]) -> list[User]:
    if user.pk not in cache:
        cache[user.pk] = managers_of(user)
    return cache[user.pk]


def _alert_breach(
    ticket: Ticket, kind: str, due_at: dt.datetime, now: dt.datetime, managers: dict[int, list[User]]
) -> int:
    from tradecrm.followups.notifications import notify

    _event(ticket, EventKind.BREACH, None, now, changes={"kind": kind, "due_at": due_at.isoformat()})
    audit_record(actor=None, action="ticket.sla_breached", obj=ticket,
                 changes={"kind": kind, "due_at": due_at.isoformat()})  # fmt: skip
    people = []
    if ticket.owner_id:
        people = [ticket.owner, *_managers(ticket.owner, managers)]
    elif ticket.company.owner_id:
        people = _managers(ticket.company.owner, managers)
    params = {"number": ticket.number, "title": ticket.title, "company": ticket.company.name, "kind": kind,
              "severity": ticket.severity, "due": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M"),
              "owner": (ticket.owner.get_full_name() or ticket.owner.username) if ticket.owner_id else ""}  # fmt: skip
    sent = 0
    for person in {p.pk: p for p in people}.values():
        key = f"ticket-breach:{ticket.pk}:{kind}:{int(due_at.timestamp())}"
        text_kind = texts.BREACH_OWNER if person.pk == ticket.owner_id else texts.BREACH_MANAGER
        if notify(
            person, text_kind, params, url=texts.ticket_url(ticket.pk), company=ticket.company, key=key
        ):
            sent += 1
    _emit("ticket.sla_breached", obj_type="ticket", obj_id=ticket.pk, actor=None,
          changes={"kind": kind, "due_at": due_at.isoformat(), "severity": ticket.severity})  # fmt: skip
    return sent


# --- surveys: settings ------------------------------------------------------------------------------------


@transaction.atomic
def survey_config_save(*, actor, tier: str, data: dict) -> SurveyConfig:
    """Administrators: create or change the survey setting of a tier ("" = the default)."""
    from tradecrm.pool.rules import tier_codes

    _check_admin(actor)
    errors = Errors()
    tier = str(tier or "").strip()
    if tier and tier not in tier_codes():
        errors.add("tier", _("There is no tier “%(tier)s”.") % {"tier": tier[:16]})
    clean: dict = {}
    if "enabled" in data:
        clean["enabled"] = bool(data["enabled"])
    if "days_after_delivery" in data:
        raw = data.get("days_after_delivery")
        days = int(raw) if isinstance(raw, int) and not isinstance(raw, bool) else (
            int(raw) if isinstance(raw, str) and raw.strip().isdigit() else None)  # fmt: skip
        if days is None or not 0 <= days <= 365:
            errors.add("days_after_delivery", _("Enter a whole number of days from 0 to 365."))
        else:
            clean["days_after_delivery"] = days
    if "scale" in data:
        if data.get("scale") not in Scale.values:
            errors.add("scale", _("Choose a scale: %(values)s.") % {"values": ", ".join(Scale.values)})
        else:
            clean["scale"] = data["scale"]
    errors.raise_if_any()
    config = SurveyConfig.objects.select_for_update().filter(tier=tier).first()
    if config is None:
        config = SurveyConfig.objects.create(tier=tier, **clean)
        audit_record(
            actor=actor, action="survey.config", obj=config, changes={k: [None, v] for k, v in clean.items()}
        )
        return config
    changes = {k: [getattr(config, k), v] for k, v in clean.items() if getattr(config, k) != v}
    if changes:
        for k, v in clean.items():
            setattr(config, k, v)
        config.version += 1
        config.save()
        audit_record(actor=actor, action="survey.config", obj=config, changes=changes)
    return config


# --- surveys: sending -------------------------------------------------------------------------------------


def _language(code: str) -> str:
    code = (code or "").lower()
    return "zh-hans" if code.startswith("zh") else "en"


def _recipient(order) -> tuple[object | None, str, str]:
    """(contact, email, language) for an order's survey: the primary contact, else the order's
    contact, else any contact with an email, else the company's email."""
    from tradecrm.customers.models import Contact

    contacts = Contact.objects.filter(company_id=order.company_id).exclude(email="")
    for contact in (contacts.filter(is_primary=True).order_by("id").first(),
                    contacts.filter(pk=order.contact_id).first() if order.contact_id else None,
                    contacts.order_by("id").first()):  # fmt: skip
        if contact is not None:
            return (
                contact,
                contact.email,
                _language(contact.preferred_language or order.company.preferred_language),
            )
    if order.company.email:
        return None, order.company.email, _language(order.company.preferred_language)
    return None, "", "en"


def due_orders(today: dt.date):
    """Orders delivered and without a survey, with their delivery date and customer tier, whose
    delivery is within the reach of some enabled setting."""
    from django.db.models import Case, When
    from django.db.models.functions import Coalesce, TruncDate

    from tradecrm.grading.models import CompanyGrade
    from tradecrm.orders.models import Order, OrderStatus, OrderStatusChange

    configs = list(SurveyConfig.objects.filter(enabled=True))
    if not configs:
        return [], {}
    reached = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)
    first = (OrderStatusChange.objects.filter(order_id=OuterRef("pk"), to_status__in=reached)
             .order_by("effective_on").values("effective_on")[:1])  # fmt: skip
    tier = CompanyGrade.objects.filter(company_id=OuterRef("company_id")).values("tier")[:1]
    low = min(c.days_after_delivery for c in configs)
    high = max(c.days_after_delivery for c in configs) + GRACE_DAYS
    qs = (Order.objects.filter(status__in=reached, survey__isnull=True)
          .annotate(delivered_on=Coalesce(Subquery(first), Case(When(status_changed_at__isnull=False,
                                                                     then=TruncDate("status_changed_at")))),
                    tier=Coalesce(Subquery(tier), models_value("")))
          .filter(delivered_on__lte=today - dt.timedelta(days=low),
                  delivered_on__gte=today - dt.timedelta(days=high))
          .select_related("company").order_by("id"))  # fmt: skip
    return list(qs), {c.tier: c for c in configs}


def models_value(value):
    from django.db.models import CharField, Value

    return Value(value, output_field=CharField())


def surveys_send_due(now: dt.datetime | None = None) -> dict:
    """The daily job: one survey per order delivered N days ago (N from its customer's tier), to
    the primary contact. Each survey is created in its own transaction and mailed after it commits."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    orders, configs = due_orders(today)
    created = skipped = 0
    all_configs = {c.tier: c for c in SurveyConfig.objects.all()}
    for order in orders:
        config = all_configs.get(order.tier) or all_configs.get("")
        if config is None or not config.enabled:
            continue
        days = (today - order.delivered_on).days
        if not config.days_after_delivery <= days <= config.days_after_delivery + GRACE_DAYS:
            continue
        contact, email, language = _recipient(order)
        if not email:
            skipped += 1
            continue
        try:
            survey_create(order=order, contact=contact, email=email, language=language, tier=order.tier,
                          scale=config.scale, delivered_on=order.delivered_on, now=now)  # fmt: skip
        except IntegrityError:  # a concurrent run surveyed this order
            continue
        created += 1
    retried = 0
    for survey_id in Survey.objects.filter(sent_at__isnull=True, expires_at__gt=now, created_at__lt=now - dt.timedelta(hours=1)) \
            .values_list("id", flat=True)[:500]:  # fmt: skip
        survey_send(survey_id)
        retried += 1
    return {"orders": len(orders), "created": created, "no_email": skipped, "retried": retried}


@transaction.atomic
def survey_create(
    *,
    order,
    contact,
    email: str,
    language: str,
    tier: str,
    scale: str,
    delivered_on: dt.date | None,
    now: dt.datetime,
    actor=None,
) -> Survey:
    survey = Survey.objects.create(company_id=order.company_id, order=order, contact=contact, email=email,
                                   language=language, tier=tier or "", scale=scale, token=secrets.token_urlsafe(18),
                                   delivered_on=delivered_on, created_at=now,
                                   expires_at=now + dt.timedelta(days=LINK_DAYS))  # fmt: skip
    audit_record(actor=actor, action="survey.create", obj=survey,
                 changes={"order": order.pk, "email": email, "scale": scale})  # fmt: skip
    survey_id = survey.pk
    transaction.on_commit(lambda: survey_send(survey_id))
    return survey


def survey_send(survey_id: int) -> bool:
    """Mail the survey (in the recipient's language); records when it went out, or why not."""
    from django.core.mail import send_mail
    from django.template.loader import render_to_string

    from . import links

    survey = (
        Survey.objects.select_related("company", "order").filter(pk=survey_id, sent_at__isnull=True).first()
    )
    if survey is None:
        return False
    low, high = SCALE_RANGE[survey.scale]
    with translation.override(survey.language):
        ctx = {"survey": survey, "company": survey.company, "order": survey.order,
               "scores": [(s, links.answer_url(survey, s)) for s in range(low, high + 1)],
               "comment_url": links.page_url(survey), "nps": survey.scale == Scale.NPS}  # fmt: skip
        subject = _("How was your order %(number)s?") % {
            "number": survey.order.number if survey.order else ""
        }
        body = render_to_string("service/email/survey.txt", ctx)
        html = render_to_string("service/email/survey.html", ctx)
    try:
        send_mail(subject.strip(), body, None, [survey.email], html_message=html)
    except Exception as exc:  # SMTP down or refused: the daily job retries
        log.warning("survey %s not sent: %s", survey_id, exc)
        Survey.objects.filter(pk=survey_id).update(send_error=str(exc)[:255])
        return False
    Survey.objects.filter(pk=survey_id).update(sent_at=timezone.now(), send_error="")
    return True


# --- surveys: answers (public page, no login) -------------------------------------------------------------


class SurveyClosed(Exception):
    """The survey can no longer be answered or changed: `reason` is "expired" or "answered"."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def survey_state(survey: Survey, now: dt.datetime | None = None) -> str:
    """ "open" (not answered yet), "changeable" (answered, may still change), "answered" (final),
    "expired" (never answered, link too old)."""
    now = now or timezone.now()
    if survey.answered_at is None:
        return "open" if now <= survey.expires_at else "expired"
    return "changeable" if now <= change_until(survey) else "answered"


def change_until(survey: Survey) -> dt.datetime | None:
    return survey.answered_at + dt.timedelta(days=ANSWER_CHANGE_DAYS) if survey.answered_at else None


def score_5(scale: str, score: int) -> float:
    """An answer on the common 1–5 scale (NPS 0–10: 0 → 1, 10 → 5)."""
    return float(score) if scale == Scale.FIVE else round(1 + score * 0.4, 2)


@transaction.atomic
def survey_answer(
    *,
    survey: Survey,
    score,
    comment: str | None = None,
    now: dt.datetime | None = None,
    first_only: bool = False,
) -> Survey:
    """Record (or change, within the change window) the answer. `first_only`: the one-click link,
    which records a score only when none is recorded yet (a second click changes nothing)."""
    now = now or timezone.now()
    current = Survey.objects.select_for_update().get(pk=survey.pk)
    state = survey_state(current, now)
    if state in ("expired", "answered"):
        raise SurveyClosed(state)
    low, high = SCALE_RANGE[current.scale]
    value = score if isinstance(score, int) and not isinstance(score, bool) else (
        int(score) if isinstance(score, str) and score.strip().isdigit() else None)  # fmt: skip
    if value is None or not low <= value <= high:
        raise ValidationError(
            {"score": [_("Choose a score from %(low)s to %(high)s.") % {"low": low, "high": high}]}
        )
    if comment is not None and len(comment) > 5000:
        raise ValidationError({"comment": [_("At most %(n)s characters.") % {"n": 5000}]})
    if first_only and current.answered_at is not None:
        return current
    before = current.score
    first = current.answered_at is None
    current.score = value
    current.score_5 = score_5(current.scale, value)
    if comment is not None:
        current.comment = comment.strip()
    if first:
        current.answered_at = now
    else:
        current.changed_at = now
    current.save()
    audit_record(actor=None, action="survey.answer", obj=current,
                 changes={"score": [before, value], **({"comment": True} if comment else {})})  # fmt: skip
    if before != value:
        _emit("survey.score_received", obj_type="survey_response", obj_id=current.pk, actor=None,
              changes={"score": [before, value], "scale": current.scale, "company_id": current.company_id})  # fmt: skip
    return current


# --- ticket files ----------------------------------------------------------------------------------

TICKET_FILE_LABEL = "service.ticketattachment.file"  # AES-GCM associated data (core/crypto.py)
MAX_FILES_PER_TICKET = 30
# what a claim needs: photos and videos of the damage, documents (sniffed from the bytes)
TICKET_FILE_TYPES = frozenset({
    "application/pdf", "text/plain", "application/rtf", "application/msword", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
})  # fmt: skip


def ticket_file_limit() -> int:
    from django.conf import settings

    return settings.TRADECRM_ATTACHMENT_MAX_BYTES


def _check_ticket_file(upload) -> dict:
    from tradecrm.core.uploads import check_upload

    meta = check_upload(upload, limit=ticket_file_limit())
    ctype = meta["content_type"]
    if not (ctype.startswith(("image/", "video/")) or ctype in TICKET_FILE_TYPES):
        raise ValidationError({"files": [
            _("“%(name)s” (%(type)s) is not accepted: attach photos, videos, PDF, Word, Excel or text files.")
            % {"name": meta["name"], "type": ctype}
        ]})  # fmt: skip
    return meta


@transaction.atomic
def ticket_files_add(*, actor, ticket: Ticket, files: list, now: dt.datetime | None = None) -> list:
    """Attach files (Django File / UploadedFile objects) to a ticket: all of them or, when one is
    refused (too big, not a photo / video / document, a program), none, with every refused file
    named. Each file is stored encrypted and appears on the ticket's timeline."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from tradecrm.accounts.access import require_writer
    from tradecrm.core.crypto import encrypt_bytes

    from .models import TicketAttachment

    require_writer(actor)
    now = now or timezone.now()
    files = [f for f in files or [] if f is not None]
    if not files:
        raise ValidationError({"files": [_("Choose at least one file.")]})
    errors: list[str] = []
    checked = []
    for f in files:
        try:
            checked.append((f, _check_ticket_file(f)))
        except ValidationError as exc:
            errors.extend(exc.messages)
    current = _locked(ticket, None)
    have = TicketAttachment.objects.filter(ticket=current).count()
    if have + len(files) > MAX_FILES_PER_TICKET:
        errors.append(_("A ticket keeps at most %(n)s files; it has %(have)s.") % {"n": MAX_FILES_PER_TICKET,
                                                                                  "have": have})  # fmt: skip
    if errors:
        raise ValidationError({"files": errors})
    stored: list[TicketAttachment] = []
    try:
        for f, meta in checked:
            f.seek(0)
            data = b"".join(f.chunks()) if hasattr(f, "chunks") else f.read()
            att = TicketAttachment(ticket=current, name=meta["name"], size=meta["size"], sha256=meta["sha256"],
                                   content_type=meta["content_type"][:100], uploaded_at=now,
                                   uploaded_by=actor if getattr(actor, "pk", None) else None)  # fmt: skip
            att.file.save(meta["name"], ContentFile(encrypt_bytes(data, TICKET_FILE_LABEL)), save=False)
            stored.append(att)
            att.save()
            _event(current, EventKind.FILE, actor, now, text=att.name,
                   changes={"attachment": att.pk, "size": att.size, "content_type": att.content_type})  # fmt: skip
    except BaseException:
        for att in stored:
            default_storage.delete(att.file.name)
        raise
    Ticket.objects.filter(pk=current.pk).update(version=F("version") + 1, updated_at=now)
    audit_record(actor=actor, action="ticket.file.add", obj=current,
                 changes={"files": [{"id": a.pk, "name": a.name, "size": a.size} for a in stored]})  # fmt: skip
    return stored


def can_delete_ticket_file(user, attachment) -> bool:
    """Who uploaded it, the ticket's owner, managers and administrators."""
    return bool(
        user.is_admin or user.is_manager or attachment.uploaded_by_id == user.pk
        or attachment.ticket.owner_id == user.pk
    )  # fmt: skip


@transaction.atomic
def ticket_file_delete(*, actor, attachment, now: dt.datetime | None = None) -> None:
    from tradecrm.accounts.access import require_writer

    require_writer(actor)
    if not can_delete_ticket_file(actor, attachment):
        raise PermissionDenied(_("Only who added it, the ticket's owner, a manager or an administrator may remove "
                                 "this file."))  # fmt: skip
    now = now or timezone.now()
    current = _locked(attachment.ticket, None)
    _event(current, EventKind.FILE_REMOVED, actor, now, text=attachment.name, changes={"attachment": attachment.pk})
    audit_record(actor=actor, action="ticket.file.delete", obj=current,
                 changes={"attachment": attachment.pk, "name": attachment.name})  # fmt: skip
    attachment.delete()  # the file goes after the commit (signals.py, also on a cascade)
    Ticket.objects.filter(pk=current.pk).update(version=F("version") + 1, updated_at=now)


def ticket_file_read(attachment) -> bytes:
    """The plaintext of a ticket file (FileNotFoundError when the file is gone)."""
    from tradecrm.core.crypto import decrypt_bytes

    with attachment.file.open("rb") as fh:
        return decrypt_bytes(fh.read(), TICKET_FILE_LABEL)
