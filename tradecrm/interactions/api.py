"""JSON API for the timeline (mounted under /api/v1/interactions).

Thin like customers/api.py: reads through the selectors (an interaction is visible iff its
company is; loads by id answer 404 alike for "missing" and "not yours"), writes through the
services (validation, revisions, stale-version refusal).
"""

from __future__ import annotations

import io

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Query, Router
from ninja.files import UploadedFile

from tradecrm.core.api import (
    DELETE,
    LIST,
    PATCH,
    READ,
    WRITE,
    Id,
    check_delete_version,
    json_response,
    not_modified,
    object_response,
    required_version,
    user_ref,
)
from tradecrm.core.errors import ValidationError
from tradecrm.customers import selectors as customer_selectors

from . import selectors, services
from .schemas import (
    AttachmentOut,
    InteractionCreate,
    InteractionListQuery,
    InteractionOut,
    InteractionPage,
    InteractionPatch,
    RevisionList,
)

interactions = Router(tags=["interactions"])


def _file_url(attachment_id: int) -> str:
    return f"/api/v1/interactions/attachments/{attachment_id}"


def _row_out(r: dict) -> dict:
    return {
        "id": r["id"],
        "company": {"id": r["company_id"], "name": r.get("company__name", "")},
        "type": r["type"],
        "direction": r["direction"],
        "occurred_at": r["occurred_at"],
        "duration_minutes": r["duration_minutes"],
        "subject": r["subject"],
        "body": r["body"],
        "source": r["source"],
        "contact": {"id": r["contact_id"], "name": r["contact_name"]} if r["contact_id"] else None,
        "contacts": r["contacts"],
        "participants": r["participants"],
        "owner": {"id": r["owner_id"], "username": r["owner__username"], "name": r["owner_name"]}
        if r["owner_id"]
        else None,
        "attachments": [{**a, "url": _file_url(a["id"])} for a in r["attachments"]],
        "version": r["version"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


def _interaction_out(interaction) -> dict:
    row = selectors.interaction_related(interaction)
    row["company__name"] = interaction.company.name
    return _row_out(row)


@interactions.get("", response={200: InteractionPage, **LIST}, summary="List interactions")
def list_interactions(request: HttpRequest, query: Query[InteractionListQuery]):
    """A company's timeline (`company_id`), a contact's (`contact_id`) or a search over every
    timeline you can see (`q`), newest first. Follow `next_cursor` for older entries."""
    user, cursor = request.auth, query.cursor or None
    if query.q:
        if query.company_id or query.contact_id or query.types:
            raise ValidationError({"q": [_("Search runs over every timeline; leave out the other filters.")]})
        rows, nxt, prev = selectors.timeline_search(user, query.q, cursor=cursor, limit=query.limit)
    elif query.contact_id and not query.company_id:
        contact = customer_selectors.contact_get_for_user(user, query.contact_id)
        rows, nxt, prev = selectors.contact_timeline(
            user, contact, cursor=cursor, limit=query.limit, types=query.types
        )
        for r in rows:
            r["company__name"] = contact.company.name
    elif query.company_id:
        company = customer_selectors.company_get_for_user(user, query.company_id)
        rows, nxt, prev = selectors.company_timeline(
            user, company, cursor=cursor, limit=query.limit, types=query.types, contact_id=query.contact_id
        )
        for r in rows:
            r["company__name"] = company.name
    else:
        raise ValidationError({"company_id": [_("Give company_id, contact_id or q.")]})
    return json_response({"items": [_row_out(r) for r in rows], "next_cursor": nxt, "prev_cursor": prev})


@interactions.post("", response={201: InteractionOut, **WRITE}, summary="Log an interaction")
def create_interaction(request: HttpRequest, payload: InteractionCreate):
    data = payload.model_dump(exclude_unset=True)
    company_id = data.pop("company")
    try:
        company = customer_selectors.company_get_for_user(request.auth, company_id)
    except Http404:
        raise ValidationError({"company": [_("No company with id %(id)s.") % {"id": company_id}]}) from None
    interaction = services.interaction_create(actor=request.auth, company=company, data=data, source="api")
    response = object_response(_interaction_out(interaction), status=201)
    response["Location"] = f"/api/v1/interactions/{interaction.pk}"
    return response


@interactions.get(
    "/{int:interaction_id}", response={200: InteractionOut, 304: None, **READ}, summary="Get an interaction"
)
def get_interaction(request: HttpRequest, interaction_id: Id):
    interaction = selectors.interaction_get_for_user(request.auth, interaction_id)
    return not_modified(request, interaction.version) or object_response(_interaction_out(interaction))


@interactions.patch(
    "/{int:interaction_id}", response={200: InteractionOut, **PATCH}, summary="Change an interaction"
)
def patch_interaction(request: HttpRequest, interaction_id: Id, payload: InteractionPatch):
    """Send only the fields to change, plus the `version` you last read (or If-Match). The state
    before is kept as a revision; a stale version is refused with 409."""
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    interaction = selectors.interaction_get_for_user(request.auth, interaction_id)
    interaction = services.interaction_update(
        actor=request.auth, interaction=interaction, version=version, data=data
    )
    return object_response(_interaction_out(interaction))


@interactions.delete("/{int:interaction_id}", response={204: None, **DELETE}, summary="Delete an interaction")
def delete_interaction(request: HttpRequest, interaction_id: Id):
    interaction = selectors.interaction_get_for_user(request.auth, interaction_id)
    check_delete_version(request, interaction)
    services.interaction_delete(actor=request.auth, interaction=interaction)
    return HttpResponse(status=204)


@interactions.get(
    "/{int:interaction_id}/revisions",
    response={200: RevisionList, **READ},
    summary="An interaction's edit history",
)
def list_revisions(request: HttpRequest, interaction_id: Id):
    """The state before each edit, newest first."""
    interaction = selectors.interaction_get_for_user(request.auth, interaction_id)
    items = [
        {
            "version": r.version,
            "data": r.data,
            "edited_by": user_ref(r.edited_by) if r.edited_by_id else None,
            "edited_at": r.edited_at,
        }
        for r in selectors.interaction_revisions(interaction)
    ]
    return json_response({"items": items})


@interactions.post(
    "/{int:interaction_id}/attachments",
    response={201: AttachmentOut, **WRITE},
    summary="Attach a file",
)
def upload_attachment(request: HttpRequest, interaction_id: Id, file: File[UploadedFile]):
    """multipart/form-data with the file as `file`. Its type is sniffed from the bytes; programs
    and files over the size limit are refused with 422."""
    interaction = selectors.interaction_get_for_user(request.auth, interaction_id)
    a = services.attachment_add(actor=request.auth, interaction=interaction, upload=file)
    data = {
        "id": a.pk,
        "name": a.name,
        "content_type": a.content_type,
        "size": a.size,
        "url": _file_url(a.pk),
    }
    return json_response(data, status=201, headers={"Location": data["url"]})


@interactions.get(
    "/attachments/{int:attachment_id}",
    response={200: None, **READ},
    summary="Download a file",
    openapi_extra={"responses": {"200": {"description": "The file, as a download."}}},
)
def download_attachment(request: HttpRequest, attachment_id: Id):
    attachment = selectors.attachment_get_for_user(request.auth, attachment_id)
    try:
        data = services.attachment_read(attachment)  # stored encrypted
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        io.BytesIO(data), as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
