"""JSON API of service: each (prefix, router) in ROUTERS is mounted under /api/v1/.

/tickets: you see the tickets of the customers you see, and the ones you own; any other id is 404
as if missing. Status changes follow the workflow (422 names the allowed next statuses); field
changes need the `version` you read (409 when stale). /surveys: the survey answers of the
customers you see, and the survey settings (changed by administrators).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Literal

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile

from tradecrm.core.api import (
    DELETE,
    LIST,
    PATCH,
    READ,
    WRITE,
    Id,
    Text,
    Version,
    created_response,
    json_response,
    object_response,
    page_response,
    required_version,
    user_ref,
)
from tradecrm.customers.selectors import company_get_for_user

from . import selectors, services
from .models import Category, Kind, RootCause, Scale, Severity, Status, Ticket

tickets = Router(tags=["tickets"])
surveys = Router(tags=["surveys"])

ROUTERS: list[tuple[str, Router]] = [("/tickets", tickets), ("/surveys", surveys)]

StatusName = Literal["open", "investigating", "proposed", "resolved", "closed"]
SeverityName = Literal["low", "medium", "high", "critical"]


class UserRef(Schema):
    id: int
    username: str
    name: str


class TicketRow(Schema):
    id: int
    number: str
    company_id: int
    company: str
    order_id: int | None
    order_number: str | None
    category: str
    kind: str
    severity: str
    title: str
    status: str
    owner_id: int | None
    owner: str
    opened_at: dt.datetime
    first_response_due: dt.datetime
    first_response_at: dt.datetime | None
    resolution_due: dt.datetime
    resolved_at: dt.datetime | None
    root_cause: str
    overdue: bool


class TicketPage(Schema):
    items: list[TicketRow]
    next_cursor: str | None
    prev_cursor: str | None


class EventOut(Schema):
    id: int
    kind: str
    from_status: str
    to_status: str
    text: str
    changes: dict
    actor: UserRef | None
    at: dt.datetime


class TicketOut(Schema):
    id: int
    number: str
    company_id: int
    order_id: int | None
    order_line_id: int | None
    product_id: int | None
    supplier: str
    category: str
    kind: str
    severity: str
    title: str
    description: str
    owner: UserRef | None
    status: str
    allowed_statuses: list[str]
    opened_at: dt.datetime
    first_response_due: dt.datetime
    first_response_at: dt.datetime | None
    resolution_due: dt.datetime
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    root_cause: str
    root_cause_note: str
    solution: str
    compensation_amount: Decimal | None
    compensation_currency: str
    replacement: bool
    replacement_note: str
    discount_percent: Decimal | None
    version: int
    events: list[EventOut]


class TicketQuery(Schema):
    status: Text = Field("", max_length=20, description="A status, or “active” for not resolved/closed.")
    severity: Text = Field("", max_length=10)
    overdue: bool = False
    owner: Id | None = None
    company: Id | None = None
    order: Id | None = None
    cursor: Text | None = Field(None, max_length=1000)
    limit: int = Field(50, ge=1, le=200)


class TicketFields(Schema):
    title: Text | None = Field(None, max_length=1000)
    description: Text | None = Field(None, max_length=20000)
    category: Text | None = Field(None, max_length=20, description=f"One of {', '.join(Category.values)}.")
    kind: Text | None = Field(None, max_length=20, description=f"One of {', '.join(Kind.values)}.")
    severity: Text | None = Field(None, max_length=20, description=f"One of {', '.join(Severity.values)}.")
    owner: Id | None = None
    order: Id | None = None
    order_line: Id | None = None
    product: Id | None = None
    supplier: Text | None = Field(None, max_length=1000)
    root_cause: Text | None = Field(None, max_length=20, description=f"One of {', '.join(RootCause.values)}.")
    root_cause_note: Text | None = Field(None, max_length=10000)
    solution: Text | None = Field(None, max_length=10000)
    compensation_amount: Text | None = Field(
        None, max_length=40, description="A decimal amount, e.g. “120.50”."
    )
    compensation_currency: Text | None = Field(None, max_length=10)
    replacement: bool | None = None
    replacement_note: Text | None = Field(None, max_length=1000)
    discount_percent: Text | None = Field(None, max_length=20, description="0–100.")


class TicketCreate(TicketFields):
    company: Id
    title: Text = Field(max_length=1000)
    kind: Text = Field(max_length=20, description=f"One of {', '.join(Kind.values)}.")


class TicketPatch(TicketFields):
    version: Version | None = None


class StatusIn(Schema):
    status: StatusName
    note: Text = Field("", max_length=5000)
    version: Version | None = None
    solution: Text | None = Field(None, max_length=10000)
    root_cause: Text | None = Field(None, max_length=20)
    root_cause_note: Text | None = Field(None, max_length=10000)


class CommentIn(Schema):
    text: Text = Field(max_length=20000)


def _fields(payload: Schema, exclude: tuple[str, ...] = ()) -> dict:
    return {k: v for k, v in payload.dict(exclude_unset=True).items() if k not in exclude}


def ticket_out(t: Ticket) -> dict:
    events = [{"id": e.id, "kind": e.kind, "from_status": e.from_status, "to_status": e.to_status, "text": e.text,
               "changes": e.changes, "actor": user_ref(e.actor), "at": e.at} for e in selectors.ticket_events(t)]  # fmt: skip
    return {
        "id": t.id, "number": t.number, "company_id": t.company_id, "order_id": t.order_id,
        "order_line_id": t.order_line_id, "product_id": t.product_id, "supplier": t.supplier, "category": t.category,
        "kind": t.kind, "severity": t.severity, "title": t.title, "description": t.description,
        "owner": user_ref(t.owner), "status": t.status, "allowed_statuses": list(services.allowed_statuses(t)),
        "opened_at": t.opened_at, "first_response_due": t.first_response_due, "first_response_at": t.first_response_at,
        "resolution_due": t.resolution_due, "resolved_at": t.resolved_at, "closed_at": t.closed_at,
        "root_cause": t.root_cause, "root_cause_note": t.root_cause_note, "solution": t.solution,
        "compensation_amount": t.compensation_amount, "compensation_currency": t.compensation_currency,
        "replacement": t.replacement, "replacement_note": t.replacement_note, "discount_percent": t.discount_percent,
        "version": t.version, "events": events,
    }  # fmt: skip


@tickets.get("", response={200: TicketPage, **LIST}, summary="List tickets")
def list_tickets(request: HttpRequest, query: Query[TicketQuery]):
    """Newest first (keyset paged). Filters: status (or “active”), severity, overdue, owner, customer, order."""
    params = {k: ("" if v is None else str(v)) for k, v in query.dict().items()}
    params["overdue"] = "1" if query.overdue else ""
    f, errors = selectors.filters_from_params(params)
    if errors:
        from tradecrm.core.errors import ValidationError

        raise ValidationError({k: [v] for k, v in errors.items()})
    rows, nxt, prev = selectors.ticket_list(request.auth, f, cursor=query.cursor or None, limit=query.limit)
    items = [{"id": r["id"], "number": r["number"], "company_id": r["company_id"], "company": r["company__name"],
              "order_id": r["order_id"], "order_number": r["order__number"], "category": r["category"],
              "kind": r["kind"], "severity": r["severity"], "title": r["title"], "status": r["status"],
              "owner_id": r["owner_id"], "owner": r["owner_name"], "opened_at": r["opened_at"],
              "first_response_due": r["first_response_due"], "first_response_at": r["first_response_at"],
              "resolution_due": r["resolution_due"], "resolved_at": r["resolved_at"], "root_cause": r["root_cause"],
              "overdue": r["overdue"]} for r in rows]  # fmt: skip
    return page_response(items, nxt, prev)


@tickets.post("", response={201: TicketOut, **WRITE}, summary="Open a ticket")
def create_ticket(request: HttpRequest, payload: TicketCreate):
    """For a customer you see; the order (and its line) must be that customer's. The due times come
    from the SLA of the severity."""
    company = company_get_for_user(request.auth, payload.company)
    ticket = services.ticket_create(actor=request.auth, company=company, data=_fields(payload, ("company",)))
    ticket = selectors.ticket_get_for_user(request.auth, ticket.pk)
    return created_response(ticket_out(ticket), "tickets")


@tickets.get("/{int:ticket_id}", response={200: TicketOut, **READ}, summary="Get a ticket")
def get_ticket(request: HttpRequest, ticket_id: Id):
    return object_response(ticket_out(selectors.ticket_get_for_user(request.auth, ticket_id)))


@tickets.patch("/{int:ticket_id}", response={200: TicketOut, **PATCH}, summary="Change a ticket")
def patch_ticket(request: HttpRequest, ticket_id: Id, payload: TicketPatch):
    """Only the fields sent change (not the status: see /status). Needs the version you read."""
    ticket = selectors.ticket_get_for_user(request.auth, ticket_id)
    version = required_version(request, payload.version)
    services.ticket_update(
        actor=request.auth, ticket=ticket, version=version, data=_fields(payload, ("version",))
    )
    return object_response(ticket_out(selectors.ticket_get_for_user(request.auth, ticket_id)))


@tickets.post(
    "/{int:ticket_id}/status", response={200: TicketOut, **PATCH}, summary="Change a ticket's status"
)
def set_status(request: HttpRequest, ticket_id: Id, payload: StatusIn):
    """open → investigating → proposed → resolved / closed (see `allowed_statuses`). Proposing needs a
    solution, resolving a complaint or claim its root cause (send them here or set them before)."""
    ticket = selectors.ticket_get_for_user(request.auth, ticket_id)
    data = _fields(payload, ("status", "note", "version"))
    services.ticket_set_status(actor=request.auth, ticket=ticket, status=payload.status, note=payload.note,
                               version=payload.version, data=data)  # fmt: skip
    return object_response(ticket_out(selectors.ticket_get_for_user(request.auth, ticket_id)))


@tickets.post("/{int:ticket_id}/comments", response={201: EventOut, **WRITE}, summary="Comment on a ticket")
def comment(request: HttpRequest, ticket_id: Id, payload: CommentIn):
    ticket = selectors.ticket_get_for_user(request.auth, ticket_id)
    e = services.ticket_comment(actor=request.auth, ticket=ticket, text=payload.text)
    return json_response({"id": e.id, "kind": e.kind, "from_status": "", "to_status": "", "text": e.text,
                          "changes": {}, "actor": user_ref(request.auth), "at": e.at}, status=201)  # fmt: skip


# --- ticket files ----------------------------------------------------------------------------------


class TicketFileOut(Schema):
    id: int
    ticket_id: int
    name: str
    size: int
    content_type: str
    uploaded_by: UserRef | None
    uploaded_at: dt.datetime
    url: str


def _file_out(a) -> dict:
    return {"id": a.pk, "ticket_id": a.ticket_id, "name": a.name, "size": a.size, "content_type": a.content_type,
            "uploaded_by": user_ref(a.uploaded_by) if a.uploaded_by_id else None, "uploaded_at": a.uploaded_at,
            "url": f"/api/v1/tickets/files/{a.pk}"}  # fmt: skip


@tickets.get("/{int:ticket_id}/files", response={200: list[TicketFileOut], **READ}, summary="A ticket's files")
def list_files(request: HttpRequest, ticket_id: Id):
    ticket = selectors.ticket_get_for_user(request.auth, ticket_id)
    return json_response([_file_out(a) for a in selectors.ticket_files(ticket)])


@tickets.post("/{int:ticket_id}/files", response={201: list[TicketFileOut], **WRITE}, summary="Attach files to a ticket")
def upload_files(request: HttpRequest, ticket_id: Id, files: File[list[UploadedFile]]):
    """multipart/form-data, one or more `files` (photos, videos, PDF, Word, Excel, text; type sniffed
    from the bytes). All are stored, or none: 422 names every refused file."""
    ticket = selectors.ticket_get_for_user(request.auth, ticket_id)
    added = services.ticket_files_add(actor=request.auth, ticket=ticket, files=list(files))
    return json_response([_file_out(a) for a in added], status=201)


@tickets.get("/files/{int:file_id}", response={200: None, **READ}, summary="Download a ticket file",
             openapi_extra={"responses": {"200": {"description": "The file, as a download."}}})  # fmt: skip
def download_file(request: HttpRequest, file_id: Id):
    att = selectors.ticket_file_get_for_user(request.auth, file_id)
    try:
        data = services.ticket_file_read(att)
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(io.BytesIO(data), as_attachment=True, filename=att.name, content_type=att.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@tickets.delete("/files/{int:file_id}", response={204: None, **DELETE}, summary="Remove a ticket file")
def delete_file(request: HttpRequest, file_id: Id):
    """Who added it, the ticket's owner, managers and administrators (else 403)."""
    att = selectors.ticket_file_get_for_user(request.auth, file_id)
    services.ticket_file_delete(actor=request.auth, attachment=att)
    return HttpResponse(status=204)


