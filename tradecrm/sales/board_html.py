"""The board's cards as HTML, built in Python: a board page shows 140 of them, and rendering each
through a template include cost about half of the page's server time (every id, version and
amount going through the template engine's localization). Every value from the database is
escaped."""

from __future__ import annotations

from html import escape as esc

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tradecrm.core.icons import icon
from tradecrm.core.templatetags.money import money


def card_html(c: dict) -> str:
    stale = " board-stale" if c["stale"] else ""
    days = ngettext("%(d)s day", "%(d)s days", c["days_in_stage"]) % {"d": c["days_in_stage"]}
    badge = (
        f' <span class="badge bg-warning-lt" data-testid="stale-badge">{icon("alert-triangle")} {esc(_("stale"))}</span>'
        if c["stale"]
        else ""
    )
    name = esc(c["name"])
    return (
        f'<article class="board-card card card-sm mb-2{stale}" id="card-{c["id"]}" data-id="{c["id"]}" '
        f'data-version="{c["version"]}" data-testid="board-card"><div class="card-body p-2">'
        f'<a href="{esc(c["url"])}" class="fw-medium d-block text-truncate" title="{name}">{name}</a>'
        f'<div class="text-secondary small text-truncate">{esc(c["company__name"])}</div>'
        f'<div class="d-flex justify-content-between small mt-1 gap-2"><span class="fw-medium text-nowrap">'
        f'{esc(money(c["amount"], c["currency"]))}</span><span class="text-secondary text-truncate">'
        f"{esc(c['owner_name'])}</span></div>"
        f'<div class="small text-secondary mt-1">{icon("clock")} {esc(days)}{badge}</div>'
        f"</div></article>"
    )


def cards_html(cards: list[dict]) -> SafeString:
    return mark_safe("".join(card_html(c) for c in cards))  # built from escaped values only
