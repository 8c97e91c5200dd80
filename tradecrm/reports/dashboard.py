"""Reads of the dashboard and its reports: sales by month, country, product and rep; the pipeline
funnel; the weighted forecast; tier distribution and movement; new customers by source; follow-up
compliance per rep; receivables aging.

Every report takes the viewer and a `ReportFilters` (period and team) and sees only the customers
the viewer may see (`accounts.access.company_visibility_q`, the rule of every list): a sales rep
gets their own and followed customers, a manager their team's, an administrator everything. Amounts
are in the base currency at each order's frozen rate (1 order currency = `fx_rate` base; a
base-currency order without a rate counts at 1; an order in another currency without a rate
cannot be converted and is counted apart as "unconverted").

Each report returns a `ReportData`: the table (columns + rows) shown on its own page and exported
to XLSX/PDF, and a small chart spec the page's script turns into an ECharts option. Whole months
of the period come from the monthly rollups (rollups.py) once they are built; the rest (days of a
partial month, customers seen only as a follower, the small reports) is read live. The three
sales-by-X reports share the live read (`ReportContext.sales_by`). The live reads are kept
bounded: followed customers go to the database as one parameter (`IdIn`) and drive the order
index (company_id, document_date); the days of partial months are found by one scan of the order
date index (`ReportContext.edge_orders`) whose order ids then fetch the lines and receivables;
PostgreSQL runs them without JIT compilation (`fast_reads`)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db import connection, transaction
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    Lookup,
    Max,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tradecrm.accounts.access import company_visibility_q, visible_team_ids
from tradecrm.accounts.models import Team, User
from tradecrm.core import fx
from tradecrm.core.errors import Errors

ZERO = Decimal("0")
CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=30, decimal_places=10)
TOP_PRODUCTS = 15
MAX_PERIOD_DAYS = 366 * 10
FORECAST_AHEAD_MONTHS = 6


# --- filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilters:
    date_from: dt.date
    date_to: dt.date
    team: Team | None = None
    team_ids: tuple[int, ...] | None = None  # the team and its sub-teams (None: no team filter)

    def as_params(self) -> dict[str, str]:
        out = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        if self.team is not None:
            out["team"] = str(self.team.pk)
        return out


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last twelve months, whole: the first day of the month eleven months ago up to the end of
    this month (whole months are read from the rollups; see rollups.py)."""
    month = today.month - 11
    year = today.year
    while month <= 0:
        month += 12
        year -= 1
    return dt.date(year, month, 1), next_month(today) - dt.timedelta(days=1)


def teams_for(user: User) -> list[Team]:
    """The teams a viewer may filter by: all (administrator), their team and sub-teams (manager),
    their own team (sales rep: their own and followed customers of that team)."""
    if user.is_admin:
        return list(Team.objects.order_by("path", "name"))
    ids = visible_team_ids(user) or ([user.team_id] if user.team_id else [])
    return list(Team.objects.filter(pk__in=ids).order_by("path", "name"))


def parse_filters(user: User, params: Mapping[str, str], *, today: dt.date | None = None) -> ReportFilters:
    """`from`, `to` (YYYY-MM-DD) and `team` (an id) from a query string; empty means the default.
    Raises ValidationError naming each bad parameter."""
    today = today or fx.user_today(user)
    default_from, default_to = default_period(today)
    errors = Errors()

    def day(name: str, default: dt.date) -> dt.date | None:
        raw = (params.get(name) or "").strip()
        if not raw:
            return default
        try:
            value = parse_date(raw)
        except ValueError:
            value = None
        if value is None:
            errors.add(name, _("“%(value)s” is not a date: use YYYY-MM-DD.") % {"value": raw[:40]})
        return value

    date_from = day("from", default_from)
    date_to = day("to", default_to)
    if date_from and date_to:
        if date_to < date_from:
            errors.add("to", _("The end of the period (%(to)s) is before its start (%(start)s).")
                       % {"to": date_to.isoformat(), "start": date_from.isoformat()})  # fmt: skip
        elif (date_to - date_from).days > MAX_PERIOD_DAYS:
            errors.add("to", _("The period is longer than ten years; choose a shorter one."))
    team = None
    team_ids = None
    raw_team = (params.get("team") or "").strip()
    if raw_team:
        allowed = {t.pk: t for t in teams_for(user)}
        team = allowed.get(int(raw_team)) if raw_team.isdigit() else None
        if team is None:
            errors.add("team", _("Unknown team, or not a team whose figures you may see: %(value)s")
                       % {"value": raw_team[:40]})  # fmt: skip
        else:
            team_ids = tuple(team.subtree_ids())
    errors.raise_if_any()
    return ReportFilters(date_from=date_from, date_to=date_to, team=team, team_ids=team_ids)


# --- SQL helpers --------------------------------------------------------------------------------


