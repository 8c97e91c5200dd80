"""The JSON shapes of the customer-archive API.

Input schemas check JSON types only (text, number, list) and refuse unknown fields; what a value
means (a known country code, a dialable phone, an allowed owner) is checked by the services, so
the API, the web forms and the importer give the same translated messages.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from tradecrm.core.api import Id, Text, Version, text
from tradecrm.core.geo import LANGUAGE_CODES

from .models import BusinessType, CompanySize, CreditRating, PurchaseBand, Seniority, Source, Status
from .selectors import COMPANY_SORTS

BLANK = [""]
BusinessTypeText = text(enum=BLANK + list(BusinessType.values))
CompanySizeText = text(enum=BLANK + list(CompanySize.values))
PurchaseBandText = text(enum=BLANK + list(PurchaseBand.values))
SourceText = text(enum=BLANK + list(Source.values))
StatusText = text(enum=list(Status.values))
CreditRatingText = text(enum=list(CreditRating.values))
SeniorityText = text(enum=BLANK + list(Seniority.values))
LanguageText = text(enum=BLANK + list(LANGUAGE_CODES), description="Language code.")
CountryText = text(description="ISO 3166-1 alpha-2 country code, e.g. US.")
CurrencyText = text(description="ISO 4217 currency code, e.g. USD.")
TimezoneText = text(description="IANA time zone, e.g. America/Chicago; inferred when left empty.")
DateText = text(fmt="date")
TimeText = text(fmt="time", description="HH:MM")


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


# --- shared pieces ------------------------------------------------------------------------------


class UserRef(Schema):
    id: int
    username: str
    name: str


class TagRef(Schema):
    id: int
    name: str
    color: str


class CompanyRef(Schema):
    id: int
    name: str


# --- companies ----------------------------------------------------------------------------------


class CompanyFields(Input):
    name_local: Text | None = None
    country: CountryText | None = None
    city: Text | None = None
    address: Text | None = None
    website: Text | None = None
    email: Text | None = None
    email_domains: list[Text] | None = None
    phones: list[Text] | None = Field(None, description="Any format; stored in E.164.")
    industry: Text | None = None
    tax_id: Text | None = Field(
        None, description="Tax / VAT number; checked for the country when its format is known."
    )
    business_type: BusinessTypeText | None = None
    company_size: CompanySizeText | None = None
    annual_purchase: PurchaseBandText | None = None
    main_products: Text | None = None
    hs_codes: list[Text] | None = None
    source: SourceText | None = None
    source_detail: Text | None = None
    timezone: TimezoneText | None = None
    office_start: TimeText | None = None
    office_end: TimeText | None = None
    preferred_language: LanguageText | None = None
    currency: CurrencyText | None = None
    credit_rating: CreditRatingText | None = None
    cooperation_since: DateText | None = None
    status: StatusText | None = None
    owner: Id | None = Field(None, description="User id; you by default.")
    followers: list[Id] | None = Field(None, description="User ids.")
    tags: list[Id] | None = Field(None, description="Tag ids.")
    notes: Text | None = None


class CompanyCreate(CompanyFields):
    name: Text


class CompanyPatch(CompanyFields):
    name: Text | None = None
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class CompanyListItem(Schema):
    id: int
    name: str
    name_local: str
    country: str
    city: str
    status: str
    business_type: str
    source: str
    email: str
    phones: list[str]
    owner: UserRef | None
    timezone: str
    tags: list[TagRef]
    last_contact_at: dt.datetime | None = Field(
        description="Last real contact (call, email, chat, meeting…)."
    )
    next_followup_at: dt.datetime | None = Field(description="Due time of the next open follow-up.")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class CompanyPage(Schema):
    items: list[CompanyListItem]
    next_cursor: str | None
    prev_cursor: str | None


class CompanyOut(Schema):
    id: int
    name: str
    name_local: str
    country: str
    city: str
    address: str
    website: str
    email: str
    email_domains: list[str]
    phones: list[str]
    industry: str
    tax_id: str
    business_type: str
    company_size: str
    annual_purchase: str
    main_products: str
    hs_codes: list[str]
    source: str
    source_detail: str
    timezone: str
    office_start: dt.time | None
    office_end: dt.time | None
    preferred_language: str
    currency: str
    credit_rating: str
    cooperation_since: dt.date | None
    status: str
    owner: UserRef | None
    team_id: int | None
    followers: list[UserRef]
    tags: list[TagRef]
    notes: str
    last_contact_at: dt.datetime | None = Field(
        description="Last real contact (call, email, chat, meeting…)."
    )
    next_followup_at: dt.datetime | None = Field(description="Due time of the next open follow-up.")
    reviewed_at: dt.datetime | None = Field(description="When the profile was last marked as reviewed.")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_by: UserRef | None


class DuplicateCandidate(Schema):
    id: int
    name: str
    score: float
    reasons: list[str]
    owner: str | None
    team: str | None
    pool: Literal["owned", "public"]
    visible: bool


class DuplicatesRefused(Schema):
    detail: str
    duplicates: list[DuplicateCandidate]


class CompanyCreated(CompanyOut):
    duplicates: list[DuplicateCandidate] | None = Field(
        None,
        description="Present under the “warn” duplicate policy when existing companies look like this one.",
    )


CompanySort = Literal[tuple(COMPANY_SORTS)]  # type: ignore[valid-type]


class PageQuery(Schema):
    cursor: Text | None = Field(
        None, max_length=1000, description="`next_cursor` or `prev_cursor` of a previous page."
    )
    limit: int = Field(50, ge=1, le=200, description="Rows per page (at most 200).")


class CompanyQuery(Schema):
    q: Text = Field("", max_length=200, description="Free text: name, email, phone, contact names.")
    country: Text = Field("", max_length=2, description="ISO 3166-1 alpha-2 code.")
    owner: Id | None = Field(None, description="Owner's user id.")
    tag: Id | None = Field(None, description="Tag id.")
    source: Literal[tuple(Source.values)] | None = None  # type: ignore[valid-type]
    status: Literal[tuple(Status.values)] | None = None  # type: ignore[valid-type]
    business_type: Literal[tuple(BusinessType.values)] | None = None  # type: ignore[valid-type]
    tier: Text = Field("", max_length=16, description="Grading tier code (the customer's current tier).")
    product: list[Id] = Field(default_factory=list, max_length=50,
                              description="Product ids: customers who bought any of them (orders not cancelled).")
    hs: Text = Field("", max_length=14, description="HS code or its start (digits): the customer's HS codes, "
                     "its order lines or its customs records.")
    contact_after: Text = Field("", max_length=10, description="Last contact on or after (YYYY-MM-DD).")
    contact_before: Text = Field("", max_length=10, description="Last contact before (YYYY-MM-DD), or never.")
    segment: Id | None = Field(None, description="A saved segment: its filters, with the ones given here on top.")
    sort: CompanySort = "-updated_at"


class CompanyListQuery(PageQuery, CompanyQuery):
    pass


# --- contacts -----------------------------------------------------------------------------------


class ContactFields(Input):
    first_name: Text | None = None
    last_name: Text | None = None
    name_local: Text | None = None
    title: Text | None = None
    seniority: SeniorityText | None = None
    emails: list[Text] | None = None
    phones: list[Text] | None = Field(None, description="Any format; stored in E.164.")
    whatsapp: Text | None = None
    wechat: Text | None = None
    linkedin: Text | None = None
    skype: Text | None = None
    birthday: DateText | None = None
    is_primary: bool | None = None
    preferred_language: LanguageText | None = None
    notes: Text | None = None


class ContactCreate(ContactFields):
    company: Id = Field(description="The company's id.")


class ContactCreateForCompany(ContactFields):
    pass


class ContactPatch(ContactFields):
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class ContactOut(Schema):
    id: int
    company: CompanyRef
    first_name: str
    last_name: str
    name_local: str
    title: str
    seniority: str
    emails: list[str]
    phones: list[str]
    whatsapp: str
    wechat: str
    linkedin: str
    skype: str
    birthday: dt.date | None
    is_primary: bool
    preferred_language: str
    notes: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None
    prev_cursor: str | None


class ContactQuery(Schema):
    company: Id | None = Field(None, description="Only this company's contacts.")
    q: Text = Field("", max_length=200, description="Free text: names, emails, phones, WeChat, WhatsApp.")


class ContactListQuery(PageQuery, ContactQuery):
    pass


class CompanyContactsQuery(PageQuery):
    q: Text = Field("", max_length=200, description="Free text: names, emails, phones, WeChat, WhatsApp.")


# --- tags ---------------------------------------------------------------------------------------


class TagListQuery(PageQuery):
    limit: int = Field(200, ge=1, le=200, description="Rows per page (at most 200).")


class TagCreate(Input):
    name: Text
    color: Text | None = Field(None, description="#RRGGBB")
    shared: bool = Field(False, description="Administrators only: a tag for every team.")


class TagPatch(Input):
    name: Text | None = None
    color: Text | None = Field(None, description="#RRGGBB")
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class TagOut(Schema):
    id: int
    name: str
    color: str
    team_id: int | None = Field(description="null: shared by all teams.")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TagPage(Schema):
    items: list[TagOut]
    next_cursor: str | None
    prev_cursor: str | None
