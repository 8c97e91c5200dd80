"""HTML views of the customer archive. Thin: parse the request, call a selector or a service,
render. Every object is loaded through a `*_get_for_user` helper, so "missing" and "not yours"
are the same 404."""

from __future__ import annotations

from html import escape as esc
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tradecrm.accounts.access import (
    can_reveal,
    has_action,
    owner_ids,
    require_action,
    sees_all,
    visible_team_ids,
)
from tradecrm.accounts.models import User
from tradecrm.audit.services import audit_record
from tradecrm.core import geo
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.paging import BadCursor
from tradecrm.core.phones import display_phone

from . import filtering, masking, selectors, services
from .forms import CompanyForm, ContactForm, TagForm
from .models import BusinessType, CompanySize, CreditRating, PurchaseBand, Seniority, Source, Status
from .widgets import options_html


def _sort_choices():
    return [
        ("-updated_at", _("Recently updated")),
        ("updated_at", _("Least recently updated")),
        ("-created_at", _("Newest first")),
        ("created_at", _("Oldest first")),
        ("name", _("Name A–Z")),
        ("-name", _("Name Z–A")),
    ]


def _user_tz(user) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _concurrent_message(user, exc: ConcurrentEditError) -> str:
    at = timezone.localtime(exc.at, _user_tz(user)).strftime("%Y-%m-%d %H:%M") if exc.at else "?"
    by = exc.by if exc.by and exc.by != "?" else _("someone else")
    return _(
        "This record was changed by %(by)s at %(at)s while you were editing. Your changes were not saved: "
        "reload the page to see the current version, then make your change again."
    ) % {"by": by, "at": at}


def _save_versioned(request, form, update, **target) -> tuple[bool, bool]:
    """Run a versioned update service with the form's data; (saved, stale). Field errors and the
    "changed by X at T" refusal land on the form."""
    try:
        update(
            actor=request.user,
            version=form.cleaned_data.get("version") or 0,
            data=form.service_data(),
            **target,
        )
    except ValidationError as exc:
        form.apply_errors(exc)
    except ConcurrentEditError as exc:
        form.add_error(None, _concurrent_message(request.user, exc))
        return False, True
    else:
        return True, False
    return False, False


def _save_new(request, form, create, **target):
    """Run a create service with the form's data; the new object, or None with the field errors
    on the form (the twin of `_save_versioned`)."""
    try:
        return create(actor=request.user, data=form.service_data(), **target)
    except ValidationError as exc:
        form.apply_errors(exc)
        return None


def form_status(form, stale: bool = False) -> int:
    """200 for a fresh or valid form, 422 for field errors, 409 for a stale version."""
    return (409 if stale else 422) if form.errors else 200


# --- company list -------------------------------------------------------------------------------


def _filter_owner_choices(user) -> list[tuple[str, str]]:
    qs = User.objects.filter(is_active=True)
    if not user.is_admin:
        team_ids = list(visible_team_ids(user) or [])
        if user.team_id:
            team_ids.append(user.team_id)
        qs = qs.filter(Q(team_id__in=team_ids) | Q(pk=user.pk))
    rows = qs.order_by("first_name", "username").values_list("id", "username", "first_name", "last_name")
    return [(str(i), f"{f} {la}".strip() or un) for i, un, f, la in rows]


def _company_rows_html(rows: list[dict], lang: str, tz: ZoneInfo) -> SafeString:
    """The table rows of the company list, built in Python: at 50 rows a page the template engine
    cost more than the database (about 5 of 8 ms), and this page must serve >= 1,000 requests/s
    on two cores. Every value from the database is escaped."""
    countries = dict(geo.country_choices(lang))
    statuses = {k: str(v) for k, v in Status.choices}
    btypes = {k: str(v) for k, v in BusinessType.choices}
    base = reverse("customers:company_list")
    now = timezone.now()
    none_planned = _("none planned")
    out = []
    for r in rows:
        name_local = f'<div class="name-local">{esc(r["name_local"])}</div>' if r["name_local"] else ""
        city = f'<div class="text-secondary small">{esc(r["city"])}</div>' if r["city"] else ""
        tags = "".join(
            f'<span class="tag-chip" style="background:{esc(t["color"])}">{esc(t["name"])}</span>'
            for t in r["tags"]
        )
        owner = f"{r['owner__first_name']} {r['owner__last_name']}".strip() or r["owner__username"] or ""
        status = r["status"]
        last, nxt = r["last_contact_at"], r["next_followup_at"]
        last_html = f"{last.astimezone(tz):%Y-%m-%d}" if last else "—"
        if nxt is None:
            next_html = f'<span class="text-secondary">{esc(none_planned)}</span>'
        else:
            late = ' class="text-danger fw-medium"' if nxt < now else ""
            next_html = f"<span{late}>{nxt.astimezone(tz):%Y-%m-%d %H:%M}</span>"
        out.append(
            f'<tr><td><a href="{base}{r["id"]}/" class="fw-medium">{esc(r["name"])}</a>{name_local}</td>'
            f"<td>{esc(countries.get(r['country'], r['country']))}{city}</td>"
            f'<td><span class="badge status-{esc(status)}">{esc(statuses.get(status, status))}</span></td>'
            f"<td>{esc(btypes.get(r['business_type'], ''))}</td><td>{tags}</td><td>{esc(owner)}</td>"
            f'<td class="text-secondary text-nowrap">{last_html}</td><td class="text-nowrap">{next_html}</td></tr>'
        )
    return mark_safe("\n".join(out))  # built from escaped values only


