"""HTML views (thin) of automation: the rules list with the off switch, the rule builder (event,
condition rows, action rows — rows added over htmx — or the definition as JSON), the test on a
sample record, the dry run since a day, the run log; the assignment rules page (order, test box);
the approvals inbox."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tradecrm.core.errors import ConcurrentEditError

from . import approvals, engine, selectors, services
from .actions import ACTION_CHOICES
from .assignment import Assigner
from .conditions import EVENT_FIELDS, OP_LABELS, OPS, fields_for
from .events import EVENT_CHOICES
from .models import AssignTo, Entity, RunStatus

MAX_ROWS = 20


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _builder_only(user) -> None:
    if not services.can_build(user):
        raise Http404


def _choices_ctx() -> dict:
    from tradecrm.accounts.models import Team, User
    from tradecrm.customers.models import Tag
    from tradecrm.pool.models import Pool

    fields = fields_for("company")
    return {
        "events": EVENT_CHOICES, "entities": Entity.choices, "action_types": ACTION_CHOICES,
        "fields": [(n, f.label) for n, f in fields.items()],
        "event_fields": sorted({(f.name, f.label) for fs in EVENT_FIELDS.values() for f in fs}, key=lambda x: x[0]),
        "ops": [(o, OP_LABELS[o]) for o in ("eq", "ne", "in", "not_in", "contains", "startswith", "gt", "gte", "lt", "lte", "empty", "not_empty")],
        "users": list(User.objects.filter(is_active=True).order_by("first_name", "username").only("id", "username", "first_name", "last_name")[:500]),
        "teams": (teams := list(Team.objects.order_by("name"))), "team_targets": [(f"team:{t.pk}", t.name) for t in teams], "tags": list(Tag.objects.order_by("name")[:500]),
        "pools": list(Pool.objects.filter(active=True).order_by("name")),
    }  # fmt: skip


# --- reading the builder's rows ------------------------------------------------------------------------


def _value(field: str, op: str, raw: str):
    raw = (raw or "").strip()
    if op in ("in", "not_in"):
        return [v.strip() for v in raw.split(",") if v.strip()]
    if op in ("empty", "not_empty"):
        return None
    return raw


def conditions_from_post(post) -> dict:
    fields, ops, values = post.getlist("c_field"), post.getlist("c_op"), post.getlist("c_value")
    leaves = []
    for f, o, v in zip(fields, ops, values, strict=False):
        if not f:
            continue
        leaf = {"field": f, "op": o}
        if o not in ("empty", "not_empty"):
            leaf["value"] = _value(f, o, v)
        leaves.append(leaf)
    if not leaves:
        return {}
    return {post.get("c_join") if post.get("c_join") in ("all", "any") else "all": leaves}


def actions_from_post(post) -> list[dict]:
    types, targets, texts, numbers, bodies = (post.getlist("a_type"), post.getlist("a_target"), post.getlist("a_text"),
                                              post.getlist("a_number"), post.getlist("a_body"))  # fmt: skip
    out = []
    for i, t in enumerate(types):
        if not t:
            continue
        target = targets[i] if i < len(targets) else ""
        text = texts[i] if i < len(texts) else ""
        number = numbers[i] if i < len(numbers) else ""
        body = bodies[i] if i < len(bodies) else ""
        a: dict = {"type": t}
        if t == "create_followup":
            a.update(title=text, due_in_days=number or 1, assignee=target or "owner")
        elif t == "assign":
            if target.startswith("team:"):
                a.update(team=target[5:], method=number or "round_robin")
            else:
                a.update(user=target)
        elif t in ("add_tag", "remove_tag"):
            a["tag"] = target
        elif t == "set_field":
            a.update(field=target, value=text)
        elif t == "notify":
            a.update(to=target or "owner", message=text)
        elif t == "send_email":
            a["templates"] = {"en": {"subject": text, "body": body}}
        elif t == "start_approval":
            a.update(title=text, approver=target or "manager")
        elif t == "webhook":
            a.update(url=text, secret=body)
        elif t == "move_to_pool":
            a.update(pool=target, reason=text)
        out.append(a)
    return out


def _rule_data(post) -> dict:
    data = {"name": post.get("name", ""), "description": post.get("description", ""), "event": post.get("event", ""),
            "entity": post.get("entity") or "company", "schedule": post.get("schedule", ""),
            "active": post.get("active") == "on", "max_runs_per_hour": post.get("max_runs_per_hour") or 100,
            "params": {k: post.get(k) for k in ("hours", "days") if post.get(k)}}  # fmt: skip
    raw = (post.get("definition_json") or "").strip()
    if raw:  # the advanced editor: conditions and actions as JSON
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                {"definition_json": [_("Not valid JSON: %(error)s") % {"error": exc}]}
            ) from None
        if not isinstance(parsed, dict):
            raise ValidationError({"definition_json": [_("Give an object with “conditions” and “actions”.")]})
        data["conditions"] = parsed.get("conditions") or {}
        data["actions"] = parsed.get("actions") or []
    else:
        data["conditions"] = conditions_from_post(post)
        data["actions"] = actions_from_post(post)
    return data


def _rows(rule_conditions: dict, actions: list) -> tuple[str, list, list]:
    join = "any" if "any" in (rule_conditions or {}) else "all"
    leaves = [c for c in (rule_conditions or {}).get(join, []) if "field" in c]
    if rule_conditions and "field" in rule_conditions:
        leaves = [rule_conditions]
    crow = [{"field": c["field"], "op": c["op"],
             "value": ", ".join(map(str, c["value"])) if isinstance(c.get("value"), list) else (c.get("value") or "")}
            for c in leaves]  # fmt: skip
    arow = []
    for a in actions or []:
        t = a.get("type")
        target = (
            a.get("assignee")
            or a.get("user")
            or a.get("tag")
            or a.get("field")
            or a.get("to")
            or a.get("approver")
            or a.get("pool")
            or ""
        )
        if t == "assign" and a.get("team"):
            target = f"team:{a['team']}"
        text = a.get("title") or a.get("value") or a.get("message") or a.get("url") or a.get("reason") or ""
        if t == "send_email":
            text = (a.get("templates") or {}).get("en", {}).get("subject", "")
        body = (
            (a.get("templates") or {}).get("en", {}).get("body", "")
            if t == "send_email"
            else a.get("secret", "")
        )
        arow.append({"type": t, "target": str(target), "text": text, "number": a.get("due_in_days", a.get("method", "")),
                     "body": body})  # fmt: skip
    return join, crow, arow


# --- rules ------------------------------------------------------------------------------------------


@login_required
def rule_list(request):
    _builder_only(request.user)
    rules = list(selectors.rules_for_user(request.user).order_by("name", "id"))
    return render(request, "automation/rule_list.html", {"nav": "automation", "rules": rules})


@login_required
def rule_form(request, pk: int | None = None):
    _builder_only(request.user)
    rule = selectors.rule_get_for_user(request.user, pk) if pk else None
    errors: dict = {}
    post = None
    if request.method == "POST":
        post = request.POST
        try:
            data = _rule_data(post)
            if rule is None:
                rule = services.rule_create(actor=request.user, data=data)
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
            else:
                version = int(post.get("version") or 0)
                rule = services.rule_update(actor=request.user, rule=rule, version=version, data=data)
                messages.success(
                    request,
                    _("Rule “%(name)s” saved (version %(v)s).") % {"name": rule.name, "v": rule.version},
                )
            return redirect(reverse("automation:rule_edit", args=[rule.pk]))
        except ValidationError as exc:
            errors = _errors(exc)
        except ConcurrentEditError:
            errors = {"__all__": [_("Someone changed the rule meanwhile: reload the page.")]}
        except PermissionDenied as exc:
            errors = {"__all__": [str(exc)]}
    if post is not None:
        cond, acts = conditions_from_post(post), actions_from_post(post)
    else:
        cond, acts = (rule.conditions, rule.actions) if rule else ({}, [])
    join, crow, arow = _rows(cond, acts)
    ctx = {"nav": "automation", "rule": rule, "errors": errors, "post": post, "join": join,
           "crows": crow or [{}], "arows": arow or [{}], **_choices_ctx(),
           "runs": list(selectors.runs_for_user(request.user, rule)[:20]) if rule else [],
           "today": timezone.localdate() - dt.timedelta(days=30)}  # fmt: skip
    return render(request, "automation/rule_form.html", ctx)


@login_required
def condition_row(request):
    _builder_only(request.user)
    return render(request, "automation/_condition_row.html", {"c": {}, **_choices_ctx()})


@login_required
def action_row(request):
    _builder_only(request.user)
    return render(request, "automation/_action_row.html", {"a": {}, **_choices_ctx()})


@login_required
@require_POST
def rule_toggle(request, pk: int):
    rule = selectors.rule_get_for_user(request.user, pk)
    try:
        services.rule_set_active(actor=request.user, rule=rule, active=not rule.active)
    except ValidationError as exc:
        for ms in _errors(exc).values():
            for m in ms:
                messages.error(request, m)
    else:
        messages.success(
            request,
            (_("“%(name)s” is on.") if rule.active else _("“%(name)s” is off.")) % {"name": rule.name},
        )
    return redirect(reverse("automation:rules"))


@login_required
def rule_dry_run(request, pk: int):
    rule = selectors.rule_get_for_user(request.user, pk)
    raw = request.GET.get("since") or ""
    try:
        day = dt.date.fromisoformat(raw) if raw else timezone.localdate() - dt.timedelta(days=30)
    except ValueError:
        messages.error(request, _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": raw})
        day = timezone.localdate() - dt.timedelta(days=30)
    result = engine.dry_run(rule, timezone.make_aware(dt.datetime.combine(day, dt.time())))
    return render(
        request,
        "automation/dry_run.html",
        {"nav": "automation", "rule": rule, "since": day, "result": result},
    )


@login_required
@require_POST
def rule_test(request, pk: int):
    rule = selectors.rule_get_for_user(request.user, pk)
    from tradecrm.customers.selectors import company_get_for_user

    raw = request.POST.get("company") or ""
    result, error = None, ""
    if not raw.isdigit():
        error = _("Enter a customer's number (id).")
    else:
        try:
            company = company_get_for_user(request.user, int(raw))
            result = engine.test_on_record(rule.definition(), obj_type="company", obj_id=company.pk)
            result["company"] = company.name
        except Http404:
            error = _("No customer %(id)s that you may see.") % {"id": raw}
    return render(request, "automation/_test_result.html", {"result": result, "error": error})


@login_required
def run_list(request):
    _builder_only(request.user)
    qs = selectors.runs_for_user(request.user)
    rule = None
    if (request.GET.get("rule") or "").isdigit():
        rule = selectors.rule_get_for_user(request.user, int(request.GET["rule"]))
        qs = qs.filter(rule=rule)
    status = request.GET.get("status") or ""
    if status in RunStatus.values:
        qs = qs.filter(status=status)
    return render(request, "automation/run_list.html", {"nav": "automation", "runs": list(qs[:200]), "rule": rule,
                                                         "statuses": RunStatus.choices, "status": status})  # fmt: skip


# --- assignment rules ------------------------------------------------------------------------------------


@login_required
def assignment_list(request):
    if not request.user.is_admin:
        raise Http404
    errors: dict = {}
    if request.method == "POST":
        data = {"name": request.POST.get("name", ""), "entity": request.POST.get("entity") or "company",
                "assign_to": request.POST.get("assign_to", ""), "user": request.POST.get("user") or None,
                "team": request.POST.get("team") or None, "pool": request.POST.get("pool") or None,
                "max_holdings": request.POST.get("max_holdings") or None,
                "conditions": conditions_from_post(request.POST)}  # fmt: skip
        try:
            rule = services.assignment_create(actor=request.user, data=data)
            messages.success(request, _("Assignment rule “%(name)s” added at the end.") % {"name": rule.name})
            return redirect(reverse("automation:assignment"))
        except ValidationError as exc:
            errors = _errors(exc)
    rules = list(selectors.assignment_rules_for_user(request.user))
    return render(request, "automation/assignment_list.html", {
        "nav": "automation", "rules": rules, "errors": errors, "post": request.POST if errors else None,
        "targets": AssignTo.choices, **_choices_ctx(), "crows": [{}], "join": "all"})  # fmt: skip


@login_required
@require_POST
def assignment_move(request, pk: int):
    rule = selectors.assignment_get_for_user(request.user, pk)
    services.assignment_move(
        actor=request.user, rule=rule, offset=-1 if request.POST.get("dir") == "up" else 1
    )
    return redirect(reverse("automation:assignment"))


@login_required
@require_POST
def assignment_toggle(request, pk: int):
    rule = selectors.assignment_get_for_user(request.user, pk)
    try:
        services.assignment_update(
            actor=request.user, rule=rule, version=rule.version, data={"active": not rule.active}
        )
    except ValidationError as exc:
        for ms in _errors(exc).values():
            for m in ms:
                messages.error(request, m)
    return redirect(reverse("automation:assignment"))


@login_required
@require_POST
def assignment_delete(request, pk: int):
    rule = selectors.assignment_get_for_user(request.user, pk)
    services.assignment_delete(actor=request.user, rule=rule)
    messages.success(request, _("Assignment rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect(reverse("automation:assignment"))


@login_required
@require_POST
def assignment_test(request):
    if not request.user.is_admin:
        raise Http404
    p = request.POST
    sample = {"country": (p.get("country") or "").strip().upper(), "source": p.get("source") or "",
              "preferred_language": (p.get("language") or "").strip(), "tier": p.get("tier") or "",
              "main_products": p.get("products") or "", "channel": p.get("source") or "",
              "hs_codes": [c.strip() for c in (p.get("hs_codes") or "").split(",") if c.strip()]}  # fmt: skip
    trace = Assigner(p.get("entity") or "company").trace(sample)
    from tradecrm.accounts.models import User

    names = {
        u.pk: str(u)
        for u in User.objects.filter(pk__in=[t["decision"]["owner"] for t in trace if t["decision"]])
    }
    for t in trace:
        if t["decision"]:
            t["owner_name"] = names.get(t["decision"]["owner"], "")
    return render(request, "automation/_assignment_trace.html", {"trace": trace})


# --- approvals ------------------------------------------------------------------------------------------


@login_required
def approval_list(request):
    status = request.GET.get("status", "pending")
    rows = list(approvals.approvals_for_user(request.user, status=status or None)[:200])
    for a in rows:
        a.decidable = a.status == "pending" and approvals.can_decide(request.user, a)
    return render(request, "automation/approvals.html", {"nav": "automation", "rows": rows, "status": status})


@login_required
@require_POST
def approval_decide(request, pk: int):
    a = approvals.approval_get_for_user(request.user, pk)
    try:
        approvals.approval_decide(actor=request.user, approval=a, approve=request.POST.get("decision") == "approve",
                                  reason=request.POST.get("reason", ""))  # fmt: skip
    except (ValidationError, PermissionDenied) as exc:
        msgs = (
            [m for ms in _errors(exc).values() for m in ms]
            if isinstance(exc, ValidationError)
            else [str(exc)]
        )
        for m in msgs:
            messages.error(request, m)
    else:
        messages.success(request, _("Decision recorded: %(title)s") % {"title": a.title})
    return redirect(reverse("automation:approvals"))


@login_required
@require_POST
def approval_pool_claim(request, company_pk: int):
    """The pool page's "Ask a manager" button once the daily claim limit is reached."""
    from django.utils.http import url_has_allowed_host_and_scheme

    try:
        a = approvals.pool_claim_request(actor=request.user, company_id=company_pk,
                                         reason=request.POST.get("reason", ""))  # fmt: skip
    except ValidationError as exc:
        for m in [m for ms in _errors(exc).values() for m in ms]:
            messages.error(request, m)
    else:
        messages.success(request, _("Asked a manager: %(title)s") % {"title": a.title})
    back = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("automation:approvals")
    return redirect(back)


@login_required
@require_POST
def approval_proforma_credit(request, proforma_pk: int):
    """The proforma invoice page's "Ask a manager" button for credit terms (O/A, D/A)."""
    from tradecrm.documents.selectors import proforma_get_for_user

    pi = proforma_get_for_user(request.user, proforma_pk)
    try:
        a = approvals.proforma_credit_request(actor=request.user, proforma=pi)
    except ValidationError as exc:
        for m in [m for ms in _errors(exc).values() for m in ms]:
            messages.error(request, m)
    else:
        messages.success(request, _("Asked a manager: %(title)s") % {"title": a.title})
    return redirect(reverse("documents:proforma_detail", args=[pi.pk]))


__all__ = ["OPS"]
