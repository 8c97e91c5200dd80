"""Contact masking in templates: a phone or an email shown as the viewer's role may see it.

    {% load contact_masking %}
    {% masked inquiry.buyer_email "email" %}        j***@acme.de, or the address for "reveal" roles
    {% masked call.number "phone" %}                +49 ***** 6789
    {% masked message.to_addrs "addresses" %}       Ann <a***@acme.de>, b***@x.com
    {% reveals as full %}{% if full %}<a href="mailto:…">…{% endif %}

The viewer is `request.user` (or `user`) of the context; the role's "reveal" permission decides
(`accounts.access.can_reveal`, remembered on the user object: no query per value).
"""

from __future__ import annotations

from django import template

from tradecrm.accounts.access import can_reveal
from tradecrm.customers.masking import mask_address_text, mask_email, mask_phone

register = template.Library()


def _viewer(context):
    request = context.get("request")
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None else context.get("user")


@register.simple_tag(takes_context=True)
def reveals(context) -> bool:
    """Whether the viewer sees full phones and emails (for mailto:/tel: links)."""
    return can_reveal(_viewer(context))


@register.simple_tag(takes_context=True)
def masked(context, value, kind: str = "email"):
    """`value` as the viewer may see it; kind is "email", "phone" or "addresses" (mail headers).
    A list is shown as its items joined by ", "."""
    if isinstance(value, list | tuple):
        return ", ".join(str(masked(context, v, kind)) for v in value if v)
    if not value or can_reveal(_viewer(context)):
        return value
    value = str(value)
    if kind == "phone":
        return mask_phone(value)
    if kind == "addresses":
        return mask_address_text(value)
    return mask_email(value)
