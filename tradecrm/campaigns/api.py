"""JSON API of campaigns, mounted under /api/v1/campaigns: list, create, read, change a draft,
launch (render and queue; the counts of who was skipped and why), pause, resume, cancel, the
recipients (keyset by id) and the report. A campaign you may not see is 404 as if missing; a
change needs the `version` you read (409 when stale)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tradecrm.core.api import LIST, PATCH, READ, WRITE, Id, Text, Version, json_response, required_version
from tradecrm.mailbox.models import TemplateLanguage

from . import report as reports
from . import selectors, services
from .models import Campaign, RecipientStatus, WinnerMetric

campaigns = Router(tags=["campaigns"])
ROUTERS: list[tuple[str, Router]] = [("/campaigns", campaigns)]


class ContentIn(Schema):
    language: TemplateLanguage
    subject: Text = Field(max_length=255, description="Subject A; merge fields like {{ company.name }}.")
    subject_b: Text = Field("", max_length=255, description="Subject B of the A/B test (needs split_b > 0).")
    body: Text = Field(max_length=100_000)


class CampaignIn(Schema):
    name: Text = Field(max_length=200)
    segment: Id = Field(description="A saved segment you can see; its customers you see are the audience.")
    mailboxes: list[Id] = Field(description="Your mailboxes to send from (throttle applies to each).")
    contents: list[ContentIn] = Field(description="The message per language.")
    fallback_language: TemplateLanguage = TemplateLanguage.EN
    split_b: int = Field(
        0, ge=0, le=99, description="Share (%) of recipients getting subject B; 0 = no A/B test."
    )
    winner_metric: WinnerMetric = WinnerMetric.CLICKS
    window_start: int = Field(9, ge=0, le=23, description="Send from this hour, recipient's local time.")
    window_end: int = Field(
        11, ge=1, le=24, description="Send until this hour (exclusive), recipient's local time."
    )
    skip_weekends: bool = True
    per_hour: int = Field(200, description="At most this many mails per hour per sending mailbox.")
    per_day: int = Field(1000, description="At most this many mails per day per sending mailbox.")
    tracking: bool = True
    attribution_days: int = Field(30, description="Opportunities and orders within this many days count.")


class CampaignPatch(Schema):
    version: Version
    name: Text | None = Field(None, max_length=200)
    segment: Id | None = None
    mailboxes: list[Id] | None = None
    contents: list[ContentIn] | None = None
    fallback_language: TemplateLanguage | None = None
    split_b: int | None = Field(None, ge=0, le=99)
    winner_metric: WinnerMetric | None = None
    window_start: int | None = Field(None, ge=0, le=23)
    window_end: int | None = Field(None, ge=1, le=24)
    skip_weekends: bool | None = None
    per_hour: int | None = None
    per_day: int | None = None
    tracking: bool | None = None
    attribution_days: int | None = None


class ContentOut(Schema):
    language: str
    subject: str
    subject_b: str
    body: str


class CampaignOut(Schema):
    id: int
    name: str
    owner_id: int
    team_id: int | None
    segment_id: int | None
    mailboxes: list[int]
    contents: list[ContentOut]
    fallback_language: str
    split_b: int
    winner_metric: str
    window_start: int
    window_end: int
    skip_weekends: bool
    per_hour: int
    per_day: int
    tracking: bool
    attribution_days: int
    status: str
    launched_at: dt.datetime | None
    finished_at: dt.datetime | None
    launch_counts: dict
    can_edit: bool
    version: int


class CampaignRow(Schema):
    id: int
    name: str
    owner_id: int
    status: str
    launched_at: dt.datetime | None
    queued: int | None


class LaunchOut(Schema):
    queued: int
    skipped: dict[str, int]
    skipped_total: int
    by_language: dict[str, int]
    by_variant: dict[str, int]
    seconds: float | None = None
    per_second: float | None = None


class RecipientOut(Schema):
    id: int
    company_id: int
    contact_id: int | None
    email: str
    language: str
    variant: str
    status: str
    skip_reason: str
    due_at: dt.datetime | None
    sent_at: dt.datetime | None
    attempts: int
    error: str
    bounced_at: dt.datetime | None
    message_id: int | None
    mailbox_id: int | None


class RecipientPage(Schema):
    items: list[RecipientOut]
    next_after: int | None


class RecipientQuery(Schema):
    status: RecipientStatus | None = None
    after: int = Field(0, ge=0, description="The last id of the previous page.")
    limit: int = Field(100, ge=1, le=1000)


class ReportOut(Schema):
    campaign: int
    status: str
    currency: str
    totals: dict
    variants: dict
    winner: dict
    effect: dict
    launch: dict
    opens_note: str = Field(
        description="Opens come from a pixel that mail clients pre-fetch or block: a hint only."
    )


def campaign_out(c: Campaign, user) -> dict:
    return {
        "id": c.pk, "name": c.name, "owner_id": c.owner_id, "team_id": c.team_id, "segment_id": c.segment_id,
        "mailboxes": sorted(c.mailboxes.values_list("id", flat=True)),
        "contents": list(c.contents.order_by("language").values("language", "subject", "subject_b", "body")),
        **{f: getattr(c, f) for f in services.SETTINGS_FIELDS if f != "name"},
        "status": c.status, "launched_at": c.launched_at, "finished_at": c.finished_at,
        "launch_counts": c.launch_counts or {}, "can_edit": selectors.can_edit(user, c), "version": c.version,
    }  # fmt: skip


def _data(payload) -> dict:
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    return {k: v for k, v in data.items() if v is not None}


@campaigns.get("", response={200: list[CampaignRow], **LIST}, summary="Campaigns you can see")
def campaign_list(request: HttpRequest):
    return json_response([{"id": c.pk, "name": c.name, "owner_id": c.owner_id, "status": c.status,
                           "launched_at": c.launched_at, "queued": (c.launch_counts or {}).get("queued")}
                          for c in selectors.campaign_list(request.auth)])  # fmt: skip


@campaigns.post("", response={201: CampaignOut, **WRITE}, summary="Create a draft campaign")
def campaign_create(request: HttpRequest, payload: CampaignIn):
    c = services.campaign_create(actor=request.auth, data=_data(payload))
    return json_response(campaign_out(c, request.auth), status=201)


@campaigns.get("/{int:campaign_id}", response={200: CampaignOut, **READ}, summary="A campaign")
def campaign_get(request: HttpRequest, campaign_id: Id):
    return json_response(
        campaign_out(selectors.campaign_get_for_user(request.auth, campaign_id), request.auth)
    )


@campaigns.patch(
    "/{int:campaign_id}", response={200: CampaignOut, **PATCH}, summary="Change a draft campaign"
)
def campaign_update(request: HttpRequest, campaign_id: Id, payload: CampaignPatch):
    c = selectors.campaign_get_for_user(request.auth, campaign_id)
    version = required_version(request, payload.version)
    c = services.campaign_update(actor=request.auth, campaign=c, version=version, data=_data(payload))
    return json_response(campaign_out(c, request.auth))


@campaigns.get(
    "/{int:campaign_id}/plan", response={200: LaunchOut, **READ}, summary="Who a launch would reach"
)
def campaign_plan(request: HttpRequest, campaign_id: Id):
    """The counts a launch would give now (recipients, skipped by reason), without queueing."""
    c = selectors.campaign_get_for_user(request.auth, campaign_id)
    return json_response(services.launch_plan(c))


@campaigns.post(
    "/{int:campaign_id}/launch", response={200: LaunchOut, **WRITE}, summary="Launch (render and queue)"
)
def campaign_launch(request: HttpRequest, campaign_id: Id):
    """Renders every recipient's mail and queues it for their send window. A second launch is 422."""
    c = selectors.campaign_get_for_user(request.auth, campaign_id)
    return json_response(services.campaign_launch(actor=request.auth, campaign=c))