# --- surveys ------------------------------------------------------------------------------------------


class SurveyOut(Schema):
    id: int
    company_id: int
    company: str
    order_id: int | None
    order_number: str | None
    email: str
    language: str
    tier: str
    scale: str
    delivered_on: dt.date | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    expires_at: dt.datetime
    score: int | None
    score_5: float | None
    comment: str
    answered_at: dt.datetime | None
    changed_at: dt.datetime | None


class SurveyPage(Schema):
    items: list[SurveyOut]
    next_cursor: str | None
    prev_cursor: str | None


class SurveyQuery(Schema):
    answered: bool | None = None
    company: Id | None = None
    cursor: Text | None = Field(None, max_length=1000)
    limit: int = Field(50, ge=1, le=200)


class ConfigOut(Schema):
    tier: str
    enabled: bool
    days_after_delivery: int
    scale: str
    version: int


class ConfigIn(Schema):
    tier: Text = Field("", max_length=16, description="A tier code; empty for the default.")
    enabled: bool | None = None
    days_after_delivery: int | None = Field(None, ge=0, le=365)
    scale: Literal["five", "nps"] | None = None


def survey_row(r: dict) -> dict:
    r = dict(r)
    r["company"] = r.pop("company__name")
    r["order_number"] = r.pop("order__number")
    return r