def _tier_choices() -> list[tuple[str, str]]:
    from tradecrm.grading.models import Tier

    return [(code, f"{code} · {name}") for code, name in Tier.objects.order_by("rank").values_list("code", "name")]


_PRODUCT_OPTIONS: list = [None, ""]  # [catalogue stamp, options markup] of this process
PRODUCT_OPTIONS_LIMIT = 2000  # beyond that the select's search finds them as you type


def _product_options(selected: list[int]) -> SafeString:
    """The "products bought" options: the active catalogue, built once per catalogue change (it
    cost ~4 ms per page for 520 products), plus any selected product that is no longer active."""
    from django.db.models import Count, Max

    from tradecrm.catalog.models import Product

    active = Product.objects.filter(active=True)
    stamp = tuple(active.aggregate(n=Count("id"), t=Max("updated_at")).values())
    if _PRODUCT_OPTIONS[0] != stamp:
        rows = active.order_by("name_en").values_list("id", "sku", "name_en")[:PRODUCT_OPTIONS_LIMIT]
        _PRODUCT_OPTIONS[:] = [stamp, options_html([(str(i), f"{sku} · {name}") for i, sku, name in rows])]
    markup = _PRODUCT_OPTIONS[1]
    missing = []
    for pk in selected:
        needle = f'<option value="{pk}">'
        if needle in markup:
            markup = markup.replace(needle, f'<option value="{pk}" selected>', 1)
        else:
            missing.append(pk)
    if missing:
        extra = Product.objects.filter(pk__in=missing).values_list("id", "sku", "name_en")
        markup += "".join(f'<option value="{i}" selected>{esc(sku)} · {esc(name)}</option>' for i, sku, name in extra)
    return mark_safe(markup)  # escaped by options_html and above


def list_filters(request, segment=None) -> tuple[selectors.CompanyFilters, dict, dict]:
    """The list's filters from the query string, on top of a segment's when one is open:
    (filters, the clean values as the URL carries them, errors by filter)."""
    raw = filtering.query_dict(request.GET)
    if "q" in raw:
        raw["q"] = (raw.get("q") or "").strip()[:200]
    clean, errors = filtering.read_filters(raw, request.user, strict=False)
    combined = filtering.with_segment(segment.filters if segment is not None else None, raw, clean)
    return filtering.to_company_filters(combined), combined, errors


