"""JSON API of the sales app: routers mounted under /api/v1/ in config/api.py (inquiries,
opportunities, pipelines, samples).

Thin, like the other APIs: reads go through the selectors (a record of a customer you cannot see is
404, as if missing), writes through the services (which validate, answer 422 naming the field and
refuse a stale version with 409). Lists are keyset-paged.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from tradecrm.accounts.access import can_reveal
from tradecrm.core.api import (
    DELETE,
    LIST,
    PATCH,
    READ,
    WRITE,
    Error,
    Id,
    check_delete_version,
    created_response,
    json_response,
    not_modified,
    object_response,
    page_response,
    person_name,
    required_version,
    user_ref,
)
from tradecrm.core.errors import ValidationError
from tradecrm.core.ids import parse_id
from tradecrm.customers.masking import mask_row, mask_rows
from tradecrm.customers.selectors import company_get_for_user

from . import selectors, services
from .defaults import display_name
from .models import Inquiry, LossReason, Opportunity, Pipeline, Sample, Stage
from .schemas import (
    BoardOut,
    BoardQuery,
    ColumnPage,
    ColumnQuery,
    ConvertIn,
    ConvertOut,
    FeedbackIn,
    ForecastOut,
    ForecastQuery,
    InquiryCreate,
    InquiryListQuery,
    InquiryOut,
    InquiryPage,
    InquiryPatch,
    LossReasonList,
    MoveIn,
    OpportunityCreate,
    OpportunityListQuery,
    OpportunityOut,
    OpportunityPage,
    OpportunityPatch,
    PipelineCreate,
    PipelineOut,
    PipelinePage,
    PipelinePatch,
    ReceivedIn,
    ReplyIn,
    SampleCreate,
    SampleListQuery,
    SampleOut,
    SamplePage,
    SamplePatch,
    SentIn,
    StageIn,
    StageOrderIn,
    StageOut,
    VersionIn,
)

inquiries = Router(tags=["inquiries"])
opportunities = Router(tags=["opportunities"])
pipelines = Router(tags=["pipelines"])
samples = Router(tags=["samples"])


# --- shared -------------------------------------------------------------------------------------


def _owner(request: HttpRequest, raw: str | None) -> int | None:
    if not raw:
        return None
    owner = request.auth.id if raw == "me" else parse_id(raw)
    if owner is None:
        raise ValidationError({"owner": [_("Enter “me” or a user id.")]})
    return owner


def _user_row(r: dict, prefix: str = "owner") -> dict | None:
    if r.get(f"{prefix}_id") is None:
        return None
    username = r[f"{prefix}__username"]
    return {"id": r[f"{prefix}_id"], "username": username,
            "name": person_name(r[f"{prefix}__first_name"], r[f"{prefix}__last_name"], username)}  # fmt: skip


def _company_ref(company_id, name) -> dict | None:
    return {"id": company_id, "name": name} if company_id else None


def _body(payload) -> dict:
    return payload.model_dump(exclude_unset=True)


def _resolve_company(user, company_id) -> object:
    try:
        return company_get_for_user(user, company_id)
    except Http404:
        raise ValidationError({"company": [_("No customer with id %(id)s.") % {"id": company_id}]}) from None


def _stage_ref(stage: Stage) -> dict:
    return {"id": stage.pk, "name": stage.name, "label": display_name(stage), "kind": stage.kind,
            "probability": stage.probability}  # fmt: skip


def _stage_out(s: Stage) -> dict:
    return {"id": s.pk, "name": s.name, "label": display_name(s), "key": s.key, "position": s.position,
            "probability": s.probability, "kind": s.kind, "stale_days": s.stale_days}  # fmt: skip


def _money(m) -> dict:
    return {"amount": m.amount, "currency": m.base, "unconverted": m.unconverted}


# --- inquiries ----------------------------------------------------------------------------------

INQUIRY_PLAIN = (
    "id", "channel", "channel_detail", "received_at", "contact_id", "buyer_name", "buyer_company", "buyer_email",
    "buyer_phone", "buyer_country", "subject", "destination_country", "destination_port", "target_currency",
    "incoterm", "status", "replied_at", "opportunity_id", "version", "created_at", "updated_at",
)  # fmt: skip


# contact masking: the buyer's email and phone as the caller's role may see them
_BUYER_KEYS = ("buyer_email", "buyer_phone")


def inquiry_out(i: Inquiry, user=None) -> dict:
    out = {k: getattr(i, k) for k in INQUIRY_PLAIN}
    if user is not None and not can_reveal(user):
        mask_row(out, _BUYER_KEYS)
    out["company"] = _company_ref(i.company_id, i.company.name if i.company_id else "")
    out["owner"] = user_ref(i.owner)
    out["message"] = i.message
    out["items"] = [
        {"id": it.pk, "position": it.position, "product_id": it.product_id, "description": it.description,
         "quantity": it.quantity, "unit": it.unit, "target_price": it.target_price}
        for it in i.items.order_by("position", "id")
    ]  # fmt: skip
    return out


def _inquiry_row(r: dict) -> dict:
    out = {k: r[k] for k in INQUIRY_PLAIN}
    out["company"] = _company_ref(r["company_id"], r["company__name"])
    out["owner"] = _user_row(r)
    return out


@inquiries.get("", response={200: InquiryPage, **LIST}, summary="List inquiries")
def list_inquiries(request: HttpRequest, query: Query[InquiryListQuery]):
    """Newest first. Inquiries of the customers you can see, and unlinked ones you own (or, as a
    manager, of your teams)."""
    f = selectors.InquiryFilters(status=query.status or "", channel=query.channel or "",
                                 owner=_owner(request, query.owner), unlinked=query.unlinked,
                                 company=query.company_id)  # fmt: skip
    rows, nxt, prev = selectors.inquiry_list(request.auth, f, cursor=query.cursor or None, limit=query.limit)
    if not can_reveal(request.auth):
        mask_rows(rows, _BUYER_KEYS)
    return page_response([_inquiry_row(r) for r in rows], nxt, prev)


@inquiries.post("", response={201: InquiryOut, **WRITE}, summary="Record an inquiry")
def create_inquiry(request: HttpRequest, payload: InquiryCreate):
    data = _body(payload)
    external_id = data.pop("external_id", None) or ""
    inquiry = services.inquiry_create(actor=request.auth, data=data, external_id=external_id)
    inquiry = selectors.inquiry_get_for_user(request.auth, inquiry.pk)
    return created_response(inquiry_out(inquiry, request.auth), "inquiries")


@inquiries.get("/{int:inquiry_id}", response={200: InquiryOut, 304: None, **READ}, summary="Get an inquiry")
def get_inquiry(request: HttpRequest, inquiry_id: Id):
    inquiry = selectors.inquiry_get_for_user(request.auth, inquiry_id)
    return not_modified(request, inquiry.version) or object_response(inquiry_out(inquiry, request.auth))


@inquiries.patch("/{int:inquiry_id}", response={200: InquiryOut, **PATCH}, summary="Change an inquiry")
def patch_inquiry(request: HttpRequest, inquiry_id: Id, payload: InquiryPatch):
    """Send only the fields to change (`items` replaces all lines), plus the `version` you last read."""
    data = _body(payload)
    version = required_version(request, data.pop("version", None))
    inquiry = selectors.inquiry_get_for_user(request.auth, inquiry_id)
    services.inquiry_update(actor=request.auth, inquiry=inquiry, version=version, data=data)
    inquiry = selectors.inquiry_get_for_user(request.auth, inquiry_id)
    return object_response(inquiry_out(inquiry, request.auth))


@inquiries.delete("/{int:inquiry_id}", response={204: None, **DELETE}, summary="Delete an inquiry")
def delete_inquiry(request: HttpRequest, inquiry_id: Id):
    inquiry = selectors.inquiry_get_for_user(request.auth, inquiry_id)
    check_delete_version(request, inquiry)
    services.inquiry_delete(actor=request.auth, inquiry=inquiry)
    return HttpResponse(status=204)


@inquiries.post(
    "/{int:inquiry_id}/reply", response={200: InquiryOut, **PATCH}, summary="Mark an inquiry replied"
)
def reply_inquiry(request: HttpRequest, inquiry_id: Id, payload: ReplyIn):
    """Status "replied" (the first reply is dated). With `log`, the answer is also written to the
    linked customer's timeline."""
    data = _body(payload)
    version = required_version(request, data.get("version"))
    inquiry = selectors.inquiry_get_for_user(request.auth, inquiry_id)
    services.inquiry_reply(actor=request.auth, inquiry=inquiry, version=version, log=data.get("log"))
    inquiry = selectors.inquiry_get_for_user(request.auth, inquiry_id)
    return object_response(inquiry_out(inquiry, request.auth))


