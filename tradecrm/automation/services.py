"""Writes of automation: workflow rules (validated as a whole, cycle-checked, versioned) and
assignment rules (ordered). Rules are built by administrators; a manager may build rules that act
on the teams they manage, with the actions a manager may take (no webhooks, emails, field changes
or pool moves)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.audit.services import audit_record
from tradecrm.core.errors import ConcurrentEditError, Errors, ValidationError

from . import events
from .actions import clean_actions, produced_events
from .conditions import clean_conditions, compile_predicate, fields_for, top_level_requirements
from .models import AssignmentRule, AssignTo, Entity, Rule, RuleVersion

RULE_FIELDS = ("name", "description", "event", "entity", "conditions", "actions", "params", "schedule", "active",
               "max_runs_per_hour")  # fmt: skip


def can_build(user) -> bool:
    return bool(getattr(user, "is_admin", False) or getattr(user, "is_manager", False))


def _check_builder(actor) -> None:
    if not can_build(actor):
        raise PermissionDenied(_("Only administrators and managers may build automation rules."))


def _may_edit(actor, rule: Rule) -> None:
    if actor.is_admin:
        return
    if rule.created_by_id != actor.id:
        raise PermissionDenied(_("Only administrators and the rule's author may change it."))


def clean_rule(data: dict, *, actor, current: Rule | None = None) -> dict:
    """Validate a rule definition as a whole; ValidationError names every bad part."""
    errors = Errors()
    base = current.definition() if current else {"entity": "company", "conditions": {}, "actions": [], "params": {},
                                                   "schedule": "", "active": True, "max_runs_per_hour": 100,
                                                   "description": ""}  # fmt: skip
    d = {**base, **{k: v for k, v in data.items() if k in RULE_FIELDS}}
    out: dict = {}
    name = " ".join(str(d.get("name") or "").split())
    if not name:
        errors.add("name", _("Give the rule a name."))
    out["name"] = name[:120]
    out["description"] = str(d.get("description") or "")[:2000]
    event = d.get("event")
    if event not in events.EVENTS:
        errors.add("event", _("Unknown event “%(event)s”.") % {"event": event})
    out["event"] = event
    entity = d.get("entity") or "company"
    if entity not in Entity.values:
        errors.add("entity", _("Unknown record type “%(entity)s”.") % {"entity": entity})
        entity = "company"
    out["entity"] = entity
    fields = fields_for(entity, event or "")
    if event == events.SCHEDULED:
        fields = fields_for(entity)
    out["conditions"] = clean_conditions(d.get("conditions"), fields, errors)
    out["actions"] = clean_actions(d.get("actions"), author=actor, errors=errors, entity=entity)
    params = d.get("params") or {}
    if not isinstance(params, dict):
        errors.add("params", _("Event parameters are an object."))
        params = {}
    clean_params = {}
    for key, lo, hi in (("hours", 1, 24 * 90), ("days", 0, 365)):
        if key in params and params[key] not in (None, ""):
            try:
                v = int(params[key])
                if not lo <= v <= hi:
                    raise ValueError
                clean_params[key] = v
            except (TypeError, ValueError):
                errors.add(
                    "params",
                    _("“%(key)s” is a whole number from %(lo)s to %(hi)s.")
                    % {"key": key, "lo": lo, "hi": hi},
                )
    out["params"] = clean_params
    schedule = " ".join(str(d.get("schedule") or "").split())
    if event == events.SCHEDULED:
        from croniter import croniter

        if not schedule:
            errors.add("schedule", _("A scheduled rule needs a schedule, e.g. “0 8 * * 1” (Mondays 08:00)."))
        elif not croniter.is_valid(schedule):
            errors.add("schedule", _("“%(cron)s” is not a valid cron expression (minute hour day month weekday).")
                       % {"cron": schedule})  # fmt: skip
        elif len(schedule.split()) == 5 and schedule.split()[0] == "*":
            errors.add(
                "schedule", _("At most one run a minute is allowed; pick a minute (e.g. “0 * * * *”).")
            )
        if any(f.startswith("event.") for f in _used(out["conditions"])):
            errors.add("conditions", _("A scheduled rule has no event to read fields from."))
        if entity != "company":
            errors.add("entity", _("Scheduled rules run over customers."))
    elif schedule:
        errors.add("schedule", _("Only scheduled rules have a schedule."))
    out["schedule"] = schedule[:64]
    out["active"] = bool(d.get("active", True))
    try:
        runs = int(d.get("max_runs_per_hour") if d.get("max_runs_per_hour") is not None else 100)
        if not 1 <= runs <= 100000:
            raise ValueError
    except (TypeError, ValueError):
        errors.add("max_runs_per_hour", _("At most runs per hour: a whole number from 1 to 100,000."))
        runs = 100
    out["max_runs_per_hour"] = runs
    errors.raise_if_any()
    cycle = find_cycle(out, current.pk if current else None)
    if cycle:
        raise ValidationError({"actions": [_("These rules would trigger each other in a loop: %(chain)s. Change a "
                                             "condition or an action to break it.") % {"chain": " → ".join(cycle)}]})  # fmt: skip
    return out


def _used(tree) -> set[str]:
    from .conditions import fields_used

    return fields_used(tree)


def _triggers(producer_action: dict, consumer: dict) -> bool:
    """Can this action's change fire the consumer rule?"""
    for ev, changed in produced_events(producer_action):
        if consumer["event"] != ev:
            continue
        watched = set()
        for c in top_level_requirements(consumer["conditions"]):
            if c["field"] == "event.changed" and c["op"] == "contains":
                watched.add(c["value"])
        if watched and not (watched & changed):
            continue
        # setting a field to a value the consumer's conditions exclude cannot fire it
        if producer_action["type"] == "set_field":
            reqs = [
                c
                for c in top_level_requirements(consumer["conditions"])
                if c["field"] == producer_action["field"]
            ]
            if reqs and not compile_predicate({"all": reqs})(
                {producer_action["field"]: producer_action["value"]}
            ):
                continue
        return True
    return False


