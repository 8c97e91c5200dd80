"""Notification texts of the pool (rendered in the reader's language when read)."""

from __future__ import annotations

from django.utils.translation import gettext as _

WARNING = "pool_recall_warning"
RECALLED = "pool_recalled"
ASSIGNED = "pool_assigned"


class _P(dict):
    def __missing__(self, key):
        return ""


def _with_reason(p: dict) -> dict:
    from .recall import render_reason

    out = _P(p)
    if p.get("rule"):
        out["reason"] = render_reason(p)
    out.setdefault("reason", "")
    return out


def render_warning(p: dict) -> str:
    p = _with_reason(p)
    return _("%(company)s goes back to the pool “%(pool)s” on %(due)s (%(reason)s) unless you act") % p


def render_recalled(p: dict) -> str:
    p = _with_reason(p)
    return _("%(company)s was recalled to the pool “%(pool)s”: %(reason)s") % p


def render_assigned(p: dict) -> str:
    return _("%(by)s assigned you %(company)s from the pool “%(pool)s”") % p


RENDERERS = {WARNING: render_warning, RECALLED: render_recalled, ASSIGNED: render_assigned}