@inquiries.post(
    "/{int:inquiry_id}/convert", response={201: ConvertOut, **PATCH}, summary="Convert to an opportunity"
)
def convert_inquiry(request: HttpRequest, inquiry_id: Id, payload: ConvertIn):
    """In one step: link the inquiry to `company` or create a customer (`new_company`, over the
    buyer's details) with the buyer as contact, open an opportunity in the pipeline's first open
    stage and mark the inquiry converted. A second convert is refused (422)."""
    data = _body(payload)
    user = request.auth
    inquiry = selectors.inquiry_get_for_user(user, inquiry_id)
    company = _resolve_company(user, data["company"]) if data.get("company") else None
    pipeline = None
    if data.get("pipeline"):
        pipeline = Pipeline.objects.filter(pk=data["pipeline"], active=True).first()
        if pipeline is None:
            raise ValidationError(
                {"pipeline": [_("No active pipeline with id %(id)s.") % {"id": data["pipeline"]}]}
            )
    opportunity = services.inquiry_convert(
        actor=user, inquiry=inquiry, company=company,
        new_company_data=data.get("new_company") if company is None else None, pipeline=pipeline,
        opportunity_data=data.get("opportunity"), contact_data=data.get("contact"),
        add_contact=data.get("add_contact", True), version=data.get("version"),
    )  # fmt: skip
    body = {
        "inquiry": inquiry_out(selectors.inquiry_get_for_user(user, inquiry_id), user),
        "opportunity": opportunity_out(selectors.opportunity_get_for_user(user, opportunity.pk)),
    }
    response = json_response(body, status=201)
    response["Location"] = f"/api/v1/opportunities/{opportunity.pk}"
    return response