def find_cycle(new: dict, new_id: int | None) -> list[str] | None:
    """A chain of active rules leading from the new definition back to itself, if any."""
    if not new.get("active", True):
        return None
    others = {r.pk: {"name": r.name, "event": r.event, "conditions": r.conditions, "actions": r.actions}
              for r in Rule.objects.filter(active=True).exclude(pk=new_id or 0)}  # fmt: skip
    me = new_id or 0
    graph = {
        me: {
            "name": new["name"],
            "event": new["event"],
            "conditions": new["conditions"],
            "actions": new["actions"],
        },
        **others,
    }
    edges = {
        a: [b for b, rb in graph.items() if any(_triggers(act, rb) for act in ra["actions"])]
        for a, ra in graph.items()
    }
    stack, seen = [(me, [me])], set()
    while stack:
        node, path = stack.pop()
        for nxt in edges[node]:
            if nxt == me:
                return [graph[n]["name"] for n in path] + [graph[me]["name"]]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def _version(rule: Rule, actor) -> None:
    RuleVersion.objects.create(rule=rule, version=rule.version, definition=rule.definition(), created_at=timezone.now(),
                               created_by=actor if getattr(actor, "pk", None) else None)  # fmt: skip


@transaction.atomic
def rule_create(*, actor, data: dict) -> Rule:
    _check_builder(actor)
    clean = clean_rule(data, actor=actor)
    rule = Rule.objects.create(**clean, created_by=actor, updated_by=actor)
    if rule.event == events.SCHEDULED:
        from .engine import next_after

        rule.next_run_at = next_after(rule, timezone.now())
        Rule.objects.filter(pk=rule.pk).update(next_run_at=rule.next_run_at)
    _version(rule, actor)
    audit_record(
        actor=actor, action="automation.rule_create", obj=rule, changes={"definition": rule.definition()}
    )
    return rule


