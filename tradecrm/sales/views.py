"""HTML views of inquiries, opportunities (list, board, forecast), pipelines and samples. Thin:
every object is loaded through a `*_get_for_user` selector ("missing" and "not yours" are the same
404), every change goes through a service."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tradecrm.accounts.access import can_reveal
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.ids import parse_id
from tradecrm.core.paging import BadCursor
from tradecrm.customers.masking import is_masked, mask_email, mask_row, mask_rows
from tradecrm.customers.selectors import company_get_for_user
from tradecrm.customers.views import _concurrent_message, _filter_owner_choices

from . import selectors, services
from .board_html import card_html, cards_html
from .defaults import display_name
from .forms import (
    ConvertForm,
    FeedbackForm,
    InquiryForm,
    MoveForm,
    OpportunityForm,
    PipelineForm,
    ReceivedForm,
    SampleForm,
    SentForm,
    StageForm,
    item_rows,
    items_from_post,
    loss_reason_choices,
    product_choices,
    unit_choices,
)
from .models import (
    Inquiry,
    InquiryChannel,
    InquiryStatus,
    LossReason,
    OpportunityStatus,
    SampleStatus,
    Stage,
    StageKind,
)

SAMPLE_ITEM_FIELDS = ("product", "description", "quantity", "unit")


def _back(request, fallback: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return fallback


def _status(form, stale: bool) -> int:
    return (409 if stale else 422) if form.errors else 200


def _page_urls(base: str, params: dict, next_cursor, prev_cursor) -> dict:
    url = lambda c: f"{base}?{urlencode({**params, 'cursor': c})}"  # noqa: E731
    return {
        "next_url": url(next_cursor) if next_cursor else "",
        "prev_url": url(prev_cursor) if prev_cursor else "",
    }


def _g(request, name: str, limit: int = 40) -> str:
    return (request.GET.get(name) or "").replace("\x00", "").strip()[:limit]


# --- inquiries ----------------------------------------------------------------------------------


@login_required
def inquiry_list(request):
    user = request.user
    f = selectors.InquiryFilters(
        status=_g(request, "status") if _g(request, "status") in InquiryStatus.values else "",
        channel=_g(request, "channel") if _g(request, "channel") in InquiryChannel.values else "",
        owner=parse_id(request.GET.get("owner")),
        unlinked=request.GET.get("unlinked") == "1",
    )
    cursor = request.GET.get("cursor") or None
    try:
        rows, nxt, prev = selectors.inquiry_list(user, f, cursor=cursor)
    except BadCursor:
        rows, nxt, prev = selectors.inquiry_list(user, f)
    channels, statuses = dict(InquiryChannel.choices), dict(InquiryStatus.choices)
    if not can_reveal(user):  # contact masking: the buyer's email stands in for a missing name
        mask_rows(rows, ("buyer_email", "buyer_phone"))
    for r in rows:
        r["channel_label"] = channels.get(r["channel"], r["channel"])
        r["status_label"] = statuses.get(r["status"], r["status"])
    params = {k: v for k, v in (("status", f.status), ("channel", f.channel), ("owner", f.owner or ""),
                                ("unlinked", "1" if f.unlinked else "")) if v}  # fmt: skip
    ctx = {
        "nav": "inquiries", "rows": rows, "filters": f, "filtered": bool(params),
        "statuses": InquiryStatus.choices, "channels": InquiryChannel.choices,
        "owners": _filter_owner_choices(user),
        **_page_urls(reverse("sales:inquiry_list"), params, nxt, prev),
    }  # fmt: skip
    return render(request, "sales/inquiry_list.html", ctx)


def _inquiry_form_ctx(request, form, inquiry, rows, company=None) -> dict:
    return {
        "nav": "inquiries", "form": form, "inquiry": inquiry, "item_rows": rows, "company": company,
        "products": product_choices(), "units": unit_choices(),
    }  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def inquiry_create(request):
    user = request.user
    company = None
    company_id = request.POST.get("company") or request.GET.get("company")
    if company_id:
        company = company_get_for_user(user, company_id)
    form = InquiryForm(request.POST or None, user=user)
    rows = items_from_post(request.POST) if request.method == "POST" else []
    if request.method == "POST" and form.is_valid():
        data = {**form.service_data(), "items": rows}
        if company is not None:
            data["company"] = company.pk
        try:
            inquiry = services.inquiry_create(actor=user, data=data)
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Inquiry recorded."))
            return redirect("sales:inquiry_detail", pk=inquiry.pk)
    ctx = _inquiry_form_ctx(request, form, None, item_rows(rows), company)
    return render(request, "sales/inquiry_form.html", ctx, status=_status(form, False))


@login_required
@require_http_methods(["GET", "POST"])
def inquiry_edit(request, pk: int):
    user = request.user
    inquiry = selectors.inquiry_get_for_user(user, pk)
    form = InquiryForm(request.POST or None, user=user, inquiry=inquiry)
    rows = items_from_post(request.POST) if request.method == "POST" else selectors.inquiry_items(inquiry)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            services.inquiry_update(actor=user, inquiry=inquiry, version=form.cleaned_data.get("version") or 0,
                                    data={**form.service_data(), "items": rows})  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(user, exc))
            stale = True
        else:
            messages.success(request, _("Inquiry saved."))
            return redirect("sales:inquiry_detail", pk=inquiry.pk)
    ctx = {**_inquiry_form_ctx(request, form, inquiry, item_rows(rows), inquiry.company), "stale": stale}
    return render(request, "sales/inquiry_form.html", ctx, status=_status(form, stale))


@login_required
def inquiry_detail(request, pk: int):
    inquiry = selectors.inquiry_get_for_user(request.user, pk)
    ctx = {
        "nav": "inquiries", "inquiry": inquiry, "items": selectors.inquiry_items(inquiry),
        "channel_label": InquiryChannel(inquiry.channel).label if inquiry.channel in InquiryChannel.values else "",
        "status_label": InquiryStatus(inquiry.status).label,
        "statuses": [c for c in InquiryStatus.choices if c[0] not in (InquiryStatus.CONVERTED, inquiry.status)],
        "amount": services.inquiry_amount(inquiry),
        "can_delete": services._may_delete(request.user, inquiry.owner_id),
    }  # fmt: skip
    return render(request, "sales/inquiry_detail.html", ctx)


@login_required
@require_POST
def inquiry_status(request, pk: int):
    inquiry = selectors.inquiry_get_for_user(request.user, pk)
    status = request.POST.get("status") or ""
    version = parse_id(request.POST.get("version")) or 0
    try:
        if status == InquiryStatus.REPLIED:
            log = None
            if request.POST.get("log") and inquiry.company_id:
                log = {"type": "email", "body": request.POST.get("log_body", "")}
            services.inquiry_reply(actor=request.user, inquiry=inquiry, version=version, log=log)
        else:
            services.inquiry_set_status(actor=request.user, inquiry=inquiry, version=version, status=status)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ConcurrentEditError as exc:
        messages.error(request, _concurrent_message(request.user, exc))
    else:
        messages.success(request, _("Status changed."))
    return redirect("sales:inquiry_detail", pk=inquiry.pk)


@login_required
@require_http_methods(["GET", "POST"])
def inquiry_delete(request, pk: int):
    inquiry = selectors.inquiry_get_for_user(request.user, pk)
    if not services._may_delete(request.user, inquiry.owner_id):
        raise PermissionDenied(_("Only the inquiry's owner, a manager or an administrator may delete it."))
    if request.method == "POST":
        services.inquiry_delete(actor=request.user, inquiry=inquiry)
        messages.success(request, _("Inquiry deleted."))
        return redirect("sales:inquiry_list")
    return render(request, "customers/confirm_delete.html", {
        "nav": "inquiries", "title": _("Delete inquiry"),
        "question": _("Delete the inquiry “%(name)s”? Its opportunity, if any, stays.") % {"name": inquiry},
        "cancel_url": reverse("sales:inquiry_detail", args=[inquiry.pk]),
    })  # fmt: skip


def _unmask_convert(d: dict, inquiry, company_email: str) -> dict:
    """Masked values of the convert form, posted back unchanged, are the buyer's own again."""
    real = {
        "contact_email": inquiry.buyer_email,
        "contact_phone": inquiry.buyer_phone,
        "new_email": company_email,
    }
    return {**d, **{k: v for k, v in real.items() if is_masked(d.get(k) or "")}}