@login_required
def company_list(request):
    user = request.user
    lang = get_language() or "en"
    segment = None
    if request.GET.get("segment"):
        from .segment_selectors import segment_get_for_user

        segment = segment_get_for_user(user, request.GET["segment"])
    filters, clean, filter_errors = list_filters(request, segment)
    can_update_segment = False
    if segment is not None:
        from .segment_selectors import can_edit_segment

        can_update_segment = can_edit_segment(user, segment)
    cursor = request.GET.get("cursor") or None
    try:
        rows, next_cursor, prev_cursor = selectors.company_list(user, filters, cursor=cursor, limit=50)
    except BadCursor:
        rows, next_cursor, prev_cursor = selectors.company_list(user, filters, limit=50)
        cursor = None

    rows_html = _company_rows_html(rows, lang, _user_tz(user))

    params: dict = {"segment": segment.pk, "q": ""} if segment is not None else {}
    params.update(clean)
    base = reverse("customers:company_list")
    page_url = lambda c: f"{base}?{urlencode({**params, 'cursor': c}, doseq=True)}"  # noqa: E731
    ctx = {
        "nav": "customers",
        "rows": rows,
        "rows_html": rows_html,
        "filters": filters,
        "segment": segment,
        "can_update_segment": can_update_segment,
        "filter_errors": filter_errors,
        "filtered": any(v for k, v in params.items() if k != "sort"),
        "next_url": page_url(next_cursor) if next_cursor else "",
        "prev_url": page_url(prev_cursor) if prev_cursor else "",
        "first_url": f"{base}?{urlencode(params, doseq=True)}" if cursor else "",
    }
    if request.htmx and not request.htmx.boosted:
        response = render(request, "customers/_company_results.html", ctx)
        # The address bar gets the tidy URL (no empty filters), so it can be shared or bookmarked.
        here = {**params, "cursor": cursor} if cursor else params
        response["HX-Push-Url"] = f"{base}?{urlencode(here, doseq=True)}" if here else base
    else:
        tags = selectors.tags_for_user(user).order_by("name").values_list("id", "name")
        tag_ids = [str(t) for t in filters.tags]
        ctx["opts"] = {
            "country": options_html(geo.country_choices(lang), filters.country, ("country-filter", lang)),
            "owner": options_html(_filter_owner_choices(user), str(filters.owner or "")),
            "tag": options_html([(str(i), n) for i, n in tags], tag_ids),
            "source": options_html(Source.choices, filters.source, ("source", lang)),
            "status": options_html(Status.choices, filters.status, ("status", lang)),
            "business_type": options_html(BusinessType.choices, filters.business_type, ("btype", lang)),
            "sort": options_html(_sort_choices(), filters.sort, ("sort", lang)),
            "tier": options_html(_tier_choices(), filters.tier),
            "product": _product_options(filters.products),
        }
        response = render(request, "customers/company_list.html", ctx)
    patch_vary_headers(response, ["HX-Request"])  # the same URL answers a page or a table
    return response


# --- company detail -----------------------------------------------------------------------------


def _label(choices, value) -> str:
    return str(dict(choices).get(value, value or ""))


def _clock(moment) -> dict:
    # Formatted here, not with the |date filter, which would convert to the viewer's time zone.
    return {"time": moment.strftime("%H:%M"), "day": date_format(moment, "D")}


@login_required
def company_detail(request, pk: int):
    user = request.user
    company = selectors.company_get_for_user(user, pk)
    lang = get_language() or "en"
    masked = contact_data_masked(user, company)
    contacts = selectors.company_contacts(company)
    for c in contacts:
        _contact_display(c, masked)
        c.seniority_label = _label(Seniority.choices, c.seniority)
        c.language_label = _label(geo.language_choices(lang), c.preferred_language)
    office = geo.office_state(company.timezone, company.country, company.office_start, company.office_end)
    if office:
        office.update(_clock(office["local"]))
    mine = geo.local_now(user.timezone) if user.timezone else None
    currencies = dict(geo.currency_choices(lang))
    ctx = {
        "nav": "customers",
        "company": company,
        "tags": selectors.company_tags(company),
        "can_delete": _can_delete_company(user, company),
        "can_edit": has_action(user, "edit"),
        "masked": masked,
        "can_reveal": masked and can_reveal(user),
        "company_email": masking.mask_email(company.email) if masked else company.email,
        "contacts": contacts,
        "followers": list(company.followers.all().only("id", "username", "first_name", "last_name")),
        "office": office,
        "my_time": _clock(mine) if mine else None,
        "phones": [masking.mask_phone(p) if masked else display_phone(p) for p in company.phones],
        "country_name": geo.country_name(company.country, lang),
        "currency_label": currencies.get(company.currency, company.currency),
        "language_label": _label(geo.language_choices(lang), company.preferred_language),
        "labels": {
            "business_type": _label(BusinessType.choices, company.business_type),
            "company_size": _label(CompanySize.choices, company.company_size),
            "annual_purchase": _label(PurchaseBand.choices, company.annual_purchase),
            "source": _label(Source.choices, company.source),
            "status": _label(Status.choices, company.status),
            "credit_rating": _label(CreditRating.choices, company.credit_rating)
            if company.credit_rating
            else "",
        },
    }
    return render(request, "customers/company_detail.html", ctx)


# --- company create / edit / delete -------------------------------------------------------------


def _can_delete_company(user, company) -> bool:
    """Followers may edit but not delete: the archive must outlive a rep's mistakes."""
    return has_action(user, "delete") and (user.is_admin or user.is_manager or company.owner_id in owner_ids(user))


