"""Reads of the sales app, always scoped to the user.

Opportunities and samples are visible exactly when their customer is. An inquiry linked to a
customer likewise; an unlinked one is visible to its owner, the managers of its team and
administrators.

The board (`board`) costs a fixed number of queries whatever the pipeline holds: the stages, one
grouped count/sum for the open columns (one more for the won/lost columns, which show the deals
closed in the last CLOSED_DAYS days), and one short query per column for its first cards, each
walking the (pipeline, stage, status, position, id) index in card order.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tradecrm.accounts.access import company_visibility_q, scope_companies, visible_team_ids
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import BadCursor, Sort, keyset_page
from tradecrm.core.search import apply_search
from tradecrm.customers.models import Company

from .defaults import display_name
from .models import (
    Inquiry,
    LossReason,
    Opportunity,
    OpportunityStageChange,
    OpportunityStatus,
    Pipeline,
    Sample,
    Stage,
    StageKind,
)

BOARD_PAGE = 20
CLOSED_DAYS = 30
MAX_LIMIT = 200


# --- visibility ---------------------------------------------------------------------------------


def inquiry_visibility_q(user) -> Q | None:
    if user.is_admin:
        return None
    company_q = company_visibility_q(user, prefix="company__")
    mine = Q(owner_id=user.id)
    teams = visible_team_ids(user) or []
    if teams:
        mine |= Q(team_id__in=teams)
    return company_q | (Q(company__isnull=True) & mine)


def inquiries_for_user(user) -> QuerySet:
    q = inquiry_visibility_q(user)
    return Inquiry.objects.all() if q is None else Inquiry.objects.filter(q)


def opportunities_for_user(user) -> QuerySet:
    q = company_visibility_q(user, prefix="company__")
    return Opportunity.objects.all() if q is None else Opportunity.objects.filter(q)


def samples_for_user(user) -> QuerySet:
    q = company_visibility_q(user, prefix="company__")
    return Sample.objects.all() if q is None else Sample.objects.filter(q)


def _get(qs: QuerySet, pk) -> object:
    pk = parse_id(pk)
    if pk is None:
        raise Http404
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def inquiry_get_for_user(user, inquiry_id) -> Inquiry:
    qs = inquiries_for_user(user).select_related("company", "contact", "owner", "opportunity", "updated_by")
    return _get(qs, inquiry_id)


def opportunity_get_for_user(user, opportunity_id) -> Opportunity:
    qs = opportunities_for_user(user).select_related(
        "company", "contact", "owner", "pipeline", "stage", "loss_reason", "updated_by"
    )
    return _get(qs, opportunity_id)


def sample_get_for_user(user, sample_id) -> Sample:
    qs = samples_for_user(user).select_related(
        "company", "contact", "owner", "opportunity", "interaction", "updated_by"
    )
    return _get(qs, sample_id)


def pipeline_get(pipeline_id) -> Pipeline:
    """Pipelines and their stages are the same for everyone (what is scoped is the deals in them)."""
    return _get(Pipeline.objects.all(), pipeline_id)


def pipelines(active_only: bool = True) -> list[Pipeline]:
    qs = Pipeline.objects.order_by("position", "id")
    if active_only:
        qs = qs.filter(active=True)
    return list(qs)


def default_pipeline() -> Pipeline | None:
    from .validation import default_pipeline as pick

    return pick()


def stage_get(stage_id) -> Stage:
    return _get(Stage.objects.select_related("pipeline"), stage_id)


def stages_of(pipeline: Pipeline) -> list[Stage]:
    return list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))


def loss_reasons(active_only: bool = True) -> list[LossReason]:
    qs = LossReason.objects.order_by("position", "id")
    if active_only:
        qs = qs.filter(active=True)
    return list(qs)


# --- lists --------------------------------------------------------------------------------------

INQUIRY_SORT = Sort("received_at", True, "datetime")
INQUIRY_LIST_FIELDS = (
    "id", "channel", "channel_detail", "received_at", "company_id", "company__name", "contact_id", "buyer_name",
    "buyer_company", "buyer_email", "buyer_phone", "buyer_country", "subject", "destination_country",
    "destination_port", "target_currency", "incoterm", "status", "owner_id", "owner__username",
    "owner__first_name", "owner__last_name", "replied_at", "opportunity_id", "version", "created_at", "updated_at",
)  # fmt: skip


@dataclass
class InquiryFilters:
    status: str = ""
    channel: str = ""
    owner: int | None = None
    unlinked: bool = False
    company: int | None = None


def inquiry_list(user, f: InquiryFilters, *, cursor: str | None = None, limit: int = 50):
    """A keyset page of inquiries, newest first; (rows, next_cursor, prev_cursor)."""
    if f.company is not None:
        from tradecrm.customers.selectors import company_get_for_user

        qs = Inquiry.objects.filter(company=company_get_for_user(user, f.company))
    else:
        qs = inquiries_for_user(user)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.unlinked:
        qs = qs.filter(company__isnull=True)
    return keyset_page(qs, INQUIRY_SORT, cursor, min(limit, MAX_LIMIT), INQUIRY_LIST_FIELDS)


def inquiry_items(inquiry: Inquiry) -> list:
    return list(inquiry.items.select_related("product").order_by("position", "id"))


OPPORTUNITY_SORTS = {
    "-updated_at": Sort("updated_at", True, "datetime"),
    "updated_at": Sort("updated_at", False, "datetime"),
    "-created_at": Sort("created_at", True, "datetime"),
}
OPPORTUNITY_LIST_FIELDS = (
    "id", "name", "company_id", "company__name", "contact_id", "pipeline_id", "stage_id", "stage__name",
    "stage__key", "stage__kind", "stage__probability", "status", "amount", "currency", "probability", "expected_close_date",
    "owner_id", "owner__username", "owner__first_name", "owner__last_name", "loss_reason_id", "loss_note",
    "closed_at", "stage_entered_at", "position", "description", "version", "created_at", "updated_at",
)  # fmt: skip


@dataclass
class OpportunityFilters:
    pipeline: int | None = None
    stage: int | None = None
    owner: int | None = None
    status: str = ""
    close_month: dt.date | None = None  # any day of the month
    company: int | None = None
    sort: str = "-updated_at"


def parse_month(value: str) -> dt.date | None:
    """The first day of a "YYYY-MM" month; None when it is not one."""
    try:
        return dt.date.fromisoformat(value + "-01") if value and len(value) == 7 else None
    except ValueError:
        return None


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def opportunity_list(user, f: OpportunityFilters, *, cursor: str | None = None, limit: int = 50):
    if f.company is not None:
        from tradecrm.customers.selectors import company_get_for_user

        qs = Opportunity.objects.filter(company=company_get_for_user(user, f.company))
    else:
        qs = opportunities_for_user(user)
    if f.pipeline:
        qs = qs.filter(pipeline_id=f.pipeline)
    if f.stage:
        qs = qs.filter(stage_id=f.stage)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.close_month:
        start, end = month_bounds(f.close_month)
        qs = qs.filter(expected_close_date__gte=start, expected_close_date__lt=end)
    sort = OPPORTUNITY_SORTS.get(f.sort, OPPORTUNITY_SORTS["-updated_at"])
    rows, nxt, prev = keyset_page(qs, sort, cursor, min(limit, MAX_LIMIT), OPPORTUNITY_LIST_FIELDS)
    for r in rows:
        r["stage_label"] = display_name({"key": r["stage__key"], "name": r["stage__name"]})
    return rows, nxt, prev


SAMPLE_SORT = Sort("requested_on", True, "date")
SAMPLE_LIST_FIELDS = (
    "id", "company_id", "company__name", "contact_id", "opportunity_id", "status", "requested_on", "ship_to",
    "courier", "tracking_number", "cost", "cost_currency", "paid_by", "courier_account", "sent_on",
    "received_on", "feedback", "feedback_rating", "owner_id", "owner__username", "owner__first_name",
    "owner__last_name", "interaction_id", "notes", "version", "created_at", "updated_at",
)  # fmt: skip


@dataclass
class SampleFilters:
    status: str = ""
    owner: int | None = None
    company: int | None = None


def sample_list(user, f: SampleFilters, *, cursor: str | None = None, limit: int = 50):
    if f.company is not None:
        from tradecrm.customers.selectors import company_get_for_user

        qs = Sample.objects.filter(company=company_get_for_user(user, f.company))
    else:
        qs = samples_for_user(user)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    return keyset_page(qs, SAMPLE_SORT, cursor, min(limit, MAX_LIMIT), SAMPLE_LIST_FIELDS)


def sample_items(sample: Sample) -> list:
    return list(sample.items.select_related("product").order_by("position", "id"))


# --- money in the base currency -----------------------------------------------------------------


@dataclass
class Money:
    """A total in the base currency, plus what could not be converted (no rate), per currency."""

    base: str
    amount: Decimal = Decimal("0")
    unconverted: dict[str, Decimal] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.unconverted


class Converter:
    """Totals per currency into the base currency at the rate for `on` (one lookup per currency);
    a currency without a rate is kept apart rather than guessed."""

    def __init__(self, on: dt.date):
        from tradecrm.core import fx

        self.on = on
        self.base = fx.base_currency()
        self._book = fx.RateBook()
        self._missing = fx.MissingRate

    def total(self, by_currency: dict[str, Decimal]) -> Money:
        money = Money(base=self.base)
        for currency, amount in sorted(by_currency.items()):
            if amount is None:
                continue
            try:
                money.amount += self._book.to_base(Decimal(amount), currency, self.on)
            except self._missing:
                money.unconverted[currency] = money.unconverted.get(currency, Decimal("0")) + Decimal(amount)
            except ValueError:
                money.unconverted[currency] = money.unconverted.get(currency, Decimal("0")) + Decimal(amount)
        return money


# --- the board ----------------------------------------------------------------------------------

CARD_FIELDS = (
    "id", "name", "company_id", "company__name", "amount", "currency", "owner_id", "owner__username",
    "owner__first_name", "owner__last_name", "stage_entered_at", "expected_close_date", "version", "position",
    "probability", "closed_at", "status",
)  # fmt: skip


@dataclass
class Column:
    stage: Stage
    label: str
    count: int = 0
    total: Money | None = None
    cards: list[dict] = field(default_factory=list)
    next_cursor: str | None = None

    @property
    def kind(self) -> str:
        return self.stage.kind


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[Column]
    closed_days: int
    now: dt.datetime
    owner: int | None = None


def _board_scope(user, pipeline: Pipeline, owner: int | None) -> QuerySet:
    qs = opportunities_for_user(user).filter(pipeline_id=pipeline.pk)
    if owner:
        qs = qs.filter(owner_id=owner)
    return qs


# Below this many visible customers the board's counts are taken from those customers' deals (an
# IN list the database checks from an index) rather than by joining every deal of the pipeline to
# its customer: measured at 10k open deals on SQLite, a sales rep's counts 22 -> 3 ms; for a
# manager of thousands of customers the join stays as fast, and the cards (walked in position
# order, stopping after a page) are fastest with the join for everyone.
FEW_CUSTOMERS = 2000


def _count_scope(user, pipeline: Pipeline, owner: int | None, base: QuerySet) -> QuerySet:
    if user.is_admin:
        return base
    visible = scope_companies(Company.objects.all(), user).values("id")
    if visible[:FEW_CUSTOMERS].count() >= FEW_CUSTOMERS:
        return base
    qs = Opportunity.objects.filter(pipeline_id=pipeline.pk, company_id__in=visible)
    return qs.filter(owner_id=owner) if owner else qs


def _column_qs(base: QuerySet, stage: Stage, since: dt.datetime) -> QuerySet:
    if stage.kind == StageKind.OPEN:
        return base.filter(stage_id=stage.pk, status=OpportunityStatus.OPEN)
    return base.filter(stage_id=stage.pk, closed_at__gte=since)


def _order(stage: Stage) -> tuple[str, str]:
    return ("position", "id") if stage.kind == StageKind.OPEN else ("-closed_at", "-id")


def encode_column_cursor(stage: Stage, row: dict) -> str:
    if stage.kind == StageKind.OPEN:
        return f"{float(row['position'])!r}~{row['id']}"
    return f"{row['closed_at'].isoformat()}~{row['id']}"


def _after_cursor(qs: QuerySet, stage: Stage, cursor: str) -> QuerySet:
    try:
        value, _sep, pk_text = cursor.rpartition("~")
        pk = int(pk_text)
        if stage.kind == StageKind.OPEN:
            position = float(value)
            if position != position:  # NaN
                raise ValueError
            return qs.filter(Q(position__gt=position) | Q(position=position, id__gt=pk))
        closed = dt.datetime.fromisoformat(value)
        return qs.filter(Q(closed_at__lt=closed) | Q(closed_at=closed, id__lt=pk))
    except (ValueError, TypeError, OverflowError) as exc:
        raise BadCursor("invalid column cursor") from exc


def _decorate(cards: list[dict], stage: Stage, now: dt.datetime) -> None:
    stale_after = (
        dt.timedelta(days=stage.stale_days) if stage.stale_days and stage.kind == StageKind.OPEN else None
    )
    base = reverse("sales:opportunity_detail", args=[0]).removesuffix("0/")  # once, not per card
    for c in cards:
        c["url"] = f"{base}{c['id']}/"
        in_stage = now - c["stage_entered_at"]
        c["days_in_stage"] = max(0, in_stage.days)
        c["stale"] = bool(stale_after and in_stage > stale_after)
        c["owner_name"] = (
            f"{c['owner__first_name']} {c['owner__last_name']}".strip() or c["owner__username"] or ""
        )


def _cards(qs: QuerySet, stage: Stage, limit: int, now: dt.datetime) -> tuple[list[dict], str | None]:
    rows = list(qs.order_by(*_order(stage)).values(*CARD_FIELDS)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    _decorate(rows, stage, now)
    return rows, (encode_column_cursor(stage, rows[-1]) if more and rows else None)


def board(user, pipeline: Pipeline, *, owner: int | None = None, limit: int = BOARD_PAGE,
          closed_days: int = CLOSED_DAYS, now: dt.datetime | None = None) -> Board:  # fmt: skip
    """Every column of the pipeline with its count, its total in the base currency and its first
    `limit` cards (open stages: all open deals, by position; won/lost: closed in the last
    `closed_days` days, newest first)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=closed_days)
    stages = stages_of(pipeline)
    base = _board_scope(user, pipeline, owner)
    counted = _count_scope(user, pipeline, owner, base)
    open_ids = [s.pk for s in stages if s.kind == StageKind.OPEN]
    closed_ids = [s.pk for s in stages if s.kind != StageKind.OPEN]
    sums: dict[int, dict[str, Decimal]] = defaultdict(dict)
    counts: dict[int, int] = defaultdict(int)
    # one grouped query for every column: the customers are joined (or listed) once
    wanted = Q(pk__in=[])
    if open_ids:
        wanted |= Q(stage_id__in=open_ids, status=OpportunityStatus.OPEN)
    if closed_ids:
        wanted |= Q(stage_id__in=closed_ids, closed_at__gte=since)
    grouped = counted.filter(wanted).values("stage_id", "currency").annotate(n=Count("id"), s=Sum("amount"))
    for r in grouped.order_by():
        counts[r["stage_id"]] += r["n"]
        sums[r["stage_id"]][r["currency"]] = sums[r["stage_id"]].get(r["currency"], Decimal("0")) + (
            r["s"] or Decimal("0")
        )
    converter = Converter(timezone.localdate(now))
    columns = []
    for stage in stages:
        column = Column(stage=stage, label=display_name(stage), count=counts.get(stage.pk, 0))
        column.total = converter.total(sums.get(stage.pk, {}))
        if column.count:
            column.cards, column.next_cursor = _cards(_column_qs(base, stage, since), stage, limit, now)
        columns.append(column)
    return Board(pipeline=pipeline, columns=columns, closed_days=closed_days, now=now, owner=owner)