class YearMonth(Func):
    """'YYYY-MM' of a date or UTC datetime, computed by the database itself (Django's TruncMonth
    calls a Python function per row on SQLite: 4x slower over 100k orders)."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 7)", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM')", **extra)


def rate_to_base(prefix: str = "") -> Coalesce:
    """The frozen rate of an order (or of the order `prefix` points at); 1 for a base-currency order
    without one; NULL (left out of sums) for another currency without one."""
    return Coalesce(
        F(f"{prefix}fx_rate"),
        Case(When(**{f"{prefix}currency": fx.base_currency()}, then=Value(Decimal(1))), output_field=MONEY),
        output_field=MONEY,
    )


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def months_between(start: dt.date, end: dt.date) -> list[str]:
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def _aware(day: dt.date, user: User | None) -> dt.datetime:
    """Midnight of `day` in the viewer's time zone (periods of datetimes are the viewer's days);
    UTC without a viewer."""
    from zoneinfo import ZoneInfo

    try:
        tz = ZoneInfo((user.timezone if user else "") or "UTC")
    except Exception:  # noqa: BLE001 - an unknown zone name falls back to UTC
        tz = dt.UTC
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


class IdIn(Lookup):
    """`column IN ids` with the ids as ONE parameter: an array on PostgreSQL (`= ANY(%s)`), a JSON
    list on SQLite (`IN (SELECT value FROM json_each(%s))`). Django's `__in` prepares, quotes and
    compiles every id apart: with the ~3,000 customers a viewer follows, used by ten queries of a
    dashboard, that was ~140 ms of Python per request (cProfile, 1M-customer bench), more than
    the queries themselves; and SQLite caps a statement at 32,766 parameters."""

    lookup_name = "id_in"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        ids = sorted({int(i) for i in self.rhs})
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*params, ids]
        if connection.vendor == "sqlite":
            return f"{lhs} IN (SELECT value FROM json_each(%s))", [*params, json.dumps(ids)]
        if not ids:
            return "1 = 0", params
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*params, *ids]


# --- result -------------------------------------------------------------------------------------


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text / int / money / percent / days


@dataclass
class ReportData:
    key: str
    title: str
    description: str
    columns: list[Column]
    rows: list[dict]
    chart: dict
    totals: dict | None = None
    notes: list[str] = field(default_factory=list)

    def cells(self) -> list[list[tuple]]:
        """The table as (value, kind) per column, for templates."""
        return [[(r.get(c.key), c.kind) for c in self.columns] for r in self.rows]

    def total_cells(self) -> list[tuple] | None:
        if not self.totals:
            return None
        return [(self.totals.get(c.key) if i else None, c.kind) for i, c in enumerate(self.columns)]

    def as_json(self) -> dict:
        """Plain JSON: money and quantities as strings (exact), counts as numbers."""

        def plain(v):
            return str(v) if isinstance(v, Decimal) else v

        return {
            "key": self.key, "title": self.title, "description": self.description,
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in self.columns],
            "rows": [{k: plain(v) for k, v in r.items()} for r in self.rows],
            "totals": {k: plain(v) for k, v in (self.totals or {}).items()},
            "chart": self.chart, "notes": self.notes,
        }  # fmt: skip


@dataclass
class ReportContext:
    """One viewer, one set of filters; the sales scan is shared by the reports that read it."""

    user: User
    filters: ReportFilters
    today: dt.date
    use_rollups: bool = True

    def company_q(self, prefix: str) -> Q:
        q = company_visibility_q(self.user, prefix=prefix) or Q()
        if self.filters.team_ids is not None:
            q &= Q(**{f"{prefix}team_id__in": self.filters.team_ids})
        return q

    @cached_property
    def rollup_state(self):
        from . import rollups

        return rollups.state() if self.use_rollups else None

    @cached_property
    def plan(self) -> tuple[list[dt.date], list[tuple[dt.date, dt.date]]]:
        """(whole months of the period read from the rollups, date ranges read live). Without
        rollups (never built, or asked not to) the whole period is read live."""
        f = self.filters
        if self.rollup_state is None:
            return [], [(f.date_from, f.date_to)]
        first = f.date_from if f.date_from.day == 1 else next_month(f.date_from)
        end = (
            next_month(f.date_to) if (f.date_to + dt.timedelta(days=1)).day == 1 else f.date_to.replace(day=1)
        )
        full = []
        m = first
        while m < end:
            full.append(m)
            m = next_month(m)
        if not full:
            return [], [(f.date_from, f.date_to)]
        ranges = []
        if f.date_from < first:
            ranges.append((f.date_from, first - dt.timedelta(days=1)))
        if end <= f.date_to:
            ranges.append((end, f.date_to))
        return full, ranges

    @cached_property
    def rollup_q(self) -> Q:
        """The visibility rule on the rollups' team_id/owner_id columns (followers apart)."""
        q = Q()
        if not self.user.is_admin:
            q = Q(owner_id=self.user.id)
            team_ids = visible_team_ids(self.user)
            if team_ids:
                q |= Q(team_id__in=team_ids)
        if self.filters.team_ids is not None:
            q &= Q(team_id__in=self.filters.team_ids)
        return q

    @cached_property
    def grain_q(self) -> Q:
        """The visibility rule on a rollup kept at three grains (ProductRollup): the whole
        (administrator), per team (a manager's teams), per owner (own customers outside them)."""
        f = self.filters
        if self.user.is_admin:
            return Q(grain=2) if f.team_ids is None else Q(grain=1, team_id__in=f.team_ids)
        teams = visible_team_ids(self.user) or []
        if f.team_ids is not None:
            teams = [t for t in teams if t in f.team_ids]
        q = Q(grain=0, owner_id=self.user.id) & ~Q(team_id__in=visible_team_ids(self.user) or [])
        if f.team_ids is not None:
            q &= Q(team_id__in=f.team_ids)
        if teams:
            q |= Q(grain=1, team_id__in=teams)
        return q

    @cached_property
    def followed_only(self) -> list[int]:
        """Customers the viewer sees only because they follow them: not in the rollups' rule, so
        their figures are read live (a few thousand customers at most)."""
        return sorted(self.followed_companies)

    @cached_property
    def followed_companies(self) -> dict[int, tuple[str, str, dt.datetime]]:
        """The followed-only customers: {id: (country, source, created_at)}, read once for the
        reports that need those columns (no second and third read of the same customers)."""
        from tradecrm.customers.models import Company, CompanyFollower

        if self.user.is_admin:
            return {}
        # two plain lookups (a join with exclusions gets a poor plan on PostgreSQL)
        followed = list(
            CompanyFollower.objects.filter(user_id=self.user.id).values_list("company_id", flat=True)
        )
        if not followed:
            return {}
        teams = set(visible_team_ids(self.user) or [])
        wanted = set(self.filters.team_ids) if self.filters.team_ids is not None else None
        out = {}
        for pk, owner_id, team_id, country, source, created_at in Company.objects.filter(
            IdIn(F("id"), followed)
        ).values_list("id", "owner_id", "team_id", "country", "source", "created_at"):
            if owner_id == self.user.id or team_id in teams:
                continue
            if wanted is not None and team_id not in wanted:
                continue
            out[pk] = (country, source, created_at)
        return out

    def live_parts(self, prefix: str, day_field: str, *, utc_days: bool = False,
                   split_edges: bool = False) -> list[tuple[str, Q]]:  # fmt: skip
        """What to read from the live tables, as separate queries: ("edges", the visible customers
        on the days the rollups do not cover) and ("followed", the followed-only customers on the
        days they do, by the customer id alone: no join to the customers, whose plan PostgreSQL
        gets wrong for a long id list)."""
        full, ranges = self.plan

        def between(start: dt.date, end: dt.date) -> Q:
            if day_field.endswith("_at"):  # a datetime: the viewer's days (UTC for the rollups' months)
                tz_user = None if utc_days else self.user
                return Q(**{f"{day_field}__gte": _aware(start, tz_user),
                            f"{day_field}__lt": _aware(end + dt.timedelta(days=1), tz_user)})  # fmt: skip
            return Q(**{f"{day_field}__gte": start, f"{day_field}__lte": end})

        parts = []
        if ranges and split_edges:
            # one query per range (the partial month at each end): each is then a plain range of
            # a covering index; OR-ed, PostgreSQL scanned all of company_created_idx with the
            # ranges as a filter (163 ms) and sorted the orders' heap rows for a merge join
            parts += [("edges", self.company_q(prefix) & between(start, end)) for start, end in ranges]
        elif ranges:
            days = Q()
            for start, end in ranges:
                days |= between(start, end)
            parts.append(("edges", self.company_q(prefix) & days))
        if full and self.followed_only:
            column = f"{prefix[:-2]}_id" if prefix else "id"
            parts.append(("followed", Q(IdIn(F(column), self.followed_only))
                          & between(full[0], next_month(full[-1]) - dt.timedelta(days=1))))  # fmt: skip
        return parts

    @cached_property
    def base(self) -> str:
        return fx.base_currency()

    @cached_property
    def edge_orders(self) -> list[tuple]:
        """The visible orders dated on the days the rollups do not cover (a partial month at either
        end of the period, or all of it without rollups), one scan: (id, status, 'YYYY-MM',
        customer country, owner id, amount in base currency or None when it cannot be converted,
        rate to the base currency or None).
        The sales reports add them up here; order lines and receivables are then read by these
        order ids (index lookups) instead of each joining the orders to the customers again."""
        from tradecrm.orders.models import Order

        out = []
        for kind, live in self.live_parts("company__", "document_date", split_edges=True):
            if kind != "edges" or not self.edges_by_ids:
                continue
            with nested_loop_joins():
                out += list(
                    Order.objects.filter(live)
                    .annotate(month=YearMonth("document_date"), rate=rate_to_base(),
                              value=ExpressionWrapper(F("total_amount") * rate_to_base(), output_field=MONEY))
                    .values_list("id", "status", "month", "company__country", "owner_id", "value", "rate")
                )  # fmt: skip
        return out

    @property
    def edges_by_ids(self) -> bool:
        """Whether the partial months are read through `edge_orders`: with rollups (two partial
        months at most, a few tens of thousands of orders); without them the whole period is
        grouped by the database instead of brought into memory."""
        return self.rollup_state is not None

    def edge_rates(self, *, cancelled: bool) -> dict[int, Decimal | None]:
        """{order id: rate to the base currency (None: cannot be converted)} of those orders. The
        lines and receivables of the partial months are read by order id alone and multiplied by
        these here: joined back to the orders for the rate, PostgreSQL chose a merge join over the
        whole order key (~500 ms for a manager's 27 edge days on the 1M-customer bench)."""
        from tradecrm.orders.models import OrderStatus

        return {o[0]: (None if o[6] is None else Decimal(o[6])) for o in self.edge_orders
                if cancelled or o[1] != OrderStatus.CANCELLED}  # fmt: skip

    @cached_property
    def sales_live_rows(self) -> list[dict]:
        """The live part of the sales reports (see live_parts): orders by month × country × rep."""
        from tradecrm.orders.models import Order, OrderStatus

        rows = []
        edges: dict[tuple, dict] = {}
        for _id, status, month, country, owner_id, value, _rate in self.edge_orders:
            if status == OrderStatus.CANCELLED:
                continue
            r = edges.setdefault((month, country, owner_id), {"month": month, "country": country, "rep": owner_id,
                                                               "n": 0, "amount": ZERO, "unconverted": 0})  # fmt: skip
            r["n"] += 1
            if value is None:
                r["unconverted"] += 1
            else:
                r["amount"] += Decimal(value)
        rows += edges.values()
        for kind, live in self.live_parts("company__", "document_date"):
            if kind == "edges" and self.edges_by_ids:
                continue
            where = "company_id" if kind == "followed" else "company__country"
            grouped = list(
                Order.objects.filter(live).exclude(status=OrderStatus.CANCELLED)
                .annotate(month=YearMonth("document_date"), rate=rate_to_base())
                .values("month", where, "owner_id")
                .annotate(n=Count("id"), amount=Sum(F("total_amount") * F("rate"), output_field=MONEY),
                          unconverted=Count("id", filter=Q(rate__isnull=True)))
                .order_by()
            )  # fmt: skip
            if kind == "followed":
                companies = self.followed_companies
                for r in grouped:
                    r["company__country"] = companies[r["company_id"]][0]
            rows += [{"month": r["month"], "country": r["company__country"], "rep": r["owner_id"], "n": r["n"],
                      "amount": r["amount"], "unconverted": r["unconverted"]} for r in grouped]  # fmt: skip
        return rows

    def sales_by(self, key: str) -> dict:
        """Orders (not cancelled) dated in the period by `key` ("month" 'YYYY-MM', "country" or
        "rep" (the order's owner id)): {value: {"n", "amount", "unconverted"}}, the rollups' whole
        months grouped by the database, the live part added."""
        from .models import SalesRollup

        cache = self.__dict__.setdefault("_sales_by", {})
        if key in cache:
            return cache[key]
        out: dict = {}

        def add(value, n, amount, unconverted):
            b = out.setdefault(value, {"n": 0, "amount": ZERO, "unconverted": 0})
            b["n"] += n or 0
            b["amount"] += Decimal(amount or 0)
            b["unconverted"] += unconverted or 0

        full, _ranges = self.plan
        if full:
            column = {"month": "month", "country": "country", "rep": "rep_id"}[key]
            for r in (SalesRollup.objects.filter(self.rollup_q, month__in=full).values(column)
                      .annotate(n=Sum("orders"), amount=Sum("amount"), unconverted=Sum("unconverted")).order_by()):  # fmt: skip
                value = r[column]
                if key == "month":
                    value = value.strftime("%Y-%m")
                elif key == "rep":
                    value = value or None
                add(value, r["n"], r["amount"], r["unconverted"])
        for r in self.sales_live_rows:
            add(r[key], r["n"], r["amount"], r["unconverted"])
        cache[key] = out
        return out


