"""Evaluating workflow rules: per event (`handle_event`, from the huey task that `events.emit`
queues after the commit), per timer scan (`scan_timers`), per schedule (`run_scheduled`), and as a
dry run over past data (`dry_run`).

Safeguards: a rule never fires on an event its own actions caused (the chain of rules travels with
the event) and no chain goes deeper than MAX_DEPTH; each rule runs at most `max_runs_per_hour`
times an hour (further events are logged as rate limited); each run is logged with its inputs, the
rule version and every action's result. Local actions run in one transaction per action; network
actions (webhook, email) run outside any transaction and are retried with back-off when they fail.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import events
from .actions import RETRYABLE, SET_BASED, Retryable, produced_events, run_action, run_set_based
from .conditions import annotate_for, compile_predicate, explain, fields_for, to_q
from .models import Rule, RuleRun, RunStatus

MAX_DEPTH = 3
SCHEDULED_CHUNK = 10_000  # customers per transaction of a scheduled rule's action
RETRY_DELAYS = (60, 300, 1800)  # seconds before the 1st, 2nd, 3rd retry

# --- loading records ------------------------------------------------------------------------------


def company_of(obj_type: str, obj_id: int):
    """The customer an event is about (None: none)."""
    from tradecrm.customers.models import Company

    if obj_id is None:
        return None
    if obj_type == events.OBJ_COMPANY:
        return Company.objects.select_related("owner").filter(pk=obj_id).first()
    model = _model(obj_type)
    if model is None:
        return None
    row = model.objects.filter(pk=obj_id).values("company_id").first() if _has(model, "company") else None
    if not row or not row["company_id"]:
        return None
    return Company.objects.select_related("owner").filter(pk=row["company_id"]).first()


def _has(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
        return True
    except Exception:  # noqa: BLE001
        return False


def _model(obj_type: str):
    from django.apps import apps

    mapping = {"inquiry": "sales.Inquiry", "opportunity": "sales.Opportunity", "quotation": "documents.Quotation",
               "order": "orders.Order", "followup": "followups.FollowUp", "ticket": "service.Ticket",
               "payment": "orders.Receivable", "approval": "automation.Approval",
               "mail": "mailbox.MailMessage"}  # fmt: skip
    label = mapping.get(obj_type)
    if not label:
        return None
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def record_values(rule_entity: str, obj_type: str, obj_id, company, changes: dict, event: str) -> dict:
    from .assignment import company_values

    values: dict[str, Any] = {}
    if rule_entity == "inquiry" and obj_type == "inquiry":
        from tradecrm.sales.models import Inquiry

        i = Inquiry.objects.filter(pk=obj_id).first()
        if i:
            values = {"channel": i.channel, "country": i.buyer_country, "destination_country": i.destination_country,
                      "subject": i.subject, "message": i.message, "status": i.status, "owner": i.owner_id,
                      "company": i.company_id}  # fmt: skip
    elif company is not None:
        values = company_values(company=company)
    values.update(event_values(changes, event))
    return values


def event_values(changes: dict, event: str) -> dict:
    out: dict[str, Any] = {}
    for k, v in (changes or {}).items():
        if isinstance(v, list) and len(v) == 2:
            out[f"event.{k}_from"], out[f"event.{k}_to"], out[f"event.{k}"] = v[0], v[1], v[1]
        else:
            out[f"event.{k}"] = v
    if event == events.RECORD_UPDATED:
        out["event.changed"] = sorted(changes or {})
    return out


# --- the cache of which events have rules ------------------------------------------------------------


def has_rules_for(event: str) -> bool:
    """One indexed query per emit: nothing is queued for an event no rule listens to."""
    if event == events.TIER_CHANGED:
        from .models import AssignmentRule

        if AssignmentRule.objects.filter(entity="company", active=True, assign_to="user").exists():
            return True
    return Rule.objects.filter(event=event, active=True).exists()


# --- running one rule on one record --------------------------------------------------------------------


def _rate_limited(rule: Rule, now: dt.datetime) -> bool:
    if not rule.max_runs_per_hour:
        return False
    n = RuleRun.objects.filter(rule=rule, started_at__gte=now - dt.timedelta(hours=1),
                               status__in=[RunStatus.DONE, RunStatus.FAILED, RunStatus.RETRYING]).count()  # fmt: skip
    return n >= rule.max_runs_per_hour


def _author(rule: Rule):
    from tradecrm.accounts.models import User

    return User.objects.filter(pk=rule.updated_by_id or rule.created_by_id).first()


def _in_scope(author, company) -> bool:
    """A manager's rule acts only on customers of the teams they manage."""
    if author is None or not author.is_active:
        return False
    if author.is_admin or company is None:
        return True
    from tradecrm.accounts.access import visible_team_ids

    return company.team_id in (visible_team_ids(author) or [])


