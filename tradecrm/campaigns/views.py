"""HTML views (thin) of campaigns: the list, the form (create / change a draft), the page of a
campaign (who a launch reaches and who is skipped, launch / pause / resume / cancel, the report
with its chart and the effect against previous campaigns) and the preview for one recipient."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.ids import parse_id
from tradecrm.customers.segment_selectors import segment_list
from tradecrm.mailbox.models import Mailbox

from . import merge, selectors, services
from . import report as reports
from .forms import CampaignForm
from .models import CampaignStatus, SkipReason


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _flat(exc: ValidationError) -> str:
    return " ".join(m for ms in _errors(exc).values() for m in ms)


@login_required
def campaign_list(request):
    return render(request, "campaigns/list.html", {"nav": "campaigns",
                                                   "campaigns": selectors.campaign_list(request.user)})  # fmt: skip


@login_required
def campaign_edit(request, pk: int | None = None):
    campaign = selectors.campaign_get_for_user(request.user, pk) if pk is not None else None
    if campaign is not None and (
        not selectors.can_edit(request.user, campaign) or campaign.status != "draft"
    ):
        raise PermissionDenied(_("Only a draft can be changed, by its owner, a manager or an administrator."))
    owner = campaign.owner if campaign is not None else request.user
    form = CampaignForm(request.POST or None, initial=CampaignForm.initial_from(campaign) if campaign else None,
                        segments=segment_list(owner), mailboxes=Mailbox.objects.filter(user=owner).order_by("id"))  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            if campaign is None:
                campaign = services.campaign_create(actor=request.user, data=form.service_data())
            else:
                campaign = services.campaign_update(actor=request.user, campaign=campaign,
                                                    version=form.cleaned_data.get("version"), data=form.service_data())  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(_errors(exc))
        except ConcurrentEditError:
            form.add_error(None, _("Someone else changed this campaign meanwhile. Reload and try again."))
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("campaigns:detail", campaign.pk)
    fields = ", ".join("{{ " + f"{g}.{n}" + " }}" for g, names in merge.FIELDS.items() for n in names)
    return render(request, "campaigns/form.html", {"nav": "campaigns", "form": form, "campaign": campaign,
                                                   "merge_fields": fields,
                                                   "has_mailbox": bool(form.fields["mailboxes"].choices)})  # fmt: skip


def _labels() -> dict:
    return {"delivered": _("Delivered"), "clicked": _("Clicked"), "replied": _("Replied"), "bounced": _("Bounced"),
            "unsubscribed": _("Unsubscribed"), "opportunities": _("Opportunities"), "orders": _("Orders"),
            "a": _("Subject A"), "b": _("Subject B"), "all": _("All recipients")}  # fmt: skip


@login_required
def campaign_detail(request, pk: int):
    campaign = selectors.campaign_get_for_user(request.user, pk)
    ctx = {"nav": "campaigns", "c": campaign, "can_edit": selectors.can_edit(request.user, campaign),
           "contents": campaign.contents.order_by("language"), "mailboxes": campaign.mailboxes.order_by("id")}  # fmt: skip
    if campaign.status == CampaignStatus.DRAFT:
        try:
            ctx["plan"] = services.launch_plan(campaign)
        except ValidationError as exc:
            ctx["plan_error"] = _flat(exc)
        ctx["reasons"] = dict(SkipReason.choices)
    else:
        rep = reports.report(campaign)
        ctx["report"] = rep
        ctx["reasons"] = dict(SkipReason.choices)
        ctx["chart"] = {
            "key": "campaign",
            "title": _("Campaign results"),
            "chart": reports.chart(rep, _labels()),
        }
        ctx["rate_labels"] = {"delivery_rate": _("Delivered"), "click_rate": _("Clicked (unique)"),
                              "reply_rate": _("Replied"), "bounce_rate": _("Bounced"),
                              "unsubscribe_rate": _("Unsubscribed")}  # fmt: skip
    return render(request, "campaigns/detail.html", ctx)


@login_required
def campaign_preview(request, pk: int):
    campaign = selectors.campaign_get_for_user(request.user, pk)
    contact = parse_id(request.GET.get("contact")) if request.GET.get("contact") else None
    try:
        p = services.preview(campaign, contact)
    except ValidationError as exc:
        p, error = None, _flat(exc)
    else:
        error = ""
    if p is None and contact is not None and not error:
        raise Http404
    return render(
        request, "campaigns/preview.html", {"nav": "campaigns", "c": campaign, "p": p, "error": error}
    )


@login_required
@require_POST
def campaign_launch(request, pk: int):
    campaign = selectors.campaign_get_for_user(request.user, pk)
    try:
        counts = services.campaign_launch(actor=request.user, campaign=campaign)
    except ValidationError as exc:
        messages.error(request, _flat(exc))
    else:
        messages.success(request, _("Launched: %(queued)d mails queued, %(skipped)d skipped.")
                         % {"queued": counts["queued"], "skipped": counts["skipped_total"]})  # fmt: skip
    return redirect("campaigns:detail", campaign.pk)


ACTIONS = {
    "pause": services.campaign_pause,
    "resume": services.campaign_resume,
    "cancel": services.campaign_cancel,
}


@login_required
@require_POST
def campaign_action(request, pk: int, action: str):
    campaign = selectors.campaign_get_for_user(request.user, pk)
    fn = ACTIONS.get(action)
    if fn is None:
        raise Http404
    try:
        fn(actor=request.user, campaign=campaign)
    except ValidationError as exc:
        messages.error(request, _flat(exc))
    else:
        messages.success(request, {"pause": _("Campaign paused."), "resume": _("Campaign resumed."),
                                   "cancel": _("Campaign cancelled.")}[action])  # fmt: skip
    return redirect("campaigns:detail", campaign.pk)