# --- sales --------------------------------------------------------------------------------------


def _unconverted_note(ctx: ReportContext) -> list[str]:
    n = sum(v["unconverted"] for v in ctx.sales_by("month").values())
    if not n:
        return []
    return [
        _("%(n)s orders in a currency without an exchange rate are counted but not in the amounts.")
        % {"n": n}
    ]


def sales_by_month(ctx: ReportContext) -> ReportData:
    months = {m: {"n": 0, "amount": ZERO} for m in months_between(ctx.filters.date_from, ctx.filters.date_to)}
    months.update(ctx.sales_by("month"))
    rows = [{"month": k, "orders": v["n"], "amount": _money(v["amount"])} for k, v in sorted(months.items())]
    return ReportData(
        key="sales_month", title=str(REPORTS["sales_month"].title),
        description=_("Orders dated in the period (not cancelled), by month, in %(base)s.") % {"base": ctx.base},
        columns=[Column("month", _("Month")), Column("orders", _("Orders"), "int"),
                 Column("amount", _("Amount (%(base)s)") % {"base": ctx.base}, "money")],
        rows=rows,
        totals={"orders": sum(r["orders"] for r in rows), "amount": sum((r["amount"] for r in rows), ZERO)},
        chart={"type": "line", "categories": [r["month"] for r in rows],
               "series": [{"name": _("Amount"), "data": [float(r["amount"]) for r in rows]}]},
        notes=_unconverted_note(ctx),
    )  # fmt: skip


