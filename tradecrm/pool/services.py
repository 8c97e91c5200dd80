"""Writes of the public pool: one function per action, each in one transaction with its audit event.

Decisions (documented for users in the pool pages):
- A customer in a pool has no owner (Company.owner is empty) and one PoolEntry; its team is kept,
  so the team's manager still sees it, and a claim or assignment gives it the new owner's team.
- Recall and release cancel the previous owner's open follow-ups on the customer (they can no
  longer act on it; the new owner plans their own), and the owner is told by a notification.
- Assignment by a manager ignores the daily claim limit and the cooldown (it is the manager's
  decision) but not the maximum number of customers per rep.
- The recall job moves customers set-based, CHUNK customers per transaction: per chunk one UPDATE
  of the owners (only where the owner is still the one the scan saw), bulk INSERTs of the pool
  entries, moves, audit events and notifications, one UPDATE cancelling the previous owners' open
  follow-ups. A failure rolls the whole chunk back: every customer is either fully moved (owner
  cleared, entry, move, audit event, follow-ups cancelled, owner told) or untouched, and the next
  run picks up the rest.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict

from django.db import router, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.accounts.access import has_action, require_writer, visible_team_ids
from tradecrm.accounts.models import User
from tradecrm.audit import chain
from tradecrm.audit.models import AuditEvent
from tradecrm.audit.services import audit_record
from tradecrm.core.errors import Errors, ValidationError
from tradecrm.customers.models import Company
from tradecrm.followups.models import FollowUp, FollowUpStatus, Notification
from tradecrm.followups.notifications import notify
from tradecrm.followups.services import sync_next_followup

from . import recall, texts
from .models import CompanyLock, MoveKind, OwnerSince, Pool, PoolEntry, PoolMove, RecallRun, RunStatus
from .rules import clean_countries, clean_rules, effective_rules
from .selectors import pools_for_user

CHUNK = 2000  # customers moved per transaction by the recall job


def _display(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def _check_admin(actor) -> None:
    from django.core.exceptions import PermissionDenied

    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only administrators may change pools."))


def can_manage(user, company: Company | None = None) -> bool:
    """Administrators, and the roles allowed to manage the pool (by default managers) for the
    customers of the teams they see (when a customer is given)."""
    if user.is_admin:
        return True
    if not has_action(user, "manage_pool"):
        return False
    if company is None:
        return True
    return company.team_id in (visible_team_ids(user) or []) or company.owner_id == user.id


# --- pools (admin) --------------------------------------------------------------------------------


def _clean_pool(data: dict) -> dict:
    from tradecrm.accounts.models import Team

    errors = Errors()
    clean: dict = {}
    if "name" in data:
        name = " ".join(str(data.get("name") or "").split())
        if not name:
            errors.add("name", _("Enter a name for the pool."))
        elif len(name) > 100:
            errors.add("name", _("At most 100 characters."))
        clean["name"] = name
    if "description" in data:
        clean["description"] = str(data.get("description") or "")[:2000]
    if "active" in data:
        clean["active"] = bool(data["active"])
    if "countries" in data:
        clean["countries"] = clean_countries(data["countries"] or [], errors)
    if "teams" in data:
        ids = data["teams"] or []
        try:
            ids = sorted({int(i) for i in ids})
        except (TypeError, ValueError):
            errors.add("teams", _("Enter a list of team ids."))
            ids = []
        found = set(Team.objects.filter(id__in=ids).values_list("id", flat=True))
        for i in ids:
            if i not in found:
                errors.add("teams", _("There is no team with id %(id)s.") % {"id": i})
        clean["teams"] = ids
    if "rules" in data:
        clean["rules"] = clean_rules(data["rules"] if data["rules"] is not None else {}, errors)
    errors.raise_if_any()
    return clean


@transaction.atomic
def pool_create(*, actor, data: dict) -> Pool:
    _check_admin(actor)
    data = {"rules": {}, **data}
    if not data.get("name"):
        data["name"] = ""
    clean = _clean_pool(data)
    if Pool.objects.filter(name=clean["name"]).exists():
        raise ValidationError({"name": [_("A pool with this name already exists.")]})
    teams = clean.pop("teams", [])
    pool = Pool.objects.create(**clean)
    pool.teams.set(teams)
    audit_record(actor=actor, action="pool.create", obj=pool, changes={"name": [None, pool.name]})
    return pool


@transaction.atomic
def pool_update(*, actor, pool: Pool, version: int, data: dict) -> Pool:
    """Rules changed here apply from the next recall run (the run stores the version it used)."""
    from tradecrm.core.errors import ConcurrentEditError

    _check_admin(actor)
    clean = _clean_pool(data)
    if "name" in clean and Pool.objects.filter(name=clean["name"]).exclude(pk=pool.pk).exists():
        raise ValidationError({"name": [_("A pool with this name already exists.")]})
    current = Pool.objects.select_for_update().get(pk=pool.pk)
    if current.version != version:
        raise ConcurrentEditError(by="", at=current.updated_at, current_version=current.version)
    teams = clean.pop("teams", None)
    before = {k: getattr(current, k) for k in clean}
    for k, v in clean.items():
        setattr(current, k, v)
    if "rules" in clean and clean["rules"] != effective_rules(Pool(rules=before["rules"])):
        current.rules_version += 1
    current.version += 1
    current.save()
    if teams is not None:
        current.teams.set(teams)
    changes = {k: [before[k], clean[k]] for k in clean if before[k] != clean[k]}
    audit_record(actor=actor, action="pool.update", obj=current, changes=changes)
    return current


# --- moves ------------------------------------------------------------------------------------------


def _cancel_followups(company_id: int, owner_id: int | None, now: dt.datetime) -> int:
    if not owner_id:
        return 0
    n = FollowUp.objects.filter(
        company_id=company_id, assignee_id=owner_id, status=FollowUpStatus.OPEN
    ).update(status=FollowUpStatus.CANCELLED, updated_at=now, version=F("version") + 1)
    if n:
        sync_next_followup(company_id)
    return n


def _company_url(company_id: int) -> str:
    return reverse("customers:company_detail", args=[company_id])


def _into_pool(
    *,
    company_id: int,
    owner_id: int | None,
    pool: Pool,
    kind: str,
    reason: str,
    params: dict,
    actor,
    now: dt.datetime,
    run: RecallRun | None = None,
) -> PoolMove | None:
    """Clear the owner (only if it is still `owner_id`), enter the pool, record the move."""
    moved = Company.objects.filter(pk=company_id, owner_id=owner_id).update(
        owner=None, version=F("version") + 1, updated_at=now
    )
    if not moved:
        return None
    country = Company.objects.filter(pk=company_id).values_list("country", flat=True).first() or ""
    PoolEntry.objects.update_or_create(
        company_id=company_id,
        defaults={"pool": pool, "since": now, "previous_owner_id": owner_id, "kind": kind, "reason": reason[:255],
                  "country": country},
    )  # fmt: skip
    OwnerSince.objects.filter(company_id=company_id).delete()
    cancelled = _cancel_followups(company_id, owner_id, now)
    move = PoolMove.objects.create(company_id=company_id, pool=pool, kind=kind, from_owner_id=owner_id,
                                   reason=reason[:255], params=params, actor=actor if getattr(actor, "pk", None)
                                   else None, run=run, at=now)  # fmt: skip
    audit_record(actor=actor, action=f"pool.{kind}", object_type="customers.company", object_id=company_id,
                 changes={"owner": [owner_id, None], "pool": [None, pool.name], "reason": reason,
                          "followups_cancelled": cancelled})  # fmt: skip
    return move


@transaction.atomic
def pool_release(
    *, actor, company: Company, reason: str, pool: Pool | None = None, now: dt.datetime | None = None
) -> PoolMove:
    """The owner (or their manager, or an admin) puts the customer into a pool, saying why."""
    require_writer(actor)
    now = now or timezone.now()
    company = Company.objects.select_for_update().get(pk=company.pk)
    errors = Errors()
    reason = " ".join((reason or "").split())
    if not reason:
        errors.add("reason", _("Say why you release this customer (the next owner reads it)."))
    if not company.owner_id:
        errors.add("company", _("This customer is already in the pool."))
    elif company.owner_id != actor.id and not can_manage(actor, company):
        errors.add(
            "company", _("Only the owner, their manager or an administrator may release this customer.")
        )
    if CompanyLock.objects.filter(company_id=company.pk).exists():
        errors.add("company", _("This customer is locked: unlock it before releasing it."))
    if pool is None:
        pool = recall.pool_for_company(company)
        if pool is None:
            errors.add("pool", _("No active pool takes customers from %(country)s: ask an administrator to set one up.")
                       % {"country": company.country or "—"})  # fmt: skip
    elif not pool.active:
        errors.add("pool", _("The pool “%(pool)s” is not active.") % {"pool": pool.name})
    errors.raise_if_any()
    move = _into_pool(company_id=company.pk, owner_id=company.owner_id, pool=pool, kind=MoveKind.RELEASE,
                      reason=reason, params={"reason": reason}, actor=actor, now=now)  # fmt: skip
    return move


def _holding_errors(rules: dict, user: User, errors: Errors, *, mine: bool) -> None:
    top = rules["max_customers_per_rep"]
    if top:
        held = Company.objects.filter(owner_id=user.id).count()
        if held >= top:
            if mine:
                errors.add(
                    "company",
                    _("You already hold %(n)s customers (maximum %(max)s).") % {"n": held, "max": top},
                )
            else:
                errors.add("owner", _("%(rep)s already holds %(n)s customers (maximum %(max)s).")
                           % {"rep": _display(user), "n": held, "max": top})  # fmt: skip


def _take(*, entry: PoolEntry, user: User, kind: str, actor, now: dt.datetime) -> PoolMove:
    taken = Company.objects.filter(pk=entry.company_id, owner__isnull=True).update(
        owner=user, team_id=user.team_id, version=F("version") + 1, updated_at=now
    )
    deleted, _x = PoolEntry.objects.filter(pk=entry.pk).delete()
    if not taken or not deleted:
        raise ValidationError({"company": [_("Someone else took this customer a moment ago.")]})
    OwnerSince.objects.update_or_create(company_id=entry.company_id, defaults={"owner": user, "since": now})
    move = PoolMove.objects.create(company_id=entry.company_id, pool=entry.pool, kind=kind, to_owner=user,
                                   from_owner=None, actor=actor, at=now,
                                   params={"previous_owner": entry.previous_owner_id})  # fmt: skip
    audit_record(actor=actor, action=f"pool.{kind}", object_type="customers.company", object_id=entry.company_id,
                 changes={"owner": [None, user.id], "pool": [entry.pool.name, None]})  # fmt: skip
    return move


@transaction.atomic
def pool_claim(*, actor, company_id: int, now: dt.datetime | None = None) -> PoolMove:
    """A rep takes a customer from a pool they see: daily limit, maximum holdings, cooldown."""
    require_writer(actor)
    now = now or timezone.now()
    entry = (PoolEntry.objects.select_for_update().select_related("pool")
             .filter(company_id=company_id, pool__in=pools_for_user(actor)).first())  # fmt: skip
    if entry is None:
        raise Http404
    rules = effective_rules(entry.pool)
    errors = Errors()
    limit = rules["claim_limit_per_day"]
    if limit:
        from .selectors import claims_today

        if claims_today(actor, now) >= limit:
            errors.add(
                "company",
                _("Daily claim limit of %(n)s reached; you may claim again tomorrow.") % {"n": limit},
            )
    _holding_errors(rules, actor, errors, mine=True)
    cooldown = rules["cooldown_days"]
    if cooldown and entry.previous_owner_id == actor.id:
        days = (timezone.localdate(now) - timezone.localdate(entry.since)).days
        if days < cooldown:
            if entry.kind == MoveKind.RELEASE:
                msg = _(
                    "You released this customer %(days)s days ago; you may claim it again after %(cooldown)s days."
                )
            else:
                msg = _("This customer was recalled from you %(days)s days ago; you may claim it again after "
                        "%(cooldown)s days.")  # fmt: skip
            errors.add("company", msg % {"days": days, "cooldown": cooldown})
    errors.raise_if_any()
    return _take(entry=entry, user=actor, kind=MoveKind.CLAIM, actor=actor, now=now)


@transaction.atomic
def pool_assign(*, actor, company_id: int, to_user: User, now: dt.datetime | None = None) -> PoolMove:
    """A manager (of the rep's team) or an administrator gives a pool customer to a rep."""
    from django.core.exceptions import PermissionDenied

    now = now or timezone.now()
    entry = (PoolEntry.objects.select_for_update().select_related("pool")
             .filter(company_id=company_id, pool__in=pools_for_user(actor)).first())  # fmt: skip
    if entry is None:
        raise Http404
    if not can_manage(actor):
        raise PermissionDenied(_("Only managers and administrators may assign customers from the pool."))
    errors = Errors()
    if not to_user.is_active:
        errors.add("owner", _("%(rep)s is not active.") % {"rep": _display(to_user)})
    elif (
        not actor.is_admin
        and to_user.team_id not in (visible_team_ids(actor) or [])
        and to_user.id != actor.id
    ):
        errors.add("owner", _("%(rep)s is not in a team you manage.") % {"rep": _display(to_user)})
    else:
        _holding_errors(effective_rules(entry.pool), to_user, errors, mine=to_user.id == actor.id)
    errors.raise_if_any()
    move = _take(entry=entry, user=to_user, kind=MoveKind.ASSIGN, actor=actor, now=now)
    if to_user.id != actor.id:
        company = Company.objects.only("name").get(pk=company_id)
        notify(to_user, texts.ASSIGNED, {"company": company.name, "pool": entry.pool.name, "by": _display(actor),
                                         "company_id": company_id}, url=_company_url(company_id), company=company)  # fmt: skip
    return move


@transaction.atomic
def pool_lock(*, actor, company: Company, reason: str = "", now: dt.datetime | None = None) -> CompanyLock:
    """Keep a customer out of the recall (managers and administrators)."""
    from django.core.exceptions import PermissionDenied

    if not can_manage(actor, company):
        raise PermissionDenied(_("Only managers and administrators may lock customers."))
    lock, _created = CompanyLock.objects.update_or_create(
        company_id=company.pk,
        defaults={"locked_by": actor, "locked_at": now or timezone.now(), "reason": reason[:255]},
    )
    audit_record(actor=actor, action="pool.lock", object_type="customers.company", object_id=company.pk,
                 changes={"locked": [False, True], "reason": reason})  # fmt: skip
    return lock


@transaction.atomic
def pool_unlock(*, actor, company: Company) -> None:
    from django.core.exceptions import PermissionDenied

    if not can_manage(actor, company):
        raise PermissionDenied(_("Only managers and administrators may unlock customers."))
    CompanyLock.objects.filter(company_id=company.pk).delete()
    audit_record(actor=actor, action="pool.unlock", object_type="customers.company", object_id=company.pk,
                 changes={"locked": [True, False]})  # fmt: skip


# --- the scheduled jobs -------------------------------------------------------------------------------


def _due_rows(scope, now: dt.datetime, *, chunk: int = 5000):
    """The due customers of a pool with the facts behind them, in id order, chunk by chunk."""
    from .selectors import fact_names

    qs = recall.due_companies(scope, now)
    if qs is None:
        return
    ids = list(qs.order_by().values_list("id", flat=True))
    ids.sort()
    names = fact_names(scope.rules)
    for i in range(0, len(ids), chunk):
        part = ids[i : i + chunk]
        rows = recall.annotate_facts(Company.objects.filter(id__in=part), scope.rules).values(
            *recall.FACT_FIELDS, *names
        )
        yield from sorted(rows, key=lambda r: r["id"])


def _close_stale_runs(now: dt.datetime) -> None:
    # a run killed mid-way (SIGKILL, power loss) stays "running": the next run closes it
    RecallRun.objects.filter(status=RunStatus.RUNNING, dry_run=False).update(
        status=RunStatus.FAILED, finished_at=now, error="interrupted"
    )


def _cancel_followups_bulk(pairs: list[tuple[int, int]], now: dt.datetime) -> dict[int, int]:
    """Cancel the open follow-ups each (customer, previous owner) pair's owner had on the customer
    (two queries for the lot) and re-derive the customers' next follow-up. {customer id: cancelled}."""
    by_owner: dict[int, list[int]] = defaultdict(list)
    for company_id, owner_id in pairs:
        if owner_id:
            by_owner[owner_id].append(company_id)
    if not by_owner:
        return {}
    q = Q(pk__in=[])
    for owner_id, company_ids in by_owner.items():
        q |= Q(assignee_id=owner_id, company_id__in=company_ids)
    open_ = FollowUp.objects.filter(q, status=FollowUpStatus.OPEN)
    counts: dict[int, int] = defaultdict(int)
    for company_id in open_.values_list("company_id", flat=True):
        counts[company_id] += 1
    if not counts:
        return {}
    open_.update(status=FollowUpStatus.CANCELLED, updated_at=now, version=F("version") + 1)
    earliest = (
        FollowUp.objects.filter(company_id=OuterRef("pk"), status=FollowUpStatus.OPEN)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    Company.objects.filter(pk__in=list(counts)).update(next_followup_at=Subquery(earliest))
    return dict(counts)


def _recall_many(items: list[tuple[int, int, str, Pool, str, dict]], *, run: RecallRun | None,
                 now: dt.datetime) -> int:  # fmt: skip
    """Move customers back to pools, set-based, inside the caller's transaction. `items`: (customer
    id, owner the scan saw, customer name, pool, reason, params). A customer whose owner changed
    since the scan is left alone. Returns how many moved."""
    wanted = {
        cid: (owner_id, name, pool, reason, params) for cid, owner_id, name, pool, reason, params in items
    }
    current = {
        cid: (owner_id, country)
        for cid, owner_id, country in Company.objects.select_for_update()
        .filter(pk__in=list(wanted))
        .order_by("pk")
        .values_list("id", "owner_id", "country")
    }
    ids = sorted(cid for cid, w in wanted.items() if w[0] and cid in current and current[cid][0] == w[0])
    if not ids:
        return 0
    Company.objects.filter(pk__in=ids).update(owner=None, version=F("version") + 1, updated_at=now)
    PoolEntry.objects.filter(company_id__in=ids).delete()
    PoolEntry.objects.bulk_create(
        PoolEntry(company_id=cid, pool=wanted[cid][2], since=now, previous_owner_id=wanted[cid][0],
                  kind=MoveKind.RECALL, reason=wanted[cid][3][:255], country=current[cid][1] or "")
        for cid in ids
    )  # fmt: skip
    OwnerSince.objects.filter(company_id__in=ids).delete()
    cancelled = _cancel_followups_bulk([(cid, wanted[cid][0]) for cid in ids], now)
    moves = PoolMove.objects.bulk_create(
        PoolMove(company_id=cid, pool=wanted[cid][2], kind=MoveKind.RECALL, from_owner_id=wanted[cid][0],
                 reason=wanted[cid][3][:255], params=wanted[cid][4], actor=None, run=run, at=now)
        for cid in ids
    )  # fmt: skip
    # source and IP come from the audit context (field defaults); sealed into the chain after commit
    AuditEvent.objects.bulk_create(
        AuditEvent(actor=None, action=f"pool.{MoveKind.RECALL}", object_type="customers.company", object_id=cid,
                   changes={"owner": [wanted[cid][0], None], "pool": [None, wanted[cid][2].name],
                            "reason": wanted[cid][3], "followups_cancelled": cancelled.get(cid, 0)})
        for cid in ids
    )  # fmt: skip
    chain.seal_after_commit(router.db_for_write(AuditEvent))
    Notification.objects.bulk_create(
        Notification(
            user_id=wanted[m.company_id][0], kind=texts.RECALLED, company_id=m.company_id,
            url=_company_url(m.company_id)[:255], key=f"pool_recalled:{m.company_id}:{m.pk}"[:128],
            params={"company": wanted[m.company_id][1], "company_id": m.company_id,
                    "pool": wanted[m.company_id][2].name, **wanted[m.company_id][4]},
            created_at=now,
        )
        for m in moves
    )  # fmt: skip
    return len(ids)


def _recall_chunk(rows: list[tuple[dict, object, str, dict]], run: RecallRun, now: dt.datetime) -> int:
    """One chunk, one transaction: all of it moves or none of it does."""
    with transaction.atomic():
        return _recall_many(
            [(row["id"], row["owner_id"], row["name"], pool, reason, params) for row, pool, reason, params in rows],
            run=run, now=now,
        )  # fmt: skip


@transaction.atomic
def pool_recall(
    *,
    company_id: int,
    owner_id: int,
    pool: Pool,
    reason: str,
    params: dict,
    run: RecallRun | None = None,
    now: dt.datetime | None = None,
    company_name: str = "",
) -> bool:
    """Move one customer back to a pool (the recall job's step, for one). False when its owner
    changed meanwhile (nothing is done)."""
    now = now or timezone.now()
    items = [(company_id, owner_id, company_name, pool, reason, params)]
    return _recall_many(items, run=run, now=now) == 1


def pool_recall_run(
    *,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    trigger: str = "schedule",
    actor=None,
    limit: int | None = None,
) -> RecallRun:
    """The scheduled recall: every active pool's due customers go back to it. Idempotent (a
    second run finds nothing due); chunked (see the module docstring)."""
    now = now or timezone.now()
    t0 = time.perf_counter()
    scopes = recall.pool_scopes()
    applied = {str(s.pool.id): {"name": s.pool.name, "version": s.pool.rules_version, "rules": s.rules}
               for s in scopes}  # fmt: skip
    if not dry_run:
        _close_stale_runs(now)
    run = RecallRun.objects.create(started_at=now, dry_run=dry_run, trigger=trigger, rules=applied,
                                   actor=actor if getattr(actor, "pk", None) else None)  # fmt: skip
    phases: dict[str, float] = {}
    due = moved = skipped = 0
    preview: list[dict] = []
    try:
        batch: list = []
        for scope in scopes:
            if limit and due >= limit:
                break
            ts = time.perf_counter()
            for row in _due_rows(scope, now):
                found = recall.first_due(row, scope.rules, now)
                if found is None or found[1]["due"] is None or found[1]["due"] > now:
                    skipped += 1  # the scan and the facts disagree at a boundary: next run decides
                    continue
                due += 1
                reason, params = recall.reason_text(found[0], found[1], now)
                if dry_run:
                    if len(preview) < 1000:
                        preview.append({"company": row["id"], "name": row["name"], "owner": row["owner_id"],
                                        "pool": scope.pool.id, "reason": reason})  # fmt: skip
                    continue
                batch.append((row, scope.pool, reason, params))
                if len(batch) >= CHUNK:
                    moved += _recall_chunk(batch, run, now)
                    batch = []
                if limit and due >= limit:
                    break
            if batch:
                moved += _recall_chunk(batch, run, now)
                batch = []
            phases[f"pool {scope.pool.id}"] = round(time.perf_counter() - ts, 3)
    except Exception as exc:
        RecallRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), due=due, recalled=moved, skipped=skipped,
            seconds=time.perf_counter() - t0, phases=phases, error=f"{type(exc).__name__}: {exc}"[:2000],
        )  # fmt: skip
        raise
    RecallRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE, finished_at=timezone.now(), due=due, recalled=moved, skipped=skipped,
        seconds=round(time.perf_counter() - t0, 3), phases=phases,
    )  # fmt: skip
    run.refresh_from_db()
    run.preview = preview
    return run


