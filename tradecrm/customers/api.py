"""JSON API for the customer archive: companies, contacts, tags (mounted under /api/v1/).

Thin: every read goes through the selectors (which apply the visibility rule; loads by id answer
404 alike for "missing" and "not yours"), every write through the services (which validate and
refuse stale versions). This module only translates HTTP to those calls and rows to JSON.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from tradecrm.accounts.access import can_reveal
from tradecrm.core.api import (
    DELETE,
    LIST,
    PATCH,
    READ,
    WRITE,
    Id,
    check_delete_version,
    created_response,
    json_response,
    not_modified,
    object_response,
    page_response,
    person_name,
    required_version,
    user_ref,
)
from tradecrm.core.errors import ValidationError

from . import selectors, services
from .masking import mask_row, mask_rows
from .schemas import (
    CompanyContactsQuery,
    CompanyCreate,
    CompanyCreated,
    CompanyListQuery,
    CompanyOut,
    CompanyPage,
    CompanyPatch,
    ContactCreate,
    ContactCreateForCompany,
    ContactListQuery,
    ContactOut,
    ContactPage,
    ContactPatch,
    DuplicatesRefused,
    TagCreate,
    TagListQuery,
    TagOut,
    TagPage,
    TagPatch,
)

companies = Router(tags=["companies"])
contacts = Router(tags=["contacts"])
tags = Router(tags=["tags"])


# --- rows to JSON -------------------------------------------------------------------------------


def _company_row(r: dict) -> dict:
    owner_id = r["owner_id"]
    return {
        "id": r["id"],
        "name": r["name"],
        "name_local": r["name_local"],
        "country": r["country"],
        "city": r["city"],
        "status": r["status"],
        "business_type": r["business_type"],
        "source": r["source"],
        "email": r["email"],
        "phones": r["phones"],
        "owner": {
            "id": owner_id,
            "username": r["owner__username"],
            "name": person_name(r["owner__first_name"], r["owner__last_name"], r["owner__username"]),
        }
        if owner_id
        else None,
        "timezone": r["timezone"],
        "tags": r["tags"],
        "last_contact_at": r["last_contact_at"],
        "next_followup_at": r["next_followup_at"],
        "version": r["version"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


COMPANY_PLAIN_FIELDS = tuple(
    """
    id name name_local country city address website email email_domains phones industry tax_id business_type
    company_size annual_purchase main_products hs_codes source source_detail timezone office_start
    office_end preferred_language currency credit_rating cooperation_since status team_id notes version
    created_at updated_at last_contact_at next_followup_at reviewed_at
    """.split()
)


def _company_out(company) -> dict:
    out = {f: getattr(company, f) for f in COMPANY_PLAIN_FIELDS}
    out["owner"] = user_ref(company.owner) if company.owner_id else None
    out["updated_by"] = user_ref(company.updated_by) if company.updated_by_id else None
    out["tags"] = [{"id": t.id, "name": t.name, "color": t.color} for t in selectors.company_tags(company)]
    out["followers"] = [
        {
            "id": u["id"],
            "username": u["username"],
            "name": person_name(u["first_name"], u["last_name"], u["username"]),
        }
        for u in selectors.company_followers(company)
    ]
    return out


CONTACT_PLAIN_FIELDS = tuple(
    """
    id first_name last_name name_local title seniority emails phones whatsapp wechat linkedin skype
    birthday is_primary preferred_language notes version created_at updated_at
    """.split()
)


def _contact_row(r: dict) -> dict:
    out = {f: r[f] for f in CONTACT_PLAIN_FIELDS}
    out["company"] = {"id": r["company_id"], "name": r["company__name"]}
    return out


def _contact_out(contact) -> dict:
    out = {f: getattr(contact, f) for f in CONTACT_PLAIN_FIELDS}
    out["company"] = {"id": contact.company_id, "name": contact.company.name}
    return out


TAG_FIELDS = ("id", "name", "color", "team_id", "version", "created_at", "updated_at")


def _tag_out(tag) -> dict:
    return {f: getattr(tag, f) for f in TAG_FIELDS}


def _masked(request: HttpRequest, out):
    """Phones and emails masked for a user whose role may not see them (customers.masking); a
    masked value sent back in a PATCH keeps the stored one."""
    if can_reveal(request.auth):
        return out
    if isinstance(out, list):
        mask_rows(out)
    else:
        mask_row(out)
    return out


# --- concurrency --------------------------------------------------------------------------------


# --- companies ----------------------------------------------------------------------------------


@companies.get("", response={200: CompanyPage, **LIST}, summary="List companies")
def list_companies(request: HttpRequest, query: Query[CompanyListQuery]):
    """Companies you can see, 50 a page by default; filters combine with AND. Follow
    `next_cursor` / `prev_cursor` for the neighbouring pages."""
    from . import filtering
    from .segment_selectors import segment_get_for_user

    given = {k: v for k, v in query.model_dump().items() if k in filtering.FILTER_KEYS and v not in (None, "", [])}
    clean, errors = filtering.read_filters(given, request.auth, strict=False)
    if errors:
        raise ValidationError(errors)
    if query.segment is not None:
        clean = filtering.merge(segment_get_for_user(request.auth, query.segment).filters, clean)
    f = filtering.to_company_filters(clean)
    rows, nxt, prev = selectors.company_list(request.auth, f, cursor=query.cursor or None, limit=query.limit)
    return page_response(_masked(request, [_company_row(r) for r in rows]), nxt, prev)


@companies.post(
    "", response={201: CompanyCreated, 409: DuplicatesRefused, **WRITE}, summary="Create a company"
)
def create_company(request: HttpRequest, payload: CompanyCreate):
    """The duplicate policy for the API (TRADECRM_DEDUP_POLICY["api"]) applies: "block" refuses a
    company that looks like an existing one with 409 and the candidates, "warn" creates it and
    lists them under `duplicates` (absent when there are none), "allow" does not check."""
    from tradecrm.dedup.selectors import check_company, likely_duplicates, policy_for

    data = payload.model_dump(exclude_unset=True)
    policy = policy_for("api")
    found = []
    if policy != "allow":
        found = [_duplicate_out(c) for c in likely_duplicates(check_company(request.auth, data, limit=5))]
        if found and policy == "block":
            return json_response(
                {"detail": _("A company like this is already in the archive."), "duplicates": found},
                status=409,
            )
    company = services.company_create(actor=request.auth, data=data)
    out = _masked(request, _company_out(company))
    if policy == "warn" and found:
        out["duplicates"] = found
    return created_response(out, "companies")


def _duplicate_out(c: dict) -> dict:
    return {k: c[k] for k in ("id", "name", "score", "reasons", "owner", "team", "pool", "visible")}


@companies.get("/{int:company_id}", response={200: CompanyOut, 304: None, **READ}, summary="Get a company")
def get_company(request: HttpRequest, company_id: Id):
    company = selectors.company_get_for_user(request.auth, company_id)
    return not_modified(request, company.version) or object_response(_masked(request, _company_out(company)))


@companies.patch("/{int:company_id}", response={200: CompanyOut, **PATCH}, summary="Change a company")
def patch_company(request: HttpRequest, company_id: Id, payload: CompanyPatch):
    """Send only the fields to change, plus the `version` you last read (or If-Match). A stale
    version is refused with 409 naming who changed the company and when."""
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    company = selectors.company_get_for_user(request.auth, company_id)
    company = services.company_update(actor=request.auth, company=company, version=version, data=data)
    return object_response(_masked(request, _company_out(company)))


@companies.delete("/{int:company_id}", response={204: None, **DELETE}, summary="Delete a company")
def delete_company(request: HttpRequest, company_id: Id):
    company = selectors.company_get_for_user(request.auth, company_id)
    check_delete_version(request, company)
    services.company_delete(actor=request.auth, company=company)
    return HttpResponse(status=204)


@companies.get(
    "/{int:company_id}/contacts", response={200: ContactPage, **LIST}, summary="List a company's contacts"
)
def list_company_contacts(request: HttpRequest, company_id: Id, query: Query[CompanyContactsQuery]):
    rows, nxt, prev = selectors.contact_list(
        request.auth, company_id=company_id, q=query.q, cursor=query.cursor or None, limit=query.limit
    )
    return page_response(_masked(request, [_contact_row(r) for r in rows]), nxt, prev)


@companies.post(
    "/{int:company_id}/contacts", response={201: ContactOut, **WRITE}, summary="Add a contact to a company"
)
def create_company_contact(request: HttpRequest, company_id: Id, payload: ContactCreateForCompany):
    company = selectors.company_get_for_user(request.auth, company_id)
    contact = services.contact_create(
        actor=request.auth, company=company, data=payload.model_dump(exclude_unset=True)
    )
    return created_response(_masked(request, _contact_out(contact)), "contacts")


# --- contacts -----------------------------------------------------------------------------------


@contacts.get("", response={200: ContactPage, **LIST}, summary="List contacts")
def list_contacts(request: HttpRequest, query: Query[ContactListQuery]):
    """Contacts of the companies you can see, most recently changed first."""
    rows, nxt, prev = selectors.contact_list(
        request.auth, company_id=query.company, q=query.q, cursor=query.cursor or None, limit=query.limit
    )
    return page_response(_masked(request, [_contact_row(r) for r in rows]), nxt, prev)


@contacts.post("", response={201: ContactOut, **WRITE}, summary="Create a contact")
def create_contact(request: HttpRequest, payload: ContactCreate):
    data = payload.model_dump(exclude_unset=True)
    company_id = data.pop("company")
    try:
        company = selectors.company_get_for_user(request.auth, company_id)
    except Http404:
        raise ValidationError({"company": [_("No company with id %(id)s.") % {"id": company_id}]}) from None
    contact = services.contact_create(actor=request.auth, company=company, data=data)
    return created_response(_masked(request, _contact_out(contact)), "contacts")


@contacts.get("/{int:contact_id}", response={200: ContactOut, 304: None, **READ}, summary="Get a contact")
def get_contact(request: HttpRequest, contact_id: Id):
    contact = selectors.contact_get_for_user(request.auth, contact_id)
    return not_modified(request, contact.version) or object_response(_masked(request, _contact_out(contact)))


@contacts.patch("/{int:contact_id}", response={200: ContactOut, **PATCH}, summary="Change a contact")
def patch_contact(request: HttpRequest, contact_id: Id, payload: ContactPatch):
    """Send only the fields to change, plus the `version` you last read (or If-Match)."""
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    contact = selectors.contact_get_for_user(request.auth, contact_id)
    contact = services.contact_update(actor=request.auth, contact=contact, version=version, data=data)
    return object_response(_masked(request, _contact_out(contact)))


@contacts.delete("/{int:contact_id}", response={204: None, **DELETE}, summary="Delete a contact")
def delete_contact(request: HttpRequest, contact_id: Id):
    contact = selectors.contact_get_for_user(request.auth, contact_id)
    check_delete_version(request, contact)
    services.contact_delete(actor=request.auth, contact=contact)
    return HttpResponse(status=204)


# --- tags ---------------------------------------------------------------------------------------


@tags.get("", response={200: TagPage, **LIST}, summary="List tags")
def list_tags(request: HttpRequest, query: Query[TagListQuery]):
    """Tags you can use: your team's (and, for managers, their sub-teams') and the shared ones."""
    rows, nxt, prev = selectors.tag_page(request.auth, cursor=query.cursor or None, limit=query.limit)
    return page_response(rows, nxt, prev)


@tags.post("", response={201: TagOut, **WRITE}, summary="Create a tag")
def create_tag(request: HttpRequest, payload: TagCreate):
    tag = services.tag_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return created_response(_tag_out(tag), "tags")


@tags.get("/{int:tag_id}", response={200: TagOut, 304: None, **READ}, summary="Get a tag")
def get_tag(request: HttpRequest, tag_id: Id):
    tag = selectors.tag_get_for_user(request.auth, tag_id)
    return not_modified(request, tag.version) or object_response(_tag_out(tag))


@tags.patch("/{int:tag_id}", response={200: TagOut, **PATCH}, summary="Change a tag")
def patch_tag(request: HttpRequest, tag_id: Id, payload: TagPatch):
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    tag = selectors.tag_get_for_user(request.auth, tag_id)
    tag = services.tag_update(actor=request.auth, tag=tag, version=version, data=data)
    return object_response(_tag_out(tag))


@tags.delete("/{int:tag_id}", response={204: None, **DELETE}, summary="Delete a tag")
def delete_tag(request: HttpRequest, tag_id: Id):
    tag = selectors.tag_get_for_user(request.auth, tag_id)
    check_delete_version(request, tag)
    services.tag_delete(actor=request.auth, tag=tag)
    return HttpResponse(status=204)