@login_required
@require_http_methods(["GET", "POST"])
def inquiry_convert(request, pk: int):
    user = request.user
    inquiry = selectors.inquiry_get_for_user(user, pk)
    if inquiry.opportunity_id:
        messages.info(request, _("This inquiry has been converted already."))
        return redirect("sales:opportunity_detail", pk=inquiry.opportunity_id)
    pipelines = selectors.pipelines()
    default = selectors.default_pipeline()
    contact = services.buyer_contact_data(inquiry)
    company_data = services.buyer_company_data(inquiry)
    initial = {
        "mode": "existing" if inquiry.company_id else "new",
        "company": str(inquiry.company_id or ""),
        "new_name": company_data.get("name", ""), "new_country": company_data.get("country", ""),
        "new_email": company_data.get("email", ""),
        "contact_first_name": contact.get("first_name", ""), "contact_last_name": contact.get("last_name", ""),
        "contact_email": inquiry.buyer_email, "contact_phone": inquiry.buyer_phone,
        "pipeline": str(default.pk) if default else "",
        "opportunity_name": services.inquiry_opportunity_name(inquiry),
        "amount": services.inquiry_amount(inquiry),
        "currency": inquiry.target_currency or services._base_currency(),
        "version": inquiry.version,
    }  # fmt: skip
    masked = not can_reveal(user)
    if masked:  # contact masking; a value posted back unchanged stands for the buyer's own
        mask_row(initial, ("contact_email", "contact_phone"))
        initial["new_email"] = mask_email(initial["new_email"])
    form = ConvertForm(request.POST or None, initial=initial, pipelines=pipelines)
    chosen = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if masked:
            d = _unmask_convert(d, inquiry, company_data.get("email", ""))
        company = None
        try:
            if d["mode"] == "existing":
                company_id = parse_id(d.get("company"))
                if company_id is None:
                    raise ValidationError({"company": [_("Pick the customer to link the inquiry to.")]})
                try:
                    company = company_get_for_user(user, company_id)
                except Http404:
                    raise ValidationError(
                        {"company": [_("No customer with id %(id)s.") % {"id": company_id}]}
                    ) from None
                chosen = company
            pipeline = None
            if d.get("pipeline"):
                pipeline = next((p for p in pipelines if str(p.pk) == d["pipeline"]), None)
            opportunity_data = {"name": d.get("opportunity_name") or "", "currency": d.get("currency") or "",
                                "amount": d.get("amount") or "0"}  # fmt: skip
            if d.get("expected_close_date"):
                opportunity_data["expected_close_date"] = d["expected_close_date"]
            new_company = None
            if company is None:
                new_company = {"name": d.get("new_name") or "", "country": d.get("new_country") or "",
                               "email": d.get("new_email") or ""}  # fmt: skip
            contact_data = {
                "first_name": d.get("contact_first_name") or "", "last_name": d.get("contact_last_name") or "",
                "emails": [d["contact_email"]] if d.get("contact_email") else [],
                "phones": [d["contact_phone"]] if d.get("contact_phone") else [],
            }  # fmt: skip
            if not (contact_data["first_name"] or contact_data["last_name"]) and not contact_data["phones"]:
                contact_data = {}
            opportunity = services.inquiry_convert(
                actor=user, inquiry=inquiry, company=company, new_company_data=new_company, pipeline=pipeline,
                opportunity_data=opportunity_data, contact_data=contact_data, add_contact=bool(d.get("add_contact")),
                version=d.get("version"),
            )  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(user, exc))
        else:
            messages.success(
                request, _("Inquiry converted into the opportunity “%(name)s”.") % {"name": opportunity.name}
            )
            return redirect("sales:opportunity_detail", pk=opportunity.pk)
    if chosen is None and inquiry.company_id:
        chosen = inquiry.company
    if chosen is None and form.data.get("company"):
        try:
            chosen = company_get_for_user(user, form.data.get("company"))
        except Http404:
            chosen = None
    ctx = {
        "nav": "inquiries", "inquiry": inquiry, "form": form, "chosen": chosen,
        "candidates": selectors.convert_candidates(user, inquiry),
    }  # fmt: skip
    return render(request, "sales/inquiry_convert.html", ctx, status=_status(form, False))