# --- contact data: masked unless revealed ----------------------------------------------------------


def contact_data_masked(user, company) -> bool:
    """Whether the page shows the customer's phones and emails masked: always without the "reveal"
    permission. With it, in full on the customers the user is responsible for (owns, acts for, or
    sees through their team scope); on a customer they only follow, masked until they press Reveal,
    which is audited."""
    if not can_reveal(user):
        return True
    if sees_all(user) or company.owner_id in owner_ids(user):
        return False
    return company.team_id is None or company.team_id not in (visible_team_ids(user) or [])


def _contact_display(c, masked: bool) -> None:
    if masked:
        c.emails_display = [masking.mask_email(e) for e in c.emails]
        c.phones_display = [masking.mask_phone(p) for p in c.phones]
        c.whatsapp_display = masking.mask_phone(c.whatsapp)
    else:
        c.emails_display = list(c.emails)
        c.phones_display = [display_phone(p) for p in c.phones]
        c.whatsapp_display = display_phone(c.whatsapp) if c.whatsapp.startswith("+") else c.whatsapp


def _mask_form(form, obj, fields) -> None:
    """An edit form shows masked phones and emails to a user who may not see them; what comes
    back unchanged is mapped to the stored values by the services (masking.unmask_changes)."""
    for f in fields:
        value = getattr(obj, f)
        if f in masking.PHONE_KEYS:
            shown = [masking.mask_phone(v) for v in value] if isinstance(value, list) else masking.mask_phone(value)
        else:
            shown = [masking.mask_email(v) for v in value] if isinstance(value, list) else masking.mask_email(value)
        form.initial[f] = "\n".join(shown) if isinstance(shown, list) else shown


@login_required
@require_http_methods(["POST"])
def company_reveal(request, pk: int):
    """Show the customer's full phones and emails (htmx), for users with the "reveal" permission;
    one "reveal" audit event for the company and one per contact."""
    user = request.user
    company = selectors.company_get_for_user(user, pk)
    require_action(user, "reveal")
    contacts = selectors.company_contacts(company)
    with transaction.atomic():
        audit_record(actor=user, action="reveal", obj=company,
                     changes={"fields": ["email", "phones"]})  # fmt: skip
        for c in contacts:
            audit_record(actor=user, action="reveal", obj=c, changes={"fields": ["emails", "phones", "whatsapp"]})
    for c in contacts:
        _contact_display(c, False)
    ctx = {
        "company": company,
        "contacts": contacts,
        "masked": False,
        "can_reveal": False,
        "can_edit": has_action(user, "edit"),
        "phones": [display_phone(p) for p in company.phones],
        "company_email": company.email,
        "revealed": True,
    }
    return render(request, "customers/_revealed.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def company_create(request):
    user = request.user
    require_action(user, "create")
    form = CompanyForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        company = _save_new(request, form, services.company_create)
        if company is not None:
            messages.success(request, _("Customer “%(name)s” created.") % {"name": company.name})
            return redirect("customers:company_detail", pk=company.pk)
    return render(
        request,
        "customers/company_form.html",
        {"nav": "customers", "form": form, "company": None},
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def company_edit(request, pk: int):
    user = request.user
    company = selectors.company_get_for_user(user, pk)
    require_action(user, "edit")
    form = CompanyForm(request.POST or None, user=user, company=company)
    if contact_data_masked(user, company):
        _mask_form(form, company, ("email", "phones"))
    stale = False
    if request.method == "POST" and form.is_valid():
        saved, stale = _save_versioned(request, form, services.company_update, company=company)
        if saved:
            messages.success(request, _("Customer “%(name)s” saved.") % {"name": company.name})
            return redirect("customers:company_detail", pk=company.pk)
    ctx = {"nav": "customers", "form": form, "company": company, "stale": stale}
    return render(
        request, "customers/company_form.html", ctx, status=form_status(form, stale)
    )


@login_required
@require_http_methods(["GET", "POST"])
def company_delete(request, pk: int):
    company = selectors.company_get_for_user(request.user, pk)
    require_action(request.user, "delete")
    if not _can_delete_company(request.user, company):
        raise PermissionDenied(_("Only the owner, a manager or an administrator may delete a customer."))
    if request.method == "POST":
        name = company.name
        services.company_delete(actor=request.user, company=company)
        messages.success(request, _("Customer “%(name)s” deleted.") % {"name": name})
        return redirect("customers:company_list")
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": "customers",
            "title": _("Delete customer"),
            "question": _("Delete the customer “%(name)s” with its contacts? This cannot be undone.")
            % {"name": company.name},
            "cancel_url": reverse("customers:company_detail", args=[company.pk]),
        },
    )


