"""The actions a workflow rule may take: validated when the rule is saved (`clean_actions`, against
what the rule's author may do), run per record (`run_action`) or set-based for scheduled rules
(`run_set_based`, one statement per action where the action allows it).

Actions run as the rule's author. Network actions (webhook, email) raise `Retryable` on failure:
the engine records the failure and retries with back-off; the user's save never waits for them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tradecrm.core.errors import Errors

from .conditions import fields_for

ACTION_CHOICES = [
    ("create_followup", gettext_lazy("Create a follow-up")),
    ("assign", gettext_lazy("Assign / reassign")),
    ("add_tag", gettext_lazy("Add a tag")),
    ("remove_tag", gettext_lazy("Remove a tag")),
    ("set_field", gettext_lazy("Set a field")),
    ("notify", gettext_lazy("Send an internal notification")),
    ("send_email", gettext_lazy("Send a templated email")),
    ("start_approval", gettext_lazy("Start an approval")),
    ("webhook", gettext_lazy("Call a webhook")),
    ("move_to_pool", gettext_lazy("Move to the pool")),
]
ACTIONS = frozenset(a for a, _l in ACTION_CHOICES)
ADMIN_ONLY = frozenset({"webhook", "send_email", "move_to_pool", "set_field"})
RETRYABLE = frozenset({"webhook", "send_email"})
SET_BASED = frozenset({"add_tag", "remove_tag", "set_field", "create_followup", "notify"})
NOTICE = "automation_notice"
MAX_ACTIONS = 10


class Retryable(Exception):
    """A transient failure (SMTP down, webhook 5xx): retried with back-off."""


def _int(v) -> int | None:
    try:
        return int(v) if not isinstance(v, bool) else None
    except (TypeError, ValueError):
        return None


def clean_actions(actions, *, author, errors: Errors, entity: str = "company") -> list[dict]:
    from tradecrm.accounts.access import visible_team_ids
    from tradecrm.accounts.models import Role, Team, User
    from tradecrm.customers.models import Tag
    from tradecrm.pool.models import Pool

    if not isinstance(actions, list) or not actions:
        errors.add("actions", _("Add at least one action."))
        return []
    if len(actions) > MAX_ACTIONS:
        errors.add("actions", _("At most %(n)s actions per rule.") % {"n": MAX_ACTIONS})
        return []
    is_admin = getattr(author, "is_admin", False)
    teams = None if is_admin else set(visible_team_ids(author) or [])
    out = []
    for i, a in enumerate(actions):
        where = f"actions[{i}]"
        if not isinstance(a, dict) or a.get("type") not in ACTIONS:
            errors.add(where, _("Unknown action “%(type)s” (known: %(known)s).")
                       % {"type": a.get("type") if isinstance(a, dict) else a, "known": ", ".join(sorted(ACTIONS))})  # fmt: skip
            continue
        t = a["type"]
        if t in ADMIN_ONLY and not is_admin:
            errors.add(where, _("Only an administrator may use the action “%(type)s”.") % {"type": t})
            continue
        c: dict[str, Any] = {"type": t}
        if t == "create_followup":
            title = " ".join(str(a.get("title") or "").split())
            if not title:
                errors.add(where, _("Say what the follow-up is (title)."))
            days = _int(a.get("due_in_days", 1))
            if days is None or not 0 <= days <= 365:
                errors.add(where, _("Due in days: a whole number from 0 to 365."))
            c.update(title=title[:255], due_in_days=days or 0, assignee=_clean_person(a.get("assignee", "owner"), where,
                                                                                      errors, teams))  # fmt: skip
        elif t == "assign":
            if a.get("user"):
                c["user"] = _clean_person(a.get("user"), where, errors, teams, allow_roles=False)
            elif a.get("team"):
                tid = _int(a.get("team"))
                if not Team.objects.filter(pk=tid or 0).exists():
                    errors.add(where, _("There is no team with id %(id)s.") % {"id": a.get("team")})
                elif teams is not None and tid not in teams:
                    errors.add(where, _("You may not assign to a team you do not manage."))
                method = a.get("method") or "round_robin"
                if method not in ("round_robin", "least_loaded"):
                    errors.add(where, _("Method: round_robin or least_loaded."))
                c.update(team=tid, method=method)
            else:
                errors.add(where, _("Assign to a user or a team."))
        elif t in ("add_tag", "remove_tag"):
            tid = _int(a.get("tag"))
            tag = Tag.objects.filter(pk=tid or 0).first()
            if tag is None:
                errors.add(where, _("There is no tag with id %(id)s.") % {"id": a.get("tag")})
            elif teams is not None and tag.team_id is not None and tag.team_id not in teams:
                errors.add(where, _("The tag “%(tag)s” belongs to another team.") % {"tag": tag.name})
            c["tag"] = tid
        elif t == "set_field":
            f = fields_for(entity).get(a.get("field"))
            if f is None or not f.settable:
                settable = [n for n, x in fields_for(entity).items() if x.settable]
                errors.add(where, _("The field “%(field)s” cannot be set by a rule (settable: %(ok)s).")
                           % {"field": a.get("field"), "ok": ", ".join(settable)})  # fmt: skip
            else:
                value = str(a.get("value") if a.get("value") is not None else "").strip()
                if f.choices and value not in f.choices():
                    errors.add(
                        where,
                        _("“%(value)s” is not a value of “%(field)s”.") % {"value": value, "field": f.label},
                    )
                c.update(field=f.name, value=value[:120])
        elif t == "notify":
            message = str(a.get("message") or "").strip()
            if not message:
                errors.add(where, _("Write the notification's text."))
            c.update(to=_clean_person(a.get("to", "owner"), where, errors, teams), message=message[:500])
        elif t == "send_email":
            templates = a.get("templates")
            if not isinstance(templates, dict) or "en" not in templates:
                errors.add(where, _("Give the email at least in English: templates.en.subject and .body."))
                templates = {}
            clean_t = {}
            for lang, tpl in templates.items():
                if lang not in ("en", "zh-hans", "de", "fr", "es", "ru", "ar", "pt", "ja"):
                    errors.add(where, _("Unknown language “%(lang)s”.") % {"lang": lang})
                    continue
                if (
                    not isinstance(tpl, dict)
                    or not str(tpl.get("subject") or "").strip()
                    or not str(tpl.get("body") or "").strip()
                ):
                    errors.add(where, _("The %(lang)s email needs a subject and a body.") % {"lang": lang})
                    continue
                clean_t[lang] = {"subject": str(tpl["subject"])[:200], "body": str(tpl["body"])[:10000]}
                for part in clean_t[lang].values():
                    try:
                        _render(part, {})
                    except Exception as exc:  # noqa: BLE001 - any template error is the author's to fix
                        errors.add(where, _("Template error: %(error)s") % {"error": exc})
            c["templates"] = clean_t
        elif t == "start_approval":
            title = " ".join(str(a.get("title") or "").split())
            if not title:
                errors.add(where, _("Say what is to be approved (title)."))
            approver = a.get("approver", "manager")
            if approver != "manager":
                uid = _int(approver)
                u = User.objects.filter(pk=uid or 0, is_active=True).first()
                if u is None or u.role not in (Role.ADMIN, Role.MANAGER):
                    errors.add(where, _("The approver must be an active manager or administrator."))
                approver = uid
            c.update(title=title[:255], approver=approver)
        elif t == "webhook":
            url = str(a.get("url") or "").strip()
            if not url.startswith(("https://", "http://")):
                errors.add(where, _("The webhook URL must start with https:// (or http://)."))
            c.update(url=url[:500], secret=str(a.get("secret") or "")[:200])
        elif t == "move_to_pool":
            pid = _int(a.get("pool"))
            pool = Pool.objects.filter(pk=pid or 0).first()
            if pool is None:
                errors.add(where, _("There is no pool with id %(id)s.") % {"id": a.get("pool")})
            elif not pool.active:
                errors.add(where, _("The pool “%(pool)s” is not active.") % {"pool": pool.name})
            reason = " ".join(str(a.get("reason") or "").split())
            if not reason:
                errors.add(where, _("Say why the customer goes to the pool (the next owner reads it)."))
            c.update(pool=pid, reason=reason[:255])
        out.append(c)
    return out


def _clean_person(value, where: str, errors: Errors, teams, allow_roles: bool = True):
    from tradecrm.accounts.models import User

    if allow_roles and value in ("owner", "manager"):
        return value
    uid = _int(value)
    u = User.objects.filter(pk=uid or 0, is_active=True).first()
    if u is None:
        errors.add(where, _("No active user with id %(id)s.") % {"id": value})
    elif teams is not None and u.team_id not in teams:
        errors.add(where, _("You may not act for %(user)s (not in a team you manage).") % {"user": u})
    return uid


def produced_events(action: dict) -> list[tuple[str, set[str]]]:
    """What running the action can trigger (for the cycle check): [(event, fields changed)]."""
    t = action["type"]
    if t == "set_field":
        return [("record.updated", {action["field"]})]
    if t in ("assign", "move_to_pool"):
        return [("record.updated", {"owner"})]
    if t in ("add_tag", "remove_tag"):
        return [("record.updated", {"tags"})]
    return []


# --- running, per record -----------------------------------------------------------------------------


def _render(text: str, context: dict) -> str:
    from django.template import Context, Engine

    engine = Engine(autoescape=False)
    return engine.from_string(text).render(Context(context))


def _managers_of(company) -> list:
    from tradecrm.accounts.models import Role, Team, User

    if not company.team_id:
        return list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id")[:1])
    team = Team.objects.filter(pk=company.team_id).first()
    ancestors = [int(x) for x in (team.path.strip("/").split("/") if team and team.path else []) if x]
    return list(User.objects.filter(role=Role.MANAGER, is_active=True, team_id__in=ancestors).order_by("id"))


def _person(spec, company) -> list:
    from tradecrm.accounts.models import User

    if spec == "owner":
        return [company.owner] if company.owner_id and company.owner.is_active else _managers_of(company)
    if spec == "manager":
        return _managers_of(company)
    u = User.objects.filter(pk=spec, is_active=True).first()
    return [u] if u else []


def _company_url(company_id: int) -> str:
    return reverse("customers:company_detail", args=[company_id])


def run_action(action: dict, *, company, record, author, rule, run, now: dt.datetime) -> dict:
    """Run one action on one record (inside the engine's transaction). Returns its result; raises
    Retryable for transient failures and any other exception for a plain failure."""
    from tradecrm.audit.services import audit_record
    from tradecrm.customers.models import Company, CompanyTag
    from tradecrm.followups.notifications import notify

    t = action["type"]
    if company is None and t not in ("webhook", "notify"):
        return {"type": t, "ok": False, "detail": _("No customer to act on.")}
    if t == "create_followup":
        from tradecrm.followups.services import followup_create

        people = _person(action["assignee"], company)
        if not people:
            return {"type": t, "ok": False, "detail": _("Nobody to assign the follow-up to.")}
        due = now + dt.timedelta(days=action["due_in_days"])
        fu = followup_create(actor=author, company=company, data={
            "title": action["title"], "due_at": due.isoformat(), "assignee": people[0].pk,
            "notes": _("Created by the rule “%(rule)s”.") % {"rule": rule.name}})  # fmt: skip
        return {"type": t, "ok": True, "detail": f"followup {fu.pk}", "followup": fu.pk}
    if t == "assign":
        from .assignment import Assigner, Decision, apply_to_company
        from .models import AssignmentRule

        if action.get("user"):
            decision = Decision(
                0, rule.name, user_id=action["user"], why=[_("rule “%(rule)s”") % {"rule": rule.name}]
            )
            from tradecrm.accounts.models import User

            decision.team_id = (
                User.objects.filter(pk=action["user"]).values_list("team_id", flat=True).first()
            )
        else:
            fake = AssignmentRule(id=-rule.pk, name=rule.name, assign_to=action["method"], team_id=action["team"],
                                  conditions={})  # fmt: skip
            assigner = Assigner("company", rules=[fake])
            decision = assigner.decide({})
            if decision is None:
                return {"type": t, "ok": False, "detail": _("Nobody in the team can take the customer.")}
        if decision.user_id == company.owner_id:
            return {"type": t, "ok": True, "detail": _("already the owner"), "changed": False}
        apply_to_company(company=company, decision=decision, actor=author, now=now)
        return {"type": t, "ok": True, "detail": f"owner {decision.user_id}", "changed": True}
    if t == "add_tag":
        _obj, created = CompanyTag.objects.get_or_create(company_id=company.pk, tag_id=action["tag"])
        if created:
            audit_record(
                actor=author,
                action="automation.tag_add",
                obj=company,
                changes={"tag": action["tag"], "rule": rule.pk},
            )
        return {"type": t, "ok": True, "changed": created}
    if t == "remove_tag":
        n, _d = CompanyTag.objects.filter(company_id=company.pk, tag_id=action["tag"]).delete()
        if n:
            audit_record(
                actor=author,
                action="automation.tag_remove",
                obj=company,
                changes={"tag": action["tag"], "rule": rule.pk},
            )
        return {"type": t, "ok": True, "changed": bool(n)}
    if t == "set_field":
        f = action["field"]
        before = getattr(company, f)
        if before == action["value"]:
            return {"type": t, "ok": True, "changed": False}
        Company.objects.filter(pk=company.pk).update(
            **{f: action["value"]}, version=F("version") + 1, updated_at=now
        )
        setattr(company, f, action["value"])
        audit_record(actor=author, action="automation.set_field", obj=company,
                     changes={f: [before, action["value"]], "rule": rule.pk})  # fmt: skip
        return {"type": t, "ok": True, "changed": True, "field": f}
    if t == "notify":
        people = _person(action["to"], company) if company is not None else _person(action["to"], record)
        for u in people:
            notify(u, NOTICE, {"rule": rule.name, "message": action["message"],
                               "company": company.name if company else ""},
                   url=_company_url(company.pk) if company else "", company=company,
                   key=f"auto:{run.pk}:{u.pk}")  # fmt: skip
        return {"type": t, "ok": True, "detail": f"{len(people)} notified"}
    if t == "send_email":
        return _send_email(action, company=company, rule=rule, run=run)
    if t == "start_approval":
        from .approvals import approval_request

        approver = action["approver"]
        ap = approval_request(actor=author, kind="rule", obj_type=run.obj_type or "company",
                              obj_id=run.obj_id or company.pk, company=company, title=action["title"],
                              params={"rule": rule.pk}, approver_id=approver if approver != "manager" else None,
                              run=run)  # fmt: skip
        return {"type": t, "ok": True, "detail": f"approval {ap.pk}", "approval": ap.pk}
    if t == "webhook":
        payload = {"rule": rule.pk, "rule_name": rule.name, "event": run.event, "obj_type": run.obj_type,
                   "obj_id": run.obj_id, "changes": run.inputs.get("changes", {}), "run": run.pk}  # fmt: skip
        status = call_webhook(action["url"], payload, secret=action.get("secret", ""))
        return {"type": t, "ok": True, "detail": f"HTTP {status}"}
    if t == "move_to_pool":
        from tradecrm.pool.models import CompanyLock, Pool
        from tradecrm.pool.services import _into_pool

        if not company.owner_id:
            return {"type": t, "ok": True, "changed": False, "detail": _("already in the pool")}
        if CompanyLock.objects.filter(company_id=company.pk).exists():
            return {"type": t, "ok": False, "detail": _("The customer is locked.")}
        pool = Pool.objects.get(pk=action["pool"])
        _into_pool(company_id=company.pk, owner_id=company.owner_id, pool=pool, kind="release",
                   reason=action["reason"], params={"rule": rule.pk}, actor=author, now=now)  # fmt: skip
        return {"type": t, "ok": True, "changed": True}
    raise ValueError(t)


def _send_email(action: dict, *, company, rule, run) -> dict:
    from django.core.mail import send_mail

    to = company.email or ""
    if not to:
        from tradecrm.customers.models import Contact

        to = Contact.objects.filter(company_id=company.pk).exclude(email="").order_by("-is_primary", "id").values_list(
            "email", flat=True).first() or ""  # fmt: skip
    if not to:
        return {"type": "send_email", "ok": False, "detail": _("The customer has no email address.")}
    lang = (company.preferred_language or "en").lower()
    templates = action["templates"]
    tpl = templates.get(lang) or templates.get(lang.split("-")[0]) or templates["en"]
    ctx = {"company": company.name, "country": company.country, "owner": str(company.owner or "")}
    with translation.override(lang if lang in templates else "en"):
        subject, body = _render(tpl["subject"], ctx), _render(tpl["body"], ctx)
    try:
        send_mail(subject.strip()[:200], body, None, [to])
    except Exception as exc:  # noqa: BLE001 - SMTP errors of every kind are transient here
        raise Retryable(f"{type(exc).__name__}: {exc}") from exc
    return {"type": "send_email", "ok": True, "detail": to}


def call_webhook(url: str, payload: dict, *, secret: str = "", timeout: float = 5.0) -> int:
    """POST the payload as JSON, signed (X-TradeCRM-Signature: sha256=HMAC of the body). Uses the
    integrations app's webhook_call when it exists; a 5xx, timeout or refused connection is
    Retryable, a 4xx is a plain failure."""
    try:
        from tradecrm.integrations.services import webhook_call
    except ImportError:  # pragma: no cover - the integrations app ships it
        webhook_call = None
    if webhook_call is not None:
        result = webhook_call(url, payload, secret or None, event=f"automation.{payload.get('event', '')}")
        if result.ok:
            return result.status or 200
        if result.status is None or result.status >= 500 or result.status == 429:
            raise Retryable(result.error or f"HTTP {result.status}")
        raise RuntimeError(result.error or f"HTTP {result.status}")
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "TradeCRM-automation"}
    if secret:
        headers["X-TradeCRM-Signature"] = (
            "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        )
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http(s) checked when saved
            return resp.status
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code == 429:
            raise Retryable(f"HTTP {exc.code}") from exc
        raise RuntimeError(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise Retryable(f"{type(exc).__name__}: {exc}") from exc


# --- running, set-based (scheduled rules) -------------------------------------------------------------


def _sql(qs) -> tuple[str, tuple]:
    return qs.query.sql_with_params()


def run_set_based(action: dict, ids_qs, *, rule, author, now: dt.datetime, run) -> int:
    """Apply `action` to every customer of `ids_qs` (a queryset of customers, values("id")) in one
    or two statements. Idempotent: a second run of the same period changes nothing."""
    from tradecrm.customers.models import Company, CompanyTag
    from tradecrm.followups.models import FollowUp, FollowUpStatus

    t = action["type"]
    if t == "add_tag":
        tagged = CompanyTag.objects.filter(company_id=OuterRef("pk"), tag_id=action["tag"])
        target = ids_qs.exclude(Exists(tagged))
        sub, params = _sql(target.values("id"))
        _audit_rows(sub, params, action="automation.tag_add", author=author, now=now,
                    changes=(("tag", _INT, action["tag"]), ("rule", _INT, rule.pk)))  # fmt: skip
        with connection.cursor() as cur:
            cur.execute(f"INSERT INTO customers_companytag (company_id, tag_id) SELECT u.id, %s FROM ({sub}) u",
                        (action["tag"], *params))  # fmt: skip
            return max(cur.rowcount, 0)
    if t == "remove_tag":
        target = ids_qs.filter(
            Exists(CompanyTag.objects.filter(company_id=OuterRef("pk"), tag_id=action["tag"]))
        )
        sub, params = _sql(target.values("id"))
        _audit_rows(sub, params, action="automation.tag_remove", author=author, now=now,
                    changes=(("tag", _INT, action["tag"]), ("rule", _INT, rule.pk)))  # fmt: skip
        n, _d = CompanyTag.objects.filter(tag_id=action["tag"], company_id__in=ids_qs.values("id")).delete()
        return n
    if t == "set_field":
        f = action["field"]
        target = Company.objects.filter(pk__in=ids_qs.values("id")).exclude(**{f: action["value"]})
        sub, params = _sql(target.values("id", f))
        _audit_rows(sub, params, action="automation.set_field", author=author, now=now,
                    changes=((f, _pair(f), action["value"]), ("rule", _INT, rule.pk)))  # fmt: skip
        return target.update(**{f: action["value"]}, version=F("version") + 1, updated_at=now)
    if t == "create_followup":
        due = now + dt.timedelta(days=action["due_in_days"])
        have = FollowUp.objects.filter(
            company_id=OuterRef("pk"), status=FollowUpStatus.OPEN, title=action["title"]
        )
        target = ids_qs.exclude(Exists(have)).filter(owner__isnull=False, owner__is_active=True)
        assignee = action["assignee"]
        if assignee not in ("owner", "manager"):
            target = target.annotate(_assignee=_const(assignee))
        sub, params = _sql(
            target.values("id", "owner_id" if assignee in ("owner", "manager") else "_assignee")
        )
        notes = _("Created by the rule “%(rule)s”.") % {"rule": rule.name}
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO followups_followup (created_at, updated_at, company_id, assignee_id, title, notes, "
                "due_at, priority, status, kind, recurrence, created_by_id, version) "
                f"SELECT %s, %s, u.id, u.{'owner_id' if assignee in ('owner', 'manager') else '_assignee'}, %s, %s, "
                f"%s, 2, 'open', 'manual', '', %s, 1 FROM ({sub}) u",
                (now, now, action["title"], notes, due, getattr(author, "pk", None), *params),
            )
            n = max(cur.rowcount, 0)
        if n:
            from django.db.models import Subquery

            earliest = (FollowUp.objects.filter(company_id=OuterRef("pk"), status=FollowUpStatus.OPEN)
                        .order_by("due_at").values("due_at")[:1])  # fmt: skip
            Company.objects.filter(pk__in=ids_qs.values("id")).filter(
                Q(next_followup_at__isnull=True) | Q(next_followup_at__gt=due)
            ).update(next_followup_at=Subquery(earliest))
        return n
    if t == "notify":
        key = f"auto:{rule.pk}:{(run.inputs or {}).get('period') or run.pk}"  # once per rule and period
        sub, params = _sql(
            ids_qs.filter(owner__isnull=False, owner__is_active=True).values("id", "owner_id", "name")
        )
        obj = "json_object" if connection.vendor == "sqlite" else "jsonb_build_object"
        with connection.cursor() as cur:
            cur.execute(
                'INSERT INTO followups_notification (user_id, kind, params, url, company_id, followup_id, "key", '
                f"created_at) SELECT u.owner_id, %s, {obj}('rule', CAST(%s AS TEXT), 'message', CAST(%s AS TEXT), "
                f"'company', u.name), '', u.id, NULL, CAST(%s AS TEXT) || CAST(u.id AS TEXT), %s FROM ({sub}) u "
                "WHERE 1 = 1 ON CONFLICT DO NOTHING",
                (NOTICE, rule.name, action["message"], key + ":", now, *params),
            )
            return max(cur.rowcount, 0)
    raise ValueError(t)


_INT = "CAST(%s AS BIGINT)"


def _pair(column: str) -> str:
    """SQL for [the column's current value, the new value (a parameter)] as a JSON array."""
    arr = "json_array" if connection.vendor == "sqlite" else "jsonb_build_array"
    return f"{arr}(u.{connection.ops.quote_name(column)}, CAST(%s AS TEXT))"


def _audit_rows(sub: str, params, *, action: str, author, now: dt.datetime, changes: tuple) -> int:
    """One audit event per customer of `sub` (a SELECT with an `id` column), written in one
    INSERT … SELECT in the action's transaction: the same events as the per-record path, with
    `changes` built in SQL from (key, SQL expression, parameter) triples. They are sealed into the
    hash chain by the worker's minutely backstop (audit.tasks), not after each chunk's commit:
    sealing ~175 µs per event in Python would double a large run's time."""
    from tradecrm.audit.context import current

    obj = "json_object" if connection.vendor == "sqlite" else "jsonb_build_object"
    parts, values = [], []
    for key, expr, value in changes:
        parts.append(f"CAST(%s AS TEXT), {expr}")
        values += [key, value]
    ctx = current()
    ip = "CAST(%s AS inet)" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO audit_auditevent (at, actor_id, actor_name, action, object_type, object_id, changes, "
            f"source, ip, hash) SELECT %s, %s, %s, %s, 'customers.company', u.id, {obj}({', '.join(parts)}), %s, "
            f"{ip}, '' FROM ({sub}) u",
            (now, getattr(author, "pk", None), getattr(author, "username", "") or "", action, *values, ctx.source,
             ctx.ip, *params),
        )  # fmt: skip
        return max(cur.rowcount, 0)


def _const(value):
    from django.db.models import IntegerField, Value

    return Value(int(value), output_field=IntegerField())


def render_notice(p: dict) -> str:
    text = _("Rule “%(rule)s”: %(message)s") % {"rule": p.get("rule", ""), "message": p.get("message", "")}
    if p.get("company"):
        text += f" ({p['company']})"
    return text