# --- opportunities ------------------------------------------------------------------------------

OPPORTUNITY_PLAIN = (
    "id", "name", "contact_id", "pipeline_id", "status", "amount", "currency", "probability", "expected_close_date",
    "loss_reason_id", "loss_note", "closed_at", "stage_entered_at", "position", "description", "version",
    "created_at", "updated_at",
)  # fmt: skip


def opportunity_out(o: Opportunity, history: bool = True) -> dict:
    out = {k: getattr(o, k) for k in OPPORTUNITY_PLAIN}
    out["company"] = {"id": o.company_id, "name": o.company.name}
    out["stage"] = _stage_ref(o.stage)
    out["owner"] = user_ref(o.owner)
    if history:
        out["stage_history"] = [
            {"stage": _stage_ref(h["stage"]) if h["stage"] else None, "entered_at": h["entered_at"],
             "left_at": h["left_at"], "seconds": h["seconds"]}
            for h in selectors.stage_history(o)
        ]  # fmt: skip
    return out


def _opportunity_row(r: dict) -> dict:
    out = {k: r[k] for k in OPPORTUNITY_PLAIN}
    out["company"] = {"id": r["company_id"], "name": r["company__name"]}
    out["stage"] = {"id": r["stage_id"], "name": r["stage__name"], "label": r["stage_label"],
                    "kind": r["stage__kind"], "probability": r["stage__probability"]}  # fmt: skip
    out["owner"] = _user_row(r)
    return out


def _card(c: dict) -> dict:
    return {
        "id": c["id"], "name": c["name"], "company": {"id": c["company_id"], "name": c["company__name"]},
        "amount": c["amount"], "currency": c["currency"], "owner": _user_row(c), "days_in_stage": c["days_in_stage"],
        "stale": c["stale"], "expected_close_date": c["expected_close_date"], "position": c["position"],
        "version": c["version"],
    }  # fmt: skip


def _pipeline_out(p: Pipeline, stages: list[Stage] | None = None) -> dict:
    stages = stages if stages is not None else selectors.stages_of(p)
    return {"id": p.pk, "name": p.name, "label": display_name(p), "is_default": p.is_default, "active": p.active,
            "position": p.position, "stages": [_stage_out(s) for s in stages], "version": p.version}  # fmt: skip