def board_column(user, pipeline: Pipeline, stage: Stage, *, cursor: str | None, owner: int | None = None,
                 limit: int = BOARD_PAGE, closed_days: int = CLOSED_DAYS, now: dt.datetime | None = None):  # fmt: skip
    """The next cards of one column after `cursor` (the "more" button); (cards, next_cursor)."""
    if stage.pipeline_id != pipeline.pk:
        raise Http404
    now = now or timezone.now()
    qs = _column_qs(_board_scope(user, pipeline, owner), stage, now - dt.timedelta(days=closed_days))
    if cursor:
        qs = _after_cursor(qs, stage, cursor)
    return _cards(qs, stage, limit, now)


def board_card(user, opportunity_id: int, now: dt.datetime | None = None) -> dict:
    """One card (after a move), decorated like the board's."""
    opportunity = opportunity_get_for_user(user, opportunity_id)
    row = Opportunity.objects.filter(pk=opportunity.pk).values(*CARD_FIELDS).get()
    _decorate([row], opportunity.stage, now or timezone.now())
    return row


def column_summary(user, pipeline: Pipeline, stage: Stage, *, owner: int | None = None,
                   closed_days: int = CLOSED_DAYS, now: dt.datetime | None = None) -> Column:  # fmt: skip
    """A column's count and total without its cards (refreshed after a move)."""
    now = now or timezone.now()
    qs = _column_qs(_board_scope(user, pipeline, owner), stage, now - dt.timedelta(days=closed_days))
    by_currency: dict[str, Decimal] = {}
    count = 0
    for r in qs.values("currency").annotate(n=Count("id"), s=Sum("amount")).order_by():
        count += r["n"]
        by_currency[r["currency"]] = r["s"] or Decimal("0")
    return Column(stage=stage, label=display_name(stage), count=count,
                  total=Converter(timezone.localdate(now)).total(by_currency))  # fmt: skip


