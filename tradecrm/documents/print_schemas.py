"""The JSON shapes of the printed side's API: seller profiles with their bank accounts, document
templates, and the query of the PDF downloads.

Input schemas check JSON types only and refuse unknown fields; what a value means (a SWIFT/BIC
code, an IBAN's check digits, a currency, a template that compiles and prints the sample) is
checked by print_services, so the API and the pages give the same translated messages.
"""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict, Field

from tradecrm.core.api import Text, Version, text

from .models import DocumentLanguage

LanguageText = text(enum=list(DocumentLanguage.values), description="en, zh-hans or bilingual.")
KindText = text(enum=["quotation", "proforma"])


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class PdfQuery(Schema):
    language: Text | None = Field(
        None, description="en, zh-hans or bilingual; the document's own language when left out."
    )


# --- seller profiles and bank accounts ----------------------------------------------------------


class SellerFields(Input):
    name_zh: Text | None = None
    address_en: Text | None = None
    address_zh: Text | None = None
    phone: Text | None = None
    email: Text | None = None
    website: Text | None = None
    tax_id: Text | None = None
    is_default: bool | None = Field(
        None, description="Make this the default seller (the one before stops being it)."
    )


class SellerCreate(SellerFields):
    name_en: Text


class SellerPatch(SellerFields):
    name_en: Text | None = None
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class BankAccountFields(Input):
    label: Text | None = None
    beneficiary_address: Text | None = None
    bank_address: Text | None = None
    iban: Text | None = Field(None, description="Optional; its check digits are verified.")
    intermediary_bank: Text | None = None
    is_default: bool | None = Field(None, description="The default account of the seller for its currency.")
    active: bool | None = Field(
        None, description="Switched-off accounts are not used on new proforma invoices."
    )


class BankAccountCreate(BankAccountFields):
    currency: text(description="ISO 4217, e.g. USD.")  # type: ignore[valid-type]
    beneficiary: Text
    bank_name: Text
    swift: text(description="SWIFT/BIC: 8 or 11 characters.")  # type: ignore[valid-type]
    account_number: Text


class BankAccountPatch(BankAccountFields):
    currency: Text | None = None
    beneficiary: Text | None = None
    bank_name: Text | None = None
    swift: Text | None = None
    account_number: Text | None = None
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class BankAccountOut(Schema):
    id: int
    seller_id: int
    label: str
    currency: str
    beneficiary: str
    beneficiary_address: str
    bank_name: str
    bank_address: str
    swift: str
    account_number: str
    iban: str
    intermediary_bank: str
    is_default: bool
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class BankAccountPage(Schema):
    items: list[BankAccountOut]
    next_cursor: str | None
    prev_cursor: str | None


class SellerOut(Schema):
    id: int
    name_en: str
    name_zh: str
    address_en: str
    address_zh: str
    phone: str
    email: str
    website: str
    tax_id: str
    logo_url: str | None = Field(description="The logo image (GET), or null without one.")
    is_default: bool
    bank_accounts: list[BankAccountOut]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class SellerPage(Schema):
    items: list[SellerOut]
    next_cursor: str | None
    prev_cursor: str | None


# --- document templates -------------------------------------------------------------------------


class TemplateCreate(Input):
    kind: KindText  # type: ignore[valid-type]
    language: LanguageText  # type: ignore[valid-type]
    name: Text
    source: Text = Field(description="Django template language; checked like on the page (422 on `source`).")
    active: bool | None = Field(None, description="Put it in use for its kind and language.")


class TemplatePatch(Input):
    kind: KindText | None = None  # type: ignore[valid-type]
    language: LanguageText | None = None  # type: ignore[valid-type]
    name: Text | None = None
    source: Text | None = None
    active: bool | None = None
    version: Version | None = Field(None, description="The version you last read; or send If-Match.")


class TemplateRow(Schema):
    id: int
    kind: str
    language: str
    name: str
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TemplateOut(TemplateRow):
    source: str


class TemplatePage(Schema):
    items: list[TemplateRow]
    next_cursor: str | None
    prev_cursor: str | None


class BuiltinTemplateOut(Schema):
    kind: str
    template_name: str
    source: str


class PreviewQuery(Schema):
    language: Text | None = Field(
        None, description="en, zh-hans or bilingual; the template's own when left out."
    )
