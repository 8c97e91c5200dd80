"""HTML views of the timeline. Thin: parse the request, call a selector or a service, render.
Objects are loaded through `*_get_for_user` helpers, so "missing" and "not yours" are one 404.

The customer page's timeline card (interactions/_company_panel.html) loads its entries from
`company_timeline` with htmx, so the page itself costs nothing extra and the timeline's own
server time can be measured alone (bench/timeline.py).
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.icons import icon
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import BadCursor
from tradecrm.customers import selectors as customer_selectors

from . import selectors, services
from .forms import AttachmentForm, InteractionForm
from .html import entries_html, entry_html
from .models import Direction, InteractionType
from .validation import user_zone

PAGE = 30
# The type buttons of the quick log; the other types are in its dropdown.
QUICK_TYPES = ("call", "email", "meeting", "whatsapp", "wechat", "visit", "note")
_ICON_NAMES = {
    "email": "mail",
    "call": "phone",
    "meeting": "users",
    "video": "video",
    "whatsapp": "brand-whatsapp",
    "wechat": "brand-wechat",
    "chat": "message-circle",
    "visit": "map-pin",
    "trade_show": "building-store",
    "sample": "package",
    "note": "note",
}


def type_icon(kind: str):
    """Inline SVG (tradecrm.core.icons): emoji pictographs showed as boxes where fonts lack them."""
    return icon(_ICON_NAMES.get(kind, "note"))


def type_buttons() -> dict:
    labels = dict(InteractionType.choices)
    quick = [{"value": t, "label": labels[t], "icon": type_icon(t)} for t in QUICK_TYPES]
    more = [
        {"value": t, "label": labels[t], "icon": type_icon(t)}
        for t in InteractionType.values
        if t not in QUICK_TYPES
    ]
    return {"quick": quick, "more": more}


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (KeyError, ValueError):
        return None


def _weekdays() -> list[str]:
    # translated abbreviations, Monday first; formatted once a page, not per entry
    return [date_format(dt.date(2024, 1, 1 + i), "D") for i in range(7)]


def _stamp(moment: dt.datetime, zone: ZoneInfo, weekdays: list[str] | None = None) -> str:
    local = moment.astimezone(zone)
    day = (weekdays or _weekdays())[local.weekday()]
    # the zone's place name: abbreviations are ambiguous (CST is Shanghai and Chicago)
    place = zone.key.rsplit("/", 1)[-1].replace("_", " ") if getattr(zone, "key", None) else local.tzname()
    return f"{day} {local:%Y-%m-%d %H:%M} {place or ''}".strip()


def decorate(rows: list[dict], user, *, company=None) -> list[dict]:
    """Labels, icons and both clocks for the entries (formatted here: a partial rendered for htmx
    has no {% timezone %} block around it, and the customer's clock is not the viewer's)."""
    mine = user_zone(user)
    types, directions = dict(InteractionType.choices), dict(Direction.choices)
    zones: dict[str, ZoneInfo | None] = {}
    days = _weekdays()
    # one reverse() each, not one per entry and link: a page has 30 entries with 6 links each
    entry_base = reverse("interactions:detail", args=[1]).removesuffix("1/")
    file_base = reverse("interactions:attachment_download", args=[1]).removesuffix("1/")
    contact_base = reverse("interactions:contact_timeline", args=[1]).removesuffix("1/timeline/")
    for r in rows:
        r["url"] = f"{entry_base}{r['id']}/"
        r["contact_url"] = f"{contact_base}{r['contact_id']}/timeline/" if r["contact_id"] else ""
        for a in r["attachments"]:
            a["url"] = f"{file_base}{a['id']}/"
        tz_name = company.timezone if company is not None else r.get("company__timezone", "")
        if tz_name not in zones:
            zones[tz_name] = _zone(tz_name)
        theirs = zones[tz_name]
        when = r["occurred_at"]
        r["when_mine"] = _stamp(when, mine, days)
        r["when_theirs"] = _stamp(when, theirs, days) if theirs is not None and theirs.key != mine.key else ""
        r["type_label"] = types.get(r["type"], r["type"])
        r["icon"] = type_icon(r["type"])
        r["direction_label"] = directions.get(r["direction"], "") if r["direction"] else ""
        owner_id = company.owner_id if company is not None else r.get("company__owner_id")
        r["can_delete"] = user.is_admin or user.is_manager or user.id in (r["owner_id"], owner_id)
    return rows


def _concurrent_message(user, exc: ConcurrentEditError) -> str:
    at = timezone.localtime(exc.at, user_zone(user)).strftime("%Y-%m-%d %H:%M") if exc.at else "?"
    by = exc.by if exc.by and exc.by != "?" else _("someone else")
    return _(
        "This entry was changed by %(by)s at %(at)s while you were editing. Your changes were not saved: "
        "reload the page to see the current version, then make your change again."
    ) % {"by": by, "at": at}


def _entries_response(request, rows, next_url: str, *, first: bool = False, show_company: bool = False):
    return HttpResponse(
        entries_html(
            rows, csrf_token=get_token(request), next_url=next_url, first=first, show_company=show_company
        )
    )


def _entries(request, rows, next_url: str, *, show_company: bool = False):
    return entries_html(
        rows, csrf_token=get_token(request), next_url=next_url, first=True, show_company=show_company
    )


def _entry(request, interaction, company, upload_error: str = ""):
    row = decorate([selectors.interaction_related(interaction)], request.user, company=company)[0]
    return mark_safe(entry_html(row, csrf_token=get_token(request), upload_error=upload_error))


def _types_param(request) -> list[str]:
    return [t for t in request.GET.getlist("types") if t in InteractionType.values]


# --- company timeline ---------------------------------------------------------------------------


@login_required
def company_timeline(request, company_pk: int):
    """A page of a customer's timeline: entries for htmx ("load more" brings the next ones), or
    the whole page without htmx."""
    user = request.user
    company = selectors.timeline_company_for_user(user, company_pk)
    types = _types_param(request)
    contact_id = parse_id(request.GET.get("contact"))
    cursor = request.GET.get("cursor") or None
    try:
        rows, nxt, _prev = selectors.company_timeline(
            user, company, cursor=cursor, limit=PAGE, types=types, contact_id=contact_id
        )
    except BadCursor:
        rows, nxt, _prev = selectors.company_timeline(
            user, company, limit=PAGE, types=types, contact_id=contact_id
        )
    decorate(rows, user, company=company)
    base = reverse("interactions:company_timeline", args=[company.pk])
    params = [("types", t) for t in types] + ([("contact", contact_id)] if contact_id else [])
    next_url = f"{base}?{urlencode([*params, ('cursor', nxt)])}" if nxt else ""
    if request.htmx:
        return _entries_response(request, rows, next_url, first=not cursor)
    return render(
        request,
        "interactions/company_timeline.html",
        {"nav": "customers", "company": company, "entries": _entries(request, rows, next_url)},
    )


# --- log, edit, delete --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def interaction_create(request, company_pk: int):
    """GET: the form (inline for htmx: the quick log's first click). POST: save; for htmx the
    answer is the new entry, put at the top of the timeline, and an emptied form slot."""
    user = request.user
    company = customer_selectors.company_get_for_user(user, company_pk)
    contacts = customer_selectors.company_contacts(company)
    kind = request.GET.get("type") if request.GET.get("type") in InteractionType.values else "call"
    initial = {
        "type": kind,
        "direction": "" if kind == "note" else "out",
        "occurred_at": timezone.now().astimezone(user_zone(user)).strftime("%Y-%m-%dT%H:%M"),
        "body_format": "text",
    }
    primary = next((c for c in contacts if c.is_primary), None)
    if primary is not None and kind != "note":
        initial["contact"] = str(primary.pk)
    form = InteractionForm(
        request.POST or None, user=user, company=company, contacts=contacts, initial=initial
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            interaction = services.interaction_create(
                actor=user, company=company, data=form.service_data(), files=request.FILES.getlist("files")
            )
        except ValidationError as exc:
            form.apply_errors(exc)
            status = 422
        else:
            if request.htmx:
                response = render(
                    request, "interactions/_created.html", {"entry": _entry(request, interaction, company)}
                )
                # the follow-up card shows the last real contact: it reloads on this event
                response["HX-Trigger"] = "timeline-changed"
                return response
            messages.success(request, _("Saved to the timeline."))
            return redirect(
                reverse("customers:company_detail", args=[company.pk]) + f"#entry-{interaction.pk}"
            )
    ctx = {"nav": "customers", "form": form, "company": company, "kind": kind}
    if request.htmx:
        # htmx swaps only 2xx answers: the form comes back with its errors marked, as 200
        return render(request, "interactions/_quick_form.html", ctx)
    return render(request, "interactions/interaction_form.html", ctx, status=status)


@login_required
def interaction_detail(request, pk: int):
    user = request.user
    interaction = selectors.interaction_get_for_user(user, pk)
    company = interaction.company
    entry = _entry(request, interaction, company)
    if request.htmx:
        return HttpResponse(entry)
    return render(
        request,
        "interactions/interaction_detail.html",
        {"nav": "customers", "entry": entry, "interaction": interaction, "company": company},
    )


@login_required
@require_http_methods(["GET", "POST"])
def interaction_edit(request, pk: int):
    user = request.user
    interaction = selectors.interaction_get_for_user(user, pk)
    company = interaction.company
    contacts = customer_selectors.company_contacts(company)
    form = InteractionForm(
        request.POST or None, user=user, company=company, contacts=contacts, interaction=interaction
    )
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            services.interaction_update(
                actor=user,
                interaction=interaction,
                version=form.cleaned_data.get("version") or 0,
                data=form.service_data(),
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(user, exc))
            stale = True
        else:
            messages.success(request, _("Entry saved."))
            return redirect(
                reverse("customers:company_detail", args=[company.pk]) + f"#entry-{interaction.pk}"
            )
    ctx = {"nav": "customers", "form": form, "company": company, "interaction": interaction, "stale": stale}
    status = (409 if stale else 422) if form.errors else 200
    return render(request, "interactions/interaction_form.html", ctx, status=status)


@login_required
def interaction_history(request, pk: int):
    user = request.user
    interaction = selectors.interaction_get_for_user(user, pk)
    company = interaction.company
    current = _entry(request, interaction, company)
    mine = user_zone(user)
    types, directions = dict(InteractionType.choices), dict(Direction.choices)
    revisions = []
    for rev in selectors.interaction_revisions(interaction):
        d = rev.data
        when = dt.datetime.fromisoformat(d["occurred_at"])
        saved_at = dt.datetime.fromisoformat(d["saved_at"]) if d.get("saved_at") else None
        revisions.append(
            {
                "version": rev.version,
                "type_label": types.get(d.get("type"), d.get("type")),
                "direction_label": directions.get(d.get("direction"), "") if d.get("direction") else "",
                "when": _stamp(when, mine),
                "subject": d.get("subject", ""),
                "body": d.get("body", ""),
                "saved_by": d.get("saved_by", ""),
                "saved_at": _stamp(saved_at, mine) if saved_at else "",
                "edited_by": str(rev.edited_by) if rev.edited_by_id else "",
                "edited_at": _stamp(rev.edited_at, mine),
            }
        )
    return render(
        request,
        "interactions/interaction_history.html",
        {
            "nav": "customers",
            "entry": current,
            "company": company,
            "interaction": interaction,
            "revisions": revisions,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def interaction_delete(request, pk: int):
    user = request.user
    interaction = selectors.interaction_get_for_user(user, pk)
    company = interaction.company
    if not services.can_delete_interaction(user, interaction):
        raise PermissionDenied(
            _(
                "Only who logged it, the customer's owner, a manager or an administrator may delete this entry."
            )
        )
    if request.method == "POST":
        services.interaction_delete(actor=user, interaction=interaction)
        if request.htmx:
            return HttpResponse("")  # the entry's element is replaced by nothing
        messages.success(request, _("Entry deleted."))
        return redirect("customers:company_detail", pk=company.pk)
    when = _stamp(interaction.occurred_at, user_zone(user))
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": "customers",
            "title": _("Delete entry"),
            "question": _(
                "Delete the entry “%(entry)s” of %(when)s from the timeline of %(company)s? "
                "Its files are deleted too. This cannot be undone."
            )
            % {
                "entry": interaction.subject or interaction.get_type_display(),
                "when": when,
                "company": company.name,
            },
            "cancel_url": reverse("customers:company_detail", args=[company.pk]) + f"#entry-{interaction.pk}",
        },
    )


# --- attachments --------------------------------------------------------------------------------


@login_required
@require_POST
def attachment_upload(request, pk: int):
    user = request.user
    interaction = selectors.interaction_get_for_user(user, pk)
    company = interaction.company
    form = AttachmentForm(request.POST, request.FILES)
    error = ""
    if form.is_valid():
        try:
            services.attachment_add(actor=user, interaction=interaction, upload=form.cleaned_data["file"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(m for errs in form.errors.values() for m in errs)
    if request.htmx:
        return HttpResponse(_entry(request, interaction, company, error))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("File attached."))
    return redirect(reverse("customers:company_detail", args=[company.pk]) + f"#entry-{interaction.pk}")


@login_required
def attachment_download(request, pk: int):
    attachment = selectors.attachment_get_for_user(request.user, pk)
    try:
        data = services.attachment_read(attachment)  # stored encrypted
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        io.BytesIO(data), as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )
    # Always a download, never rendered by the browser in our origin.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- contact timeline and search ----------------------------------------------------------------


@login_required
def contact_timeline(request, pk: int):
    user = request.user
    contact = customer_selectors.contact_get_for_user(user, pk)
    company = contact.company
    cursor = request.GET.get("cursor") or None
    try:
        rows, nxt, _prev = selectors.contact_timeline(user, contact, cursor=cursor, limit=PAGE)
    except BadCursor:
        rows, nxt, _prev = selectors.contact_timeline(user, contact, limit=PAGE)
    decorate(rows, user, company=company)
    base = reverse("interactions:contact_timeline", args=[contact.pk])
    next_url = f"{base}?{urlencode({'cursor': nxt})}" if nxt else ""
    if request.htmx:
        return _entries_response(request, rows, next_url, first=not cursor)
    return render(
        request,
        "interactions/contact_timeline.html",
        {
            "nav": "customers",
            "contact": contact,
            "company": company,
            "entries": _entries(request, rows, next_url),
        },
    )


@login_required
def timeline_search(request):
    user = request.user
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    cursor = request.GET.get("cursor") or None
    rows, next_url = [], ""
    if q:
        try:
            rows, nxt, _prev = selectors.timeline_search(user, q, cursor=cursor, limit=PAGE)
        except BadCursor:
            rows, nxt, _prev = selectors.timeline_search(user, q, limit=PAGE)
        decorate(rows, user)
        base = reverse("interactions:search")
        next_url = f"{base}?{urlencode({'q': q, 'cursor': nxt})}" if nxt else ""
    if request.htmx and cursor:
        return _entries_response(request, rows, next_url, show_company=True)
    entries = entries_html(rows, csrf_token=get_token(request), next_url=next_url, show_company=True)
    return render(
        request,
        "interactions/search.html",
        {"nav": "timeline", "q": q, "found": bool(rows), "entries": entries},
    )
