"""HTML views of the notification centre and the bell in the header. Thin: every read and write
goes through tradecrm.followups.notifications and is scoped to the signed-in user, so another
user's notification id is a 404 like a missing one."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone as djtz
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from tradecrm.core import reach
from tradecrm.core.paging import BadCursor

from . import notifications as notes

BELL_LATEST = 6


def _partial(request, template: str, ctx: dict):
    """A fragment for htmx: rendered in the user's zone, as base.html renders whole pages."""
    with djtz.override(reach.zone(request.user.timezone) or djtz.get_default_timezone()):
        return render(request, template, ctx)


@login_required
@require_GET
def bell(request):
    """The unread count for the bell: one COUNT query, polled every 60 s."""
    count = notes.unread_count(request.user)
    response = render(request, "followups/_bell_count.html", {"count": count})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def bell_menu(request):
    """The latest few notifications, loaded when the bell's dropdown opens."""
    rows = notes.latest(request.user, BELL_LATEST)
    return _partial(request, "followups/_bell_menu.html", {"rows": rows})


@login_required
@require_GET
def notification_list(request):
    unread = request.GET.get("unread") == "1"
    try:
        rows, nxt, prev = notes.notification_page(
            request.user, unread=unread, cursor=request.GET.get("cursor") or None
        )
    except BadCursor:
        return HttpResponseBadRequest()

    def page_url(cursor):
        params = {"cursor": cursor}
        if unread:
            params["unread"] = "1"
        return f"{reverse('notifications:list')}?{urlencode(params)}"

    ctx = {
        "nav": "notifications",
        "rows": rows,
        "unread": unread,
        "next_url": page_url(nxt) if nxt else "",
        "prev_url": page_url(prev) if prev else "",
        "unread_count": notes.unread_count(request.user),
    }
    return render(request, "followups/notification_list.html", ctx)


def _back(request):
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_read(request, pk: int):
    n = notes.notification_get_for_user(request.user, pk)
    notes.mark_read(request.user, [n.id])
    if request.htmx:
        n.refresh_from_db(fields=["read_at"])
        row = {
            "id": n.id,
            "kind": n.kind,
            "params": n.params,
            "url": n.url,
            "created_at": n.created_at,
            "read_at": n.read_at,
            "text": notes.render(n),
        }
        response = _partial(request, "followups/_notification_row.html", {"n": row})
        response["HX-Trigger"] = "notifications-changed"
        return response
    return _back(request)


@login_required
@require_POST
def mark_all_read(request):
    notes.mark_read(request.user, "all")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return _back(request)


@login_required
@require_GET
def open_notification(request, pk: int):
    """Follow a notification to its target, marking it read on the way."""
    n = notes.notification_get_for_user(request.user, pk)
    notes.mark_read(request.user, [n.id])
    if n.url and url_has_allowed_host_and_scheme(n.url, {request.get_host()}, request.is_secure()):
        return redirect(n.url)
    return redirect("notifications:list")
