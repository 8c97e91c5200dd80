"""Template tags of the timeline card, which other apps' pages include."""

from django import template

from ..views import type_buttons

register = template.Library()


@register.simple_tag
def timeline_types() -> dict:
    """The quick-log buttons: {"quick": [...], "more": [...]} with value, label, icon."""
    return type_buttons()
