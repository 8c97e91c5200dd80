"""JSON API for follow-ups and reminder rules (mounted under /api/v1/followups, /api/v1/reminder-rules).

Thin, like the customer API: reads go through the selectors (a follow-up is found when its customer
is visible to you or you are its assignee; otherwise 404, as if missing), writes through the
services (which validate and refuse stale versions with 409). Reminder rules are for
administrators: others get 403 on the collection and 404 on a rule.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from tradecrm.core.api import (
    DELETE,
    LIST,
    PATCH,
    READ,
    WRITE,
    Error,
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
from tradecrm.core.ids import parse_id
from tradecrm.customers.selectors import company_get_for_user

from . import selectors, services
from .models import CadenceRule, FollowUp
from .schemas import (
    CompleteIn,
    FollowUpCreate,
    FollowUpListQuery,
    FollowUpOut,
    FollowUpPage,
    FollowUpPatch,
    FollowUpWritten,
    RuleCreate,
    RuleOut,
    RulePage,
    RulePatch,
    VersionIn,
)
from .validation import parse_due, user_zone

followups = Router(tags=["followups"])
rules = Router(tags=["reminder rules"])

PLAIN = (
    "id", "contact_id", "title", "notes", "due_at", "priority", "status", "kind", "recurrence",
    "recurrence_interval", "completed_at", "outcome_id", "reminded_at", "version", "created_at", "updated_at",
)  # fmt: skip


def followup_out(f: FollowUp) -> dict:
    out = {k: getattr(f, k) for k in PLAIN}
    out["company"] = {"id": f.company_id, "name": f.company.name}
    out["assignee"] = user_ref(f.assignee)
    return out


def _written(f: FollowUp) -> dict:
    out = followup_out(f)
    out["warnings"] = [str(w) for w in getattr(f, "warnings", [])]
    nxt = getattr(f, "next_occurrence", None)
    out["next_occurrence_id"] = nxt.pk if nxt else None
    return out


def _row(r: dict) -> dict:
    out = {k: r[k] for k in PLAIN}
    out["company"] = {"id": r["company_id"], "name": r["company__name"]}
    out["assignee"] = {
        "id": r["assignee_id"],
        "username": r["assignee__username"],
        "name": person_name(r["assignee__first_name"], r["assignee__last_name"], r["assignee__username"]),
    }
    return out


def _moment(request, field: str, value: str | None):
    if not value:
        return None
    moment = parse_due(value, user_zone(request.auth))
    if moment is None:
        raise ValidationError({field: [_("Enter a date and time, e.g. 2026-03-09 09:00.")]})
    return moment


# --- follow-ups ---------------------------------------------------------------------------------


@followups.get("", response={200: FollowUpPage, **LIST}, summary="List follow-ups")
def list_followups(request: HttpRequest, query: Query[FollowUpListQuery]):
    """Follow-ups of the customers you can see and those assigned to you, by due time. Filters
    combine with AND; `assignee=me` lists your own."""
    assignee = None
    if query.assignee:
        assignee = request.auth.id if query.assignee == "me" else parse_id(query.assignee)
        if assignee is None:
            raise ValidationError({"assignee": [_("Enter “me” or a user id.")]})
    f = selectors.FollowUpFilters(
        assignee=assignee,
        status=query.status or "",
        kind=query.kind or "",
        due_before=_moment(request, "due_before", query.due_before),
        due_after=_moment(request, "due_after", query.due_after),
        company=query.company_id,
        sort=query.sort,
    )
    rows, nxt, prev = selectors.followup_list(request.auth, f, cursor=query.cursor or None, limit=query.limit)
    return page_response([_row(r) for r in rows], nxt, prev)


@followups.post("", response={201: FollowUpWritten, **WRITE}, summary="Plan a follow-up")
def create_followup(request: HttpRequest, payload: FollowUpCreate):
    """`warnings` flags what was accepted but looks wrong, e.g. a due time in the past."""
    data = payload.model_dump(exclude_unset=True)
    company_id = data.pop("company")
    try:
        company = company_get_for_user(request.auth, company_id)
    except Http404:
        raise ValidationError({"company": [_("No company with id %(id)s.") % {"id": company_id}]}) from None
    followup = services.followup_create(actor=request.auth, company=company, data=data)
    return created_response(_written(followup), "followups")


@followups.get(
    "/{int:followup_id}", response={200: FollowUpOut, 304: None, **READ}, summary="Get a follow-up"
)
def get_followup(request: HttpRequest, followup_id: Id):
    followup = selectors.followup_get_for_user(request.auth, followup_id)
    return not_modified(request, followup.version) or object_response(followup_out(followup))


@followups.patch("/{int:followup_id}", response={200: FollowUpWritten, **PATCH}, summary="Change a follow-up")
def patch_followup(request: HttpRequest, followup_id: Id, payload: FollowUpPatch):
    """Send only the fields to change, plus the `version` you last read (or If-Match)."""
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    followup = selectors.followup_get_for_user(request.auth, followup_id)
    followup = services.followup_update(actor=request.auth, followup=followup, version=version, data=data)
    return object_response(_written(followup))


@followups.delete("/{int:followup_id}", response={204: None, **DELETE}, summary="Delete a follow-up")
def delete_followup(request: HttpRequest, followup_id: Id):
    followup = selectors.followup_get_for_user(request.auth, followup_id)
    check_delete_version(request, followup)
    services.followup_delete(actor=request.auth, followup=followup)
    return HttpResponse(status=204)


@followups.post(
    "/{int:followup_id}/complete", response={200: FollowUpWritten, **PATCH}, summary="Complete a follow-up"
)
def complete_followup(request: HttpRequest, followup_id: Id, payload: CompleteIn):
    """Done in one step. With `log`, the contact is written to the customer's timeline in the same
    transaction and becomes the `outcome`. A repeating follow-up gets its next occurrence
    (`next_occurrence_id`)."""
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.get("version"))
    followup = selectors.followup_get_for_user(request.auth, followup_id)
    followup = services.followup_complete(
        actor=request.auth, followup=followup, version=version, log=data.get("log")
    )
    return object_response(_written(followup))


@followups.post(
    "/{int:followup_id}/cancel", response={200: FollowUpWritten, **PATCH}, summary="Cancel a follow-up"
)
def cancel_followup(request: HttpRequest, followup_id: Id, payload: VersionIn):
    version = required_version(request, payload.version)
    followup = selectors.followup_get_for_user(request.auth, followup_id)
    followup = services.followup_cancel(actor=request.auth, followup=followup, version=version)
    return object_response(_written(followup))


@followups.post(
    "/{int:followup_id}/reopen", response={200: FollowUpWritten, **PATCH}, summary="Reopen a follow-up"
)
def reopen_followup(request: HttpRequest, followup_id: Id, payload: VersionIn):
    version = required_version(request, payload.version)
    followup = selectors.followup_get_for_user(request.auth, followup_id)
    followup = services.followup_reopen(actor=request.auth, followup=followup, version=version)
    return object_response(_written(followup))


# --- reminder rules -----------------------------------------------------------------------------

RULE_FIELDS = ("id", "name", "kind", "status", "tier", "days", "hours", "priority", "active", "version",
               "created_at", "updated_at")  # fmt: skip


def _rule_out(rule: CadenceRule) -> dict:
    return {k: getattr(rule, k) for k in RULE_FIELDS}


def _admin_only(request: HttpRequest) -> None:
    if not request.auth.is_admin:
        raise PermissionDenied(_("Only an administrator may see and change reminder rules."))


@rules.get("", response={200: RulePage, 401: Error, 403: Error}, summary="List reminder rules")
def list_rules(request: HttpRequest):
    """Every rule (a few dozen at most, one page). Administrators only."""
    _admin_only(request)
    return json_response({"items": [_rule_out(r) for r in selectors.rule_list()], "next_cursor": None,
                          "prev_cursor": None})  # fmt: skip


@rules.post("", response={201: RuleOut, **WRITE}, summary="Create a reminder rule")
def create_rule(request: HttpRequest, payload: RuleCreate):
    _admin_only(request)
    rule = services.rule_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return created_response(_rule_out(rule), "reminder-rules")


@rules.get("/{int:rule_id}", response={200: RuleOut, 304: None, **READ}, summary="Get a reminder rule")
def get_rule(request: HttpRequest, rule_id: Id):
    rule = selectors.rule_get_for_user(request.auth, rule_id)
    return not_modified(request, rule.version) or object_response(_rule_out(rule))


@rules.patch("/{int:rule_id}", response={200: RuleOut, **PATCH}, summary="Change a reminder rule")
def patch_rule(request: HttpRequest, rule_id: Id, payload: RulePatch):
    """E.g. `{"days": 10, "version": 1}`, or `{"active": false, …}` to switch a rule off."""
    data = payload.model_dump(exclude_unset=True)
    version = required_version(request, data.pop("version", None))
    rule = selectors.rule_get_for_user(request.auth, rule_id)
    rule = services.rule_update(actor=request.auth, rule=rule, version=version, data=data)
    return object_response(_rule_out(rule))


@rules.delete("/{int:rule_id}", response={204: None, **DELETE}, summary="Delete a reminder rule")
def delete_rule(request: HttpRequest, rule_id: Id):
    rule = selectors.rule_get_for_user(request.auth, rule_id)
    check_delete_version(request, rule)
    services.rule_delete(actor=request.auth, rule=rule)
    return HttpResponse(status=204)
