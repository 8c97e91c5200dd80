from django import template

from tradecrm.core.icons import icon as _icon

register = template.Library()


@register.simple_tag
def icon(name: str, extra_class: str = ""):
    """`{% icon "phone" %}` → the inline Tabler SVG (see tradecrm/core/icons.py)."""
    return _icon(name, extra_class)
