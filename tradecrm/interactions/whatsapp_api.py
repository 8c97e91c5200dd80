"""JSON API for WhatsApp chat imports (mounted under /api/v1/whatsapp-imports).

POST a multipart form: `company_id`, `file` (the export: .txt or .zip with media), `my_names`
(repeat the field for each of your names or numbers in the chat), `timezone` (default: yours),
`date_order` (DMY/MDY/YMD, default: read from the file), `dry_run`. The answer counts what was
read, created and skipped; a file that is not a WhatsApp export is 422 naming the first
unreadable line (`line`, `content`) and nothing is imported.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from tradecrm.core.api import Error, FieldError, Id, json_response
from tradecrm.customers.selectors import company_get_for_user

from .whatsapp_services import WhatsAppFileInvalid, whatsapp_import
from .whatsapp_views import MAX_UPLOAD_BYTES, too_big_message

whatsapp = Router(tags=["whatsapp"])


class WhatsAppSender(Schema):
    name: str
    messages: int
    direction: str = Field(description="“out” for you, “in” for everyone else.")
    contact_id: int | None
    contact_name: str


class WhatsAppRefusedFile(Schema):
    name: str
    reason: str


class WhatsAppPreviewRow(Schema):
    line: int
    occurred_at: dt.datetime
    local_time: dt.datetime = Field(description="The time as the chat shows it, in the chat's time zone.")
    sender: str
    direction: str
    contact_id: int | None
    contact_name: str
    subject: str
    media: str
    duplicate: bool


class WhatsAppImportResult(Schema):
    file_name: str
    format: str = Field(description="“android” or “ios”.")
    date_order: str = Field(description="DMY, MDY or YMD: how the dates were read.")
    date_order_ambiguous: bool = Field(
        description="No date decided the order; the default (DMY) or yours was used."
    )
    timezone: str
    dry_run: bool
    messages: int = Field(description="Messages read (system notes not included).")
    created: int
    duplicates: int = Field(description="Messages on the timeline already (from an earlier import).")
    system_lines: int
    senders: list[WhatsAppSender]
    unmatched_senders: list[str]
    attachments_stored: int
    attachments_refused: list[WhatsAppRefusedFile]
    attachments_missing: list[str] = Field(
        description="Media files the chat names that the upload does not hold."
    )
    media_files: int = Field(description="Messages whose media file is in the upload.")
    preview: list[WhatsAppPreviewRow] = Field(description="The first 20 messages.")


class WhatsAppUnreadableFile(Schema):
    detail: list[FieldError]
    line: int | None = Field(description="The first line that could not be read, 1-based.")
    content: str = Field(description="That line's text.")


@whatsapp.post(
    "",
    response={
        200: WhatsAppImportResult,
        201: WhatsAppImportResult,
        401: Error,
        404: Error,
        413: Error,
        422: WhatsAppUnreadableFile,
    },
    summary="Import a WhatsApp chat export",
)
def import_chat(
    request: HttpRequest,
    company_id: Form[Id],
    file: File[UploadedFile],
    my_names: Form[list[str] | None] = None,
    timezone: Form[str] = "",
    date_order: Form[str] = "",
    dry_run: Form[bool] = False,
):
    """Import a chat exported from WhatsApp into the company's timeline: 201 with the counts, or
    200 for a `dry_run` (nothing written). Messages already imported are skipped."""
    user = request.auth
    company = company_get_for_user(user, company_id)
    if file.size > MAX_UPLOAD_BYTES:
        return json_response({"detail": too_big_message(file.size)}, status=413)
    names = [n for raw in (my_names or []) for n in raw.splitlines() if n.strip()]
    try:
        result = whatsapp_import(
            actor=user,
            company=company,
            file=file,
            my_names=names,
            timezone=timezone or None,
            date_order=date_order.upper() or None,
            dry_run=dry_run,
        )
    except WhatsAppFileInvalid as exc:
        detail = [{"field": "file", "message": m} for m in exc.messages]
        return json_response({"detail": detail, "line": exc.line, "content": exc.content}, status=422)
    return json_response(result.as_dict(), status=200 if dry_run else 201)
