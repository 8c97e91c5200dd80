"""In-app notifications: create them (idempotently), render their text in the reader's language,
count and mark them read.

A notification stores a `kind` and its `params`, never a finished sentence, so that it reads in
whatever language its user has chosen at the time they read it (and in the digest email).
Producers that run repeatedly (the reminder scan) pass a `key`; a second `notify` with the same
(user, key) is a no-op, guaranteed by the partial unique constraint, not by a check-then-insert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tradecrm.core.paging import Sort, keyset_page

from .models import Notification

# Records rather than messages (the daily digest's "sent on day X"): never listed to the user.
HIDDEN_KINDS = ("digest",)

KINDS = ("followup_due", "followup_assigned", "unanswered_inquiry", "review_due", "cadence_created")

# Kinds other apps bring (e.g. the sales app's stale-opportunity alert): kind -> params -> text.
_RENDERERS: dict[str, Callable[[dict], str]] = {}


def register_kind(kind: str, render_text: Callable[[dict], str]) -> None:
    """Let an app add a notification kind with its own text (call it from AppConfig.ready())."""
    _RENDERERS[kind] = render_text


def notify(
    user,
    kind: str,
    params: dict | None = None,
    *,
    url: str = "",
    company=None,
    followup=None,
    key: str = "",
) -> Notification | None:
    """Create a notification for `user`. With a `key`, at most one exists per (user, key): when
    it already exists nothing is created and None is returned."""
    fields = {
        "user": user,
        "kind": kind,
        "params": _jsonable(params or {}),
        "url": url[:255],
        "company": company,
        "followup": followup,
        "key": key[:128],
        "created_at": timezone.now(),
    }
    if not key:
        return Notification.objects.create(**fields)
    if Notification.objects.filter(user=user, key=fields["key"]).exists():
        return None
    try:
        # A savepoint, so that losing a race against another producer does not break the
        # caller's transaction.
        with transaction.atomic():
            return Notification.objects.create(**fields)
    except IntegrityError:
        return None


def _jsonable(params: dict) -> dict:
    return {
        str(k): (v if isinstance(v, int | float | bool | type(None)) else str(v)) for k, v in params.items()
    }


def render(notification: Notification | dict) -> str:
    """The notification's text in the active language. Accepts a Notification or a dict with
    `kind` and `params` (the rows of `.values()`)."""
    if isinstance(notification, dict):
        kind, params = notification.get("kind", ""), notification.get("params") or {}
    else:
        kind, params = notification.kind, notification.params or {}
    p = _Params(params)
    if kind == "followup_due":
        return _("Follow-up due: %(title)s — %(company)s") % p
    if kind == "followup_assigned":
        return _("%(by)s assigned you a follow-up: %(title)s — %(company)s") % p
    if kind == "unanswered_inquiry":
        return _("Inquiry from %(company)s unanswered for %(hours)s hours") % p
    if kind == "review_due":
        return _("Time to review the profile of %(company)s") % p
    if kind == "cadence_created":
        return _("New follow-up from a cadence rule: %(title)s — %(company)s") % p
    if kind in _RENDERERS:
        return _RENDERERS[kind](p)
    return _("You have a new notification.")


class _Params(dict):
    """Params for %-formatting: a missing key reads as empty rather than raising."""

    def __missing__(self, key):
        return ""


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def latest(user, limit: int = 5) -> list[dict]:
    """The newest notifications of a user (read or not) as dicts with their rendered text."""
    rows = list(
        Notification.objects.filter(user=user)
        .exclude(kind__in=HIDDEN_KINDS)
        .order_by("-created_at", "-id")
        .values("id", "kind", "params", "url", "created_at", "read_at")[:limit]
    )
    for r in rows:
        r["text"] = render(r)
    return rows


def mark_read(user, ids: Iterable[int] | Literal["all"]) -> int:
    """Mark the user's notifications read (only theirs: others' ids are ignored). Returns how many
    changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids != "all":
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        qs = qs.filter(id__in=ids)
    return qs.update(read_at=timezone.now())


def notification_get_for_user(user, notification_id: int) -> Notification:
    """One of the user's notifications; 404 alike for missing and someone else's."""
    from django.http import Http404

    n = Notification.objects.filter(user=user, id=notification_id).first()
    if n is None:
        raise Http404
    return n


PAGE_FIELDS = ("id", "kind", "params", "url", "company_id", "followup_id", "created_at", "read_at")
_NEWEST_FIRST = Sort("created_at", True, "datetime")


def notification_page(user, *, unread: bool = False, cursor: str | None = None, limit: int = 30):
    """A keyset page of the user's notifications, newest first, each row with its rendered text.
    Returns (rows, next_cursor, prev_cursor); raises BadCursor for a cursor it did not issue."""
    qs = Notification.objects.filter(user=user).exclude(kind__in=HIDDEN_KINDS)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    rows, nxt, prev = keyset_page(qs, _NEWEST_FIRST, cursor, limit, PAGE_FIELDS)
    for r in rows:
        r["text"] = render(r)
    return rows, nxt, prev