def config_out(c) -> dict:
    return {"tier": c.tier, "enabled": c.enabled, "days_after_delivery": c.days_after_delivery, "scale": c.scale,
            "version": c.version}  # fmt: skip


@surveys.get("", response={200: SurveyPage, **LIST}, summary="List survey responses")
def list_surveys(request: HttpRequest, query: Query[SurveyQuery]):
    """Newest first (keyset paged); `answered=true` for the answers only."""
    rows, nxt, prev = selectors.survey_list(request.auth, answered=query.answered, company=query.company,
                                            cursor=query.cursor or None, limit=query.limit)  # fmt: skip
    return page_response([survey_row(r) for r in rows], nxt, prev)


@surveys.get("/config", response={200: list[ConfigOut], **READ}, summary="Survey settings")
def get_config(request: HttpRequest):
    return json_response([config_out(c) for c in selectors.survey_configs()])


@surveys.put("/config", response={200: ConfigOut, **WRITE}, summary="Change a survey setting")
def put_config(request: HttpRequest, payload: ConfigIn):
    """Administrators: the setting of one tier (created when missing)."""
    data = _fields(payload, ("tier",))
    return json_response(
        config_out(services.survey_config_save(actor=request.auth, tier=payload.tier, data=data))
    )


@surveys.get("/{int:survey_id}", response={200: SurveyOut, **READ}, summary="Get a survey")
def get_survey(request: HttpRequest, survey_id: Id):
    s = selectors.survey_get_for_user(request.auth, survey_id)
    row = selectors.surveys_for_user(request.auth).filter(pk=s.pk).values(*selectors.SURVEY_FIELDS).first()
    return json_response(survey_row(row))


__all__ = ["ROUTERS", "Scale", "Status"]
