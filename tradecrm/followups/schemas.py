"""The JSON shapes of the follow-up and reminder-rule API.

Input schemas check JSON types only and refuse unknown fields; what a value means (a due time, an
assignee who can see the customer, a contact of that customer) is checked by the services, so the
API and the web forms give the same translated messages.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from tradecrm.core.api import Id, Text, Version, text
from tradecrm.customers.schemas import CompanyRef, PageQuery, UserRef
from tradecrm.interactions.models import Direction, InteractionType

from .models import FollowUpKind, FollowUpStatus, Recurrence, RuleKind
from .selectors import FOLLOWUP_SORTS

DueText = text(
    fmt="date-time",
    description="ISO 8601, e.g. 2026-03-09T09:00. Without an offset it is your own local time "
    "(your profile's time zone); a date alone means the start of your working day.",
)
RecurrenceText = text(
    enum=list(Recurrence.values), description="'' (does not repeat), daily, weekly, monthly, days."
)


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class FollowUpFields(Input):
    notes: Text | None = None
    priority: int | None = Field(None, description="1 low, 2 normal, 3 high, 4 urgent.")
    contact: Id | None = Field(None, description="A contact of the customer.")
    assignee: Id | None = Field(
        None, description="User id; you by default. Must be able to see the customer."
    )
    recurrence: RecurrenceText | None = None
    recurrence_interval: int | None = Field(None, description="Days, for recurrence 'days'.")


class FollowUpCreate(FollowUpFields):
    company: Id = Field(description="The customer's id.")
    title: Text
    due_at: DueText


class FollowUpPatch(FollowUpFields):
    title: Text | None = None
    due_at: DueText | None = None
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class InteractionLog(Input):
    type: text(enum=list(InteractionType.values))  # type: ignore[valid-type]
    direction: text(enum=list(Direction.values)) | None = Field(  # type: ignore[valid-type]
        None, description="'out' (to the customer) by default."
    )
    occurred_at: DueText | None = Field(None, description="When it happened; now by default.")
    subject: Text | None = Field(None, description="The follow-up's title by default.")
    body: Text | None = None
    contact: Id | None = Field(None, description="The follow-up's contact by default.")


class CompleteIn(Input):
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")
    log: InteractionLog | None = Field(
        None, description="Also write this contact to the customer's timeline; it becomes the outcome."
    )


class VersionIn(Input):
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class FollowUpOut(Schema):
    id: int
    company: CompanyRef
    contact_id: int | None
    assignee: UserRef
    title: str
    notes: str
    due_at: dt.datetime
    priority: int
    status: str
    kind: str = Field(description="manual, or what the reminder scan created it for.")
    recurrence: str
    recurrence_interval: int | None
    completed_at: dt.datetime | None
    outcome_id: int | None = Field(description="The interaction logged when it was completed.")
    reminded_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class FollowUpWritten(FollowUpOut):
    warnings: list[str] = Field(description="E.g. a due time in the past (allowed, but overdue at once).")
    next_occurrence_id: int | None = Field(None, description="After completing a repeating follow-up.")


class FollowUpPage(Schema):
    items: list[FollowUpOut]
    next_cursor: str | None
    prev_cursor: str | None


FollowUpSort = Literal[tuple(FOLLOWUP_SORTS)]  # type: ignore[valid-type]


class FollowUpListQuery(PageQuery):
    assignee: Text | None = Field(None, max_length=20, description="'me' or a user id.")
    status: Literal[tuple(FollowUpStatus.values)] | None = None  # type: ignore[valid-type]
    kind: Literal[tuple(FollowUpKind.values)] | None = None  # type: ignore[valid-type]
    due_before: DueText | None = Field(None, description="Due strictly before this moment.")
    due_after: DueText | None = Field(None, description="Due at or after this moment.")
    company_id: Id | None = None
    sort: FollowUpSort = "due_at"


# --- reminder rules -----------------------------------------------------------------------------

RuleKindText = text(enum=list(RuleKind.values))


class RuleFields(Input):
    status: Text | None = Field(None, description="Lifecycle status the rule applies to; '' for any.")
    tier: Text | None = Field(None, description="Customer tier (applied once grading exists); '' for any.")
    days: int | None = Field(None, description="Period in days (cadence, review, quotation, reorder).")
    hours: int | None = Field(None, description="Hours without an answer (unanswered inquiries).")
    priority: int | None = Field(None, description="1 low, 2 normal, 3 high, 4 urgent.")
    active: bool | None = None


class RuleCreate(RuleFields):
    name: Text
    kind: RuleKindText  # type: ignore[valid-type]


class RulePatch(RuleFields):
    name: Text | None = None
    kind: RuleKindText | None = None  # type: ignore[valid-type]
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class RuleOut(Schema):
    id: int
    name: str
    kind: str
    status: str
    tier: str
    days: int | None
    hours: int | None
    priority: int
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class RulePage(Schema):
    items: list[RuleOut]
    next_cursor: str | None
    prev_cursor: str | None