def sales_by_country(ctx: ReportContext) -> ReportData:
    import pycountry

    by: dict[str, dict] = defaultdict(lambda: {"n": 0, "amount": ZERO})
    for code, v in ctx.sales_by("country").items():
        b = by[code or ""]
        b["n"] += v["n"]
        b["amount"] += v["amount"]
    rows = []
    for code, v in sorted(by.items(), key=lambda kv: (-kv[1]["amount"], kv[0])):
        country = pycountry.countries.get(alpha_2=code) if code else None
        rows.append({"code": code, "country": _(country.name) if country else (code or _("Unknown")),
                     "orders": v["n"], "amount": _money(v["amount"])})  # fmt: skip
    return ReportData(
        key="sales_country", title=str(REPORTS["sales_country"].title),
        description=_("Orders dated in the period by the customer's country, in %(base)s.") % {"base": ctx.base},
        columns=[Column("code", _("Code")), Column("country", _("Country")), Column("orders", _("Orders"), "int"),
                 Column("amount", _("Amount (%(base)s)") % {"base": ctx.base}, "money")],
        rows=rows,
        totals={"orders": sum(r["orders"] for r in rows), "amount": sum((r["amount"] for r in rows), ZERO)},
        chart={"type": "map", "series": [{"name": _("Amount"), "data": [
            {"name": r["code"], "value": float(r["amount"]), "label": r["country"]} for r in rows if r["code"]]}]},
        notes=_unconverted_note(ctx),
    )  # fmt: skip


def _user_names(ids) -> dict[int, str]:
    return {u.pk: str(u) for u in User.objects.filter(pk__in=[i for i in ids if i])}


def sales_by_rep(ctx: ReportContext) -> ReportData:
    by = ctx.sales_by("rep")
    names = _user_names(by)
    rows = [{"rep": names.get(k) or _("Nobody"), "rep_id": k, "orders": v["n"], "amount": _money(v["amount"])}
            for k, v in sorted(by.items(), key=lambda kv: -kv[1]["amount"])]  # fmt: skip
    return ReportData(
        key="sales_rep", title=str(REPORTS["sales_rep"].title),
        description=_("Orders dated in the period by the order's owner, in %(base)s.") % {"base": ctx.base},
        columns=[Column("rep", _("Sales rep")), Column("orders", _("Orders"), "int"),
                 Column("amount", _("Amount (%(base)s)") % {"base": ctx.base}, "money")],
        rows=rows,
        totals={"orders": sum(r["orders"] for r in rows), "amount": sum((r["amount"] for r in rows), ZERO)},
        chart={"type": "hbar", "categories": [r["rep"] for r in rows][::-1],
               "series": [{"name": _("Amount"), "data": [float(r["amount"]) for r in rows][::-1]}]},
        notes=_unconverted_note(ctx),
    )  # fmt: skip


def _edge_lines_by_product(rates: dict[int, Decimal | None]) -> list[dict]:
    """Order lines of the given orders by product, valued at each order's rate (None: left out of
    the amount). PostgreSQL gets the (order, rate) pairs as two arrays, so it walks
    orderline_order_idx once per order: joined back to the orders for the rate, it chose a merge
    join over the whole order key (~500 ms for a manager's 27 edge days on the 1M-customer bench).
    On SQLite the join to the orders by primary key is the fast way (grouping by order and valuing
    in Python was slower: ~60k rows through the decimal converters)."""
    from tradecrm.orders.models import OrderLine

    if not rates:
        return []
    if connection.vendor == "postgresql":
        ids = list(rates)
        with connection.cursor() as cur:
            cur.execute(
                "SELECT l.product_id, COUNT(*), SUM(l.quantity), SUM(l.amount * r.rate) "
                "FROM unnest(%s::bigint[], %s::numeric[]) AS r(id, rate) "
                "JOIN orders_orderline l ON l.order_id = r.id GROUP BY l.product_id",
                [ids, [rates[i] for i in ids]],
            )
            return [{"product_id": p, "lines": n, "quantity": q, "amount": a} for p, n, q, a in cur.fetchall()]
    return list(
        OrderLine.objects.filter(IdIn(F("order_id"), list(rates)))
        .annotate(rate=rate_to_base("order__")).values("product_id")
        .annotate(lines=Count("*"), quantity=Sum("quantity"),
                  amount=Sum(F("amount") * F("rate"), output_field=MONEY))
        .order_by()
    )  # fmt: skip