@opportunities.get("", response={200: OpportunityPage, **LIST}, summary="List opportunities")
def list_opportunities(request: HttpRequest, query: Query[OpportunityListQuery]):
    close_month = None
    if query.close_month:
        close_month = selectors.parse_month(query.close_month)
        if close_month is None:
            raise ValidationError({"close_month": [_("Enter a month as YYYY-MM.")]})
    f = selectors.OpportunityFilters(pipeline=query.pipeline, stage=query.stage, owner=_owner(request, query.owner),
                                     status=query.status or "", close_month=close_month, company=query.company_id,
                                     sort=query.sort)  # fmt: skip
    rows, nxt, prev = selectors.opportunity_list(
        request.auth, f, cursor=query.cursor or None, limit=query.limit
    )
    return page_response([_opportunity_row(r) for r in rows], nxt, prev)


@opportunities.post("", response={201: OpportunityOut, **WRITE}, summary="Open an opportunity")
def create_opportunity(request: HttpRequest, payload: OpportunityCreate):
    data = _body(payload)
    data["company"] = _resolve_company(request.auth, data["company"]).pk
    opportunity = services.opportunity_create(actor=request.auth, data=data)
    return created_response(opportunity_out(selectors.opportunity_get_for_user(request.auth, opportunity.pk)),
                            "opportunities")  # fmt: skip


def _board_pipeline(pipeline_id: int | None) -> Pipeline:
    if pipeline_id is None:
        pipeline = selectors.default_pipeline()
        if pipeline is None:
            raise Http404
        return pipeline
    return selectors.pipeline_get(pipeline_id)


@opportunities.get("/board", response={200: BoardOut, **LIST}, summary="The board of a pipeline")
def get_board(request: HttpRequest, query: Query[BoardQuery]):
    """Each stage with its count, its total in the base currency and its first cards (open stages:
    the open deals by position; won/lost: those closed in the last `closed_days` days)."""
    pipeline = _board_pipeline(query.pipeline)
    b = selectors.board(request.auth, pipeline, owner=_owner(request, query.owner), limit=query.limit)
    return json_response({
        "pipeline": _pipeline_out(pipeline, [c.stage for c in b.columns]),
        "closed_days": b.closed_days,
        "columns": [
            {"stage": _stage_out(c.stage), "count": c.count, "total": _money(c.total),
             "cards": [_card(x) for x in c.cards], "next_cursor": c.next_cursor}
            for c in b.columns
        ],
    })  # fmt: skip


@opportunities.get(
    "/board/columns/{int:stage_id}", response={200: ColumnPage, **LIST}, summary="More cards of a column"
)
def get_board_column(request: HttpRequest, stage_id: Id, query: Query[ColumnQuery]):
    stage = selectors.stage_get(stage_id)
    from tradecrm.core.paging import BadCursor

    try:
        cards, nxt = selectors.board_column(request.auth, stage.pipeline, stage, cursor=query.cursor or None,
                                            owner=_owner(request, query.owner), limit=query.limit)  # fmt: skip
    except BadCursor:
        return json_response(
            {"detail": _("The cursor is not valid; start again from the first page.")}, status=400
        )
    return json_response({"cards": [_card(c) for c in cards], "next_cursor": nxt})


@opportunities.get("/forecast", response={200: ForecastOut, **LIST}, summary="Weighted forecast per month")
def get_forecast(request: HttpRequest, query: Query[ForecastQuery]):
    """Open opportunities you can see by expected close month: count, expected value and weighted
    value (× win probability), in the base currency at today's rates."""
    f = selectors.forecast(request.auth, pipeline=query.pipeline, owner=_owner(request, query.owner))
    return json_response({
        "base_currency": f.base,
        "months": [{"month": r.month, "count": r.count, "amount": _money(r.amount), "weighted": _money(r.weighted)}
                   for r in f.rows],
        "total_amount": _money(f.total_amount),
        "total_weighted": _money(f.total_weighted),
    })  # fmt: skip


