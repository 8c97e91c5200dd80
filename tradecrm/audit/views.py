"""The audit trail viewer for administrators (anyone else: 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from tradecrm.core.paging import BadCursor

from . import selectors
from .models import SourceChoices


@login_required
def event_list(request):
    selectors.require_viewer(request.user)
    f, errors = selectors.filters_from_params(request.GET)
    for message in errors.values():
        messages.warning(request, message)
    try:
        rows, nxt, prev = selectors.event_list(request.user, f, cursor=request.GET.get("cursor") or None)
    except BadCursor:
        return redirect(request.path)
    labels = dict(SourceChoices.choices)
    for r in rows:
        r["source_label"] = labels.get(r["source"], r["source"])
    query = request.GET.copy()
    query.pop("cursor", None)
    ctx = {"nav": "audit", "rows": rows, "next_cursor": nxt, "prev_cursor": prev, "f": f,
           "query": query.urlencode(), "sources": SourceChoices.choices, "params": request.GET}  # fmt: skip
    return render(request, "audit/event_list.html", ctx)


@login_required
def event_detail(request, pk: int):
    event = selectors.event_get_for_user(request.user, pk)
    rows, other = selectors.change_rows(event.changes)
    ctx = {"nav": "audit", "e": event, "change_rows": rows, "other": other}
    return render(request, "audit/event_detail.html", ctx)
