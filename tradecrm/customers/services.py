"""Writes to the customer archive. One function per change a user can name; views, the API,
the CLI and the importer all call these."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.accounts.access import owner_ids, require_action, require_writer
from tradecrm.audit.services import audit_record
from tradecrm.core import geo
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.search import phone_search_tokens, search_document
from tradecrm.dedup.keys import refresh_company_keys, refresh_contact_keys

from .masking import unmask_changes
from .models import Company, CompanyFollower, CompanyTag, Contact, Tag, tax_id_hash
from .validation import clean_company, clean_contact, clean_tag

M2M = ("tags", "followers")
# the fields the duplicate-check keys are computed from (tradecrm.dedup.keys)
KEY_FIELDS = frozenset({"name", "name_local", "country", "email", "email_domains", "website", "phones", "tax_id"})


def company_search_text(company: Company, contacts: list[dict] | None = None) -> str:
    if contacts is None:
        # in id order: the text must not depend on the query plan (the bulk loader builds it too)
        contacts = list(Contact.objects.filter(company_id=company.pk).order_by("id").values(
            "first_name", "last_name", "name_local", "emails", "phones")) if company.pk else []
    parts: list[Any] = [company.name, company.name_local, company.email, company.city, " ".join(company.email_domains)]
    parts += [phone_search_tokens(p) for p in company.phones]
    for c in contacts:
        parts += [c["first_name"], c["last_name"], c["name_local"], " ".join(c["emails"])]
        parts += [phone_search_tokens(p) for p in c["phones"]]
    return search_document(*parts)


def contact_search_text(contact: Contact) -> str:
    return search_document(contact.first_name, contact.last_name, contact.name_local, " ".join(contact.emails),
                          *(phone_search_tokens(p) for p in contact.phones), contact.wechat, contact.whatsapp)


def _fill_derived(company: Company) -> None:
    if not company.timezone:
        company.timezone = geo.infer_timezone(company.country, company.city, company.phones[0] if company.phones else "")
    if not company.email_domains and company.website:
        host = company.website.split("://", 1)[-1].split("/", 1)[0].lower().removeprefix("www.")
        if host:
            company.email_domains = [host]


def _changes(before: dict, after: dict) -> dict:
    return {k: [_jsonable(before.get(k)), _jsonable(v)] for k, v in after.items() if before.get(k) != v}


def _jsonable(v):
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "pk"):
        return v.pk
    return v


def _set_m2m(company: Company, tags: list[int] | None, followers: list[int] | None) -> None:
    if tags is not None:
        CompanyTag.objects.filter(company=company).exclude(tag_id__in=tags).delete()
        have = set(CompanyTag.objects.filter(company=company).values_list("tag_id", flat=True))
        CompanyTag.objects.bulk_create([CompanyTag(company=company, tag_id=t) for t in tags if t not in have])
    if followers is not None:
        CompanyFollower.objects.filter(company=company).exclude(user_id__in=followers).delete()
        have = set(CompanyFollower.objects.filter(company=company).values_list("user_id", flat=True))
        CompanyFollower.objects.bulk_create([CompanyFollower(company=company, user_id=u) for u in followers if u not in have])


@transaction.atomic
def company_create(*, actor, data: dict) -> Company:
    require_action(actor, "create")
    clean = clean_company(data, actor=actor)
    tags, followers = clean.pop("tags", None), clean.pop("followers", None)
    named_owner = clean.pop("owner", None)
    owner = named_owner or actor
    company = Company(**clean, owner=owner, team_id=owner.team_id, created_by=actor, updated_by=actor)
    _fill_derived(company)
    company.search_text = company_search_text(company, [])
    company.save()
    refresh_company_keys([company.pk])
    _set_m2m(company, tags, followers)
    audit_record(actor=actor, action="company.create", obj=company, changes={"name": company.name})
    if named_owner is None:  # nobody named: the assignment rules decide (audited, owner told)
        from tradecrm.automation.assignment import assign_new_company

        assign_new_company(company=company, actor=actor)
    from tradecrm.automation import events

    events.emit(events.RECORD_CREATED, obj_type=events.OBJ_COMPANY, obj_id=company.pk, actor=actor)
    return company


@transaction.atomic
def company_update(*, actor, company: Company, version: int, data: dict) -> Company:
    """Apply a partial change. Refused with ConcurrentEditError when someone saved in between."""
    require_action(actor, "edit")
    data = unmask_changes(data, company, ("email", "phones"))
    clean = clean_company(data, actor=actor, partial=True, region=company.country)
    tags, followers = clean.pop("tags", None), clean.pop("followers", None)
    before = {k: getattr(company, k) for k in clean}
    for k, v in clean.items():
        setattr(company, k, v)
    if "owner" in clean:
        company.team_id = company.owner.team_id
    if {"country", "city", "phones"} & clean.keys() and "timezone" not in data:
        company.timezone = ""
    _fill_derived(company)
    company.search_text = company_search_text(company)
    now = timezone.now()
    fields = {k: getattr(company, k) for k in clean}
    fields.update(timezone=company.timezone, email_domains=company.email_domains, search_text=company.search_text,
                  team_id=company.team_id)
    if "owner" in fields:
        fields["owner_id"] = fields.pop("owner").pk
    if "tax_id" in fields:
        fields["tax_id_hash"] = company.tax_id_hash = tax_id_hash(company.tax_id)
    updated = Company.objects.filter(pk=company.pk, version=version).update(
        **fields, version=F("version") + 1, updated_at=now, updated_by=actor)
    if not updated:
        current = Company.objects.select_related("updated_by").get(pk=company.pk)
        raise ConcurrentEditError(by=str(current.updated_by or "?"), at=current.updated_at, current_version=current.version)
    company.version = version + 1
    company.updated_at = now
    company.updated_by = actor
    if KEY_FIELDS & clean.keys():
        refresh_company_keys([company.pk])
    _set_m2m(company, tags, followers)
    changes = {**_changes(before, clean), **({"tags": tags} if tags is not None else {}),
               **({"followers": followers} if followers is not None else {})}
    audit_record(actor=actor, action="company.update", obj=company, changes=changes)
    if changes:
        from tradecrm.automation import events

        events.emit(events.RECORD_UPDATED, obj_type=events.OBJ_COMPANY, obj_id=company.pk, actor=actor,
                    changes={k: v for k, v in changes.items() if k not in ("tags", "followers")}
                    | ({"tags": [None, tags]} if tags is not None else {}))
    return company


@transaction.atomic
def company_delete(*, actor, company: Company) -> None:
    # Followers may edit but not delete: the archive must outlive a rep's mistakes.
    require_action(actor, "delete")
    if not (actor.is_admin or actor.is_manager or company.owner_id in owner_ids(actor)):
        raise PermissionDenied(_("Only the owner, a manager or an administrator may delete a customer."))
    audit_record(actor=actor, action="company.delete", obj=company, changes={"name": company.name})
    company.delete()


def _refresh_company_search(company_id: int) -> None:
    company = Company.objects.get(pk=company_id)
    Company.objects.filter(pk=company_id).update(search_text=company_search_text(company))


def _demote_other_primaries(contact: Contact) -> None:
    if contact.is_primary:
        Contact.objects.filter(company_id=contact.company_id, is_primary=True).exclude(pk=contact.pk).update(is_primary=False)


@transaction.atomic
def contact_create(*, actor, company: Company, data: dict) -> Contact:
    require_action(actor, "edit")
    clean = clean_contact(data, region=company.country)
    contact = Contact(**clean, company=company, created_by=actor, updated_by=actor)
    contact.email = contact.emails[0] if contact.emails else ""
    if not Contact.objects.filter(company=company).exists():
        contact.is_primary = True
    contact.search_text = contact_search_text(contact)
    contact.save()
    refresh_contact_keys([contact.pk])
    _demote_other_primaries(contact)
    _refresh_company_search(company.pk)
    audit_record(actor=actor, action="contact.create", obj=contact, changes={"company": company.pk})
    return contact


@transaction.atomic
def contact_update(*, actor, contact: Contact, version: int, data: dict) -> Contact:
    require_action(actor, "edit")
    data = unmask_changes(data, contact, ("emails", "phones", "whatsapp"))
    clean = clean_contact(data, region=contact.company.country, partial=True)
    before = {k: getattr(contact, k) for k in clean}
    for k, v in clean.items():
        setattr(contact, k, v)
    contact.email = contact.emails[0] if contact.emails else ""
    contact.search_text = contact_search_text(contact)
    now = timezone.now()
    fields = {k: getattr(contact, k) for k in clean}
    fields.update(email=contact.email, search_text=contact.search_text)
    updated = Contact.objects.filter(pk=contact.pk, version=version).update(
        **fields, version=F("version") + 1, updated_at=now, updated_by=actor)
    if not updated:
        current = Contact.objects.select_related("updated_by").get(pk=contact.pk)
        raise ConcurrentEditError(by=str(current.updated_by or "?"), at=current.updated_at, current_version=current.version)
    contact.version = version + 1
    contact.updated_at = now
    if {"emails", "phones", "whatsapp"} & clean.keys():
        refresh_contact_keys([contact.pk])
    _demote_other_primaries(contact)
    _refresh_company_search(contact.company_id)
    audit_record(actor=actor, action="contact.update", obj=contact, changes=_changes(before, clean))
    return contact


@transaction.atomic
def contact_delete(*, actor, contact: Contact) -> None:
    require_action(actor, "edit")
    company_id = contact.company_id
    audit_record(actor=actor, action="contact.delete", obj=contact, changes={"company": company_id})
    contact.delete()
    _refresh_company_search(company_id)


def _check_tag_editable(actor, tag: Tag) -> None:
    require_writer(actor)
    if tag.team_id is None and not actor.is_admin:
        raise PermissionDenied(_("Only an administrator may change tags shared by all teams."))


@transaction.atomic
def tag_create(*, actor, data: dict) -> Tag:
    require_writer(actor)
    if data.get("shared") and not actor.is_admin:
        raise ValidationError({"shared": [_("Only an administrator may create tags shared by all teams.")]})
    clean = clean_tag(data)
    team_id = None if actor.is_admin and data.get("shared") else actor.team_id
    if Tag.objects.filter(team_id=team_id, name__iexact=clean["name"]).exists():
        raise ValidationError({"name": [_("A tag named “%(name)s” exists already.") % {"name": clean["name"]}]})
    tag = Tag.objects.create(**clean, team_id=team_id)
    audit_record(actor=actor, action="tag.create", obj=tag, changes=clean)
    return tag


@transaction.atomic
def tag_update(*, actor, tag: Tag, version: int, data: dict) -> Tag:
    _check_tag_editable(actor, tag)
    clean = clean_tag(data, partial=True)
    if "name" in clean and Tag.objects.filter(team_id=tag.team_id, name__iexact=clean["name"]).exclude(pk=tag.pk).exists():
        raise ValidationError({"name": [_("A tag named “%(name)s” exists already.") % {"name": clean["name"]}]})
    now = timezone.now()
    if not Tag.objects.filter(pk=tag.pk, version=version).update(**clean, version=F("version") + 1, updated_at=now):
        current = Tag.objects.get(pk=tag.pk)
        raise ConcurrentEditError(by="?", at=current.updated_at, current_version=current.version)
    for k, v in clean.items():
        setattr(tag, k, v)
    tag.version = version + 1
    tag.updated_at = now
    audit_record(actor=actor, action="tag.update", obj=tag, changes=clean)
    return tag


@transaction.atomic
def tag_delete(*, actor, tag: Tag) -> None:
    _check_tag_editable(actor, tag)
    audit_record(actor=actor, action="tag.delete", obj=tag, changes={"name": tag.name})
    tag.delete()