# --- forecast -----------------------------------------------------------------------------------


@dataclass
class ForecastRow:
    month: dt.date | None  # None: no expected close date
    count: int = 0
    amount: Money | None = None
    weighted: Money | None = None
    overdue: bool = False
    share: float = 0.0  # of the largest weighted month, for the bar


@dataclass
class Forecast:
    rows: list[ForecastRow]
    base: str
    total_amount: Money
    total_weighted: Money
    count: int


def forecast(user, *, pipeline: int | None = None, owner: int | None = None,
             today: dt.date | None = None) -> Forecast:  # fmt: skip
    """Open opportunities by expected close month: count, expected value and weighted value (value ×
    the deal's win probability, or its stage's), both in the base currency at today's rates."""
    today = today or timezone.localdate()
    qs = opportunities_for_user(user).filter(status=OpportunityStatus.OPEN)
    if pipeline:
        qs = qs.filter(pipeline_id=pipeline)
    if owner:
        qs = qs.filter(owner_id=owner)
    weighted = ExpressionWrapper(
        F("amount") * Coalesce("probability", "stage__probability"),
        output_field=DecimalField(max_digits=20, decimal_places=2),
    )
    grouped = (
        qs.annotate(month=TruncMonth("expected_close_date"))
        .values("month", "currency")
        .annotate(n=Count("id"), total=Sum("amount"), weighted_total=Sum(weighted))
        .order_by()
    )
    months: dict[dt.date | None, dict] = {}
    for r in grouped:
        month = r["month"]
        if isinstance(month, dt.datetime):
            month = month.date()
        m = months.setdefault(month, {"n": 0, "amount": {}, "weighted": {}})
        m["n"] += r["n"]
        m["amount"][r["currency"]] = Decimal(r["total"] or 0)
        m["weighted"][r["currency"]] = (Decimal(r["weighted_total"] or 0) / 100).quantize(Decimal("0.01"))
    converter = Converter(today)
    rows = []
    totals_amount: dict[str, Decimal] = defaultdict(Decimal)
    totals_weighted: dict[str, Decimal] = defaultdict(Decimal)
    this_month = today.replace(day=1)
    for month in sorted(months, key=lambda m: (m is None, m or dt.date.min)):
        m = months[month]
        for c, v in m["amount"].items():
            totals_amount[c] += v
        for c, v in m["weighted"].items():
            totals_weighted[c] += v
        rows.append(ForecastRow(month=month, count=m["n"], amount=converter.total(m["amount"]),
                                weighted=converter.total(m["weighted"]),
                                overdue=month is not None and month < this_month))  # fmt: skip
    top = max((r.weighted.amount for r in rows), default=Decimal("0"))
    for r in rows:
        r.share = float(r.weighted.amount / top * 100) if top > 0 else 0.0
    return Forecast(rows=rows, base=converter.base, total_amount=converter.total(dict(totals_amount)),
                    total_weighted=converter.total(dict(totals_weighted)),
                    count=sum(r.count for r in rows))  # fmt: skip