def handle_event(payload: dict) -> list[int]:
    """Run every active rule of the event on its record. Returns the ids of the runs logged."""
    event, obj_type, obj_id = payload["event"], payload["obj_type"], payload["obj_id"]
    depth, chain = int(payload.get("depth") or 0), list(payload.get("chain") or [])
    changes = payload.get("changes") or {}
    rules = list(Rule.objects.filter(event=event, active=True).order_by("id"))
    if event == events.TIER_CHANGED:
        _tier_assignment(obj_id, changes, payload.get("actor_id"))
    if not rules:
        return []
    company = company_of(obj_type, obj_id)
    out = []
    now = timezone.now()
    for rule in rules:
        if rule.entity == "inquiry" and obj_type != "inquiry":
            continue
        inputs = {"event": event, "obj_type": obj_type, "obj_id": obj_id, "changes": changes, "depth": depth,
                  "chain": chain, "actor": payload.get("actor_id")}  # fmt: skip
        if rule.pk in chain or depth > MAX_DEPTH:
            out.append(_log(rule, RunStatus.LOOP, inputs, now, error=_("Stopped: the rule would re-trigger itself "
                                                                      "(chain %(chain)s).") % {"chain": chain}).pk)  # fmt: skip
            continue
        values = record_values(rule.entity, obj_type, obj_id, company, changes, event)
        if not compile_predicate(rule.conditions)(values):
            continue  # not logged: most events match no rule, the log would drown in them
        if _rate_limited(rule, now):
            out.append(_log(rule, RunStatus.RATE_LIMITED, inputs, now).pk)
            continue
        author = _author(rule)
        if not _in_scope(author, company):
            continue
        out.append(execute(rule, inputs=inputs, company=company, author=author, now=now).pk)
    return out


def _log(rule: Rule, status: str, inputs: dict, now: dt.datetime, error: str = "", run_key=None) -> RuleRun:
    return RuleRun.objects.create(rule=rule, version=rule.version, event=inputs.get("event", rule.event),
                                  obj_type=inputs.get("obj_type") or "", obj_id=inputs.get("obj_id"), status=status,
                                  inputs=inputs, error=error[:2000], depth=inputs.get("depth", 0), started_at=now,
                                  finished_at=now, run_key=run_key)  # fmt: skip


def execute(
    rule: Rule, *, inputs: dict, company, author, now: dt.datetime, run_key: str | None = None
) -> RuleRun:
    t0 = time.perf_counter()
    run = RuleRun.objects.create(rule=rule, version=rule.version, event=inputs["event"],
                                 obj_type=inputs.get("obj_type") or "", obj_id=inputs.get("obj_id"),
                                 status=RunStatus.DONE, inputs=inputs, depth=inputs.get("depth", 0),
                                 started_at=now, run_key=run_key)  # fmt: skip
    results, changed, retry = [], set(), []
    for i, action in enumerate(rule.actions):
        res = _run_one(action, i, rule=rule, run=run, company=company, author=author, now=now)
        results.append(res)
        if res.get("retry"):
            retry.append(i)
        if res.get("ok") and res.get("changed", True):
            for _ev, fields in produced_events(action):
                changed |= fields
    status = RunStatus.DONE
    if retry:
        status = RunStatus.RETRYING
    elif any(not r.get("ok") for r in results):
        status = RunStatus.FAILED
    RuleRun.objects.filter(pk=run.pk).update(status=status, results=results, finished_at=timezone.now(),
                                             seconds=round(time.perf_counter() - t0, 4), affected=1)  # fmt: skip
    run.status, run.results = status, results
    for i in retry:
        _schedule_retry(run.pk, i, 1, RETRY_DELAYS[0])
    if changed and company is not None:
        events.emit(events.RECORD_UPDATED, obj_type=events.OBJ_COMPANY, obj_id=company.pk, actor=author,
                    changes={f: [None, None] for f in sorted(changed)}, depth=inputs.get("depth", 0) + 1,
                    chain=[*inputs.get("chain", []), rule.pk])  # fmt: skip
    return run