@transaction.atomic
def rule_update(*, actor, rule: Rule, version: int, data: dict) -> Rule:
    """Every change is a new version; runs record the version they used."""
    _check_builder(actor)
    _may_edit(actor, rule)
    clean = clean_rule(data, actor=actor, current=rule)
    before = rule.definition()
    current = Rule.objects.select_for_update().get(pk=rule.pk)
    if current.version != version:
        raise ConcurrentEditError(
            by=str(current.updated_by or "?"), at=current.updated_at, current_version=current.version
        )
    for k, v in clean.items():
        setattr(current, k, v)
    current.version += 1
    current.updated_by = actor
    if current.event == events.SCHEDULED and before.get("schedule") != current.schedule:
        from .engine import next_after

        current.next_run_at = next_after(current, timezone.now())
    current.save()
    _version(current, actor)
    after = current.definition()
    audit_record(actor=actor, action="automation.rule_update", obj=current,
                 changes={k: [before[k], after[k]] for k in after if before.get(k) != after[k]})  # fmt: skip
    rule.__dict__.update(current.__dict__)
    return current


@transaction.atomic
def rule_set_active(*, actor, rule: Rule, active: bool) -> Rule:
    """The off switch (turning a rule on again re-checks it for loops)."""
    return rule_update(actor=actor, rule=rule, version=rule.version, data={"active": active})


@transaction.atomic
def rule_delete(*, actor, rule: Rule) -> None:
    _check_builder(actor)
    _may_edit(actor, rule)
    audit_record(actor=actor, action="automation.rule_delete", obj=rule, changes={"name": rule.name})
    rule.delete()


# --- assignment rules -------------------------------------------------------------------------------


def _check_admin(actor) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only administrators may change assignment rules."))


def clean_assignment(data: dict, *, current: AssignmentRule | None = None) -> dict:
    from tradecrm.accounts.models import Team, User
    from tradecrm.grading.models import Tier
    from tradecrm.pool.models import Pool

    errors = Errors()
    d = {**({"name": current.name, "entity": current.entity, "conditions": current.conditions,
             "assign_to": current.assign_to, "user": current.user_id, "team": current.team_id,
             "pool": current.pool_id, "max_holdings": current.max_holdings, "active": current.active}
            if current else {}), **data}  # fmt: skip
    out: dict = {}
    name = " ".join(str(d.get("name") or "").split())
    if not name:
        errors.add("name", _("Give the rule a name."))
    out["name"] = name[:120]
    entity = d.get("entity") or "company"
    if entity not in Entity.values:
        errors.add("entity", _("Unknown record type “%(entity)s”.") % {"entity": entity})
        entity = "company"
    out["entity"] = entity
    out["conditions"] = clean_conditions(d.get("conditions"), fields_for(entity), errors)
    to = d.get("assign_to")
    if to not in AssignTo.values:
        errors.add("assign_to", _("Assign to: user, round_robin, least_loaded or pool."))
    out["assign_to"] = to
    out["user"] = out["team"] = out["pool"] = None
    if to == AssignTo.USER:
        u = User.objects.filter(pk=_int(d.get("user")) or 0).first()
        if u is None or not u.is_active:
            errors.add("user", _("Choose an active user."))
        out["user"] = u
    elif to in (AssignTo.ROUND_ROBIN, AssignTo.LEAST_LOADED):
        t = Team.objects.filter(pk=_int(d.get("team")) or 0).first()
        if t is None:
            errors.add("team", _("Choose a team."))
        elif not User.objects.filter(team=t, is_active=True).exclude(role="admin").exists():
            errors.add("team", _("The team “%(team)s” has no active reps.") % {"team": t.name})
        out["team"] = t
    elif to == AssignTo.POOL:
        p = Pool.objects.filter(pk=_int(d.get("pool")) or 0).first()
        if p is None or not p.active:
            errors.add("pool", _("Choose an active pool."))
        if entity != "company":
            errors.add("assign_to", _("Only customers go to the pool."))
        out["pool"] = p
    mh = d.get("max_holdings")
    out["max_holdings"] = None
    if mh not in (None, ""):
        v = _int(mh)
        if v is None or v < 1:
            errors.add(
                "max_holdings", _("Maximum customers per rep: a whole number of at least 1, or empty.")
            )
        out["max_holdings"] = v
    out["active"] = bool(d.get("active", True))
    # a tier that needs a dedicated account manager is given to a named person, never to a rota
    tiers = set()
    for c in top_level_requirements(out["conditions"]):
        if c["field"] == "tier" and c["op"] in ("eq", "in"):
            tiers |= set(c["value"] if isinstance(c["value"], list) else [c["value"]])
    needing = list(
        Tier.objects.filter(code__in=tiers, requires_account_manager=True).values_list("code", flat=True)
    )
    if needing and to != AssignTo.USER:
        errors.add("assign_to", _("Tier %(tiers)s needs a dedicated account manager: assign to a user.")
                   % {"tiers": ", ".join(sorted(needing))})  # fmt: skip
    errors.raise_if_any()
    return out


