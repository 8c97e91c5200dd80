"""Reads of follow-ups and reminder rules, always scoped to the user.

A follow-up is visible to whoever sees its customer, and always to its assignee (a manager may
hand a colleague's customer to someone for one call).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.http import Http404

from tradecrm.accounts.access import company_visibility_q, visible_team_ids
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import Sort, keyset_page
from tradecrm.customers.models import Company

from .models import CadenceRule, FollowUp, FollowUpStatus
from .validation import user_zone

LIST_LIMIT = 100  # rows per section on "My day" and the team view; the counts are exact
UPCOMING_DAYS = 7


def followup_visibility_q(user) -> Q | None:
    q = company_visibility_q(user, prefix="company__")
    return None if q is None else q | Q(assignee_id=user.id)


def followups_for_user(user):
    qs = FollowUp.objects.all()
    q = followup_visibility_q(user)
    return qs if q is None else qs.filter(q)


def followup_get_for_user(user, followup_id) -> FollowUp:
    followup_id = parse_id(followup_id)
    if followup_id is None:
        raise Http404
    followup = (
        FollowUp.objects.select_related(
            "company", "company__owner", "assignee", "contact", "created_by", "outcome"
        )
        .filter(pk=followup_id)
        .first()
    )
    if followup is None:
        raise Http404
    if followup.assignee_id == user.id or user.is_admin:
        return followup
    q = company_visibility_q(user)
    if q is not None and not Company.objects.filter(q, pk=followup.company_id).exists():
        raise Http404
    return followup


# --- my day -------------------------------------------------------------------------------------


def day_bounds(user, now: dt.datetime) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """(start of the user's local day, its end, the end of the upcoming week) in UTC. Built from
    local midnights, so a day with a daylight-saving change is 23 or 25 hours long."""
    tz = user_zone(user)
    local = now.astimezone(tz)
    start = dt.datetime.combine(local.date(), dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    week = dt.datetime.combine(local.date() + dt.timedelta(days=1 + UPCOMING_DAYS), dt.time(0), tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC), week.astimezone(dt.UTC)


@dataclass
class Day:
    overdue: list[FollowUp] = field(default_factory=list)
    today: list[FollowUp] = field(default_factory=list)
    upcoming: list[FollowUp] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _rows(qs) -> list[FollowUp]:
    return list(qs.select_related("company", "contact", "assignee").order_by("due_at", "id")[:LIST_LIMIT])


def _counts(qs, now: dt.datetime, end: dt.datetime, week: dt.datetime) -> dict[str, int]:
    return qs.aggregate(
        overdue=Count("id", filter=Q(due_at__lt=now)),
        today=Count("id", filter=Q(due_at__gte=now, due_at__lt=end)),
        upcoming=Count("id", filter=Q(due_at__gte=end, due_at__lt=week)),
    )


def my_day(user, now: dt.datetime) -> Day:
    """The user's open follow-ups: overdue (due before now), today (the rest of the user's local
    day) and upcoming (the following 7 days). Lists hold the first LIST_LIMIT of each; counts are
    exact."""
    _start, end, week = day_bounds(user, now)
    mine = FollowUp.objects.filter(assignee_id=user.id, status=FollowUpStatus.OPEN)
    return Day(
        overdue=_rows(mine.filter(due_at__lt=now)),
        today=_rows(mine.filter(due_at__gte=now, due_at__lt=end)),
        upcoming=_rows(mine.filter(due_at__gte=end, due_at__lt=week)),
        counts=_counts(mine.filter(due_at__lt=week), now, end, week),
    )


def overdue_count(user, now: dt.datetime) -> int:
    return FollowUp.objects.filter(assignee_id=user.id, status=FollowUpStatus.OPEN, due_at__lt=now).count()


def can_see_team(user) -> bool:
    return user.is_admin or user.is_manager


def team_members(user) -> list:
    """The users whose follow-ups a manager (their teams and sub-teams) or an admin (everyone) sees."""
    users = get_user_model().objects.filter(is_active=True)
    if not user.is_admin:
        team_ids = visible_team_ids(user) or []
        users = users.filter(Q(team_id__in=team_ids) | Q(pk=user.pk))
    return list(
        users.only("id", "username", "first_name", "last_name", "team_id", "timezone").order_by(
            "first_name", "username"
        )
    )


@dataclass
class TeamView:
    members: list[dict] = field(default_factory=list)  # {"user", "overdue", "today", "upcoming"}
    member: object | None = None
    day: Day | None = None


def team_followups(user, now: dt.datetime, member_id: int | None = None) -> TeamView:
    """For managers and admins: each member's open follow-ups counted as overdue / due today (in
    the member's own day) / upcoming, worst first, and the lists of one member (or, without one,
    of the whole team, in the manager's day)."""
    members = team_members(user)
    by_id = {m.id: m for m in members}
    rows = []
    # one grouped query per distinct time zone among the members (usually one or two)
    zones: dict[str, list[int]] = {}
    for m in members:
        zones.setdefault(m.timezone or "UTC", []).append(m.id)
    counts: dict[int, dict[str, int]] = {}
    for ids in zones.values():
        _start, end, week = day_bounds(by_id[ids[0]], now)
        for r in (
            FollowUp.objects.filter(assignee_id__in=ids, status=FollowUpStatus.OPEN, due_at__lt=week)
            .values("assignee_id")
            .annotate(
                overdue=Count("id", filter=Q(due_at__lt=now)),
                today=Count("id", filter=Q(due_at__gte=now, due_at__lt=end)),
                upcoming=Count("id", filter=Q(due_at__gte=end)),
            )
        ):
            counts[r["assignee_id"]] = r
    for m in members:
        c = counts.get(m.id, {})
        rows.append(
            {
                "user": m,
                "overdue": c.get("overdue", 0),
                "today": c.get("today", 0),
                "upcoming": c.get("upcoming", 0),
            }
        )
    rows.sort(key=lambda r: (-r["overdue"], -r["today"], str(r["user"])))
    view = TeamView(members=rows)
    if member_id is not None and member_id in by_id:
        view.member = by_id[member_id]
        view.day = my_day(view.member, now)
    else:
        _start, end, week = day_bounds(user, now)
        team = FollowUp.objects.filter(assignee_id__in=list(by_id), status=FollowUpStatus.OPEN)
        if user.is_admin:
            team = FollowUp.objects.filter(status=FollowUpStatus.OPEN)
        view.day = Day(
            overdue=_rows(team.filter(due_at__lt=now)),
            today=_rows(team.filter(due_at__gte=now, due_at__lt=end)),
            upcoming=_rows(team.filter(due_at__gte=end, due_at__lt=week)),
            counts={k: sum(r[k] for r in rows) for k in ("overdue", "today", "upcoming")},
        )
    return view


