"""Texts of the integrations app's notifications, rendered in the reader's language."""

from django.utils.translation import gettext as _


def render_disabled(params: dict) -> str:
    return _("The webhook “%(name)s” was switched off after %(failures)s failed attempts in a row (%(reason)s).") % {
        "name": params.get("name", "?"), "failures": params.get("failures", "?"), "reason": params.get("reason", ""),
    }  # fmt: skip
