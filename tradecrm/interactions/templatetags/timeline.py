"""Template tags of the timeline card, which other apps' pages include."""

from django import template
from django.urls import NoReverseMatch, reverse

from ..views import type_buttons

register = template.Library()


@register.simple_tag
def timeline_types() -> dict:
    """The quick-log buttons: {"quick": [...], "more": [...]} with value, label, icon."""
    return type_buttons()


@register.simple_tag
def whatsapp_import_url(company_pk: int) -> str:
    """The WhatsApp import page of a customer, or "" while that page does not exist."""
    try:
        return reverse("whatsapp:import", args=[company_pk])
    except NoReverseMatch:
        return ""