def _run_one(action: dict, i: int, *, rule, run, company, author, now) -> dict:
    try:
        if action["type"] in RETRYABLE:
            return run_action(
                action, company=company, record=None, author=author, rule=rule, run=run, now=now
            )
        with transaction.atomic():
            return run_action(
                action, company=company, record=None, author=author, rule=rule, run=run, now=now
            )
    except Retryable as exc:
        return {"type": action["type"], "ok": False, "retry": True, "attempts": 1, "error": str(exc)[:500]}
    except Exception as exc:  # noqa: BLE001 - one failing action is recorded, the others still run
        detail = (
            "; ".join(m for ms in exc.message_dict.values() for m in ms)
            if hasattr(exc, "message_dict")
            else str(exc)
        )
        return {"type": action["type"], "ok": False, "error": f"{type(exc).__name__}: {detail}"[:500]}


def _schedule_retry(run_id: int, index: int, attempt: int, delay: int) -> None:
    """The next try after `delay` seconds (in sync mode — tests — the caller retries by hand)."""
    if events.sync():
        return
    from .tasks import automation_retry_action

    transaction.on_commit(lambda: automation_retry_action.schedule((run_id, index, attempt), delay=delay))


def retry_action(run_id: int, index: int, attempt: int) -> dict:
    """One retry of a failed network action; schedules the next with a longer delay, up to
    len(RETRY_DELAYS) retries, then marks the run failed."""
    run = RuleRun.objects.select_related("rule").filter(pk=run_id).first()
    if run is None:
        return {}
    rule, results = run.rule, list(run.results)
    action = rule.actions[index] if index < len(rule.actions) else None
    if action is None:
        return {}
    company = company_of(run.obj_type, run.obj_id)
    now = timezone.now()
    try:
        res = run_action(
            action, company=company, record=None, author=_author(rule), rule=rule, run=run, now=now
        )
        res["attempts"] = attempt + 1
    except Retryable as exc:
        res = {"type": action["type"], "ok": False, "retry": attempt < len(RETRY_DELAYS), "attempts": attempt + 1,
               "error": str(exc)[:500]}  # fmt: skip
        if attempt < len(RETRY_DELAYS):
            _schedule_retry(run_id, index, attempt + 1, RETRY_DELAYS[attempt])
    except Exception as exc:  # noqa: BLE001
        res = {"type": action["type"], "ok": False, "attempts": attempt + 1, "error": str(exc)[:500]}
    results[index] = res
    pending = any(r.get("retry") for r in results)
    status = (
        RunStatus.RETRYING
        if pending
        else (RunStatus.DONE if all(r.get("ok") for r in results) else RunStatus.FAILED)
    )
    RuleRun.objects.filter(pk=run_id).update(results=results, status=status, finished_at=timezone.now())
    return res


def _tier_assignment(company_id, changes: dict, actor_id) -> None:
    """A customer entering a tier that needs a dedicated account manager: the assignment rules on
    tier decide who (the first rule with a tier condition that holds and names a user)."""
    from tradecrm.grading.models import Tier

    new = (changes.get("tier") or [None, None])[1]
    if not new or not Tier.objects.filter(code=new, requires_account_manager=True).exists():
        return
    from .assignment import Assigner, apply_to_company, company_values
    from .conditions import fields_used
    from .models import AssignmentRule, AssignTo

    rules = [r for r in AssignmentRule.objects.filter(entity="company", active=True, assign_to=AssignTo.USER)
             .order_by("position", "id") if "tier" in fields_used(r.conditions)]  # fmt: skip
    if not rules:
        return
    from tradecrm.customers.models import Company

    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        return
    values = company_values(company=company)
    values["tier"] = new
    decision = Assigner("company", rules=rules).decide(values)
    if decision and decision.user_id != company.owner_id:
        with transaction.atomic():
            apply_to_company(company=company, decision=decision, actor=None)


# --- timers: follow-up overdue, inquiry unanswered, quotation expiring, payment overdue -------------