@opportunities.get(
    "/{int:opportunity_id}", response={200: OpportunityOut, 304: None, **READ}, summary="Get an opportunity"
)
def get_opportunity(request: HttpRequest, opportunity_id: Id):
    """With its stage history (time spent in each stage)."""
    o = selectors.opportunity_get_for_user(request.auth, opportunity_id)
    return not_modified(request, o.version) or object_response(opportunity_out(o))


@opportunities.patch(
    "/{int:opportunity_id}", response={200: OpportunityOut, **PATCH}, summary="Change an opportunity"
)
def patch_opportunity(request: HttpRequest, opportunity_id: Id, payload: OpportunityPatch):
    """Name, customer, contact, value, probability, close date, owner, description. The stage
    changes with POST …/move."""
    data = _body(payload)
    version = required_version(request, data.pop("version", None))
    o = selectors.opportunity_get_for_user(request.auth, opportunity_id)
    if data.get("company"):
        data["company"] = _resolve_company(request.auth, data["company"]).pk
    services.opportunity_update(actor=request.auth, opportunity=o, version=version, data=data)
    return object_response(opportunity_out(selectors.opportunity_get_for_user(request.auth, opportunity_id)))


@opportunities.post(
    "/{int:opportunity_id}/move", response={200: OpportunityOut, **PATCH}, summary="Move to a stage"
)
def move_opportunity(request: HttpRequest, opportunity_id: Id, payload: MoveIn):
    """To another stage of the same pipeline, or to another place in its column (`position`, or the
    neighbours `before`/`after`). A lost stage needs `loss_reason`. Send `version` to refuse the
    move when the opportunity changed since you read it (409)."""
    data = _body(payload)
    user = request.auth
    o = selectors.opportunity_get_for_user(user, opportunity_id)
    stage = Stage.objects.filter(pk=data["stage"]).first()
    if stage is None:
        raise ValidationError({"stage": [_("No stage with id %(id)s.") % {"id": data["stage"]}]})
    position = data.get("position")
    if position is None and (data.get("before") or data.get("after")) and stage.pipeline_id == o.pipeline_id:
        position = services.position_for_drop(o, stage, data.get("before"), data.get("after"))
    services.opportunity_move_stage(actor=user, opportunity=o, stage=stage, position=position,
                                    loss_reason=data.get("loss_reason"), loss_note=data.get("loss_note") or "",
                                    version=data.get("version"))  # fmt: skip
    return object_response(opportunity_out(selectors.opportunity_get_for_user(user, opportunity_id)))


@opportunities.delete(
    "/{int:opportunity_id}", response={204: None, **DELETE}, summary="Delete an opportunity"
)
def delete_opportunity(request: HttpRequest, opportunity_id: Id):
    o = selectors.opportunity_get_for_user(request.auth, opportunity_id)
    check_delete_version(request, o)
    services.opportunity_delete(actor=request.auth, opportunity=o)
    return HttpResponse(status=204)


# --- pipelines ----------------------------------------------------------------------------------


def _pipeline_for(request, pipeline_id) -> Pipeline:
    return selectors.pipeline_get(pipeline_id)


def _stage_of(pipeline: Pipeline, stage_id) -> Stage:
    stage = Stage.objects.filter(pk=stage_id, pipeline=pipeline).first()
    if stage is None:
        raise Http404
    return stage


@pipelines.get("", response={200: PipelinePage, 401: Error}, summary="List pipelines")
def list_pipelines(request: HttpRequest):
    """Every pipeline with its stages (a handful: one page)."""
    items = [_pipeline_out(p) for p in selectors.pipelines(active_only=False)]
    return json_response({"items": items, "next_cursor": None, "prev_cursor": None})


@pipelines.get("/loss-reasons", response={200: LossReasonList, 401: Error}, summary="List loss reasons")
def list_loss_reasons(request: HttpRequest):
    return json_response({"items": [
        {"id": r.pk, "name": r.name, "label": display_name(r), "key": r.key, "active": r.active}
        for r in LossReason.objects.order_by("position", "id")
    ]})  # fmt: skip