# --- a customer's follow-ups --------------------------------------------------------------------


def company_followups(company, *, include_closed: int = 0) -> dict:
    """Open follow-ups of a customer by due time, and the last `include_closed` closed ones."""
    base = FollowUp.objects.filter(company_id=company.pk).select_related("assignee", "contact")
    out = {"open": list(base.filter(status=FollowUpStatus.OPEN).order_by("due_at", "id"))}
    if include_closed:
        out["closed"] = list(
            base.exclude(status=FollowUpStatus.OPEN).order_by("-completed_at", "-id")[:include_closed]
        )
    return out


# --- API list -----------------------------------------------------------------------------------

FOLLOWUP_SORTS = {
    "due_at": Sort("due_at", False, "datetime"),
    "-due_at": Sort("due_at", True, "datetime"),
    "-updated_at": Sort("updated_at", True, "datetime"),
}
FOLLOWUP_LIST_FIELDS = (
    "id",
    "company_id",
    "company__name",
    "contact_id",
    "assignee_id",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "title",
    "notes",
    "due_at",
    "priority",
    "status",
    "kind",
    "recurrence",
    "recurrence_interval",
    "completed_at",
    "outcome_id",
    "reminded_at",
    "version",
    "created_at",
    "updated_at",
)


@dataclass
class FollowUpFilters:
    assignee: int | None = None
    status: str = ""
    due_before: dt.datetime | None = None
    due_after: dt.datetime | None = None
    company: int | None = None
    kind: str = ""
    sort: str = "due_at"


def followup_list(user, f: FollowUpFilters, *, cursor: str | None = None, limit: int = 50):
    """One page of the follow-ups the user sees, as dicts; (rows, next_cursor, prev_cursor)."""
    if f.company is not None:
        from tradecrm.customers.selectors import company_get_for_user

        company = company_get_for_user(user, f.company)
        qs = FollowUp.objects.filter(company_id=company.pk)
    elif f.assignee == user.id:
        qs = FollowUp.objects.filter(assignee_id=user.id)  # one's own: no visibility join needed
    else:
        qs = followups_for_user(user)
    if f.assignee is not None:
        qs = qs.filter(assignee_id=f.assignee)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.due_before is not None:
        qs = qs.filter(due_at__lt=f.due_before)
    if f.due_after is not None:
        qs = qs.filter(due_at__gte=f.due_after)
    sort = FOLLOWUP_SORTS.get(f.sort, FOLLOWUP_SORTS["due_at"])
    return keyset_page(qs, sort, cursor, limit, FOLLOWUP_LIST_FIELDS)


# --- rules --------------------------------------------------------------------------------------


def rule_get_for_user(user, rule_id) -> CadenceRule:
    """Reminder rules exist for administrators only; for everyone else they are not there."""
    rule_id = parse_id(rule_id)
    if rule_id is None or not user.is_admin:
        raise Http404
    try:
        return CadenceRule.objects.get(pk=rule_id)
    except CadenceRule.DoesNotExist:
        raise Http404 from None


def rule_list() -> list[CadenceRule]:
    return list(CadenceRule.objects.order_by("kind", "status", "tier", "id"))