def pool_warn_run(*, now: dt.datetime | None = None) -> int:
    """Warn owners whose customers fall due within their pool's warning days: once per customer
    and due date (a notification key), however often it runs. Returns how many were created."""
    now = now or timezone.now()
    created = 0
    for scope in recall.pool_scopes():
        warn = scope.rules["warn_days"]
        if not warn:
            continue
        later = now + dt.timedelta(days=warn)
        qs = recall.due_companies(scope, later)
        if qs is None:
            continue
        due_now = recall.due_companies(scope, now)
        ids = list(qs.exclude(id__in=due_now.values("id")).order_by().values_list("id", flat=True))
        from .selectors import fact_names

        names = fact_names(scope.rules)
        pending = []
        for i in range(0, len(ids), 2000):
            rows = recall.annotate_facts(
                Company.objects.filter(id__in=ids[i : i + 2000]), scope.rules
            ).values(*recall.FACT_FIELDS, *names)
            for row in rows:
                found = recall.first_due(row, scope.rules, later)
                if not found or not found[1]["due"] or found[1]["due"] <= now:
                    continue
                due_day = timezone.localdate(found[1]["due"])
                _reason, params = recall.reason_text(found[0], found[1], found[1]["due"])
                pending.append(Notification(
                    user_id=row["owner_id"], kind=texts.WARNING, company_id=row["id"],
                    url=_company_url(row["id"])[:255], key=f"pool_warn:{row['id']}:{due_day.isoformat()}",
                    params={"company": row["name"], "company_id": row["id"], "pool": scope.pool.name,
                            "due": due_day.isoformat(), **params},
                    created_at=now,
                ))  # fmt: skip
        for i in range(0, len(pending), 500):
            part = pending[i : i + 500]
            existing = set(
                Notification.objects.filter(key__in=[n.key for n in part]).values_list("user_id", "key")
            )
            fresh = [n for n in part if (n.user_id, n.key) not in existing]
            with transaction.atomic():
                Notification.objects.bulk_create(fresh, ignore_conflicts=True)
            created += len(fresh)
    return created