def _int(v) -> int | None:
    try:
        return int(v) if v not in (None, "") and not isinstance(v, bool) else None
    except (TypeError, ValueError):
        return None


def _assignment_changes(rule: AssignmentRule) -> dict:
    return {"name": rule.name, "entity": rule.entity, "conditions": rule.conditions, "assign_to": rule.assign_to,
            "user": rule.user_id, "team": rule.team_id, "pool": rule.pool_id, "max_holdings": rule.max_holdings,
            "active": rule.active, "position": rule.position}  # fmt: skip


@transaction.atomic
def assignment_create(*, actor, data: dict) -> AssignmentRule:
    _check_admin(actor)
    clean = clean_assignment(data)
    top = AssignmentRule.objects.filter(entity=clean["entity"]).aggregate(m=Max("position"))["m"]
    rule = AssignmentRule.objects.create(**clean, position=(top or 0) + 10, created_by=actor)
    audit_record(
        actor=actor, action="automation.assignment_create", obj=rule, changes=_assignment_changes(rule)
    )
    return rule


@transaction.atomic
def assignment_update(*, actor, rule: AssignmentRule, version: int, data: dict) -> AssignmentRule:
    _check_admin(actor)
    clean = clean_assignment(data, current=rule)
    if not AssignmentRule.objects.filter(pk=rule.pk, version=version).update(version=F("version") + 1):
        current = AssignmentRule.objects.get(pk=rule.pk)
        raise ConcurrentEditError(by="?", at=current.updated_at, current_version=current.version)
    for k, v in clean.items():
        setattr(rule, k, v)
    rule.version = version + 1
    rule.save()
    audit_record(
        actor=actor, action="automation.assignment_update", obj=rule, changes=_assignment_changes(rule)
    )
    return rule


@transaction.atomic
def assignment_move(*, actor, rule: AssignmentRule, offset: int) -> list[AssignmentRule]:
    """Move a rule up (-1) or down (+1) in its list; positions are renumbered 10, 20, …"""
    _check_admin(actor)
    rules = list(
        AssignmentRule.objects.select_for_update().filter(entity=rule.entity).order_by("position", "id")
    )
    i = next(k for k, r in enumerate(rules) if r.pk == rule.pk)
    j = max(0, min(len(rules) - 1, i + offset))
    rules.insert(j, rules.pop(i))
    for k, r in enumerate(rules):
        if r.position != (k + 1) * 10:
            r.position = (k + 1) * 10
            AssignmentRule.objects.filter(pk=r.pk).update(position=r.position)
    audit_record(actor=actor, action="automation.assignment_order", obj=rule,
                 changes={"order": [r.pk for r in rules]})  # fmt: skip
    return rules


@transaction.atomic
def assignment_delete(*, actor, rule: AssignmentRule) -> None:
    _check_admin(actor)
    audit_record(actor=actor, action="automation.assignment_delete", obj=rule, changes={"name": rule.name})
    rule.delete()
