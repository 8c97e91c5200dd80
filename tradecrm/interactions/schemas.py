"""The JSON shapes of the timeline API.

Input schemas check JSON types only and refuse unknown fields; what a value means (a type in the
list, a contact of this customer, an active colleague) is checked by the services, so the API and
the web forms give the same translated messages.
"""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict, Field

from tradecrm.core.api import Id, Text, Version, text
from tradecrm.customers.schemas import CompanyRef, PageQuery, UserRef

from .models import Direction, InteractionType

TypeText = text(enum=list(InteractionType.values))
DirectionText = text(
    enum=list(Direction.values), description="in: from the customer; out: to them; empty: internal."
)
WhenText = text(
    fmt="date-time",
    description="ISO 8601. Without an offset it is read in your time zone (your profile's).",
)
BodyFormat = text(
    enum=["text", "html"], description="text (default): escaped, line breaks kept; html: sanitized."
)


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class InteractionFields(Input):
    direction: DirectionText | None = None
    subject: Text | None = Field(None, description="At most 255 characters.")
    body: Text | None = None
    body_format: BodyFormat | None = None
    duration_minutes: int | None = Field(None, ge=0, le=7 * 24 * 60)
    contact: Id | None = Field(None, description="Contact id (of the same company).")
    contacts: list[Id] | None = Field(None, description="Other contacts present (ids, same company).")
    participants: list[Id] | None = Field(None, description="Colleagues present (user ids).")


class InteractionCreate(InteractionFields):
    company: Id = Field(description="The company's id.")
    type: TypeText
    occurred_at: WhenText


class InteractionPatch(InteractionFields):
    type: TypeText | None = None
    occurred_at: WhenText | None = None
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class ContactRef(Schema):
    id: int
    name: str


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str = Field(description="Sniffed from the bytes.")
    size: int
    url: str


class InteractionOut(Schema):
    id: int
    company: CompanyRef
    type: str
    direction: str
    occurred_at: dt.datetime
    duration_minutes: int | None
    subject: str
    body: str = Field(description="Safe HTML.")
    source: str
    contact: ContactRef | None
    contacts: list[ContactRef]
    participants: list[UserRef]
    owner: UserRef | None
    attachments: list[AttachmentOut]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class InteractionPage(Schema):
    items: list[InteractionOut]
    next_cursor: str | None
    prev_cursor: str | None


class InteractionListQuery(PageQuery):
    company_id: Id | None = Field(None, description="One company's timeline.")
    contact_id: Id | None = Field(None, description="One contact's timeline (with company_id: within it).")
    q: Text = Field("", max_length=200, description="Free text over subjects, contents and contact names.")
    types: list[TypeText] | None = Field(None, description="Only these types.")
    limit: int = Field(30, ge=1, le=200, description="Rows per page (at most 200).")


class RevisionOut(Schema):
    version: int = Field(description="The version this state had.")
    data: dict = Field(description="The state before the edit: type, direction, occurred_at, subject, body…")
    edited_by: UserRef | None
    edited_at: dt.datetime


class RevisionList(Schema):
    items: list[RevisionOut]