def _timer_candidates(rule: Rule, now: dt.datetime, limit: int = 5000) -> list[tuple[str, int, str, dict]]:
    """(obj_type, obj_id, occurrence key, changes) of the records the timer event is due for, the
    newest first (a backlog above `limit` never hides the new ones)."""
    from tradecrm.followups.models import FollowUp, FollowUpStatus

    p = rule.params or {}
    if rule.event == events.FOLLOWUP_OVERDUE:
        rows = FollowUp.objects.filter(status=FollowUpStatus.OPEN, due_at__lt=now).order_by("-due_at").values_list(
            "id", "due_at")[:limit]  # fmt: skip
        return [("followup", i, due.isoformat(), {"days_overdue": (now - due).days}) for i, due in rows]
    if rule.event == events.INQUIRY_UNANSWERED:
        from tradecrm.sales.models import Inquiry

        hours = int(p.get("hours") or 24)
        rows = Inquiry.objects.filter(replied_at__isnull=True, status="new",
                                      received_at__lt=now - dt.timedelta(hours=hours)).order_by("-received_at").values_list("id", flat=True)[:limit]  # fmt: skip
        return [("inquiry", i, f"{hours}h", {"hours": hours}) for i in rows]
    if rule.event == events.QUOTATION_EXPIRING:
        from tradecrm.documents.models import Quotation

        days = int(p.get("days") or 3)
        today = timezone.localdate(now)
        rows = Quotation.objects.filter(status="issued", valid_until__gte=today,
                                        valid_until__lte=today + dt.timedelta(days=days)).values_list("id", "valid_until")[:limit]  # fmt: skip
        return [("quotation", i, vu.isoformat(), {"days_left": (vu - today).days}) for i, vu in rows]
    if rule.event == events.PAYMENT_OVERDUE:
        from tradecrm.orders.models import Receivable

        today = timezone.localdate(now)
        rows = (
            Receivable.objects.filter(due_date__lt=today)
            .filter(status__in=["open", "partial"])
            .order_by("-due_date")
            .values_list("id", "due_date")[:limit]
        )
        return [("payment", i, d.isoformat(), {"days_overdue": (today - d).days}) for i, d in rows]
    return []


TIMER_EVENTS = (
    events.FOLLOWUP_OVERDUE,
    events.INQUIRY_UNANSWERED,
    events.QUOTATION_EXPIRING,
    events.PAYMENT_OVERDUE,
)


def scan_timers(now: dt.datetime | None = None) -> int:
    """Fire the timer rules once per record and occurrence (a run key), however often it runs."""
    now = now or timezone.now()
    fired = 0
    for rule in Rule.objects.filter(event__in=TIMER_EVENTS, active=True).order_by("id"):
        cands = _timer_candidates(rule, now)
        keys = {f"t:{rule.pk}:{t}:{i}:{occ}"[:120]: (t, i, ch) for t, i, occ, ch in cands}
        done = set(RuleRun.objects.filter(run_key__in=list(keys)).values_list("run_key", flat=True))
        author = _author(rule)
        pred = compile_predicate(rule.conditions)
        for key, (t, i, ch) in keys.items():
            if key in done:
                continue
            company = company_of(t, i)
            values = record_values(rule.entity, t, i, company, ch, rule.event)
            inputs = {"event": rule.event, "obj_type": t, "obj_id": i, "changes": ch, "depth": 0, "chain": []}
            if not pred(values) or not _in_scope(author, company):
                _log(rule, RunStatus.NO_MATCH, inputs, now, run_key=key)  # remembered: not re-evaluated
                continue
            if _rate_limited(rule, now):
                break  # the rest waits for the next scan
            execute(rule, inputs=inputs, company=company, author=author, now=now, run_key=key)
            fired += 1
    return fired


# --- scheduled rules -----------------------------------------------------------------------------------


def period_start(rule: Rule, now: dt.datetime) -> dt.datetime:
    from croniter import croniter

    it = croniter(rule.schedule, timezone.localtime(now))
    return it.get_prev(dt.datetime)


def next_after(rule: Rule, now: dt.datetime) -> dt.datetime:
    from croniter import croniter

    return croniter(rule.schedule, timezone.localtime(now)).get_next(dt.datetime)