def sales_by_product(ctx: ReportContext) -> ReportData:
    """Order lines of the period's orders by product: the top products by amount, the rest as one
    row (lines typed without a product as another)."""
    from django.utils.translation import get_language

    from tradecrm.catalog.models import Product
    from tradecrm.orders.models import OrderLine, OrderStatus

    from .models import ProductRollup

    by: dict[int | None, dict] = {}

    def add(r):
        b = by.setdefault(r["product_id"] or None, {"product_id": r["product_id"] or None, "lines": 0,
                                                    "quantity": ZERO, "amount": ZERO})  # fmt: skip
        b["lines"] += r["lines"]
        b["quantity"] += Decimal(r["quantity"] or 0)
        b["amount"] += Decimal(r["amount"] or 0)

    full, _ranges = ctx.plan
    if full:
        for r in (ProductRollup.objects.filter(ctx.grain_q, month__in=full).values("product_id")
                  .annotate(lines=Sum("lines"), quantity=Sum("quantity"), amount=Sum("amount")).order_by()):  # fmt: skip
            add(r)
    for kind, live in ctx.live_parts("order__company__", "order__document_date"):
        if kind == "edges" and ctx.edges_by_ids:
            # the visible orders of those days, found once (ReportContext.edge_orders)
            for r in _edge_lines_by_product(ctx.edge_rates(cancelled=False)):
                add(r)
            continue
        for r in (OrderLine.objects.filter(live).exclude(order__status=OrderStatus.CANCELLED)
                  .annotate(rate=rate_to_base("order__")).values("product_id")
                  # COUNT(*), not of the id: the lines are then read from orderline_order_idx alone
                  # (PostgreSQL otherwise visits every line's row, and for ~17k orders estimated it
                  # chose a parallel scan of all 10M lines: 1.2 s instead of 40 ms)
                  .annotate(lines=Count("*"), quantity=Sum("quantity"),
                            amount=Sum(F("amount") * F("rate"), output_field=MONEY))
                  .order_by()):  # fmt: skip
            add(r)
    grouped = list(by.values())
    grouped.sort(key=lambda r: -(r["amount"] or 0))
    named = [r for r in grouped if r["product_id"] is not None]
    top, rest = named[:TOP_PRODUCTS], named[TOP_PRODUCTS:]
    zh = (get_language() or "").startswith("zh")
    products = {p.pk: p for p in Product.objects.filter(pk__in=[r["product_id"] for r in top])}
    rows = []
    for r in top:
        p = products.get(r["product_id"])
        name = (p.name_zh if zh and p.name_zh else p.name_en) if p else str(r["product_id"])
        rows.append({"sku": p.sku if p else "", "product": name, "lines": r["lines"],
                     "quantity": r["quantity"] or ZERO, "amount": _money(r["amount"])})  # fmt: skip
    if rest:
        rows.append({"sku": "", "product": _("Other products (%(n)s)") % {"n": len(rest)},
                     "lines": sum(r["lines"] for r in rest), "quantity": None,
                     "amount": _money(sum(Decimal(r["amount"] or 0) for r in rest))})  # fmt: skip
    free = [r for r in grouped if r["product_id"] is None]
    if free:
        rows.append({"sku": "", "product": _("Lines without a catalog product"), "lines": free[0]["lines"],
                     "quantity": None, "amount": _money(free[0]["amount"])})  # fmt: skip
    return ReportData(
        key="sales_product", title=str(REPORTS["sales_product"].title),
        description=_("Order lines of the period's orders by product, top %(n)s, in %(base)s.")
        % {"n": TOP_PRODUCTS, "base": ctx.base},
        columns=[Column("sku", _("SKU")), Column("product", _("Product")), Column("lines", _("Order lines"), "int"),
                 Column("quantity", _("Quantity"), "number"),
                 Column("amount", _("Amount (%(base)s)") % {"base": ctx.base}, "money")],
        rows=rows,
        totals={"lines": sum(r["lines"] for r in rows), "amount": sum((r["amount"] for r in rows), ZERO)},
        chart={"type": "hbar", "categories": [r["product"] for r in rows][::-1],
               "series": [{"name": _("Amount"), "data": [float(r["amount"]) for r in rows][::-1]}]},
    )  # fmt: skip


# --- pipeline -----------------------------------------------------------------------------------


def _pipeline():
    from tradecrm.sales.models import Pipeline

    return Pipeline.objects.filter(active=True).order_by("-is_default", "position", "id").first()


def pipeline_funnel(ctx: ReportContext) -> ReportData:
    """Deals of the default pipeline created in the period: how many reached each stage (a deal
    that skipped a stage counts as having passed it), the conversion from the stage before, and the
    average time deals spent in each stage (stays that ended in the period)."""
    from tradecrm.sales.defaults import display_name
    from tradecrm.sales.models import Opportunity, OpportunityStageChange, OpportunityStatus, Stage, StageKind

    pipeline = _pipeline()
    columns = [Column("stage", _("Stage")), Column("reached", _("Deals reached"), "int"),
               Column("conversion", _("Conversion from previous stage"), "percent"),
               Column("average_days", _("Average days in stage"), "days"),
               Column("now", _("In this stage now"), "int")]  # fmt: skip
    title = str(REPORTS["funnel"].title)
    if pipeline is None:
        return ReportData(key="funnel", title=title, description=_("No pipeline yet."), columns=columns,
                          rows=[], chart={"type": "funnel", "series": [{"name": title, "data": []}]})  # fmt: skip
    stages = [
        s
        for s in Stage.objects.filter(pipeline=pipeline).order_by("position", "id")
        if s.kind != StageKind.LOST
    ]
    f = ctx.filters
    start, end = _aware(f.date_from, ctx.user), _aware(f.date_to + dt.timedelta(days=1), ctx.user)
    deals = (
        Opportunity.objects.filter(ctx.company_q("company__"), pipeline=pipeline, created_at__gte=start,
                                   created_at__lt=end)
        .values("id", "stage__position", "stage__kind", "status")
        .annotate(reached=Max("stage_changes__to_stage__position",
                              filter=~Q(stage_changes__to_stage__kind=StageKind.LOST)))
        .order_by()
    )  # fmt: skip
    best: list[int] = []
    now: dict[int, int] = defaultdict(int)
    won = 0
    for d in deals:
        top = d["reached"] if d["reached"] is not None else -1
        if d["stage__kind"] != StageKind.LOST:
            top = max(top, d["stage__position"])
        best.append(top)
        if d["status"] == OpportunityStatus.WON:
            won += 1
        if d["status"] == OpportunityStatus.OPEN:
            now[d["stage__position"]] += 1
    changes = OpportunityStageChange.objects.filter(
        ctx.company_q("opportunity__company__"), from_stage__in=[s.pk for s in stages],
        seconds_in_from__isnull=False, changed_at__gte=start, changed_at__lt=end,
    )  # fmt: skip
    averages = dict(changes.values("from_stage_id").annotate(avg=Avg("seconds_in_from")).order_by()
                    .values_list("from_stage_id", "avg"))  # fmt: skip
    rows = []
    previous = None
    for s in stages:
        reached = won if s.kind == StageKind.WON else sum(1 for b in best if b >= s.position)
        avg = averages.get(s.pk)
        rows.append({
            "stage": display_name(s), "reached": reached,
            "conversion": (round(reached / previous * 100, 1) if previous else None),
            "average_days": (round(float(avg) / 86400, 1) if avg is not None else None),
            "now": now.get(s.position, 0) if s.kind == StageKind.OPEN else None,
        })  # fmt: skip
        previous = reached
    return ReportData(
        key="funnel", title=title,
        description=_("Deals of the pipeline “%(pipeline)s” created in the period: how many reached each stage.")
        % {"pipeline": display_name(pipeline)},
        columns=columns, rows=rows, totals={"reached": len(best)},
        chart={"type": "funnel", "series": [{"name": display_name(pipeline),
               "data": [{"name": r["stage"], "value": r["reached"], "conversion": r["conversion"],
                         "days": r["average_days"]} for r in rows]}]},
    )  # fmt: skip