@pipelines.post("", response={201: PipelineOut, **WRITE}, summary="Add a pipeline")
def create_pipeline(request: HttpRequest, payload: PipelineCreate):
    """Administrators only. With `copy_stages_from`, it starts with that pipeline's stages."""
    data = _body(payload)
    source = None
    if data.get("copy_stages_from"):
        source = Pipeline.objects.filter(pk=data.pop("copy_stages_from")).first()
        if source is None:
            raise ValidationError({"copy_stages_from": [_("No pipeline with this id.")]})
    data.pop("copy_stages_from", None)
    pipeline = services.pipeline_create(actor=request.auth, data=data, copy_stages_from=source)
    return created_response(_pipeline_out(pipeline), "pipelines")


@pipelines.get("/{int:pipeline_id}", response={200: PipelineOut, 304: None, **READ}, summary="Get a pipeline")
def get_pipeline(request: HttpRequest, pipeline_id: Id):
    pipeline = _pipeline_for(request, pipeline_id)
    return not_modified(request, pipeline.version) or object_response(_pipeline_out(pipeline))


@pipelines.patch("/{int:pipeline_id}", response={200: PipelineOut, **PATCH}, summary="Change a pipeline")
def patch_pipeline(request: HttpRequest, pipeline_id: Id, payload: PipelinePatch):
    data = _body(payload)
    version = required_version(request, data.pop("version", None))
    pipeline = _pipeline_for(request, pipeline_id)
    services.pipeline_update(actor=request.auth, pipeline=pipeline, version=version, data=data)
    return object_response(_pipeline_out(pipeline))


@pipelines.post("/{int:pipeline_id}/stages", response={201: StageOut, **WRITE}, summary="Add a stage")
def create_stage(request: HttpRequest, pipeline_id: Id, payload: StageIn):
    pipeline = _pipeline_for(request, pipeline_id)
    stage = services.stage_create(actor=request.auth, pipeline=pipeline, data=_body(payload))
    response = json_response(_stage_out(stage), status=201)
    response["Location"] = f"/api/v1/pipelines/{pipeline.pk}"
    return response


@pipelines.patch(
    "/{int:pipeline_id}/stages/{int:stage_id}", response={200: StageOut, **WRITE}, summary="Change a stage"
)
def patch_stage(request: HttpRequest, pipeline_id: Id, stage_id: Id, payload: StageIn):
    """Rename, win probability, stale days, kind (while it holds no opportunities)."""
    stage = _stage_of(_pipeline_for(request, pipeline_id), stage_id)
    stage = services.stage_update(actor=request.auth, stage=stage, data=_body(payload))
    return json_response(_stage_out(stage))


@pipelines.delete(
    "/{int:pipeline_id}/stages/{int:stage_id}", response={204: None, **WRITE}, summary="Delete a stage"
)
def delete_stage(request: HttpRequest, pipeline_id: Id, stage_id: Id):
    """Refused (422) while the stage holds opportunities."""
    stage = _stage_of(_pipeline_for(request, pipeline_id), stage_id)
    services.stage_delete(actor=request.auth, stage=stage)
    return HttpResponse(status=204)


@pipelines.put(
    "/{int:pipeline_id}/stages/order", response={200: PipelineOut, **WRITE}, summary="Reorder stages"
)
def order_stages(request: HttpRequest, pipeline_id: Id, payload: StageOrderIn):
    pipeline = _pipeline_for(request, pipeline_id)
    services.stage_reorder(actor=request.auth, pipeline=pipeline, stage_ids=payload.stages)
    return json_response(_pipeline_out(pipeline))


# --- samples ------------------------------------------------------------------------------------

SAMPLE_PLAIN = (
    "id", "contact_id", "opportunity_id", "status", "requested_on", "ship_to", "courier", "tracking_number", "cost",
    "cost_currency", "paid_by", "courier_account", "sent_on", "received_on", "feedback", "feedback_rating",
    "interaction_id", "notes", "version", "created_at", "updated_at",
)  # fmt: skip


def sample_out(s: Sample) -> dict:
    out = {k: getattr(s, k) for k in SAMPLE_PLAIN}
    out["company"] = {"id": s.company_id, "name": s.company.name}
    out["owner"] = user_ref(s.owner)
    out["items"] = [{"id": i.pk, "product_id": i.product_id, "description": i.description, "quantity": i.quantity,
                     "unit": i.unit} for i in s.items.order_by("position", "id")]  # fmt: skip
    return out


