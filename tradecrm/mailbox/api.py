"""JSON API of email, mounted under /api/v1/: /mailboxes (your own: create, read, change, remove,
sync now), /messages (a customer's mail, one message, send one), /mail-templates. Another user's
mailbox, template or a message you may not see is 404 as if missing. Passwords are write-only."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from tradecrm.accounts.access import can_reveal
from tradecrm.core.api import DELETE, LIST, PATCH, READ, WRITE, Id, Text, Version, json_response
from tradecrm.customers.masking import mask_email
from tradecrm.customers.models import Contact
from tradecrm.customers.selectors import company_get_for_user

from . import selectors, services
from .models import Mailbox, MailMessage, MailTemplate, SmtpSecurity, TemplateLanguage
from .sending import local_morning, message_queue

mailboxes = Router(tags=["email"])
messages = Router(tags=["email"])
mail_templates = Router(tags=["email"])
ROUTERS: list[tuple[str, Router]] = [("/mailboxes", mailboxes), ("/messages", messages),
                                     ("/mail-templates", mail_templates)]  # fmt: skip


class MailboxOut(Schema):
    id: int
    email: str
    display_name: str
    imap_host: str
    imap_port: int
    imap_ssl: bool
    smtp_host: str
    smtp_port: int
    smtp_security: str
    username: str
    sync_enabled: bool
    status: str
    status_message: str
    status_at: dt.datetime | None
    last_sync_at: dt.datetime | None
    version: int


class MailboxIn(Schema):
    email: Text = Field(max_length=254)
    display_name: Text = Field("", max_length=120)
    imap_host: Text = Field(max_length=255)
    imap_port: int = Field(993, ge=1, le=65535)
    imap_ssl: bool = True
    smtp_host: Text = Field(max_length=255)
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: Text = Field(max_length=254)
    password: Text = Field(max_length=1000, description="Write-only; stored encrypted.")
    sync_enabled: bool = True


class MailboxPatch(Schema):
    version: Version
    email: Text | None = Field(None, max_length=254)
    display_name: Text | None = Field(None, max_length=120)
    imap_host: Text | None = Field(None, max_length=255)
    imap_port: int | None = Field(None, ge=1, le=65535)
    imap_ssl: bool | None = None
    smtp_host: Text | None = Field(None, max_length=255)
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_security: SmtpSecurity | None = None
    username: Text | None = Field(None, max_length=254)
    password: Text | None = Field(None, max_length=1000)
    sync_enabled: bool | None = None


class MessageOut(Schema):
    id: int
    mailbox_id: int
    thread_id: int | None
    company_id: int | None
    contact_id: int | None
    direction: str
    status: str
    message_id: str
    in_reply_to: str
    from_addr: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    sent_at: dt.datetime | None
    scheduled_for: dt.datetime | None
    private: bool
    tracking: bool
    clicked_at: dt.datetime | None
    click_count: int
    replied_at: dt.datetime | None
    opened_at_unreliable: dt.datetime | None = Field(description="Pixel loads: a hint only, never used for scoring.")
    open_count_unreliable: int
    error: str


class MessageDetail(MessageOut):
    body_text: str
    body_html: str = Field(description="Sanitized (nh3).")
    attachments: list[dict]
    problems: list[str]


class MessageList(Schema):
    items: list[MessageOut]


class MessageQuery(Schema):
    company: Id = Field(description="The customer whose mail to list.")
    limit: int = Field(50, ge=1, le=200)


class SendIn(Schema):
    mailbox: Id
    contact: Id
    subject: Text = Field("", max_length=255)
    body: Text = Field("", max_length=100_000)
    template: Id | None = None
    tracking: bool = True
    send_at: dt.datetime | None = Field(None, description="Later; empty: now.")
    customer_morning: bool = Field(False, description="Send at 09:00 on the customer's next working day.")
    quotation: Id | None = None
    proforma: Id | None = None


class TemplateOut(Schema):
    id: int
    name: str
    language: str
    subject: str
    body: str
    shared: bool
    owner_id: int
    version: int


class TemplateIn(Schema):
    name: Text = Field(max_length=120)
    language: TemplateLanguage
    subject: Text = Field(max_length=255)
    body: Text = Field(max_length=100_000)
    shared: bool = False


class TemplatePatch(Schema):
    version: Version
    name: Text | None = Field(None, max_length=120)
    language: TemplateLanguage | None = None
    subject: Text | None = Field(None, max_length=255)
    body: Text | None = Field(None, max_length=100_000)
    shared: bool | None = None


def mailbox_out(b: Mailbox) -> dict:
    return {f: getattr(b, f) for f in ("id", "email", "display_name", "imap_host", "imap_port", "imap_ssl",
                                       "smtp_host", "smtp_port", "smtp_security", "username", "sync_enabled",
                                       "status", "status_message", "status_at", "last_sync_at", "version")}  # fmt: skip


def message_out(m: MailMessage, user=None) -> dict:
    out = {
        "id": m.id, "mailbox_id": m.mailbox_id, "thread_id": m.thread_id, "company_id": m.company_id,
        "contact_id": m.contact_id, "direction": m.direction, "status": m.status, "message_id": m.message_id,
        "in_reply_to": m.in_reply_to, "from_addr": m.from_addr, "from_name": m.from_name, "to": m.to_addrs,
        "cc": m.cc_addrs, "subject": m.subject, "sent_at": m.sent_at, "scheduled_for": m.scheduled_for,
        "private": bool(m.thread_id and m.thread.private), "tracking": m.tracking, "clicked_at": m.clicked_at,
        "click_count": m.click_count, "replied_at": m.replied_at, "opened_at_unreliable": m.opened_at,
        "open_count_unreliable": m.open_count, "error": m.error,
    }  # fmt: skip
    # contact masking (permissions): addresses as the caller's role may see them
    if user is not None and not can_reveal(user):
        out["from_addr"] = mask_email(out["from_addr"])
        out["to"] = [mask_email(a) for a in out["to"] or []]
        out["cc"] = [mask_email(a) for a in out["cc"] or []]
    return out


def template_out(t: MailTemplate) -> dict:
    return {f: getattr(t, f) for f in ("id", "name", "language", "subject", "body", "shared", "owner_id", "version")}


# --- mailboxes -------------------------------------------------------------------------------------


@mailboxes.get("", response={200: list[MailboxOut], **LIST}, summary="Your mailboxes")
def mailbox_list(request: HttpRequest):
    return json_response([mailbox_out(b) for b in selectors.mailboxes_for_user(request.auth)])


@mailboxes.post("", response={201: MailboxOut, **WRITE}, summary="Connect a mailbox")
def mailbox_create(request: HttpRequest, payload: MailboxIn):
    """The first sync starts in the background."""
    box = services.mailbox_create(actor=request.auth, data=payload.dict())
    return json_response(mailbox_out(box), status=201)


@mailboxes.get("/{int:mailbox_id}", response={200: MailboxOut, **READ}, summary="A mailbox")
def mailbox_get(request: HttpRequest, mailbox_id: Id):
    return json_response(mailbox_out(selectors.mailbox_get_for_user(request.auth, mailbox_id)))


@mailboxes.patch("/{int:mailbox_id}", response={200: MailboxOut, **PATCH}, summary="Change a mailbox")
def mailbox_update(request: HttpRequest, mailbox_id: Id, payload: MailboxPatch):
    """New credentials lift a sync paused by a refused sign-in."""
    box = selectors.mailbox_get_for_user(request.auth, mailbox_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if k != "version" and v is not None}
    box = services.mailbox_update(actor=request.auth, mailbox=box, version=payload.version, data=data)
    return json_response(mailbox_out(box))


@mailboxes.delete("/{int:mailbox_id}", response={204: None, **DELETE}, summary="Remove a mailbox")
def mailbox_delete(request: HttpRequest, mailbox_id: Id):
    box = selectors.mailbox_get_for_user(request.auth, mailbox_id)
    services.mailbox_delete(actor=request.auth, mailbox=box)
    return HttpResponse(status=204)


@mailboxes.post("/{int:mailbox_id}/sync", response={202: MailboxOut, **WRITE}, summary="Sync a mailbox now")
def mailbox_sync(request: HttpRequest, mailbox_id: Id):
    box = selectors.mailbox_get_for_user(request.auth, mailbox_id)
    services.mailbox_sync_now(actor=request.auth, mailbox=box)
    box.refresh_from_db()
    return json_response(mailbox_out(box), status=202)


# --- messages ---------------------------------------------------------------------------------------


@messages.get("", response={200: MessageList, **LIST}, summary="A customer's mail")
def message_list(request: HttpRequest, query: Query[MessageQuery]):
    company = company_get_for_user(request.auth, query.company)
    rows = selectors.company_messages(request.auth, company, limit=query.limit)
    return json_response({"items": [message_out(m, request.auth) for m in rows]})


@messages.get("/{int:message_id}", response={200: MessageDetail, **READ}, summary="One message")
def message_get(request: HttpRequest, message_id: Id):
    m = selectors.message_get_for_user(request.auth, message_id)
    out = message_out(m, request.auth)
    out.update(body_text=m.body_text, body_html=m.body_html, problems=m.problems,
               attachments=[{"id": a.id, "name": a.name, "size": a.size, "content_type": a.content_type}
                            for a in m.attachments.all()])  # fmt: skip
    return json_response(out)


@messages.post("", response={201: MessageOut, **WRITE}, summary="Send a message to a contact")
def message_send(request: HttpRequest, payload: SendIn):
    """Rendered now (merge fields), sent in the background — or at `send_at` / the customer's
    next morning. The timeline entry is written when it has gone out."""
    user = request.auth
    try:
        box = selectors.mailbox_get_for_user(user, payload.mailbox)
    except Http404:
        raise ValidationError({"mailbox": [_t("You have no mailbox with this id.")]}) from None
    contact = Contact.objects.filter(pk=payload.contact).select_related("company").first()
    if contact is None:
        raise Http404
    company = company_get_for_user(user, contact.company_id)
    template = None
    if payload.template is not None:
        try:
            template = selectors.template_get_for_user(user, payload.template)
        except Http404:
            raise ValidationError({"template": [_t("No template with this id.")]}) from None
    document = None
    if payload.quotation or payload.proforma:
        from tradecrm.documents.selectors import proforma_get_for_user, quotation_get_for_user

        loader = quotation_get_for_user if payload.quotation else proforma_get_for_user
        field = "quotation" if payload.quotation else "proforma"
        try:
            document = loader(user, payload.quotation or payload.proforma)
        except Http404:
            raise ValidationError({field: [_t("This document is not available.")]}) from None
        if document.company_id != company.pk:
            raise ValidationError({field: [_t("This document belongs to another customer.")]})
    send_at = local_morning(company) if payload.customer_morning else payload.send_at
    with transaction.atomic():
        m = message_queue(actor=user, mailbox=box, company=company, contact=contact,
                          to=[contact.email] if contact.email else [], subject=payload.subject, body=payload.body,
                          template=template, document=document, tracking=payload.tracking, send_at=send_at)  # fmt: skip
    m.refresh_from_db()
    return json_response(message_out(m, user), status=201)


def _t(s: str) -> str:
    from django.utils.translation import gettext

    return gettext(s)


# --- templates ----------------------------------------------------------------------------------------


@mail_templates.get("", response={200: list[TemplateOut], **LIST}, summary="Your and shared templates")
def template_list(request: HttpRequest):
    return json_response([template_out(t) for t in selectors.templates_for_user(request.auth)])


@mail_templates.post("", response={201: TemplateOut, **WRITE}, summary="Create a template")
def template_create(request: HttpRequest, payload: TemplateIn):
    t = services.template_create(actor=request.auth, data=payload.dict())
    return json_response(template_out(t), status=201)


@mail_templates.get("/{int:template_id}", response={200: TemplateOut, **READ}, summary="A template")
def template_get(request: HttpRequest, template_id: Id):
    return json_response(template_out(selectors.template_get_for_user(request.auth, template_id)))


@mail_templates.patch("/{int:template_id}", response={200: TemplateOut, **PATCH},
                      summary="Change a template")
def template_update(request: HttpRequest, template_id: Id, payload: TemplatePatch):
    t = selectors.template_get_for_user(request.auth, template_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if k != "version" and v is not None}
    t = services.template_update(actor=request.auth, template=t, version=payload.version, data=data)
    return json_response(template_out(t))


@mail_templates.delete("/{int:template_id}", response={204: None, **DELETE}, summary="Delete a template")
def template_delete(request: HttpRequest, template_id: Id):
    t = selectors.template_get_for_user(request.auth, template_id)
    services.template_delete(actor=request.auth, template=t)
    return HttpResponse(status=204)
