"""Template helpers for follow-ups: titles rendered by kind in the reader's language, "n days ago"."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tradecrm.followups.models import FollowUpKind
from tradecrm.followups.validation import user_zone

register = template.Library()


def kind_titles() -> dict[str, str]:
    return {
        FollowUpKind.CADENCE: _("Regular follow-up"),
        FollowUpKind.REVIEW: _("Review the customer profile"),
        FollowUpKind.UNANSWERED: _("Answer the customer's inquiry"),
        FollowUpKind.QUOTATION_EXPIRY: _("Quotation about to expire"),
        FollowUpKind.PURCHASE_CYCLE: _("Expected reorder: get in touch"),
    }


@register.filter
def followup_title(followup) -> str:
    """Hand-planned follow-ups show what their planner wrote; automatic ones a translated title
    for their kind (their stored title is the rule's name, shown beside it)."""
    return kind_titles().get(followup.kind, followup.title)


@register.simple_tag(takes_context=True)
def days_ago(context, moment) -> str:
    """“today”, “yesterday”, “5 days ago”, counted in the viewer's calendar days."""
    if moment is None:
        return ""
    user = context.get("user")
    tz = user_zone(user) if user is not None else dt.UTC
    days = (timezone.now().astimezone(tz).date() - moment.astimezone(tz).date()).days
    if days <= 0:
        return _("today")
    if days == 1:
        return _("yesterday")
    return ngettext("%(n)d day ago", "%(n)d days ago", days) % {"n": days}


@register.filter
def is_past(moment) -> bool:
    return moment is not None and moment < timezone.now()