def _sample_row(r: dict) -> dict:
    out = {k: r[k] for k in SAMPLE_PLAIN}
    out["company"] = {"id": r["company_id"], "name": r["company__name"]}
    out["owner"] = _user_row(r)
    return out


@samples.get("", response={200: SamplePage, **LIST}, summary="List samples")
def list_samples(request: HttpRequest, query: Query[SampleListQuery]):
    f = selectors.SampleFilters(
        status=query.status or "", owner=_owner(request, query.owner), company=query.company_id
    )
    rows, nxt, prev = selectors.sample_list(request.auth, f, cursor=query.cursor or None, limit=query.limit)
    return page_response([_sample_row(r) for r in rows], nxt, prev)


@samples.post("", response={201: SampleOut, **WRITE}, summary="Request a sample")
def create_sample(request: HttpRequest, payload: SampleCreate):
    data = _body(payload)
    company = _resolve_company(request.auth, data.pop("company"))
    sample = services.sample_create(actor=request.auth, company=company, data=data)
    return created_response(sample_out(selectors.sample_get_for_user(request.auth, sample.pk)), "samples")


@samples.get("/{int:sample_id}", response={200: SampleOut, 304: None, **READ}, summary="Get a sample")
def get_sample(request: HttpRequest, sample_id: Id):
    s = selectors.sample_get_for_user(request.auth, sample_id)
    return not_modified(request, s.version) or object_response(sample_out(s))


@samples.patch("/{int:sample_id}", response={200: SampleOut, **PATCH}, summary="Change a sample")
def patch_sample(request: HttpRequest, sample_id: Id, payload: SamplePatch):
    data = _body(payload)
    version = required_version(request, data.pop("version", None))
    s = selectors.sample_get_for_user(request.auth, sample_id)
    services.sample_update(actor=request.auth, sample=s, version=version, data=data)
    return object_response(sample_out(selectors.sample_get_for_user(request.auth, sample_id)))


@samples.delete("/{int:sample_id}", response={204: None, **DELETE}, summary="Delete a sample")
def delete_sample(request: HttpRequest, sample_id: Id):
    s = selectors.sample_get_for_user(request.auth, sample_id)
    check_delete_version(request, s)
    services.sample_delete(actor=request.auth, sample=s)
    return HttpResponse(status=204)


def _sample_step(request, sample_id, payload, service) -> HttpResponse:
    data = _body(payload)
    version = required_version(request, data.pop("version", None))
    s = selectors.sample_get_for_user(request.auth, sample_id)
    service(actor=request.auth, sample=s, version=version, data=data)
    return object_response(sample_out(selectors.sample_get_for_user(request.auth, sample_id)))


@samples.post("/{int:sample_id}/sent", response={200: SampleOut, **PATCH}, summary="Mark a sample sent")
def sample_sent(request: HttpRequest, sample_id: Id, payload: SentIn):
    """Courier, tracking number, date (today by default), cost and who pays. Logs a "sample sent"
    entry on the customer's timeline (`interaction_id`)."""
    return _sample_step(request, sample_id, payload, services.sample_mark_sent)


@samples.post(
    "/{int:sample_id}/received", response={200: SampleOut, **PATCH}, summary="Mark a sample received"
)
def sample_received(request: HttpRequest, sample_id: Id, payload: ReceivedIn):
    return _sample_step(request, sample_id, payload, services.sample_mark_received)


@samples.post("/{int:sample_id}/feedback", response={200: SampleOut, **PATCH}, summary="Record feedback")
def sample_feedback(request: HttpRequest, sample_id: Id, payload: FeedbackIn):
    """What the customer thought of it, with a rating from 1 to 5."""
    return _sample_step(request, sample_id, payload, services.sample_feedback)


@samples.post("/{int:sample_id}/cancel", response={200: SampleOut, **PATCH}, summary="Cancel a sample")
def sample_cancel(request: HttpRequest, sample_id: Id, payload: VersionIn):
    version = required_version(request, payload.version)
    s = selectors.sample_get_for_user(request.auth, sample_id)
    services.sample_cancel(actor=request.auth, sample=s, version=version)
    return object_response(sample_out(selectors.sample_get_for_user(request.auth, sample_id)))