# --- contacts -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request, company_pk: int):
    company = selectors.company_get_for_user(request.user, company_pk)
    require_action(request.user, "edit")
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        contact = _save_new(request, form, services.contact_create, company=company)
        if contact is not None:
            messages.success(request, _("Contact “%(name)s” added.") % {"name": contact.full_name})
            return redirect("customers:company_detail", pk=company.pk)
    return render(
        request,
        "customers/contact_form.html",
        {"nav": "customers", "form": form, "company": company, "contact": None},
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request, pk: int):
    contact = selectors.contact_get_for_user(request.user, pk)
    require_action(request.user, "edit")
    form = ContactForm(request.POST or None, contact=contact)
    if contact_data_masked(request.user, contact.company):
        _mask_form(form, contact, ("emails", "phones", "whatsapp"))
    stale = False
    if request.method == "POST" and form.is_valid():
        saved, stale = _save_versioned(request, form, services.contact_update, contact=contact)
        if saved:
            messages.success(request, _("Contact “%(name)s” saved.") % {"name": contact.full_name})
            return redirect("customers:company_detail", pk=contact.company_id)
    ctx = {"nav": "customers", "form": form, "company": contact.company, "contact": contact, "stale": stale}
    return render(
        request, "customers/contact_form.html", ctx, status=form_status(form, stale)
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete(request, pk: int):
    contact = selectors.contact_get_for_user(request.user, pk)
    require_action(request.user, "edit")
    if request.method == "POST":
        services.contact_delete(actor=request.user, contact=contact)
        messages.success(request, _("Contact “%(name)s” deleted.") % {"name": contact.full_name})
        return redirect("customers:company_detail", pk=contact.company_id)
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": "customers",
            "title": _("Delete contact"),
            "question": _("Delete the contact “%(name)s” of %(company)s?")
            % {"name": contact.full_name, "company": contact.company.name},
            "cancel_url": reverse("customers:company_detail", args=[contact.company_id]),
        },
    )


# --- tags ---------------------------------------------------------------------------------------


def _editable_tag(user, pk: int):
    tag = selectors.tag_get_for_user(user, pk)
    if tag.team_id is None and not user.is_admin:
        raise PermissionDenied(_("Only an administrator may change tags shared by all teams."))
    return tag


@login_required
def tag_list(request):
    tags = list(selectors.tags_for_user(request.user).select_related("team").order_by("name"))
    return render(request, "customers/tag_list.html", {"nav": "tags", "tags": tags})


@login_required
@require_http_methods(["GET", "POST"])
def tag_create(request):
    form = TagForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        tag = _save_new(request, form, services.tag_create)
        if tag is not None:
            messages.success(request, _("Tag “%(name)s” created.") % {"name": tag.name})
            return redirect("customers:tag_list")
    return render(
        request,
        "customers/tag_form.html",
        {"nav": "tags", "form": form, "tag": None},
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def tag_edit(request, pk: int):
    tag = _editable_tag(request.user, pk)
    form = TagForm(request.POST or None, user=request.user, tag=tag)
    stale = False
    if request.method == "POST" and form.is_valid():
        saved, stale = _save_versioned(request, form, services.tag_update, tag=tag)
        if saved:
            messages.success(request, _("Tag “%(name)s” saved.") % {"name": tag.name})
            return redirect("customers:tag_list")
    return render(
        request,
        "customers/tag_form.html",
        {"nav": "tags", "form": form, "tag": tag, "stale": stale},
        status=form_status(form, stale),
    )


@login_required
@require_http_methods(["GET", "POST"])
def tag_delete(request, pk: int):
    tag = _editable_tag(request.user, pk)
    if request.method == "POST":
        services.tag_delete(actor=request.user, tag=tag)
        messages.success(request, _("Tag “%(name)s” deleted.") % {"name": tag.name})
        return redirect("customers:tag_list")
    return render(
        request,
        "customers/confirm_delete.html",
        {
            "nav": "tags",
            "title": _("Delete tag"),
            "question": _("Delete the tag “%(name)s”? It is removed from every customer that has it.")
            % {"name": tag.name},
            "cancel_url": reverse("customers:tag_list"),
        },
    )


def home(request):
    return HttpResponseRedirect(reverse("customers:company_list"))