# --- time in stage and stale deals --------------------------------------------------------------


def stage_history(opportunity: Opportunity, now: dt.datetime | None = None) -> list[dict]:
    """Each stay of the opportunity in a stage: stage, entered, left (None: still there), seconds, by."""
    now = now or timezone.now()
    changes = list(
        OpportunityStageChange.objects.filter(opportunity=opportunity)
        .select_related("to_stage", "changed_by")
        .order_by("changed_at", "id")
    )
    stays = []
    for i, c in enumerate(changes):
        nxt = changes[i + 1] if i + 1 < len(changes) else None
        left = nxt.changed_at if nxt else None
        if nxt is not None and nxt.seconds_in_from is not None:
            seconds = nxt.seconds_in_from
        else:
            seconds = int(((left or now) - c.changed_at).total_seconds())
        stays.append({
            "stage": c.to_stage, "label": display_name(c.to_stage) if c.to_stage else "—",
            "entered_at": c.changed_at, "left_at": left, "seconds": max(0, seconds), "by": c.changed_by,
            "current": nxt is None,
        })  # fmt: skip
    return stays


def stage_durations(user, pipeline: Pipeline) -> list[dict]:
    """For each stage of the pipeline: how long the user's visible deals stayed in it on average
    (completed stays), how many stays that averages, and how many deals sit in it now."""
    stages = stages_of(pipeline)
    changes = OpportunityStageChange.objects.filter(from_stage__in=[s.pk for s in stages],
                                                    seconds_in_from__isnull=False)  # fmt: skip
    q = company_visibility_q(user, prefix="opportunity__company__")
    if q is not None:
        changes = changes.filter(q)
    averages = {
        r["from_stage_id"]: r
        for r in changes.values("from_stage_id")
        .annotate(avg=Avg("seconds_in_from"), n=Count("id"))
        .order_by()
    }
    current = dict(
        opportunities_for_user(user).filter(pipeline_id=pipeline.pk, status=OpportunityStatus.OPEN)
        .values("stage_id").annotate(n=Count("id")).order_by().values_list("stage_id", "n")
    )  # fmt: skip
    out = []
    for s in stages:
        r = averages.get(s.pk)
        out.append({
            "stage": s, "label": display_name(s), "average_seconds": int(r["avg"]) if r and r["avg"] is not None else None,
            "stays": r["n"] if r else 0, "now": current.get(s.pk, 0),
        })  # fmt: skip
    return out


