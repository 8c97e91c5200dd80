"""Merge fields in a sandbox, and the HTML of a message with tracked links.

Templates are written by users, so they are rendered by a Django template engine of their own:
no template loaders ({% include %} / {% extends %} find nothing), no {% load %}, {% debug %},
{% url %} or {% csrf_token %} — only if / for / with / firstof / comment / spaceless / now and the
default filters — over a context of plain strings (no model objects, so no method can be called).
"""

from __future__ import annotations

import re
from html import escape

from django.core import signing
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import VariableDoesNotExist  # noqa: F401
from django.utils.html import urlize
from django.utils.translation import gettext as _

SAFE_TAGS = ("if", "for", "with", "firstof", "comment", "spaceless", "now", "cycle", "verbatim")
CLICK_SALT = "tradecrm.mailbox.click"
OPEN_SALT = "tradecrm.mailbox.open"
UNSUB_SALT = "tradecrm.mailbox.unsubscribe"
_HREF = re.compile(r'(<a\s[^>]*?href=")(https?://[^"]+)(")', re.IGNORECASE)

_engine: Engine | None = None


def sandbox() -> Engine:
    global _engine
    if _engine is None:
        from django.template import Library, defaultfilters, defaulttags

        e = Engine(loaders=[], libraries={}, debug=False, string_if_invalid="", autoescape=False)
        lib = Library()
        for name in SAFE_TAGS:
            lib.tags[name] = defaulttags.register.tags[name]
        # replaces Django's default builtins (which include load, include, extends, url, debug…)
        e.template_builtins = [defaultfilters.register, lib]
        e.template_libraries = {}
        _engine = e
    return _engine


def check_template(source: str) -> str | None:
    """None when `source` compiles in the sandbox, else the reason in words."""
    try:
        sandbox().from_string(source)
    except TemplateSyntaxError as exc:
        return _("The merge fields cannot be read: %(error)s") % {"error": exc}
    return None


def merge_context(*, contact=None, company=None, user=None, extra: dict | None = None) -> dict:
    """The only values a template sees."""
    def s(v):
        return "" if v is None else str(v)

    ctx = {
        "contact": {
            "first_name": s(getattr(contact, "first_name", "")),
            "last_name": s(getattr(contact, "last_name", "")),
            "name": s(getattr(contact, "full_name", "")),
            "title": s(getattr(contact, "title", "")),
            "email": s(getattr(contact, "email", "")),
        },
        "company": {
            "name": s(getattr(company, "name", "")),
            "name_local": s(getattr(company, "name_local", "")),
            "country": s(getattr(company, "country", "")),
            "city": s(getattr(company, "city", "")),
        },
        "user": {
            "first_name": s(getattr(user, "first_name", "")),
            "last_name": s(getattr(user, "last_name", "")),
            "name": s(user.get_full_name() if user is not None and hasattr(user, "get_full_name") else ""),
            "email": s(getattr(user, "email", "")),
        },
    }
    if extra:
        ctx.update({k: s(v) for k, v in extra.items()})
    return ctx


def render(source: str, context: dict) -> str:
    try:
        return sandbox().from_string(source).render(Context(context, autoescape=False))
    except TemplateSyntaxError as exc:
        raise ValueError(_("The merge fields cannot be read: %(error)s") % {"error": exc}) from exc


def text_to_email_html(text: str) -> str:
    """The HTML part of a message written as text: escaped, links made clickable, lines kept."""
    html = urlize(escape(text), nofollow=True, autoescape=False)
    return (
        '<!DOCTYPE html><html><body style="font-family:Arial,sans-serif;font-size:14px">'
        + html.replace("\r\n", "\n").replace("\n", "<br>\n")
        + "</body></html>"
    )


def click_token(message_id: int, url: str) -> str:
    return signing.dumps([message_id, url], salt=CLICK_SALT, compress=True)


def open_token(message_id: int) -> str:
    return signing.dumps(message_id, salt=OPEN_SALT)


def unsubscribe_token(message_id: int) -> str:
    return signing.dumps(message_id, salt=UNSUB_SALT)


def track_links(html: str, message_id: int, base_url: str) -> str:
    """Every http(s) link through /t/c/<signed token>, and the open pixel before </body>."""

    def repl(m):
        url = m.group(2).replace("&amp;", "&")
        return f"{m.group(1)}{base_url}/t/c/{click_token(message_id, url)}/{m.group(3)}"

    html = _HREF.sub(repl, html)
    pixel = (f'<img src="{base_url}/t/o/{open_token(message_id)}.gif" width="1" height="1" alt="" '
             'style="display:none">')  # fmt: skip
    return html.replace("</body>", pixel + "</body>") if "</body>" in html else html + pixel
