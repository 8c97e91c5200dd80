"""`{% export_menu "companies" form="company-filters" %}`: the "Export ▾ CSV / XLSX" button of a list
page, shown only to users who may export."""

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from tradecrm.accounts.access import can_export

register = template.Library()


@register.inclusion_tag("reports/_export_menu.html", takes_context=True)
def export_menu(context, entity: str, form: str = ""):
    """With `form` (the id of the list's filter form) the buttons submit that form's current values,
    so filters changed in place (htmx) are carried; without, the links carry the page's query."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not can_export(user):
        return {"show": False}
    url = reverse("reports:export", args=[entity])
    ctx = {"show": True, "form": form, "url": url}
    if not form and request is not None:
        query = [(k, v) for k, values in request.GET.lists() if k not in ("cursor", "format") for v in values]
        ctx["csv_url"] = f"{url}?{urlencode([*query, ('format', 'csv')])}"
        ctx["xlsx_url"] = f"{url}?{urlencode([*query, ('format', 'xlsx')])}"
    return ctx