def stale_q(stages: list[Stage], now: dt.datetime) -> Q | None:
    """Open deals that have been in their stage longer than its stale_days."""
    q = None
    for s in stages:
        if s.kind == StageKind.OPEN and s.stale_days:
            part = Q(stage_id=s.pk, stage_entered_at__lt=now - dt.timedelta(days=s.stale_days))
            q = part if q is None else q | part
    return q


def stale_opportunities(user, *, pipeline: Pipeline | None = None, owner: int | None = None,
                        now: dt.datetime | None = None, limit: int = 100) -> list[dict]:  # fmt: skip
    now = now or timezone.now()
    stages = (
        stages_of(pipeline)
        if pipeline
        else list(Stage.objects.filter(kind=StageKind.OPEN, stale_days__isnull=False))
    )
    q = stale_q(stages, now)
    if q is None:
        return []
    qs = opportunities_for_user(user).filter(q, status=OpportunityStatus.OPEN)
    if owner:
        qs = qs.filter(owner_id=owner)
    rows = list(
        qs.order_by("stage_entered_at", "id").values(*CARD_FIELDS, "stage_id", "stage__name", "stage__key",
                                                     "stage__stale_days")[:limit]
    )  # fmt: skip
    for r in rows:
        r["days_in_stage"] = (now - r["stage_entered_at"]).days
        r["stage_label"] = display_name({"key": r["stage__key"], "name": r["stage__name"]})
    return rows


