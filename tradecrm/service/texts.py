"""Notification texts of the service app (rendered in the reader's language when read)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

ASSIGNED = "ticket_assigned"
BREACH_OWNER = "ticket_breach"
BREACH_MANAGER = "ticket_breach_team"


def ticket_url(ticket_id: int) -> str:
    return reverse("service:ticket_detail", args=[ticket_id])


def _what(p: dict) -> str:
    return _("first response") if p.get("kind") == "response" else _("resolution")


def render_assigned(p: dict) -> str:
    return _("%(by)s gave you ticket %(number)s: %(title)s — %(company)s") % p


def render_breach(p: dict) -> str:
    return _("Ticket %(number)s (%(company)s) missed its %(what)s due %(due)s") % {**p, "what": _what(p)}


def render_breach_team(p: dict) -> str:
    return _("Ticket %(number)s of %(owner)s (%(company)s) missed its %(what)s due %(due)s") % {
        **p,
        "what": _what(p),
    }


RENDERERS = {ASSIGNED: render_assigned, BREACH_OWNER: render_breach, BREACH_MANAGER: render_breach_team}
