"""Where an import file comes from, and what that tells us: the header names its exports use
(beyond the generic English and Chinese ones in mapping.py), the values to give every company it
creates, and the order of day and month in its dates.

Alias keys are a target field ("name") for every entity that has it, or "entity.field"
("contacts.company_name") for one entity; the key "" lists headers never to map automatically
(Outlook's "Title" is Mr/Ms, not the job title).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ENTITIES = ("companies", "contacts", "products", "customs")


@dataclass(frozen=True)
class Source:
    key: str
    label: Promise
    entities: tuple[str, ...]
    description: Promise
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)  # applied to every company created
    day_first: bool | None = None  # None: decide from the column's values


_CRM_CONTACT = {
    "contacts.first_name": ("First Name", "FirstName", "Given Name"),
    "contacts.last_name": ("Last Name", "LastName", "Surname", "Family Name"),
    "contacts.title": ("Title", "Job Title"),
    "contacts.emails": ("Email", "Secondary Email", "Other Email", "Work Email"),
    "contacts.phones": ("Phone", "Mobile", "MobilePhone", "Mobile Phone", "Home Phone", "Other Phone",
                        "Work Phone", "Phone Number", "Mobile Phone Number", "Fax"),
    "contacts.company_name": ("Account Name", "Account", "Company", "Company Name", "Associated Company",
                              "Associated Company Name"),
    "contacts.company_country": ("Mailing Country", "MailingCountry", "Country", "Country/Region"),
    "contacts.company_website": ("Website", "Company Domain Name", "Company Website"),
    "contacts.birthday": ("Birthdate", "Date of Birth", "Birthday"),
    "contacts.notes": ("Description",),
    "contacts.skype": ("Skype ID", "Skype"),
    "contacts.linkedin": ("LinkedIn", "LinkedIn URL", "LinkedIn Bio"),
}  # fmt: skip

_CRM_COMPANY = {
    "companies.name": ("Account Name", "Company name", "Company", "Name"),
    "companies.owner": ("Account Owner", "Company owner", "Owner", "OwnerId"),
    "companies.address": ("Billing Street", "BillingStreet", "Street Address", "Street", "Address"),
    "companies.city": ("Billing City", "BillingCity", "City"),
    "companies.country": ("Billing Country", "BillingCountry", "Country/Region", "Country"),
    "companies.phones": ("Phone", "Phone Number", "Fax"),
    "companies.website": ("Website", "Company Domain Name", "Web Site"),
    "companies.industry": ("Industry",),
    "companies.notes": ("Description", "About Us"),
    "companies.tax_id": ("VAT Number", "Tax ID"),
    # Another CRM's record id is not ours: never map it to "id".
    "": ("Account ID", "Record ID", "Id", "ID", "Contact ID", "Company ID", "AccountId", "Parent Account ID"),
}  # fmt: skip

SOURCES: dict[str, Source] = {
    s.key: s
    for s in (
        Source(
            "generic",
            _("Any spreadsheet"),
            ENTITIES,
            _("Columns are matched by their names, in English or Chinese."),
        ),
        Source(
            "trade_show",
            _("Trade-show lead list"),
            ("companies", "contacts"),
            _("Visitors and business cards collected at a fair (Canton Fair, Messe…): one person per row."),
            aliases={
                "companies.name": (
                    "Visitor Company",
                    "Company/Organization",
                    "Organisation",
                    "单位名称",
                    "参观单位",
                    "公司/单位",
                ),
                "companies.contact_name": ("Visitor", "Visitor Name", "Name", "姓名", "参观者", "访客姓名"),
                "companies.contact_email": ("Email", "E-mail", "邮箱", "电子邮箱", "Email Address"),
                "companies.contact_mobile": ("Mobile", "Cell", "手机", "WhatsApp/Mobile"),
                "companies.main_products": (
                    "Interested Products",
                    "Products of Interest",
                    "Interest",
                    "Product Interest",
                    "意向产品",
                    "感兴趣的产品",
                    "采购意向",
                ),
                "companies.notes": ("Remarks", "Comments", "Booth Notes", "洽谈记录", "洽谈内容"),
                "companies.source_detail": ("Show", "Exhibition", "Event", "Fair", "展会", "展会名称"),
                "contacts.company_name": ("Visitor Company", "Organisation", "单位名称", "参观单位"),
                "contacts.name": ("Visitor", "Visitor Name", "参观者"),
                "contacts.notes": ("Remarks", "Comments", "Interested Products", "洽谈记录"),
            },  # fmt: skip
            defaults={"source": "trade_show"},
        ),
        Source(
            "customs",
            _("Customs records"),
            ("customs",),
            _(
                "Shipment records bought from a customs-data vendor: importer/consignee, exporter/shipper, "
                "HS code, product, quantity, weight, value, date, ports, B/L number."
            ),
            aliases={
                "customs.importer_name": (
                    "Consignee (Original Format)",
                    "Consignee Name",
                    "Importer Name",
                    "Buyer",
                    "US Importer",
                    "Importer (Original Format)",
                ),
                "customs.exporter_name": (
                    "Shipper (Original Format)",
                    "Shipper Name",
                    "Exporter Name",
                    "Foreign Shipper",
                    "Supplier",
                ),
                "customs.importer_address": ("Consignee Full Address", "Consignee Address"),
                "customs.date": ("Arrival Date", "Actual Arrival Date", "Shipment Date", "Date of Arrival"),
                "customs.port_of_loading": ("Foreign Port", "Foreign Port of Lading", "Place of Receipt"),
                "customs.port_of_discharge": ("US Port", "Port of Unlading", "Port of Entry"),
                "customs.bl_number": (
                    "Master Bill of Lading Number",
                    "House Bill of Lading Number",
                    "Bill of Lading Number",
                ),
            },  # fmt: skip
            defaults={"source": "customs"},
        ),
        Source(
            "b2b",
            _("B2B platform inquiries"),
            ("companies", "contacts"),
            _("Inquiry or customer exports from Alibaba.com, Made-in-China.com or Global Sources."),
            aliases={
                "companies.contact_name": (
                    "Buyer Name",
                    "Sender",
                    "Sender Name",
                    "Contact Name",
                    "Buyer",
                    "买家姓名",
                    "联系人",
                    "询盘人",
                ),
                "companies.name": ("Buyer Company", "Sender Company", "Company Name", "买家公司", "公司名称"),
                "companies.country": ("Buyer Country", "Sender Country", "Country/Region", "国家/地区"),
                "companies.contact_email": ("Buyer Email", "Sender Email", "Email", "邮箱", "买家邮箱"),
                "companies.contact_phone": ("Buyer Phone", "Sender Phone", "Sender Tel", "电话"),
                "companies.contact_mobile": ("Buyer Mobile", "Mobile", "手机"),
                "companies.main_products": (
                    "Subject",
                    "Inquiry Subject",
                    "Product Name",
                    "Product Interest",
                    "询盘主题",
                    "产品名称",
                    "询价产品",
                ),
                "companies.notes": (
                    "Inquiry Content",
                    "Message",
                    "Inquiry",
                    "Content",
                    "询盘内容",
                    "留言内容",
                ),
                "contacts.name": ("Buyer Name", "Sender", "Sender Name", "买家姓名", "询盘人"),
                "contacts.company_name": ("Buyer Company", "Sender Company", "买家公司"),
                "contacts.company_country": ("Buyer Country", "Sender Country", "国家/地区"),
                "contacts.emails": ("Buyer Email", "Sender Email", "买家邮箱"),
                "contacts.phones": ("Buyer Phone", "Sender Phone", "Sender Tel", "Buyer Mobile"),
                "contacts.notes": ("Subject", "Inquiry Content", "Message", "询盘主题", "询盘内容"),
            },  # fmt: skip
            defaults={"source": "b2b"},
        ),
        Source(
            "salesforce",
            _("Salesforce export"),
            ("companies", "contacts"),
            _("Accounts or Contacts exported from Salesforce (reports or Data Export)."),
            aliases={**_CRM_COMPANY, **_CRM_CONTACT},
            day_first=False,
        ),
        Source(
            "hubspot",
            _("HubSpot export"),
            ("companies", "contacts"),
            _("Companies or Contacts exported from HubSpot."),
            aliases={
                **_CRM_COMPANY,
                **_CRM_CONTACT,
                "companies.country": ("Country/Region", "Country"),
                "companies.company_size": ("Number of Employees",),
            },
            day_first=False,
        ),
        Source(
            "zoho",
            _("Zoho CRM export"),
            ("companies", "contacts"),
            _("Accounts or Contacts exported from Zoho CRM."),
            aliases={
                **_CRM_COMPANY,
                **_CRM_CONTACT,
                "contacts.emails": ("Email", "Secondary Email"),
                "companies.business_type": ("Account Type",),
            },
        ),
        Source(
            "google_contacts",
            _("Google Contacts CSV"),
            ("contacts",),
            _("“Google CSV” exported from Google Contacts."),
            aliases={
                "contacts.first_name": ("Given Name", "First Name"),
                "contacts.last_name": ("Family Name", "Last Name"),
                "contacts.name": ("Name",),
                "contacts.emails": ("E-mail - Value", "E-mail 1 - Value"),
                "contacts.phones": ("Phone - Value", "Phone 1 - Value"),
                "contacts.company_name": (
                    "Organization - Name",
                    "Organization 1 - Name",
                    "Organization Name",
                ),
                "contacts.title": ("Organization - Title", "Organization 1 - Title", "Organization Title"),
                "contacts.company_website": ("Website - Value", "Website 1 - Value"),
                "contacts.company_country": ("Address - Country", "Address 1 - Country"),
                "contacts.birthday": ("Birthday",),
                "contacts.notes": ("Notes",),
            },
        ),
        Source(
            "outlook_contacts",
            _("Outlook contacts CSV"),
            ("contacts",),
            _("Contacts exported from Outlook as CSV."),
            aliases={
                "contacts.title": ("Job Title",),
                "contacts.company_name": ("Company",),
                "contacts.emails": ("E-mail Address", "E-mail 2 Address", "E-mail 3 Address"),
                "contacts.phones": (
                    "Business Phone",
                    "Business Phone 2",
                    "Mobile Phone",
                    "Home Phone",
                    "Other Phone",
                    "Primary Phone",
                    "Company Main Phone",
                    "Business Fax",
                ),
                "contacts.company_country": ("Business Country/Region", "Business Country"),
                "contacts.company_website": ("Web Page",),
                "": (
                    "Title",
                    "E-mail Display Name",
                    "E-mail 2 Display Name",
                    "E-mail 3 Display Name",
                    "E-mail Type",
                    "Suffix",
                ),
            },  # fmt: skip
        ),
        Source(
            "vcard",
            _("vCard file (.vcf)"),
            ("contacts",),
            _("Business cards from a phone, Outlook or a card scanner: vCard 2.1, 3.0 or 4.0."),
        ),
        Source(
            "tradecrm",
            _("TradeCRM export"),
            ENTITIES,
            _("A file exported from TradeCRM (in English or Chinese): rows with an ID update those records."),
        ),
    )
}


def sources_for(entity: str) -> list[Source]:
    return [s for s in SOURCES.values() if entity in s.entities]


def get_source(key: str) -> Source:
    """The source `key`, or the generic one for an unknown key."""
    return SOURCES.get(key) or SOURCES["generic"]