# --- the customer page and the convert page -----------------------------------------------------

PANEL_ROWS = 8


def company_sales(company: Company) -> dict:
    """What the customer page's sales card shows: open opportunities, recent inquiries and samples."""
    opportunities = list(
        Opportunity.objects.filter(company=company, status=OpportunityStatus.OPEN)
        .select_related("stage", "owner").order_by("-updated_at", "-id")[:PANEL_ROWS]
    )  # fmt: skip
    for o in opportunities:
        o.stage_label = display_name(o.stage)
    return {
        "opportunities": opportunities,
        "open_count": Opportunity.objects.filter(company=company, status=OpportunityStatus.OPEN).count(),
        "inquiries": list(Inquiry.objects.filter(company=company).order_by("-received_at", "-id")[:5]),
        "samples": list(Sample.objects.filter(company=company).order_by("-requested_on", "-id")[:5]),
    }


FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "msn.com", "aol.com",
    "icloud.com", "me.com", "mail.ru", "yandex.ru", "qq.com", "163.com", "126.com", "sina.com", "gmx.de",
    "web.de", "proton.me", "protonmail.com", "yahoo.co.in", "rediffmail.com",
})  # fmt: skip


def convert_candidates(user, inquiry: Inquiry, limit: int = 8) -> list[dict]:
    """Visible customers that may already be this buyer: by company name and by the email domain
    (not a free-mail one), each with why it matched."""
    visible = scope_companies(Company.objects.all(), user)
    found: dict[int, dict] = {}
    fields = ("id", "name", "country", "city", "email", "owner__username")
    if inquiry.buyer_company:
        for r in apply_search(visible, inquiry.buyer_company).values(*fields)[:limit]:
            found.setdefault(r["id"], {**r, "reasons": []})["reasons"].append("name")
    domain = inquiry.buyer_email.rsplit("@", 1)[-1].lower() if "@" in inquiry.buyer_email else ""
    if domain and domain not in FREE_MAIL:
        for r in apply_search(visible, domain).values(*fields)[:limit]:
            found.setdefault(r["id"], {**r, "reasons": []})["reasons"].append("domain")
    return list(found.values())[:limit]


