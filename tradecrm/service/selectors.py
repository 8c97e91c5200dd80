"""Reads of the service app, scoped to the reader.

Who sees a ticket: whoever sees its customer (the customer visibility rule), and its owner (a
quality engineer may own tickets of customers they do not otherwise see). Surveys follow their
customer. Anything else is a 404, as if missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone

from tradecrm.accounts.access import company_visibility_q
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import Sort, keyset_page

from .models import DONE, SLA_DEFAULTS, Scale, SlaPolicy, Survey, SurveyConfig, Ticket, TicketEvent


def tickets_for_user(user) -> QuerySet:
    q = company_visibility_q(user, prefix="company__")
    qs = Ticket.objects.all()
    return qs if q is None else qs.filter(q | Q(owner_id=user.id))


def ticket_get_for_user(user, ticket_id) -> Ticket:
    ticket_id = parse_id(ticket_id)
    if ticket_id is None:
        raise Http404
    ticket = (tickets_for_user(user).select_related("company", "order", "order_line", "product", "owner",
                                                    "created_by").filter(pk=ticket_id).first())  # fmt: skip
    if ticket is None:
        raise Http404
    return ticket


def surveys_for_user(user) -> QuerySet:
    q = company_visibility_q(user, prefix="company__")
    return Survey.objects.all() if q is None else Survey.objects.filter(q)


def survey_get_for_user(user, survey_id) -> Survey:
    survey_id = parse_id(survey_id)
    if survey_id is None:
        raise Http404
    survey = surveys_for_user(user).select_related("company", "order").filter(pk=survey_id).first()
    if survey is None:
        raise Http404
    return survey


# --- ticket lists -----------------------------------------------------------------------------------


@dataclass
class TicketFilters:
    status: str = ""  # a status, "active" (not resolved/closed) or "" (all)
    severity: str = ""
    overdue: bool = False
    owner: int | None = None
    company: int | None = None
    order: int | None = None


def overdue_q(now: dt.datetime) -> Q:
    """Past a due time: not resolved by its resolution due, or unanswered past its response due."""
    active = ~Q(status__in=DONE)
    return active & (
        Q(resolution_due__lt=now) | Q(first_response_at__isnull=True, first_response_due__lt=now)
    )


def filters_from_params(params) -> tuple[TicketFilters, dict[str, str]]:
    from django.utils.translation import gettext as _

    from .models import Severity, Status

    f = TicketFilters()
    errors: dict[str, str] = {}
    status = (params.get("status") or "").strip()
    if status and status != "active" and status not in Status.values:
        errors["status"] = _("“%(value)s” is not a ticket status.") % {"value": status[:20]}
    else:
        f.status = status
    severity = (params.get("severity") or "").strip()
    if severity and severity not in Severity.values:
        errors["severity"] = _("“%(value)s” is not a severity.") % {"value": severity[:20]}
    else:
        f.severity = severity
    f.overdue = (params.get("overdue") or "") in ("1", "true", "on")
    for key in ("owner", "company", "order"):
        raw = (params.get(key) or "").strip()
        if not raw:
            continue
        value = parse_id(raw)
        if value is None:
            errors[key] = _("“%(value)s” is not an id.") % {"value": raw[:20]}
        else:
            setattr(f, key, value)
    return f, errors


TICKET_FIELDS = (
    "id", "number", "company_id", "company__name", "order_id", "order__number", "category", "kind", "severity",
    "title", "status", "owner_id", "owner__username", "owner__first_name", "owner__last_name", "opened_at",
    "first_response_due", "first_response_at", "resolution_due", "resolved_at", "root_cause",
)  # fmt: skip
_NEWEST_FIRST = Sort("opened_at", True, "datetime")


def _filtered(user, f: TicketFilters, now: dt.datetime) -> QuerySet:
    qs = tickets_for_user(user)
    if f.status == "active":
        qs = qs.exclude(status__in=DONE)
    elif f.status:
        qs = qs.filter(status=f.status)
    if f.severity:
        qs = qs.filter(severity=f.severity)
    if f.overdue:
        qs = qs.filter(overdue_q(now))
    if f.owner is not None:
        qs = qs.filter(owner_id=f.owner)
    if f.company is not None:
        qs = qs.filter(company_id=f.company)
    if f.order is not None:
        qs = qs.filter(order_id=f.order)
    return qs


def decorate(row: dict, now: dt.datetime) -> dict:
    """Adds the owner's display name and the SLA state ("overdue", "due_soon" or "") to a row."""
    name = f"{row.get('owner__first_name') or ''} {row.get('owner__last_name') or ''}".strip()
    row["owner_name"] = name or row.get("owner__username") or ""
    done = row["status"] in DONE
    late = not done and (row["resolution_due"] < now
                         or (row["first_response_at"] is None and row["first_response_due"] < now))  # fmt: skip
    row["overdue"] = late
    soon = not done and not late and row["resolution_due"] < now + dt.timedelta(hours=24)
    row["sla"] = "overdue" if late else ("due_soon" if soon else "")
    return row


