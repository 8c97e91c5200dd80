"""Writes for users, teams, API tokens, role policies and offboarding."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.errors import ConcurrentEditError, Errors

from .access import clear_policy_cache, forget, visible_team_ids
from .models import DEFAULT_POLICIES, WRITE_ACTIONS, Action, ApiToken, Role, RolePolicy, Scope, Team, User


@transaction.atomic
def team_get_or_create(*, actor, name: str, parent: Team | None = None) -> Team:
    team, created = Team.objects.get_or_create(name=name, defaults={"parent": parent})
    if created:
        audit_record(actor=actor, action="team.create", obj=team, changes={"name": name})
    return team


@transaction.atomic
def user_create(*, actor, username: str, password: str, role: str, team_name: str = "", email: str = "",
                language: str = "en", validate: bool = True) -> User:
    errors: dict[str, list[str]] = {}
    if not username or len(username) > 150:
        errors["username"] = [_("Enter a user name of 1 to 150 characters.")]
    elif User.objects.filter(username=username).exists():
        errors["username"] = [_("The user name “%(name)s” is taken.") % {"name": username}]
    if role not in Role.values:
        errors["role"] = [_("Unknown role “%(role)s”; use one of: %(roles)s.") % {"role": role, "roles": ", ".join(Role.values)}]
    if validate:
        try:
            validate_password(password, User(username=username))
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    team = team_get_or_create(actor=actor, name=team_name) if team_name else None
    user = User(username=username, role=role, team=team, email=email, language=language,
                is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
    user.set_password(password)
    user.save()
    audit_record(actor=actor, action="user.create", obj=user, changes={"username": username, "role": role})
    return user


@transaction.atomic
def token_create(*, actor, user: User, name: str = "") -> tuple[ApiToken, str]:
    token, raw = ApiToken.issue(user, name)
    audit_record(actor=actor, action="token.create", obj=token, changes={"user": user.pk, "prefix": token.prefix})
    return token, raw


def generate_password() -> str:
    return secrets.token_urlsafe(12)


# --- roles & permissions ---------------------------------------------------------------------------


def _check_admin(actor) -> None:
    if actor is not None and not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only administrators may change roles and permissions."))


def _policy_state(scope: str, actions) -> dict:
    return {"scope": scope, "actions": sorted(actions)}


@transaction.atomic
def role_policy_update(*, actor, role: str, data: dict, version: int | None = None) -> RolePolicy:
    """Change a role's visibility scope and/or allowed actions. Administrators only; the
    administrator role itself is fixed (it always sees and may do all). Audited as
    "permission_change" with the state before and after."""
    _check_admin(actor)
    errors = Errors()
    if role not in Role.values:
        errors.add("role", _("Unknown role “%(role)s”; use one of: %(roles)s.") % {"role": role, "roles": ", ".join(Role.values)})
        errors.raise_if_any()
    if role == Role.ADMIN:
        errors.add("role", _("The administrator role always sees and may do everything; it cannot be changed."))
        errors.raise_if_any()
    scope_default, actions_default = DEFAULT_POLICIES[role]
    policy, _created = RolePolicy.objects.select_for_update().get_or_create(
        role=role, defaults={"scope": scope_default, "actions": sorted(actions_default)}
    )
    if version is not None and version != policy.version:
        raise ConcurrentEditError(by="?", at=policy.updated_at, current_version=policy.version)
    scope, actions = policy.scope, list(policy.actions)
    if "scope" in data:
        scope = str(data.get("scope") or "")
        if scope not in Scope.values:
            errors.add("scope", _("Unknown visibility “%(scope)s”; use one of: %(scopes)s.")
                       % {"scope": scope, "scopes": ", ".join(Scope.values)})  # fmt: skip
    if "actions" in data:
        raw = data.get("actions") or []
        if not isinstance(raw, list | tuple):
            errors.add("actions", _("Send the allowed actions as a list."))
            raw = []
        actions = []
        for a in raw:
            if a not in Action.values:
                errors.add("actions", _("Unknown action “%(action)s”; use any of: %(actions)s.")
                           % {"action": a, "actions": ", ".join(Action.values)})  # fmt: skip
            elif role == Role.READ_ONLY and a in WRITE_ACTIONS:
                errors.add("actions", _("The read-only role changes nothing: it cannot be given “%(action)s”.")
                           % {"action": a})  # fmt: skip
            elif a not in actions:
                actions.append(a)
    errors.raise_if_any()
    before = _policy_state(policy.scope, policy.actions)
    after = _policy_state(scope, actions)
    if before == after:
        return policy
    policy.scope, policy.actions = after["scope"], after["actions"]
    policy.version += 1
    policy.save()
    audit_record(actor=actor, action="permission_change", obj=policy,
                 changes={"role": role, "before": before, "after": after})  # fmt: skip
    clear_policy_cache()
    transaction.on_commit(clear_policy_cache)
    return policy


def _user_state(user: User) -> dict:
    return {
        "role": user.role,
        "team": user.team_id,
        "acts_for": sorted(user.acts_for.values_list("id", flat=True)) if user.pk else [],
        "can_export": user.can_export,
        "is_active": user.is_active,
    }


@transaction.atomic
def user_update(*, actor, user: User, data: dict) -> User:
    """Change a user's role, team, the reps an assistant acts for, the export grant or whether the
    account is active. Administrators only; audited as "permission_change" (before/after)."""
    _check_admin(actor)
    errors = Errors()
    before = _user_state(user)
    role = data.get("role", user.role)
    if role not in Role.values:
        errors.add("role", _("Unknown role “%(role)s”; use one of: %(roles)s.") % {"role": role, "roles": ", ".join(Role.values)})
    team_id = data.get("team", user.team_id)
    if team_id in ("", None):
        team_id = None
    else:
        try:
            team_id = int(team_id)
        except (TypeError, ValueError):
            team_id = -1
        if not Team.objects.filter(pk=team_id).exists():
            errors.add("team", _("There is no team with id %(id)s.") % {"id": data.get("team")})
    acts_for = data.get("acts_for", before["acts_for"]) or []
    try:
        acts_for = sorted({int(i) for i in acts_for})
    except (TypeError, ValueError):
        errors.add("acts_for", _("Enter a list of user ids."))
        acts_for = []
    if acts_for and role != Role.ASSISTANT:
        errors.add("acts_for", _("Only a sales assistant acts for other reps; choose the role “Sales assistant”."))
    found = set(User.objects.filter(pk__in=acts_for, is_active=True).values_list("id", flat=True))
    for i in acts_for:
        if i == user.pk:
            errors.add("acts_for", _("A user cannot act for themselves."))
        elif i not in found:
            errors.add("acts_for", _("There is no active user with id %(id)s.") % {"id": i})
    is_active = bool(data.get("is_active", user.is_active))
    if user.is_admin and (role != Role.ADMIN or not is_active) and not User.objects.filter(
        role=Role.ADMIN, is_active=True
    ).exclude(pk=user.pk).exists():
        errors.add("role", _("This is the last active administrator: make someone else an administrator first."))
    errors.raise_if_any()
    user.role = role
    user.team_id = team_id
    user.can_export = bool(data.get("can_export", user.can_export))
    user.is_active = is_active
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["role", "team", "can_export", "is_active", "is_staff", "is_superuser"])
    user.acts_for.set(acts_for)
    forget(user)
    after = _user_state(user)
    if before != after:
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        audit_record(actor=actor, action="permission_change", obj=user, changes={"user": user.username, **changed})
    return user


# --- offboarding -------------------------------------------------------------------------------------

OFFBOARD_CHUNK = 500  # objects moved per transaction


def can_offboard(actor, user: User) -> bool:
    """Administrators, and the manager of the user's team (or a team above it)."""
    if actor is None or getattr(actor, "is_admin", False):
        return True
    if not actor.is_manager or actor.pk == user.pk:
        return False
    return user.team_id is not None and user.team_id in (visible_team_ids(actor) or [])