def _state(action):
    def view(request: HttpRequest, campaign_id: Id):
        c = selectors.campaign_get_for_user(request.auth, campaign_id)
        c = action(actor=request.auth, campaign=c)
        return json_response(campaign_out(c, request.auth))

    return view


campaigns.post("/{int:campaign_id}/pause", response={200: CampaignOut, **WRITE}, summary="Pause sending",
               operation_id="campaign_pause")(_state(services.campaign_pause))  # fmt: skip
campaigns.post("/{int:campaign_id}/resume", response={200: CampaignOut, **WRITE}, summary="Resume sending",
               operation_id="campaign_resume")(_state(services.campaign_resume))  # fmt: skip
campaigns.post("/{int:campaign_id}/cancel", response={200: CampaignOut, **WRITE},
               summary="Cancel (mails not sent yet are dropped)", operation_id="campaign_cancel")(
    _state(services.campaign_cancel))  # fmt: skip


@campaigns.get("/{int:campaign_id}/recipients", response={200: RecipientPage, **LIST}, summary="Recipients")
def campaign_recipients(request: HttpRequest, campaign_id: Id, query: Query[RecipientQuery]):
    from tradecrm.accounts.access import can_reveal
    from tradecrm.customers.masking import mask_email

    c = selectors.campaign_get_for_user(request.auth, campaign_id)
    rows = selectors.recipients(c, status=query.status or "", after_id=query.after, limit=query.limit)
    if not can_reveal(request.auth):
        for r in rows:
            r["email"] = mask_email(r["email"])
    nxt = rows[-1]["id"] if len(rows) == query.limit else None
    return json_response({"items": rows, "next_after": nxt})


@campaigns.get("/{int:campaign_id}/report", response={200: ReportOut, **READ}, summary="Campaign report")
def campaign_report(request: HttpRequest, campaign_id: Id):
    c = selectors.campaign_get_for_user(request.auth, campaign_id)
    return json_response(reports.report(c))