def due_rules(now: dt.datetime):
    return (
        Rule.objects.filter(event=events.SCHEDULED, active=True).exclude(next_run_at__gt=now).order_by("id")
    )


def scheduled_queryset(rule: Rule):
    from tradecrm.customers.models import Company

    fields = fields_for("company")
    qs = annotate_for(Company.objects.all(), rule.conditions)
    return qs.filter(to_q(rule.conditions, fields))


def run_scheduled(
    rule: Rule, now: dt.datetime | None = None, *, force_key: str | None = None
) -> RuleRun | None:
    """One period of a scheduled rule over every matching customer, set-based. Idempotent: the
    run key (rule + period start) is unique, so a second call in the same period does nothing;
    and each set-based action skips what is already done."""
    now = now or timezone.now()
    start = period_start(rule, now)
    key = force_key or f"s:{rule.pk}:{start.isoformat()}"
    Rule.objects.filter(pk=rule.pk).update(next_run_at=next_after(rule, now))
    if RuleRun.objects.filter(run_key=key).exists():
        return None
    author = _author(rule)
    if author is None or not author.is_active:
        return None
    t0 = time.perf_counter()
    try:
        run = RuleRun.objects.create(rule=rule, version=rule.version, event=rule.event, status=RunStatus.DONE,
                                     inputs={"period": start.isoformat()}, started_at=now, run_key=key)  # fmt: skip
    except Exception:  # noqa: BLE001 - another worker took this period
        return None
    qs = scheduled_queryset(rule)
    if not author.is_admin:
        from tradecrm.accounts.access import visible_team_ids

        qs = qs.filter(team_id__in=visible_team_ids(author) or [])
    # The customers matching at the start of the run, read once into a temporary table: every
    # action works on this set, in chunks of SCHEDULED_CHUNK customers (an id range of the set),
    # one short transaction each (SQLite has one writer: the users' own saves get their turn
    # between chunks). Each set-based action skips what is done already, so a run cut short and
    # re-run, or a second run, changes nothing twice.
    table = f"automation_match_{run.pk}"
    results = []
    affected = 0
    try:
        chunks = _match_into(table, qs)
        for i, action in enumerate(rule.actions):
            ts = time.perf_counter()
            n = 0
            try:
                if action["type"] in SET_BASED:
                    for part in chunks:
                        with transaction.atomic():
                            n += run_set_based(action, part, rule=rule, author=author, now=now, run=run)
                else:
                    for part in chunks:
                        for company in part.select_related("owner").order_by("id"):
                            res = _run_one(
                                action, i, rule=rule, run=run, company=company, author=author, now=now
                            )
                            n += 1 if res.get("ok") else 0
                results.append({"type": action["type"], "ok": True, "rows": n,
                                "seconds": round(time.perf_counter() - ts, 3)})  # fmt: skip
                affected += n
            except Exception as exc:  # noqa: BLE001
                results.append({"type": action["type"], "ok": False, "rows": n,
                                "error": f"{type(exc).__name__}: {exc}"[:500]})  # fmt: skip
    finally:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
    status = RunStatus.DONE if all(r["ok"] for r in results) else RunStatus.FAILED
    RuleRun.objects.filter(pk=run.pk).update(results=results, status=status, affected=affected,
                                             finished_at=timezone.now(), seconds=round(time.perf_counter() - t0, 3))  # fmt: skip
    run.refresh_from_db()
    return run


def _match_into(table: str, qs) -> list:
    """Store the ids of `qs` in a temporary table; the chunks as querysets of customers (an id
    range of the table each)."""
    from django.db import connection
    from django.db.models.expressions import RawSQL

    from tradecrm.customers.models import Company

    sub, params = qs.order_by().values("id").query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TEMPORARY TABLE {table} (id BIGINT PRIMARY KEY)")
        cur.execute(f"INSERT INTO {table} (id) SELECT u.id FROM ({sub}) u", params)
        cur.execute(f"SELECT id FROM {table} ORDER BY id")
        ids = [row[0] for row in cur.fetchall()]
    member = RawSQL(f"SELECT id FROM {table}", [])  # noqa: S611 - the name is ours, no user input
    return [
        Company.objects.filter(
            pk__gte=ids[i], pk__lte=ids[min(i + SCHEDULED_CHUNK, len(ids)) - 1], pk__in=member
        )
        for i in range(0, len(ids), SCHEDULED_CHUNK)
    ]


