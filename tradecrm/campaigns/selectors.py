"""Reads of campaigns, scoped to the user. A campaign is seen by its owner, by whoever sees its
team's customers (teammates for sales with a team scope, managers above the team) and by
administrators; anything else is 404, like a missing one. Edited by its owner, the managers who
see it and administrators."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from tradecrm.accounts.access import visible_team_ids
from tradecrm.core.ids import parse_id

from .models import Campaign, CampaignRecipient


def campaigns_for_user(user) -> QuerySet:
    qs = Campaign.objects.all()
    if user.is_admin:
        return qs
    q = Q(owner_id=user.pk)
    teams = visible_team_ids(user)
    if teams:
        q |= Q(team_id__in=teams)
    return qs.filter(q)


def campaign_get_for_user(user, campaign_id) -> Campaign:
    pk = parse_id(campaign_id)
    if pk is None:
        raise Http404
    try:
        return campaigns_for_user(user).select_related("owner", "segment", "team").get(pk=pk)
    except Campaign.DoesNotExist:
        raise Http404 from None


def can_edit(user, campaign: Campaign) -> bool:
    if user.is_admin or campaign.owner_id == user.pk:
        return True
    return bool(user.is_manager and campaign.team_id and campaign.team_id in (visible_team_ids(user) or []))


def campaign_list(user, *, limit: int = 200) -> list[Campaign]:
    return list(
        campaigns_for_user(user).select_related("owner", "segment").order_by("-created_at", "-id")[:limit]
    )


def recipients(campaign: Campaign, *, status: str = "", after_id: int = 0, limit: int = 100) -> list[dict]:
    qs = CampaignRecipient.objects.filter(campaign=campaign, id__gt=after_id)
    if status:
        qs = qs.filter(status=status)
    return list(
        qs.order_by("id").values("id", "company_id", "contact_id", "email", "language", "variant", "status",
                                 "skip_reason", "due_at", "sent_at", "attempts", "error", "bounced_at",
                                 "message_id", "mailbox_id")[:limit]
    )  # fmt: skip