@login_required
def company_lookup(request):
    """Customers matching `q` as radio buttons (the convert and new-opportunity pages)."""
    rows = selectors.company_lookup(request.user, request.GET.get("q", ""))
    return render(request, "sales/_company_choices.html", {"rows": rows, "q": request.GET.get("q", "")})


# --- opportunities ------------------------------------------------------------------------------


@login_required
def opportunity_list(request):
    user = request.user
    status = _g(request, "status")
    f = selectors.OpportunityFilters(
        pipeline=parse_id(request.GET.get("pipeline")),
        stage=parse_id(request.GET.get("stage")),
        owner=parse_id(request.GET.get("owner")),
        status=status if status in OpportunityStatus.values else "",
        close_month=selectors.parse_month(_g(request, "close_month", 7)),
    )
    cursor = request.GET.get("cursor") or None
    try:
        rows, nxt, prev = selectors.opportunity_list(user, f, cursor=cursor)
    except BadCursor:
        rows, nxt, prev = selectors.opportunity_list(user, f)
    params = {k: v for k, v in (
        ("pipeline", f.pipeline or ""), ("stage", f.stage or ""), ("owner", f.owner or ""), ("status", f.status),
        ("close_month", f.close_month.strftime("%Y-%m") if f.close_month else "")) if v}  # fmt: skip
    pipelines = selectors.pipelines()
    stages = [
        (s.pk, f"{display_name(p)} · {display_name(s)}") for p in pipelines for s in selectors.stages_of(p)
    ]
    ctx = {
        "nav": "opportunities", "rows": rows, "filters": f, "filtered": bool(params), "pipelines": pipelines,
        "stages": stages, "owners": _filter_owner_choices(user), "statuses": OpportunityStatus.choices,
        **_page_urls(reverse("sales:opportunity_list"), params, nxt, prev),
    }  # fmt: skip
    return render(request, "sales/opportunity_list.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_create(request):
    user = request.user
    company_id = request.POST.get("company") or request.GET.get("company")
    if not company_id:
        return render(request, "sales/opportunity_pick_company.html", {"nav": "opportunities"})
    company = company_get_for_user(user, company_id)
    pipelines = selectors.pipelines()
    form = OpportunityForm(request.POST or None, user=user, company=company, pipelines=pipelines)
    if request.GET.get("stage") and "stage" in form.fields:
        form.initial["stage"] = request.GET["stage"]
    if request.method == "POST" and form.is_valid():
        data = {**form.service_data(), "company": company.pk}
        stage = (
            Stage.objects.filter(pk=parse_id(data.get("stage")) or 0).first() if data.get("stage") else None
        )
        if stage is not None:
            data["pipeline"] = stage.pipeline_id  # the stage picks its pipeline
        try:
            opportunity = services.opportunity_create(actor=user, data=data)
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Opportunity “%(name)s” created.") % {"name": opportunity.name})
            return redirect("sales:opportunity_detail", pk=opportunity.pk)
    ctx = {"nav": "opportunities", "form": form, "company": company, "opportunity": None}
    return render(request, "sales/opportunity_form.html", ctx, status=_status(form, False))


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_edit(request, pk: int):
    user = request.user
    opportunity = selectors.opportunity_get_for_user(user, pk)
    form = OpportunityForm(
        request.POST or None, user=user, company=opportunity.company, opportunity=opportunity
    )
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            services.opportunity_update(actor=user, opportunity=opportunity,
                                        version=form.cleaned_data.get("version") or 0, data=form.service_data())  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(user, exc))
            stale = True
        else:
            messages.success(request, _("Opportunity saved."))
            return redirect("sales:opportunity_detail", pk=opportunity.pk)
    ctx = {"nav": "opportunities", "form": form, "company": opportunity.company, "opportunity": opportunity,
           "stale": stale}  # fmt: skip
    return render(request, "sales/opportunity_form.html", ctx, status=_status(form, stale))