def run_due_scheduled(now: dt.datetime | None = None) -> list[int]:
    now = now or timezone.now()
    out = []
    for rule in due_rules(now):
        if rule.next_run_at is None:
            # first sight of a (new) rule: start from the next boundary, not the past one
            Rule.objects.filter(pk=rule.pk).update(next_run_at=next_after(rule, now))
            continue
        run = run_scheduled(rule, now)
        if run:
            out.append(run.pk)
    return out


# --- dry run -------------------------------------------------------------------------------------------


def dry_run(rule: Rule, since: dt.datetime, *, limit: int = 200) -> dict:
    """What the rule would have done on past data since `since`: the matching records and the
    actions it would take on each, without changing anything."""
    from tradecrm.audit.models import AuditEvent

    fields = fields_for(rule.entity, rule.event)
    matches: list[dict] = []
    total = 0
    if rule.event == events.SCHEDULED or rule.event in TIMER_EVENTS:
        if rule.event == events.SCHEDULED:
            qs = scheduled_queryset(rule).filter(updated_at__gte=since)
            total = qs.count()
            for row in qs.order_by("id").values("id", "name")[:limit]:
                matches.append({"obj_type": "company", "obj_id": row["id"], "name": row["name"]})
        else:
            for t, i, _occ, ch in _timer_candidates(rule, timezone.now()):
                company = company_of(t, i)
                if compile_predicate(rule.conditions)(
                    record_values(rule.entity, t, i, company, ch, rule.event)
                ):
                    total += 1
                    if len(matches) < limit:
                        matches.append({"obj_type": t, "obj_id": i, "name": company.name if company else ""})
    else:
        actions = {events.RECORD_CREATED: ["company.create"], events.RECORD_UPDATED: ["company.update"],
                   events.STAGE_CHANGED: ["opportunity.move"], events.INQUIRY_CREATED: ["inquiry.create"],
                   events.TIER_CHANGED: ["grading.override"]}.get(rule.event, [])  # fmt: skip
        if not actions:
            return {"rule": rule.pk, "since": since.isoformat(), "total": 0, "matches": [],
                    "note": _("No history to replay for this event; the rule is checked on new events only.")}  # fmt: skip
        pred = compile_predicate(rule.conditions)
        evs = AuditEvent.objects.filter(action__in=actions, at__gte=since).order_by("id").values(
            "object_type", "object_id", "changes")  # fmt: skip
        for ev in evs.iterator(chunk_size=2000):
            obj_type = ev["object_type"].split(".")[-1]
            company = company_of(obj_type, ev["object_id"])
            ch = ev["changes"] if rule.event == events.RECORD_UPDATED else {}
            if pred(record_values(rule.entity, obj_type, ev["object_id"], company, ch, rule.event)):
                total += 1
                if len(matches) < limit:
                    matches.append({"obj_type": obj_type, "obj_id": ev["object_id"],
                                    "name": company.name if company else ""})  # fmt: skip
    would = [_would(a) for a in rule.actions]
    return {"rule": rule.pk, "version": rule.version, "since": since.isoformat(), "total": total,
            "matches": matches, "actions": would, "fields": sorted(fields)}  # fmt: skip


def _would(action: dict) -> str:
    from .actions import ACTION_CHOICES

    label = str(dict(ACTION_CHOICES)[action["type"]])
    detail = {k: v for k, v in action.items() if k not in ("type", "secret", "templates")}
    return f"{label}: {detail}" if detail else label


def test_on_record(rule_data: dict, *, obj_type: str, obj_id: int, changes: dict | None = None) -> dict:
    """Would the rule fire on this record, and why (each condition with the record's value)."""
    company = company_of(obj_type, obj_id)
    values = record_values(rule_data.get("entity") or "company", obj_type, obj_id, company, changes or {},
                           rule_data["event"])  # fmt: skip
    ok, lines = explain(rule_data.get("conditions") or {}, values,
                        fields_for(rule_data.get("entity") or "company", rule_data["event"]))  # fmt: skip
    return {"fires": ok, "conditions": lines, "actions": [_would(a) for a in rule_data.get("actions") or []]}