def ticket_list(
    user,
    f: TicketFilters | None = None,
    *,
    cursor: str | None = None,
    limit: int = 50,
    now: dt.datetime | None = None,
):
    """A keyset page of tickets, newest first: (rows, next_cursor, prev_cursor)."""
    now = now or timezone.now()
    rows, nxt, prev = keyset_page(_filtered(user, f or TicketFilters(), now), _NEWEST_FIRST, cursor, limit,
                                  TICKET_FIELDS)  # fmt: skip
    return [decorate(r, now) for r in rows], nxt, prev


def ticket_events(ticket: Ticket) -> list[TicketEvent]:
    return list(ticket.events.select_related("actor"))


def company_tickets(company_id: int, *, limit: int = 5, now: dt.datetime | None = None) -> dict:
    """The customer page's card: open count, overdue count, the latest tickets."""
    now = now or timezone.now()
    qs = Ticket.objects.filter(company_id=company_id)
    counts = qs.aggregate(total=Count("id"), open=Count("id", filter=~Q(status__in=DONE)),
                          overdue=Count("id", filter=overdue_q(now)))  # fmt: skip
    rows = [decorate(r, now) for r in qs.order_by("-opened_at", "-id").values(*TICKET_FIELDS)[:limit]]
    return {**counts, "rows": rows}


def sla_policies() -> list[dict]:
    """Each severity with its hours (the stored row, or the default when there is none yet)."""
    from .models import Severity

    stored = {p.severity: p for p in SlaPolicy.objects.all()}
    out = []
    for sev in Severity.values[::-1]:
        p = stored.get(sev)
        response, resolution = SLA_DEFAULTS[sev]
        out.append({"severity": sev, "label": Severity(sev).label,
                    "first_response_hours": p.first_response_hours if p else response,
                    "resolution_hours": p.resolution_hours if p else resolution,
                    "version": p.version if p else 0})  # fmt: skip
    return out


def sla_hours(severity: str) -> tuple[int, int]:
    p = (
        SlaPolicy.objects.filter(severity=severity)
        .values_list("first_response_hours", "resolution_hours")
        .first()
    )
    return p if p else SLA_DEFAULTS[severity]


# --- surveys ------------------------------------------------------------------------------------------


def survey_configs() -> list[SurveyConfig]:
    """The stored settings, the default row (tier "") first."""
    return list(SurveyConfig.objects.order_by("tier"))


def nps(promoters: int, detractors: int, total: int) -> int | None:
    """Net promoter score: % promoters (9–10) − % detractors (0–6), rounded; None without answers."""
    if not total:
        return None
    return round(100 * (promoters - detractors) / total)


def _aggregates() -> dict:
    nps_q = Q(scale=Scale.NPS, score__isnull=False)
    return {
        "sent": Count("id", filter=Q(sent_at__isnull=False)),
        "answered": Count("id", filter=Q(answered_at__isnull=False)),
        "average": Avg("score_5"),
        "nps_total": Count("id", filter=nps_q),
        "promoters": Count("id", filter=nps_q & Q(score__gte=9)),
        "detractors": Count("id", filter=nps_q & Q(score__lte=6)),
    }


def _finish(out: dict) -> dict:
    out["nps"] = nps(out["promoters"], out["detractors"], out["nps_total"])
    out["rate"] = round(100 * out["answered"] / out["sent"]) if out["sent"] else None
    return out


def _stats(qs: QuerySet) -> dict:
    return _finish(qs.aggregate(**_aggregates()))