def company_lookup(user, q: str, limit: int = 20) -> list[dict]:
    q = (q or "").strip()[:200]
    if not q:
        return []
    qs = apply_search(scope_companies(Company.objects.all(), user), q)
    return list(qs.order_by("name", "id").values("id", "name", "country", "city")[:limit])


def opportunity_quotations(opportunity: Opportunity) -> list[dict]:
    """Quotations made for this opportunity (documents app), newest first."""
    try:
        from tradecrm.documents.models import Quotation
    except ImportError:  # pragma: no cover - the documents app is part of the project
        return []
    from tradecrm.documents.models import DocumentStatus

    labels = dict(DocumentStatus.choices)
    rows = list(
        Quotation.objects.filter(opportunity=opportunity)
        .order_by("-document_date", "-id")
        .values("id", "number", "revision", "status", "document_date", "currency", "total_amount")[:20]
    )
    for r in rows:
        r["status_label"] = labels.get(r["status"], r["status"])
        try:  # the documents app's page, when it has one
            r["url"] = reverse("documents:quotation_detail", args=[r["id"]])
        except NoReverseMatch:
            r["url"] = ""
    return rows


def opportunity_samples(opportunity: Opportunity) -> list[Sample]:
    return list(Sample.objects.filter(opportunity=opportunity).order_by("-requested_on", "-id"))


def company_opportunities(company: Company, open_only: bool = True) -> list[Opportunity]:
    qs = Opportunity.objects.filter(company=company)
    if open_only:
        qs = qs.filter(status=OpportunityStatus.OPEN)
    return list(qs.order_by("-updated_at", "-id")[:50])
