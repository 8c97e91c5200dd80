"""The JSON shapes of the sales API (inquiries, opportunities, pipelines, samples).

Input schemas check JSON types only and refuse unknown fields; what a value means (a customer you
can see, a stage of the same pipeline, a quantity above zero) is checked by the services, so the API
and the web forms give the same translated messages. Money and quantities are decimals: send them
as JSON numbers or strings; they come back as strings ("1250.00"), never as floats.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from tradecrm.core.api import Id, Text, Version, text
from tradecrm.customers.schemas import CompanyRef, PageQuery, UserRef

from .models import (
    Courier,
    InquiryChannel,
    InquiryStatus,
    OpportunityStatus,
    SamplePaidBy,
    SampleStatus,
    StageKind,
)
from .selectors import OPPORTUNITY_SORTS

WhenText = text(fmt="date-time", description="ISO 8601. Without an offset it is read in your time zone.")
DateText = text(fmt="date", description="YYYY-MM-DD.")
VersionField = Field(None, description="The version you last read; or send If-Match.")


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class VersionIn(Input):
    version: Version | None = VersionField


# --- inquiries ----------------------------------------------------------------------------------


class InquiryItemIn(Input):
    product: Id | None = Field(None, description="A catalogue product's id.")
    description: Text | None = Field(None, description="Free text; the product's English name by default.")
    quantity: Decimal | None = Field(None, description="Greater than zero.")
    unit: Text | None = Field(None, description="pcs, set, carton, kg, … (the product's unit by default).")
    target_price: Decimal | None = Field(
        None, description="The buyer's target unit price, in the inquiry's currency."
    )


class InquiryFields(Input):
    channel_detail: Text | None = None
    received_at: WhenText | None = Field(None, description="Now by default.")  # type: ignore[valid-type]
    company: Id | None = Field(None, description="A customer you can see (or null: not linked yet).")
    contact: Id | None = Field(None, description="A contact of that customer.")
    buyer_name: Text | None = None
    buyer_company: Text | None = None
    buyer_email: Text | None = None
    buyer_phone: Text | None = None
    buyer_country: Text | None = Field(None, description="ISO 3166 alpha-2.")
    subject: Text | None = None
    message: Text | None = None
    destination_country: Text | None = Field(None, description="ISO 3166 alpha-2.")
    destination_port: Text | None = None
    target_currency: Text | None = Field(None, description="ISO 4217.")
    incoterm: Text | None = Field(
        None, description="Incoterms 2020 code: EXW, FCA, FAS, FOB, CFR, CIF, CPT, CIP, DAP, DPU, DDP."
    )
    owner: Id | None = Field(None, description="User id; you by default.")
    items: list[InquiryItemIn] | None = Field(
        None, description="The whole list of lines (replaces them on PATCH)."
    )


class InquiryCreate(InquiryFields):
    channel: text(enum=list(InquiryChannel.values))  # type: ignore[valid-type]
    external_id: Text | None = Field(
        None, max_length=128, description="The platform's id (RFQ number…): imported once."
    )


class InquiryPatch(InquiryFields):
    channel: text(enum=list(InquiryChannel.values)) | None = None  # type: ignore[valid-type]
    status: text(enum=[s for s in InquiryStatus.values if s != "converted"]) | None = None  # type: ignore[valid-type]
    version: Version | None = VersionField


class InquiryItemOut(Schema):
    id: int
    position: int
    product_id: int | None
    description: str
    quantity: Decimal | None
    unit: str
    target_price: Decimal | None


class InquiryOut(Schema):
    id: int
    channel: str
    channel_detail: str
    received_at: dt.datetime
    company: CompanyRef | None
    contact_id: int | None
    buyer_name: str
    buyer_company: str
    buyer_email: str
    buyer_phone: str
    buyer_country: str
    subject: str
    message: str | None = Field(None, description="In single reads only.")
    destination_country: str
    destination_port: str
    target_currency: str
    incoterm: str
    status: str
    owner: UserRef | None
    replied_at: dt.datetime | None
    opportunity_id: int | None
    items: list[InquiryItemOut] | None = Field(None, description="In single reads only.")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class InquiryPage(Schema):
    items: list[InquiryOut]
    next_cursor: str | None
    prev_cursor: str | None


class InquiryListQuery(PageQuery):
    status: Literal[tuple(InquiryStatus.values)] | None = None  # type: ignore[valid-type]
    channel: Literal[tuple(InquiryChannel.values)] | None = None  # type: ignore[valid-type]
    owner: Text | None = Field(None, max_length=20, description="'me' or a user id.")
    unlinked: bool = Field(False, description="Only inquiries not linked to a customer yet.")
    company_id: Id | None = None


class NewCompanyIn(Input):
    name: Text | None = Field(None, description="The buyer's company (or name) by default.")
    country: Text | None = None
    email: Text | None = None
    website: Text | None = None
    phones: list[Text] | None = None
    currency: Text | None = None
    owner: Id | None = None


class NewContactIn(Input):
    first_name: Text | None = None
    last_name: Text | None = None
    emails: list[Text] | None = None
    phones: list[Text] | None = None
    title: Text | None = None


class ConvertOpportunityIn(Input):
    name: Text | None = Field(None, description="The inquiry's subject or products by default.")
    amount: Decimal | None = Field(None, description="Σ quantity × target price by default.")
    currency: Text | None = Field(None, description="The inquiry's currency by default.")
    probability: int | None = None
    expected_close_date: DateText | None = None  # type: ignore[valid-type]
    owner: Id | None = None
    description: Text | None = None


class ConvertIn(Input):
    company: Id | None = Field(None, description="Link to this customer (one you can see).")
    new_company: NewCompanyIn | None = Field(
        None,
        description="Create a customer from these fields over the buyer's details (the default without `company`).",
    )
    contact: NewContactIn | None = Field(
        None, description="The new contact; the buyer's name, email and phone by default."
    )
    add_contact: bool = Field(
        True, description="Add the buyer as a contact (an existing one with the same email is reused)."
    )
    pipeline: Id | None = Field(None, description="The default pipeline by default.")
    opportunity: ConvertOpportunityIn | None = None
    version: Version | None = VersionField


class ReplyLogIn(Input):
    type: Text | None = Field(None, description="email by default.")
    subject: Text | None = None
    body: Text | None = None
    occurred_at: WhenText | None = None  # type: ignore[valid-type]


class ReplyIn(Input):
    version: Version | None = VersionField
    log: ReplyLogIn | None = Field(None, description="Also write the answer to the customer's timeline.")


# --- pipelines ----------------------------------------------------------------------------------


class StageOut(Schema):
    id: int
    name: str = Field(description="As stored (English for the seeded stages).")
    label: str = Field(description="As shown in your language.")
    key: str
    position: int
    probability: int
    kind: str
    stale_days: int | None


class PipelineOut(Schema):
    id: int
    name: str
    label: str
    is_default: bool
    active: bool
    position: int
    stages: list[StageOut]
    version: int


class PipelinePage(Schema):
    items: list[PipelineOut]
    next_cursor: str | None
    prev_cursor: str | None


class PipelineCreate(Input):
    name: Text
    is_default: bool | None = None
    active: bool | None = None
    copy_stages_from: Id | None = Field(None, description="Start with a copy of this pipeline's stages.")


class PipelinePatch(Input):
    name: Text | None = None
    is_default: bool | None = None
    active: bool | None = None
    version: Version | None = VersionField


class StageIn(Input):
    name: Text | None = None
    probability: int | None = Field(None, description="0–100.")
    kind: text(enum=list(StageKind.values)) | None = None  # type: ignore[valid-type]
    stale_days: int | None = Field(None, description="Warn after this many days in the stage; null: never.")


class StageOrderIn(Input):
    stages: list[Id] = Field(description="Every stage id of the pipeline, in the new order.")


class LossReasonOut(Schema):
    id: int
    name: str
    label: str
    key: str
    active: bool


class LossReasonList(Schema):
    items: list[LossReasonOut]


# --- opportunities ------------------------------------------------------------------------------


class StageRef(Schema):
    id: int
    name: str
    label: str
    kind: str
    probability: int


class OpportunityFields(Input):
    name: Text | None = None
    contact: Id | None = None
    amount: Decimal | None = Field(None, description="Expected value, not negative.")
    currency: Text | None = Field(None, description="ISO 4217.")
    probability: int | None = Field(None, description="0–100; null: the stage's.")
    expected_close_date: DateText | None = None  # type: ignore[valid-type]
    owner: Id | None = None
    description: Text | None = None


class OpportunityCreate(OpportunityFields):
    company: Id = Field(description="A customer you can see.")
    name: Text
    currency: Text
    pipeline: Id | None = Field(None, description="The default pipeline by default.")
    stage: Id | None = Field(None, description="An open stage of the pipeline; its first by default.")


class OpportunityPatch(OpportunityFields):
    company: Id | None = None
    version: Version | None = VersionField


class MoveIn(Input):
    stage: Id = Field(description="A stage of the same pipeline.")
    position: float | None = Field(None, description="The card's position in its column (top by default).")
    before: Id | None = Field(None, description="Or: the id of the card it goes below.")
    after: Id | None = Field(None, description="Or: the id of the card it goes above.")
    loss_reason: Id | None = Field(None, description="Required for a lost stage.")
    loss_note: Text | None = None
    version: Version | None = VersionField


class StageStay(Schema):
    stage: StageRef | None
    entered_at: dt.datetime
    left_at: dt.datetime | None
    seconds: int


class OpportunityOut(Schema):
    id: int
    name: str
    company: CompanyRef
    contact_id: int | None
    pipeline_id: int
    stage: StageRef
    status: str
    amount: Decimal
    currency: str
    probability: int | None
    expected_close_date: dt.date | None
    owner: UserRef | None
    loss_reason_id: int | None
    loss_note: str
    closed_at: dt.datetime | None
    stage_entered_at: dt.datetime
    position: float
    description: str
    stage_history: list[StageStay] | None = Field(None, description="In single reads only.")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    next_cursor: str | None
    prev_cursor: str | None


OpportunitySort = Literal[tuple(OPPORTUNITY_SORTS)]  # type: ignore[valid-type]


class OpportunityListQuery(PageQuery):
    pipeline: Id | None = None
    stage: Id | None = None
    owner: Text | None = Field(None, max_length=20, description="'me' or a user id.")
    status: Literal[tuple(OpportunityStatus.values)] | None = None  # type: ignore[valid-type]
    close_month: Text | None = Field(None, max_length=7, description="YYYY-MM: expected to close that month.")
    company_id: Id | None = None
    sort: OpportunitySort = "-updated_at"


class ConvertOut(Schema):
    inquiry: InquiryOut
    opportunity: OpportunityOut


class MoneyOut(Schema):
    amount: Decimal = Field(description="In `currency` (the base currency).")
    currency: str
    unconverted: dict[str, Decimal] = Field(
        description="Totals of currencies without an exchange rate, per currency."
    )


class Card(Schema):
    id: int
    name: str
    company: CompanyRef
    amount: Decimal
    currency: str
    owner: UserRef | None
    days_in_stage: int
    stale: bool
    expected_close_date: dt.date | None
    position: float
    version: int


class BoardColumn(Schema):
    stage: StageOut
    count: int
    total: MoneyOut
    cards: list[Card]
    next_cursor: str | None = Field(
        description="GET /opportunities/board/columns/{stage_id}?cursor=… for more."
    )


class BoardOut(Schema):
    pipeline: PipelineOut
    closed_days: int = Field(description="Won/lost columns hold the deals closed in these last days.")
    columns: list[BoardColumn]


class BoardQuery(Schema):
    pipeline: Id | None = Field(None, description="The default pipeline by default.")
    owner: Text | None = Field(None, max_length=20, description="'me' or a user id.")
    limit: int = Field(20, ge=1, le=100, description="Cards per column.")


class ColumnQuery(Schema):
    cursor: Text | None = Field(None, max_length=200)
    owner: Text | None = Field(None, max_length=20)
    limit: int = Field(20, ge=1, le=100)


class ColumnPage(Schema):
    cards: list[Card]
    next_cursor: str | None


class ForecastMonth(Schema):
    month: dt.date | None = Field(description="First day of the month; null: no expected close date.")
    count: int
    amount: MoneyOut
    weighted: MoneyOut


class ForecastOut(Schema):
    base_currency: str
    months: list[ForecastMonth]
    total_amount: MoneyOut
    total_weighted: MoneyOut


class ForecastQuery(Schema):
    pipeline: Id | None = None
    owner: Text | None = Field(None, max_length=20, description="'me' or a user id.")


# --- samples ------------------------------------------------------------------------------------


class SampleItemIn(Input):
    product: Id | None = None
    description: Text | None = None
    quantity: Decimal | None = Field(None, description="Greater than zero.")
    unit: Text | None = None


class SampleFields(Input):
    contact: Id | None = None
    opportunity: Id | None = Field(None, description="An opportunity of the same customer.")
    requested_on: DateText | None = None  # type: ignore[valid-type]
    ship_to: Text | None = None
    owner: Id | None = None
    notes: Text | None = None
    items: list[SampleItemIn] | None = None


class SampleCreate(SampleFields):
    company: Id
    items: list[SampleItemIn]


class SamplePatch(SampleFields):
    courier: text(enum=list(Courier.values)) | None = None  # type: ignore[valid-type]
    tracking_number: Text | None = None
    cost: Decimal | None = None
    cost_currency: Text | None = None
    paid_by: text(enum=list(SamplePaidBy.values)) | None = None  # type: ignore[valid-type]
    courier_account: Text | None = None
    version: Version | None = VersionField


class SentIn(Input):
    courier: text(enum=list(Courier.values))  # type: ignore[valid-type]
    tracking_number: Text | None = None
    sent_on: DateText | None = None  # type: ignore[valid-type]
    cost: Decimal | None = None
    cost_currency: Text | None = None
    paid_by: text(enum=list(SamplePaidBy.values)) | None = None  # type: ignore[valid-type]
    courier_account: Text | None = None
    version: Version | None = VersionField


class ReceivedIn(Input):
    received_on: DateText | None = None  # type: ignore[valid-type]
    version: Version | None = VersionField


class FeedbackIn(Input):
    feedback: Text | None = None
    feedback_rating: int | None = Field(None, description="1–5.")
    version: Version | None = VersionField


class SampleItemOut(Schema):
    id: int
    product_id: int | None
    description: str
    quantity: Decimal
    unit: str


class SampleOut(Schema):
    id: int
    company: CompanyRef
    contact_id: int | None
    opportunity_id: int | None
    status: str
    requested_on: dt.date
    ship_to: str
    courier: str
    tracking_number: str
    cost: Decimal | None
    cost_currency: str
    paid_by: str
    courier_account: str
    sent_on: dt.date | None
    received_on: dt.date | None
    feedback: str
    feedback_rating: int | None
    owner: UserRef | None
    interaction_id: int | None = Field(description="The 'sample sent' entry on the customer's timeline.")
    notes: str
    items: list[SampleItemOut] | None = Field(None, description="In single reads only.")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class SamplePage(Schema):
    items: list[SampleOut]
    next_cursor: str | None
    prev_cursor: str | None


class SampleListQuery(PageQuery):
    status: Literal[tuple(SampleStatus.values)] | None = None  # type: ignore[valid-type]
    owner: Text | None = Field(None, max_length=20, description="'me' or a user id.")
    company_id: Id | None = None