def weighted_forecast(ctx: ReportContext) -> ReportData:
    """Open deals by expected close month, from the start of the period until six months ahead (or
    the end of the period when later): value and weighted value (× the deal's win probability, or
    its stage's) in the base currency at today's rates — the same rule as the forecast page."""
    from tradecrm.sales.models import Opportunity, OpportunityStatus
    from tradecrm.sales.selectors import Converter

    f = ctx.filters
    ahead = ctx.today.replace(day=1)
    for _i in range(FORECAST_AHEAD_MONTHS):
        ahead = (ahead + dt.timedelta(days=32)).replace(day=1)
    until = max(f.date_to, ahead - dt.timedelta(days=1))
    weighted = F("amount") * Coalesce("probability", "stage__probability")
    grouped = (
        Opportunity.objects.filter(ctx.company_q("company__"), status=OpportunityStatus.OPEN,
                                   expected_close_date__gte=f.date_from, expected_close_date__lte=until)
        .annotate(month=YearMonth("expected_close_date"))
        .values("month", "currency")
        .annotate(n=Count("id"), total=Sum("amount"), weighted=Sum(weighted, output_field=MONEY))
        .order_by()
    )  # fmt: skip
    converter = Converter(ctx.today)
    months: dict[str, dict] = {
        m: {"n": 0, "amount": {}, "weighted": {}} for m in months_between(f.date_from, until)
    }
    for r in grouped:
        m = months.setdefault(r["month"], {"n": 0, "amount": {}, "weighted": {}})
        m["n"] += r["n"]
        m["amount"][r["currency"]] = Decimal(r["total"] or 0)
        m["weighted"][r["currency"]] = Decimal(r["weighted"] or 0) / 100
    rows, unconverted = [], set()
    for month, m in sorted(months.items()):
        amount, wtd = converter.total(m["amount"]), converter.total(m["weighted"])
        unconverted |= set(amount.unconverted)
        rows.append({"month": month, "deals": m["n"], "amount": _money(amount.amount),
                     "weighted": _money(wtd.amount)})  # fmt: skip
    notes = []
    if unconverted:
        notes.append(_("Deals in %(currencies)s have no exchange rate and are left out of the amounts.")
                     % {"currencies": ", ".join(sorted(unconverted))})  # fmt: skip
    return ReportData(
        key="forecast", title=str(REPORTS["forecast"].title),
        description=_("Open deals by expected close month, value and weighted value in %(base)s at today's rates.")
        % {"base": ctx.base},
        columns=[Column("month", _("Expected close")), Column("deals", _("Deals"), "int"),
                 Column("amount", _("Value (%(base)s)") % {"base": ctx.base}, "money"),
                 Column("weighted", _("Weighted (%(base)s)") % {"base": ctx.base}, "money")],
        rows=rows,
        totals={"deals": sum(r["deals"] for r in rows), "amount": sum((r["amount"] for r in rows), ZERO),
                "weighted": sum((r["weighted"] for r in rows), ZERO)},
        chart={"type": "bar", "categories": [r["month"] for r in rows],
               "series": [{"name": _("Value"), "data": [float(r["amount"]) for r in rows]},
                          {"name": _("Weighted"), "data": [float(r["weighted"]) for r in rows]}]},
        notes=notes,
    )  # fmt: skip


# --- grading ------------------------------------------------------------------------------------


def _tiers() -> list:
    from tradecrm.grading.models import Tier

    return list(Tier.objects.order_by("rank"))


def tier_distribution(ctx: ReportContext) -> ReportData:
    """How many of the viewer's customers hold each tier now (the latest grading run); the period
    does not apply: a grade is a state, its changes are the tier movement report."""
    from tradecrm.grading.models import CompanyGrade

    from .models import TierRollup

    counts: dict[str, int] = defaultdict(int)
    if ctx.rollup_state is not None:
        for tier, n in (TierRollup.objects.filter(ctx.rollup_q).values("tier").annotate(n=Sum("customers"))
                        .order_by().values_list("tier", "n")):  # fmt: skip
            counts[tier] += n
        lives = [Q(IdIn(F("company_id"), ctx.followed_only))] if ctx.followed_only else []
    else:
        lives = [ctx.company_q("company__")]
    for live in lives:
        for tier, n in (CompanyGrade.objects.filter(live).values("tier").annotate(n=Count("pk"))
                        .order_by().values_list("tier", "n")):  # fmt: skip
            counts[tier] += n
    tiers = _tiers()
    total = sum(counts.values())
    rows = [
        {"tier": t.code, "name": t.name, "customers": counts.pop(t.code, 0), "color": t.color} for t in tiers
    ]
    for code, n in sorted(counts.items()):
        rows.append({"tier": code, "name": code or _("Not graded"), "customers": n, "color": "#adb5bd"})
    for r in rows:
        r["share"] = round(r["customers"] / total * 100, 1) if total else None
    return ReportData(
        key="tiers", title=str(REPORTS["tiers"].title),
        description=_("Graded customers by tier, from the latest grading run."),
        columns=[Column("tier", _("Tier")), Column("name", _("Name")), Column("customers", _("Customers"), "int"),
                 Column("share", _("Share"), "percent")],
        rows=rows, totals={"customers": total},
        chart={"type": "pie", "series": [{"name": _("Customers"), "data": [
            {"name": f"{r['tier']} · {r['name']}" if r["tier"] else r["name"], "value": r["customers"],
             "itemStyle": {"color": r["color"]}} for r in rows]}]},
    )  # fmt: skip


def tier_movement(ctx: ReportContext) -> ReportData:
    """Changes of tier in the period, from → to, counted; upgrades and downgrades per month."""
    from tradecrm.grading.models import GradeChange

    f = ctx.filters
    start, end = _aware(f.date_from, ctx.user), _aware(f.date_to + dt.timedelta(days=1), ctx.user)
    grouped = list(
        GradeChange.objects.filter(ctx.company_q("company__"), changed_at__gte=start, changed_at__lt=end)
        .annotate(month=YearMonth("changed_at"))
        .values("month", "from_tier", "to_tier").annotate(n=Count("id")).order_by()
    )  # fmt: skip
    rank = {t.code: t.rank for t in _tiers()}
    worst = max(rank.values(), default=0) + 1
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    ups = {m: 0 for m in months_between(f.date_from, f.date_to)}
    downs = dict(ups)
    for r in grouped:
        pairs[(r["from_tier"], r["to_tier"])] += r["n"]
        a, b = rank.get(r["from_tier"], worst), rank.get(r["to_tier"], worst)
        if b < a:
            ups[r["month"]] = ups.get(r["month"], 0) + r["n"]
        elif b > a:
            downs[r["month"]] = downs.get(r["month"], 0) + r["n"]
    rows = []
    for (a, b), n in sorted(pairs.items(), key=lambda kv: -kv[1]):
        ra, rb = rank.get(a, worst), rank.get(b, worst)
        rows.append({"from_tier": a or _("none"), "to_tier": b or _("none"), "customers": n,
                     "direction": _("up") if rb < ra else (_("down") if rb > ra else _("same"))})  # fmt: skip
    months = sorted(ups)
    return ReportData(
        key="tier_movement", title=str(REPORTS["tier_movement"].title),
        description=_("Changes of tier in the period (grading runs and manual overrides)."),
        columns=[Column("from_tier", _("From")), Column("to_tier", _("To")), Column("direction", _("Direction")),
                 Column("customers", _("Changes"), "int")],
        rows=rows, totals={"customers": sum(pairs.values())},
        chart={"type": "stacked", "categories": months,
               "series": [{"name": _("Upgrades"), "data": [ups[m] for m in months], "color": "#2fb344"},
                          {"name": _("Downgrades"), "data": [-downs.get(m, 0) for m in months],
                           "color": "#d63939"}]},
    )  # fmt: skip


