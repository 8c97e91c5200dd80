"""Timeline entries as HTML, built in Python.

A page of 30 entries through a Django template cost ~4x the database work (every {% translate %},
{% if %} and filter per entry: ~70% of the endpoint's time in a profile), and the timeline card's
first page has a 30 ms budget. So the entries are assembled here from escaped values, with the
labels translated once per page. `body` is stored sanitized by the services (nh3 or escaped
text) and is the only value inserted as HTML.
"""

from __future__ import annotations

from html import escape as esc

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from tradecrm.core.icons import icon


def _labels() -> dict[str, str]:
    return {
        k: esc(v)
        for k, v in {
            "your_time": _("Your time"),
            "their_time": _("customer's time"),
            "logged_by": _("logged by"),
            "with": _("with"),
            "contact": _("contact"),
            "edited": _("edited"),
            "edit": _("Edit"),
            "history": _("History"),
            "delete": _("Delete"),
            "confirm": _("Delete this entry and its files? This cannot be undone."),
            "attach": _("Attach a file"),
            "upload": _("Upload"),
            "more": _("Load more"),
            "empty": _("Nothing logged yet."),
        }.items()
    }


def entry_html(
    r: dict,
    *,
    csrf_token: str,
    labels: dict[str, str] | None = None,
    show_company: bool = False,
    company_base: str = "",
    upload_error: str = "",
) -> str:
    """One timeline entry (an <article id="entry-N">); `r` is a decorated timeline row."""
    t = labels or _labels()
    url = esc(r["url"])
    rid = r["id"]
    head = [f"<strong>{esc(r['type_label'])}</strong>"]
    if r["direction_label"]:
        head.append(f'<span class="badge bg-secondary-lt">{esc(r["direction_label"])}</span>')
    if show_company:
        head.append(
            f'<a class="fw-medium" href="{company_base}{r["company_id"]}/">{esc(r["company__name"])}</a>'
        )
    head.append(f'<span class="text-secondary small" title="{t["your_time"]}">{esc(r["when_mine"])}</span>')
    if r["when_theirs"]:
        head.append(
            f'<span class="text-secondary small" data-testid="customer-time">· {t["their_time"]} '
            f"{esc(r['when_theirs'])}</span>"
        )
    who = []
    if r["owner_name"]:
        who.append(f"{t['logged_by']} {esc(r['owner_name'])}")
    if r["participants"]:
        who.append(f"{t['with']} " + ", ".join(esc(p["name"]) for p in r["participants"]))
    if r["contact_id"] or r["contacts"]:
        people = (
            [f'<a href="{esc(r["contact_url"])}">{esc(r["contact_name"])}</a>'] if r["contact_id"] else []
        )
        people += [esc(c["name"]) for c in r["contacts"]]
        who.append(f"{t['contact']}: " + ", ".join(people))
    if r["version"] > 1:
        who.append(f'<a href="{url}history/">{t["edited"]}</a>')
    parts = [
        f'<article class="list-group-item timeline-entry" id="entry-{rid}" data-testid="timeline-entry">'
        f'<div class="d-flex gap-3"><span class="avatar avatar-sm bg-transparent flex-shrink-0" '
        f'title="{esc(r["type_label"])}" aria-hidden="true">{r["icon"]}</span>'
        f'<div class="flex-fill text-break"><div class="d-flex flex-wrap align-items-baseline column-gap-2">'
        f"{''.join(head)}</div>",
        f'<div class="small text-secondary">{" · ".join(who)}</div>' if who else "",
    ]
    if r["subject"]:
        parts.append(f'<div class="fw-medium mt-1">{esc(r["subject"])}</div>')
    if r["body"]:
        parts.append(f'<div class="timeline-body mt-1">{r["body"]}</div>')  # sanitized when saved
    if r["attachments"]:
        files = "".join(
            f'<li><a href="{esc(a["url"])}" data-testid="attachment">{icon("paperclip")} {esc(a["name"])}</a> '
            f'<span class="text-secondary small">{esc(str(filesizeformat(a["size"])))}</span></li>'
            for a in r["attachments"]
        )
        parts.append(f'<ul class="list-unstyled mt-1 mb-0">{files}</ul>')
    if upload_error:
        parts.append(f'<div class="text-danger small" role="alert">{esc(upload_error)}</div>')
    delete = (
        f'<a class="text-danger" href="{url}delete/" hx-post="{url}delete/" hx-confirm="{t["confirm"]}" '
        f'hx-target="#entry-{rid}" hx-swap="outerHTML">{t["delete"]}</a>'
        if r["can_delete"]
        else ""
    )
    parts.append(
        f'<div class="d-flex flex-wrap gap-2 mt-1 small"><a href="{url}edit/">{t["edit"]}</a>'
        f'<a href="{url}history/">{t["history"]}</a>{delete}'
        f'<details class="d-inline"><summary class="text-primary">{t["attach"]}</summary>'
        f'<form method="post" action="{url}attachments/" enctype="multipart/form-data" '
        f'hx-post="{url}attachments/" hx-encoding="multipart/form-data" hx-target="#entry-{rid}" '
        f'hx-swap="outerHTML" class="d-flex gap-2 mt-1">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{esc(csrf_token)}">'
        f'<input type="file" name="file" required class="form-control form-control-sm">'
        f'<button class="btn btn-sm">{t["upload"]}</button></form></details></div>'
        f"</div></div></article>"
    )
    return "".join(parts)


def entries_html(
    rows: list[dict], *, csrf_token: str, next_url: str = "", first: bool = False, show_company: bool = False
) -> SafeString:
    """A page of entries, then the "load more" button that replaces itself with the next page."""
    t = _labels()
    company_base = reverse("customers:company_detail", args=[1]).removesuffix("1/") if show_company else ""
    out = [
        entry_html(r, csrf_token=csrf_token, labels=t, show_company=show_company, company_base=company_base)
        for r in rows
    ]
    if not rows and first:
        out.append(f'<div class="list-group-item text-secondary" id="timeline-empty">{t["empty"]}</div>')
    if next_url:
        u = esc(next_url)
        out.append(
            f'<div class="list-group-item text-center timeline-more"><a class="btn btn-sm" href="{u}" '
            f'hx-get="{u}" hx-target="closest .timeline-more" hx-swap="outerHTML" '
            f'data-testid="timeline-more">{t["more"]}</a></div>'
        )
    return mark_safe("\n".join(out))  # built from escaped values and sanitized bodies only