def company_satisfaction(company_id: int, *, limit: int = 5) -> dict:
    """The customer page's card: average (1–5), NPS, response rate and the last answers."""
    qs = Survey.objects.filter(company_id=company_id)
    stats = _stats(qs)
    stats["last"] = list(qs.filter(answered_at__isnull=False).order_by("-answered_at", "-id")
                         .values("id", "order_id", "order__number", "scale", "score", "comment", "answered_at")
                         [:limit])  # fmt: skip
    return stats


SURVEY_FIELDS = (
    "id", "company_id", "company__name", "order_id", "order__number", "email", "language", "tier", "scale",
    "delivered_on", "created_at", "sent_at", "expires_at", "score", "score_5", "comment", "answered_at",
    "changed_at",
)  # fmt: skip
_SURVEY_NEWEST = Sort("created_at", True, "datetime")


def survey_list(
    user,
    *,
    answered: bool | None = None,
    company: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
):
    qs = surveys_for_user(user)
    if answered is not None:
        qs = qs.filter(answered_at__isnull=not answered)
    if company is not None:
        qs = qs.filter(company_id=company)
    return keyset_page(qs, _SURVEY_NEWEST, cursor, limit, SURVEY_FIELDS)


# --- reports ------------------------------------------------------------------------------------------


def _since_until(qs: QuerySet, field: str, since: dt.date | None, until: dt.date | None) -> QuerySet:
    if since:
        qs = qs.filter(**{f"{field}__date__gte": since})
    if until:
        qs = qs.filter(**{f"{field}__date__lte": until})
    return qs


def survey_report(user, *, since: dt.date | None = None, until: dt.date | None = None) -> dict:
    """Survey results by month (of sending) and by tier: sent, answered, response rate, average on
    the 1–5 scale, NPS of the NPS answers; and the totals."""
    qs = _since_until(surveys_for_user(user).filter(sent_at__isnull=False), "sent_at", since, until)
    months = [_finish(r) for r in qs.annotate(month=TruncMonth("sent_at")).values("month")
              .annotate(**_aggregates()).order_by("month")]  # fmt: skip
    tiers = [_finish(r) for r in qs.values("tier").annotate(**_aggregates()).order_by("tier")]
    return {"months": months, "tiers": tiers, "total": _stats(qs)}


def causes_report(
    user, *, since: dt.date | None = None, until: dt.date | None = None, by: str = "product"
) -> list[dict]:
    """Complaints and claims by root cause and product (or supplier): how many, how many still
    open, and the compensation agreed per currency."""
    qs = _since_until(tickets_for_user(user), "opened_at", since, until)
    key = ("product_id", "product__name_en", "product__sku") if by == "product" else ("supplier",)
    rows = list(qs.values("root_cause", *key).annotate(
        tickets=Count("id"), open=Count("id", filter=~Q(status__in=DONE)),
        replacements=Count("id", filter=Q(replacement=True)),
    ).order_by("-tickets", "root_cause", *key))  # fmt: skip
    money = qs.filter(compensation_amount__isnull=False).values("root_cause", *key, "compensation_currency") \
        .annotate(total=Sum("compensation_amount")).order_by("compensation_currency")  # fmt: skip
    by_key: dict[tuple, list] = {}
    for m in money:
        by_key.setdefault(tuple(m[k] for k in ("root_cause", *key)), []).append(
            {"currency": m["compensation_currency"], "amount": m["total"]}
        )
    for r in rows:
        r["compensation"] = by_key.get(tuple(r[k] for k in ("root_cause", *key)), [])
    return rows


def ticket_files(ticket: Ticket) -> list:
    from .models import TicketAttachment

    return list(TicketAttachment.objects.filter(ticket=ticket).select_related("uploaded_by").order_by("uploaded_at", "id"))


def ticket_file_get_for_user(user, attachment_id):
    """A ticket's file, if the user may see the ticket (else 404, as for a missing one)."""
    from .models import TicketAttachment

    attachment_id = parse_id(attachment_id)
    if attachment_id is None:
        raise Http404
    att = (TicketAttachment.objects.select_related("ticket")
           .filter(pk=attachment_id, ticket__in=tickets_for_user(user)).first())  # fmt: skip
    if att is None:
        raise Http404
    return att