# --- customers, follow-ups, receivables ---------------------------------------------------------


def new_customers(ctx: ReportContext) -> ReportData:
    """Customers created in the period by source and month (days and months in UTC)."""
    from tradecrm.customers.models import Company, Source

    from .models import CustomerRollup

    f = ctx.filters
    grouped: list[dict] = []
    full, _ranges = ctx.plan
    if full:
        grouped += [{"month": r["month"].strftime("%Y-%m"), "source": r["source"], "n": r["n"]}
                    for r in CustomerRollup.objects.filter(ctx.rollup_q, month__in=full).values("month", "source")
                    .annotate(n=Sum("customers")).order_by()]  # fmt: skip
    for kind, live in ctx.live_parts("", "created_at", utc_days=True, split_edges=True):
        if kind == "followed":  # the followed-only customers are in memory: their UTC months
            start = _aware(full[0], None)
            end = _aware(next_month(full[-1]), None)
            counted: dict[tuple[str, str], int] = defaultdict(int)
            for _country, source, created in ctx.followed_companies.values():
                if start <= created < end:
                    counted[(created.astimezone(dt.UTC).strftime("%Y-%m"), source)] += 1
            grouped += [{"month": m, "source": s, "n": n} for (m, s), n in counted.items()]
            continue
        grouped += list(Company.objects.filter(live).annotate(month=YearMonth("created_at"))
                        .values("month", "source").annotate(n=Count("id")).order_by())  # fmt: skip
    months = months_between(f.date_from, f.date_to)
    by_source: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in grouped:
        by_source[r["source"] or ""][r["month"]] += r["n"]
    labels = dict(Source.choices)
    rows = [{"source": str(labels.get(s, s)) if s else _("Not recorded"), "customers": sum(m.values())}
            for s, m in sorted(by_source.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))]  # fmt: skip
    series = [{"name": str(labels.get(s, s)) if s else _("Not recorded"), "data": [m.get(k, 0) for k in months]}
              for s, m in sorted(by_source.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))]  # fmt: skip
    return ReportData(
        key="new_customers", title=str(REPORTS["new_customers"].title),
        description=_("Customers added in the period, by source."),
        columns=[Column("source", _("Source")), Column("customers", _("New customers"), "int")],
        rows=rows, totals={"customers": sum(r["customers"] for r in rows)},
        chart={"type": "stacked", "categories": months, "series": series},
    )  # fmt: skip


def followup_compliance(ctx: ReportContext) -> ReportData:
    """Follow-ups due in the period per assignee: done on time (completed by the due time), done
    late, overdue (still open past due), still open and not yet due; cancelled ones left out."""
    from tradecrm.followups.models import FollowUp, FollowUpStatus

    f = ctx.filters
    start, end = _aware(f.date_from, ctx.user), _aware(f.date_to + dt.timedelta(days=1), ctx.user)
    now = timezone.now()
    done = Q(status=FollowUpStatus.DONE)
    grouped = list(
        FollowUp.objects.filter(ctx.company_q("company__"), due_at__gte=start, due_at__lt=end)
        .exclude(status=FollowUpStatus.CANCELLED)
        .values("assignee_id")
        .annotate(
            on_time=Count("id", filter=done & Q(completed_at__lte=F("due_at"))),
            late=Count("id", filter=done & Q(completed_at__gt=F("due_at"))),
            overdue=Count("id", filter=Q(status=FollowUpStatus.OPEN, due_at__lt=now)),
            pending=Count("id", filter=Q(status=FollowUpStatus.OPEN, due_at__gte=now)),
        )
        .order_by()
    )  # fmt: skip
    names = _user_names(r["assignee_id"] for r in grouped)
    rows = []
    for r in sorted(grouped, key=lambda r: names.get(r["assignee_id"], "")):
        judged = r["on_time"] + r["late"] + r["overdue"]
        rows.append({"rep": names.get(r["assignee_id"], "?"), "on_time": r["on_time"], "late": r["late"],
                     "overdue": r["overdue"], "pending": r["pending"],
                     "compliance": round(r["on_time"] / judged * 100, 1) if judged else None})  # fmt: skip
    reps = [r["rep"] for r in rows]
    return ReportData(
        key="followups", title=str(REPORTS["followups"].title),
        description=_("Follow-ups due in the period per assignee; compliance = done on time ÷ (on time + late + overdue)."),
        columns=[Column("rep", _("Sales rep")), Column("on_time", _("Done on time"), "int"),
                 Column("late", _("Done late"), "int"), Column("overdue", _("Overdue"), "int"),
                 Column("pending", _("Open, not yet due"), "int"), Column("compliance", _("Compliance"), "percent")],
        rows=rows,
        totals={k: sum(r[k] for r in rows) for k in ("on_time", "late", "overdue", "pending")},
        chart={"type": "stacked", "categories": reps, "series": [
            {"name": _("Done on time"), "data": [r["on_time"] for r in rows], "color": "#2fb344"},
            {"name": _("Done late"), "data": [r["late"] for r in rows], "color": "#f59f00"},
            {"name": _("Overdue"), "data": [r["overdue"] for r in rows], "color": "#d63939"}]},
    )  # fmt: skip


AGING_BUCKETS = (  # key, label, (min days past due, max days past due)
    ("current", gettext_lazy("Not yet due"), (None, 0)),
    ("d1_30", gettext_lazy("1–30 days"), (1, 30)),
    ("d31_60", gettext_lazy("31–60 days"), (31, 60)),
    ("d61_90", gettext_lazy("61–90 days"), (61, 90)),
    ("d90", gettext_lazy("Over 90 days"), (91, None)),
)


def aging_bucket(days_past_due: int) -> str:
    """The AGING_BUCKETS key for a receivable this many days past its due date (≤ 0: not yet due)."""
    for key, _label, (lo, hi) in AGING_BUCKETS:
        if (lo is None or days_past_due >= lo) and (hi is None or days_past_due <= hi):
            return key
    raise ValueError(days_past_due)