@login_required
def opportunity_detail(request, pk: int):
    user = request.user
    opportunity = selectors.opportunity_get_for_user(user, pk)
    now = timezone.now()
    stages = selectors.stages_of(opportunity.pipeline)
    inquiry = Inquiry.objects.filter(opportunity=opportunity).first()
    stale_after = opportunity.stage.stale_days if opportunity.status == OpportunityStatus.OPEN else None
    in_stage = now - opportunity.stage_entered_at
    ctx = {
        "nav": "opportunities", "o": opportunity, "stages": stages, "stage_label": display_name(opportunity.stage),
        "history": selectors.stage_history(opportunity, now), "inquiry": inquiry,
        "samples": selectors.opportunity_samples(opportunity),
        "quotations": selectors.opportunity_quotations(opportunity),
        "loss_reasons": loss_reason_choices(),
        "probability": opportunity.probability if opportunity.probability is not None else opportunity.stage.probability,
        "days_in_stage": in_stage.days,
        "stale": bool(stale_after and in_stage > dt.timedelta(days=stale_after)),
        "can_delete": services._may_delete(user, opportunity.owner_id),
        "loss_label": display_name(opportunity.loss_reason) if opportunity.loss_reason_id else "",
    }  # fmt: skip
    return render(request, "sales/opportunity_detail.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_delete(request, pk: int):
    opportunity = selectors.opportunity_get_for_user(request.user, pk)
    if not services._may_delete(request.user, opportunity.owner_id):
        raise PermissionDenied(
            _("Only the opportunity's owner, a manager or an administrator may delete it.")
        )
    if request.method == "POST":
        services.opportunity_delete(actor=request.user, opportunity=opportunity)
        messages.success(request, _("Opportunity deleted."))
        return redirect("sales:opportunity_list")
    return render(request, "customers/confirm_delete.html", {
        "nav": "opportunities", "title": _("Delete opportunity"),
        "question": _("Delete the opportunity “%(name)s” of %(company)s with its stage history?")
        % {"name": opportunity.name, "company": opportunity.company.name},
        "cancel_url": reverse("sales:opportunity_detail", args=[opportunity.pk]),
    })  # fmt: skip


def _board_owner(request) -> int | None:
    raw = request.GET.get("owner") or request.POST.get("owner") or ""
    if raw == "me":
        return request.user.pk
    return parse_id(raw)


def _board_ctx(request, pipeline, owner, notice: str = "") -> dict:
    b = selectors.board(request.user, pipeline, owner=owner)
    for column in b.columns:
        column.cards_html = cards_html(column.cards)
    return {"board": b, "pipeline": pipeline, "owner": owner, "notice": notice,
            "owner_param": request.GET.get("owner") or request.POST.get("owner") or ""}  # fmt: skip


@login_required
@require_POST
def opportunity_move(request, pk: int):
    """Move a card (board: htmx, answers the card and the two column heads; detail page: a form).
    A stale version (409) or a refused move (422) answers the whole board again, on the board."""
    user = request.user
    opportunity = selectors.opportunity_get_for_user(user, pk)
    form = MoveForm(request.POST)
    form.is_valid()
    d = form.cleaned_data
    from_stage = opportunity.stage
    stage = Stage.objects.filter(pk=d.get("stage") or 0).select_related("pipeline").first()
    notice, status = "", 200
    try:
        if stage is None:
            raise ValidationError({"stage": [_("Choose the stage to move the opportunity to.")]})
        position = None
        dropped = bool(request.htmx and (d.get("before") or d.get("after")))
        if dropped or stage.pk == opportunity.stage_id:
            if stage.pipeline_id == opportunity.pipeline_id:
                position = services.position_for_drop(opportunity, stage, d.get("before"), d.get("after"))
        services.opportunity_move_stage(
            actor=user, opportunity=opportunity, stage=stage, position=position,
            loss_reason=d.get("loss_reason"), loss_note=d.get("loss_note") or "", version=d.get("version"),
        )  # fmt: skip
    except ValidationError as exc:
        notice, status = " ".join(exc.messages), 422
    except ConcurrentEditError as exc:
        notice, status = _concurrent_message(user, exc), 409
    if not request.htmx:
        if status != 200:
            messages.error(request, notice)
        else:
            messages.success(request, _("Moved to “%(stage)s”.") % {"stage": display_name(stage)})
        return redirect("sales:opportunity_detail", pk=opportunity.pk)
    pipeline = opportunity.pipeline
    owner = _board_owner(request)
    if status != 200:
        response = render(
            request, "sales/_board.html", _board_ctx(request, pipeline, owner, notice), status=status
        )
        response["HX-Retarget"] = "#board"
        response["HX-Reswap"] = "outerHTML"
        return response
    card = mark_safe(card_html(selectors.board_card(user, opportunity.pk)))  # escaped values only
    heads = [selectors.column_summary(user, pipeline, s, owner=owner) for s in {from_stage, stage}]
    return render(request, "sales/_moved.html", {"card_html": card, "stage": stage, "heads": heads,
                                                 "owner_param": request.POST.get("owner") or ""})  # fmt: skip


@login_required
def board(request, pipeline_pk: int | None = None):
    if pipeline_pk is None:
        pipeline = selectors.default_pipeline()
        if pipeline is None:
            raise Http404
    else:
        pipeline = selectors.pipeline_get(pipeline_pk)
    owner = _board_owner(request)
    ctx = {**_board_ctx(request, pipeline, owner), "nav": "opportunities", "pipelines": selectors.pipelines(),
           "owners": _filter_owner_choices(request.user), "loss_reasons": loss_reason_choices()}  # fmt: skip
    if request.htmx and not request.htmx.boosted:
        return render(request, "sales/_board.html", ctx)
    return render(request, "sales/board.html", ctx)


@login_required
def board_column(request, pipeline_pk: int, stage_pk: int):
    pipeline = selectors.pipeline_get(pipeline_pk)
    stage = selectors.stage_get(stage_pk)
    owner = _board_owner(request)
    try:
        cards, nxt = selectors.board_column(request.user, pipeline, stage, cursor=request.GET.get("cursor") or None,
                                            owner=owner)  # fmt: skip
    except BadCursor:
        return HttpResponse(status=400)
    return render(request, "sales/_column_more.html", {"cards_html": cards_html(cards), "stage": stage, "pipeline": pipeline,
                                                       "next_cursor": nxt, "owner_param": request.GET.get("owner") or ""})  # fmt: skip


@login_required
def forecast(request):
    user = request.user
    pipeline = parse_id(request.GET.get("pipeline"))
    owner = parse_id(request.GET.get("owner")) if request.GET.get("owner") != "me" else user.pk
    data = selectors.forecast(user, pipeline=pipeline, owner=owner)
    ctx = {"nav": "opportunities", "forecast": data, "pipelines": selectors.pipelines(),
           "owners": _filter_owner_choices(user), "pipeline_id": pipeline, "owner_id": owner}  # fmt: skip
    return render(request, "sales/forecast.html", ctx)


@login_required
def pipeline_insights(request, pk: int):
    """Time in each stage (averages of the visible deals) and the stale deals of a pipeline."""
    pipeline = selectors.pipeline_get(pk)
    ctx = {
        "nav": "opportunities", "pipeline": pipeline,
        "durations": selectors.stage_durations(request.user, pipeline),
        "stale": selectors.stale_opportunities(request.user, pipeline=pipeline),
    }  # fmt: skip
    return render(request, "sales/pipeline_insights.html", ctx)


# --- pipelines admin ----------------------------------------------------------------------------


def _admin(request) -> None:
    if not request.user.is_admin:
        raise PermissionDenied(_("Only an administrator may change pipelines, stages and loss reasons."))


@login_required
def pipeline_admin(request):
    _admin(request)
    pipelines = selectors.pipelines(active_only=False)
    for p in pipelines:
        p.stage_list = selectors.stages_of(p)
    ctx = {"nav": "opportunities", "pipelines": pipelines, "reasons": selectors.loss_reasons(active_only=False),
           "new_form": PipelineForm(), "kinds": dict(StageKind.choices)}  # fmt: skip
    return render(request, "sales/pipeline_admin.html", ctx)


@login_required
@require_POST
def pipeline_create(request):
    _admin(request)
    form = PipelineForm(request.POST)
    if form.is_valid():
        try:
            source = selectors.default_pipeline() if form.cleaned_data.get("copy_stages") else None
            pipeline = services.pipeline_create(
                actor=request.user, data=form.service_data(), copy_stages_from=source
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Pipeline “%(name)s” created.") % {"name": pipeline.name})
    return redirect("sales:pipeline_admin")


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_edit(request, pk: int):
    _admin(request)
    pipeline = selectors.pipeline_get(pk)
    form = PipelineForm(request.POST or None, pipeline=pipeline)
    stale = False
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if data.get("name") == display_name(pipeline):
            data.pop("name")  # unchanged (as shown, possibly translated): keep the stored name
        try:
            services.pipeline_update(actor=request.user, pipeline=pipeline,
                                     version=form.cleaned_data.get("version") or 0, data=data)  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(request.user, exc))
            stale = True
        else:
            messages.success(request, _("Pipeline saved."))
            return redirect("sales:pipeline_admin")
    ctx = {"nav": "opportunities", "form": form, "title": _("Edit pipeline"), "stale": stale}
    return render(request, "sales/simple_form.html", ctx, status=_status(form, stale))


@login_required
@require_http_methods(["GET", "POST"])
def stage_create(request, pipeline_pk: int):
    _admin(request)
    pipeline = selectors.pipeline_get(pipeline_pk)
    form = StageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.stage_create(actor=request.user, pipeline=pipeline, data=form.service_data())
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Stage added."))
            return redirect("sales:pipeline_admin")
    ctx = {"nav": "opportunities", "form": form,
           "title": _("New stage of “%(pipeline)s”") % {"pipeline": display_name(pipeline)}}  # fmt: skip
    return render(request, "sales/simple_form.html", ctx, status=_status(form, False))


@login_required
@require_http_methods(["GET", "POST"])
def stage_edit(request, pk: int):
    _admin(request)
    stage = selectors.stage_get(pk)
    form = StageForm(request.POST or None, stage=stage)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if data.get("name") == display_name(stage):
            data.pop("name")  # unchanged (as shown, possibly translated): keep the stored name and key
        try:
            services.stage_update(actor=request.user, stage=stage, data=data)
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Stage saved."))
            return redirect("sales:pipeline_admin")
    ctx = {
        "nav": "opportunities",
        "form": form,
        "title": _("Edit stage “%(name)s”") % {"name": display_name(stage)},
    }
    return render(request, "sales/simple_form.html", ctx, status=_status(form, False))


@login_required
@require_POST
def stage_move(request, pk: int):
    _admin(request)
    stage = selectors.stage_get(pk)
    services.stage_move(
        actor=request.user, stage=stage, offset=-1 if request.POST.get("direction") == "up" else 1
    )
    return redirect("sales:pipeline_admin")


@login_required
@require_POST
def stage_delete(request, pk: int):
    _admin(request)
    stage = selectors.stage_get(pk)
    try:
        services.stage_delete(actor=request.user, stage=stage)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Stage “%(name)s” deleted.") % {"name": display_name(stage)})
    return redirect("sales:pipeline_admin")


@login_required
@require_POST
def loss_reason_create(request):
    _admin(request)
    try:
        services.loss_reason_create(actor=request.user, name=request.POST.get("name", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("sales:pipeline_admin")


@login_required
@require_POST
def loss_reason_toggle(request, pk: int):
    _admin(request)
    reason = LossReason.objects.filter(pk=parse_id(pk) or 0).first()
    if reason is None:
        raise Http404
    services.loss_reason_set_active(actor=request.user, reason=reason, active=not reason.active)
    return redirect("sales:pipeline_admin")


# --- samples ------------------------------------------------------------------------------------


@login_required
def sample_list(request):
    user = request.user
    status = _g(request, "status")
    f = selectors.SampleFilters(status=status if status in SampleStatus.values else "",
                                owner=parse_id(request.GET.get("owner")))  # fmt: skip
    cursor = request.GET.get("cursor") or None
    try:
        rows, nxt, prev = selectors.sample_list(user, f, cursor=cursor)
    except BadCursor:
        rows, nxt, prev = selectors.sample_list(user, f)
    statuses = dict(SampleStatus.choices)
    for r in rows:
        r["status_label"] = statuses.get(r["status"], r["status"])
    params = {k: v for k, v in (("status", f.status), ("owner", f.owner or "")) if v}
    ctx = {"nav": "samples", "rows": rows, "filters": f, "statuses": SampleStatus.choices,
           "owners": _filter_owner_choices(user), "filtered": bool(params),
           **_page_urls(reverse("sales:sample_list"), params, nxt, prev)}  # fmt: skip
    return render(request, "sales/sample_list.html", ctx)


def _sample_form_ctx(form, company, sample, rows) -> dict:
    return {"nav": "samples", "form": form, "company": company, "sample": sample, "item_rows": rows,
            "products": product_choices(), "units": unit_choices()}  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def sample_create(request):
    user = request.user
    company_id = request.POST.get("company") or request.GET.get("company")
    if not company_id:
        raise Http404
    company = company_get_for_user(user, company_id)
    opportunities = selectors.company_opportunities(company)
    form = SampleForm(request.POST or None, user=user, company=company, opportunities=opportunities)
    if request.GET.get("opportunity"):
        form.initial["opportunity"] = request.GET["opportunity"]
    rows = items_from_post(request.POST, fields=SAMPLE_ITEM_FIELDS) if request.method == "POST" else []
    if request.method == "POST" and form.is_valid():
        try:
            sample = services.sample_create(
                actor=user, company=company, data={**form.service_data(), "items": rows}
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Sample request recorded."))
            return redirect("sales:sample_detail", pk=sample.pk)
    ctx = _sample_form_ctx(form, company, None, item_rows(rows, fields=SAMPLE_ITEM_FIELDS))
    return render(request, "sales/sample_form.html", ctx, status=_status(form, False))


@login_required
@require_http_methods(["GET", "POST"])
def sample_edit(request, pk: int):
    user = request.user
    sample = selectors.sample_get_for_user(user, pk)
    form = SampleForm(request.POST or None, user=user, company=sample.company, sample=sample,
                      opportunities=selectors.company_opportunities(sample.company, open_only=False))  # fmt: skip
    editable_items = sample.status in (SampleStatus.REQUESTED, SampleStatus.PREPARING)
    if request.method == "POST":
        rows = items_from_post(request.POST, fields=SAMPLE_ITEM_FIELDS)
    else:
        rows = selectors.sample_items(sample)
    stale = False
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if editable_items:
            data["items"] = rows
        try:
            services.sample_update(
                actor=user, sample=sample, version=form.cleaned_data.get("version") or 0, data=data
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(user, exc))
            stale = True
        else:
            messages.success(request, _("Sample saved."))
            return redirect("sales:sample_detail", pk=sample.pk)
    ctx = {**_sample_form_ctx(form, sample.company, sample, item_rows(rows, extra=2 if editable_items else 0,
                                                                       fields=SAMPLE_ITEM_FIELDS)),
           "stale": stale, "editable_items": editable_items}  # fmt: skip
    return render(request, "sales/sample_form.html", ctx, status=_status(form, stale))


@login_required
def sample_detail(request, pk: int):
    sample = selectors.sample_get_for_user(request.user, pk)
    ctx = {
        "nav": "samples", "sample": sample, "items": selectors.sample_items(sample),
        "status_label": SampleStatus(sample.status).label,
        "sent_form": SentForm(initial={"version": sample.version, "paid_by": sample.paid_by,
                                       "courier": sample.courier, "tracking_number": sample.tracking_number}),
        "received_form": ReceivedForm(initial={"version": sample.version}),
        "feedback_form": FeedbackForm(initial={"version": sample.version, "feedback": sample.feedback,
                                               "feedback_rating": sample.feedback_rating or ""}),
        "can_delete": services._may_delete(request.user, sample.owner_id),
    }  # fmt: skip
    return render(request, "sales/sample_detail.html", ctx)


def _sample_step(request, pk: int, form_class, service, done: str, template_key: str):
    sample = selectors.sample_get_for_user(request.user, pk)
    form = form_class(request.POST)
    stale = False
    if form.is_valid():
        try:
            service(actor=request.user, sample=sample, version=form.cleaned_data.get("version") or 0,
                    data=form.service_data())  # fmt: skip
        except ValidationError as exc:
            form.apply_errors(exc)
        except ConcurrentEditError as exc:
            form.add_error(None, _concurrent_message(request.user, exc))
            stale = True
        else:
            messages.success(request, done)
            return redirect("sales:sample_detail", pk=sample.pk)
    ctx = {"nav": "samples", "sample": sample, "items": selectors.sample_items(sample),
           "status_label": SampleStatus(sample.status).label, template_key: form, "stale": stale,
           "can_delete": services._may_delete(request.user, sample.owner_id)}  # fmt: skip
    ctx.setdefault("sent_form", SentForm(initial={"version": sample.version}))
    ctx.setdefault("received_form", ReceivedForm(initial={"version": sample.version}))
    ctx.setdefault("feedback_form", FeedbackForm(initial={"version": sample.version}))
    return render(request, "sales/sample_detail.html", ctx, status=_status(form, stale))


@login_required
@require_POST
def sample_sent(request, pk: int):
    return _sample_step(request, pk, SentForm, services.sample_mark_sent,
                        _("Sample marked sent; it is on the customer's timeline."), "sent_form")  # fmt: skip


@login_required
@require_POST
def sample_received(request, pk: int):
    return _sample_step(request, pk, ReceivedForm, services.sample_mark_received, _("Sample marked received."),
                        "received_form")  # fmt: skip


@login_required
@require_POST
def sample_feedback(request, pk: int):
    return _sample_step(
        request, pk, FeedbackForm, services.sample_feedback, _("Feedback recorded."), "feedback_form"
    )


@login_required
@require_POST
def sample_simple(request, pk: int, action: str):
    sample = selectors.sample_get_for_user(request.user, pk)
    service = {"cancel": services.sample_cancel, "preparing": services.sample_set_preparing}.get(action)
    if service is None:
        raise Http404
    try:
        service(actor=request.user, sample=sample, version=parse_id(request.POST.get("version")) or 0)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ConcurrentEditError as exc:
        messages.error(request, _concurrent_message(request.user, exc))
    else:
        messages.success(request, _("Sample updated."))
    return redirect("sales:sample_detail", pk=sample.pk)


@login_required
@require_http_methods(["GET", "POST"])
def sample_delete(request, pk: int):
    sample = selectors.sample_get_for_user(request.user, pk)
    if not services._may_delete(request.user, sample.owner_id):
        raise PermissionDenied(_("Only the sample's owner, a manager or an administrator may delete it."))
    if request.method == "POST":
        services.sample_delete(actor=request.user, sample=sample)
        messages.success(request, _("Sample deleted."))
        return redirect("sales:sample_list")
    return render(request, "customers/confirm_delete.html", {
        "nav": "samples", "title": _("Delete sample"),
        "question": _("Delete this sample of %(company)s? Its entry on the timeline stays.") % {"company": sample.company.name},
        "cancel_url": reverse("sales:sample_detail", args=[sample.pk]),
    })  # fmt: skip


# --- the customer page --------------------------------------------------------------------------


@login_required
def company_panel(request, company_pk: int):
    company = company_get_for_user(request.user, company_pk)
    return render(
        request, "sales/_company_panel_body.html", {"company": company, **selectors.company_sales(company)}
    )
