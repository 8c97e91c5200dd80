"""The stale-opportunity alert: a step of the reminder scan (tradecrm.followups.reminders).

An open opportunity that has sat in its stage longer than the stage's `stale_days` gets one
notification for its owner, once per stay in the stage: the notification key names the
opportunity and the moment it entered the stage (`opp_stale:<id>:<epoch>`), unique per user, and
the opportunity is marked (`stale_notified_at`) so the next runs do not look at it again; every
stage change clears the mark. Two set-based statements, as the scan's other steps; the partial index
`opp_stale_idx` holds only the open opportunities not warned about yet.

Imported from SalesConfig.ready(), which registers the step.
"""

from __future__ import annotations

from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext as _

from tradecrm.followups.reminders import Scan, producer

from .defaults import stage_label

OPPORTUNITY = "sales_opportunity"
STAGE = "sales_stage"
COMPANY = "customers_company"
USER = "accounts_user"
NOTIFICATION = "followups_notification"
KIND = "opportunity_stale"


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _text(expr: str) -> str:
    return f"({expr})::text" if _pg() else f"CAST({expr} AS TEXT)"


def _epoch(expr: str) -> str:
    if _pg():
        return f"(extract(epoch from {expr})::bigint)::text"
    return f"CAST(CAST(strftime('%%s', {expr}) AS INTEGER) AS TEXT)"


def _json(*pairs: tuple[str, str]) -> str:
    args = ", ".join(f"'{k}', {v}" for k, v in pairs)
    return f"jsonb_build_object({args})" if _pg() else f"json_object({args})"


def _url_sql(id_expr: str) -> str:
    prefix, suffix = reverse("sales:opportunity_detail", args=[987654321]).split("987654321")
    return f"'{prefix}' || {_text(id_expr)} || '{suffix}'"


def _stale_where(stages: list[tuple[int, int]], now) -> tuple[str, list]:
    """(stage = s1 AND entered < t1) OR …, one bound per stage with stale days."""
    parts, params = [], []
    for stage_id, days in stages:
        parts.append("(o.stage_id = %s AND o.stage_entered_at < %s)")
        params += [stage_id, connection.ops.adapt_datetimefield_value(now - days)]
    return "(" + " OR ".join(parts) + ")", params


@producer("stale_opportunities")
def produce_stale_opportunities(scan: Scan) -> dict:
    import datetime as dt

    from .models import Stage, StageKind

    stages = [
        (pk, dt.timedelta(days=days))
        for pk, days in Stage.objects.filter(kind=StageKind.OPEN, stale_days__isnull=False).values_list("id", "stale_days")
    ]  # fmt: skip
    if not stages:
        return {"created": 0, "skipped": "no stage has stale days"}
    stale, stale_params = _stale_where(stages, scan.now)
    # literal "status = 'open' AND stale_notified_at IS NULL": the partial index's condition
    where = f"o.status = 'open' AND o.stale_notified_at IS NULL AND o.owner_id IS NOT NULL AND {stale}"
    params_sql = (
        ("name", "o.name"),
        ("company", f"(SELECT c.name FROM {COMPANY} c WHERE c.id = o.company_id)"),
        ("stage", "s.name"),
        ("stage_key", "s.key"),
        ("days", "s.stale_days"),
        ("opportunity", "o.id"),
    )
    key = f"'opp_stale:' || {_text('o.id')} || ':' || {_epoch('o.stage_entered_at')}"
    insert = f'INSERT INTO {NOTIFICATION} (user_id, kind, params, url, company_id, followup_id, "key", created_at) '
    select = (
        f"SELECT o.owner_id, %s, {_json(*params_sql)}, {_url_sql('o.id')}, o.company_id, NULL, {key}, %s "
        f"FROM {OPPORTUNITY} o JOIN {STAGE} s ON s.id = o.stage_id "
        f"JOIN {USER} u ON u.id = o.owner_id AND u.is_active "
    )
    with connection.cursor() as cur:
        if _pg():
            # one statement: what is marked is exactly what is notified
            sql = (
                f"WITH due AS (UPDATE {OPPORTUNITY} o SET stale_notified_at = %s WHERE {where} "
                f"AND EXISTS (SELECT 1 FROM {USER} u WHERE u.id = o.owner_id AND u.is_active) "
                f"RETURNING o.id, o.owner_id, o.company_id, o.name, o.stage_id, o.stage_entered_at) "
                f"{insert}{select.replace(f'FROM {OPPORTUNITY} o', 'FROM due o')}ON CONFLICT DO NOTHING"
            )
            cur.execute(sql, [scan.p_now, *stale_params, KIND, scan.p_now])
            return {"created": 0, "notified": max(cur.rowcount, 0)}
        # SQLite: the step's transaction is exclusive, so both statements see the same rows
        cur.execute(
            f"{insert}{select}WHERE {where} ON CONFLICT DO NOTHING", [KIND, scan.p_now, *stale_params]
        )
        notified = max(cur.rowcount, 0)
        cur.execute(
            f"UPDATE {OPPORTUNITY} AS o SET stale_notified_at = %s WHERE {where} "
            f"AND EXISTS (SELECT 1 FROM {USER} u WHERE u.id = o.owner_id AND u.is_active)",
            [scan.p_now, *stale_params],
        )
    return {"created": 0, "notified": notified}


def render_stale(params: dict) -> str:
    """The notification's text in the reader's language (called by the notification renderer)."""
    values = {
        "name": params.get("name", ""),
        "company": params.get("company", ""),
        "stage": stage_label(str(params.get("stage_key", "")), str(params.get("stage", ""))),
        "days": params.get("days", ""),
    }
    return (
        _("Opportunity “%(name)s” (%(company)s) has been in “%(stage)s” for more than %(days)s days") % values
    )