def receivables_aging(ctx: ReportContext) -> ReportData:
    """What customers still owe (open and partly paid receivables of orders dated in the period),
    by days past the due date as of today, in the base currency at each order's frozen rate."""
    from tradecrm.orders.models import Receivable, ReceivableStatus

    from .models import ReceivableRollup

    today = ctx.today

    def buckets(amount, count) -> dict:
        sums = {}
        for key, _label, (lo, hi) in AGING_BUCKETS:
            q = Q()
            if lo is not None:
                q &= Q(due_date__lte=today - dt.timedelta(days=lo))
            if hi is not None:
                q &= Q(due_date__gte=today - dt.timedelta(days=hi))
            sums[key] = Sum(amount, filter=q, output_field=MONEY)
            sums[f"n_{key}"] = Sum(count, filter=q) if count != 1 else Count("pk", filter=q)
        return sums

    totals: dict[str, Decimal | int] = defaultdict(int)
    full, _ranges = ctx.plan
    parts = []
    if full:
        parts.append(ReceivableRollup.objects.filter(ctx.rollup_q, month__in=full)
                     .aggregate(**buckets(F("outstanding"), "receivables")))  # fmt: skip
    for kind, live in ctx.live_parts("company__", "order__document_date"):
        if kind == "edges" and ctx.edges_by_ids:
            # the visible orders of those days (a receivable's customer is its order's): their open
            # receivables by order id from receivable_order_idx alone, valued and bucketed here
            rates = ctx.edge_rates(cancelled=True)
            part: dict[str, Decimal | int] = defaultdict(int)
            for order_id, due, amount, paid in Receivable.objects.filter(
                IdIn(F("order_id"), list(rates)), status__in=(ReceivableStatus.OPEN, ReceivableStatus.PARTIAL)
            ).values_list("order_id", "due_date", "amount", "paid_amount"):
                key = aging_bucket((today - due).days)
                part[f"n_{key}"] += 1
                rate = rates[order_id]
                if rate is not None:
                    part[key] += (Decimal(amount) - Decimal(paid)) * rate
            parts.append(part)
            continue
        parts.append(Receivable.objects.filter(live, status__in=(ReceivableStatus.OPEN, ReceivableStatus.PARTIAL))
                     .aggregate(**buckets((F("amount") - F("paid_amount")) * rate_to_base("order__"), 1)))  # fmt: skip
    for part in parts:
        for k, v in part.items():
            totals[k] += v or 0
    rows = [{"bucket": str(label), "receivables": totals[f"n_{key}"] or 0, "amount": _money(totals[key])}
            for key, label, _r in AGING_BUCKETS]  # fmt: skip
    colors = ["#2fb344", "#f59f00", "#f76707", "#d63939", "#8b0000"]
    return ReportData(
        key="aging", title=str(REPORTS["aging"].title),
        description=_("Open receivables of the period's orders by days past due as of %(today)s, in %(base)s.")
        % {"today": today.isoformat(), "base": ctx.base},
        columns=[Column("bucket", _("Past due")), Column("receivables", _("Receivables"), "int"),
                 Column("amount", _("Outstanding (%(base)s)") % {"base": ctx.base}, "money")],
        rows=rows,
        totals={"receivables": sum(r["receivables"] for r in rows), "amount": sum((r["amount"] for r in rows), ZERO)},
        chart={"type": "bar", "categories": [r["bucket"] for r in rows],
               "series": [{"name": _("Outstanding"), "data": [
                   {"value": float(r["amount"]), "itemStyle": {"color": c}} for r, c in zip(rows, colors, strict=True)]}]},
    )  # fmt: skip


# --- registry -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    build: Callable[[ReportContext], ReportData]


REPORTS: dict[str, Report] = {
    r.key: r
    for r in (
        Report("sales_month", gettext_lazy("Sales by month"), sales_by_month),
        Report("sales_country", gettext_lazy("Sales by country"), sales_by_country),
        Report("sales_product", gettext_lazy("Sales by product"), sales_by_product),
        Report("sales_rep", gettext_lazy("Sales by rep"), sales_by_rep),
        Report("funnel", gettext_lazy("Pipeline funnel"), pipeline_funnel),
        Report("forecast", gettext_lazy("Weighted forecast"), weighted_forecast),
        Report("tiers", gettext_lazy("Tier distribution"), tier_distribution),
        Report("tier_movement", gettext_lazy("Tier movement"), tier_movement),
        Report("new_customers", gettext_lazy("New customers by source"), new_customers),
        Report("followups", gettext_lazy("Follow-up compliance"), followup_compliance),
        Report("aging", gettext_lazy("Receivables aging"), receivables_aging),
    )
}


def context_for(user: User, filters: ReportFilters, *, today: dt.date | None = None,
                use_rollups: bool = True) -> ReportContext:  # fmt: skip
    return ReportContext(
        user=user, filters=filters, today=today or fx.user_today(user), use_rollups=use_rollups
    )


@contextmanager
def nested_loop_joins():
    """PostgreSQL: the statements inside join by nested loops only. The orders of a partial month
    (read from order_report_idx alone) are joined to their customers' visibility columns; the
    planner merge-joined the whole of company_visibility_idx (1M entries, ~175 ms per range on the
    1M-customer bench) where probing it once per order takes 45–85 ms. The settings are local to a
    savepoint and restored after it (an error rolls them back with it). Other vendors: nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_mergejoin = off")
            cur.execute("SET LOCAL enable_hashjoin = off")
        yield
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_mergejoin TO DEFAULT")
            cur.execute("SET LOCAL enable_hashjoin TO DEFAULT")


@contextmanager
def fast_reads():
    """The reports' reads in one transaction with PostgreSQL's JIT compilation off: the live parts
    (a few thousand orders by index) cost more than jit_above_cost, and compiling them took ~125 ms
    of a 133 ms query on the 1M-customer bench (EXPLAIN ANALYZE: "JIT … Emission 124.988 ms").
    SET LOCAL ends with the transaction; other vendors run the reads as they are."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL jit = off")
        yield


def report_data(user: User, key: str, filters: ReportFilters, *, ctx: ReportContext | None = None,
                use_rollups: bool = True) -> ReportData:  # fmt: skip
    """One report for the viewer (KeyError for an unknown key: the caller answers 404)."""
    report = REPORTS[key]
    with fast_reads():
        return report.build(ctx or context_for(user, filters, use_rollups=use_rollups))


def dashboard_data(user: User, filters: ReportFilters) -> list[ReportData]:
    """Every report, sharing one context (one sales scan for the three sales reports)."""
    ctx = context_for(user, filters)
    with fast_reads():
        return [r.build(ctx) for r in REPORTS.values()]