def _chunks(ids: list[int], size: int):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _bulk_audit(actor, action: str, object_type: str, changes_by_id: dict[int, dict]) -> None:
    from django.db import router

    from tradecrm.audit import chain
    from tradecrm.audit.models import AuditEvent

    who = actor if getattr(actor, "pk", None) else None
    # source and IP come from the audit context (field defaults); sealed into the chain after commit
    AuditEvent.objects.bulk_create(
        AuditEvent(actor=who, actor_name=who.username if who else "", action=action, object_type=object_type,
                   object_id=oid, changes=changes)
        for oid, changes in changes_by_id.items()
    )  # fmt: skip
    chain.seal_after_commit(router.db_for_write(AuditEvent))


def user_offboard(*, actor, user: User, to_user: User | None = None, pool=None, deactivate: bool = False,
                  chunk: int = OFFBOARD_CHUNK) -> dict:  # fmt: skip
    """Hand over everything a leaving user holds, in one action: their customers (Company.owner)
    to `to_user` or into `pool`, their open follow-ups (assignee) and open opportunities (owner) to
    `to_user`. Chunked transactions of `chunk` objects, each object audited; the receiver gets a
    notification; a summary audit event on the user. With only a pool, follow-ups and
    opportunities stay (counted under "left") — the pool cancels the user's open follow-ups on the
    customers it takes, as every pool move does. Returns the counts."""
    from django.db.models import F

    from tradecrm.customers.models import Company
    from tradecrm.followups.models import FollowUp, FollowUpStatus
    from tradecrm.pool.models import OwnerSince
    from tradecrm.sales.models import Opportunity, OpportunityStatus

    errors = Errors()
    if not can_offboard(actor, user):
        raise PermissionDenied(_("Only an administrator or the user's manager may hand over their work."))
    if to_user is None and pool is None:
        errors.add("to", _("Choose who takes over, or a pool for the customers."))
    if to_user is not None:
        if to_user.pk == user.pk:
            errors.add("to", _("Choose someone other than the user who leaves."))
        elif not to_user.is_active:
            errors.add("to", _("%(user)s is not active.") % {"user": to_user})
        elif to_user.role == Role.READ_ONLY:
            errors.add("to", _("%(user)s has a read-only role and cannot take over customers.") % {"user": to_user})
        elif (actor is not None and not actor.is_admin and to_user.pk != actor.pk
              and to_user.team_id not in (visible_team_ids(actor) or [])):  # fmt: skip
            errors.add("to", _("%(user)s is not in a team you manage.") % {"user": to_user})
    if pool is not None and not pool.active:
        errors.add("pool", _("The pool “%(pool)s” is not active.") % {"pool": pool.name})
    errors.raise_if_any()

    now = timezone.now()
    reason = _("Handed over: %(user)s left") % {"user": user.username}
    counts = {"customers": 0, "followups": 0, "opportunities": 0, "followups_left": 0, "opportunities_left": 0}
    company_ids = list(Company.objects.filter(owner_id=user.pk).order_by("id").values_list("id", flat=True))
    if pool is not None:
        from tradecrm.pool.services import _recall_many

        for ids in _chunks(company_ids, chunk):
            names = dict(Company.objects.filter(pk__in=ids).values_list("id", "name"))
            params = {"reason": reason, "offboarded_by": getattr(actor, "pk", None)}
            with transaction.atomic():
                counts["customers"] += _recall_many(
                    [(cid, user.pk, names.get(cid, ""), pool, reason, params) for cid in ids], run=None, now=now
                )
    else:
        for ids in _chunks(company_ids, chunk):
            with transaction.atomic():
                ids = list(Company.objects.select_for_update().filter(pk__in=ids, owner_id=user.pk)
                           .values_list("id", flat=True))  # fmt: skip
                Company.objects.filter(pk__in=ids).update(owner=to_user, team_id=to_user.team_id,
                                                          version=F("version") + 1, updated_at=now)  # fmt: skip
                OwnerSince.objects.filter(company_id__in=ids).delete()
                OwnerSince.objects.bulk_create(OwnerSince(company_id=cid, owner=to_user, since=now) for cid in ids)
                _bulk_audit(actor, "company.transfer", "customers.company", {
                    cid: {"owner": [user.pk, to_user.pk], "team": [user.team_id, to_user.team_id], "reason": reason}
                    for cid in ids
                })  # fmt: skip
                counts["customers"] += len(ids)

    open_followups = FollowUp.objects.filter(assignee_id=user.pk, status=FollowUpStatus.OPEN)
    open_opps = Opportunity.objects.filter(owner_id=user.pk, status=OpportunityStatus.OPEN)
    if to_user is not None:
        for ids in _chunks(list(open_followups.order_by("id").values_list("id", flat=True)), chunk):
            with transaction.atomic():
                ids = list(FollowUp.objects.select_for_update()
                           .filter(pk__in=ids, assignee_id=user.pk, status=FollowUpStatus.OPEN)
                           .values_list("id", flat=True))  # fmt: skip
                FollowUp.objects.filter(pk__in=ids).update(assignee=to_user, version=F("version") + 1, updated_at=now)
                _bulk_audit(actor, "followup.reassign", "followups.followup",
                            {i: {"assignee": [user.pk, to_user.pk], "reason": reason} for i in ids})  # fmt: skip
                counts["followups"] += len(ids)
        for ids in _chunks(list(open_opps.order_by("id").values_list("id", flat=True)), chunk):
            with transaction.atomic():
                ids = list(Opportunity.objects.select_for_update()
                           .filter(pk__in=ids, owner_id=user.pk, status=OpportunityStatus.OPEN)
                           .values_list("id", flat=True))  # fmt: skip
                Opportunity.objects.filter(pk__in=ids).update(owner=to_user, version=F("version") + 1,
                                                              updated_at=now)  # fmt: skip
                _bulk_audit(actor, "opportunity.reassign", "sales.opportunity",
                            {i: {"owner": [user.pk, to_user.pk], "reason": reason} for i in ids})  # fmt: skip
                counts["opportunities"] += len(ids)
    counts["followups_left"] = open_followups.count()
    counts["opportunities_left"] = open_opps.count()

    with transaction.atomic():
        if deactivate and user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
        audit_record(actor=actor, action="user.offboard", obj=user, changes={
            **counts, "to": to_user.pk if to_user else None, "pool": pool.name if pool else None,
            "deactivated": bool(deactivate),
        })  # fmt: skip
        if to_user is not None and (counts["customers"] or counts["followups"] or counts["opportunities"]):
            from tradecrm.followups.notifications import notify

            notify(to_user, OFFBOARD_NOTICE, {
                "from": str(user), "by": str(actor) if actor else "", "customers": counts["customers"] if pool is None
                else 0, "followups": counts["followups"], "opportunities": counts["opportunities"],
            }, url=reverse("customers:company_list"))  # fmt: skip
    counts["deactivated"] = bool(deactivate)
    return counts


OFFBOARD_NOTICE = "offboard_received"


def render_offboard_notice(p: dict) -> str:
    return _("%(from)s's work is now yours: %(customers)s customers, %(followups)s open follow-ups, "
             "%(opportunities)s open opportunities") % {
        "from": p.get("from", ""), "customers": p.get("customers", 0), "followups": p.get("followups", 0),
        "opportunities": p.get("opportunities", 0)}  # fmt: skip
